//! Running one scenario's check graph: the selected checks and everything they need, each
//! started as soon as its needs have results (at most `max_concurrency` at once), each bounded
//! by the check timeout. A check whose prerequisite failed,
//! errored or was blocked is `blocked` (naming it) without running; a broken SHOULD is a `warn`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};

use mtls_core::catalogue::{self as checks, CheckInfo};
use mtls_core::profile::{LevelOverride, Profile, RuleLevel};
use mtls_core::results::{rfc_url, CheckResult, Level, Outcome, Status};
use mtls_core::scenario::Scenario;

use super::{ms, OnCheck, RunConfig};

/// A check's implementation, bound to its context: `None` when the mode has no such check.
pub(crate) type Runner<'a> = dyn Fn(&str) -> Option<Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>> + Sync + 'a;

/// Run the graph of `sc` with `run`, publishing each result into `sink` as it is final. A check
/// starts as soon as every check it needs has a result, with at most `cfg.max_concurrency`
/// checks in flight (all of them on this task: concurrency of requests, not of threads). The
/// terminal sees results as they finish; the returned list is in catalogue order, whatever order
/// they finished in. In client mode `client_failure` says how the client under test failed, if
/// it did: the results are then settled together once all are known ([`settle_failed_client`]).
pub(crate) async fn run_graph(
    sc: &Scenario,
    cfg: &RunConfig,
    on_check: Option<&OnCheck>,
    sink: &Mutex<Vec<CheckResult>>,
    client_failure: Option<String>,
    profiles: &[Profile],
    run: &Runner<'_>,
) -> Vec<CheckResult> {
    let mut done: HashMap<&str, (Status, String)> = HashMap::new();
    let mut held = Vec::new();
    let mut selected = sc.selected_checks();
    for extra in mtls_client::profile::needed_checks(profiles, sc.primary) {
        if !selected.contains(&extra) {
            selected.push(extra);
        }
    }
    let plan = checks::plan(&selected, sc.primary);
    let limit = cfg.max_concurrency.unwrap_or(super::MOCK_MAX_CONCURRENCY).max(1);
    let mut started = vec![false; plan.len()];
    let mut in_flight = FuturesUnordered::new();
    loop {
        // Start, in catalogue order, every check whose needs all have results; a gated check
        // (a need failed or was skipped) is final at once, which may settle further checks.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for (i, check) in plan.iter().enumerate() {
                if started[i] || in_flight.len() >= limit || !settled(check, &done, sc) {
                    continue;
                }
                started[i] = true;
                progressed = true;
                let t0 = Instant::now();
                let unasked = mtls_client::checks::profile_only::unasked(check.id, profiles, &sc.checks);
                match unasked.or_else(|| checks::gate(check, &done, sc.primary)) {
                    Some(o) => {
                        let cr = finish(sc, check, o, t0, profiles, &mut done);
                        deliver(sc, cr, client_failure.is_some(), &mut held, on_check, sink);
                    }
                    None => in_flight.push(perform(check, t0, cfg, run)),
                }
            }
        }
        let Some((check, t0, outcome)) = in_flight.next().await else { break };
        let cr = finish(sc, check, outcome, t0, profiles, &mut done);
        deliver(sc, cr, client_failure.is_some(), &mut held, on_check, sink);
    }
    if let Some(f) = &client_failure {
        settle_failed_client(&mut held, f);
        for cr in held {
            publish(sc, cr, on_check, sink);
        }
    }
    let mut results = std::mem::take(&mut *sink.lock().unwrap_or_else(|p| p.into_inner()));
    let order = |id: &str| plan.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    results.sort_by_key(|c| order(c.id));
    results
}

/// Whether every check `check` needs has a result.
fn settled(check: &CheckInfo, done: &HashMap<&str, (Status, String)>, sc: &Scenario) -> bool {
    check.needs.iter().all(|n| done.contains_key(n.resolve(sc.primary)))
}

/// Run one check's implementation, bounded by the check timeout.
async fn perform<'a>(check: &'static CheckInfo, t0: Instant, cfg: &RunConfig, run: &Runner<'a>) -> (&'static CheckInfo, Instant, Outcome) {
    let outcome = match run(check.id) {
        None => Outcome::error(format!("cannot judge: {} has no implementation in this mode", check.id)),
        Some(fut) => match tokio::time::timeout(cfg.check_timeout, fut).await {
            Ok(o) => o,
            Err(_) => Outcome::error(format!("cannot judge: the check did not finish within {:?}", cfg.check_timeout)),
        },
    };
    (check, t0, outcome)
}

