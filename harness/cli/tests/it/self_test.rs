//! The self-test contract: every check in the catalogue can fail (some self-test scenario
//! expects it to), every planted defect has a self-test, and each self-test run fails exactly
//! the checks it names — no more, no fewer.

use std::collections::BTreeSet;

use mtls_harness::checks::{Status, CATALOGUE};
use mtls_harness::mock::Defect;
use mtls_harness::run::{run_scenario, RunConfig, Source};
use mtls_harness::scenario::{load_dir, Scenario};

use crate::common::scenarios_dir;

fn scenarios() -> Vec<Scenario> {
    load_dir(&scenarios_dir()).expect("built-in scenarios load")
}

/// Checks whose defect rustls cannot plant in the mock (it has no TLS 1.0/1.1, no renegotiation,
/// no way to leave out the extended master secret, no DHE, no RSA key under 2048 bits (ring
/// signs with none), no way to drop one ECDHE suite while keeping its twin and an RSA
/// certificate, no suite RFC 9325 advises against — ChaCha20
/// is merely not recommended, informational under bcp195 — and the mock's listeners keep
/// discovery off mTLS only in the split shape): their negative self-test is a real server configured to break
/// exactly them, in `tls_probes.rs` and `tls_key_probes.rs` — `(check, test function)`.
const ON_REAL_SERVERS: &[(&str, &str)] = &[
    ("tls.version.floor", "nginx_fapi_passes_and_legacy_fails_exactly_the_version_and_suite_rules"),
    ("tls.ems", "nginx_without_the_extended_master_secret_fails_exactly_tls_ems"),
    ("tls.ciphers.tls12", "nginx_fapi_passes_and_legacy_fails_exactly_the_version_and_suite_rules"),
    ("tls.renegotiation", "node_oidc_provider_defaults"),
    ("tls.cert-request.forbidden", "nginx_fapi_passes_and_legacy_fails_exactly_the_version_and_suite_rules"),
    ("tls.key-size.server", "nginx_with_a_1024_bit_rsa_key_fails_exactly_the_server_key_size"),
    ("tls.key-size.dhe", "nginx_with_a_1024_bit_dhe_group_fails_exactly_the_dhe_size"),
    ("tls.ciphers.required", "nginx_without_ecdhe_rsa_aes256_fails_exactly_the_required_suites"),
];

#[test]
fn every_check_has_a_negative_self_test() {
    // A MUST-level check proves it can fail; a SHOULD-level one (or another RFC's rule) that it can warn.
    let expected: BTreeSet<String> = scenarios().iter().flat_map(|s| s.expect.fail.iter().chain(&s.expect.warn).cloned()).collect();
    let real = [include_str!("tls_probes.rs"), include_str!("tls_key_probes.rs")].concat();
    for (id, test) in ON_REAL_SERVERS {
        let body = real.split(&format!("async fn {test}()")).nth(1).unwrap_or_else(|| panic!("tls_probes.rs has no test {test}"));
        let body = body.split("\n}\n").next().unwrap_or_default();
        assert!(body.contains(&format!("(\"{id}\", Fail)")), "{test} does not expect {id} to fail");
    }
    let missing: Vec<&str> =
        CATALOGUE.iter().map(|c| c.id).filter(|id| !expected.contains(*id) && !ON_REAL_SERVERS.iter().any(|(r, _)| r == id)).collect();
    assert!(missing.is_empty(), "checks no self-test proves able to fail: {missing:?}");
}

#[test]
fn every_defect_has_a_self_test_expecting_exactly_its_catching_checks() {
    let all = scenarios();
    for &d in Defect::ALL {
        let found = all.iter().find(|s| s.mock.defects == [d] && s.primary == Default::default());
        let sc = found.unwrap_or_else(|| panic!("no self-test scenario plants only `{}`", d.name()));
        // The checks; a profile the scenario judges adds its rows (`profile.<id>.requires.<check>`).
        let expected: BTreeSet<&str> =
            sc.expect.fail.iter().chain(&sc.expect.warn).map(String::as_str).filter(|id| !id.starts_with("profile.")).collect();
        let caught_by: BTreeSet<&str> = d.caught_by().iter().copied().collect();
        assert_eq!(expected, caught_by, "{}: expect.fail and expect.warn differ from Defect::caught_by", sc.id);
        for id in sc.expect.fail.iter().filter(|id| id.starts_with("profile.")) {
            let check = id.rsplit_once(".requires.").map(|(_, c)| c).unwrap_or_default();
            assert!(d.caught_by().contains(&check), "{}: {id} is not the profile row of a catching check", sc.id);
        }
    }
}

