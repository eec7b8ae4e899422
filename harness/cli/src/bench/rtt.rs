//! `mtls-harness bench --rtt`: the AS catalogue against a real node-oidc-provider at a given
//! round-trip time, by the harness and by the curl/openssl baseline through the same
//! [`DelayProxy`], side by side in one run, in each of the peer's alias layouts.
//!
//! The peer is told to name the proxy's ports in its issuer (`PUBLIC_PORT`), so discovery, every
//! endpoint and the resource are reached through the proxy by both, with no resolver tricks.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

use super::delay::DelayProxy;
use super::Spread;
use crate::pki::TestPki;

/// The wider per-origin bound also measured (`--max-concurrency`): what a sandbox that allows
/// more parallel requests gets.
pub const WIDE: usize = 16;

/// The peer's alias layouts (fixtures/peers/oidc-provider/README.md).
pub const LAYOUTS: [&str; 3] = ["identical", "split", "none"];

/// What to measure.
pub struct Options {
    /// Round-trip times, milliseconds.
    pub rtts: Vec<u64>,
    /// Measured runs of each side per RTT and layout (after one warm-up each).
    pub runs: usize,
    /// The repository root (the peer and the baseline script are found under it).
    pub repo: PathBuf,
    /// The harness binary run as the user runs it.
    pub bin: PathBuf,
}

/// One RTT and layout: both sides' wall times and what they did.
pub struct Row {
    /// Round-trip time, milliseconds.
    pub rtt_ms: u64,
    /// The peer's alias layout.
    pub layout: &'static str,
    /// The harness, as a process, at the default per-origin bound (`--max-concurrency` 6).
    pub harness: Spread,
    /// The same at [`WIDE`] requests in flight per origin.
    pub harness_wide: Spread,
    /// The harness's summary line (`1 scenarios, 31 checks: …`) and verdict exit code.
    pub harness_summary: String,
    /// The curl/openssl baseline.
    pub baseline: Spread,
    /// The baseline's own line (`N processes, K/M checks passed`).
    pub baseline_summary: String,
}

impl Row {
    /// Wall time in round trips (none at RTT 0).
    pub fn in_rtts(&self, ms: f64) -> Option<f64> {
        (self.rtt_ms > 0).then(|| ms / self.rtt_ms as f64)
    }

