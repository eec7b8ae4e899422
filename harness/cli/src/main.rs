//! The `mtls-harness` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use mtls_harness::checks::CATALOGUE;
use mtls_harness::discovery::Shape;
use mtls_harness::mock::{AuthMethod, Defect, Malformed, MockConfig};
use mtls_harness::reference_client::{self, ClientEnv, Misbehaviour};
use mtls_harness::run::{self, OnCheck, RunConfig};
use mtls_harness::{live, mock, pki, report, scenario};

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
        /// Directory of scenario YAML files (searched recursively). Default: `scenarios`; with
        /// --target, the target file's own checks instead.
        #[arg(long)]
        scenarios: Option<PathBuf>,
        /// A live target file (YAML): run against that AS instead of the embedded mock.
        #[arg(long, env = "MTLS_HARNESS_TARGET")]
        target: Option<PathBuf>,
        /// Accept any server certificate from the live target. Recorded in every report.
        #[arg(long, requires = "target")]
        insecure: bool,
        /// Client mode: run this command as the client under test (split like a POSIX shell
        /// would, quotes respected), instead of each scenario's own.
        #[arg(long)]
        client_cmd: Option<String>,
        /// Deadline for the whole run, in seconds (1 to 86400): checks still running then end the
        /// scenario in an error; checks already judged are kept.
        #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        run_timeout: u64,
        /// Where the reports are written.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// Report formats, comma-separated: json, junit, html, md.
        #[arg(long, default_value = "json,junit,html,md")]
        format: String,
    },
    /// Measure: PKI generation, the full suite on all threads and on one, handshakes and
    /// requests, time per check, peak RSS, and the scale curve (see scripts/bench).
    Bench {
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Measured runs per series (after one warm-up run).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Generated suite sizes for the scale curve, comma-separated.
        #[arg(long, default_value = "10,50,200")]
        scale: String,
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
    /// The reference client: reads MTLS_ISSUER, MTLS_CLIENT_ID, MTLS_CERT, MTLS_KEY, MTLS_CA,
    /// MTLS_RESOURCE, MTLS_REDIRECT_URI, MTLS_STEPS, MTLS_USE_ALIASES; exits 0 when every step worked.
    Client {
        /// Misbehave on purpose (repeatable), for self-tests of the client checks.
        #[arg(long, value_parser = serde_enum::<Misbehaviour>)]
        misbehave: Vec<Misbehaviour>,
    },
    /// Run the mock AS standalone until Ctrl-C, for pointing a client at it by hand.
    Serve {
        /// Discovery shape: identical, split, partial, missing, malformed.
        #[arg(long, default_value = "identical", value_parser = serde_enum::<Shape>)]
        shape: Shape,
        /// For --shape malformed: not_object, relative_url, http_url, authorization_endpoint, non_endpoint_key.
        #[arg(long, value_parser = serde_enum::<Malformed>)]
        malformed: Option<Malformed>,
        /// Plant a defect (repeatable); see `mtls-harness list`.
        #[arg(long = "defect", value_parser = serde_enum::<Defect>)]
        defects: Vec<Defect>,
        /// Where the PKI (CA, client certificates and keys) and the secret client's secret are written.
        #[arg(long, default_value = "mtls-harness-pki")]
        pki_dir: PathBuf,
        /// On Ctrl-C, judge the client checks from the requests that arrived and write a report.
        #[arg(long)]
        judge: bool,
        /// Where --judge writes report.json.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
    },
}

fn parse_formats(s: &str) -> Result<Vec<report::Format>, String> {
    s.split(',').filter(|x| !x.trim().is_empty()).map(report::Format::parse).collect()
}