#[test]
fn every_client_misbehaviour_has_a_self_test_expecting_exactly_its_catching_checks() {
    use mtls_harness::reference_client::Misbehaviour;
    let all = scenarios();
    for &m in Misbehaviour::ALL {
        let sc = all
            .iter()
            .find(|s| s.client.as_ref().is_some_and(|c| c.misbehave == [m]))
            .unwrap_or_else(|| panic!("no self-test scenario for misbehaviour {m:?}"));
        let expected: BTreeSet<&str> = sc.expect.fail.iter().map(String::as_str).collect();
        let caught_by: BTreeSet<&str> = m.caught_by().iter().copied().collect();
        assert_eq!(expected, caught_by, "{}: expect.fail differs from Misbehaviour::caught_by", sc.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_self_test_fails_exactly_its_expected_checks() {
    let source = Source::mock().unwrap();
    for sc in scenarios().into_iter().filter(Scenario::is_self_test) {
        let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
        assert!(r.error.is_none(), "{}: {:?}", sc.id, r.error);
        let failed: BTreeSet<&str> = r.checks.iter().filter(|c| c.status == Status::Fail).map(|c| c.id).collect();
        let expected: BTreeSet<&str> = sc.expect.fail.iter().map(String::as_str).collect();
        assert_eq!(failed, expected, "{}: failing checks differ from expect.fail", sc.id);
        let warned: BTreeSet<&str> = r.checks.iter().filter(|c| c.status == Status::Warn).map(|c| c.id).collect();
        let expected: BTreeSet<&str> = sc.expect.warn.iter().map(String::as_str).collect();
        assert_eq!(warned, expected, "{}: warning checks differ from expect.warn", sc.id);
        let blocked: BTreeSet<&str> = r.checks.iter().filter(|c| c.status == Status::Blocked).map(|c| c.id).collect();
        let expected: BTreeSet<&str> = sc.expect.blocked.iter().map(String::as_str).collect();
        assert_eq!(blocked, expected, "{}: blocked checks differ from expect.blocked", sc.id);
        let errored: Vec<_> = r.checks.iter().filter(|c| c.status == Status::Error).map(|c| (c.id, &c.reason)).collect();
        assert!(errored.is_empty(), "{}: checks could not be judged: {errored:?}", sc.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformant_mock_passes_every_check_in_each_served_shape() {
    let source = Source::mock().unwrap();
    for sc in scenarios().into_iter().filter(|s| !s.is_self_test() && s.mode == mtls_harness::scenario::Mode::As) {
        let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
        for c in &r.checks {
            // Only the alias-key check has nothing to judge where no aliases are published, and
            // bind.jwt-client leaves a private_key_jwt primary client to bind.token-cnf.
            let allowed_skip = (sc.discovery.shape == mtls_harness::discovery::Shape::Missing && c.id == "disc.aliases.keys")
                || (sc.primary == mtls_harness::catalogue::Primary::PrivateKeyJwt && c.id == "bind.jwt-client")
                // No profile keeps an endpoint off mTLS here (au-cdr does).
                || c.id == "tls.cert-request.forbidden"
                // No profile here names TLS 1.2 suites a server shall support (br-openfinance does).
                || c.id == "tls.ciphers.required"
                // The profile-only behaviour checks (FAPI 2.0, CDR) run only where a profile or
                // `checks:` names them by id.
                || (c.reason.starts_with("no selected profile requires it (") && !sc.checks.iter().any(|p| p == c.id));
            let expected = if allowed_skip { Status::Skip } else { Status::Pass };
            assert_eq!(c.status, expected, "{}::{}: {}", sc.id, c.id, c.reason);
            // An informational check passes whatever it found: the mock must not need that.
            assert!(!c.reason.starts_with("informational"), "{}::{}: {}", sc.id, c.id, c.reason);
        }
        let as_checks = CATALOGUE.iter().filter(|c| c.mode == mtls_harness::scenario::Mode::As).count();
        assert_eq!(r.checks.len(), as_checks, "{} runs the whole AS catalogue", sc.id);
    }
}

/// The private_key_jwt self-tests hold in every served shape, not only the one their file names:
/// the same checks fail, warn and are blocked whether the token endpoint is an alias on the same
/// listener, on its own listener, partly aliased or not aliased at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_private_key_jwt_self_tests_hold_in_every_served_shape() {
    use mtls_harness::discovery::Shape;
    let source = Source::mock().unwrap();
    let jwt = scenarios().into_iter().filter(|s| s.mock.defects.iter().any(|d| d.name().starts_with("jwt_"))).collect::<Vec<_>>();
    assert!(jwt.len() >= 5, "the private_key_jwt defects have self-tests");
    for sc in jwt {
        for shape in [Shape::Identical, Shape::Split, Shape::Partial, Shape::Missing] {
            let mut sc = sc.clone();
            sc.discovery.shape = shape;
            let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
            assert!(r.error.is_none(), "{}/{}: {:?}", sc.id, shape.name(), r.error);
            for (status, expected) in
                [(Status::Fail, &sc.expect.fail), (Status::Warn, &sc.expect.warn), (Status::Blocked, &sc.expect.blocked)]
            {
                let got: BTreeSet<&str> = r.checks.iter().filter(|c| c.status == status).map(|c| c.id).collect();
                let want: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
                assert_eq!(got, want, "{} in shape {}: {} checks", sc.id, shape.name(), status.name());
            }
        }
    }
}

/// `jwt_aud_token_endpoint_only` (assertions accepted only with aud = the token endpoint URL):
/// without a profile, RFC 7523 §3 allows it — auth.jwt.accept retries with that URL and passes,
/// both attempts in its evidence; under fapi2-sp-mtls, whose §5.3.2.1 demands the issuer, there
/// is no retry and auth.jwt.accept fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_audience_is_retried_unless_a_profile_demands_the_issuer() {
    let source = Source::mock().unwrap();
    let mut sc = scenarios().into_iter().find(|s| s.id == "selftest-jwt-aud-token-endpoint-only").unwrap();
    sc.checks = vec!["auth.jwt.accept".into()];
    let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
    let accept = r.checks.iter().find(|c| c.id == "auth.jwt.accept").unwrap();
    assert_eq!(accept.status, Status::Pass, "{}", accept.reason);
    assert!(accept.reason.contains("after aud = the issuer was refused"), "{}", accept.reason);
    assert_eq!(accept.evidence.len(), 2, "the refused attempt and the accepted one: {:?}", accept.evidence);
    sc.profiles = vec!["fapi2-sp-mtls".into()];
    let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
    let accept = r.checks.iter().find(|c| c.id == "auth.jwt.accept").unwrap();
    assert_eq!(accept.status, Status::Fail, "{}", accept.reason);
    assert_eq!(accept.evidence.len(), 1, "no retry: {:?}", accept.evidence);
    // FAPI 1 family: the token endpoint URL is what OIDC Core §9 recommends — accepted, and
    // accepting it (or an array) neither fails nor warns.
    sc.profiles = vec!["fapi1-advanced".into()];
    sc.checks = vec!["auth.jwt.accept".into(), "auth.jwt.aud-endpoint".into(), "auth.jwt.aud-array".into()];
    let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
    let status = |id: &str| r.checks.iter().find(|c| c.id == id).map(|c| (c.status, c.reason.clone())).unwrap();
    assert_eq!(status("auth.jwt.accept").0, Status::Pass, "{:?}", status("auth.jwt.accept"));
    for id in ["auth.jwt.aud-endpoint", "auth.jwt.aud-array"] {
        assert!(!matches!(status(id).0, Status::Fail | Status::Warn), "{id}: {:?}", status(id));
    }
}

/// The mock in client mode follows the scenario's profile: plain RFC 7523 §3 lets a client sign
/// with RS256 and name the token endpoint URL in `aud`, so without a profile the mock accepts both
/// and every check passes (the alg check notes a FAPI 2.0 profile would refuse it); under
/// fapi2-sp-mtls (§5.3.2.1, §5.4.1) the self-tests fail exactly their check (the scenarios as
/// written); under fapi1-advanced (§8.6) RS256 fails exactly `client.auth.assertion.alg`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_mode_mock_accepts_what_rfc7523_allows_unless_the_profile_forbids_it() {
    let source = Source::mock().unwrap();
    let all = scenarios();
    let by_id = |id: &str| all.iter().find(|s| s.id == id).cloned().unwrap_or_else(|| panic!("no scenario {id}"));
    for id in ["selftest-client-assertion-rs256", "selftest-client-assertion-aud-token-endpoint"] {
        let mut sc = by_id(id);
        sc.profiles.clear();
        sc.expect = Default::default();
        let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
        assert!(r.error.is_none(), "{id}: {:?}", r.error);
        let bad: Vec<_> =
            r.checks.iter().filter(|c| !matches!(c.status, Status::Pass | Status::Skip)).map(|c| (c.id, c.status, &c.reason)).collect();
        assert!(bad.is_empty(), "{id} without a profile: {bad:?}");
        let row = |check: &str| r.checks.iter().find(|c| c.id == check).map(|c| (c.status, c.reason.clone())).unwrap();
        for check in ["client.alias.introspection", "client.rs.same-cert"] {
            assert_eq!(row(check).0, Status::Pass, "{id} {check}: the mock accepted the client: {:?}", row(check));
        }
        if id.ends_with("rs256") {
            let (s, reason) = row("client.auth.assertion.alg");
            assert_eq!(s, Status::Pass, "{reason}");
            assert!(reason.contains("RS256 (allowed by RFC 7523; a FAPI 2.0 profile would refuse it)"), "{reason}");
        } else {
            let (s, reason) = row("client.auth.assertion.aud");
            assert_eq!((s, reason.as_str()), (Status::Pass, "5 client assertion(s) name the AS (RFC 7523 §3) in aud"), "{reason}");
        }
    }
    let mut sc = by_id("selftest-client-assertion-rs256");
    sc.profiles = vec!["fapi1-advanced".into()];
    let r = run_scenario(&sc, &source, &RunConfig::default(), None).await;
    let failed: BTreeSet<&str> = r.checks.iter().filter(|c| c.status == Status::Fail).map(|c| c.id).collect();
    assert_eq!(failed, BTreeSet::from(["client.auth.assertion.alg"]), "{:?}", r.checks);
    let alg = r.checks.iter().find(|c| c.id == "client.auth.assertion.alg").unwrap();
    assert!(alg.reason.contains("is signed with RS256: FAPI 1.0 Advanced §8.6 allows PS256 or ES256 only"), "{}", alg.reason);
    let blocked: BTreeSet<&str> = r.checks.iter().filter(|c| c.status == Status::Blocked).map(|c| c.id).collect();
    assert!(blocked.contains("client.rs.same-cert"), "the mock refused the RS256 client under FAPI 1.0 Advanced: {blocked:?}");
}

/// The embedded mock serves the compact PKI's ECDSA certificate, so it can negotiate no
/// ECDHE_RSA suite: under br-openfinance tls.ciphers.required fails — the clause's failure (OFB
/// FAPI SP §6.2.2-1, -2: shall support two ECDHE_RSA suites; the OFB text notes Brazil's ICP
/// issues RSA certificates only) — naming both suites and why; the key sizes pass (P-256, no DHE).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ecdsa_mock_cannot_support_brazils_ecdhe_rsa_suites() {
    let mut sc = scenarios().into_iter().find(|s| s.id == "as-split").expect("as-split");
    sc.profiles = vec!["br-openfinance".into()];
    sc.checks = vec!["tls.*".into()];
    let r = run_scenario(&sc, &Source::mock().unwrap(), &RunConfig::default(), None).await;
    let row = |id: &str| r.checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("{id}"));
    let c = row("tls.ciphers.required");
    assert_eq!(c.status, Status::Fail, "{}", c.reason);
    for word in [
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "its certificate is not RSA",
        "OFB FAPI SP §6.2.2",
    ] {
        assert!(c.reason.contains(word), "{word}: {}", c.reason);
    }
    for id in ["tls.key-size.server", "tls.key-size.dhe"] {
        assert_eq!(row(id).status, Status::Pass, "{id}: {}", row(id).reason);
    }
    assert!(row("tls.key-size.server").reason.contains("EC P-256 (256 bits)"), "{}", row("tls.key-size.server").reason);
}
