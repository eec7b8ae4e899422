//! Running scenarios: scenario → PKI → target → checks → results. Scenarios run concurrently;
//! the checks of one scenario run in catalogue order and share its discovery and token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checks::{self, Ctx, Outcome, Status};
use crate::http::Limits;
use crate::pki::TestPki;
use crate::report::{CheckResult, RunReport, ScenarioResult, TargetInfo, SCHEMA_VERSION};
use crate::scenario::Scenario;
use crate::target::Target;

#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    pub limits: Limits,
    /// Upper bound for one check, whatever its requests do.
    pub check_timeout: Duration,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig { limits: Limits::default(), check_timeout: Duration::from_secs(30) }
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

/// Run one scenario against its target.
pub async fn run_scenario(sc: &Scenario, source: &Source, cfg: &RunConfig, on_check: Option<&OnCheck>) -> ScenarioResult {
    let started = Instant::now();
    let mut result = ScenarioResult {
        id: sc.id.clone(),
        title: sc.title.clone(),
        file: sc.file.display().to_string(),
        self_test: sc.is_self_test(),
        defects: sc.mock.defects.clone(),
        expect_fail: sc.expect.fail.clone(),
        expect_warn: sc.expect.warn.clone(),
        target: None,
        error: None,
        duration_ms: 0.0,
        checks: Vec::new(),
    };
    let (built, cfg) = match source {
        Source::Mock(pki) => (Target::mock(&sc.mock_config(), pki, cfg.limits).await, *cfg),
        Source::Live { target, insecure } => {
            let cfg = RunConfig { limits: target.limits(), check_timeout: target.check_timeout() };
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
    let ctx = Ctx::new(target.clone());
    for id in sc.selected_checks() {
        let Some(check) = checks::find(id) else { continue };
        let t0 = Instant::now();
        let outcome = match tokio::time::timeout(cfg.check_timeout, (check.run)(&ctx)).await {
            Ok(o) => o,
            Err(_) => Outcome::error(format!("cannot judge: the check did not finish within {:?}", cfg.check_timeout)),
        };
        let cr = CheckResult {
            id: check.id,
            title: check.title,
            rfc: check.rfc,
            level: check.level,
            status: outcome.status,
            reason: outcome.reason,
            expected_fail: sc.expects_fail(check.id),
            expected_warn: sc.expects_warn(check.id),
            duration_ms: ms(t0.elapsed()),
            evidence: outcome.evidence,
            details: outcome.details,
        };
        if let Some(f) = on_check {
            f(sc, &cr);
        }
        result.checks.push(cr);
    }
    let observed = ctx.discovery().await.ok();
    result.target = Some(TargetInfo {
        kind: target.kind,
        issuer: target.issuer.clone(),
        shape_declared: (!sc.live).then(|| sc.discovery.shape.name()),
        insecure: target.insecure,
        shape_observed: observed.map(|d| d.resolution.shape.name()),
        endpoints: observed.map(|d| d.resolution.endpoints.clone()).unwrap_or_default(),
    });
    result.duration_ms = ms(started.elapsed());
    result
}

/// Run every scenario concurrently and assemble the report.
pub async fn run_all(scenarios: &[Scenario], source: &Source, cfg: &RunConfig, on_check: Option<OnCheck>) -> RunReport {
    let started_at = now_rfc3339();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for sc in scenarios.iter().cloned() {
        let source = source.clone();
        let cfg = *cfg;
        let on_check = on_check.clone();
        tasks.push(tokio::spawn(async move { run_scenario(&sc, &source, &cfg, on_check.as_ref()).await }));
    }
    let mut results = Vec::new();
    for (task, sc) in tasks.into_iter().zip(scenarios) {
        results.push(task.await.unwrap_or_else(|e| ScenarioResult {
            id: sc.id.clone(),
            title: sc.title.clone(),
            file: sc.file.display().to_string(),
            self_test: sc.is_self_test(),
            defects: sc.mock.defects.clone(),
            expect_fail: sc.expect.fail.clone(),
            expect_warn: sc.expect.warn.clone(),
            target: None,
            error: Some(format!("scenario task failed: {e}")),
            duration_ms: 0.0,
            checks: Vec::new(),
        }));
    }
    let totals = RunReport::totals(&results);
    let mut report = RunReport {
        schema_version: SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION"),
        run_id: format!("{}-{}", started_at.replace([':', '-'], ""), std::process::id()),
        started_at,
        finished_at: now_rfc3339(),
        duration_ms: ms(t0.elapsed()),
        verdict: "pass",
        totals,
        scenarios: results,
    };
    report.verdict = RunReport::verdict_for(report.exit_code());
    report
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".into())
}

/// A one-line rendering of a check result for terminals and test output.
pub fn line(sc: &str, c: &CheckResult) -> String {
    let status = match (c.status, c.expected_fail) {
        (Status::Fail, true) => "fail (expected)".to_string(),
        (s, true) => format!("{} (expected fail!)", s.name()),
        (Status::Warn, false) if c.expected_warn => "warn (expected)".to_string(),
        (s, false) if c.expected_warn => format!("{} (expected warn!)", s.name()),
        (s, false) => s.name().to_string(),
    };
    format!("{status:<16} {:<50} {}", format!("{sc}::{}", c.id), c.reason)
}
