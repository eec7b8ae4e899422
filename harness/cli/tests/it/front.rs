//! node-oidc-provider behind a real TLS-terminating edge on 127.0.0.1 — what the nginx
//! (`nginx.rs`), Apache httpd (`apache.rs`) and HAProxy (`haproxy.rs`) tests share.
//!
//! [`start`] picks the edge's port P first, starts node-oidc-provider (`ALIAS_MODE=identical`,
//! one listener on a port of its own) with `PUBLIC_PORT=P`, so that its issuer and discovery
//! name the edge's URLs, then lets the caller start its edge on P proxying to node. Both are
//! child processes of the test with everything in a temporary directory of their own
//! (configuration, pid file, logs, the PKI), so instances run in parallel; both are killed when
//! the [`Front`] is dropped. Node takes the client certificate from the header(s) the edge sets
//! (`PEER_CERT_HEADER`), or from its own TLS socket when none is named.
//!
//! `.ci/run` installs the edges with apt-get. Without one, its tests skip (with a note on
//! stderr), except under CI (`CI=true`), where that is a failure ([`installed`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mtls_harness::pki::PkiStyle;

use crate::common::{ensure_node_peers, ready_line, repo};

/// A child process killed (and reaped) when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Is the variable `CI` set to `true`?
pub(crate) fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The edge's binary `name` (from the Debian package `package`): on the PATH, or in the sbin
/// directories a non-root PATH may lack. `None`, with a note on stderr, when it is not
/// installed; under `CI=true` that panics.
pub(crate) fn installed(name: &str, package: &str) -> Option<PathBuf> {
    let found = binary(name);
    if found.is_none() {
        crate::common::server_unavailable(&format!("{name} not installed (apt-get install -y {package}; .ci/run does)"));
    }
    found
}

/// The binary `name` on the PATH, or in the sbin directories a non-root PATH may lack.
pub(crate) fn binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|f| f.is_file())
}

