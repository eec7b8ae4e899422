//! Running scenarios: scenario → PKI → target → check graph → results → verdict. Scenarios run
//! concurrently; so do the checks of one scenario, each as soon as the checks it needs have
//! results (at most `max_concurrency` at once). They share its discovery and token, a check whose
//! prerequisite failed is `blocked`, and results are reported in catalogue order.

mod client;
mod graph;
mod mock_target;
mod scenario;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtls_client::http::Limits;
use mtls_client::live::TargetFile;
use mtls_core::catalogue as checks;
use mtls_core::pki::TestPki;
use mtls_core::redact::Secrets;
use mtls_core::results::{verdict, CheckResult, Configuration, RunReport, ScenarioResult, Status, SCHEMA_VERSION};
use mtls_core::scenario::Scenario;

pub use graph::settle_failed_client;
pub use mock_target::{start as start_mock_target, MockTarget, MockTargetError};
pub use scenario::{empty_result, judge_hand_run_client, judge_observed, planned_results, run_scenario};

/// How a run is bounded and which client command it runs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Connect and request timeouts, and the body size limit, of every exchange.
    pub limits: Limits,
    /// Upper bound for one check, whatever its requests do.
    pub check_timeout: Duration,
    /// Client mode: run this command instead of the scenario's (`--client-cmd`).
    pub client_cmd: Option<Vec<String>>,
    /// The whole run's deadline: a scenario still running then ends in an error.
    pub run_timeout: Duration,
    /// Profiles judged on every AS-mode scenario (`--profile`, a target file's `profile:`).
    pub profiles: Vec<String>,
    /// Every profile the run may name: built in, plus `--profiles-dir`.
    pub available_profiles: Arc<Vec<mtls_core::profile::Profile>>,
    /// `--max-concurrency`. Against a live target: at most this many requests in flight to one
    /// origin, whichever identity sends them (`None`: [`DEFAULT_MAX_CONCURRENCY`], or the target
    /// file's lower `max_concurrency`), while every check starts as soon as its needs are met.
    /// Against the embedded mock: at most this many checks of one scenario in flight (`None`: one
    /// at a time, [`MOCK_MAX_CONCURRENCY`]).
    pub max_concurrency: Option<usize>,
}

/// Requests in flight at once to one origin of a live target unless `--max-concurrency` says
/// otherwise: modest, for real sandboxes, and enough to overlap the round trips of independent
/// checks.
pub const DEFAULT_MAX_CONCURRENCY: usize = 6;

/// Checks of a live scenario in flight at once: every check whose needs are met (the catalogue
/// is smaller); the per-origin throttle bounds what the target sees.
pub(crate) const LIVE_CHECKS_AT_ONCE: usize = 64;

/// Checks in flight at once per scenario against the embedded mock unless `--max-concurrency`
/// says otherwise. Its scenarios already run concurrently on loopback, where the cores, not round
/// trips, are the limit: checks in flight together open more connections, and so more TLS
/// handshakes (the full suite measured 684–752 ms at 1, 820–896 ms at 6 on 2 cores).
pub const MOCK_MAX_CONCURRENCY: usize = 1;

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            limits: Limits::default(),
            check_timeout: Duration::from_secs(30),
            client_cmd: None,
            run_timeout: Duration::from_secs(600),
            profiles: Vec::new(),
            available_profiles: Arc::new(mtls_core::profile::builtin().unwrap_or_default()),
            max_concurrency: None,
        }
    }
}

/// Called once per finished check (for progress output).
pub type OnCheck = Arc<dyn Fn(&Scenario, &CheckResult) + Send + Sync>;

pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// What a run's scenarios are checked against.
#[derive(Clone)]
pub enum Source {
    /// A fresh embedded mock AS per scenario, all on one PKI.
    Mock(Arc<TestPki>),
    /// A live AS from a target file; `insecure` skips server certificate verification.
    Live {
        /// The target file.
        target: Arc<TargetFile>,
        /// `--insecure` was given.
        insecure: bool,
    },
}

