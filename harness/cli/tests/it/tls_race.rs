//! Same server, same verdict: a server that refuses the client certificate at TLS while the
//! client is still writing a large request (a 133 KB access token, TLS 1.3, where the server's
//! verdict arrives after the client's Finished) must be judged a TLS refusal every time — never
//! "broken pipe" in some runs. The harness reads the server's alert before concluding.

use std::sync::Arc;

use mtls_harness::http::{Failure, Http, Limits};
use mtls_harness::pki::{Role, TestPki};
use rustls::server::WebPkiClientVerifier;

/// A TLS server whose client verifier trusts only `trusted_ca`: any other certificate gets an
/// alert. It reads nothing and closes at once, as a real edge does.
async fn refusing_server(pki: &TestPki, trusted_ca: &TestPki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted_ca.ca_cert_der.clone()).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.cert_der.clone()], pki.server.key_der())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://127.0.0.1:{}", socket.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = socket.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // The handshake fails on the client's certificate; the alert goes out and the
                // connection is dropped, whatever the client is writing.
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_refused_while_a_large_request_is_written_is_one_verdict_in_50_runs() {
    let pki = TestPki::shared().unwrap();
    let other = TestPki::generate().unwrap();
    let base = refusing_server(&pki, &other).await;
    let id = pki.identity(Role::Registered);
    let token = "A".repeat(133 * 1024);
    let mut seen = std::collections::BTreeMap::new();
    for _ in 0..50 {
        let http = Http::new(
            "registered",
            std::slice::from_ref(&pki.ca_cert_der),
            Some((id.chain(), id.key_der())),
            Limits::default(),
            true,
            false,
            Default::default(),
        )
        .unwrap();
        let ex = http.get(&format!("{base}/resource"), Some(&token)).await;
        let verdict = match &ex.outcome {
            Err(Failure::TlsRejected(a)) => format!("alert {a:?}"),
            Err(f) => format!("other: {f}"),
            Ok(r) => format!("status {}", r.status),
        };
        *seen.entry(verdict).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 1, "one verdict for the same server: {seen:?}");
    assert!(seen.keys().all(|k| k.starts_with("alert")), "a TLS refusal: {seen:?}");
}
