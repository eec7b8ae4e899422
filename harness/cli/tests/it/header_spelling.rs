//! Header names on the wire exactly as the forwarded-certificate catalogue spells them. A small
//! TLS origin records the raw bytes of every request it gets and reads a forwarded certificate
//! from exactly `SSL_CLIENT_CERT` — a case-sensitive lookup, as C and Java frameworks with
//! case-sensitive maps do — when told to trust that header. hyper would have sent
//! `ssl_client_cert`, which such an origin never reads: the spoof must arrive as spelled, and
//! `edge.client-auth-header-spoof` must fail against the trusting origin.

use std::sync::{Arc, Mutex};

use base64::Engine;
use mtls_harness::checks::Status;
use mtls_harness::pki::{Role, TestPki};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::live_outcomes;

/// A recording origin: its base URL and the raw heads of the requests it answered, each with the
/// number of the connection it came on (connections are kept alive).
struct Origin {
    base: String,
    heads: Arc<Mutex<Vec<(usize, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start the origin: discovery, and a token endpoint that authenticates `tpp-client-001` by the
/// registered certificate at TLS — or, with `trust_header`, in a field named exactly
/// `SSL_CLIENT_CERT` (Apache's PEM with spaces for line breaks).
async fn start(pki: &TestPki, trust_header: bool) -> Origin {
    mtls_harness::mock::terminator::provider();
    let config = mtls_harness::mock::terminator::server_config(&pki.server, true).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let registered = pki.identity(Role::Registered).cert_der.to_vec();
    let (b, h) = (base.clone(), heads.clone());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = connections.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, base, heads, registered) = (acceptor.clone(), b.clone(), h.clone(), registered.clone());
            let conn = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(Ok(mut tls)) = tokio::time::timeout(std::time::Duration::from_secs(5), acceptor.accept(tcp)).await else { return };
                let at_tls = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec());
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Requests one after another on the connection, until the client closes it.
                loop {
                    let (path, header_cert, head_len, body_len, close) = loop {
                        let mut fields = [httparse::EMPTY_HEADER; 128];
                        let mut req = httparse::Request::new(&mut fields);
                        if let Ok(httparse::Status::Complete(len)) = req.parse(&buf) {
                            // Case-sensitive, as the field name arrived.
                            let cert = req.headers.iter().find(|f| f.name == "SSL_CLIENT_CERT").map(|f| pem_spaces_der(f.value));
                            let field = |n: &str| {
                                req.headers
                                    .iter()
                                    .find(|f| f.name.eq_ignore_ascii_case(n))
                                    .map(|f| String::from_utf8_lossy(f.value).to_string())
                            };
                            let body_len = field("content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
                            let close = field("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
                            break (req.path.unwrap_or("").to_string(), cert.flatten(), len, body_len, close);
                        }
                        let Ok(n) = tls.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    };
                    while buf.len() < head_len + body_len {
                        let Ok(n) = tls.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    heads.lock().unwrap().push((conn, String::from_utf8_lossy(&buf[..head_len]).to_string()));
                    buf.drain(..head_len + body_len);
                    let (status, body) = if path.starts_with("/.well-known/") {
                        (
                            200,
                            serde_json::json!({"issuer": base, "token_endpoint": format!("{base}/token"), "token_endpoint_auth_methods_supported": ["tls_client_auth"]}),
                        )
                    } else if path == "/token" {
                        let by_header = trust_header && header_cert.as_deref() == Some(registered.as_slice());
                        if at_tls.as_deref() == Some(registered.as_slice()) || by_header {
                            (
                                200,
                                serde_json::json!({"access_token": "opaque-access-token-for-tpp-client-001", "token_type": "Bearer", "expires_in": 300}),
                            )
                        } else {
                            (401, serde_json::json!({"error": "invalid_client"}))
                        }
                    } else {
                        (404, serde_json::json!({"error": "not_found"}))
                    };
                    let body = body.to_string();
                    let answer =
                        format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    if tls.write_all(answer.as_bytes()).await.is_err() || close {
                        let _ = tls.shutdown().await;
                        return;
                    }
                }
            });
        }
    });
    Origin { base, heads, task }
}