/// A check's outcome made final: the profiles' levels applied, a broken SHOULD made a warning,
/// and its status recorded for the checks that need it.
fn finish(
    sc: &Scenario,
    check: &'static CheckInfo,
    mut outcome: Outcome,
    t0: Instant,
    profiles: &[Profile],
    done: &mut HashMap<&'static str, (Status, String)>,
) -> CheckResult {
    // A selected profile sets the level where it says so (the strictest, if several do); a
    // check every profile that mentions it turns `off` does not apply.
    let set: Vec<(&Profile, &LevelOverride)> = profiles.iter().filter_map(|p| p.level_of(check.id).map(|l| (p, l))).collect();
    let strictness = |l: &RuleLevel| match l {
        RuleLevel::Fail => 3,
        RuleLevel::Warn => 2,
        RuleLevel::Info | RuleLevel::Off => 1,
    };
    let profile_level = set.iter().map(|(_, l)| l.level).filter(|l| *l != RuleLevel::Off).max_by_key(strictness);
    if profile_level.is_none() && outcome.status != Status::Blocked {
        if let Some((p, l)) = set.first() {
            let was = format!("{}: {}", outcome.status.name(), outcome.reason);
            outcome =
                Outcome::skip(format!("not applicable under {} ({}); judged as {was}", p.id.0, l.citation.0)).with_all(outcome.evidence);
        }
    }
    let level = profile_level.map(RuleLevel::level).or(outcome.level).unwrap_or(check.level);
    if level == Level::Should && outcome.status == Status::Fail {
        outcome.status = Status::Warn;
        outcome.reason = format!("{} (a SHOULD-level requirement: reported as a warning)", outcome.reason);
    }
    if let Some(what) = outcome
        .beside
        .as_ref()
        .and_then(|b| b.unjudged.clone())
        .filter(|_| level != Level::Info || !matches!(outcome.status, Status::Fail | Status::Warn))
    {
        outcome.reason = format!("{} (and could not judge: {what})", outcome.reason);
    }
    if level == Level::Info && matches!(outcome.status, Status::Fail | Status::Warn) {
        let under = match set.iter().find(|(_, l)| l.level == RuleLevel::Info) {
            Some((p, l)) => format!("under {} ({})", p.id.0, l.citation.0),
            // bcp195 records the §4.2 allow-list at info too: an ecosystem profile makes it a rule.
            None if check.id == "tls.ciphers.tls12" => {
                "no selected profile makes it a rule; an ecosystem profile's allow-list does (bcp195 fails only RFC 9325 §4.1's MUST NOTs)"
                    .into()
            }
            None => "no selected profile makes it a rule; --profile bcp195 does".into(),
        };
        match outcome.beside.as_mut().and_then(|b| b.unjudged.take()) {
            // Part of what it was asked about was never judged: no pass, and that part first.
            Some(what) => {
                outcome.reason = format!(
                    "cannot judge: {what} — informational ({under}) for the rest — would {}: {}",
                    outcome.status.name(),
                    outcome.reason
                );
                outcome.status = Status::Error;
            }
            None => {
                outcome.reason = format!("informational ({under}) — would {}: {}", outcome.status.name(), outcome.reason);
                outcome.status = Status::Pass;
            }
        }
    }
    done.insert(check.id, (outcome.status, outcome.reason.clone()));
    result(sc, check, level, outcome, t0)
}

/// Publish a final result now, or hold it until a failed client's results are settled.
fn deliver(
    sc: &Scenario,
    cr: CheckResult,
    hold: bool,
    held: &mut Vec<CheckResult>,
    on_check: Option<&OnCheck>,
    sink: &Mutex<Vec<CheckResult>>,
) {
    if hold {
        held.push(cr);
    } else {
        publish(sc, cr, on_check, sink);
    }
}

fn result(sc: &Scenario, check: &'static CheckInfo, level: Level, outcome: Outcome, t0: Instant) -> CheckResult {
    CheckResult {
        id: check.id,
        title: check.title,
        rfc: check.rfc,
        rfc_url: rfc_url(check.rfc),
        level,
        status: outcome.status,
        reason: outcome.reason,
        expected_fail: sc.expects_fail(check.id),
        expected_warn: sc.expects_warn(check.id),
        expected_blocked: sc.expects_blocked(check.id),
        duration_ms: ms(t0.elapsed()),
        evidence: outcome.evidence,
        details: outcome.details,
        check_file: outcome.beside.and_then(|b| b.check_file),
    }
}

pub(crate) fn publish(sc: &Scenario, cr: CheckResult, on_check: Option<&OnCheck>, sink: &Mutex<Vec<CheckResult>>) {
    if let Some(f) = on_check {
        f(sc, &cr);
    }
    sink.lock().unwrap_or_else(|p| p.into_inner()).push(cr);
}

/// Client mode, the client under test failed (exit ≠ 0, crash, timeout): when a judged failure
/// explains that, the results stand as judged; when none does, the harness cannot tell what the
/// client would have done, and its would-be passes become errors.
pub fn settle_failed_client(results: &mut [CheckResult], failure: &str) {
    if results.iter().any(|c| c.status == Status::Fail) {
        return;
    }
    for c in results.iter_mut().filter(|c| c.status == Status::Pass) {
        c.status = Status::Error;
        c.reason = format!("cannot judge: {failure}, and no check explains why (had it completed: {})", c.reason);
    }
}
