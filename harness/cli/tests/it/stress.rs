//! Concurrency: the full built-in suite, 20 times at once in one process. Every run must come
//! out as expected, and afterwards no listener and no file descriptor may be left behind: every
//! mock AS, TLS edge and client stops when its scenario is done.
//!
//! It counts the descriptors and listeners of its whole process, so it runs alone in a child
//! process of the test binary ([`crate::common::alone`]), as when it was a binary of its own:
//! the other tests of the binary open and close theirs at the same time.

use std::time::{Duration, Instant};

use mtls_harness::run::{run_all, RunConfig, Source};
use mtls_harness::scenario::load_dir;

use crate::common::{alone, scenarios_dir};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn listening_sockets() -> usize {
    // Sockets in LISTEN state (st 0A) whose inode is one of this process's descriptors.
    let inodes: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_link(e.path()).ok()).map(|p| p.display().to_string()).collect())
        .unwrap_or_default();
    let mut n = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(table).unwrap_or_default().lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.get(3) == Some(&"0A") && cols.get(9).is_some_and(|i| inodes.contains(&format!("socket:[{i}]"))) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn the_full_suite_twenty_times_at_once_leaks_nothing() {
    if !alone("stress::the_full_suite_twenty_times_at_once_leaks_nothing") {
        return;
    }
    // `{harness}` in client commands: this package's binary, not this test binary (set in the
    // child process only).
    std::env::set_var("MTLS_HARNESS_BIN", env!("CARGO_BIN_EXE_mtls-harness"));
    let scenarios = load_dir(&scenarios_dir()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let source = Source::mock().unwrap();
    // Warm up once so the runtime's own descriptors exist before the baseline.
    let warm = rt.block_on(run_all(&scenarios, &source, &RunConfig::default(), None));
    assert_eq!(warm.exit_code(), 0);
    std::thread::sleep(Duration::from_millis(300));
    let (fds_before, listeners_before) = (open_fds(), listening_sockets());

    let t0 = Instant::now();
    let reports = rt.block_on(async {
        let runs: Vec<_> = (0..20)
            .map(|_| {
                let (sc, src) = (scenarios.clone(), source.clone());
                tokio::spawn(async move { run_all(&sc, &src, &RunConfig::default(), None).await })
            })
            .collect();
        let mut out = Vec::new();
        for r in runs {
            out.push(r.await.expect("run task"));
        }
        out
    });
    let elapsed = t0.elapsed();
    for (i, r) in reports.iter().enumerate() {
        let bad: Vec<String> = r
            .scenarios
            .iter()
            .flat_map(|s| {
                let mut v: Vec<String> = s.error.iter().map(|e| format!("{}: {e}", s.id)).collect();
                v.extend(
                    s.checks.iter().filter(|c| !c.as_expected()).map(|c| format!("{}::{} {}: {}", s.id, c.id, c.status.name(), c.reason)),
                );
                v
            })
            .collect();
        assert!(bad.is_empty(), "run {i}: {bad:#?}");
        assert_eq!(r.totals.unexpected, 0);
    }
    drop(reports);
    // Listeners are aborted on drop; give their tasks a moment to finish closing.
    let deadline = Instant::now() + Duration::from_secs(5);
    while (open_fds() > fds_before || listening_sockets() > listeners_before) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (fds_after, listeners_after) = (open_fds(), listening_sockets());
    eprintln!(
        "20 concurrent runs of {} scenarios: {:?}; fds {fds_before} -> {fds_after}, listeners {listeners_before} -> {listeners_after}",
        scenarios.len(),
        elapsed
    );
    assert!(listeners_after <= listeners_before, "leaked listeners: {listeners_before} -> {listeners_after}");
    assert!(fds_after <= fds_before, "leaked file descriptors: {fds_before} -> {fds_after}");
}
