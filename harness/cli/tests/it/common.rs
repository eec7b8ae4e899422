//! Helpers several test modules share.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::mock::terminator::Listener;
use mtls_harness::pki::{PkiStyle, TestPki};
use mtls_harness::run::{run_scenario, RunConfig, Source};
use wiremock::MockServer;

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built-in scenarios.
pub(crate) fn scenarios_dir() -> PathBuf {
    repo().join("scenarios")
}

/// `npm ci` in fixtures/peers, once per test process, if the pinned peers (node-oidc-provider,
/// oauth4webapi) are not installed yet. One lock for every module that needs them: two
/// `npm ci` in one directory at once would trip over each other.
pub(crate) fn ensure_node_peers() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    let peers = repo().join("fixtures/peers");
    let installed =
        ["oidc-provider", "oauth4webapi", "openid-client"].iter().all(|p| peers.join(format!("node_modules/{p}/package.json")).exists());
    if *done || installed {
        *done = true;
        return;
    }
    eprintln!("installing the pinned node peers: npm ci in {}", peers.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&peers)
        .status()
        .expect("npm is on the PATH (Node 20 and npm are required for this test)");
    assert!(status.success(), "npm ci in fixtures/peers failed");
    *done = true;
}

/// The test PKI of `style` — one per style and process (an ecosystem PKI takes seconds) — written
/// into `dir` (`TestPki::write_to`: `ca.pem`, `ca.key`, `registered.pem`, …).
pub(crate) fn write_pki(style: PkiStyle, dir: &Path) -> Arc<TestPki> {
    let pki = TestPki::shared_with(style).unwrap();
    pki.write_to(dir).unwrap();
    pki
}

/// A target file's `client_ca` for the PKI of `style` written by [`write_pki`]: the CA that
/// issues the clients' certificates, so the harness mints expired and other-subject ones — the
/// compact PKI's only CA, or the ecosystem PKI's issuing CA (`issuing-ca.pem` holds it and its
/// intermediate: the minted certificates carry the chain to the root).
pub(crate) fn client_ca(style: PkiStyle) -> &'static str {
    match style {
        PkiStyle::Compact => "client_ca: { cert: ca.pem, key: ca.key }\n",
        PkiStyle::Ecosystem => "client_ca: { cert: issuing-ca.pem, key: issuing-ca.key }\n",
    }
}

/// `f` for each PKI style, all at once (a thread each: starting a real server blocks), in
/// [`PkiStyle::ALL`]'s order.
pub(crate) fn each_style<T: Send>(f: impl Fn(PkiStyle) -> T + Sync) -> Vec<(PkiStyle, T)> {
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = PkiStyle::ALL.iter().map(|&style| (style, s.spawn(move || f(style)))).collect();
        handles.into_iter().map(|(style, h)| (style, h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))).collect()
    })
}

/// A wiremock, whose mounts the test decides, behind the harness's TLS edge on `host`.
pub(crate) async fn edge(pki: &TestPki, host: &str) -> (MockServer, Listener, String) {
    let wm = MockServer::start().await;
    let (l, base) = Listener::front(&pki.server, host, true, wm.uri()).await.unwrap();
    (wm, l, base)
}

/// Each check's status and reason, and the verdict, of a run against the live target in `file`.
pub(crate) async fn live_outcomes(file: &Path) -> (BTreeMap<&'static str, (Status, String)>, &'static str) {
    let tf = Arc::new(TargetFile::load(file).unwrap());
    let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{:?}", r.error);
    let verdict = mtls_harness::report::verdict(std::slice::from_ref(&r));
    (r.checks.iter().map(|c| (c.id, (c.status, c.reason.clone()))).collect(), verdict)
}

/// Set, to the test's name, in the child process [`alone`] starts.
const ALONE: &str = "MTLS_IT_ALONE";

