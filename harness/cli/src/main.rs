//! The `mtls-harness` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod terminal;

use mtls_harness::discovery::{Malformed, Shape};
use mtls_harness::mock::{Defect, MockConfig};
use mtls_harness::reference_client::Misbehaviour;
use mtls_harness::run::RunConfig;
use mtls_harness::{pki, report};

#[derive(Parser)]
#[command(name = "mtls-harness", version, about = "RFC 8705 mutual-TLS conformance harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How the observed client authenticates (observe's private_key_jwt options).
#[derive(clap::Args, Debug)]
struct ObservedAuth {
    /// How the client is registered to authenticate: tls_client_auth,
    /// self_signed_tls_client_auth or private_key_jwt (MTLS_CLIENT_AUTH for --client-cmd).
    /// Default: the target file's client; else read from the traffic (a jwt-bearer
    /// client_assertion makes it private_key_jwt), else judged as an mTLS client.
    #[arg(long)]
    client_auth: Option<String>,
    /// private_key_jwt: the client's assertion-signing key (PEM or private JWK; MTLS_JWT_KEY
    /// for --client-cmd). Its public half verifies the observed assertions; never shown.
    #[arg(long)]
    jwt_key: Option<PathBuf>,
    /// private_key_jwt: the algorithm of --jwt-key (PS256, ES256, EdDSA, RS256; MTLS_JWT_ALG).
    #[arg(long, default_value = "EdDSA")]
    jwt_alg: String,
    /// private_key_jwt: the `kid` of --jwt-key (MTLS_JWT_KID).
    #[arg(long)]
    jwt_kid: Option<String>,
    /// private_key_jwt: the client's registered public keys (a JWK Set file) to verify the
    /// observed assertions with, when the signing key is not at hand.
    #[arg(long)]
    client_jwks: Option<PathBuf>,
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
        /// Against a live target: at most this many requests in flight to one origin, whichever
        /// certificate identity sends them (1 to 64; default 6; a target file's `max_concurrency`
        /// can lower it), while every check starts as soon as the checks it needs have results.
        /// Against the embedded mock: at most this many checks of one scenario in flight (default
        /// 1: its scenarios already run concurrently).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
        max_concurrency: Option<u64>,
        /// Send a request answered 429 (rate limited) or 503 (unavailable) again, up to N times
        /// (0 to 10), each after the wait its Retry-After asks for (at most 30 s; without one 1,
        /// 2, 4 s…). Default 0: such an answer ends the check in an `error` quoting Retry-After.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
        retry_rate_limited: u32,
        /// Where the reports are written.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// Report formats, comma-separated: json, junit, html, md.
        #[arg(long, default_value = "json,junit,html,md")]
        format: String,
        /// Judge this profile's rules too (repeatable; see `list --profiles`), on every AS-mode
        /// scenario or the live target, besides the target file's own `profile:`.
        #[arg(long = "profile")]
        profiles: Vec<String>,
        /// A directory of further profile YAML files (one per profile; same id replaces a built-in one).
        #[arg(long)]
        profiles_dir: Option<PathBuf>,
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
        /// Instead: round-trip times in ms, comma-separated (e.g. 0,20,50,150). The AS catalogue
        /// against a real node-oidc-provider in each alias layout, by the harness and by the
        /// curl/openssl baseline, both through an in-process proxy adding that RTT.
        #[arg(long)]
        rtt: Option<String>,
    },
    /// List scenarios and the check catalogue (or, with --profiles, the profiles and their rules).
    List {
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// List the profiles (built in, and those of --profiles-dir) with every rule and citation.
        #[arg(long)]
        profiles: bool,
        /// A directory of further profile YAML files.
        #[arg(long)]
        profiles_dir: Option<PathBuf>,
    },
    /// Generate a test PKI and write it as PEM files (private keys mode 0600). Existing files
    /// (or symlinks) at those names are refused unless --force, which replaces them atomically
    /// without following any link.
    Pki {
        #[arg(long)]
        out: PathBuf,
        /// Replace files already there.
        #[arg(long)]
        force: bool,
        /// How the certificates look. compact: ECDSA P-256, one CA (ca.pem, ca.key) that
        /// issues everything. ecosystem: Open Finance transport certificates — RSA-2048 leaves
        /// under RSA-4096 CAs, root → intermediate → issuing, long subjects, policies, CRL
        /// distribution points, AIA and PSD2 qcStatements (1.8–2.2 KB DER per leaf); ca.pem is
        /// the root alone (the trust anchor; ca.key its key), every leaf file holds the leaf
        /// then its intermediates, and issuing-ca.pem/issuing-ca.key are the CA to name as a
        /// target's client_ca. Takes seconds (RSA-4096 key generation).
        #[arg(long, value_enum, default_value_t = pki::PkiStyle::Compact)]
        style: pki::PkiStyle,
    },
    /// The reference client: reads MTLS_ISSUER, MTLS_CLIENT_ID, MTLS_CERT, MTLS_KEY, MTLS_CA,
    /// MTLS_RESOURCE, MTLS_REDIRECT_URI, MTLS_STEPS, MTLS_USE_ALIASES, MTLS_CLIENT_AUTH (and for
    /// private_key_jwt MTLS_JWT_KEY, MTLS_JWT_KID, MTLS_JWT_ALG); exits 0 when every step worked.
    Client {
        /// Misbehave on purpose (repeatable), for self-tests of the client checks.
        #[arg(long, value_enum)]
        misbehave: Vec<Misbehaviour>,
    },
    /// Print a shell completion script: `mtls-harness completions bash > /etc/bash_completion.d/mtls-harness`
    /// (zsh: into a directory of $fpath as `_mtls-harness`; fish: ~/.config/fish/completions/mtls-harness.fish).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `mtls-harness manpage > /usr/local/share/man/man1/mtls-harness.1`.
    Manpage,
    /// Check a target file against its AS in about a second, before a run: discovery and its
    /// issuer, the server certificate against ca_bundle, each client's accept request, the
    /// resource with that token, PAR with the redirect URI. Exit 0 "ready to run", else the
    /// first thing to fix with the key and line of the file (1: the AS refused what the file
    /// says it must accept; 2: could not be judged, or the file itself is wrong).
    CheckTarget {
        /// The target file.
        #[arg(env = "MTLS_HARNESS_TARGET")]
        file: PathBuf,
        /// Accept any server certificate (warned about).
        #[arg(long)]
        insecure: bool,
    },
    /// Read an AS from its issuer URL and write a commented target file: the shape, endpoints,
    /// advertised auth methods and which origins ask for a client certificate filled in; TODO
    /// where only you know (client ids; secrets as environment-variable names). Never
    /// overwrites a file.
    Init {
        /// The AS's issuer (https).
        #[arg(long)]
        issuer: String,
        /// The CA bundle its server certificates chain to (default: the system's roots).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Read the AS without verifying its certificate (warned about; noted in the file).
        #[arg(long)]
        insecure: bool,
        /// Your client certificate (PEM), to fill in its path and name its subject.
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// Its private key (PEM); only its path is written.
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
        /// The file to write.
        #[arg(long, default_value = "target.yaml")]
        out: PathBuf,
        /// Timeout of each request, seconds (connect: at most 5).
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// The client_id registered for the certificate (else a TODO).
        #[arg(long)]
        client_id: Option<String>,
        /// The redirect URI registered for the client (else a TODO when the AS has PAR or an
        /// authorization endpoint).
        #[arg(long)]
        redirect_uri: Option<String>,
        /// The scope for client_credentials token requests (else a TODO when the AS publishes
        /// scopes; `--scope ''` for none).
        #[arg(long)]
        scope: Option<String>,
        /// Whether your ecosystem requires certificate-bound tokens (else a TODO when the AS
        /// does not advertise them).
        #[arg(long)]
        require_bound_tokens: Option<bool>,
    },
    /// Observe mode: a recording mTLS proxy in front of a real AS. One loopback listener per
    /// upstream origin (asking for a client certificate where the upstream does); the client under
    /// test is pointed at the local issuer and trusts the proxy's CA; every request goes on to the
    /// upstream with the client's own certificate and is journalled; then the client checks judge
    /// it and the reports are written. Stops when --client-cmd exits, after --duration, or on Ctrl-C.
    Observe {
        /// The real AS's issuer (https).
        #[arg(long)]
        upstream: Option<String>,
        /// A live target file to take the issuer, CA bundle, client (tls_client_auth, else
        /// self_signed, else private_key_jwt — first with --client-auth private_key_jwt: id,
        /// certificate, key, assertion key) and resource from; flags override it.
        #[arg(long)]
        target: Option<PathBuf>,
        /// The client's certificate (PEM); re-presented to the upstream for the client.
        #[arg(long)]
        client_cert: Option<PathBuf>,
        /// The client's private key (PEM). Kept in memory only; never written or shown.
        #[arg(long)]
        client_key: Option<PathBuf>,
        /// Trust anchors for the upstream (PEM bundle); default: the system's.
        #[arg(long)]
        upstream_ca: Option<PathBuf>,
        /// Where the issuer's listener listens; the others take free ports on the same address.
        /// Anything but loopback is warned about.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Serve the upstream's discovery unchanged (issuer and URLs), for clients pointed at the
        /// listeners by a resolver or `--connect-to` (the lines are printed).
        #[arg(long)]
        preserve_issuer: bool,
        /// The protected resource the client calls (gets a listener of its own origin).
        #[arg(long)]
        resource: Option<String>,
        /// The client's id (MTLS_CLIENT_ID for --client-cmd).
        #[arg(long)]
        client_id: Option<String>,
        /// Run this command as the client (with MTLS_ISSUER, MTLS_CA, MTLS_CERT, MTLS_KEY,
        /// MTLS_CLIENT_ID, MTLS_RESOURCE, MTLS_STEPS, MTLS_USE_ALIASES set) and stop when it exits.
        #[arg(long)]
        client_cmd: Option<String>,
        /// The steps the client is asked to perform (comma-separated: token, par, authorize,
        /// introspect, userinfo, resource, revoke); a step whose endpoint it never calls fails.
        #[arg(long)]
        steps: Option<String>,
        /// MTLS_USE_ALIASES for --client-cmd.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        use_aliases: bool,
        #[command(flatten)]
        auth: Box<ObservedAuth>,
        /// Stop after this many seconds (also bounds --client-cmd; default for it: 120).
        #[arg(long)]
        duration: Option<u64>,
        /// Where the proxy's CA certificate is written (default: <report-dir>/observe-ca.pem).
        #[arg(long)]
        ca_out: Option<PathBuf>,
        /// Timeout of each upstream exchange, seconds (connect: at most 5).
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Where the reports are written.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// Report formats, comma-separated: json, junit, html, md.
        #[arg(long, default_value = "json,junit,html,md")]
        format: String,
    },
    /// Run the mock AS standalone until Ctrl-C, for pointing a client at it by hand.
    Serve {
        /// Discovery shape: identical, split, partial, missing, malformed.
        #[arg(long, value_enum, default_value_t = Shape::Identical)]
        shape: Shape,
        /// For --shape malformed: not_object, relative_url, http_url, authorization_endpoint, non_endpoint_key.
        #[arg(long, value_enum)]
        malformed: Option<Malformed>,
        /// Plant a defect (repeatable); see `mtls-harness list`.
        #[arg(long = "defect", value_enum)]
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

/// `--client-cmd`, split like a POSIX shell would (quotes respected).
fn client_argv(c: &str) -> anyhow::Result<Vec<String>> {
    match shlex::split(c) {
        Some(argv) if !argv.is_empty() => Ok(argv),
        Some(_) => anyhow::bail!("--client-cmd is empty: give the command that runs the client under test"),
        None => anyhow::bail!("--client-cmd `{c}` has an unterminated quote or escape"),
    }
}

fn parse_formats(s: &str) -> Result<Vec<report::Format>, String> {
    let formats: Vec<_> = s.split(',').filter(|x| !x.trim().is_empty()).map(report::Format::parse).collect::<Result<_, _>>()?;
    if formats.is_empty() {
        return Err("--format is empty: give one or more of json, junit, html, md (comma-separated)".into());
    }
    Ok(formats)
}

/// A reader that went away (`mtls-harness list | head`) ends the program quietly, as a shell
/// tool should — exit 141 (128 + SIGPIPE) — instead of a panic from `println!`.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<String>().map(String::as_str).or_else(|| info.payload().downcast_ref::<&str>().copied());
        if msg.is_some_and(|m| m.starts_with("failed printing to std") && m.contains("Broken pipe")) {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) => {
            ExitCode::from(141)
        }
        Err(e) => {
            eprintln!("error: {}", mtls_harness::text::inert(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn dispatch(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Run {
            scenarios,
            target,
            insecure,
            client_cmd,
            run_timeout,
            max_concurrency,
            retry_rate_limited,
            report_dir,
            format,
            profiles,
            profiles_dir,
        } => {
            let client_cmd = client_cmd.as_deref().map(client_argv).transpose()?;
            let available = mtls_harness::profile::available(profiles_dir.as_deref())?;
            // An unknown --profile is refused before anything runs.
            mtls_harness::profile::pick(&available, &profiles).map_err(|e| anyhow::anyhow!("--profile: {e}"))?;
            let cfg = RunConfig {
                client_cmd,
                run_timeout: std::time::Duration::from_secs(run_timeout),
                max_concurrency: max_concurrency.map(|n| n as usize),
                limits: mtls_harness::http::Limits::default().retrying(retry_rate_limited),
                profiles,
                available_profiles: std::sync::Arc::new(available),
                ..RunConfig::default()
            };
            let formats = parse_formats(&format).map_err(anyhow::Error::msg)?;
            commands::run::run(scenarios, target, insecure, &cfg, &report_dir, &formats)
        }
        Command::CheckTarget { file, insecure } => commands::check_target::check_target(&file, insecure, &RunConfig::default()),
        Command::Client { misbehave } => commands::client::reference(&misbehave),
        Command::List { profiles: true, profiles_dir, .. } => commands::list::profiles(profiles_dir.as_deref()),
        Command::List { scenarios, .. } => commands::list::list(&scenarios),
        Command::Bench { rtt: Some(rtts), runs, .. } => commands::bench::rtt(&rtts, runs),
        Command::Bench { scenarios, runs, scale, rtt: None } => commands::bench::bench(&scenarios, runs, &scale),
        Command::Serve { shape, malformed, defects, pki_dir, judge, report_dir } => {
            // A client pointed at it by hand is judged under no profile: its assertions are
            // accepted as plain RFC 7523 §3 allows (RS256, aud = the token endpoint URL).
            let assertion_policy = mtls_harness::mock::AssertionPolicy::RFC7523;
            let cfg = MockConfig { shape, malformed, defects, assertion_policy, ..MockConfig::new(shape) };
            commands::serve::serve(&cfg, &pki_dir, judge.then_some(report_dir.as_path()))
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Into memory first: clap_complete panics on a failed write, a closed pipe included.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mtls-harness", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(0)
        }
        Command::Manpage => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(0)
        }
        Command::Init { issuer, ca, insecure, cert, key, out, timeout, client_id, redirect_uri, scope, require_bound_tokens } => {
            let issuer_arg = issuer;
            let issuer = url::Url::parse(&issuer_arg).map_err(|e| anyhow::anyhow!("--issuer `{issuer_arg}` is not a URL ({e})"))?;
            anyhow::ensure!(issuer.scheme() == "https", "--issuer {issuer}: an https URL is needed (RFC 8414 §2)");
            let t = std::time::Duration::from_secs(timeout.max(1));
            let mut limits = mtls_harness::http::Limits::default();
            (limits.connect, limits.request) = (t.min(std::time::Duration::from_secs(5)), t);
            let answers = mtls_harness::init::Answers { client_id, redirect_uri, scope, require_bound_tokens };
            commands::init::init(&mtls_harness::init::InitInputs {
                issuer,
                issuer_arg,
                ca,
                insecure,
                cert: cert.zip(key),
                out,
                limits,
                answers,
            })
        }
        Command::Observe {
            upstream,
            target,
            client_cert,
            client_key,
            upstream_ca,
            listen,
            preserve_issuer,
            resource,
            client_id,
            client_cmd,
            steps,
            use_aliases,
            auth,
            duration,
            ca_out,
            timeout,
            report_dir,
            format,
        } => {
            let client_cmd = client_cmd.as_deref().map(client_argv).transpose()?;
            let steps = match steps {
                None => None,
                Some(s) => Some(
                    s.split(',')
                        .filter(|x| !x.trim().is_empty())
                        .map(|x| {
                            mtls_harness::scenario::Step::parse(x.trim())
                                .ok_or_else(|| anyhow::anyhow!("--steps: unknown step `{}`", x.trim()))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?,
                ),
            };
            let formats = parse_formats(&format).map_err(anyhow::Error::msg)?;
            commands::observe::observe(&commands::observe::ObserveArgs {
                upstream,
                target,
                client_cert,
                client_key,
                upstream_ca,
                listen,
                preserve_issuer,
                resource,
                client_id,
                client_cmd,
                steps,
                use_aliases,
                client_auth: auth.client_auth,
                jwt_key: auth.jwt_key,
                jwt_alg: auth.jwt_alg,
                jwt_kid: auth.jwt_kid,
                client_jwks: auth.client_jwks,
                duration,
                ca_out,
                report_dir,
                formats,
                timeout,
            })
        }
        Command::Pki { out, force, style } => {
            let pki = pki::TestPki::generate_with(style)?;
            let written = if force { pki.write_to(&out) } else { pki.write_new_to(&out) };
            for p in written? {
                println!("{}", p.display());
            }
            Ok(0)
        }
    }
}
