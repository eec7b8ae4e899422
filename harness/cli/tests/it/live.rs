//! Live targets: a target file pointing at a running AS. The embedded mock, served on real
//! sockets with its PKI on disk, is a live AS like any other here; then the faults a live
//! target can have (unreachable, wrong CA bundle, non-JSON discovery, a token endpoint that
//! hangs) each end in `error` results and exit code 2 within the configured timeouts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtls_harness::checks::Status;
use mtls_harness::discovery::Shape;
use mtls_harness::live::TargetFile;
use mtls_harness::mock::{MockAs, MockConfig, PUBLIC_CLIENT_ID, SECRET_CLIENT_ID, SELF_SIGNED_CLIENT_ID, TLS_CLIENT_ID};
use mtls_harness::pki::TestPki;
use mtls_harness::run::{run_scenario, RunConfig, Source};
use mtls_harness::scenario::JWT_CLIENT_ID;
use serde_json::Value;

use crate::common::edge;

fn target_yaml(issuer: &str, resource: &str, secret_env: &str, ca_bundle: &str, extra: &str) -> String {
    format!(
        "id: mock-as-live\nissuer: {issuer}\nca_bundle: {ca_bundle}\nresource: {resource}\nclients:\n  tls_client_auth: {{ client_id: {TLS_CLIENT_ID}, cert: registered.pem, key: registered.key }}\n  self_signed: {{ client_id: {SELF_SIGNED_CLIENT_ID}, cert: self-signed.pem, key: self-signed.key }}\n  secret: {{ client_id: {SECRET_CLIENT_ID}, secret_env: {secret_env} }}\n  public: {{ client_id: {PUBLIC_CLIENT_ID} }}\n  private_key_jwt: {{ client_id: {JWT_CLIENT_ID}, signing_key: jwt-client.key, alg: EdDSA, kid: tpp-jwt-001-eddsa }}\nclient_ca: {{ cert: ca.pem, key: ca.key }}\n{extra}"
    )
}