/// A running edge in front of a running node-oidc-provider; both die when it is dropped.
pub(crate) struct Front {
    /// The issuer, as discovery names it: `https://127.0.0.1:<port>` (the edge).
    pub(crate) issuer: String,
    /// The protected resource of the node fixture, through the edge (`<issuer>/resource`).
    pub(crate) resource: String,
    /// The edge's port on 127.0.0.1.
    pub(crate) port: u16,
    /// node-oidc-provider's own port on 127.0.0.1 (behind the edge).
    pub(crate) node_port: u16,
    /// The test PKI (`TestPki::write_to`: `ca.pem`, `ca.key`, `registered.pem`, … as a target
    /// file names them), plus what the edge's `prepare` step added.
    pub(crate) pki_dir: PathBuf,
    /// The test CA (`<pki_dir>/ca.pem`): the trust anchor for the edge's server certificate.
    pub(crate) ca: PathBuf,
    /// The style of the test PKI (compact, or Open Finance-shaped chains).
    pub(crate) style: PkiStyle,
    /// The secret of node's `tpp-secret-001` client (`PEER_CLIENT_SECRET`).
    pub(crate) secret: String,
    /// The edge's log files (relative to `dir`), read by [`Front::log`].
    logs: Vec<PathBuf>,
    /// How to ask the edge to stop with its workers ([`EdgeKind::stop`]).
    stop: Option<fn(&Path) -> Command>,
    // Held only to be dropped, in this order: the edge, node, then the directory.
    _edge: Killed,
    _node: Killed,
    /// Everything of this pair: `pki/`, the edge's configuration and logs.
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Front {
    /// Ask the edge to stop ([`EdgeKind::stop`]) and give it 5 s to take its workers down; then
    /// the fields drop: the edge (killed, if still there), node, the directory.
    fn drop(&mut self) {
        let Some(stop) = self.stop else { return };
        let _ = stop(self.dir.path()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && matches!(self._edge.0.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Front {
    /// The edge's logs so far (for assertion messages).
    pub(crate) fn log(&self) -> String {
        self.logs.iter().map(|l| std::fs::read_to_string(self.dir.path().join(l)).unwrap_or_default()).collect::<Vec<_>>().join("\n")
    }
}

/// How to run one kind of edge in front of node.
pub(crate) struct EdgeKind<'a> {
    /// The edge's name, in messages and the secret.
    pub(crate) name: &'a str,
    /// The header(s) node reads the client certificate from (`PEER_CERT_HEADER`), if any.
    pub(crate) node_header: Option<&'a str>,
    /// The edge's log files, relative to the temporary directory.
    pub(crate) logs: &'a [&'a str],
    /// For an edge whose workers are processes of their own, which a SIGKILL of the process the
    /// test started would leave behind (still listening): the command, given the temporary
    /// directory, that asks it to stop with them (Apache: `apache2 -k stop`).
    pub(crate) stop: Option<fn(&Path) -> Command>,
    /// The style of the test PKI written for the pair.
    pub(crate) style: PkiStyle,
}

/// Start node-oidc-provider and, in front of it, the edge `launch` starts: `launch(dir, port,
/// node_port)` writes its configuration under `dir` (the PKI is in `dir/pki`, after `prepare`
/// added to it) and returns the edge listening on `port` (see [`wait_listening`]), or `None`
/// when the port was taken meanwhile — then another port is tried.
pub(crate) fn start(kind: &EdgeKind, prepare: impl FnOnce(&Path), mut launch: impl FnMut(&Path, u16, u16) -> Option<Killed>) -> Front {
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    crate::common::write_pki(kind.style, &pki_dir);
    prepare(&pki_dir);
    let secret = format!("s3cr3t-{}-{}", kind.name, std::process::id());
    // Another process may take the free port between our probe and the edge's bind: try again.
    for _ in 0..5 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        let (node, ready) = start_node(&pki_dir, &secret, port, kind.node_header);
        let node_port = u16::try_from(ready["listen"]["main"].as_u64().unwrap()).unwrap();
        drop(probe); // as late as possible: the edge binds it next
        if let Some(edge) = launch(dir.path(), port, node_port) {
            return Front {
                issuer: ready["issuer"].as_str().unwrap().to_string(),
                resource: ready["resource"].as_str().unwrap().to_string(),
                port,
                node_port,
                ca: pki_dir.join("ca.pem"),
                style: kind.style,
                pki_dir,
                secret,
                logs: kind.logs.iter().map(PathBuf::from).collect(),
                stop: kind.stop,
                _edge: edge,
                _node: node,
                dir,
            };
        }
        eprintln!("{}: port {port} taken meanwhile; trying another", kind.name);
    }
    panic!("{} could not bind a free port in 5 attempts", kind.name);
}

/// node-oidc-provider on a port of its own, advertising `public_port` (the edge's) in its
/// issuer, taking client certificates from the header(s) `header` names; and its ready line.
fn start_node(pki_dir: &Path, secret: &str, public_port: u16, header: Option<&str>) -> (Killed, serde_json::Value) {
    ensure_node_peers();
    let mut node = Command::new("node");
    if let Some(header) = header {
        node.env("PEER_CERT_HEADER", header);
    }
    let child = node
        .arg(repo().join("fixtures/peers/oidc-provider/start.mjs"))
        .env("PKI_DIR", pki_dir)
        .env("ALIAS_MODE", "identical")
        .env("PORT", "0")
        .env("PUBLIC_PORT", public_port.to_string())
        .env("PEER_CLIENT_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let mut node = Killed(child);
    let ready = ready_line(&mut node.0, Duration::from_secs(30), "node-oidc-provider");
    (node, ready)
}

/// Spawn `cmd` with its stdout and stderr appended to `out` (created afresh).
pub(crate) fn spawn(mut cmd: Command, out: &Path) -> Killed {
    let file = std::fs::File::create(out).unwrap();
    let child = cmd.stdin(Stdio::null()).stdout(file.try_clone().unwrap()).stderr(file).spawn().expect("the edge runs");
    Killed(child)
}

/// Wait until the edge `child` listens on `port`: `ready()` (e.g. its pid file exists, written
/// after its listening socket was bound) and a TCP connection succeeds, the process still alive
/// a moment later. `None` when it exited saying "Address already in use" in one of `logs`
/// (the port was taken meanwhile); any other exit, or 10 s without listening, panics with the logs.
pub(crate) fn wait_listening(mut child: Killed, port: u16, logs: &[PathBuf], ready: impl Fn() -> bool) -> Option<Killed> {
    let read = || logs.iter().map(|l| std::fs::read_to_string(l).unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = false;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            let log = read();
            if log.contains("Address already in use") {
                return None;
            }
            panic!("the edge exited ({status}):\n{log}");
        }
        if seen {
            return Some(child);
        }
        // Listening: check once more, a moment later, that it was the edge (still alive) and
        // not another process that took the port while the edge failed to bind it.
        seen = ready() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        assert!(Instant::now() < deadline, "the edge listening within 10 s:\n{}", read());
        std::thread::sleep(Duration::from_millis(if seen { 150 } else { 25 }));
    }
}
