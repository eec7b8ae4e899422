//! `mtls-harness bench`: in-process measurements for `scripts/bench` — PKI generation, the full
//! suite (reports written) on all threads and on one, TLS handshakes and HTTP requests per run,
//! time per check, peak RSS, and how run time grows with the number of scenarios.

use std::time::{Duration, Instant};

use crate::pki::TestPki;
use crate::report::{write_all, Format};
use crate::run::{run_all, RunConfig, Source};
use crate::scenario::Scenario;
use mtls_core::stats;

pub mod delay;
pub mod rtt;

/// min / median / max of a series, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub(crate) min: f64,
    /// The median (the upper one of an even count).
    pub median: f64,
    pub(crate) max: f64,
}

impl Spread {
    pub(crate) fn of(samples: &[Duration]) -> Spread {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len().max(1);
        Spread { min: *ms.first().unwrap_or(&0.0), median: ms.get(n / 2).copied().unwrap_or(0.0), max: *ms.last().unwrap_or(&0.0) }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "min {:.1}  median {:.1}  max {:.1} ms", self.min, self.median, self.max)
    }
}

/// What `measure` found.
pub struct Results {
    /// Measured runs of each series (after a warm-up).
    pub runs: usize,
    /// Scenarios in the suite.
    pub scenarios: usize,
    /// Checks in one run of the suite.
    pub checks: usize,
    /// Generating the test PKI.
    pub pki: Spread,
    /// The full suite, reports written, on a multi-threaded runtime.
    pub suite: Spread,
    /// The full suite on a current-thread runtime.
    pub suite_one_thread: Spread,
    /// Handshakes, requests served and requests sent in one run of the suite.
    pub per_run: stats::Counts,
    /// Mean duration of a check as measured inside the runs, milliseconds.
    pub mean_check_ms: f64,
    /// Run time of generated suites of each size (scenario count, spread of three runs).
    pub scale: Vec<(usize, Spread)>,
    /// Peak resident set size of the process, KiB, where /proc tells it.
    pub peak_rss_kib: Option<u64>,
}

fn runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        _ => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
    }
}

/// `n` scenarios made of the given ones, cycled, each with its own id.
pub fn generated(base: &[Scenario], n: usize) -> Vec<Scenario> {
    (0..n)
        .map(|i| {
            let mut s = base[i % base.len()].clone();
            s.id = format!("{}-{i}", s.id);
            s
        })
        .collect()
}

/// One full run, reports written; its wall time and counters.
fn suite_once(
    rt: &tokio::runtime::Runtime,
    scenarios: &[Scenario],
    source: &Source,
) -> Result<(Duration, stats::Counts, crate::report::RunReport), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let before = stats::snapshot();
    let t0 = Instant::now();
    let report = rt.block_on(run_all(scenarios, source, &RunConfig::default(), None));
    write_all(&report, dir.path(), &Format::ALL).map_err(|e| e.to_string())?;
    let elapsed = t0.elapsed();
    if report.exit_code() != 0 {
        return Err(format!("the suite did not pass (verdict {}): nothing to measure", report.verdict));
    }
    Ok((elapsed, stats::snapshot() - before, report))
}

/// Measure PKI generation, `runs` runs of the suite `scenarios` on all threads and on one, and
/// generated suites of each size in `scale`; an error if the suite does not pass.
pub fn measure(scenarios: &[Scenario], runs: usize, scale: &[usize]) -> Result<Results, String> {
    let runs = runs.max(1);
    let pki: Vec<Duration> = (0..runs.max(5))
        .map(|_| {
            let t0 = Instant::now();
            TestPki::generate().map(|_| t0.elapsed()).map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let source = Source::mock().map_err(|e| e.to_string())?;
    let multi = runtime(None).map_err(|e| e.to_string())?;
    // One warm-up run: first-use costs (PKI, lazy statics) are not the suite's.
    suite_once(&multi, scenarios, &source)?;
    let mut suite = Vec::new();
    let mut counts = stats::Counts::default();
    let mut check_ms = Vec::new();
    let mut checks = 0;
    for _ in 0..runs {
        let (d, c, report) = suite_once(&multi, scenarios, &source)?;
        suite.push(d);
        counts = c;
        checks = report.totals.checks;
        check_ms.extend(report.scenarios.iter().flat_map(|s| s.checks.iter().map(|c| c.duration_ms)));
    }
    let single = runtime(Some(1)).map_err(|e| e.to_string())?;
    suite_once(&single, scenarios, &source)?;
    let suite_one_thread: Vec<Duration> =
        (0..runs).map(|_| suite_once(&single, scenarios, &source).map(|r| r.0)).collect::<Result<_, _>>()?;
    let mut curve = Vec::new();
    for &n in scale {
        let set = generated(scenarios, n);
        let times: Vec<Duration> = (0..3).map(|_| suite_once(&multi, &set, &source).map(|r| r.0)).collect::<Result<_, _>>()?;
        curve.push((n, Spread::of(&times)));
    }
    Ok(Results {
        runs,
        scenarios: scenarios.len(),
        checks,
        pki: Spread::of(&pki),
        suite: Spread::of(&suite),
        suite_one_thread: Spread::of(&suite_one_thread),
        per_run: counts,
        mean_check_ms: check_ms.iter().sum::<f64>() / check_ms.len().max(1) as f64,
        scale: curve,
        peak_rss_kib: stats::peak_rss_kib(),
    })
}
