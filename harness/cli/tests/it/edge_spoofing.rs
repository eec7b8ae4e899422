//! The `edge.*` checks against a real TLS-terminating edge: nginx in front of node-oidc-provider,
//! node reading the client certificate from a header the edge sets (`PEER_CERT_HEADER`,
//! `nginx::Forward`). (a) nginx overwrites `X-SSL-Client-Cert` from its own TLS session on every
//! request: every spoof is refused. (b′) node still honours the client-controllable
//! `X-SSL-Client-Cert` before the header nginx sets: the spoofs succeed and both checks fail.
//! (b) nginx sets a header node never reads: the registered client itself is refused, so the
//! checks have no positive control and are blocked — never passed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::run::{run_scenario, RunConfig, Source};

use crate::nginx::{start_forwarding, Forward, TlsConfig};

/// The `edge.*` checks (and what they need) through the edge: status and reason by id.
async fn edge_checks(dir: &Path, name: &str, edge: &crate::nginx::Edge) -> BTreeMap<String, (Status, String)> {
    let p = edge.pki_dir.display();
    let body = format!(
        "id: {name}\nissuer: {}\nca_bundle: {p}/ca.pem\nresource: {}\ntoken_params: {{ resource: \"{}\" }}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {p}/registered.pem, key: {p}/registered.key }}\nchecks: [\"edge.*\"]\n",
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
    let Some(correct) = start_forwarding(TlsConfig::Fapi, Forward::Correct) else { return };
    let Some(fallback) = start_forwarding(TlsConfig::Fapi, Forward::ClassicMistakeFallback) else { return };
    let Some(mistake) = start_forwarding(TlsConfig::Fapi, Forward::ClassicMistake) else { return };
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
    for id in
        ["auth.pki.accept", "auth.pki.no-cert", "bind.rs.same-cert", "bind.rs.no-cert", "edge.token-header-spoof", "edge.rs-header-spoof"]
    {
        assert_eq!(row(&a, id).0, Status::Pass, "(a) {id}: {}", row(&a, id).1);
    }
    // (b′): the controls hold and both spoofs succeed, naming the header.
    for id in ["auth.pki.accept", "auth.pki.no-cert", "bind.rs.same-cert", "bind.rs.no-cert"] {
        assert_eq!(row(&b_prime, id).0, Status::Pass, "(b') {id}: {}", row(&b_prime, id).1);
    }
    for id in ["edge.token-header-spoof", "edge.rs-header-spoof"] {
        let (s, r) = row(&b_prime, id);
        assert_eq!(s, Status::Fail, "(b') {id}: {r}");
        assert!(r.contains("X-SSL-Client-Cert (url_pem)") && r.contains("RFC 9440 §4"), "(b') {id}: {r}");
    }
    // (b): the registered client is refused at TLS-forwarding level: no control, so blocked.
    assert_eq!(row(&b, "auth.pki.accept").0, Status::Fail, "(b) {}", row(&b, "auth.pki.accept").1);
    for id in ["edge.token-header-spoof", "edge.rs-header-spoof"] {
        let (s, r) = row(&b, id);
        assert_eq!(s, Status::Blocked, "(b) {id}: {r}");
    }
}
