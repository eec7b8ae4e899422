//! Running scenarios: scenario → PKI → target → check graph → results → verdict. Scenarios run
//! concurrently; the checks of one scenario run in catalogue order (every check after the checks
//! it needs), share its discovery and token, and a check whose prerequisite failed is `blocked`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::checks::{self, Ctx, Level, Outcome, Status};
use crate::http::Limits;
use crate::pki::TestPki;
use crate::report::{CheckResult, RunReport, ScenarioResult, TargetInfo, SCHEMA_VERSION};
use crate::scenario::{Mode, Scenario};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub limits: Limits,
    /// Upper bound for one check, whatever its requests do.
    pub check_timeout: Duration,
    /// Client mode: run this command instead of the scenario's (`--client-cmd`).
    pub client_cmd: Option<Vec<String>>,
    /// The whole run's deadline: a scenario still running then ends in an error.
    pub run_timeout: Duration,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            limits: Limits::default(),
            check_timeout: Duration::from_secs(30),
            client_cmd: None,
            run_timeout: Duration::from_secs(600),
        }
    }
}

/// Called once per finished check (for progress output).
pub type OnCheck = Arc<dyn Fn(&Scenario, &CheckResult) + Send + Sync>;

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// What a run's scenarios are checked against.
#[derive(Clone)]
pub enum Source {
    /// A fresh embedded mock AS per scenario, all on one PKI.
    Mock(Arc<TestPki>),
    /// A live AS from a target file; `insecure` skips server certificate verification.
    Live { target: Arc<crate::live::TargetFile>, insecure: bool },
}

impl Source {
    /// The shared mock source (the process-wide PKI).
    pub fn mock() -> Result<Source, crate::pki::PkiError> {
        Ok(Source::Mock(TestPki::shared()?))
    }
}

/// A scenario's result before anything ran.
pub fn empty_result(sc: &Scenario) -> ScenarioResult {
    ScenarioResult {
        id: sc.id.clone(),
        title: sc.title.clone(),
        file: sc.file.display().to_string(),
        self_test: sc.is_self_test(),
        defects: sc.mock.defects.clone(),
        expect_fail: sc.expect.fail.clone(),
        expect_warn: sc.expect.warn.clone(),
        target: None,
        error: None,
        client: None,
        duration_ms: 0.0,
        checks: Vec::new(),
    }
}

/// What a report says of the target a scenario ran against. In client mode the discovery
/// document comes from the mock's state, never over the network: a request of the harness's
/// own must not appear in the journal the client is judged by.
pub async fn target_info(sc: &Scenario, ctx: &Ctx) -> TargetInfo {
    let offline = match (&ctx.target.mock, sc.mode) {
        (Some(mock), Mode::Client) => crate::discovery::Metadata::from_json(mock.state.discovery()).ok().map(|m| m.resolve()),
        _ => None,
    };
    let resolution = match offline {
        Some(r) => Some(r),
        None if sc.mode == Mode::As => ctx.discovery().await.ok().map(|d| d.resolution.clone()),
        None => None,
    };
    TargetInfo {
        kind: ctx.target.kind,
        issuer: ctx.target.issuer.clone(),
        shape_declared: (!sc.live).then(|| sc.discovery.shape.name()),
        insecure: ctx.target.insecure,
        shape_observed: resolution.as_ref().map(|r| r.shape.name()),
        endpoints: resolution.map(|r| r.endpoints).unwrap_or_default(),
    }
}

/// Scenarios running at once in this process, across all runs: beyond what the cores can serve,
/// more concurrency only starves TLS handshakes into timeouts. Excess scenarios queue here (the
/// run's deadline still bounds the wait).
fn scenario_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        tokio::sync::Semaphore::new((cores * 8).clamp(8, 64))
    })
}

/// Run one scenario against its target.
pub async fn run_scenario(sc: &Scenario, source: &Source, cfg: &RunConfig, on_check: Option<&OnCheck>) -> ScenarioResult {
    run_scenario_into(sc, source, cfg, on_check, &Mutex::new(Vec::new())).await
}