    /// How many times faster the harness (at `ms`) is than the baseline (medians).
    pub fn ratio(&self, ms: f64) -> f64 {
        self.baseline.median / ms.max(0.001)
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum RttError {
    /// An I/O step failed (`what` says which).
    #[error("{what}: {source}")]
    Io {
        /// The step.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The peer or a measured command misbehaved.
    #[error("{0}")]
    Peer(String),
    /// The test PKI could not be made.
    #[error("test PKI: {0}")]
    Pki(#[from] mtls_core::pki::PkiError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RttError {
    let what = what.into();
    move |source| RttError::Io { what, source }
}

/// Measure every RTT × layout; `on_row` sees each row as soon as it is measured.
pub fn measure(opts: &Options, mut on_row: impl FnMut(&Row)) -> Result<Vec<Row>, RttError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io("tokio runtime"))?;
    let peer = opts.repo.join("fixtures/peers/oidc-provider/start.mjs");
    let baseline = opts.repo.join("bench/curl-baseline-node.sh");
    let modules = opts.repo.join("fixtures/peers/node_modules/oidc-provider");
    if !peer.is_file() || !baseline.is_file() || !modules.is_dir() {
        return Err(RttError::Peer(format!(
            "{} or {} or {} is missing: run from the repository root, after `npm ci` in fixtures/peers",
            peer.display(),
            baseline.display(),
            modules.display()
        )));
    }
    let mut rows = Vec::new();
    for &rtt in &opts.rtts {
        for layout in LAYOUTS {
            let row = rt.block_on(one(opts, &peer, &baseline, rtt, layout))?;
            on_row(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// A node-oidc-provider child behind proxies; killed when dropped.
struct Peer {
    _child: Child,
    issuer: String,
    resource: String,
    _proxies: Vec<DelayProxy>,
}

async fn start_peer(peer: &Path, pki: &Path, layout: &str, secret: &str, rtt: Duration) -> Result<Peer, RttError> {
    let main = DelayProxy::bind(rtt).await.map_err(io("binding the delay proxy"))?;
    let alias = DelayProxy::bind(rtt).await.map_err(io("binding the delay proxy"))?;
    let mut child = Command::new("node")
        .arg(peer)
        .env("PKI_DIR", pki)
        .env("ALIAS_MODE", layout)
        .env("PORT", "0")
        .env("ALIAS_PORT", "0")
        .env("PUBLIC_PORT", main.addr.port().to_string())
        .env("PUBLIC_ALIAS_PORT", alias.addr.port().to_string())
        .env("PEER_CLIENT_SECRET", secret)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(io(format!("starting node {}", peer.display())))?;
    let stdout = child.stdout.take().ok_or_else(|| RttError::Peer("node's stdout".into()))?;
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(stdout);
    match tokio::time::timeout(Duration::from_secs(30), reader.read_line(&mut line)).await {
        Ok(Ok(n)) if n > 0 => {}
        Ok(_) => return Err(RttError::Peer(format!("node-oidc-provider ({layout}) exited before its ready line"))),
        Err(_) => return Err(RttError::Peer(format!("node-oidc-provider ({layout}) printed no ready line within 30 s"))),
    }
    let ready: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| RttError::Peer(format!("node-oidc-provider's ready line: {e}")))?;
    let field = |k: &str| ready[k].as_str().map(str::to_string).ok_or_else(|| RttError::Peer(format!("ready line without `{k}`")));
    let port = |k: &str| ready["listen"][k].as_u64().and_then(|p| u16::try_from(p).ok());
    let to = |p: u16| std::net::SocketAddr::from(([127, 0, 0, 1], p));
    main.to(to(port("main").ok_or_else(|| RttError::Peer("ready line without listen.main".into()))?));
    if let Some(p) = port("alias") {
        alias.to(to(p));
    }
    Ok(Peer { _child: child, issuer: field("issuer")?, resource: field("resource")?, _proxies: vec![main, alias] })
}

/// The target file the harness runs with: the tests' (JWT access tokens, the harness holds the
/// client CA), so both sides do the same checks.
fn target_file(dir: &Path, peer: &Peer, secret_env: &str) -> Result<PathBuf, RttError> {
    let body = format!(
        "id: node-oidc-provider-bench\nissuer: {iss}\nca_bundle: ca.pem\nresource: {res}\ntoken_params: {{ resource: \"{res}\" }}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\n  self_signed: {{ client_id: tpp-self-signed-001, cert: self-signed.pem, key: self-signed.key }}\n  secret: {{ client_id: tpp-secret-001, secret_env: {secret_env} }}\n  public: {{ client_id: tpp-public-001 }}\n  private_key_jwt: {{ client_id: tpp-jwt-001, signing_key: jwt-client.key, alg: EdDSA }}\nclient_ca: {{ cert: ca.pem, key: ca.key }}\n",
        iss = peer.issuer,
        res = peer.resource
    );
    let f = dir.join("target.yaml");
    std::fs::write(&f, body).map_err(io(format!("writing {}", f.display())))?;
    Ok(f)
}

const SECRET_ENV: &str = "MTLS_BENCH_NODE_SECRET";

/// Run `cmd` to completion (60 s at most); its wall time, exit code and stdout.
async fn timed(mut cmd: Command, what: &str) -> Result<(Duration, Option<i32>, String), RttError> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true);
    let t0 = Instant::now();
    let child = cmd.spawn().map_err(io(format!("starting {what}")))?;
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| RttError::Peer(format!("{what} took more than 60 s")))?
        .map_err(io(format!("running {what}")))?;
    Ok((t0.elapsed(), out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

async fn one(opts: &Options, peer_script: &Path, baseline: &Path, rtt_ms: u64, layout: &'static str) -> Result<Row, RttError> {
    let dir = tempfile::tempdir().map_err(io("temporary directory"))?;
    TestPki::generate()?.write_to(dir.path())?;
    let secret = format!("bench-{}", mtls_core::ids::random_id());
    let peer = start_peer(peer_script, dir.path(), layout, &secret, Duration::from_millis(rtt_ms)).await?;
    let target = target_file(dir.path(), &peer, SECRET_ENV)?;
    let harness = |wide: bool| {
        let mut c = Command::new(&opts.bin);
        c.args(["run", "--format", "json", "--report-dir"]).arg(dir.path().join("reports")).arg("--target").arg(&target);
        if wide {
            c.args(["--max-concurrency", &WIDE.to_string()]);
        }
        c.env(SECRET_ENV, &secret).env_remove("MTLS_HARNESS_TARGET");
        c
    };
    let curl = || {
        let mut c = Command::new("bash");
        c.arg(baseline).arg(&peer.issuer).arg(&peer.resource).arg(dir.path()).env("BENCH_SECRET", &secret);
        c
    };
    // One warm-up of each (node's JIT, the page cache), then alternate.
    timed(harness(false), "the harness").await?;
    timed(curl(), "the curl baseline").await?;
    let (mut h, mut w, mut b) = (Vec::new(), Vec::new(), Vec::new());
    let (mut h_line, mut b_line) = (String::new(), String::new());
    for _ in 0..opts.runs.max(1) {
        let (d, code, out) = timed(harness(false), "the harness").await?;
        h.push(d);
        let summary = out.lines().find(|l| l.contains(" checks: ")).unwrap_or("(no summary line)");
        h_line = format!("{} (exit {})", summary.trim(), code.map_or("signal".into(), |c| c.to_string()));
        let (d, wide_code, _) = timed(harness(true), "the harness").await?;
        w.push(d);
        if wide_code != code {
            h_line = format!("{h_line}; at --max-concurrency {WIDE} exit {wide_code:?}");
        }
        let (d, _, out) = timed(curl(), "the curl baseline").await?;
        b.push(d);
        b_line = out.lines().find_map(|l| l.strip_prefix("baseline: ")).unwrap_or("(no baseline line)").trim().to_string();
    }
    Ok(Row {
        rtt_ms,
        layout,
        harness: Spread::of(&h),
        harness_wide: Spread::of(&w),
        harness_summary: h_line,
        baseline: Spread::of(&b),
        baseline_summary: b_line,
    })
}
