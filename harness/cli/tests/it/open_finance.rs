//! Open Finance as banks run it, against a real AS: node-oidc-provider configured as a FAPI 2.0
//! SP authorization server in the UAE Open Finance shape (`PEER_PROFILE=uae`: private_key_jwt
//! only, mTLS-bound tokens, PAR required, PS256, identical aliases). The target file has ONLY a
//! private_key_jwt client (PS256, its transport certificate for binding), no tls_client_auth
//! client. Conformant, the binding, PAR, introspection and revocation checks are all judged and
//! `uae-openfinance` and `fapi2-sp-mtls` pass; each off-profile variant (`PEER_OFF_PROFILE`)
//! fails exactly the profile rules it breaks, with their citations.
//!
//! Every test runs with each style of test PKI, node started once per style and the styles' runs
//! at once; the harness mints with the style's client CA ([`client_ca`]).

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::pki::{AssertionKey, JwsAlg, PkiStyle};
use mtls_harness::results::ScenarioResult;
use mtls_harness::run::{run_scenario, RunConfig, Source};

use crate::common::{client_ca, each_style, ensure_node_peers, repo, write_pki};

/// A running node (killed when dropped), its issuer, the PKI style it was started with and the
/// directory holding that PKI (removed when dropped).
struct Peer(std::process::Child, String, PkiStyle, tempfile::TempDir);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// For each PKI style, a PKI whose private_key_jwt client signs with PS256 (UAE), and node
/// started on it; all at once.
fn start(off_profile: &str) -> Vec<Peer> {
    start_in(off_profile, "identical")
}

/// [`start`] with the given `ALIAS_MODE`.
fn start_in(off_profile: &str, alias_mode: &str) -> Vec<Peer> {
    each_style(|style| start_one(style, off_profile, alias_mode)).into_iter().map(|(_, p)| p).collect()
}

/// Node requires signed request objects at PAR (UAE SP-FAPI §2.1-9), as a UAE bank configures it.
fn start_one(style: PkiStyle, off_profile: &str, alias_mode: &str) -> Peer {
    start_one_env(style, off_profile, alias_mode, &[("PEER_REQUIRE_SIGNED_REQUEST_OBJECT", "on")])
}

/// [`start_one`] with further environment for node.
fn start_one_env(style: PkiStyle, off_profile: &str, alias_mode: &str, env: &[(&str, &str)]) -> Peer {
    ensure_node_peers();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_pki(style, dir);
    let key = AssertionKey::generate(JwsAlg::PS256, "tpp-jwt-001-ps256").unwrap();
    mtls_harness::pki::write_file(&dir.join("jwt-client.key"), key.private_pem().unwrap().as_bytes(), true).unwrap();
    // The same key as a private JWK: a target file may give either.
    mtls_harness::pki::write_file(&dir.join("jwt-client.jwk"), key.private_jwk().unwrap().to_string().as_bytes(), true).unwrap();
    std::fs::write(dir.join("jwt-client.jwks.json"), key.public_jwks().unwrap().to_string()).unwrap();
    let mut child = Command::new("node")
        .envs(env.iter().copied())
        .arg(repo().join("fixtures/peers/oidc-provider/start.mjs"))
        .env("PKI_DIR", dir)
        .env("ALIAS_MODE", alias_mode)
        .env("PEER_PROFILE", "uae")
        .env("PEER_OFF_PROFILE", off_profile)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let ready = crate::common::ready_line(&mut child, Duration::from_secs(30), "node-oidc-provider (uae)");
    let issuer = ready["issuer"].as_str().unwrap().to_string();
    Peer(child, issuer, style, tmp)
}

/// The target file: only a private_key_jwt client; both profiles selected.
async fn run(peer: &Peer, name: &str) -> ScenarioResult {
    run_with(peer, name, "[uae-openfinance, fapi2-sp-mtls]", "jwt-client.key").await
}

