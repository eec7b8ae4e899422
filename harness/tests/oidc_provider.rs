//! The harness against a real AS: node-oidc-provider (pinned in fixtures/peers/package-lock.json)
//! started as a child process on 127.0.0.1 in three configurations — identical aliases, split
//! aliases on a second listener, no aliases — each with JWT access tokens (a `resource`
//! indicator) and with opaque ones. Every check's outcome is asserted; the ones that are not
//! `pass` are node-oidc-provider's documented deviations (README, "node-oidc-provider") or
//! checks that do not apply.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::pki::TestPki;
use mtls_harness::run::{run_scenario, RunConfig, Source};

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/peers")
}

/// `npm ci` once per test process if the pinned peers are not installed yet.
fn ensure_installed() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if *done || peers_dir().join("node_modules/oidc-provider/package.json").exists() {
        *done = true;
        return;
    }
    eprintln!("installing the pinned node peers: npm ci in {}", peers_dir().display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(peers_dir())
        .status()
        .expect("npm is on the PATH (Node 20 and npm are required for this test)");
    assert!(status.success(), "npm ci in fixtures/peers failed");
    *done = true;
}

/// A running node-oidc-provider; killed when dropped.
struct Peer {
    child: Child,
    issuer: String,
    resource: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_peer(mode: &str, pki_dir: &Path, secret: &str) -> Peer {
    ensure_installed();
    let mut child = Command::new("node")
        .arg(peers_dir().join("oidc-provider/start.mjs"))
        .env("PKI_DIR", pki_dir)
        .env("ALIAS_MODE", mode)
        .env("PORT", "0")
        .env("ALIAS_PORT", "0")
        .env("PEER_CLIENT_SECRET", secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut peer = Peer { child, issuer: String::new(), resource: String::new() };
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("node-oidc-provider printed its ready line within 30 s");
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line `{line}`: {e}"));
    assert_eq!(ready["ready"], true, "{line}");
    peer.issuer = ready["issuer"].as_str().unwrap().to_string();
    peer.resource = ready["resource"].as_str().unwrap().to_string();
    peer
}

fn target_file(dir: &Path, name: &str, peer: &Peer, secret_env: &str, jwt: bool) -> PathBuf {
    let token_params = if jwt { format!("token_params: {{ resource: \"{}\" }}\n", peer.resource) } else { String::new() };
    let body = format!(
        "id: node-oidc-provider-{name}\nissuer: {}\nca_bundle: ca.pem\nresource: {}\n{token_params}clients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\n  self_signed: {{ client_id: tpp-self-signed-001, cert: self-signed.pem, key: self-signed.key }}\n  secret: {{ client_id: tpp-secret-001, secret_env: {secret_env} }}\n  public: {{ client_id: tpp-public-001 }}\nclient_ca: {{ cert: ca.pem, key: ca.key }}\n",
        peer.issuer, peer.resource
    );
    let f = dir.join(format!("{name}.yaml"));
    std::fs::write(&f, body).unwrap();
    f
}

async fn outcomes(file: &Path) -> BTreeMap<&'static str, (Status, String)> {
    let tf = Arc::new(TargetFile::load(file).unwrap());
    let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    r.checks.iter().map(|c| (c.id, (c.status, c.reason.clone()))).collect()
}

async fn run_mode(mode: &str) -> (BTreeMap<&'static str, (Status, String)>, BTreeMap<&'static str, (Status, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let secret = format!("s3cr3t-{mode}-{}", std::process::id());
    let var = format!("MTLS_TEST_NODE_SECRET_{}", mode.to_uppercase());
    std::env::set_var(&var, &secret);
    let peer = start_peer(mode, tmp.path(), &secret);
    let jwt = outcomes(&target_file(tmp.path(), &format!("{mode}-jwt"), &peer, &var, true)).await;
    let opaque = outcomes(&target_file(tmp.path(), &format!("{mode}-opaque"), &peer, &var, false)).await;
    (jwt, opaque)
}

/// Every check passes except the listed ones, which end exactly as listed.
fn assert_outcomes(label: &str, got: &BTreeMap<&'static str, (Status, String)>, except: &[(&str, Status, &str)]) {
    assert_eq!(got.len(), mtls_harness::checks::CATALOGUE.iter().filter(|c| c.mode == mtls_harness::scenario::Mode::As).count(), "{label}: the whole AS catalogue ran");
    for (id, (status, reason)) in got {
        match except.iter().find(|(e, _, _)| e == id) {
            Some((_, want, because)) => {
                assert_eq!(status, want, "{label}: {id}: {reason}");
                assert!(reason.contains(because), "{label}: {id}: reason `{reason}` should mention `{because}`");
            }
            None => assert_eq!(*status, Status::Pass, "{label}: {id}: {reason}"),
        }
    }
}

/// JWT access tokens (`resource` indicator): node-oidc-provider will not introspect them
/// (a deviation from RFC 7662 §2.2, caught by bind.introspection-cnf) nor revoke them
/// (`unsupported_token_type`, which RFC 7009 §2.2.1 permits: revoke.alias has nothing to judge).
const JWT_EXCEPTIONS: [(&str, Status, &str); 2] = [
    ("bind.introspection-cnf", Status::Fail, "RFC 7662 §2.2"),
    ("revoke.alias", Status::Skip, "RFC 7009 §2.2.1"),
];
/// Opaque access tokens: no claims to read, the binding is judged through introspection.
const OPAQUE_EXCEPTIONS: [(&str, Status, &str); 1] = [("bind.token-cnf", Status::Skip, "not a JWT")];

async fn check_mode(mode: &str, extra: &[(&str, Status, &str)]) {
    let (jwt, opaque) = run_mode(mode).await;
    let jwt_except: Vec<_> = JWT_EXCEPTIONS.iter().chain(extra).copied().collect();
    let opaque_except: Vec<_> = OPAQUE_EXCEPTIONS.iter().chain(extra).copied().collect();
    assert_outcomes(&format!("{mode}/jwt"), &jwt, &jwt_except);
    assert_outcomes(&format!("{mode}/opaque"), &opaque, &opaque_except);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_identical_aliases() {
    check_mode("identical", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_with_split_aliases_on_a_second_listener() {
    check_mode("split", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_without_aliases() {
    check_mode("none", &[("disc.aliases.keys", Status::Skip, "not published")]).await;
}
