//! The `mtls-harness` binary as a user runs it: exit codes, messages, report contents.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{scenarios_dir, snapshot_settings};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mtls-harness"));
    // These tests are about the embedded mock: a user's live target must not leak in.
    c.env_remove("MTLS_HARNESS_TARGET");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_in(dir: &Path, scenarios: &Path) -> Output {
    bin().args(["run", "--scenarios"]).arg(scenarios).arg("--report-dir").arg(dir.join("reports")).output().expect("binary runs")
}

#[test]
fn run_passes_built_in_suite_and_writes_report_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(tmp.path(), &scenarios_dir());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(stdout.contains("verdict: pass"), "{stdout}");
    assert!(stdout.contains("as-identical::auth.pki.accept"), "one line per check: {stdout}");

    let report: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("reports/report.json")).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["verdict"], "pass");
    let listed = [
        "disc.fetch",
        "disc.aliases.object",
        "endpoints.resolve",
        "auth.pki.accept",
        "auth.pki.no-cert",
        "auth.pki.other-subject",
        "auth.pki.rogue-ca",
        "bind.token-cnf",
        "bind.rs.same-cert",
        "bind.rs.other-cert",
        "bind.rs.no-cert",
    ];
    for (id, shape) in [("as-identical", "identical"), ("as-missing", "missing")] {
        let sc = report["scenarios"].as_array().unwrap().iter().find(|s| s["id"] == id).expect(id);
        assert_eq!(sc["target"]["shape_observed"], shape);
        assert_eq!(sc["target"]["kind"], "mock");
        let token = sc["target"]["endpoints"].as_array().unwrap().iter().find(|e| e["operation"] == "token").unwrap();
        assert_eq!(token["source"], if shape == "identical" { "alias" } else { "top-level" });
        for check in listed {
            let c = sc["checks"].as_array().unwrap().iter().find(|c| c["id"] == check).unwrap_or_else(|| panic!("{id}::{check}"));
            assert_eq!(c["status"], "pass", "{id}::{check}: {}", c["reason"]);
            assert!(c["rfc"].as_str().unwrap().contains('§'));
            assert!(!c["reason"].as_str().unwrap().is_empty());
        }
    }
    // The self-tests ran too, and each planted defect was caught.
    let selftests: Vec<&Value> = report["scenarios"].as_array().unwrap().iter().filter(|s| s["self_test"] == true).collect();
    assert!(selftests.len() >= 14);
    assert_eq!(report["totals"]["unexpected"], 0);
    assert!(report["totals"]["expected_fail"].as_u64().unwrap() >= 14);
}

#[test]
fn report_never_contains_an_access_token() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(tmp.path(), &scenarios_dir());
    assert_eq!(out.status.code(), Some(0));
    let body = std::fs::read_to_string(tmp.path().join("reports/report.json")).unwrap();
    // A JWT is three base64url parts whose first decodes to a JSON object (RFC 7515 §7.1); a
    // random PKCE value may contain `eyJ` by chance, a JWS structure does not.
    assert_eq!(jwts_in(&body), Vec::<String>::new(), "a JWT leaked into report.json");
    assert!(body.contains("[redacted]"), "token fields are present but redacted");
    assert!(!body.contains("PRIVATE KEY"));
    assert_eq!(jwts_in(&text(&out.stdout)), Vec::<String>::new(), "a JWT leaked onto stdout");
}

/// Every JWS compact serialisation in `text` (header, payload, signature; the header JSON).
fn jwts_in(text: &str) -> Vec<String> {
    use base64::Engine;
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.split(|c: char| !(b64(c) || c == '.'))
        .filter(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3
                && parts[..2].iter().all(|p| !p.is_empty())
                && base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(parts[0])
                    .ok()
                    .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
                    .is_some_and(|h| h.is_object())
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn jwt_detection_finds_jwts_and_ignores_chance_eyj() {
    assert_eq!(jwts_in("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln done").len(), 1);
    assert!(jwts_in("pkce=abceyJzzz9_x verifier").is_empty());
    assert!(jwts_in("eyJ.eyJ.x").is_empty(), "not base64url JSON");
}

fn write_scenario(dir: &Path, body: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let f = dir.join("bad.yaml");
    std::fs::write(&f, body).unwrap();
    f
}

#[test]
fn unknown_key_is_one_line_with_file_line_column_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sc");
    let f = write_scenario(&dir, "id: x\ntitle: X\nmode: as\ncolour: blue\ndiscovery:\n  shape: identical\nchecks: [\"*\"]\n");
    let out = run_in(tmp.path(), &dir);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(&format!("{}:4:1: unknown field `colour`", f.display())), "{err}");
    assert!(!tmp.path().join("reports/report.json").exists(), "no report for a run that never started");
}

