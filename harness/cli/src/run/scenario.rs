//! One scenario: stand up its target (the embedded mock, or a live AS from a target file), run
//! the client under test in client mode, run the check graph, describe the target.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mtls_client::checks::Ctx;
use mtls_client::target::Target;
use mtls_core::discovery::Metadata;
use mtls_core::profile::Profile;
use mtls_core::redact::Secrets;
use mtls_core::results::{rfc_url, CheckResult, Level, ProfileVerdict, ScenarioResult, Status, TargetInfo};
use mtls_core::scenario::{Mode, Scenario};
use mtls_mock::MockAs;

use super::graph::{run_graph, Runner};
use super::{client, mock_target, ms, OnCheck, RunConfig, Source};

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
        profiles: Vec::new(),
    }
}

/// The profiles judged on `sc`: the run's, then the scenario's own; none for client mode. A
/// self-test judges only the profiles it names itself: its planted defects are not a verdict on
/// any profile.
fn profiles_of(sc: &Scenario, cfg: &RunConfig) -> Result<Vec<Profile>, String> {
    if sc.mode != Mode::As {
        return Ok(Vec::new());
    }
    let run_wide: &[String] = if sc.is_self_test() { &[] } else { &cfg.profiles };
    let mut names: Vec<&String> = run_wide.iter().collect();
    names.extend(sc.profiles.iter().filter(|n| !run_wide.contains(n)));
    mtls_core::profile::pick(&cfg.available_profiles, &names).map_err(|e| e.to_string())
}