/// A mock AS on its own PKI written to `dir`, and a target file for it.
async fn served_mock(dir: &Path, shape: Shape, ca_bundle: &str, extra: &str) -> (MockAs, PathBuf) {
    let pki = TestPki::generate().unwrap();
    pki.write_to(dir).unwrap();
    let mock = MockAs::start(&MockConfig::new(shape), &pki, Default::default()).await.unwrap();
    let secret = mock.state.clients.iter().find(|c| c.client_id == SECRET_CLIENT_ID).unwrap().secret.clone().unwrap();
    let var = format!("MTLS_TEST_SECRET_{}", dir.file_name().unwrap().to_string_lossy().replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    std::env::set_var(&var, secret);
    let file = dir.join("target.yaml");
    std::fs::write(&file, target_yaml(&mock.issuer, &mock.resource_url, &var, ca_bundle, extra)).unwrap();
    (mock, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_catalogue_passes_against_a_conformant_as_reached_as_a_live_target() {
    for shape in [Shape::Identical, Shape::Split, Shape::Partial, Shape::Missing] {
        let tmp = tempfile::tempdir().unwrap();
        let (_mock, file) = served_mock(tmp.path(), shape, "ca.pem", "").await;
        let tf = Arc::new(TargetFile::load(&file).unwrap());
        let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
        assert!(r.error.is_none(), "{:?}", r.error);
        let t = r.target.as_ref().unwrap();
        assert_eq!((t.shape_declared, t.shape_observed), (None, Some(shape.name())), "the live discovery decides the shape");
        for c in &r.checks {
            let ok = c.status == Status::Pass
                || (shape == Shape::Missing && c.id == "disc.aliases.keys" && c.status == Status::Skip)
                || (c.id == "tls.cert-request.forbidden" && c.status == Status::Skip)
                || (c.id == "tls.ciphers.required" && c.status == Status::Skip)
                || (mtls_harness::checks::profile_only::PROFILE_ONLY.contains(&c.id) && c.status == Status::Skip);
            assert!(ok, "{}: {} {}: {}", shape.name(), c.id, c.status.name(), c.reason);
        }
        assert_eq!(r.checks.len(), mtls_harness::checks::CATALOGUE.iter().filter(|c| c.mode == mtls_harness::scenario::Mode::As).count());
    }
}

#[test]
fn the_example_target_file_parses() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/targets/example.yaml");
    let tf = TargetFile::load(&f).unwrap();
    assert_eq!(tf.id, "example-sandbox");
    assert_eq!(tf.clients.secret.as_ref().unwrap().secret_env, "SANDBOX_CLIENT_SECRET");
    // Its certificate files do not exist here: building the target names the missing file.
    let err = mtls_harness::error_chain(&tf.parts(false, &Default::default()).err().unwrap());
    assert!(err.contains("sandbox-ca-bundle.pem"), "{err}");
}

#[test]
fn target_file_errors_name_the_file_and_what_to_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let base = target_yaml("https://127.0.0.1:9", "https://127.0.0.1:9/r", "MTLS_TEST_UNSET_VARIABLE_XYZ", "ca.pem", "");
    let write = |name: &str, body: &str| {
        let f = tmp.path().join(name);
        std::fs::write(&f, body).unwrap();
        f
    };
    let err = |f: &Path| match TargetFile::load(f) {
        Err(e) => e.to_string(),
        Ok(t) => t.parts(false, &Default::default()).err().map(|e| mtls_harness::error_chain(&e)).unwrap_or_else(|| "no error".into()),
    };
    let f = write("unknown.yaml", &format!("{base}colour: blue\n"));
    assert!(err(&f).contains("unknown.yaml:") && err(&f).contains("unknown field `colour`"), "{}", err(&f));
    let f = write("secret.yaml", &base);
    assert!(err(&f).contains("MTLS_TEST_UNSET_VARIABLE_XYZ") && err(&f).contains("not set"), "{}", err(&f));
    let f = write("nocert.yaml", &base.replace("cert: registered.pem", "cert: nowhere.pem"));
    assert!(err(&f).contains("nowhere.pem"), "{}", err(&f));
    let f = write("wrongkey.yaml", &base.replace("key: registered.key", "key: other-subject.key"));
    assert!(err(&f).contains("does not belong"), "{}", err(&f));
    let f = write("nobundle.yaml", &base.replace("ca_bundle: ca.pem", "ca_bundle: registered.key"));
    assert!(err(&f).contains("holds no CERTIFICATE") || err(&f).contains("not a PEM bundle"), "{}", err(&f));
    let f = write("http.yaml", &base.replace("issuer: https://", "issuer: http://"));
    assert!(err(&f).contains("must use https"), "{}", err(&f));
}

/// Run the CLI against a target file; return exit code, elapsed time and the report.
fn cli_run(file: &Path, report_dir: &Path) -> (Option<i32>, Duration, Value, String) {
    cli_run_with(file, report_dir, &[])
}

fn cli_run_with(file: &Path, report_dir: &Path, extra: &[&str]) -> (Option<i32>, Duration, Value, String) {
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .args(["run", "--target"])
        .arg(file)
        .arg("--report-dir")
        .arg(report_dir)
        .args(extra)
        .output()
        .unwrap();
    let elapsed = t0.elapsed();
    let report = std::fs::read(report_dir.join("report.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    (out.status.code(), elapsed, report, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["scenarios"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id} in report"))
}

fn statuses(report: &Value) -> Vec<String> {
    report["scenarios"][0]["checks"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap().to_string()).collect()
}

const FAST: &str = "timeouts: { connect_ms: 500, request_ms: 700, check_ms: 3000 }\n";

#[test]
fn unreachable_issuer_is_an_error_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    std::env::set_var("MTLS_TEST_SECRET_UNREACHABLE", "not-a-real-secret-x");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let f = tmp.path().join("t.yaml");
    std::fs::write(&f, target_yaml("https://127.0.0.1:9", "https://127.0.0.1:9/r", "MTLS_TEST_SECRET_UNREACHABLE", "ca.pem", FAST))
        .unwrap();
    let (code, elapsed, report, _) = cli_run(&f, &tmp.path().join("out"));
    assert_eq!(code, Some(2));
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    let fetch = check(&report, "disc.fetch");
    assert_eq!(fetch["status"], "error");
    assert!(fetch["reason"].as_str().unwrap().contains("connection failed"), "{}", fetch["reason"]);
    // Nothing can be judged without the AS: no check may pass, and none may blame the AS;
    // everything after discovery is blocked by it.
    // (The FAPI behaviour checks no profile asks for skip before any request.)
    for c in report["scenarios"][0]["checks"].as_array().unwrap() {
        let (id, s) = (c["id"].as_str().unwrap(), c["status"].as_str().unwrap());
        let unasked = mtls_harness::checks::profile_only::PROFILE_ONLY.contains(&id) && s == "skip";
        assert!(s == "error" || s == "blocked" || unasked, "{id}: {s} against an unreachable AS");
    }
    assert_eq!(report["verdict"], "error");
}

