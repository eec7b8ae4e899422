//! The `edge.*`, `session.*`, `auth.pki.*` and `bind.rs.*` checks against real TLS-terminating
//! edges in front of node-oidc-provider, node reading the client certificate from a header the
//! edge sets (`PEER_CERT_HEADER`): nginx here, Apache httpd in `apache.rs`, HAProxy in
//! `haproxy.rs`, all through [`edge_checks`] and judged against one table each
//! ([`assert_outcomes`]; the README's "Edges" table is the same). An edge that overwrites the
//! header from its own TLS session on every request (correct): every spoof is refused and the
//! positive controls hold ([`correct`]). An edge that lets a client's own header through to a
//! node that reads it (header-trusting): the controls hold, both spoof checks fail naming the
//! header ([`header_trusting`]). nginx setting a header node never reads: the registered client
//! itself is refused, so the checks have no positive control and are blocked — never passed.

use std::collections::BTreeMap;
use std::path::Path;

use mtls_harness::checks::Status;
use mtls_harness::pki::PkiStyle;

use crate::front::Front;
use crate::nginx::{start_forwarding, Forward, TlsConfig};

/// The check families every edge outcome test runs (and what they need): status and reason by id.
pub(crate) const FAMILIES: [&str; 4] = ["edge.*", "session.*", "auth.pki.*", "bind.rs.*"];

/// Run [`FAMILIES`] through the edge in front of node (`name` labels the target file and the
/// printed rows): each check's status and reason by id.
pub(crate) async fn edge_checks(dir: &Path, name: &str, front: &Front) -> BTreeMap<&'static str, (Status, String)> {
    let p = front.pki_dir.display();
    let var = format!("MTLS_TEST_EDGE_SECRET_{}", name.replace('-', "_").to_uppercase());
    std::env::set_var(&var, &front.secret);
    let checks = FAMILIES.map(|f| format!("\"{f}\"")).join(", ");
    let body = format!(
        "id: {name}\nissuer: {}\nca_bundle: {p}/ca.pem\nresource: {}\ntoken_params: {{ resource: \"{}\" }}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {p}/registered.pem, key: {p}/registered.key }}\n  self_signed: {{ client_id: tpp-self-signed-001, cert: {p}/self-signed.pem, key: {p}/self-signed.key }}\n  secret: {{ client_id: tpp-secret-001, secret_env: {var} }}\nclient_ca: {{ cert: {p}/{ca}.pem, key: {p}/{ca}.key }}\nchecks: [{checks}]\n",
        front.issuer,
        front.resource,
        front.resource,
        // The CA that issues the clients' certificates: the compact PKI's only one, the ecosystem
        // PKI's issuing CA (its minted certificates carry the chain to the root).
        ca = match front.style {
            PkiStyle::Compact => "ca",
            PkiStyle::Ecosystem => "issuing-ca",
        }
    );
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, body).unwrap();
    let (got, _) = crate::common::live_outcomes(&file).await;
    for (id, (s, r)) in &got {
        println!("{name}: {id}: {} — {}", s.name(), r.chars().take(300).collect::<String>());
    }
    got
}

/// One expected row: check id, status, and words its reason must contain.
pub(crate) type Row = (&'static str, Status, Vec<&'static str>);

/// The rows of [`FAMILIES`] (every one of them, in catalogue order) as a table expects them.
const ROWS: [&str; 13] = [
    "auth.pki.accept",
    "auth.pki.no-cert",
    "auth.pki.other-subject",
    "auth.pki.rogue-ca",
    "auth.pki.expired",
    "bind.rs.same-cert",
    "bind.rs.other-cert",
    "bind.rs.no-cert",
    "edge.client-auth-header-spoof",
    "edge.rs-header-spoof",
    "edge.binding-follows-tls",
    "session.resume-other-identity",
    "session.resumed-token-bound",
];

/// Every row of [`FAMILIES`] the runs report.
pub(crate) fn rows() -> impl Iterator<Item = &'static str> {
    ROWS.into_iter()
}

/// A correct edge: every row passes; the spoofs are refused in every request, and sessions
/// resume and keep the certificate.
pub(crate) fn correct() -> Vec<Row> {
    rows()
        .map(|id| {
            let words = match id {
                "edge.client-auth-header-spoof" | "edge.rs-header-spoof" => vec!["refused in all"],
                "session.resume-other-identity" => vec!["were resumed at the token endpoint and refused"],
                "session.resumed-token-bound" => vec!["TLS 1.3 session", "TLS 1.2 session"],
                _ => vec![],
            };
            (id, Status::Pass, words)
        })
        .collect()
}

/// A header-trusting edge: the positive controls and every other refusal pass; both spoof
/// checks fail naming `header` (the catalogue's label, e.g. `SSL_CLIENT_CERT (pem_spaces)`);
/// `edge.binding-follows-tls` ends as `binding` says (fail: the token follows the header).
pub(crate) fn header_trusting(header: &'static str, binding: (Status, &'static str)) -> Vec<Row> {
    rows()
        .map(|id| match id {
            "edge.client-auth-header-spoof" | "edge.rs-header-spoof" => (id, Status::Fail, vec![header, "RFC 9440 §4"]),
            "edge.binding-follows-tls" => (id, binding.0, vec![binding.1]),
            _ => (id, Status::Pass, vec![]),
        })
        .collect()
}

