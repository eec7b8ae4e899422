//! The `tls.*` probes against real TLS stacks, each started here on 127.0.0.1: nginx (OpenSSL 3)
//! in front of node-oidc-provider in a FAPI-clean configuration, a legacy one and one without the
//! extended master secret (`nginx.rs`); node-oidc-provider with Node's default TLS settings; and
//! glewlwyd (GnuTLS). Each run selects only `tls.*` and asserts every check's outcome. These are
//! also the negative self-tests rustls cannot plant (`ON_REAL_SERVERS` in `self_test.rs`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::pki::TestPki;
use mtls_harness::run::{run_scenario, RunConfig, Source};
use serde_json::Value;

use crate::nginx::{start, TlsConfig};

/// Each `tls.*` check's status, reason and details.
type Got = BTreeMap<String, (Status, String, Value)>;

/// Run the `tls.*` checks against `issuer` (whose CA and client certificate are in `pki`) under
/// `profiles`.
async fn tls_checks(dir: &Path, name: &str, issuer: &str, pki: &Path, profiles: &[&str]) -> Got {
    tls_checks_with(dir, name, issuer, pki, profiles, "").await
}

/// [`tls_checks`] with more target-file lines (`extra`).
async fn tls_checks_with(dir: &Path, name: &str, issuer: &str, pki: &Path, profiles: &[&str], extra: &str) -> Got {
    let file = dir.join(format!("{name}.yaml"));
    let p = pki.display();
    let body = format!(
        "id: {name}\nissuer: {issuer}\nca_bundle: {p}/ca.pem\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {p}/registered.pem, key: {p}/registered.key }}\nchecks: [\"tls.*\"]\nprofile: [{}]\n{extra}",
        profiles.join(", ")
    );
    std::fs::write(&file, body).unwrap();
    let tf = Arc::new(TargetFile::load(&file).unwrap());
    let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{name}: {:?}", r.error);
    r.checks
        .iter()
        .filter(|c| c.id.starts_with("tls."))
        .map(|c| (c.id.to_string(), (c.status, c.reason.clone(), c.details.clone().unwrap_or_default())))
        .collect()
}

/// Assert every `tls.*` check's status; `contains` pins words of some reasons.
fn expect(label: &str, got: &Got, want: &[(&str, Status)], contains: &[(&str, &str)]) {
    let ids: Vec<&str> = got.keys().map(String::as_str).collect();
    let wanted: Vec<&str> = want.iter().map(|(id, _)| *id).collect();
    let mut sorted = wanted.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "{label}: the tls.* checks");
    for (id, status) in want {
        let (s, reason, _) = &got[*id];
        assert_eq!(s, status, "{label}: {id}: {reason}");
    }
    for (id, word) in contains {
        assert!(got[*id].1.contains(word), "{label}: {id} should mention {word:?}: {}", got[*id].1);
    }
}

/// The suites `tls.ciphers.tls12` enumerated at the first origin, and its ClientHello count.
fn enumerated(got: &Got) -> (Vec<String>, u64) {
    let probe = &got["tls.ciphers.tls12"].2["origins"][0]["probe"];
    let names = probe["accepted"].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default();
    (names, probe["requests"].as_u64().unwrap_or_default())
}

const BCP195_FOUR: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

/// nginx (a), FAPI-clean: every tls.* rule of FAPI 2.0 passes; the one origin serves discovery
/// and asks for a certificate, which CDR forbids. nginx (b), legacy: TLS 1.0/1.1 and every
/// OpenSSL suite — the floor and the suite rules fail, nothing else. Both enumerations are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_fapi_passes_and_legacy_fails_exactly_the_version_and_suite_rules() {
    let Some(fapi) = start(TlsConfig::Fapi) else { return };
    let Some(legacy) = start(TlsConfig::Legacy) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let profiles = ["fapi2-sp-mtls", "au-cdr"];
    let (a, b) = tokio::join!(
        tls_checks(tmp.path(), "nginx-fapi", &fapi.issuer, &fapi.pki_dir, &profiles),
        tls_checks(tmp.path(), "nginx-legacy", &legacy.issuer, &legacy.pki_dir, &profiles)
    );
    use Status::{Fail, Pass};
    expect(
        "nginx (a) FAPI-clean",
        &a,
        &[
            ("tls.cert-request.required", Pass),
            ("tls.cert-request.forbidden", Fail),
            ("tls.version.floor", Pass),
            ("tls.version.prefers-13", Pass),
            ("tls.ciphers.tls12", Pass),
            ("tls.renegotiation", Pass),
            ("tls.ems", Pass),
        ],
        &[("tls.cert-request.forbidden", "discovery")],
    );
    let (suites, requests) = enumerated(&a);
    let mut sorted = suites.clone();
    sorted.sort();
    let mut four = BCP195_FOUR.map(str::to_string).to_vec();
    four.sort();
    assert_eq!(sorted, four, "nginx (a) accepts exactly RFC 9325 §4.2's four");
    assert_eq!(requests, 5, "four accepted, one refused: {suites:?}");
    println!("nginx (a): {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());

    expect(
        "nginx (b) legacy",
        &b,
        &[
            ("tls.cert-request.required", Pass),
            ("tls.cert-request.forbidden", Fail),
            ("tls.version.floor", Fail),
            ("tls.version.prefers-13", Pass),
            ("tls.ciphers.tls12", Fail),
            ("tls.renegotiation", Pass),
            ("tls.ems", Pass),
        ],
        &[("tls.version.floor", "TLS 1.0"), ("tls.version.floor", "TLS 1.1"), ("tls.ciphers.tls12", "outside the allow-list")],
    );
    let (suites, requests) = enumerated(&b);
    for s in ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"] {
        assert!(suites.iter().any(|x| x == s), "nginx (b) accepts {s}: {suites:?}");
    }
    assert!(suites.iter().all(|s| !s.contains("_anon_") && !s.contains("NULL")), "no anonymous or NULL suite: {suites:?}");
    assert_eq!(requests as usize, suites.len() + 1, "one ClientHello per accepted suite, and the refused one");
    println!("nginx (b): {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());
}