/// [`run_with`] against each of `peers` at once, each result with its peer's PKI style.
async fn run_each(peers: &[Peer], name: &str, profiles: &str, signing_key: &str) -> Vec<(PkiStyle, ScenarioResult)> {
    futures_util::future::join_all(peers.iter().map(|p| async move { (p.2, run_with(p, name, profiles, signing_key).await) })).await
}

/// [`run`] with the given `profile:` value and signing key file (PEM or private JWK); authorization
/// requests are pushed as signed request objects (RFC 9101), as UAE requires.
async fn run_with(peer: &Peer, name: &str, profiles: &str, signing_key: &str) -> ScenarioResult {
    let dir = peer.3.path();
    let body = format!(
        "id: node-uae-{name}\nissuer: {}\nca_bundle: ca.pem\nresource: {}/resource\nclients:\n  private_key_jwt: {{ client_id: tpp-jwt-001, signing_key: {signing_key}, alg: PS256, cert: registered.pem, key: registered.key }}\n{}profile: {profiles}\npar_request_object: true\n",
        peer.1,
        peer.1,
        client_ca(peer.2)
    );
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, body).unwrap();
    let tf = Arc::new(TargetFile::load(&file).unwrap());
    let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    r
}

fn outcomes(r: &ScenarioResult) -> BTreeMap<&'static str, (Status, String)> {
    r.checks.iter().map(|c| (c.id, (c.status, c.reason.clone()))).collect()
}

