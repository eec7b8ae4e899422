//! The harness against a real AS: node-oidc-provider (pinned in fixtures/peers/package-lock.json)
//! started as a child process on 127.0.0.1 in three layouts — identical aliases, split aliases on
//! a second listener, no aliases — under both introspection policies, each with JWT access tokens
//! (a `resource` indicator) and with opaque ones: conformant, the verdict is `pass` and every
//! check's outcome is asserted (the non-passes are node-oidc-provider's documented deviations or
//! checks that do not apply). Then the fixture's planted defects: each fails exactly the checks
//! that guard it, blocks exactly their dependents, errors nothing, and makes the verdict `fail`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mtls_harness::checks::Status;
use mtls_harness::pki::{PkiStyle, TestPki};

use crate::common::{client_ca, departures, ensure_node_peers, live_outcomes, repo, write_pki};

/// A running node-oidc-provider; killed when dropped.
pub(crate) struct Peer {
    child: Child,
    pub(crate) issuer: String,
    pub(crate) resource: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the peer is configured: alias layout, planted defect (`PEER_DEFECT`), and who may
/// introspect a token (`PEER_INTROSPECTION_POLICY`: `all`, or `own` = only the client it was
/// issued to, a common deployment policy RFC 7662 §2.1/§4 allows).
#[derive(Clone, Copy)]
pub(crate) struct Config {
    pub(crate) mode: &'static str,
    pub(crate) defect: Option<&'static str>,
    pub(crate) policy: &'static str,
}

pub(crate) fn start_peer(cfg: Config, pki_dir: &Path, secret: &str) -> Peer {
    start_peer_with(cfg, pki_dir, secret, &[])
}

/// [`start_peer`] with further environment (e.g. `PEER_PUBLIC_HOST`).
pub(crate) fn start_peer_with(cfg: Config, pki_dir: &Path, secret: &str, env: &[(&str, &str)]) -> Peer {
    ensure_node_peers();
    let child = Command::new("node")
        .envs(env.iter().copied())
        .arg(repo().join("fixtures/peers/oidc-provider/start.mjs"))
        .env("PKI_DIR", pki_dir)
        .env("ALIAS_MODE", cfg.mode)
        .env("PORT", "0")
        .env("ALIAS_PORT", "0")
        .env("PEER_CLIENT_SECRET", secret)
        .env("PEER_DEFECT", cfg.defect.unwrap_or(""))
        .env("PEER_INTROSPECTION_POLICY", cfg.policy)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let mut peer = Peer { child, issuer: String::new(), resource: String::new() };
    let ready = crate::common::ready_line(&mut peer.child, Duration::from_secs(30), "node-oidc-provider");
    peer.issuer = ready["issuer"].as_str().unwrap().to_string();
    peer.resource = ready["resource"].as_str().unwrap().to_string();
    peer
}

fn target_file(dir: &Path, name: &str, peer: &Peer, secret_env: &str, jwt: bool, other_subject: &str) -> PathBuf {
    let token_params = if jwt { format!("token_params: {{ resource: \"{}\" }}\n", peer.resource) } else { String::new() };
    let body = format!(
        "id: node-oidc-provider-{name}\nissuer: {}\nca_bundle: ca.pem\nresource: {}\n{token_params}clients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\n  self_signed: {{ client_id: tpp-self-signed-001, cert: self-signed.pem, key: self-signed.key }}\n  secret: {{ client_id: tpp-secret-001, secret_env: {secret_env} }}\n  public: {{ client_id: tpp-public-001 }}\n  private_key_jwt: {{ client_id: tpp-jwt-001, signing_key: jwt-client.key, alg: EdDSA }}\n{other_subject}",
        peer.issuer, peer.resource
    );
    let f = dir.join(format!("{name}.yaml"));
    std::fs::write(&f, body).unwrap();
    f
}

type Outcomes = BTreeMap<&'static str, (Status, String)>;

/// The whole AS catalogue against one peer configuration with the test PKI of `style`, with JWT
/// access tokens (a `resource` indicator) and with opaque ones. The harness holds the client CA
/// (`client_ca`): it mints the expired and other-subject certificates.
async fn run_config(cfg: Config, style: PkiStyle) -> ((Outcomes, &'static str), (Outcomes, &'static str)) {
    let tmp = tempfile::tempdir().unwrap();
    write_pki(style, tmp.path());
    let label = format!("{}-{}-{}-{}", cfg.mode, cfg.defect.unwrap_or("conformant"), cfg.policy, style.name());
    let secret = format!("s3cr3t-{label}-{}", std::process::id());
    let var = format!("MTLS_TEST_NODE_SECRET_{}", label.to_uppercase().replace('-', "_"));
    std::env::set_var(&var, &secret);
    let peer = start_peer(cfg, tmp.path(), &secret);
    let jwt = live_outcomes(&target_file(tmp.path(), &format!("{label}-jwt"), &peer, &var, true, client_ca(style))).await;
    let opaque = live_outcomes(&target_file(tmp.path(), &format!("{label}-opaque"), &peer, &var, false, client_ca(style))).await;
    (jwt, opaque)
}

/// JWT access tokens: node-oidc-provider will not introspect them (400 `unsupported_token_type`:
/// a deviation from RFC 7662 §2.2, a `warn` under that RFC; RFC 8705 §3.2 then has no active
/// response to constrain: skip) nor revoke them (which RFC 7009 §2.2.1 permits: skip).
///
/// Both: node-oidc-provider outside its FAPI 2.0 mode accepts a client assertion whose `aud` is
/// the token endpoint URL or an array, as RFC 7523 §3 permits and FAPI 2.0 SP §5.3.2.1 forbids:
/// a SHOULD here, raised to a MUST by the FAPI-based profiles.
///
/// TLS (no profile selected): no profile keeps an endpoint off mTLS; Node accepts TLS 1.2 suites
/// outside RFC 9325 §4.2 (ChaCha20, CCM, ARIA, CBC), which is informational without one.
const JWT_EXCEPTIONS: [(&str, Status, &str); 9] = [
    ("abuse.revoke-other-client", Status::Skip, "revoke.alias was skipped"),
    ("tls.cert-request.forbidden", Status::Skip, "no selected profile"),
    ("tls.ciphers.required", Status::Skip, "no selected profile names TLS 1.2 suites"),
    ("tls.ciphers.tls12", Status::Pass, "informational"),
    ("auth.jwt.aud-endpoint", Status::Warn, "SHOULD"),
    ("auth.jwt.aud-array", Status::Warn, "SHOULD"),
    ("introspect.active", Status::Warn, "RFC 7662 §2.2"),
    ("bind.introspection-cnf", Status::Skip, "no active introspection response"),
    ("revoke.alias", Status::Skip, "RFC 7009 §2.2.1"),
];
/// Opaque access tokens: no claims to read, the binding is judged through introspection.
const OPAQUE_EXCEPTIONS: [(&str, Status, &str); 6] = [
    ("tls.cert-request.forbidden", Status::Skip, "no selected profile"),
    ("tls.ciphers.required", Status::Skip, "no selected profile names TLS 1.2 suites"),
    ("tls.ciphers.tls12", Status::Pass, "informational"),
    ("auth.jwt.aud-endpoint", Status::Warn, "SHOULD"),
    ("auth.jwt.aud-array", Status::Warn, "SHOULD"),
    ("bind.token-cnf", Status::Skip, "not a JWT"),
];

/// The conformant peer in `mode` under `policy`, with the test PKI of `style`.
async fn conformant(style: PkiStyle, mode: &'static str, policy: &'static str, extra: &[(&str, Status, &str)]) {
    let (jwt, opaque) = run_config(Config { mode, defect: None, policy }, style).await;
    let jwt_except: Vec<_> = JWT_EXCEPTIONS.iter().chain(extra).copied().collect();
    let opaque_except: Vec<_> = OPAQUE_EXCEPTIONS.iter().chain(extra).copied().collect();
    let style = style.name();
    let mut wrong = departures(&format!("{mode}/{policy}/{style}/jwt"), &jwt, &jwt_except, "pass");
    wrong.extend(departures(&format!("{mode}/{policy}/{style}/opaque"), &opaque, &opaque_except, "pass"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Each alias layout under both introspection policies, with the test PKI of `style`.
async fn identical_aliases(style: PkiStyle) {
    conformant(style, "identical", "all", &[]).await;
    conformant(style, "identical", "own", &[]).await;
}

async fn split_aliases(style: PkiStyle) {
    conformant(style, "split", "all", &[]).await;
    conformant(style, "split", "own", &[]).await;
}

async fn no_aliases(style: PkiStyle) {
    let none = [("disc.aliases.keys", Status::Skip, "not published")];
    conformant(style, "none", "all", &none).await;
    conformant(style, "none", "own", &none).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_identical_aliases() {
    identical_aliases(PkiStyle::Compact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_split_aliases_on_a_second_listener() {
    split_aliases(PkiStyle::Compact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_without_aliases() {
    no_aliases(PkiStyle::Compact).await;
}

// The same with ecosystem-shaped certificates: RSA-2048 leaves of 2 KB under an RSA-4096 root →
// intermediate → issuing chain (the root alone trusted, the chain sent), long Open Finance
// subjects, the harness minting with the issuing CA as `client_ca`.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_identical_aliases_ecosystem_pki() {
    identical_aliases(PkiStyle::Ecosystem).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_split_aliases_on_a_second_listener_ecosystem_pki() {
    split_aliases(PkiStyle::Ecosystem).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_without_aliases_ecosystem_pki() {
    no_aliases(PkiStyle::Ecosystem).await;
}

/// The refusals and binding checks that need a token from the registered client.
const NEEDS_TOKEN: [&str; 16] = [
    "edge.binding-follows-tls",
    "abuse.revoke-other-client",
    "auth.pki.no-cert",
    "auth.pki.other-subject",
    "auth.pki.rogue-ca",
    "auth.pki.expired",
    "bind.token-cnf",
    "introspect.active",
    "bind.introspection-cnf",
    "bind.rs.same-cert",
    "bind.rs.other-cert",
    "bind.rs.no-cert",
    "par.alias",
    "revoke.alias",
    "edge.client-auth-header-spoof",
    "edge.rs-header-spoof",
];

/// A planted defect of the peer: exactly `fail` fail (and `warn` warn), exactly `blocked` are
/// blocked, nothing errors, everything else ends as for the conformant peer; verdict `fail`.
async fn defect(mode: &'static str, name: &'static str, fail: &[&str], warn: &[&str], blocked: &[&str]) {
    defect_with(mode, name, fail, warn, blocked, &[]).await;
}

/// [`defect`], with checks blocked only with JWT access tokens (`jwt_blocked`); with each PKI style.
async fn defect_with(mode: &'static str, name: &'static str, fail: &[&str], warn: &[&str], blocked: &[&str], jwt_blocked: &[&str]) {
    for &style in PkiStyle::ALL {
        defect_in(style, mode, name, fail, warn, blocked, jwt_blocked).await;
    }
}

async fn defect_in(
    style: PkiStyle,
    mode: &'static str,
    name: &'static str,
    fail: &[&str],
    warn: &[&str],
    blocked: &[&str],
    jwt_blocked: &[&str],
) {
    let (jwt, opaque) = run_config(Config { mode, defect: Some(name), policy: "own" }, style).await;
    let jwt_all: Vec<&str> = blocked.iter().chain(jwt_blocked).copied().collect();
    for (label, (got, verdict), base, blocked) in
        [("jwt", jwt, &JWT_EXCEPTIONS[..], &jwt_all[..]), ("opaque", opaque, &OPAQUE_EXCEPTIONS[..], blocked)]
    {
        let label = format!("{}/{mode}/{name}/{label}", style.name());
        let status = |s: Status| -> Vec<&str> { got.iter().filter(|(_, (x, _))| *x == s).map(|(id, _)| *id).collect() };
        let sorted = |v: &[&str]| {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        let base_of = |s: Status| base.iter().filter(move |(_, x, _)| *x == s).map(|(id, _, _)| *id);
        let mut want_fail: Vec<&str> = fail.to_vec();
        let mut want_warn: Vec<&str> = warn.iter().copied().chain(base_of(Status::Warn)).collect();
        let mut want_blocked: Vec<&str> = blocked.to_vec();
        // The conformant peer's own skips stay skips unless the defect decides otherwise.
        let decided = |id: &str| fail.contains(&id) || warn.contains(&id) || blocked.contains(&id);
        let want_skip: Vec<&str> = base_of(Status::Skip).filter(|id| !decided(id)).collect();
        want_fail.dedup();
        want_warn.retain(|id| !fail.contains(id) && !blocked.contains(id));
        want_blocked.dedup();
        assert_eq!(sorted(&status(Status::Fail)), sorted(&want_fail), "{label}: failing checks {got:#?}");
        assert_eq!(sorted(&status(Status::Blocked)), sorted(&want_blocked), "{label}: blocked checks {got:#?}");
        assert_eq!(sorted(&status(Status::Warn)), sorted(&want_warn), "{label}: warning checks {got:#?}");
        assert_eq!(status(Status::Error), Vec::<&str>::new(), "{label}: nothing may error {got:#?}");
        let skips = status(Status::Skip);
        assert!(want_skip.iter().all(|id| skips.contains(id)), "{label}: skips {skips:?}, expected at least {want_skip:?}");
        assert_eq!(verdict, "fail", "{label}: a planted defect makes the verdict fail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_tokens_not_bound() {
    // Discovery still claims bound tokens; neither the token nor introspection carries cnf, and
    // the resource accepts the token from anyone.
    for &style in PkiStyle::ALL {
        tokens_not_bound(style).await;
    }
}

async fn tokens_not_bound(style: PkiStyle) {
    let (jwt, opaque) = run_config(Config { mode: "split", defect: Some("no_binding"), policy: "own" }, style).await;
    let fails = |o: &Outcomes| -> Vec<&str> { o.iter().filter(|(_, (s, _))| *s == Status::Fail).map(|(id, _)| *id).collect() };
    assert_eq!(fails(&jwt.0), ["bind.jwt-client", "bind.rs.no-cert", "bind.rs.other-cert", "bind.token-cnf"], "{:#?}", jwt.0);
    // bind.other-auth now only warns (below), so it no longer blocks edge.binding-follows-tls,
    // which, with no bound token from bind.token-cnf (opaque tokens), judges the secret client's
    // unbound token itself.
    assert_eq!(
        fails(&opaque.0),
        ["bind.introspection-cnf", "bind.jwt-client", "bind.rs.no-cert", "bind.rs.other-cert", "edge.binding-follows-tls"],
        "{:#?}",
        opaque.0
    );
    for (o, v) in [&jwt, &opaque] {
        // No profile selected (rfc8705: bound tokens not required, RFC 8705 §3.3) and the secret
        // client not registered for bound tokens: its unbound token is a SHOULD (RFC 8705 §3).
        assert_eq!(o["bind.other-auth"].0, Status::Warn, "{}", o["bind.other-auth"].1);
        assert!(o["bind.other-auth"].1.contains("no cnf claim"), "{}", o["bind.other-auth"].1);
        assert_eq!(o["bind.refresh-public"].0, Status::Warn, "§4 is a SHOULD: {}", o["bind.refresh-public"].1);
        // The resource takes the token from anyone: a forwarded-certificate header cannot make
        // it worse, so edge.rs-header-spoof has no control.
        assert_eq!(o["edge.rs-header-spoof"].0, Status::Blocked, "{}", o["edge.rs-header-spoof"].1);
        // And no binding at all leaves nothing for edge.binding-follows-tls to compare, nor a
        // bound token from a full handshake for session.resumed-token-bound to compare with.
        assert_eq!(o["session.resumed-token-bound"].0, Status::Blocked, "{}", o["session.resumed-token-bound"].1);
        let no_control = ["edge.rs-header-spoof", "edge.binding-follows-tls", "session.resumed-token-bound"];
        assert!(o.iter().all(|(id, (s, _))| no_control.contains(id) || !matches!(s, Status::Error | Status::Blocked)), "{o:#?}");
        assert_eq!(*v, "fail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_subject_not_checked() {
    defect("split", "subject_not_checked", &["auth.pki.other-subject"], &[], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_chain_not_checked() {
    defect("identical", "chain_not_checked", &["auth.pki.rogue-ca", "auth.pki.expired"], &[], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_resource_ignores_binding() {
    // The resource takes the token with no certificate at all: a header cannot make it worse.
    defect("split", "rs_ignores_binding", &["bind.rs.other-cert", "bind.rs.no-cert"], &[], &["edge.rs-header-spoof"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_resource_requires_a_trusted_certificate_and_ignores_binding() {
    defect("split", "rs_requires_trusted_cert_ignores_binding", &["bind.rs.other-cert"], &[], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_resource_refuses_every_certificate() {
    // Its refusals prove nothing: blocked behind the failed positive control, never passed. With
    // JWT tokens (which node will not introspect) nothing can show the token active before
    // revocation either: revoke.alias has no positive control.
    defect_with(
        "split",
        "rs_refuses_all",
        &["bind.rs.same-cert"],
        &[],
        &["bind.rs.other-cert", "bind.rs.no-cert", "edge.rs-header-spoof"],
        &["revoke.alias", "abuse.revoke-other-client"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_defect_alias_listener_requests_no_certificate() {
    let mut blocked: Vec<&str> = NEEDS_TOKEN.to_vec();
    blocked.extend(["auth.self.other", "bind.other-auth", "bind.refresh-public"]);
    blocked.extend([
        "auth.jwt.bad-signature",
        "auth.jwt.aud-wrong",
        "auth.jwt.aud-endpoint",
        "auth.jwt.aud-array",
        "auth.jwt.replay",
        "auth.jwt.no-cert",
        "bind.jwt-client",
        "session.resume-other-identity",
        "session.resumed-token-bound",
    ]);
    defect(
        "split",
        "alias_no_cert_request",
        &["tls.cert-request.required", "auth.pki.accept", "auth.self.accept", "auth.jwt.accept"],
        &[],
        &blocked,
    )
    .await;
}

/// Only an untrusted "other" certificate: a refusal of it could be its issuer's, so the checks
/// that judge subject matching and binding with it skip — never pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_other_certificate_is_skipped_not_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let var = "MTLS_TEST_NODE_SECRET_UNTRUSTED_OTHER";
    std::env::set_var(var, "s3cr3t-untrusted-other");
    let peer = start_peer(Config { mode: "split", defect: None, policy: "all" }, tmp.path(), "s3cr3t-untrusted-other");
    // The rogue-CA certificate as `other_subject`: another issuer than the registered one's.
    let other = "other_subject: { cert: rogue-ca.pem, key: rogue-ca.key }\n";
    let (got, verdict) = live_outcomes(&target_file(tmp.path(), "untrusted-other", &peer, var, false, other)).await;
    for id in ["auth.pki.other-subject", "bind.rs.other-cert"] {
        assert_eq!(got[id].0, Status::Skip, "{id}: {}", got[id].1);
        assert!(got[id].1.contains("not issued by the CA"), "{id}: {}", got[id].1);
    }
    assert_eq!(got["auth.pki.expired"].0, Status::Skip, "no client CA: no expired certificate");
    assert_eq!(verdict, "pass");
}