/// The DER in a PEM whose line breaks became spaces (`%{SSL_CLIENT_CERT}s` through mod_headers).
fn pem_spaces_der(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?;
    let body = text.strip_prefix("-----BEGIN CERTIFICATE-----")?.trim().strip_suffix("-----END CERTIFICATE-----")?;
    base64::engine::general_purpose::STANDARD.decode(body.replace(' ', "")).ok()
}

async fn spoof_check(dir: &std::path::Path, origin: &Origin) -> (Status, String) {
    let p = dir.display();
    let body = format!(
        "id: header-spelling\nissuer: {}\nca_bundle: {p}/ca.pem\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {p}/registered.pem, key: {p}/registered.key }}\nchecks: [\"edge.client-auth-header-spoof\"]\n",
        origin.base
    );
    let file = dir.join("target.yaml");
    std::fs::write(&file, body).unwrap();
    let (got, _) = live_outcomes(&file).await;
    for id in ["auth.pki.accept", "auth.pki.no-cert"] {
        assert_eq!(got[id].0, Status::Pass, "{id}: {}", got[id].1);
    }
    got["edge.client-auth-header-spoof"].clone()
}

/// The bytes on the wire: every catalogue name as spelled (`SSL_CLIENT_CERT`,
/// `X-SSL-Client-Cert`, `Client-Cert`), the lower-case forms in requests of their own, every
/// head within the 14 KiB the sweep allows itself; the origin that ignores the header passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofs_go_out_with_the_names_as_spelled() {
    let pki = TestPki::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    pki.write_to(dir.path()).unwrap();
    let origin = start(&pki, false).await;
    let (status, reason) = spoof_check(dir.path(), &origin).await;
    assert_eq!(status, Status::Pass, "{reason}");
    let heads = origin.heads.lock().unwrap().clone();
    // The spoofs (the controls, with no extra field, go out through reqwest).
    let sent: Vec<&(usize, String)> =
        heads.iter().filter(|(_, h)| h.starts_with("POST /token") && h.contains("\r\nUser-Agent: mtls-harness/")).collect();
    let spoofs: Vec<&String> = sent.iter().map(|(_, h)| h).collect();
    assert!(spoofs.len() >= 20, "{} spoofs", spoofs.len());
    // No certificate at TLS, nothing about a TLS identity judged: the sweep keeps its connections
    // alive (at most the per-origin bound of them at once), never a handshake per request.
    let connections: std::collections::BTreeSet<usize> = sent.iter().map(|(c, _)| *c).collect();
    assert!(
        connections.len() <= 8 && connections.len() < spoofs.len() / 2,
        "{} spoofs over {} connections",
        spoofs.len(),
        connections.len()
    );
    for spelled in [
        "\r\nSSL_CLIENT_CERT: -----BEGIN CERTIFICATE----- ",
        "\r\nX-SSL-Client-Cert: %2D%2D%2D%2D%2DBEGIN%20CERTIFICATE",
        "\r\nClient-Cert: :",
        "\r\nX-Amzn-Mtls-Clientcert: ",
    ] {
        assert!(spoofs.iter().any(|h| h.contains(spelled)), "{spelled:?} on the wire as spelled");
    }
    for lower in ["\r\nssl_client_cert: ", "\r\nx-ssl-client-cert: ", "\r\nclient-cert: "] {
        let h = spoofs.iter().find(|h| h.contains(lower)).unwrap_or_else(|| panic!("{lower:?} sent"));
        assert!(!h.contains("\r\nSSL_CLIENT_CERT: "), "the lower-case form in a request of its own");
    }
    assert!(spoofs.iter().all(|h| h.len() <= 14 * 1024), "every head within 14 KiB");
}

/// An origin that reads exactly `SSL_CLIENT_CERT`, case-sensitively, and trusts it: caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_sensitive_header_trusting_origin_is_caught() {
    let pki = TestPki::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    pki.write_to(dir.path()).unwrap();
    let origin = start(&pki, true).await;
    let (status, reason) = spoof_check(dir.path(), &origin).await;
    assert_eq!(status, Status::Fail, "{reason}");
    assert!(reason.contains("SSL_CLIENT_CERT (pem_spaces)") && reason.contains("RFC 9440 §4"), "{reason}");
    assert!(!reason.contains("lower-case"), "the lower-case form is no use to this origin: {reason}");
}
