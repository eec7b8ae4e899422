//! The `edge.*` checks against a real TLS-terminating edge: nginx in front of node-oidc-provider,
//! node reading the client certificate from a header the edge sets (`PEER_CERT_HEADER`,
//! `nginx::Forward`). (a) nginx overwrites `X-SSL-Client-Cert` from its own TLS session on every
//! request: every spoof is refused. (b′) node still honours the client-controllable
//! `X-SSL-Client-Cert` before the header nginx sets: the spoofs succeed and both checks fail.
//! (b) nginx sets a header node never reads: the registered client itself is refused, so the
//! checks have no positive control and are blocked — never passed. With a certificate at TLS and
//! another in the headers, (a) binds the token to the TLS one and (b′) to the header's.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::pki::PkiStyle;
use mtls_harness::run::{run_scenario, RunConfig, Source};

use crate::nginx::{start_forwarding, Forward, TlsConfig};

/// The `edge.*` and `session.*` checks (and what they need) through the edge: status and reason by id.
async fn edge_checks(dir: &Path, name: &str, edge: &crate::nginx::Edge) -> BTreeMap<String, (Status, String)> {
    let p = edge.pki_dir.display();
    let var = format!("MTLS_TEST_EDGE_SECRET_{}", name.replace('-', "_").to_uppercase());
    std::env::set_var(&var, &edge.secret);
    let body = format!(
        "id: {name}\nissuer: {}\nca_bundle: {p}/ca.pem\nresource: {}\ntoken_params: {{ resource: \"{}\" }}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {p}/registered.pem, key: {p}/registered.key }}\n  self_signed: {{ client_id: tpp-self-signed-001, cert: {p}/self-signed.pem, key: {p}/self-signed.key }}\n  secret: {{ client_id: tpp-secret-001, secret_env: {var} }}\nchecks: [\"edge.*\", \"session.*\"]\n",
        edge.issuer, edge.resource, edge.resource
    );
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, body).unwrap();
    let tf = Arc::new(TargetFile::load(&file).unwrap());
    let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{name}: {:?}", r.error);
    r.checks.iter().map(|c| (c.id.to_string(), (c.status, c.reason.clone()))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_forwarding_the_certificate_correctly_and_with_the_classic_mistake() {
    let Some(correct) = start_forwarding(TlsConfig::Fapi, Forward::Correct, PkiStyle::Compact) else { return };
    let Some(fallback) = start_forwarding(TlsConfig::Fapi, Forward::ClassicMistakeFallback, PkiStyle::Compact) else { return };
    let Some(mistake) = start_forwarding(TlsConfig::Fapi, Forward::ClassicMistake, PkiStyle::Compact) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b_prime, b) = tokio::join!(
        edge_checks(tmp.path(), "nginx-forward-correct", &correct),
        edge_checks(tmp.path(), "nginx-forward-fallback", &fallback),
        edge_checks(tmp.path(), "nginx-forward-mistake", &mistake)
    );
    let row = |got: &BTreeMap<String, (Status, String)>, id: &str| got.get(id).cloned().unwrap_or((Status::Error, "did not run".into()));
    for (label, got) in [("(a) correct", &a), ("(b') fallback", &b_prime), ("(b) mistake", &b)] {
        for (id, (s, r)) in got {
            println!("{label}: {id}: {} — {}", s.name(), r.chars().take(240).collect::<String>());
        }
    }
    // (a): the positive controls hold, every spoof is refused.
    for id in [
        "auth.pki.accept",
        "auth.pki.no-cert",
        "bind.rs.same-cert",
        "bind.rs.no-cert",
        "bind.other-auth",
        "edge.client-auth-header-spoof",
        "edge.rs-header-spoof",
        "edge.binding-follows-tls",
    ] {
        assert_eq!(row(&a, id).0, Status::Pass, "(a) {id}: {}", row(&a, id).1);
    }
    // (a): nginx resumes sessions (tickets, TLS 1.3 and 1.2) and keeps the certificate in them:
    // sessions set up without the registered certificate are resumed and refused, and a token on
    // the client's own resumed session is bound to its certificate.
    let (s, r) = row(&a, "session.resume-other-identity");
    assert_eq!(s, Status::Pass, "(a) session.resume-other-identity: {r}");
    assert!(!r.starts_with("0 ") && r.contains("were resumed at the token endpoint and refused"), "(a) nothing was resumed: {r}");
    let (s, r) = row(&a, "session.resumed-token-bound");
    assert_eq!(s, Status::Pass, "(a) session.resumed-token-bound: {r}");
    assert!(r.contains("TLS 1.3 session") && r.contains("TLS 1.2 session"), "(a) both versions resumed: {r}");
    // (b′): the controls hold and both spoofs succeed, naming the header.
    for id in ["auth.pki.accept", "auth.pki.no-cert", "bind.rs.same-cert", "bind.rs.no-cert", "bind.other-auth"] {
        assert_eq!(row(&b_prime, id).0, Status::Pass, "(b') {id}: {}", row(&b_prime, id).1);
    }
    // The secret client's token follows the certificate it put in X-SSL-Client-Cert.
    let (s, r) = row(&b_prime, "edge.binding-follows-tls");
    assert_eq!(s, Status::Fail, "(b') edge.binding-follows-tls: {r}");
    assert!(r.contains("bound to the certificate in the forwarded-certificate headers"), "(b') {r}");
    for id in ["edge.client-auth-header-spoof", "edge.rs-header-spoof"] {
        let (s, r) = row(&b_prime, id);
        assert_eq!(s, Status::Fail, "(b') {id}: {r}");
        assert!(r.contains("X-SSL-Client-Cert (url_pem)") && r.contains("RFC 9440 §4"), "(b') {id}: {r}");
    }
    // (b): the registered client is refused at TLS-forwarding level: no control, so blocked.
    assert_eq!(row(&b, "auth.pki.accept").0, Status::Fail, "(b) {}", row(&b, "auth.pki.accept").1);
    for id in ["edge.client-auth-header-spoof", "edge.rs-header-spoof", "session.resume-other-identity", "session.resumed-token-bound"] {
        let (s, r) = row(&b, id);
        assert_eq!(s, Status::Blocked, "(b) {id}: {r}");
    }
}