#[test]
fn wrong_ca_bundle_is_a_tls_error_never_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_mock, f) = rt.block_on(served_mock(tmp.path(), Shape::Identical, "rogue-ca.pem", FAST));
    let (code, _, report, _) = cli_run(&f, &tmp.path().join("out"));
    assert_eq!(code, Some(2));
    let fetch = check(&report, "disc.fetch");
    assert_eq!(fetch["status"], "error");
    assert!(fetch["reason"].as_str().unwrap().contains("TLS failure"), "{}", fetch["reason"]);
    // Nothing that needs the AS can pass: every such check is an error (or a skip for lack of discovery).
    for c in report["scenarios"][0]["checks"].as_array().unwrap() {
        assert_ne!(c["status"], "pass", "{} passed against an unverifiable server", c["id"]);
    }
}

#[test]
fn non_json_discovery_is_an_error_and_exit_2() {
    use wiremock::{matchers::path, Mock, ResponseTemplate};
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
    rt.block_on(
        Mock::given(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_raw("<html><body>Sign in</body></html>", "text/html"))
            .mount(&wm),
    );
    std::env::set_var("MTLS_TEST_SECRET_HTML", "not-a-real-secret-x");
    let f = tmp.path().join("t.yaml");
    std::fs::write(&f, target_yaml(&base, &format!("{base}/r"), "MTLS_TEST_SECRET_HTML", "ca.pem", FAST)).unwrap();
    let (code, _, report, _) = cli_run(&f, &tmp.path().join("out"));
    assert_eq!(code, Some(2));
    let fetch = check(&report, "disc.fetch");
    assert_eq!(fetch["status"], "error");
    assert!(fetch["reason"].as_str().unwrap().contains("not JSON (text/html"), "{}", fetch["reason"]);
    assert!(statuses(&report).iter().all(|s| s != "pass"), "{:?}", statuses(&report));
}

/// A wiremock AS behind the TLS edge whose discovery names its `/token` endpoint, the given
/// authentication methods and bound tokens; the test mounts what `/token` does.
async fn token_endpoint_as(pki: &TestPki, methods: &[&str]) -> (wiremock::MockServer, mtls_harness::mock::terminator::Listener, String) {
    use wiremock::{matchers::path, Mock, ResponseTemplate};
    let (wm, l, base) = edge(pki, "127.0.0.1").await;
    let doc = serde_json::json!({
        "issuer": base, "token_endpoint": format!("{base}/token"),
        "token_endpoint_auth_methods_supported": methods,
        "tls_client_certificate_bound_access_tokens": true,
    });
    Mock::given(path("/.well-known/openid-configuration")).respond_with(ResponseTemplate::new(200).set_body_json(doc)).mount(&wm).await;
    (wm, l, base)
}

