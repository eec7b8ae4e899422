//! Client mode: clients under test against every discovery shape, judged from the journal.
//! The reference client passes everything; oauth4webapi (a real third-party client, pinned in
//! fixtures/peers) passes with `use_mtls_endpoint_aliases` and fails `client.alias.*` without it
//! where aliases matter; a client that crashes, hangs or never calls the AS passes nothing.

use std::collections::BTreeMap;

use mtls_harness::checks::Status;
use mtls_harness::report::ScenarioResult;
use mtls_harness::run::{run_scenario, RunConfig, Source};
use mtls_harness::scenario::Scenario;

use crate::common::{ensure_node_peers, repo};

fn scenario(shape: &str, client: &str) -> Scenario {
    let disc = match shape {
        "malformed-authz" => "  shape: malformed\n  malformed: authorization_endpoint\n".to_string(),
        s => format!("  shape: {s}\n"),
    };
    let text = format!("id: t-{shape}\ntitle: t\nmode: client\ndiscovery:\n{disc}client:\n{client}checks: [\"*\"]\n");
    // Commands run from the scenario file's directory: the repository root here.
    Scenario::parse(&text, &repo().join("t.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

async fn run(sc: &Scenario) -> ScenarioResult {
    let r = run_scenario(sc, &Source::mock().unwrap(), &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    r
}

fn statuses(r: &ScenarioResult) -> BTreeMap<&'static str, Status> {
    r.checks.iter().map(|c| (c.id, c.status)).collect()
}

const SHAPES: [&str; 5] = ["identical", "split", "partial", "missing", "malformed-authz"];

fn table_row(label: &str, r: &ScenarioResult) -> String {
    let s = statuses(r);
    let cell = |id: &str| s.get(id).map(|x| x.name()).unwrap_or("-");
    format!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        cell("client.discovery"),
        cell("client.alias.token"),
        cell("client.alias.par"),
        cell("client.alias.introspection"),
        cell("client.alias.revocation"),
        cell("client.alias.userinfo"),
        cell("client.alias.fallback"),
        cell("client.authz.top-level"),
        cell("client.cert.presented"),
        cell("client.client-id"),
        cell("client.rs.same-cert"),
    )
}

/// The private_key_jwt columns: client-id, cert.presented, then the six assertion checks.
fn jwt_table_row(label: &str, r: &ScenarioResult) -> String {
    let s = statuses(r);
    let cells: Vec<&str> = [
        "client.client-id",
        "client.cert.presented",
        "client.auth.assertion.signature",
        "client.auth.assertion.alg",
        "client.auth.assertion.claims",
        "client.auth.assertion.aud",
        "client.auth.assertion.lifetime",
        "client.auth.assertion.jti",
    ]
    .iter()
    .map(|id| s.get(id).map(|x| x.name()).unwrap_or("-"))
    .collect();
    format!("| {label} | {} |", cells.join(" | "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_client_passes_every_client_check_in_every_shape() {
    for (auth, shape) in
        ["tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt"].into_iter().flat_map(|a| SHAPES.map(|s| (a, s)))
    {
        let steps = "  steps: [token, par, authorize, introspect, userinfo, resource, revoke]\n";
        let r = run(&scenario(shape, &format!("  auth: {auth}\n{steps}"))).await;
        println!("{}", table_row(&format!("reference, {auth} / {shape}"), &r));
        if auth == "private_key_jwt" {
            println!("{}", jwt_table_row(&format!("reference / {shape}"), &r));
        }
        assert!(r.client.as_ref().unwrap().succeeded(), "{shape}: {:?}", r.client);
        for c in &r.checks {
            assert!(matches!(c.status, Status::Pass | Status::Skip), "{shape}: {} {}: {}", c.id, c.status.name(), c.reason);
            if c.status == Status::Skip {
                // The assertion checks judge a private_key_jwt client only.
                let not_jwt = auth != "private_key_jwt" && c.reason.contains("not private_key_jwt");
                assert!(
                    c.reason.contains("no alias is published") || c.reason.contains("no endpoint that lacks an alias") || not_jwt,
                    "{shape}: {}: {}",
                    c.id,
                    c.reason
                );
            }
        }
        // Wherever an alias exists the reference client was judged on it, and passed.
        if shape == "split" {
            assert!(r
                .checks
                .iter()
                .filter(|c| c.id.starts_with("client.alias.") && c.id != "client.alias.fallback")
                .all(|c| c.status == Status::Pass));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_crashes_hangs_or_never_calls_passes_nothing() {
    // Exits non-zero after reading discovery: what it did is judged, but nothing passes.
    let crash =
        r#"  command: ["sh", "-c", "curl -s --cacert \"$MTLS_CA\" \"$MTLS_ISSUER/.well-known/openid-configuration\" > /dev/null; exit 3"]"#;
    let r = run(&scenario("identical", &format!("{crash}\n"))).await;
    let disc = r.checks.iter().find(|c| c.id == "client.discovery").unwrap();
    assert_eq!(disc.status, Status::Error, "{}", disc.reason);
    assert!(disc.reason.contains("exited with status 3"), "{}", disc.reason);
    assert!(r.checks.iter().all(|c| c.status != Status::Pass));
    // Hangs: killed at the timeout, every check an error, and the scenario returns promptly.
    let t0 = std::time::Instant::now();
    let r = run(&scenario("identical", "  command: [\"sleep\", \"30\"]\n  timeout_ms: 500\n")).await;
    assert!(t0.elapsed() < std::time::Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(matches!(r.client.as_ref().unwrap().end, mtls_harness::client_mode::RunEnd::TimedOut(500)));
    for c in &r.checks {
        assert_eq!(c.status, Status::Error, "{}: {}", c.id, c.reason);
        assert!(c.reason.contains("no request") || c.reason.contains("did not finish"), "{}: {}", c.id, c.reason);
    }
    // Exits 0 without a single request: errors, not passes.
    let r = run(&scenario("identical", "  command: [\"true\"]\n")).await;
    for c in &r.checks {
        assert_eq!(c.status, Status::Error, "{}: {}", c.id, c.reason);
        assert!(c.reason.contains("made no request to the AS"), "{}", c.reason);
    }
    // A command that does not exist.
    let r = run(&scenario("identical", "  command: [\"/nonexistent/client\"]\n")).await;
    assert!(r.client.as_ref().unwrap().failure().unwrap().contains("could not be started"));
    assert!(r.checks.iter().all(|c| c.status == Status::Error));
}

fn oauth4webapi(use_aliases: bool) -> String {
    format!("  command: [\"node\", \"fixtures/peers/oauth4webapi/client.mjs\"]\n  use_aliases: {use_aliases}\n  timeout_ms: 30000\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth4webapi_with_use_mtls_endpoint_aliases_passes_in_every_shape() {
    ensure_node_peers();
    for shape in SHAPES {
        let r = run(&scenario(shape, &oauth4webapi(true))).await;
        println!("{}", table_row(&format!("oauth4webapi, aliases on / {shape}"), &r));
        assert!(r.client.as_ref().unwrap().succeeded(), "{shape}: {:?}", r.client);
        for c in &r.checks {
            assert!(matches!(c.status, Status::Pass | Status::Skip), "{shape}: {} {}: {}", c.id, c.status.name(), c.reason);
        }
        let s = statuses(&r);
        if shape == "split" {
            for id in
                ["client.alias.token", "client.alias.par", "client.alias.introspection", "client.alias.revocation", "client.alias.userinfo"]
            {
                assert_eq!(s[id], Status::Pass, "{shape}: {id}");
            }
        }
        assert_eq!(s["client.authz.top-level"], Status::Pass, "{shape}");
        assert_eq!(s["client.cert.presented"], Status::Pass, "{shape}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth4webapi_without_use_mtls_endpoint_aliases_fails_the_alias_checks_where_aliases_differ() {
    ensure_node_peers();
    for shape in SHAPES {
        let r = run(&scenario(shape, &oauth4webapi(false))).await;
        println!("{}", table_row(&format!("oauth4webapi, aliases off / {shape}"), &r));
        let s = statuses(&r);
        match shape {
            // The top level asks for no certificate: the token request fails there (401) and the
            // client gives up (exit 1). The token alias check fails; the steps it never reached
            // are blocked by that; the verdict is `fail` (exit 1), not `error`: the judged failure
            // explains the client's exit.
            "split" => {
                assert_eq!(s["client.alias.token"], Status::Fail, "{shape}");
                assert!(!r.client.as_ref().unwrap().succeeded());
                assert_eq!(s.values().filter(|x| **x == Status::Fail).count(), 1, "{shape}: {s:?}");
                for id in [
                    "client.alias.par",
                    "client.alias.introspection",
                    "client.alias.revocation",
                    "client.alias.userinfo",
                    "client.rs.same-cert",
                ] {
                    assert_eq!(s[id], Status::Blocked, "{shape}: {id}");
                }
                assert!(s.values().all(|x| *x != Status::Error), "{shape}: {s:?}");
                assert_eq!(mtls_harness::report::verdict(std::slice::from_ref(&r)), "fail", "{shape}");
            }
            // Only the token endpoint is aliased: it went to the top level instead.
            "partial" => {
                assert_eq!(s["client.alias.token"], Status::Fail, "{shape}");
                assert_eq!(s.values().filter(|x| **x == Status::Fail).count(), 1, "{shape}: {s:?}");
                assert_eq!(mtls_harness::report::verdict(std::slice::from_ref(&r)), "fail", "{shape}");
            }
            // Every mTLS endpoint aliased on a listener of its own (which also asks for
            // certificates at the top level): all five calls went to the wrong place.
            "malformed-authz" => {
                let failed: Vec<&str> = s.iter().filter(|(_, x)| **x == Status::Fail).map(|(id, _)| *id).collect();
                assert_eq!(
                    failed,
                    [
                        "client.alias.introspection",
                        "client.alias.par",
                        "client.alias.revocation",
                        "client.alias.token",
                        "client.alias.userinfo"
                    ],
                    "{shape}"
                );
            }
            // Aliases equal to the top level, or none: nothing to tell apart.
            _ => assert!(s.values().all(|x| matches!(x, Status::Pass | Status::Skip)), "{shape}: {s:?}"),
        }
    }
}

/// oauth4webapi as a private_key_jwt client (`oauth.PrivateKeyJwt`, the key from MTLS_JWT_KEY)
/// presenting its transport certificate: the Open Finance norm (RFC 7523 + RFC 8705 §3). Every
/// client check passes in every shape, the assertion checks among them, judged under FAPI 2.0's
/// client rules too (aud = the issuer as a string, EdDSA).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth4webapi_with_private_key_jwt_and_its_certificate_passes_in_every_shape() {
    ensure_node_peers();
    for (shape, profiles) in SHAPES.iter().flat_map(|s| [(*s, ""), (*s, "profiles: [fapi2-sp-mtls]\n")]) {
        let client = format!("{}  auth: private_key_jwt\n", oauth4webapi(true));
        let mut sc = scenario(shape, &client);
        if !profiles.is_empty() {
            sc.profiles = vec!["fapi2-sp-mtls".into()];
        }
        let r = run(&sc).await;
        let label = format!("oauth4webapi{} / {shape}", if profiles.is_empty() { "" } else { ", FAPI 2.0" });
        println!("{}", table_row(&label, &r));
        println!("{}", jwt_table_row(&label, &r));
        assert!(r.client.as_ref().unwrap().succeeded(), "{shape}: {:?}", r.client);
        for c in &r.checks {
            assert!(matches!(c.status, Status::Pass | Status::Skip), "{shape}: {} {}: {}", c.id, c.status.name(), c.reason);
        }
        let s = statuses(&r);
        for id in [
            "client.client-id",
            "client.cert.presented",
            "client.auth.assertion.signature",
            "client.auth.assertion.alg",
            "client.auth.assertion.claims",
            "client.auth.assertion.aud",
            "client.auth.assertion.lifetime",
            "client.auth.assertion.jti",
        ] {
            assert_eq!(s[id], Status::Pass, "{shape}: {id}");
        }
    }
}

/// openid-client 6 (`fixtures/peers/openid-client/client.mjs`: `client.discovery` with
/// `use_mtls_endpoint_aliases`, `TlsClientAuth()` or `PrivateKeyJwt`, the certificate on every
/// connection) for the steps it offers (token, introspect, resource, revoke), as tls_client_auth
/// and as private_key_jwt, in every shape: every check passes or skips, and a private_key_jwt
/// client's six assertion checks pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_with_aliases_passes_in_every_shape_with_either_method() {
    ensure_node_peers();
    for (auth, shape) in ["tls_client_auth", "private_key_jwt"].into_iter().flat_map(|a| SHAPES.map(|s| (a, s))) {
        let client = format!(
            "  command: [\"node\", \"fixtures/peers/openid-client/client.mjs\"]\n  use_aliases: true\n  timeout_ms: 30000\n  auth: {auth}\n  steps: [token, introspect, resource, revoke]\n"
        );
        let r = run(&scenario(shape, &client)).await;
        let label = format!("openid-client, {auth} / {shape}");
        println!("{}", table_row(&label, &r));
        assert!(r.client.as_ref().unwrap().succeeded(), "{label}: {:?}", r.client);
        for c in &r.checks {
            assert!(matches!(c.status, Status::Pass | Status::Skip), "{label}: {} {}: {}", c.id, c.status.name(), c.reason);
        }
        let s = statuses(&r);
        assert_eq!(s["client.client-id"], Status::Pass, "{label}");
        if auth == "private_key_jwt" {
            println!("{}", jwt_table_row(&label, &r));
            for id in mtls_harness::checks::CATALOGUE.iter().map(|c| c.id).filter(|id| id.starts_with("client.auth.assertion.")) {
                assert_eq!(s[id], Status::Pass, "{label}: {id}");
            }
        }
    }
}
