//! One trial per scenario × check, named `<scenario-id>::<check-id>` (libtest-mimic), so the
//! usual filters work: `cargo test -- as-identical`, `cargo test -- --list`, `--exact`, `--skip`.
//! A scenario runs once (against its own embedded mock AS) when its first trial needs it; its
//! trials then judge their own check. Self-test trials pass only when the planted defect is
//! caught by exactly the checks in `expect.fail`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};
use mtls_harness::checks::Status;
use mtls_harness::report::ScenarioResult;
use mtls_harness::run::{run_scenario, RunConfig, Source};
use mtls_harness::scenario::{load_dir, Scenario};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts"))
}

struct Shared {
    scenario: Scenario,
    source: Source,
    result: OnceLock<ScenarioResult>,
}

/// Under cargo-nextest every trial is a process of its own: it runs just its own check (each check
/// gets what it needs through the scenario's lazy context). Under `cargo test` all trials share
/// one process and the first trial of a scenario runs all of its checks once, for the rest.
fn only(sc: &Scenario, check_id: &str) -> Scenario {
    let mut one = sc.clone();
    one.checks = vec![check_id.to_string()];
    one.expect.fail.retain(|c| c == check_id);
    one.expect.warn.retain(|c| c == check_id);
    one
}

fn judge(shared: &Shared, check_id: &str) -> Result<(), Failed> {
    let nextest = std::env::var_os("NEXTEST").is_some();
    let sc = &shared.scenario;
    let result = shared.result.get_or_init(|| {
        let run = if nextest { only(sc, check_id) } else { sc.clone() };
        runtime().block_on(run_scenario(&run, &shared.source, &RunConfig::default(), None))
    });
    if let Some(e) = &result.error {
        return Err(format!("scenario {} did not run: {e}", sc.id).into());
    }
    let Some(c) = result.checks.iter().find(|c| c.id == check_id) else {
        return Err(format!("check {check_id} produced no result").into());
    };
    if c.as_expected() {
        return Ok(());
    }
    let evidence = serde_json::to_string_pretty(&c.evidence).unwrap_or_default();
    let msg = if c.expected_fail {
        format!(
            "planted defect(s) {:?} should make {check_id} fail, but it is {}: {}\nevidence: {evidence}",
            sc.mock.defects,
            c.status.name(),
            c.reason
        )
    } else if c.status == Status::Error {
        format!("{check_id} could not be judged: {}\nevidence: {evidence}", c.reason)
    } else {
        format!("{check_id} {}: {}\nevidence: {evidence}", c.status.name(), c.reason)
    };
    Err(msg.into())
}

fn fatal(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2);
}

fn main() {
    let args = Arguments::from_args();
    // `{harness}` in client commands: this package's binary, not this test binary.
    std::env::set_var("MTLS_HARNESS_BIN", env!("CARGO_BIN_EXE_mtls-harness"));
    // MTLS_HARNESS_TARGET=FILE: the trials run against that live AS (the file's checks);
    // otherwise every scenario runs against its own embedded mock AS.
    let (scenarios, source) = match std::env::var_os("MTLS_HARNESS_TARGET") {
        Some(file) => {
            let tf = mtls_harness::live::TargetFile::load(Path::new(&file)).unwrap_or_else(|e| fatal(e));
            tf.parts(false, &mtls_harness::redact::Secrets::new()).unwrap_or_else(|e| fatal(e));
            (vec![tf.scenario()], Source::Live { target: std::sync::Arc::new(tf), insecure: false })
        }
        None => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
            (load_dir(&dir).unwrap_or_else(|e| fatal(e)), Source::mock().unwrap_or_else(|e| fatal(e)))
        }
    };
    let mut shared: HashMap<String, Arc<Shared>> = HashMap::new();
    let mut trials = Vec::new();
    for sc in scenarios {
        let kind = if sc.live {
            "live"
        } else if sc.is_self_test() {
            "selftest"
        } else {
            "as"
        };
        let ids = sc.selected_checks();
        let entry = shared
            .entry(sc.id.clone())
            .or_insert_with(|| Arc::new(Shared { scenario: sc.clone(), source: source.clone(), result: OnceLock::new() }))
            .clone();
        for id in ids {
            let s = entry.clone();
            trials.push(Trial::test(format!("{}::{id}", sc.id), move || judge(&s, id)).with_kind(kind));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