/// An AS whose discovery is fine and whose token endpoint never answers (its PKI written to
/// `dir`); stopped when dropped.
struct HangingTokenEndpoint {
    base: String,
    _server: (wiremock::MockServer, mtls_harness::mock::terminator::Listener),
    _rt: tokio::runtime::Runtime,
}

impl HangingTokenEndpoint {
    fn start(dir: &Path) -> HangingTokenEndpoint {
        use wiremock::{matchers::path, Mock, ResponseTemplate};
        let pki = TestPki::generate().unwrap();
        pki.write_to(dir).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (wm, l, base) = rt.block_on(token_endpoint_as(&pki, &["tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt"]));
        rt.block_on(Mock::given(path("/token")).respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(120))).mount(&wm));
        HangingTokenEndpoint { base, _server: (wm, l), _rt: rt }
    }
}

/// A token endpoint that rate-limits its first request (429, `Retry-After: 1`) and then answers:
/// by default the check is an `error` quoting the header, never a refusal; with
/// `--retry-rate-limited 2` the harness waits the second and sends again, the check is judged on
/// the answer, and its evidence says it was sent twice.
#[test]
fn a_rate_limited_request_is_an_error_quoting_retry_after_or_with_retry_rate_limited_is_sent_again() {
    use wiremock::{matchers::path, Mock, ResponseTemplate};
    let rt = tokio::runtime::Runtime::new().unwrap();
    for retries in [None, Some("2")] {
        let tmp = tempfile::tempdir().unwrap();
        let pki = TestPki::generate().unwrap();
        pki.write_to(tmp.path()).unwrap();
        let (wm, _l, base) = rt.block_on(token_endpoint_as(&pki, &["tls_client_auth"]));
        rt.block_on(async {
            Mock::given(path("/token"))
                .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&wm)
                .await;
            Mock::given(path("/token"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(serde_json::json!({"access_token": "opaque-token-0123456789", "token_type": "Bearer"})),
                )
                .with_priority(2)
                .mount(&wm)
                .await;
        });
        std::env::set_var("MTLS_TEST_SECRET_RATE", "not-a-real-secret-x");
        let f = tmp.path().join("t.yaml");
        let body = target_yaml(&base, &format!("{base}/r"), "MTLS_TEST_SECRET_RATE", "ca.pem", "checks: [auth.pki.accept]\n");
        std::fs::write(&f, body).unwrap();
        let extra: Vec<&str> = retries.map(|n| vec!["--retry-rate-limited", n]).unwrap_or_default();
        let (code, elapsed, report, _) = cli_run_with(&f, &tmp.path().join("out"), &extra);
        let accept = check(&report, "auth.pki.accept");
        let request = accept["evidence"][0]["request"].as_str().unwrap_or_default().to_string();
        match retries {
            None => {
                assert_eq!(code, Some(2), "{accept}");
                assert_eq!(accept["status"], "error", "{accept}");
                assert!(accept["reason"].as_str().unwrap().contains("rate limited; Retry-After: 1"), "{}", accept["reason"]);
                assert!(!request.contains("sent 2 times"), "{request}");
            }
            Some(_) => {
                assert_eq!(accept["status"], "pass", "{accept}");
                assert_eq!(code, Some(0), "{accept}");
                assert!(request.contains("(sent 2 times: 429, waited 1 s)"), "{request}");
                assert!(elapsed >= Duration::from_secs(1), "it waited what Retry-After asked: {elapsed:?}");
            }
        }
    }
}

