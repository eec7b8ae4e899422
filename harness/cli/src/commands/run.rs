//! `mtls-harness run`: every scenario (or a live target's checks), progress on the terminal,
//! reports written, the verdict as exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use mtls_harness::run::{self, OnCheck, RunConfig};
use mtls_harness::{live, report, scenario};

use crate::terminal::Style;

/// Run the scenarios (or the target file) and write the reports; the exit code is the verdict.
pub(crate) fn run(
    dir: Option<PathBuf>,
    target: Option<PathBuf>,
    insecure: bool,
    cfg: &RunConfig,
    report_dir: &Path,
    formats: &[report::Format],
) -> anyhow::Result<u8> {
    let mut configuration = report::Configuration {
        insecure,
        client_command: cfg.client_cmd.as_ref().map(|c| c.join(" ")),
        connect_timeout_ms: cfg.limits.connect.as_millis() as u64,
        request_timeout_ms: cfg.limits.request.as_millis() as u64,
        check_timeout_ms: cfg.check_timeout.as_millis() as u64,
        run_timeout_ms: cfg.run_timeout.as_millis() as u64,
        ..Default::default()
    };
    let (scenarios, source) = match target {
        Some(file) => {
            let mut tf = live::TargetFile::load(&file)?;
            let mut names = cfg.profiles.clone();
            names.extend(tf.profile.0.iter().filter(|n| !cfg.profiles.contains(n)).cloned());
            let selected = mtls_harness::profile::pick(&cfg.available_profiles, &names).map_err(|e| {
                anyhow::anyhow!("{}: profile `{}` is not known (see `mtls-harness list --profiles`)", file.display(), e.name)
            })?;
            tf.settle_bound_tokens(&selected);
            // Fail fast on unreadable files, unset secrets, mismatched keys: before any request.
            tf.parts(insecure, &mtls_harness::redact::Secrets::new())?;
            if insecure {
                eprintln!("warning: --insecure: the target's server certificate is NOT verified; every report records this");
            }
            configuration.source = "live target".into();
            configuration.target_file = Some(file.display().to_string());
            configuration.connect_timeout_ms = tf.timeouts.connect_ms;
            configuration.request_timeout_ms = tf.timeouts.request_ms;
            configuration.check_timeout_ms = tf.timeouts.check_ms;
            let scenarios = match dir {
                Some(d) => {
                    configuration.scenarios_dir = Some(d.display().to_string());
                    scenario::load_dir(&d)?.into_iter().filter(|s| !s.is_self_test()).collect()
                }
                None => vec![tf.scenario()],
            };
            (scenarios, run::Source::Live { target: Arc::new(tf), insecure })
        }
        None => {
            let d = dir.unwrap_or_else(|| PathBuf::from("scenarios"));
            configuration.source = "embedded mock AS".into();
            configuration.scenarios_dir = Some(d.display().to_string());
            (scenario::load_dir(&d)?, run::Source::mock()?)
        }
    };
    // Every result a run reports: the planned checks and the profiles' rules.
    let total: usize = scenarios.iter().map(|s| run::planned_results(s, cfg)).sum();
    let style = Style;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let on_check: OnCheck = Arc::new(move |sc, c| {
        let k = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        anstream::println!("[{k:>width$}/{total}] {}", style.paint(c, &run::line(&sc.id, c)), width = total.to_string().len());
    });
    let rt = super::runtime()?;
    let mut report = rt.block_on(run::run_all(&scenarios, &source, cfg, Some(on_check)));
    report.configuration = configuration;
    let paths =
        report::write_all(&report, report_dir, formats).with_context(|| format!("writing the reports into {}", report_dir.display()))?;
    anstream::println!(
        "\n{} scenarios, {} — verdict: {} ({:.0} ms)",
        report.scenarios.len(),
        report.totals.line(),
        style.verdict(report.verdict),
        report.duration_ms
    );
    let first = report.check_file_first();
    if !first.is_empty() {
        println!("check your target file first — the server refused what the file says it must accept (or the file is wrong):");
        for (sc, c) in first {
            let keys = mtls_harness::text::inert(c.check_file.as_deref().unwrap_or_default());
            println!("  {}::{}: {keys}", mtls_harness::text::inert(sc), c.id);
        }
    }
    for p in &report.profiles {
        let failed = if p.failed.is_empty() { String::new() } else { format!(" — failed: {}", p.failed.join(", ")) };
        anstream::println!("profile {} ({}): {}, {} rules{failed}", p.id, p.version, style.verdict(p.verdict), p.rules);
    }
    for note in report.secrets.tally().notes() {
        println!("note: {note}");
    }
    for s in report.scenarios.iter().filter(|s| s.error.is_some()) {
        let why = mtls_harness::text::inert(&report.secrets.scrub(s.error.as_deref().unwrap_or_default()));
        println!("scenario {} did not run: {}", mtls_harness::text::inert(&s.id), mtls_harness::text::cap(&why, 1_000));
    }
    for p in &paths {
        println!("report: {}", p.display());
    }
    Ok(report.exit_code() as u8)
}