/// `rows` with the row `id` expected as `status`, its reason containing `words`.
pub(crate) fn replacing(mut rows: Vec<Row>, id: &str, status: Status, words: Vec<&'static str>) -> Vec<Row> {
    for row in rows.iter_mut().filter(|r| r.0 == id) {
        (row.1, row.2) = (status, words.clone());
    }
    rows
}

/// nginx with `ssl_verify_client optional_no_ca` completes the handshake with an expired
/// certificate and then answers every request itself: `400 Bad Request`, its page "The SSL
/// certificate error", no OAuth error — a refusal that does not say why (`warn`, RFC 6749 §5.2).
fn nginx(rows: Vec<Row>) -> Vec<Row> {
    replacing(rows, "auth.pki.expired", Status::Warn, vec!["refused with 400 error=(none)"])
}

/// `edge.binding-follows-tls` when the token follows the certificate in the headers.
pub(crate) const BOUND_TO_HEADER: (Status, &str) = (Status::Fail, "bound to the certificate in the forwarded-certificate headers");

/// Assert that the rows of [`FAMILIES`] in `got` are exactly `expected`: each status, and each
/// reason containing its words.
pub(crate) fn assert_outcomes(label: &str, got: &BTreeMap<&str, (Status, String)>, expected: &[Row], log: &str) {
    let ours = |id: &str| FAMILIES.iter().any(|f| id.starts_with(f.trim_end_matches('*')));
    let reported: Vec<&str> = got.keys().copied().filter(|id| ours(id)).collect();
    let mut listed: Vec<&str> = expected.iter().map(|(id, _, _)| *id).collect();
    listed.sort_unstable();
    assert_eq!(reported, listed, "{label}: the rows of {FAMILIES:?}");
    let wrong: Vec<String> = expected
        .iter()
        .filter_map(|(id, status, words)| {
            let (s, r) = &got[id];
            (s != status || !words.iter().all(|w| r.contains(w)))
                .then(|| format!("{id}: expected {} containing {words:?}, got {} — {r}", status.name(), s.name()))
        })
        .collect();
    assert!(wrong.is_empty(), "{label}:\n{}\n--- edge log:\n{log}", wrong.join("\n"));
}

/// Start nginx forwarding as `forward` says and run the edge checks through it.
async fn nginx_outcomes(
    forward: Forward,
    name: &str,
    style: PkiStyle,
) -> Option<(crate::nginx::Edge, BTreeMap<&'static str, (Status, String)>)> {
    let edge = tokio::task::spawn_blocking(move || start_forwarding(TlsConfig::Fapi, forward, style)).await.unwrap()?;
    let name = &format!("{name}-{}", style.name());
    let tmp = tempfile::tempdir().unwrap();
    let got = edge_checks(tmp.path(), name, &edge).await;
    Some((edge, got))
}

/// nginx overwrites `X-SSL-Client-Cert` from its own TLS session on every request (a): every
/// spoof is refused; nginx resumes sessions (TLS 1.3 and 1.2) and keeps the certificate in them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_correct_edge_outcomes() {
    for &style in PkiStyle::ALL {
        let Some((edge, got)) = nginx_outcomes(Forward::Correct, "nginx-forward-correct", style).await else { return };
        assert_outcomes(&format!("nginx, correct, {} PKI", style.name()), &got, &nginx(correct()), &edge.log());
    }
}

/// node still honours the client-controllable `X-SSL-Client-Cert` before the header nginx sets
/// (b′): the controls hold, both spoofs succeed naming the header, and the secret client's token
/// follows the certificate it put in `X-SSL-Client-Cert`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_header_trusting_edge_outcomes() {
    for &style in PkiStyle::ALL {
        let Some((edge, got)) = nginx_outcomes(Forward::ClassicMistakeFallback, "nginx-forward-fallback", style).await else { return };
        let expected = nginx(header_trusting("X-SSL-Client-Cert (url_pem)", BOUND_TO_HEADER));
        assert_outcomes(&format!("nginx, header-trusting, {} PKI", style.name()), &got, &expected, &edge.log());
    }
}

/// nginx sets a header node never reads (b): the registered client is refused, so there is no
/// positive control and every check that needs one is blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_classic_mistake_blocks_the_edge_checks() {
    let Some((edge, got)) = nginx_outcomes(Forward::ClassicMistake, "nginx-forward-mistake", PkiStyle::Compact).await else { return };
    let expected: Vec<Row> = rows()
        .map(|id| match id {
            "auth.pki.accept" => (id, Status::Fail, vec!["invalid_client"]),
            _ => (id, Status::Blocked, vec!["blocked:"]),
        })
        .collect();
    assert_outcomes("nginx, classic mistake", &got, &expected, &edge.log());
}