/// Parse a snake_case enum value the way scenario YAML spells it.
fn serde_enum<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|e| e.to_string())
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
        Command::Run { scenarios, target, insecure, client_cmd, run_timeout, report_dir, format } => {
            let client_cmd = match client_cmd {
                None => None,
                Some(c) => match shlex::split(&c) {
                    Some(argv) if !argv.is_empty() => Some(argv),
                    Some(_) => anyhow::bail!("--client-cmd is empty: give the command that runs the client under test"),
                    None => anyhow::bail!("--client-cmd `{c}` has an unterminated quote or escape"),
                },
            };
            let cfg = RunConfig { client_cmd, run_timeout: std::time::Duration::from_secs(run_timeout), ..RunConfig::default() };
            let formats = parse_formats(&format).map_err(anyhow::Error::msg)?;
            run_cmd(scenarios, target, insecure, &cfg, &report_dir, &formats)
        }
        Command::Client { misbehave } => client_cmd(&misbehave),
        Command::List { scenarios } => list_cmd(&scenarios),
        Command::Bench { scenarios, runs, scale } => bench_cmd(&scenarios, runs, &scale),
        Command::Serve { shape, malformed, defects, pki_dir, judge, report_dir } => {
            let cfg = MockConfig { shape, malformed, defects, ..MockConfig::new(shape) };
            serve_cmd(&cfg, &pki_dir, judge.then_some(report_dir.as_path()))
        }
        Command::Pki { out } => {
            let pki = pki::TestPki::generate()?;
            for p in pki.write_to(&out)? {
                println!("{}", p.display());
            }
            Ok(0)
        }
    }
}

fn run_cmd(
    dir: Option<PathBuf>,
    target: Option<PathBuf>,
    insecure: bool,
    cfg: &RunConfig,
    report_dir: &std::path::Path,
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
            let tf = live::TargetFile::load(&file)?;
            // Fail fast on unreadable files, unset secrets, mismatched keys: before any request.
            tf.parts(insecure)?;
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
    let total: usize = scenarios.iter().map(|s| s.selected_checks().len()).sum();
    let style = Style::detect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let on_check: OnCheck = Arc::new(move |sc, c| {
        let k = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        println!("[{k:>width$}/{total}] {}", style.paint(c, &run::line(&sc.id, c)), width = total.to_string().len());
    });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let mut report = rt.block_on(run::run_all(&scenarios, &source, cfg, Some(on_check)));
    report.configuration = configuration;
    let paths =
        report::write_all(&report, report_dir, formats).with_context(|| format!("writing the reports into {}", report_dir.display()))?;
    println!(
        "\n{} scenarios, {} — verdict: {} ({:.0} ms)",
        report.scenarios.len(),
        report.totals.line(),
        style.verdict(report.verdict),
        report.duration_ms
    );
    for s in report.scenarios.iter().filter(|s| s.error.is_some()) {
        println!("scenario {} did not run: {}", s.id, s.error.as_deref().unwrap_or_default());
    }
    for p in &paths {
        println!("report: {}", p.display());
    }
    Ok(report.exit_code() as u8)
}

/// Terminal colours: only on a terminal, and never with NO_COLOR set (https://no-color.org).
#[derive(Clone, Copy)]
struct Style {
    colour: bool,
}

