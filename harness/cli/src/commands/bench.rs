//! `mtls-harness bench`: in-process measurements (scripts/bench runs it).

use anyhow::Context;
use mtls_harness::scenario;

pub(crate) fn bench(dir: &std::path::Path, runs: usize, scale: &str) -> anyhow::Result<u8> {
    std::env::set_var("MTLS_HARNESS_BIN", std::env::current_exe().context("locating this binary")?);
    let scenarios = scenario::load_dir(dir)?;
    let sizes: Vec<usize> = scale
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .context("--scale takes comma-separated numbers")?;
    let r = mtls_harness::bench::measure(&scenarios, runs, &sizes).map_err(anyhow::Error::msg)?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let speedup = r.suite_one_thread.median / r.suite.median.max(0.001);
    println!("in-process ({} runs each, after a warm-up; {cores} cores):", r.runs);
    println!("  PKI generation (CA, server, 6 client identities, signing key): {}", r.pki);
    println!("  full suite, {} scenarios, {} checks, reports written, all threads: {}", r.scenarios, r.checks, r.suite);
    println!("  full suite on one thread:                                  {}", r.suite_one_thread);
    println!("  parallel speed-up (one thread / all threads, medians): {speedup:.2}x");
    println!(
        "  per run: {} TLS handshakes and {} HTTP requests served by the mock AS, {} requests sent by the harness",
        r.per_run.handshakes, r.per_run.served, r.per_run.sent
    );
    println!(
        "  time per check: {:.2} ms mean (as measured inside the run), {:.3} ms of suite wall time per check",
        r.mean_check_ms,
        r.suite.median / r.checks.max(1) as f64
    );
    for (n, s) in &r.scale {
        println!("  generated suite of {n:>3} scenarios: {s}  ({:.2} ms per scenario)", s.median / *n as f64);
    }
    if let Some(kib) = r.peak_rss_kib {
        println!("  peak RSS of this benchmark process (all of the above): {:.1} MiB", kib as f64 / 1024.0);
    }
    println!("bench-values pki_ms={:.1} suite_ms={:.1} speedup={speedup:.2}", r.pki.median, r.suite.median);
    Ok(0)
}
