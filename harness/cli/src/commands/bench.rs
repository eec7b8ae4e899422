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

/// `mtls-harness bench --rtt 0,20,50,150`: the harness and the curl baseline against a real
/// node-oidc-provider through a delay proxy; one line per RTT and layout, then a table.
pub(crate) fn rtt(rtts: &str, runs: usize) -> anyhow::Result<u8> {
    use mtls_harness::bench::rtt::{measure, Options, WIDE};
    let rtts: Vec<u64> = rtts
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<u64>().ok().filter(|&ms| ms <= 2000))
        .collect::<Option<_>>()
        .context("--rtt takes comma-separated round-trip times in milliseconds, 0 to 2000")?;
    anyhow::ensure!(!rtts.is_empty(), "--rtt is empty: give round-trip times in milliseconds, e.g. 0,20,50,150");
    let repo = std::env::current_dir().context("the current directory")?;
    let bin = std::env::current_exe().context("locating this binary")?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("at real round-trip times ({runs} runs each side, after a warm-up; {cores} cores): node-oidc-provider behind a delay proxy");
    let rows = measure(&Options { rtts, runs, repo, bin }, |r| {
        let [h, h_rtts, w, w_rtts, c, c_rtts, ratio, ratio_w] = figures(r);
        println!(
            "  RTT {:>3} ms  {:<9}  harness {h:>9} ({h_rtts:>5} RTT), at {WIDE} per origin {w:>9} ({w_rtts:>5} RTT)  curl {c:>9} ({c_rtts:>5} RTT)  {ratio:>6} / {ratio_w:>6}   harness: {}; curl: {}",
            r.rtt_ms, r.layout, r.harness_summary, r.baseline_summary
        );
    })?;
    println!();
    println!("| RTT | layout | harness (default: 6 per origin) | in RTTs | harness, `--max-concurrency {WIDE}` | in RTTs | curl baseline | in RTTs | harness faster |");
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let [h, h_rtts, w, w_rtts, c, c_rtts, ratio, ratio_w] = figures(r);
        println!("| {} ms | {} | {h} | {h_rtts} | {w} | {w_rtts} | {c} | {c_rtts} | {ratio} / {ratio_w} |", r.rtt_ms, r.layout);
    }
    for r in &rows {
        println!(
            "rtt-values rtt={} layout={} harness_ms={:.0} wide_ms={:.0} curl_ms={:.0}",
            r.rtt_ms, r.layout, r.harness.median, r.harness_wide.median, r.baseline.median
        );
    }
    Ok(0)
}

/// A row's figures as both outputs print them: the harness at the default bound and at
/// [`WIDE`](mtls_harness::bench::rtt::WIDE), the curl baseline (median ms, and in RTTs), and the
/// two ratios to the baseline.
fn figures(r: &mtls_harness::bench::rtt::Row) -> [String; 8] {
    let ms = |v: f64| format!("{v:.0} ms");
    let rtts = |v: f64| r.in_rtts(v).map_or("-".to_string(), |n| format!("{n:.1}"));
    let (h, w, c) = (r.harness.median, r.harness_wide.median, r.baseline.median);
    [ms(h), rtts(h), ms(w), rtts(w), ms(c), rtts(c), format!("{:.1}x", r.ratio(h)), format!("{:.1}x", r.ratio(w))]
}