impl Style {
    fn detect() -> Style {
        use std::io::IsTerminal;
        Style { colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    fn code(status: &str) -> &'static str {
        match status {
            "pass" => "32",
            "fail" => "31",
            "warn" => "33",
            "skip" => "90",
            "blocked" => "34",
            _ => "35",
        }
    }

    fn paint(&self, c: &mtls_harness::report::CheckResult, line: &str) -> String {
        if !self.colour {
            return line.to_string();
        }
        let word = c.status.name();
        let code = if c.as_expected() && c.status.name() == "fail" { "36" } else { Style::code(word) };
        match line.split_once(' ') {
            Some((head, rest)) => format!("\x1b[{code}m{head}\x1b[0m {rest}"),
            None => line.to_string(),
        }
    }

    fn verdict(&self, v: &str) -> String {
        if self.colour {
            format!("\x1b[1;{}m{v}\x1b[0m", Style::code(v))
        } else {
            v.to_string()
        }
    }
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

fn serve_cmd(cfg: &MockConfig, pki_dir: &std::path::Path, judge: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let pki = pki::TestPki::generate()?;
        pki.write_to(pki_dir).with_context(|| format!("writing the PKI into {}", pki_dir.display()))?;
        let started_at = run::now_rfc3339();
        let t0 = std::time::Instant::now();
        let mt = run::start_mock_target(cfg, &pki, Default::default()).await?;
        let mock = &mt.mock;
        let dir = pki_dir.display();
        println!("mtls-harness mock AS, shape {} — Ctrl-C to stop", cfg.shape.name());
        println!("issuer:    {}", mock.issuer);
        println!("discovery: {}/.well-known/openid-configuration", mock.issuer);
        for l in &mock.state.layout.listeners {
            let asks = if l.request_cert { "requests a client certificate" } else { "requests no client certificate" };
            println!("listener:  {:<6} {} ({asks})", l.name, l.base);
        }
        println!("resource:  {}", mock.resource_url);
        println!("CA:        {dir}/ca.pem");
        println!("clients:");
        for c in &mock.state.clients {
            let creds = match c.method {
                AuthMethod::TlsClientAuth => format!("cert {dir}/registered.pem key {dir}/registered.key"),
                AuthMethod::SelfSignedTlsClientAuth => format!("cert {dir}/self-signed.pem key {dir}/self-signed.key"),
                AuthMethod::ClientSecretBasic => {
                    let path = pki_dir.join(format!("{}.secret", c.client_id));
                    let secret = c.secret.as_deref().unwrap_or_default();
                    pki::write_file(&path, secret.as_bytes(), true).with_context(|| format!("writing {}", path.display()))?;
                    format!("secret in {} (mode 0600)", path.display())
                }
                AuthMethod::None => "public client".to_string(),
            };
            let how = c.tls_match.as_ref().map(|m| format!(" [{}]", m.metadata_name())).unwrap_or_default();
            println!("  {:<22} {:<28} {creds}{how}", c.client_id, c.method.name());
        }
        let token = mock
            .state
            .discovery()
            .get("mtls_endpoint_aliases")
            .and_then(|a| a.get("token_endpoint"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/token", mock.issuer));
        println!("try:");
        println!(
            "  curl --cacert {dir}/ca.pem --cert {dir}/registered.pem --key {dir}/registered.key -d grant_type=client_credentials -d client_id={} {token}",
            mtls_harness::mock::TLS_CLIENT_ID
        );
        // The observer is in place before "requests:" is printed: a client that starts on that
        // line must find its first request logged.
        mock.journal.observe(Box::new(|e| println!("  {}", e.line())));
        println!("requests:");
        shutdown_signal().await;
        println!("stopped");
        let Some(report_dir) = judge else { return anyhow::Ok(0) };
        let sc = scenario::Scenario::for_judging(cfg.shape);
        let on_check: OnCheck = Arc::new(|sc, c| println!("{}", run::line(&sc.id, c)));
        let result = run::judge_hand_run_client(&sc, &mt, Some(&on_check)).await;
        let mut report = run::assemble(vec![result], started_at, t0);
        report.configuration = report::Configuration {
            source: "embedded mock AS (serve --judge): a client run by hand".into(),
            ..Default::default()
        };
        let paths = report::write_all(&report, report_dir, &report::Format::ALL)
            .with_context(|| format!("writing the reports into {}", report_dir.display()))?;
        println!("verdict: {}", report.verdict);
        for p in paths {
            println!("report: {}", p.display());
        }
        anyhow::Ok(report.exit_code() as u8)
    })
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn client_cmd(misbehave: &[Misbehaviour]) -> anyhow::Result<u8> {
    let env = ClientEnv::from_env().map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let out = rt.block_on(reference_client::run(&env, misbehave)).map_err(anyhow::Error::msg)?;
    for line in &out.log {
        eprintln!("{line}");
    }
    Ok(if out.failed.is_empty() { 0 } else { 1 })
}

fn bench_cmd(dir: &std::path::Path, runs: usize, scale: &str) -> anyhow::Result<u8> {
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