/// For a test that must be alone in its process (it measures the process: descriptors,
/// listeners): true in the child process started for it, where the test does its work;
/// elsewhere, runs the test `name` (its path in this binary, `module::test`) alone in a child
/// process of this test binary, passes its output on, asserts that it ran and passed, and
/// returns false.
pub(crate) fn alone(name: &str) -> bool {
    if std::env::var_os(ALONE).is_some_and(|v| v == name) {
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ALONE, name)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(out.status.success(), "{name}, alone in a child process, failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("test result: ok. 1 passed;"), "{name} ran in the child process:\n{stdout}");
    false
}

/// insta settings for rendered output: what varies between runs is masked — ports, temporary
/// directories, durations, certificate thumbprints (a fresh test PKI per process).
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (re, with) in [
        (r"(127\.0\.0\.\d+):\d+", "$1:[port]"),
        (r"(?:/[^\s/`']+)*/\.tmp[A-Za-z0-9]+", "[tempdir]"),
        (r"verdict: (\w+) \(\d+ ms\)", "verdict: $1 ([duration] ms)"),
        (r"\. \d+ ms\.", ". [duration] ms."),
        // x5t#S256 values as they are shown in backticks: base64url (43 characters, and
        // with padding), hex, and SHA-1 base64url (27 characters); the shape stays visible.
        (r"`[A-Za-z0-9_-]{43}(=?)`", "`[x5t#S256]$1`"),
        (r"`[0-9a-f]{64}`", "`[x5t#S256 as hex]`"),
        (r"`[A-Za-z0-9_-]{27}`", "`[SHA-1 thumbprint]`"),
    ] {
        s.add_filter(re, with);
    }
    s
}

/// The one JSON line a peer's start script prints on stdout when it is ready (`"ready": true`
/// asserted), within `within`. Call it after the child is owned by a guard that kills it.
pub(crate) fn ready_line(child: &mut std::process::Child, within: std::time::Duration, what: &str) -> serde_json::Value {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("the peer's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(within).unwrap_or_else(|_| panic!("{what} printed its ready line within {within:?}"));
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        // Say whether it exited (and how) rather than only that the line was not JSON.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let exited = child.try_wait().ok().flatten().map_or("still running".to_string(), |s| format!("exited: {s}"));
        panic!("{what}: ready line `{line}` is not JSON ({e}); {exited}")
    });
    assert_eq!(ready["ready"], true, "{line}");
    ready
}

/// What a real-server test expects of check `id` when no profile is selected: as `except` lists
/// it (status, and words of the reason), else `pass` — or, for the profile-only behaviour checks
/// (FAPI, CDR, UAE), `skip` because no profile asks for them.
pub(crate) fn expected_without_profile<'a>(id: &str, except: &[(&'a str, Status, &'a str)]) -> (Status, &'a str) {
    let default = if mtls_harness::checks::profile_only::PROFILE_ONLY.contains(&id) {
        (Status::Skip, "no selected profile requires it")
    } else {
        (Status::Pass, "")
    };
    except.iter().find(|(e, _, _)| *e == id).map_or(default, |(_, s, b)| (*s, *b))
}

/// Every AS check of the catalogue ran and ended as [`expected_without_profile`] says, and the
/// verdict is `want`: one line per departure (empty when none).
pub(crate) fn departures(
    label: &str,
    (got, verdict): &(BTreeMap<&'static str, (Status, String)>, &'static str),
    except: &[(&str, Status, &str)],
    want: &str,
) -> Vec<String> {
    let as_checks = mtls_harness::checks::CATALOGUE.iter().filter(|c| c.mode == mtls_harness::scenario::Mode::As).count();
    assert_eq!(got.len(), as_checks, "{label}: the whole AS catalogue ran");
    let mut wrong: Vec<String> = got
        .iter()
        .filter_map(|(id, (status, reason))| {
            let (want, because) = expected_without_profile(id, except);
            (*status != want || !reason.contains(because))
                .then(|| format!("{label}: {id}: {} (want {}: {because}): {reason}", status.name(), want.name()))
        })
        .collect();
    if *verdict != want {
        wrong.push(format!("{label}: verdict {verdict} (want {want})"));
    }
    wrong
}

/// A real server a test needs is not installed: under `CI=true` ([`crate::front::under_ci`]) the
/// test fails with `how` (CI installs every peer); elsewhere it says so on stderr, "SKIPPED: …",
/// and the caller returns early. The one place that decides.
pub(crate) fn server_unavailable(how: &str) {
    assert!(!crate::front::under_ci(), "{how}");
    eprintln!("SKIPPED: {how}");
}