#[test]
fn bad_yaml_is_one_line_with_file_line_column_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sc");
    let f = write_scenario(&dir, "id: x\ntitle: X\nmode: as\ndiscovery:\n  shape: [identical\nchecks: [\"*\"]\n");
    let out = run_in(tmp.path(), &dir);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let prefix = format!("error: {}:", f.display());
    assert!(err.starts_with(&prefix), "{err}");
    let loc: Vec<&str> = err[prefix.len()..].splitn(3, ':').collect();
    assert!(loc[0].parse::<usize>().is_ok() && loc[1].parse::<usize>().is_ok(), "line:column in {err}");
}

#[test]
fn missing_scenario_dir_names_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_in(tmp.path(), &tmp.path().join("nope"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope: not a directory"), "{}", text(&out.stderr));
}

#[test]
fn a_failing_check_exits_1() {
    // A planted defect without the expectation that names it: the harness must report a failure.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sc");
    write_scenario(
        &dir,
        "id: x\ntitle: X\nmode: as\ndiscovery:\n  shape: identical\nmock:\n  defects: [no_cnf]\nchecks: [\"bind.token-cnf\"]\n",
    );
    let out = run_in(tmp.path(), &dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // What the terminal shows of a failing run: each check's line, the counts, the reports.
    snapshot_settings().bind(|| insta::assert_snapshot!("failing_run_terminal", text(&out.stdout)));
    let report: Value = serde_json::from_slice(&std::fs::read(tmp.path().join("reports/report.json")).unwrap()).unwrap();
    assert_eq!(report["verdict"], "fail");
    let checks = report["scenarios"][0]["checks"].as_array().unwrap();
    let cnf = checks.iter().find(|c| c["id"] == "bind.token-cnf").unwrap();
    assert_eq!(cnf["status"], "fail");
    // Its prerequisites ran too (a check is never judged without the facts it needs).
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["disc.fetch", "endpoints.resolve", "auth.pki.accept", "bind.token-cnf"]);
}

#[test]
fn list_shows_scenarios_checks_and_defects() {
    let out = bin().arg("list").arg("--scenarios").arg(scenarios_dir()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    for needle in ["as-identical", "selftest-no-cnf", "bind.token-cnf", "§3.1", "rs_ignores_cert"] {
        assert!(s.contains(needle), "{needle} in {s}");
    }
}

/// Kills the child on drop so a failing test never leaves a server behind.
struct Reaper(std::process::Child);
impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_runs_the_mock_until_stopped_and_logs_each_request() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let pki_dir = tmp.path().join("pki");
    let child = bin().args(["serve", "--shape", "split", "--pki-dir"]).arg(&pki_dir).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut child = Reaper(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(10)).expect("serve printed a line in time");
    let mut banner = Vec::new();
    loop {
        let l = next();
        let done = l == "requests:";
        banner.push(l);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    assert!(banner.contains("shape split"), "{banner}");
    assert!(banner.contains("requests no client certificate") && banner.contains("requests a client certificate"), "{banner}");
    let token_url = banner.split_whitespace().rfind(|w| w.ends_with("/token")).unwrap().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["registered.key", "token-signing.key", "tpp-secret-001.secret"] {
            let mode = std::fs::metadata(pki_dir.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
    let ca = std::fs::read(pki_dir.join("ca.pem")).unwrap();
    let mut idp = std::fs::read(pki_dir.join("registered.pem")).unwrap();
    idp.extend(std::fs::read(pki_dir.join("registered.key")).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // This process's own reqwest client uses the harness's crypto provider (ring), installed once.
    mtls_harness::mock::terminator::provider();
    let status = rt.block_on(async {
        let c = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
            .identity(reqwest::Identity::from_pem(&idp).unwrap())
            .no_proxy()
            .build()
            .unwrap();
        let r = c.post(&token_url).form(&[("grant_type", "client_credentials"), ("client_id", "tpp-client-001")]).send().await.unwrap();
        r.status().as_u16()
    });
    assert_eq!(status, 200);
    let logged = next();
    assert!(logged.contains("[alias] POST /token") && logged.contains("cert x5t#S256=") && logged.contains("-> 200"), "{logged}");
    // The thumbprint the token is bound to (a public fact), never the token.
    let presented = logged.split("cert x5t#S256=").nth(1).and_then(|t| t.split_whitespace().next()).unwrap_or_default();
    assert!(logged.ends_with(&format!("(token bound to x5t#S256={presented})")), "{logged}");
    assert_eq!(jwts_in(&logged), Vec::<String>::new(), "no token in the log");
}

#[test]
fn serve_judge_scores_a_client_run_by_hand() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    let reports = tmp.path().join("reports");
    let child = bin()
        .args(["serve", "--shape", "split", "--judge", "--pki-dir"])
        .arg(&pki)
        .arg("--report-dir")
        .arg(&reports)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Reaper(child);
    let mut lines = std::io::BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut banner = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((k, v)) = line.split_once(": ") {
            banner.insert(k.trim().to_string(), v.trim().to_string());
        }
        if line == "requests:" {
            break;
        }
    }
    // The reference client, by hand, with aliases off: it sends its token request to the top level.
    let out = bin()
        .arg("client")
        .env("MTLS_ISSUER", &banner["issuer"])
        .env("MTLS_CLIENT_ID", "tpp-client-001")
        .env("MTLS_CERT", pki.join("registered.pem"))
        .env("MTLS_KEY", pki.join("registered.key"))
        .env("MTLS_CA", pki.join("ca.pem"))
        .env("MTLS_RESOURCE", &banner["resource"])
        .env("MTLS_REDIRECT_URI", "https://client.example/cb")
        .env("MTLS_USE_ALIASES", "false")
        .env("MTLS_STEPS", "token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the token request fails at the top level: {}", text(&out.stderr));
    // SIGTERM: serve stops, judges what arrived, writes the report.
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    let report: Value = serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let checks = report["scenarios"][0]["checks"].as_array().unwrap();
    let get = |id: &str| checks.iter().find(|c| c["id"] == id).unwrap()["status"].as_str().unwrap().to_string();
    assert_eq!(get("client.alias.token"), "fail");
    assert_eq!(get("client.discovery"), "pass");
    assert_eq!(get("client.alias.userinfo"), "skip");
    assert!(rest.iter().any(|l| l.starts_with("fail") && l.contains("client.alias.token")), "{rest:?}");
}

/// `serve --judge` with a private_key_jwt client run by hand (the reference client, signing
/// with the served key): the method is read from its traffic, so its assertions are judged by the
/// `client.auth.assertion.*` checks against the served registration, and the run passes.
#[test]
fn serve_judge_scores_a_private_key_jwt_client_run_by_hand() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    let reports = tmp.path().join("reports");
    let mut cmd = bin();
    cmd.args(["serve", "--shape", "split", "--judge", "--pki-dir"]).arg(&pki).arg("--report-dir").arg(&reports);
    let mut child = Reaper(cmd.stdout(std::process::Stdio::piped()).spawn().unwrap());
    let mut lines = std::io::BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut banner = std::collections::HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((k, v)) = line.split_once(": ") {
            banner.insert(k.trim().to_string(), v.trim().to_string());
        }
        if line == "requests:" {
            break;
        }
    }
    let out = bin()
        .arg("client")
        .env("MTLS_ISSUER", &banner["issuer"])
        .env("MTLS_CLIENT_ID", "tpp-jwt-001")
        .env("MTLS_CLIENT_AUTH", "private_key_jwt")
        .env("MTLS_JWT_KEY", pki.join("jwt-client.key"))
        .env("MTLS_JWT_KID", "tpp-jwt-001-eddsa")
        .env("MTLS_JWT_ALG", "EdDSA")
        .env("MTLS_CERT", pki.join("registered.pem"))
        .env("MTLS_KEY", pki.join("registered.key"))
        .env("MTLS_CA", pki.join("ca.pem"))
        .env("MTLS_RESOURCE", &banner["resource"])
        .env("MTLS_REDIRECT_URI", "https://client.example/cb")
        .env("MTLS_STEPS", "token,introspect,revoke")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let pid = child.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(child.0.wait().unwrap().code(), Some(0), "{rest:?}");
    let report: Value = serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let checks = report["scenarios"][0]["checks"].as_array().unwrap();
    let get = |id: &str| {
        let c = checks.iter().find(|c| c["id"] == id).unwrap();
        (c["status"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap().to_string())
    };
    for id in [
        "client.client-id",
        "client.alias.token",
        "client.auth.assertion.signature",
        "client.auth.assertion.aud",
        "client.auth.assertion.jti",
    ] {
        assert_eq!(get(id).0, "pass", "{id}: {}", get(id).1);
    }
    assert!(get("client.client-id").1.contains("jwt-bearer client_assertion"), "{:?}", get("client.client-id"));
    assert_eq!(jwts_in(&rest.join("\n")), Vec::<String>::new(), "no token or assertion in the log");
}

#[test]
fn an_empty_client_command_and_an_endless_run_timeout_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (vec!["run", "--client-cmd", " "], "--client-cmd is empty"),
        (vec!["run", "--client-cmd", "node 'unterminated"], "unterminated quote"),
        (vec!["run", "--run-timeout", "18446744073709551615"], "run-timeout"),
        (vec!["run", "--run-timeout", "0"], "run-timeout"),
    ] {
        let out = bin().args(&args).arg("--report-dir").arg(tmp.path()).current_dir(tmp.path()).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: `{needle}` in {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `pki --out` into a fresh directory writes every file of the PKI once, under distinct names
/// (the untrusted CA and the identity it issues once shared `rogue-ca.pem`), keys mode 0600;
/// the certificates are what their names say.
#[test]
fn pki_out_writes_a_complete_pki_into_a_fresh_directory() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = bin().args(["pki", "--out"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listed: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    let unique: std::collections::BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "every file written once: {listed:?}");
    let on_disk = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(on_disk, listed.len(), "{listed:?}");
    for name in ["ca.pem", "rogue-root-ca.pem", "rogue-ca.pem", "registered.pem", "expired.pem", "jwt-client.key"] {
        assert!(tmp.path().join(name).is_file(), "{name} written: {listed:?}");
    }
    for f in listed.iter().filter(|f| f.ends_with(".key")) {
        assert_eq!(std::fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600, "{f}");
    }
    let subject_and_issuer = |name: &str| {
        let pem = std::fs::read(tmp.path().join(name)).unwrap();
        let (_, p) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let c = p.parse_x509().unwrap();
        (c.subject().to_string(), c.issuer().to_string())
    };
    let (root_subject, root_issuer) = subject_and_issuer("rogue-root-ca.pem");
    assert_eq!(root_subject, root_issuer, "the rogue root is self-issued");
    let (leaf_subject, leaf_issuer) = subject_and_issuer("rogue-ca.pem");
    assert_eq!(leaf_issuer, root_subject, "rogue-ca.pem is issued by the rogue root");
    assert_eq!(leaf_subject, subject_and_issuer("registered.pem").0, "with the registered subject");
    // Run twice: refused without --force, nothing changed.
    let again = bin().args(["pki", "--out"]).arg(tmp.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn pki_style_is_documented_and_checked() {
    let help = bin().args(["pki", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{text}");
    assert!(text.contains("--style") && text.contains("compact") && text.contains("ecosystem"), "{text}");
    let tmp = tempfile::tempdir().unwrap();
    let bad = bin().args(["pki", "--style", "bogus", "--out"]).arg(tmp.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("compact") && stderr.contains("ecosystem"), "the accepted styles are named: {stderr}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing written");
}