/// [`run_scenario`], publishing each finished check into `done` as it finishes, so that a run
/// cut short by its deadline still reports what was judged.
async fn run_scenario_into(
    sc: &Scenario,
    source: &Source,
    cfg: &RunConfig,
    on_check: Option<&OnCheck>,
    done: &Mutex<Vec<CheckResult>>,
) -> ScenarioResult {
    let _slot = scenario_slots().acquire().await;
    let started = Instant::now();
    let mut result = empty_result(sc);
    let (built, cfg) = match source {
        Source::Mock(pki) => (Target::mock(&sc.mock_config(), pki, cfg.limits).await, cfg.clone()),
        Source::Live { .. } if sc.mode == Mode::Client => {
            result.error = Some("client mode runs against the embedded mock AS, not a live target".into());
            return result;
        }
        Source::Live { target, insecure } => {
            let cfg = RunConfig { limits: target.limits(), check_timeout: target.check_timeout(), client_cmd: None, run_timeout: cfg.run_timeout };
            (target.target(*insecure), cfg)
        }
    };
    let target = match built {
        Ok(t) => Arc::new(t),
        Err(e) => {
            result.error = Some(e.to_string());
            result.duration_ms = ms(started.elapsed());
            return result;
        }
    };
    let mut ctx = Ctx::new(target.clone());
    ctx.asked_steps = sc.client.as_ref().map(|c| c.steps.clone());
    if let (Some(cut), Source::Mock(pki)) = (&sc.client, source) {
        match run_client_under_test(sc, cut, &target, pki, &cfg).await {
            Ok(run) => ctx.client_run = Some(run),
            Err(e) => {
                result.error = Some(e);
                return result;
            }
        }
    }
    result.checks = run_checks_into(sc, &ctx, &cfg, on_check, done).await;
    result.client = ctx.client_run.clone();
    result.target = Some(target_info(sc, &ctx).await);
    result.duration_ms = ms(started.elapsed());
    result
}

/// Run a scenario's check graph on a prepared context: the selected checks and everything they
/// need, in catalogue order, each bounded by the check timeout. A check whose prerequisite
/// failed, errored or was blocked is `blocked` (naming it) without running; a broken SHOULD is
/// a `warn`. In client mode, a client that crashed, hung or failed has passed nothing: its
/// would-be passes become errors (its judged failures stay failures).
pub async fn run_checks(sc: &Scenario, ctx: &Ctx, cfg: &RunConfig, on_check: Option<&OnCheck>) -> Vec<CheckResult> {
    run_checks_into(sc, ctx, cfg, on_check, &Mutex::new(Vec::new())).await
}

