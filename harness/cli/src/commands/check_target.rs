//! `mtls-harness check-target FILE`: the first contact of a run, in about a second — ready to
//! run, or the first thing to fix with the key and line of the file (see `mtls_harness::preflight`).

use std::path::Path;

use mtls_harness::preflight::{self, Readiness};
use mtls_harness::run::RunConfig;
use mtls_harness::{live, text};

use crate::terminal::Style;

/// Load `file`, refuse what is wrong in it before any request, make the first contact, and say
/// what to do next; the exit code is the run's for the same checks (0, 1 refused, 2 not judged).
pub(crate) fn check_target(file: &Path, insecure: bool, cfg: &RunConfig) -> anyhow::Result<u8> {
    let tf = live::TargetFile::load(file)?;
    // Unreadable paths, keys that are not their certificate's, expired certificates, unset
    // secrets: named with their key and line, before any request.
    tf.parts(insecure, &mtls_harness::redact::Secrets::new())?;
    if insecure {
        eprintln!("warning: --insecure: the target's server certificate is NOT verified");
    }
    let rt = super::runtime()?;
    let pre = rt.block_on(preflight::check_target(tf, insecure, cfg));
    Ok(show(file, &pre))
}

/// Print `pre` and return its exit code.
pub(crate) fn show(file: &Path, pre: &preflight::Preflight) -> u8 {
    let style = Style;
    let scrub = |s: &str| text::inert(&pre.report.secrets.scrub(s));
    let name = file.display();
    println!("check-target {name}: {} first-contact check(s) in {:.0} ms", pre.results().len(), pre.report.duration_ms);
    for c in pre.results() {
        let line = format!("{:<8} {:<18} {}", c.status.name(), c.id, text::cap(&scrub(&c.reason), 2_000));
        anstream::println!("  {}", style.paint(c, &line));
    }
    if let Some(why) = pre.scenario_error() {
        println!("could not start: {}", text::cap(&scrub(why), 1_000));
    }
    match (pre.readiness, pre.first_problem()) {
        (Readiness::Ready, _) => {
            anstream::println!("{}: mtls-harness run --target {name}", style.verdict("ready to run"));
        }
        (r, first) => {
            let what = if r == Readiness::Refused { "not ready — the AS refused" } else { "not ready — could not judge" };
            match first {
                Some(c) => {
                    println!("{what} {}: fix this first", c.id);
                    if let Some(keys) = &c.check_file {
                        println!("  check {}", scrub(keys));
                    }
                }
                None => println!("{what}: fix this first"),
            }
            println!("then: mtls-harness check-target {name}");
        }
    }
    pre.readiness.exit_code()
}