/// nginx with the extended master secret switched off: exactly tls.ems fails under BCP 195.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_without_the_extended_master_secret_fails_exactly_tls_ems() {
    let Some(edge) = start(TlsConfig::FapiNoEms) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let got = tls_checks(tmp.path(), "nginx-no-ems", &edge.issuer, &edge.pki_dir, &["bcp195"]).await;
    use Status::{Fail, Pass, Skip};
    expect(
        "nginx without EMS",
        &got,
        &[
            ("tls.cert-request.required", Pass),
            ("tls.cert-request.forbidden", Skip),
            ("tls.version.floor", Pass),
            ("tls.version.prefers-13", Pass),
            ("tls.ciphers.tls12", Pass),
            ("tls.renegotiation", Pass),
            ("tls.ems", Fail),
        ],
        &[("tls.ems", "RFC 7627")],
    );
}

/// node-oidc-provider with Node's default TLS settings (the fixture sets only what Node defaults
/// to: TLS 1.2 minimum), judged under FAPI 2.0 and Open Finance Brasil: Node accepts a
/// client-initiated renegotiation (Brazil forbids it) and, with an ECDSA certificate, CBC and
/// ChaCha20 TLS 1.2 suites outside both allow-lists. Split aliases: the top-level listener asks
/// for no certificate, so CDR's rule holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    TestPki::generate().unwrap().write_to(tmp.path()).unwrap();
    let cfg = crate::oidc_provider::Config { mode: "split", defect: None, policy: "all" };
    let peer = crate::oidc_provider::start_peer(cfg, tmp.path(), "node-tls-secret");
    let got = tls_checks(tmp.path(), "node-defaults", &peer.issuer, tmp.path(), &["fapi2-sp-mtls", "br-openfinance", "au-cdr"]).await;
    let (suites, requests) = enumerated(&got);
    println!("node: {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());
    assert_eq!(requests as usize, suites.len() + 1);
    use Status::{Fail, Pass};
    expect(
        "node-oidc-provider",
        &got,
        &[
            ("tls.cert-request.required", Pass),
            ("tls.cert-request.forbidden", Pass),
            ("tls.version.floor", Pass),
            ("tls.version.prefers-13", Pass),
            ("tls.ciphers.tls12", Fail),
            ("tls.renegotiation", Fail),
            ("tls.ems", Pass),
        ],
        &[
            ("tls.renegotiation", "accepts a client-initiated renegotiation"),
            ("tls.ciphers.tls12", "CHACHA20"),
            ("tls.ciphers.tls12", "CBC"),
            ("tls.cert-request.required", "CN=mtls-harness Test CA"),
        ],
    );
}

/// glewlwyd (GnuTLS with Debian's defaults; its fixture asks for client certificates on its one
/// listener), under FAPI 2.0, Open Finance Brasil and CDR: it accepts TLS 1.0 and 1.1, and CBC,
/// CCM and ChaCha20 TLS 1.2 suites; it refuses renegotiation; its one listener asks for a
/// certificate at discovery too (CDR).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glewlwyd_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    TestPki::generate().unwrap().write_to(tmp.path()).unwrap();
    let Some(peer) = crate::glewlwyd::start_peer(tmp.path(), "glewlwyd-tls-secret") else { return };
    let got = tls_checks(tmp.path(), "glewlwyd-defaults", &peer.issuer, tmp.path(), &["fapi2-sp-mtls", "br-openfinance", "au-cdr"]).await;
    let (suites, requests) = enumerated(&got);
    println!("glewlwyd: {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());
    assert_eq!(requests as usize, suites.len() + 1);
    use Status::{Fail, Pass};
    expect(
        "glewlwyd",
        &got,
        &[
            ("tls.cert-request.required", Pass),
            ("tls.cert-request.forbidden", Fail),
            ("tls.version.floor", Fail),
            ("tls.version.prefers-13", Pass),
            ("tls.ciphers.tls12", Fail),
            ("tls.renegotiation", Pass),
            ("tls.ems", Pass),
        ],
        &[
            ("tls.version.floor", "accepts TLS 1.0"),
            ("tls.version.floor", "TLS 1.1"),
            ("tls.ciphers.tls12", "CBC"),
            ("tls.renegotiation", "refuses renegotiation"),
            ("tls.cert-request.forbidden", "discovery"),
        ],
    );
}

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
    for id in ["tls.version.floor", "tls.version.prefers-13", "tls.ciphers.tls12", "tls.renegotiation", "tls.ems"] {
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