async fn run_checks_into(
    sc: &Scenario,
    ctx: &Ctx,
    cfg: &RunConfig,
    on_check: Option<&OnCheck>,
    sink: &Mutex<Vec<CheckResult>>,
) -> Vec<CheckResult> {
    let mut done: HashMap<&str, (Status, String)> = HashMap::new();
    let failure = ctx.client_run.as_ref().and_then(|r| r.failure());
    // A failed client's results are settled only once all are known (see `settle_failed_client`).
    let mut held = Vec::new();
    for check in checks::plan(&sc.selected_checks()) {
        let t0 = Instant::now();
        let mut outcome = match checks::gate(check, &done) {
            Some(o) => o,
            None => match tokio::time::timeout(cfg.check_timeout, (check.run)(ctx)).await {
                Ok(o) => o,
                Err(_) => Outcome::error(format!("cannot judge: the check did not finish within {:?}", cfg.check_timeout)),
            },
        };
        let level = outcome.level.unwrap_or(check.level);
        if level == Level::Should && outcome.status == Status::Fail {
            outcome.status = Status::Warn;
            outcome.reason = format!("{} (a SHOULD-level requirement: reported as a warning)", outcome.reason);
        }
        done.insert(check.id, (outcome.status, outcome.reason.clone()));
        let cr = CheckResult {
            id: check.id,
            title: check.title,
            rfc: check.rfc,
            rfc_url: crate::report::rfc_url(check.rfc),
            level,
            status: outcome.status,
            reason: outcome.reason,
            expected_fail: sc.expects_fail(check.id),
            expected_warn: sc.expects_warn(check.id),
            expected_blocked: sc.expects_blocked(check.id),
            duration_ms: ms(t0.elapsed()),
            evidence: outcome.evidence,
            details: outcome.details,
        };
        if failure.is_some() {
            held.push(cr);
            continue;
        }
        if let Some(f) = on_check {
            f(sc, &cr);
        }
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(cr);
    }
    if let Some(f) = &failure {
        settle_failed_client(&mut held, f);
        for cr in held {
            if let Some(cb) = on_check {
                cb(sc, &cr);
            }
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(cr);
        }
    }
    std::mem::take(&mut *sink.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Client mode, the client under test failed (exit ≠ 0, crash, timeout): when a judged failure
/// explains that, the results stand as judged; when none does, the harness cannot tell what the
/// client would have done, and its would-be passes become errors.
fn settle_failed_client(results: &mut [CheckResult], failure: &str) {
    if results.iter().any(|c| c.status == Status::Fail) {
        return;
    }
    for c in results.iter_mut().filter(|c| c.status == Status::Pass) {
        c.status = Status::Error;
        c.reason = format!("cannot judge: {failure}, and no check explains why (had it completed: {})", c.reason);
    }
}

/// Write the PKI where a client command can read it, and run the client under test.
async fn run_client_under_test(
    sc: &Scenario,
    cut: &crate::client_mode::ClientUnderTest,
    target: &Target,
    pki: &TestPki,
    cfg: &RunConfig,
) -> Result<crate::client_mode::ClientRun, String> {
    let dir = tempfile::Builder::new().prefix("mtls-harness-client-").tempdir().map_err(|e| format!("temporary PKI directory: {e}"))?;
    pki.write_to(dir.path()).map_err(|e| e.to_string())?;
    let p = |f: &str| dir.path().join(f);
    let env = crate::reference_client::ClientEnv {
        issuer: target.issuer.clone(),
        client_id: target.clients.tls.clone(),
        cert: p("registered.pem"),
        key: p("registered.key"),
        ca: p("ca.pem"),
        resource: target.resource_url.clone(),
        redirect_uri: target.clients.redirect_uri.clone(),
        steps: cut.steps.clone(),
        use_aliases: cut.use_aliases,
        other_cert: Some((p("other-subject.pem"), p("other-subject.key"))),
    };
    let cwd = sc.file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    Ok(crate::client_mode::run_client(cut, &env, cwd, cfg.client_cmd.as_deref()).await)
}

/// Run every scenario concurrently and assemble the report.
pub async fn run_all(scenarios: &[Scenario], source: &Source, cfg: &RunConfig, on_check: Option<OnCheck>) -> RunReport {
    let started_at = now_rfc3339();
    let t0 = Instant::now();
    let deadline = tokio::time::Instant::now() + cfg.run_timeout;
    let mut tasks = Vec::new();
    for sc in scenarios.iter().cloned() {
        let source = source.clone();
        let cfg = cfg.clone();
        let on_check = on_check.clone();
        tasks.push(tokio::spawn(async move {
            let done = Mutex::new(Vec::new());
            let run = run_scenario_into(&sc, &source, &cfg, on_check.as_ref(), &done);
            match tokio::time::timeout_at(deadline, run).await {
                Ok(r) => r,
                Err(_) => {
                    // Keep what was judged; say what was not.
                    let checks = std::mem::take(&mut *done.lock().unwrap_or_else(|p| p.into_inner()));
                    let planned = checks::plan(&sc.selected_checks()).len();
                    ScenarioResult {
                        error: Some(format!(
                            "the run's deadline ({:?}) passed after {} of {planned} checks; the rest did not run",
                            cfg.run_timeout,
                            checks.len()
                        )),
                        checks,
                        ..empty_result(&sc)
                    }
                }
            }
        }));
    }
    let mut results = Vec::new();
    for (task, sc) in tasks.into_iter().zip(scenarios) {
        results.push(task.await.unwrap_or_else(|e| ScenarioResult {
            error: Some(format!("scenario task failed: {e}")),
            ..empty_result(sc)
        }));
    }
    assemble(results, started_at, t0)
}

/// The report of finished scenarios, with totals and verdict.
pub fn assemble(results: Vec<ScenarioResult>, started_at: String, t0: Instant) -> RunReport {
    let totals = RunReport::totals(&results);
    let verdict = crate::report::verdict(&results);
    let report = RunReport {
        schema_version: SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION"),
        run_id: format!("{}-{}", started_at.replace([':', '-'], ""), std::process::id()),
        started_at,
        finished_at: now_rfc3339(),
        duration_ms: ms(t0.elapsed()),
        verdict,
        totals,
        configuration: crate::report::Configuration::default(),
        scenarios: results,
    };
    report
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".into())
}

/// A one-line rendering of a check result for terminals and test output.
pub fn line(sc: &str, c: &CheckResult) -> String {
    let status = match (c.status, c.expected_fail) {
        (Status::Fail, true) => "fail (expected)".to_string(),
        (s, true) => format!("{} (expected fail!)", s.name()),
        (Status::Blocked, false) if c.expected_blocked => "blocked (expected)".to_string(),
        (s, false) if c.expected_blocked => format!("{} (expected blocked!)", s.name()),
        (Status::Warn, false) if c.expected_warn => "warn (expected)".to_string(),
        (s, false) if c.expected_warn => format!("{} (expected warn!)", s.name()),
        (s, false) => s.name().to_string(),
    };
    crate::redact::scrub(&format!("{status:<16} {:<50} {}", format!("{sc}::{}", c.id), c.reason))
}
