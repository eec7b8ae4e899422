//! The checks of a scenario run concurrently (each as soon as the checks it needs have results):
//! that must change nothing but the wall time. Every built-in scenario — AS and client mode, every
//! planted defect — gives the same status for every check as the sequential runner
//! (`max_concurrency: 1`), run after run, and the report lists checks in catalogue order.

use mtls_harness::run::{run_all, RunConfig, Source};
use mtls_harness::scenario::load_dir;

use crate::common::{alone, scenarios_dir};

type Verdicts = Vec<(String, Vec<(&'static str, &'static str)>)>;

fn verdicts(r: &mtls_harness::results::RunReport) -> Verdicts {
    r.scenarios.iter().map(|s| (s.id.clone(), s.checks.iter().map(|c| (c.id, c.status.name())).collect())).collect()
}

#[test]
fn concurrent_checks_give_the_sequential_verdicts_in_catalogue_order_run_after_run() {
    // It sets `MTLS_HARNESS_BIN` (`{harness}` in client commands: this package's binary, not this
    // test binary), so it runs alone in a child process, as `stress` does.
    if !alone("concurrency::concurrent_checks_give_the_sequential_verdicts_in_catalogue_order_run_after_run") {
        return;
    }
    std::env::set_var("MTLS_HARNESS_BIN", env!("CARGO_BIN_EXE_mtls-harness"));
    let scenarios = load_dir(&scenarios_dir()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let source = Source::mock().unwrap();
    let sequential = RunConfig { max_concurrency: Some(1), ..RunConfig::default() };
    let reference = rt.block_on(run_all(&scenarios, &source, &sequential, None));
    assert_eq!(reference.exit_code(), 0);
    let expected = verdicts(&reference);
    let runs: usize = std::env::var("MTLS_TEST_CONCURRENCY_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    for run in 0..runs {
        let concurrent = RunConfig { max_concurrency: Some(64), ..RunConfig::default() };
        let r = rt.block_on(run_all(&scenarios, &source, &concurrent, None));
        for ((id, want), (_, got)) in expected.iter().zip(verdicts(&r)) {
            assert_eq!(want, &got, "run {run}, scenario {id}: the same checks, statuses and order as the sequential runner");
        }
        assert_eq!(r.verdict, reference.verdict);
    }
    // Catalogue order: the order `catalogue::plan` gives (profile rows after the graph).
    for s in &reference.scenarios {
        let pos = |id: &str| mtls_harness::catalogue::CATALOGUE.iter().position(|c| c.id == id);
        let graph: Vec<usize> = s.checks.iter().filter_map(|c| pos(c.id)).collect();
        assert!(graph.windows(2).all(|w| w[0] < w[1]), "{}: checks in catalogue order", s.id);
    }
}