/// How many results a run of `sc` reports: the planned checks (the selected ones, those its
/// profiles need, and what they need in turn) and one row per rule of its profiles.
pub fn planned_results(sc: &Scenario, cfg: &RunConfig) -> usize {
    let profiles = profiles_of(sc, cfg).unwrap_or_default();
    let mut selected = sc.selected_checks();
    for extra in mtls_client::profile::needed_checks(&profiles, sc.primary) {
        if !selected.contains(&extra) {
            selected.push(extra);
        }
    }
    let rules: usize = profiles.iter().map(|p| p.required.len() + p.rules.len()).sum();
    mtls_core::catalogue::plan(&selected, sc.primary).len() + rules
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

/// Run one scenario against its target, with a secret registry of its own (`on_check` sees
/// scrubbed results).
pub async fn run_scenario(sc: &Scenario, source: &Source, cfg: &RunConfig, on_check: Option<&OnCheck>) -> ScenarioResult {
    let secrets = Secrets::new();
    let on_check = super::scrubbing(on_check, &secrets);
    run_scenario_into(sc, source, cfg, &secrets, on_check.as_ref(), &Mutex::new(Vec::new())).await
}

/// [`run_scenario`], publishing each finished check into `done` as it finishes, so that a run
/// cut short by its deadline still reports what was judged.
pub(crate) async fn run_scenario_into(
    sc: &Scenario,
    source: &Source,
    cfg: &RunConfig,
    secrets: &Secrets,
    on_check: Option<&OnCheck>,
    done: &Mutex<Vec<CheckResult>>,
) -> ScenarioResult {
    let _slot = scenario_slots().acquire().await;
    let started = Instant::now();
    let mut result = empty_result(sc);
    let outcome = match source {
        Source::Mock(pki) => match client::mock_config(sc, &cfg.available_profiles) {
            Err(e) => Err(e),
            Ok(mock_cfg) => match mock_target::start(&mock_cfg, sc.primary, pki, cfg.limits, secrets).await {
                Ok(mt) => {
                    let target = Arc::new(mt.target);
                    match sc.mode {
                        Mode::As => Ok(run_as(sc, target, cfg, on_check, done).await),
                        Mode::Client => run_client_mode(sc, &mt.mock, target, pki, cfg, on_check, done).await,
                    }
                }
                Err(e) => Err(mtls_core::error_chain(&e)),
            },
        },
        Source::Live { .. } if sc.mode == Mode::Client => Err("client mode runs against the embedded mock AS, not a live target".into()),
        Source::Live { target, insecure } => {
            let (cfg, per_origin) = live_config(cfg, target);
            let built = target.parts(*insecure, secrets).and_then(|mut parts| {
                parts.max_in_flight = Some(per_origin);
                parts.limits = cfg.limits;
                Target::build(parts)
            });
            match built {
                Ok(t) => Ok(run_as(sc, Arc::new(t), &cfg, on_check, done).await),
                Err(e) => Err(mtls_core::error_chain(&e)),
            }
        }
    };
    match outcome {
        Ok(r) => result = r,
        Err(e) => result.error = Some(e),
    }
    result.duration_ms = ms(started.elapsed());
    result
}

/// The run's configuration as it applies to a live target file, and the per-origin bound of
/// its requests: `--max-concurrency` (default [`super::DEFAULT_MAX_CONCURRENCY`]) or the target
/// file's `max_concurrency`, whichever is lower. Every check starts once its needs are met
/// ([`super::LIVE_CHECKS_AT_ONCE`]): the per-origin bound is what the target sees. Timeouts are
/// the target file's; retries of rate-limited requests the run's.
pub(crate) fn live_config(cfg: &RunConfig, target: &mtls_client::live::TargetFile) -> (RunConfig, usize) {
    let run_wide = cfg.max_concurrency.unwrap_or(super::DEFAULT_MAX_CONCURRENCY);
    let per_origin = target.max_concurrency.map_or(run_wide, |n| n.min(run_wide));
    let live = RunConfig {
        limits: target.limits().retrying(cfg.limits.retry_rate_limited),
        check_timeout: target.check_timeout(),
        client_cmd: None,
        run_timeout: cfg.run_timeout,
        profiles: cfg.profiles.clone(),
        available_profiles: cfg.available_profiles.clone(),
        max_concurrency: Some(super::LIVE_CHECKS_AT_ONCE),
    };
    (live, per_origin)
}

/// AS mode: the check graph against the target, then the selected profiles' rules, then what
/// the report says of it.
async fn run_as(
    sc: &Scenario,
    target: Arc<Target>,
    cfg: &RunConfig,
    on_check: Option<&OnCheck>,
    done: &Mutex<Vec<CheckResult>>,
) -> ScenarioResult {
    let profiles = match profiles_of(sc, cfg) {
        Ok(p) => p,
        Err(e) => return ScenarioResult { error: Some(e), ..empty_result(sc) },
    };
    let ctx = Ctx::new(target.clone()).with_profiles(&profiles).with_named_checks(&sc.checks);
    let runner: &Runner<'_> = &|id: &str| mtls_client::checks::implementation(id).map(|f| f(&ctx));
    let checks = run_graph(sc, cfg, on_check, done, None, &profiles, runner).await;
    // Back into the sink while the rules are judged: a run cut short by its deadline keeps them.
    done.lock().unwrap_or_else(|p| p.into_inner()).extend(checks.iter().cloned());
    let today = time::OffsetDateTime::now_utc().date();
    for row in mtls_client::profile::judge(&ctx, &profiles, &checks, today, cfg.check_timeout).await {
        let t0 = Instant::now();
        let mut outcome = row.outcome;
        if row.level == Level::Should && outcome.status == Status::Fail {
            outcome.status = Status::Warn;
        }
        let cr = CheckResult {
            id: row.id,
            title: row.title,
            rfc: row.citation,
            rfc_url: rfc_url(row.citation),
            level: row.level,
            status: outcome.status,
            reason: outcome.reason,
            expected_fail: sc.expects_fail(row.id),
            expected_warn: sc.expects_warn(row.id),
            expected_blocked: sc.expects_blocked(row.id),
            duration_ms: ms(t0.elapsed()),
            evidence: outcome.evidence,
            details: outcome.details,
            check_file: None,
        };
        super::graph::publish(sc, cr, on_check, done);
    }
    let checks = std::mem::take(&mut *done.lock().unwrap_or_else(|p| p.into_inner()));
    // A planted defect is no verdict on a profile: a self-test judges its profiles' rules and
    // levels, and names the rows it expects to fail, but reports no profile verdict.
    let verdicts = if sc.is_self_test() {
        Vec::new()
    } else {
        profiles.iter().map(|p| ProfileVerdict::of(&p.id.0, &p.title, &p.version, &checks)).collect()
    };
    let resolution = ctx.discovery().await.ok().map(|d| d.resolution.clone());
    ScenarioResult { checks, profiles: verdicts, target: Some(target_info(sc, &target, resolution)), ..empty_result(sc) }
}

/// Client mode: run the client under test, then judge the mock's journal.
#[allow(clippy::too_many_arguments)]
async fn run_client_mode(
    sc: &Scenario,
    mock: &MockAs,
    target: Arc<Target>,
    pki: &mtls_core::pki::TestPki,
    cfg: &RunConfig,
    on_check: Option<&OnCheck>,
    done: &Mutex<Vec<CheckResult>>,
) -> Result<ScenarioResult, String> {
    // The profiles a client-mode scenario names judge its client's assertions (FAPI 2.0: issuer-only aud, no RS256).
    let names: Vec<&String> = sc.profiles.iter().collect();
    let profiles = mtls_core::profile::pick(&cfg.available_profiles, &names).map_err(|e| e.to_string())?;
    let unix_now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let started = unix_now();
    let client_run = match &sc.client {
        Some(cut) => Some(client::run_client_under_test(sc, cut, &target, pki, cfg).await?),
        None => None,
    };
    let window = Some((started, unix_now()));
    let ctx = client::client_ctx(mock, &target, client_run.clone(), sc, window, &profiles);
    let failure = client_run.as_ref().and_then(|r| r.failure());
    let runner: &Runner<'_> = &|id: &str| mtls_clientmode::checks::implementation(id).map(|f| f(&ctx));
    let checks = run_graph(sc, cfg, on_check, done, failure, &[], runner).await;
    // The discovery document comes from the mock's state, never over the network: a request of
    // the harness's own must not appear in the journal the client is judged by.
    let resolution = Metadata::from_json(mock.state.discovery()).ok().map(|m| m.resolve());
    Ok(ScenarioResult { checks, client: client_run, target: Some(target_info(sc, &target, resolution)), ..empty_result(sc) })
}

/// What a report says of the target a scenario ran against.
pub(crate) fn target_info(sc: &Scenario, target: &Target, resolution: Option<mtls_core::discovery::Resolution>) -> TargetInfo {
    TargetInfo {
        kind: target.kind,
        issuer: target.issuer.clone(),
        shape_declared: (!sc.live).then(|| sc.discovery.shape.name()),
        insecure: target.insecure,
        shape_observed: resolution.as_ref().map(|r| r.shape.name()),
        endpoints: resolution.map(|r| r.endpoints).unwrap_or_default(),
    }
}

/// `serve --judge`: the client-mode checks of `sc` against what a client run by hand sent to a
/// mock stood up with [`super::start_mock_target`] — the same graph and settlement as a scenario.
pub async fn judge_hand_run_client(sc: &Scenario, mt: &mock_target::MockTarget, on_check: Option<&OnCheck>) -> ScenarioResult {
    let ctx = client::client_ctx(&mt.mock, &mt.target, None, sc, None, &[]);
    let runner: &Runner<'_> = &|id: &str| mtls_clientmode::checks::implementation(id).map(|f| f(&ctx));
    let on_check = super::scrubbing(on_check, mt.target.secrets());
    let checks = run_graph(sc, &RunConfig::default(), on_check.as_ref(), &Mutex::new(Vec::new()), None, &[], runner).await;
    let resolution = Metadata::from_json(mt.mock.state.discovery()).ok().map(|m| m.resolve());
    ScenarioResult { checks, target: Some(target_info(sc, &mt.target, resolution)), ..empty_result(sc) }
}

/// `observe`: the client-mode checks of `sc` against the journal an observe proxy kept of a
/// client talking to a real AS (`ctx`) — the same graph and settlement as a scenario. The
/// target is the upstream (`issuer`, its published `metadata`).
pub async fn judge_observed(
    sc: &Scenario,
    ctx: &mtls_clientmode::checks::ClientCtx,
    issuer: &str,
    metadata: &serde_json::Value,
    secrets: &mtls_core::redact::Secrets,
    on_check: Option<&OnCheck>,
) -> ScenarioResult {
    let runner: &Runner<'_> = &|id: &str| mtls_clientmode::checks::implementation(id).map(|f| f(ctx));
    let on_check = super::scrubbing(on_check, secrets);
    let checks = run_graph(sc, &RunConfig::default(), on_check.as_ref(), &Mutex::new(Vec::new()), None, &[], runner).await;
    let resolution = Metadata::from_json(metadata.clone()).ok().map(|m| m.resolve());
    let target = TargetInfo {
        kind: mtls_core::results::Kind::Live,
        issuer: issuer.to_string(),
        shape_declared: None,
        insecure: false,
        shape_observed: resolution.as_ref().map(|r| r.shape.name()),
        endpoints: resolution.map(|r| r.endpoints).unwrap_or_default(),
    };
    ScenarioResult { checks, target: Some(target), client: ctx.client_run.clone(), ..empty_result(sc) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(extra: &str) -> mtls_client::live::TargetFile {
        let yaml = format!(
            "issuer: https://as.example\nca_bundle: ca.pem\nclients:\n  tls_client_auth: {{ client_id: c, cert: c.pem, key: c.key }}\n{extra}"
        );
        mtls_client::live::TargetFile::parse(&yaml, std::path::Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `--max-concurrency` reaches the per-origin bound of a live target (the lower of it and
    /// the target file's), default 6; every check may start; `--retry-rate-limited` is kept.
    #[test]
    fn the_run_and_the_target_file_set_the_per_origin_bound_of_a_live_target() {
        let run = |n: Option<usize>| RunConfig {
            max_concurrency: n,
            limits: mtls_client::http::Limits::default().retrying(3),
            ..RunConfig::default()
        };
        for (cli, file, want) in [
            (None, "", super::super::DEFAULT_MAX_CONCURRENCY),
            (Some(1), "", 1),
            (Some(20), "", 20),
            (None, "max_concurrency: 3\n", 3),
            (Some(8), "max_concurrency: 3\n", 3),
            (Some(2), "max_concurrency: 3\n", 2),
        ] {
            let (cfg, per_origin) = live_config(&run(cli), &target(file));
            assert_eq!(per_origin, want, "--max-concurrency {cli:?}, file `{file}`");
            assert_eq!(cfg.max_concurrency, Some(super::super::LIVE_CHECKS_AT_ONCE));
            assert_eq!(cfg.limits.retry_rate_limited, 3);
        }
    }
}