impl Source {
    /// The shared mock source (the process-wide PKI).
    pub fn mock() -> Result<Source, mtls_core::pki::PkiError> {
        Ok(Source::Mock(TestPki::shared()?))
    }
}

/// `on_check` behind a scrubber: what it is shown has every secret of `secrets` scrubbed.
pub(crate) fn scrubbing(on_check: Option<&OnCheck>, secrets: &Secrets) -> Option<OnCheck> {
    on_check.map(|f| {
        let (f, secrets) = (f.clone(), secrets.clone());
        Arc::new(move |sc: &Scenario, c: &CheckResult| f(sc, &c.scrubbed(&secrets))) as OnCheck
    })
}

/// Run every scenario concurrently and assemble the report. The run has its own secret
/// registry: everything its scenarios send and receive is registered there, `on_check` sees
/// results scrubbed of it, and the report carries it for its formats to scrub.
pub async fn run_all(scenarios: &[Scenario], source: &Source, cfg: &RunConfig, on_check: Option<OnCheck>) -> RunReport {
    let secrets = Secrets::new();
    let on_check = scrubbing(on_check.as_ref(), &secrets);
    let started_at = now_rfc3339();
    let t0 = Instant::now();
    let deadline = tokio::time::Instant::now() + cfg.run_timeout;
    let mut tasks = Vec::new();
    for sc in scenarios {
        let sc = sc.clone();
        let source = source.clone();
        let cfg = cfg.clone();
        let on_check = on_check.clone();
        let secrets = secrets.clone();
        tasks.push(tokio::spawn(async move {
            let done = Mutex::new(Vec::new());
            let run = scenario::run_scenario_into(&sc, &source, &cfg, &secrets, on_check.as_ref(), &done);
            match tokio::time::timeout_at(deadline, run).await {
                Ok(r) => r,
                Err(_) => {
                    // Keep what was judged; say what was not.
                    let mut checks = std::mem::take(&mut *done.lock().unwrap_or_else(|p| p.into_inner()));
                    let plan = checks::plan(&sc.selected_checks(), sc.primary);
                    // Finished in whatever order; reported in catalogue order.
                    checks.sort_by_key(|c| plan.iter().position(|p| p.id == c.id).unwrap_or(usize::MAX));
                    let planned = plan.len();
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
        results
            .push(task.await.unwrap_or_else(|e| ScenarioResult { error: Some(format!("scenario task failed: {e}")), ..empty_result(sc) }));
    }
    assemble(results, started_at, t0, secrets)
}

/// The report of finished scenarios, with totals and verdict, carrying the run's `secrets`.
pub fn assemble(results: Vec<ScenarioResult>, started_at: String, t0: Instant, secrets: Secrets) -> RunReport {
    let totals = RunReport::totals(&results);
    let verdict = verdict(&results);
    let profiles = mtls_core::results::ProfileVerdict::over_run(&results);
    let report = RunReport {
        profiles,
        schema_version: SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION"),
        run_id: format!("{}-{}", started_at.replace([':', '-'], ""), std::process::id()),
        started_at,
        finished_at: now_rfc3339(),
        duration_ms: ms(t0.elapsed()),
        verdict,
        totals,
        configuration: Configuration::default(),
        scenarios: results,
        redaction: Default::default(),
        secrets,
    };
    report
}

/// The current time, RFC 3339 UTC (`unknown` if it cannot be formatted).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| "unknown".into())
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
    // Reasons quote what servers sent: one inert line of bounded length (the reports keep it
    // whole). `c` comes scrubbed ([`run_all`] shows `on_check` only scrubbed results).
    let reason = mtls_core::text::cap(&mtls_core::text::inert(&c.reason), 1_000);
    format!("{status:<16} {:<50} {reason}", mtls_core::text::inert(&format!("{sc}::{}", c.id)))
}
