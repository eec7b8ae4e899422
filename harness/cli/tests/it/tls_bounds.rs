//! The `tls.*` probes where an origin misbehaves or the handshake needs more than a hello: an
//! origin that accepts TCP and says nothing, or answers in plain HTTP, ends in a bounded, named
//! `error`; the renegotiation probe against `openssl s_server` presents a client certificate
//! where one is required.

use std::path::Path;

use mtls_harness::checks::Status;
use mtls_harness::pki::TestPki;

use crate::tls_probes::tls_checks_with;

/// Origins that accept TCP and then say nothing, or answer a ClientHello with plain HTTP: every
/// probe is bounded by the target's timeouts and ends in `error` naming the origin — no hang, no
/// pass — while the healthy origin is still judged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_non_tls_origins_end_in_error_within_the_bounds() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wiremock::{matchers::path, Mock, ResponseTemplate};
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s); // accepted, never answered
        }
    });
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_port = http.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = http.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
            });
        }
    });
    let (wm, _listener, base) = crate::common::edge(&pki, "127.0.0.1").await;
    let doc = serde_json::json!({
        "issuer": base, "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("https://127.0.0.1:{silent_port}/jwks"),
        "registration_endpoint": format!("https://127.0.0.1:{http_port}/register"),
    });
    Mock::given(path("/.well-known/openid-configuration")).respond_with(ResponseTemplate::new(200).set_body_json(doc)).mount(&wm).await;
    let t0 = std::time::Instant::now();
    let timeouts = "timeouts: { connect_ms: 500, request_ms: 700, check_ms: 20000 }\n";
    let got = tls_checks_with(tmp.path(), "silent", &base, tmp.path(), &["bcp195"], timeouts).await;
    let took = t0.elapsed();
    for id in [
        "tls.version.floor",
        "tls.version.prefers-13",
        "tls.ciphers.tls12",
        "tls.key-size.server",
        "tls.key-size.dhe",
        "tls.renegotiation",
        "tls.ems",
    ] {
        let (status, reason, details) = &got[id];
        assert_eq!(*status, Status::Error, "{id}: {reason}");
        assert!(reason.contains(&format!("127.0.0.1:{silent_port}")) && reason.contains("sent no answer"), "{id}: {reason}");
        assert!(reason.contains("not a TLS record"), "{id}: the plain-HTTP origin is named: {reason}");
        let healthy = details["origins"].as_array().unwrap().iter().find(|o| o["origin"] == base.as_str()).unwrap();
        assert_eq!(healthy["verdict"], "pass", "{id}: the healthy origin is still judged: {healthy}");
    }
    assert!(took < std::time::Duration::from_secs(15), "bounded: {took:?}");
}

/// `openssl s_server -Verify 1` (a client certificate required), on a free port of 127.0.0.1;
/// killed when dropped.
struct SServer {
    _child: crate::front::Killed,
    port: u16,
}

fn s_server(pki: &Path, extra: &[&str]) -> SServer {
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-www", "-quiet", "-Verify", "1", "-no_tls1_3"])
            .arg("-cert")
            .arg(pki.join("server.pem"))
            .arg("-key")
            .arg(pki.join("server.key"))
            .arg("-CAfile")
            .arg(pki.join("ca.pem"))
            .args(extra)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl runs");
        let t0 = std::time::Instant::now();
        while t0.elapsed() < std::time::Duration::from_secs(5) {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return SServer { _child: crate::front::Killed(child), port };
            }
            if child.try_wait().unwrap().is_some() {
                break; // the port was taken meanwhile
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("openssl s_server did not start");
}

/// The renegotiation probe completes a TLS 1.2 handshake with a server that requires a client
/// certificate by presenting one (signing the CertificateVerify with its key), then tries to
/// renegotiate: OpenSSL 3.0 refuses by default and accepts with `-client_renegotiation`. Without
/// a certificate the handshake fails, named — never a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renegotiation_probe_presents_a_certificate_where_one_is_required() {
    use mtls_harness::tlsprobe::{renegotiate, ClientAuth, Renegotiation, Timeouts};
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let id = pki.identity(mtls_harness::pki::Role::Registered);
    let key = mtls_harness::mock::terminator::provider().key_provider.load_private_key(id.key_der()).unwrap();
    let client = ClientAuth { chain: vec![id.cert_der.to_vec()], key };
    let t = Timeouts { connect: std::time::Duration::from_secs(2), read: std::time::Duration::from_secs(3) };
    let refusing = s_server(tmp.path(), &[]);
    let r = renegotiate("127.0.0.1", refusing.port, t, Some(&client)).await;
    assert!(matches!(&r, Ok(Renegotiation::Refused(how)) if how.contains("no_renegotiation")), "{r:?}");
    let without = renegotiate("127.0.0.1", refusing.port, t, None).await;
    assert!(without.is_err(), "no certificate, no handshake, no verdict: {without:?}");
    let accepting = s_server(tmp.path(), &["-client_renegotiation"]);
    let r = renegotiate("127.0.0.1", accepting.port, t, Some(&client)).await;
    assert_eq!(r.unwrap(), Renegotiation::Accepted);
}

/// An alias origin that accepts TCP and says nothing, under the default profile (where
/// `tls.ciphers.tls12` is informational) beside a healthy origin that accepts a suite BCP 195 does
/// not list: every `tls.*` check names the silent origin, and none reports a pass about the
/// healthy one alone (`tls.ciphers.tls12` had: "informational — would fail: …").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_alias_origin_is_named_by_every_tls_check() {
    use wiremock::{matchers::path, Mock, ResponseTemplate};
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s); // accepted, never answered
        }
    });
    // The healthy origin accepts ChaCha20 in TLS 1.2: outside BCP 195's list, informational here.
    let wm = wiremock::MockServer::start().await;
    let plant = mtls_harness::mock::terminator::EdgePlant { tls12_chacha20: true, ..Default::default() };
    let tls = mtls_harness::mock::terminator::edge_tls(&pki.server, true, plant).unwrap();
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://127.0.0.1:{}", socket.local_addr().unwrap().port());
    let _listener = mtls_harness::mock::terminator::Listener::spawn("top", socket, tls, true, wm.uri(), Default::default()).unwrap();
    let alias = format!("https://127.0.0.1:{silent_port}/token");
    let doc = serde_json::json!({
        "issuer": base, "token_endpoint": format!("{base}/token"),
        "mtls_endpoint_aliases": { "token_endpoint": alias },
    });
    Mock::given(path("/.well-known/openid-configuration")).respond_with(ResponseTemplate::new(200).set_body_json(doc)).mount(&wm).await;
    let timeouts = "timeouts: { connect_ms: 500, request_ms: 700, check_ms: 20000 }\n";
    let got = tls_checks_with(tmp.path(), "silent-alias", &base, tmp.path(), &[], timeouts).await;
    for (id, (status, reason, _)) in &got {
        println!("{id}: {} — {reason}", status.name());
    }
    for (id, (status, reason, _)) in &got {
        if *status == Status::Skip {
            continue;
        }
        assert!(reason.contains(&format!("127.0.0.1:{silent_port}")), "{id} ({}) names the silent origin: {reason}", status.name());
        assert_eq!(*status, Status::Error, "{id}: {reason}");
    }
    let (_, reason, _) = &got["tls.ciphers.tls12"];
    assert!(
        reason.starts_with(&format!("cannot judge: https://127.0.0.1:{silent_port}"))
            && reason.contains("would fail")
            && reason.contains("CHACHA20"),
        "{reason}"
    );
}