fn failed(r: &ScenarioResult) -> Vec<&'static str> {
    r.checks.iter().filter(|c| c.status == Status::Fail).map(|c| c.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_jwt_only_target_against_node_in_the_uae_configuration() {
    let peers = start("none");
    // The signing key as a private JWK (RSA: n, e, d, p, q), the PEM path is used by the other runs.
    for (style, r) in run_each(&peers, "conformant", "[uae-openfinance, fapi2-sp-mtls]", "jwt-client.jwk").await {
        let got = outcomes(&r);
        let par = r.checks.iter().find(|c| c.id == "par.alias").unwrap();
        let form = serde_json::to_string(&par.evidence).unwrap();
        assert!(form.contains("\"request\"") && !form.contains("code_challenge"), "{style:?}: PAR pushed a signed request object: {form}");
        // Judged, as the primary private_key_jwt client: binding, PAR, introspection, revocation.
        for id in [
            "auth.jwt.accept",
            "auth.jwt.bad-signature",
            "auth.jwt.aud-wrong",
            "auth.jwt.aud-endpoint",
            "auth.jwt.aud-array",
            "auth.jwt.replay",
            "auth.jwt.no-cert",
            "bind.introspection-cnf",
            "introspect.active",
            "bind.rs.same-cert",
            "bind.rs.no-cert",
            "bind.rs.other-cert",
            "par.alias",
            "par.fapi.signed-request-object",
            "revoke.alias",
        ] {
            assert_eq!(got[id].0, Status::Pass, "{style:?}: {id}: {}", got[id].1);
        }
        // No tls_client_auth client: its checks say so, they do not pass.
        assert_eq!(got["auth.pki.accept"].0, Status::Skip, "{style:?}: {}", got["auth.pki.accept"].1);
        let fails = failed(&r);
        assert!(fails.is_empty(), "{style:?}: a conformant UAE-shaped AS fails nothing: {fails:?}\n{got:#?}");
        let verdicts: Vec<(&str, &str)> = r.profiles.iter().map(|p| (p.id.as_str(), p.verdict)).collect();
        assert_eq!(verdicts, [("uae-openfinance", "pass"), ("fapi2-sp-mtls", "pass")], "{style:?}: {got:#?}");
        assert_eq!(mtls_harness::report::verdict(std::slice::from_ref(&r)), "pass", "{style:?}");
    }
}

/// The FAPI 2.0 SP behaviour checks (named in `checks:`, as a profile would require them) against
/// node's FAPI 2.0 mode, pushing plain parameters (PEM key) and a signed request object (JWK key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fapi_behaviour_checks_against_node_in_fapi2_mode() {
    // Signed request objects not required: node accepts the plain pushed request too.
    let peer = start_one_env(PkiStyle::default(), "none", "identical", &[]);
    for key in ["jwt-client.key", "jwt-client.jwk"] {
        let dir = peer.3.path();
        let body = format!(
            "id: node-uae-fapi\nissuer: {}\nca_bundle: ca.pem\nresource: {}/resource\nclients:\n  private_key_jwt: {{ client_id: tpp-jwt-001, signing_key: {key}, alg: PS256, cert: registered.pem, key: registered.key }}\n{}par_request_object: {}\n",
            peer.1,
            peer.1,
            client_ca(peer.2),
            key.ends_with(".jwk")
        );
        let file = dir.join("fapi.yaml");
        std::fs::write(&file, body).unwrap();
        let tf = Arc::new(TargetFile::load(&file).unwrap());
        let mut sc = tf.scenario();
        sc.checks = mtls_harness::checks::profile_only::PROFILE_ONLY.iter().map(|id| id.to_string()).collect();
        let r = run_scenario(&sc, &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
        assert!(r.error.is_none(), "{:?}", r.error);
        let got = outcomes(&r);
        for id in mtls_harness::checks::profile_only::PROFILE_ONLY {
            eprintln!("{key}: {id}: {:?} — {}", got[id].0, got[id].1);
        }
        for id in mtls_harness::checks::profile_only::PROFILE_ONLY.iter().filter(|id| !mtls_harness::checks::cdr::CHECKS.contains(id)) {
            // Node as started here does not require signed request objects: the plain pushed
            // request is accepted, which UAE SP-FAPI §2.1-9 forbids (the other tests start node
            // requiring them, and there it passes).
            let want = if *id == "par.fapi.signed-request-object" { Status::Fail } else { Status::Pass };
            assert_eq!(got[id].0, want, "{key}: {id}: {}", got[id].1);
        }
        let jar = &got["par.fapi.signed-request-object"].1;
        assert!(jar.contains("as form parameters") && jar.contains("201"), "{key}: {jar}");
    }
}

/// Each deliberate off-profile variant fails exactly the rules it breaks (with their citations).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_profile_variants_fail_exactly_the_rules_they_break() {
    let cases: [(&str, &[&str]); 5] = [
        // Only a warn-level rule breaks: nothing fails (asserted below, it warns).
        ("par_not_required", &[]),
        // Listing client_secret_basic besides private_key_jwt is reported (info), not failed:
        // UAE SP-FAPI §2.1-3 and FAPI 2.0 SP §5.3.2.1-6 bind how clients authenticate.
        ("secret_basic_advertised", &[]),
        ("no_s256", &["profile.uae-openfinance.pkce-s256", "profile.fapi2-sp-mtls.pkce-s256"]),
        ("jwt_unbound", &["auth.jwt.no-cert", "bind.introspection-cnf", "bind.rs.other-cert", "bind.rs.no-cert"]),
        ("long_tokens", &["profile.uae-openfinance.access-token-lifetime"]),
    ];
    for (variant, want) in cases {
        let peers = start(variant);
        let results = futures_util::future::join_all(peers.iter().map(|p| async move { (p.2, run(p, variant).await) })).await;
        for (style, r) in results {
            let label = format!("{variant}, {style:?} PKI");
            let mut got = failed(&r);
            // A failed required check fails its profile row too: those rows follow from the checks.
            got.retain(|id| !id.contains(".requires."));
            let mut want = want.to_vec();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{label}: {:#?}", outcomes(&r));
            for c in r.checks.iter().filter(|c| c.status == Status::Fail && c.id.starts_with("profile.")) {
                assert!(!c.rfc.is_empty(), "{label}: {} cites where the rule is written", c.id);
            }
            let want_verdict = if want.is_empty() { "pass" } else { "fail" };
            assert_eq!(mtls_harness::report::verdict(std::slice::from_ref(&r)), want_verdict, "{label}");
            if variant == "secret_basic_advertised" {
                let got = outcomes(&r);
                for id in ["profile.uae-openfinance.auth-methods-others", "profile.fapi2-sp-mtls.auth-methods-others"] {
                    assert_eq!(got[id].0, Status::Pass, "{label}: {id}: {}", got[id].1);
                    assert!(
                        got[id].1.starts_with("informational (") && got[id].1.contains("client_secret_basic"),
                        "{label}: {id}: {}",
                        got[id].1
                    );
                }
                for id in ["profile.uae-openfinance.private-key-jwt-offered", "profile.fapi2-sp-mtls.auth-methods"] {
                    assert_eq!(got[id].0, Status::Pass, "{label}: {id}: {}", got[id].1);
                }
            }
            if variant == "par_not_required" {
                let got = outcomes(&r);
                for id in ["profile.uae-openfinance.par-required", "profile.fapi2-sp-mtls.par-required"] {
                    assert_eq!(got[id].0, Status::Warn, "{label}: {id}: {}", got[id].1);
                }
            }
        }
    }
}

/// The CDR rules no other suite checks — discovery, authorization and JWKS must NOT ask for a
/// client certificate, the back-channel endpoints must (au-cdr's `tls.cert_request`, judged by
/// `tls.cert-request.forbidden` and `tls.cert-request.required`) — judged from the handshakes: node with
/// one listener that asks for certificates everywhere breaks it; node with the mTLS endpoints on
/// their own listener (split aliases) keeps it. And Open Finance Brasil's DCR rule (a MAY:
/// informational) that the aliases carry token, registration, userinfo and PAR: node aliases no
/// registration endpoint, which is recorded. And two CDS rules this FAPI 2.0-shaped node
/// breaks: it introspects access tokens, and it refuses the token endpoint URL as `aud`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdr_certificate_requests_and_brazil_aliases_judged_from_a_real_server() {
    for (mode, public_ok) in [("identical", false), ("split", true)] {
        let peers = start_in("none", mode);
        for (style, r) in run_each(&peers, &format!("cdr-{mode}"), "[au-cdr, br-openfinance]", "jwt-client.key").await {
            let label = format!("{mode}, {style:?} PKI");
            let got = outcomes(&r);
            let public = &got["tls.cert-request.forbidden"];
            if public_ok {
                assert_eq!(public.0, Status::Pass, "{label}: {}", public.1);
            } else {
                assert_eq!(public.0, Status::Fail, "{label}: {}", public.1);
                assert!(public.1.contains("discovery") && public.1.contains("asks"), "{label}: {}", public.1);
            }
            let back = &got["tls.cert-request.required"];
            assert_eq!(back.0, Status::Pass, "{label}: {}", back.1);
            // CDR forbids access-token introspection: under au-cdr the introspection checks do not apply.
            for id in ["introspect.active", "bind.introspection-cnf"] {
                assert_eq!(got[id].0, Status::Skip, "{label}: {id}: {}", got[id].1);
                assert!(got[id].1.contains("not applicable under au-cdr"), "{label}: {id}: {}", got[id].1);
            }
            // ...and this node (the UAE configuration) introspects them (CDS: MUST NOT).
            let refused = &got["introspect.access-token-refused"];
            assert_eq!(refused.0, Status::Fail, "{label}: {}", refused.1);
            assert!(refused.1.contains("active: true"), "{label}: {}", refused.1);
            // node in its FAPI 2.0 mode accepts only the issuer as aud (FAPI 2.0 SP §5.3.2.1),
            // where CDS says the token endpoint URL MUST be accepted too.
            let aud = &got["auth.jwt.aud-endpoint-accepted"];
            assert_eq!(aud.0, Status::Fail, "{label}: {}", aud.1);
            assert!(aud.1.contains("token endpoint URL") && aud.1.contains("invalid_client"), "{label}: {}", aud.1);
            // OFB DCR 1.0 §6.1-5 is a MAY: recorded (info), neither failed nor warned.
            let aliases = &got["profile.br-openfinance.dcr-mtls-aliases"];
            assert_eq!(aliases.0, Status::Pass, "{label}: {}", aliases.1);
            assert!(
                aliases.1.starts_with("informational (") && aliases.1.contains("lacks registration_endpoint"),
                "{label}: {}",
                aliases.1
            );
        }
    }
}
