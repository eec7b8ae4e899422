//! The `mtls-harness` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use mtls_harness::checks::CATALOGUE;
use mtls_harness::run::{self, OnCheck, RunConfig};
use mtls_harness::{mock, pki, report, scenario};

#[derive(Parser)]
#[command(name = "mtls-harness", version, about = "RFC 8705 mutual-TLS conformance harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every scenario against the embedded mock AS and write reports.
    Run {
        /// Directory of scenario YAML files (searched recursively).
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Where report.json is written.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
    },
    /// List scenarios and the check catalogue.
    List {
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
    },
    /// Generate a test PKI and write it as PEM files (private keys mode 0600).
    Pki {
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Run { scenarios, report_dir } => run_cmd(&scenarios, &report_dir),
        Command::List { scenarios } => list_cmd(&scenarios),
        Command::Pki { out } => {
            let pki = pki::TestPki::generate()?;
            for p in pki.write_to(&out)? {
                println!("{}", p.display());
            }
            Ok(0)
        }
    }
}

fn run_cmd(dir: &std::path::Path, report_dir: &std::path::Path) -> anyhow::Result<u8> {
    let scenarios = scenario::load_dir(dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let on_check: OnCheck = Arc::new(|sc, c| println!("{}", run::line(&sc.id, c)));
    let report = rt.block_on(run::run_all(&scenarios, &RunConfig::default(), Some(on_check)))?;
    let path = report::json::write(&report, report_dir)
        .with_context(|| format!("writing the report into {}", report_dir.display()))?;
    let t = &report.totals;
    println!(
        "\n{} scenarios, {} checks: {} pass, {} fail ({} expected), {} warn, {} skip, {} error — verdict: {} ({:.0} ms)",
        report.scenarios.len(),
        t.checks,
        t.pass,
        t.fail,
        t.expected_fail,
        t.warn,
        t.skip,
        t.error,
        report.verdict,
        report.duration_ms
    );
    for s in report.scenarios.iter().filter(|s| s.error.is_some()) {
        println!("scenario {} did not run: {}", s.id, s.error.as_deref().unwrap_or_default());
    }
    println!("report: {}", path.display());
    Ok(report.exit_code() as u8)
}

fn list_cmd(dir: &std::path::Path) -> anyhow::Result<u8> {
    let scenarios = scenario::load_dir(dir)?;
    println!("scenarios:");
    for s in &scenarios {
        let defects: Vec<String> = s.mock.defects.iter().map(|d| d.name()).collect();
        println!(
            "  {:<28} {:<10} {:<40} {}",
            s.id,
            s.discovery.shape.name(),
            s.title,
            if defects.is_empty() { String::new() } else { format!("defects: {}", defects.join(", ")) }
        );
    }
    println!("\nchecks:");
    for c in CATALOGUE {
        println!("  {:<24} {:<12} {:<5} {}", c.id, c.rfc, format!("{:?}", c.level).to_uppercase(), c.title);
    }
    println!("\nplanted defects:");
    for d in mock::Defect::ALL {
        println!("  {}", d.name());
    }
    Ok(0)
}
