//! The reports, parsed back and checked against the run's results: report.json against its
//! JSON Schema and the totals, junit.xml counts and cases, report.html's DOM-visible content,
//! summary.md's table; secrets never appear in any of them or in the terminal output.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{scenarios_dir, snapshot_settings};

fn run(report_dir: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .env("NO_COLOR", "1")
        .args(["run", "--scenarios"])
        .arg(scenarios_dir())
        .arg("--report-dir")
        .arg(report_dir)
        .args(extra)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn schema() -> jsonschema::Validator {
    let s: Value = serde_json::from_str(include_str!("../../../report/schema/report.schema.json")).unwrap();
    jsonschema::validator_for(&s).expect("the schema is valid JSON Schema")
}

/// `--profile`: the profile verdict leads every format, the rules are rows valid against the
/// schema, JUnit has a testsuite per profile, and the exit code follows the rules (the mock is
/// not a FAPI 2.0 AS: it publishes no RFC 9207 `iss`; the secret methods it lists besides mTLS
/// are reported, not failed — FAPI 2.0 SP §5.3.2.1-6 binds FAPI clients, not the list).
#[test]
fn a_profile_run_leads_every_format_with_the_profile_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .env("NO_COLOR", "1")
        .args(["run", "--scenarios"])
        .arg(scenarios_dir().join("as"))
        .arg("--report-dir")
        .arg(dir)
        .args(["--profile", "fapi2-sp-mtls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let errors: Vec<String> = schema().iter_errors(&report).take(5).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "report.json does not match its schema: {errors:#?}");
    let p = &report["profiles"][0];
    assert_eq!((p["id"].as_str(), p["verdict"].as_str()), (Some("fapi2-sp-mtls"), Some("fail")), "{p}");
    let failed: Vec<&str> = p["failed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(failed.iter().any(|f| f.ends_with("::iss-parameter")), "{failed:?}");
    assert!(!failed.iter().any(|f| f.contains("::auth-methods")), "listing secret methods besides mTLS fails nothing: {failed:?}");
    assert!(!failed.iter().any(|f| f.contains("::requires.")), "the conformant mock meets every required check: {failed:?}");
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let scenarios = report["scenarios"].as_array().unwrap().len();
    assert_eq!(xml.matches("::profile fapi2-sp-mtls\"").count(), scenarios, "a testsuite per scenario's profile");
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    let profile_at = md.find("| profile | version | verdict |").expect("summary.md has the profile table");
    assert!(profile_at < md.find("| scenario | shape |").unwrap(), "the profile verdict leads summary.md");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.find("id=\"profiles\"").unwrap() < html.find("id=\"configuration\"").unwrap(), "and report.html");
    assert!(html.contains("id=\"profile-rules\""));
}

#[test]
fn every_format_agrees_with_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout) = run(tmp.path(), &[]);
    assert_eq!(code, 0, "{stdout}");
    let dir = tmp.path();

    // report.json: valid against the schema; totals add up to the checks listed.
    let report: Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let v = schema();
    let errors: Vec<String> = v.iter_errors(&report).take(5).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "report.json does not match its schema: {errors:#?}");
    let checks: Vec<&Value> = report["scenarios"].as_array().unwrap().iter().flat_map(|s| s["checks"].as_array().unwrap()).collect();
    let count = |st: &str| checks.iter().filter(|c| c["status"] == st).count() as u64;
    let t = &report["totals"];
    assert_eq!(t["checks"].as_u64().unwrap(), checks.len() as u64);
    for st in ["pass", "fail", "warn", "skip", "blocked", "error"] {
        assert_eq!(t[st].as_u64().unwrap(), count(st), "{st}");
    }

    // junit.xml: one testsuite per scenario, one testcase per check; planted failures are
    // successes, skips are skipped, and nothing unexpected failed.
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let n = |tag: &str| xml.matches(tag).count();
    // One per scenario, and one per profile a scenario judged (the TLS self-tests judge bcp195).
    let scenarios = report["scenarios"].as_array().unwrap();
    let profile_suites: usize = scenarios.iter().map(|s| s["profiles"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(n("<testsuite "), scenarios.len() + profile_suites);
    assert_eq!(n("<testcase "), checks.len());
    assert_eq!(n("<skipped"), (count("skip") + count("blocked")) as usize, "skip and blocked are JUnit skips");
    assert_eq!(n("<failure"), 0);
    assert_eq!(n("<error"), 0);
    assert!(xml.contains(&format!("tests=\"{}\"", checks.len())));
    assert!(xml.contains(r#"<testcase name="bind.token-cnf" classname="selftest-no-cnf""#));

    // report.html: self-contained, the verdict and counts, a row per check with its status.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("<script") && !html.contains("<link ") && !html.contains("src=\"http"), "no external fetches, no scripts");
    assert!(html.contains(r#"<span class="verdict pass" id="verdict">PASS</span>"#));
    assert!(html.contains(&format!(r#"<div class="count" data-status="pass"><b>{}</b>pass</div>"#, count("pass"))));
    assert_eq!(html.matches(r#"<tr class="check" "#).count(), checks.len());
    let rows_with =
        |st: &str| html.lines().filter(|l| l.contains(r#"<tr class="check" "#) && l.contains(&format!(r#"data-status="{st}""#))).count();
    for st in ["pass", "fail", "warn", "skip", "blocked", "error"] {
        assert_eq!(rows_with(st), count(st) as usize, "{st} rows");
    }
    assert!(html.contains(r#"data-id="bind.token-cnf" data-status="fail""#), "the planted no_cnf failure is shown");
    assert!(html.contains("RFC 8705 §3.1 — JWT certificate thumbprint confirmation"), "grouped by requirement");
    assert!(html.contains("rfc8705#section-3.1\""), "links to the RFC section");
    assert!(html.contains("server certificate verification</dt><dd>on"));

    // summary.md: a row per scenario, the verdict on top (the snapshot: `PASS`, and e.g.
    // `| as-identical | identical | 24 | 0 | 0 | 0 | 0 | 0 | yes |`).
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    // (The scenario table: the profile table above it has rows of its own.)
    let scenario_table = md.lines().skip_while(|l| !l.starts_with("| scenario | shape")).skip(2).take_while(|l| l.starts_with("| "));
    assert_eq!(scenario_table.count(), report["scenarios"].as_array().unwrap().len());
    snapshot_settings().bind(|| insta::assert_snapshot!("builtin_suite_summary_md", md));

    // The terminal: one line per check with progress, and every report path.
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lines.len(), checks.len());
    for f in ["report.json", "junit.xml", "report.html", "summary.md"] {
        assert!(stdout.contains(&format!("report: {}", dir.join(f).display())), "{f}");
    }
    assert!(!stdout.contains("\u{1b}["), "NO_COLOR and no TTY: no escape codes");
    snapshot_settings().bind(|| insta::assert_snapshot!("builtin_suite_terminal", terminal_in_scenario_order(&stdout)));
}

/// The terminal output of a run with its check lines in a stable order. Scenarios run
/// concurrently, and so do the checks of one scenario (each as soon as its needs have results),
/// so lines interleave differently each time and the progress counter `[k/N]` of a line differs
/// with them: each counter value must appear once (1, 2, … in some order), and is then shown as
/// `k`. The lines are grouped by scenario (by id) and put in catalogue order — the order every
/// report lists them in — with the profile rows, which are judged one after another after the
/// graph, in the order printed.
fn terminal_in_scenario_order(stdout: &str) -> String {
    let (checks, rest): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|l| l.starts_with('['));
    let mut ks = Vec::new();
    let mut lines: Vec<(&str, String)> = checks
        .iter()
        .map(|l| {
            let (counter, line) = l.split_once("] ").unwrap();
            let (k, n) = counter.trim_start_matches('[').trim().split_once('/').unwrap();
            ks.push(k.parse::<usize>().unwrap());
            let scenario = line.split_whitespace().find_map(|w| w.split_once("::")).unwrap().0;
            let line = seconds_since_the_client_started(line);
            (scenario, format!("[{:>width$}/{n}] {line}", "k", width = counter.len() - n.len() - 2))
        })
        .collect();
    ks.sort_unstable();
    assert_eq!(ks, (1..=checks.len()).collect::<Vec<_>>(), "each progress count once");
    let catalogue = |line: &str| {
        let id = line.split_whitespace().find_map(|w| w.split_once("::")).map(|(_, id)| id).unwrap_or_default();
        mtls_harness::catalogue::CATALOGUE.iter().position(|c| c.id == id).unwrap_or(usize::MAX)
    };
    lines.sort_by_key(|(scenario, line)| (*scenario, catalogue(line)));
    let mut out: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    out.extend(rest.into_iter().map(str::to_string));
    out.join("\n")
}

/// "had expired 120 s before the client started": the client signs a second or so after it
/// starts, so the figure is 119 or 120 by the clock; the snapshot keeps the sentence, not the figure.
fn seconds_since_the_client_started(line: &str) -> String {
    const AT: &str = "had expired ";
    let Some(i) = line.find(AT) else { return line.to_string() };
    let rest = &line[i + AT.len()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || !rest[digits..].starts_with(" s before the client started") {
        return line.to_string();
    }
    format!("{}{AT}N{}", &line[..i], &rest[digits..])
}

#[test]
fn format_selects_the_files_and_unknown_formats_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _) = run(tmp.path(), &["--format", "md,junit"]);
    assert_eq!(code, 0);
    assert!(tmp.path().join("summary.md").exists() && tmp.path().join("junit.xml").exists());
    assert!(!tmp.path().join("report.json").exists() && !tmp.path().join("report.html").exists());
    let (code, _) = run(tmp.path(), &["--format", "pdf"]);
    assert_eq!(code, 2);
}

#[test]
fn concurrent_runs_into_one_directory_leave_whole_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let d = dir.clone();
            std::thread::spawn(move || run(&d, &[]).0)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 0);
    }
    // Each file is one run's, whole: parseable, and the JSON and the summary are of the same run.
    let report: Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert!(schema().is_valid(&report));
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!("{:.0} ms.", report["duration_ms"].as_f64().unwrap())),
        "summary.md and report.json come from the same run"
    );
    let leftovers: Vec<_> =
        std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
}

/// An AS whose every token-bearing answer is a recognisable canary, and a secret client whose
/// secret is one too: none of them may reach a report or the terminal.
/// Run the CLI against `target` with the environment variable `env` set, reports into
/// `out_dir`; the terminal output (stdout and stderr) and every report file, by name.
fn run_and_collect(target: &Path, out_dir: &Path, env: (&str, &str)) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env(env.0, env.1)
        .args(["run", "--target"])
        .arg(target)
        .arg("--report-dir")
        .arg(out_dir)
        .output()
        .unwrap();
    let terminal = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(terminal.contains("bind.other-auth"), "the run happened: {terminal}");
    let mut files = vec![("terminal".to_string(), terminal)];
    for f in ["report.json", "junit.xml", "report.html", "summary.md"] {
        files.push((f.to_string(), std::fs::read_to_string(out_dir.join(f)).unwrap()));
    }
    files
}

/// A target file in `dir` for the fake AS at `base`: a tls_client_auth client and a secret client
/// whose secret is read from `secret_env`, with short timeouts.
fn tls_and_secret_target(dir: &Path, base: &str, secret_env: &str) -> std::path::PathBuf {
    let target = dir.join("t.yaml");
    std::fs::write(
        &target,
        format!(
            "issuer: {base}\nca_bundle: ca.pem\nresource: {base}/resource\nclients:\n  tls_client_auth: {{ client_id: c1, cert: registered.pem, key: registered.key }}\n  secret: {{ client_id: c2, secret_env: {secret_env} }}\ntimeouts: {{ connect_ms: 1000, request_ms: 2000, check_ms: 5000 }}\n"
        ),
    )
    .unwrap();
    target
}

#[test]
fn secrets_in_responses_and_configuration_never_reach_reports_or_logs() {
    use mtls_harness::pki::TestPki;
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    const AT: &str = "AT-CANARY-7f3a9c2e51d84b6aa0e4";
    const RT: &str = "RT-CANARY-1b2c3d4e5f60718293a4";
    const IDT: &str = "IDT-CANARY-9988776655443322110";
    const CODE: &str = "CODE-CANARY-5566778899aabbccdd";
    const SECRET: &str = "CS-CANARY-0a1b2c3d4e5f6a7b8c9d";

    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_wm, _listener, base) = rt.block_on(async {
        let (wm, l, base) = crate::common::edge(&pki, "127.0.0.1").await;
        let doc = json!({
            "issuer": base, "token_endpoint": format!("{base}/token"), "introspection_endpoint": format!("{base}/introspect"),
            "revocation_endpoint": format!("{base}/revoke"), "authorization_endpoint": format!("{base}/authorize"),
            "pushed_authorization_request_endpoint": format!("{base}/par"),
            "mtls_endpoint_aliases": { "token_endpoint": format!("{base}/token") },
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "client_secret_basic"],
            "tls_client_certificate_bound_access_tokens": true,
        });
        Mock::given(path("/.well-known/openid-configuration")).respond_with(ResponseTemplate::new(200).set_body_json(doc)).mount(&wm).await;
        let token = json!({ "access_token": AT, "refresh_token": RT, "id_token": IDT, "token_type": "Bearer", "expires_in": 60 });
        Mock::given(method("POST")).and(path("/token")).respond_with(ResponseTemplate::new(200).set_body_json(token)).mount(&wm).await;
        Mock::given(path("/introspect"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"active": true, "access_token": AT})))
            .mount(&wm)
            .await;
        Mock::given(path("/authorize"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("https://client.example/cb?code={CODE}&state=mtls-harness").as_str()),
            )
            .mount(&wm)
            .await;
        Mock::given(path("/resource")).respond_with(ResponseTemplate::new(200).set_body_json(json!({"echo": AT}))).mount(&wm).await;
        (wm, l, base)
    });
    let target = tmp.path().join("t.yaml");
    std::fs::write(
        &target,
        format!(
            "issuer: {base}\nca_bundle: ca.pem\nresource: {base}/resource\nclients:\n  tls_client_auth: {{ client_id: c1, cert: registered.pem, key: registered.key }}\n  secret: {{ client_id: c2, secret_env: MTLS_TEST_CANARY_SECRET }}\n  public: {{ client_id: c3 }}\nclient_ca: {{ cert: ca.pem, key: ca.key }}\ntimeouts: {{ connect_ms: 1000, request_ms: 2000, check_ms: 5000 }}\n"
        ),
    )
    .unwrap();
    let files = run_and_collect(&target, &tmp.path().join("out"), ("MTLS_TEST_CANARY_SECRET", SECRET));
    let key_body: String = std::fs::read_to_string(tmp.path().join("registered.key")).unwrap().lines().nth(1).unwrap().to_string();
    for (name, body) in &files {
        for canary in [AT, RT, IDT, CODE, SECRET, key_body.as_str()] {
            assert!(!body.contains(canary), "{name} leaks {canary}");
        }
        assert!(!body.contains("PRIVATE KEY"), "{name} leaks key material");
    }
    // The evidence still shows that those fields were there.
    assert!(files[1].1.contains(r#""access_token": "[redacted]""#));
}

/// Secrets of every awkward shape — report syntax, quotes, backslashes, `/ & < > + =`, space,
/// tab, XML — echoed by a fake AS in JSON bodies, `error_description`, a header and a redirect, in
/// every form they travel in (raw, form-urlencoded, the Basic credential): no form reaches any
/// report, stdout or stderr, and every report still parses.
#[test]
fn secrets_of_every_shape_never_reach_reports_and_every_report_still_parses() {
    use base64::Engine;
    use mtls_harness::pki::TestPki;
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    let pki = TestPki::generate().unwrap();
    for secret in ["\"status\": \"pass\"", "CANARY\"s3cret\\/<&> +=\ttab", "</testcase><x y='1'>&amp;", "  spaced secret  %41%42 "] {
        let tmp = tempfile::tempdir().unwrap();
        pki.write_to(tmp.path()).unwrap();
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("c2:{}", form(secret)));
        let json_escaped = serde_json::to_string(secret.trim()).unwrap().trim_matches('"').to_string();
        let html_escaped = secret
            .trim()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;")
            .replace('/', "&#x2f;");
        let forms = [secret.trim().to_string(), form(secret.trim()), basic.clone(), json_escaped, html_escaped];
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (_wm, _listener, base) = rt.block_on(async {
            let (wm, l, base) = crate::common::edge(&pki, "127.0.0.1").await;
            let doc = json!({
                "issuer": base, "token_endpoint": format!("{base}/token"), "introspection_endpoint": format!("{base}/introspect"),
                "token_endpoint_auth_methods_supported": ["tls_client_auth", "client_secret_basic"],
                "tls_client_certificate_bound_access_tokens": true,
            });
            Mock::given(path("/.well-known/openid-configuration")).respond_with(ResponseTemplate::new(200).set_body_json(doc)).mount(&wm).await;
            let echo = json!({ "error": "invalid_client", "error_description": format!("bad secret {secret} / {} / Basic {basic}", form(secret)),
                               "echo": { secret: secret, "n": [secret] } });
            Mock::given(method("POST")).and(path("/token")).respond_with(ResponseTemplate::new(401).set_body_json(echo.clone())).mount(&wm).await;
            Mock::given(path("/introspect"))
                .respond_with(
                    ResponseTemplate::new(302)
                        .insert_header("www-authenticate", format!("Bearer error=\"invalid_token\", error_description=\"{}\"", form(secret)).as_str())
                        .insert_header("location", format!("https://client.example/cb?e={}", form(secret)).as_str()),
                )
                .mount(&wm)
                .await;
            Mock::given(path("/resource")).respond_with(ResponseTemplate::new(401).set_body_json(echo)).mount(&wm).await;
            (wm, l, base)
        });
        let target = tls_and_secret_target(tmp.path(), &base, "MTLS_TEST_SHAPED_SECRET");
        let files = run_and_collect(&target, &tmp.path().join("out"), ("MTLS_TEST_SHAPED_SECRET", secret));
        let report: Value = serde_json::from_str(&files[1].1).unwrap_or_else(|e| panic!("{secret:?}: report.json does not parse: {e}"));
        // report.json is judged on its data (a secret may spell JSON syntax, as the first does);
        // the other files, and the terminal, on their text.
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(o) => o.iter().for_each(|(k, x)| {
                    out.push(k.clone());
                    strings(x, out)
                }),
                _ => {}
            }
        }
        let mut data = Vec::new();
        strings(&report, &mut data);
        for f in &forms {
            assert!(!data.iter().any(|d| d.contains(f.as_str())), "report.json leaks the secret {secret:?} as {f:?}");
        }
        for (name, body) in files.iter().filter(|(n, _)| n != "report.json") {
            for f in &forms {
                assert!(!body.contains(f.as_str()), "{name} leaks the secret {secret:?} as {f:?}");
            }
        }
        let errors: Vec<String> = schema().iter_errors(&report).take(3).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{secret:?}: {errors:?}");
        quick_junit::Report::deserialize_from_str(&files[2].1).unwrap_or_else(|e| panic!("{secret:?}: junit.xml does not parse: {e}"));
        assert!(files[3].1.trim_end().ends_with("</html>"), "{secret:?}: report.html is whole");
    }
}

/// A server that issues a 5-character access token and echoes it: the token is scrubbed as a
/// whole word from every report and the terminal, ordinary words that contain it survive, and
/// every report (and the terminal) says a short secret was scrubbed only as a word.
#[test]
fn a_short_server_token_is_scrubbed_as_a_word_and_the_reports_say_so() {
    use mtls_harness::pki::TestPki;
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    const SHORT: &str = "Zq7Yx";
    let pki = TestPki::generate().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_wm, _listener, base) = rt.block_on(async {
        let (wm, l, base) = crate::common::edge(&pki, "127.0.0.1").await;
        let doc = json!({
            "issuer": base, "token_endpoint": format!("{base}/token"),
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "client_secret_basic"],
            "tls_client_certificate_bound_access_tokens": true,
        });
        Mock::given(path("/.well-known/openid-configuration")).respond_with(ResponseTemplate::new(200).set_body_json(doc)).mount(&wm).await;
        let token = json!({ "access_token": SHORT, "token_type": "Bearer", "expires_in": 60 });
        Mock::given(method("POST")).and(path("/token")).respond_with(ResponseTemplate::new(200).set_body_json(token)).mount(&wm).await;
        let echo = json!({ "error": "invalid_token", "error_description": format!("token {SHORT} is unknown (xZq7Yxx is a word)") });
        Mock::given(path("/resource")).respond_with(ResponseTemplate::new(401).set_body_json(echo)).mount(&wm).await;
        (wm, l, base)
    });
    let target = tls_and_secret_target(tmp.path(), &base, "MTLS_TEST_SHORT_TOKEN_SECRET");
    let files = run_and_collect(&target, &tmp.path().join("out"), ("MTLS_TEST_SHORT_TOKEN_SECRET", "a-long-enough-secret"));
    let is_word = |text: &str| text.split(|c: char| !(c.is_ascii_alphanumeric() || "-._~+/=%".contains(c))).any(|w| w == SHORT);
    for (name, body) in &files {
        assert!(!is_word(body), "{name} carries the short token as a word");
    }
    let report: Value = serde_json::from_str(&files[1].1).unwrap();
    assert!(report["redaction"]["short"].as_u64().unwrap_or(0) >= 1, "report.json counts it: {}", report["redaction"]);
    assert!(files[1].1.contains("xZq7Yxx"), "a longer word containing it is kept");
    assert!(files[0].1.contains("note: 1 secret shorter than 8 bytes"), "the terminal says so: {}", files[0].1);
    assert!(files[3].1.contains("Redaction:</b> 1 secret shorter than 8 bytes"), "report.html says so");
    assert!(files[4].1.contains("**Redaction:** 1 secret shorter than 8 bytes"), "summary.md says so");
    let errors: Vec<String> = schema().iter_errors(&report).take(3).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}