#[test]
fn a_token_endpoint_that_hangs_ends_in_errors_within_the_timeouts() {
    let tmp = tempfile::tempdir().unwrap();
    let hang = HangingTokenEndpoint::start(tmp.path());
    let base = hang.base.clone();
    std::env::set_var("MTLS_TEST_SECRET_HANG", "not-a-real-secret-x");
    let f = tmp.path().join("t.yaml");
    std::fs::write(&f, target_yaml(&base, &format!("{base}/r"), "MTLS_TEST_SECRET_HANG", "ca.pem", FAST)).unwrap();
    let (code, elapsed, report, _) = cli_run(&f, &tmp.path().join("out"));
    assert_eq!(
        code,
        Some(2),
        "{:?}",
        report["scenarios"][0]["checks"]
            .as_array()
            .map(|a| a.iter().map(|c| (c["id"].to_string(), c["status"].to_string(), c["reason"].to_string())).collect::<Vec<_>>())
    );
    // Each token request gives up after request_ms; the whole run is bounded.
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    let accept = check(&report, "auth.pki.accept");
    assert_eq!(accept["status"], "error");
    assert!(accept["reason"].as_str().unwrap().contains("timed out"), "{}", accept["reason"]);
    assert_eq!(check(&report, "auth.pki.no-cert")["status"], "blocked", "a refusal without its positive control is blocked");
    assert_eq!(check(&report, "disc.fetch")["status"], "pass", "discovery itself was fine");
}

#[test]
fn insecure_is_explicit_warned_about_and_recorded_in_every_report() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The CA bundle does not vouch for the server: only --insecure lets the run reach it.
    let (_mock, f) = rt.block_on(served_mock(tmp.path(), Shape::Identical, "rogue-ca.pem", FAST));
    let out_dir = tmp.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .args(["run", "--insecure", "--target"])
        .arg(&f)
        .arg("--report-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: --insecure"), "{stderr}");
    let report: Value = serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["configuration"]["insecure"], true);
    assert_eq!(report["scenarios"][0]["target"]["insecure"], true);
    assert_eq!(check(&report, "disc.fetch")["status"], "pass", "verification off: the server is reached");
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains(r#"id="insecure-warning""#) && html.contains("OFF (--insecure)"));
    assert!(std::fs::read_to_string(out_dir.join("summary.md")).unwrap().contains("verification was switched off"));
    // Without a target there is nothing to be insecure about: the option is refused.
    let refused =
        Command::new(env!("CARGO_BIN_EXE_mtls-harness")).env_remove("MTLS_HARNESS_TARGET").args(["run", "--insecure"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
}

/// The run's deadline cuts a scenario short: the checks judged before it stay in the report
/// (with the scenario's error saying how far it got), the verdict is `error`, exit 2.
#[test]
fn a_run_deadline_keeps_the_checks_that_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let hang = HangingTokenEndpoint::start(tmp.path());
    let base = hang.base.clone();
    std::env::set_var("MTLS_TEST_SECRET_DEADLINE", "not-a-real-secret-x");
    let f = tmp.path().join("t.yaml");
    let slow = "timeouts: { connect_ms: 500, request_ms: 60000, check_ms: 60000 }\n";
    std::fs::write(&f, target_yaml(&base, &format!("{base}/r"), "MTLS_TEST_SECRET_DEADLINE", "ca.pem", slow)).unwrap();
    let out_dir = tmp.path().join("out");
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .args(["run", "--run-timeout", "2", "--target"])
        .arg(&f)
        .arg("--report-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(15), "bounded by the deadline: {:?}", t0.elapsed());
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
    let sc = &report["scenarios"][0];
    let error = sc["error"].as_str().unwrap();
    assert!(error.contains("deadline") && error.contains("the rest did not run"), "{error}");
    let judged: Vec<&str> = sc["checks"].as_array().unwrap().iter().filter_map(|c| c["id"].as_str()).collect();
    for id in ["disc.fetch", "disc.aliases.object", "disc.bound-flag", "endpoints.resolve"] {
        assert!(judged.contains(&id), "{id} was judged before the deadline and is kept: {judged:?}");
    }
    assert_eq!(check(&report, "disc.fetch")["status"], "pass");
    assert_eq!(report["verdict"], "error");
}
