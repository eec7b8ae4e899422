//! What the terminal prints is inert: text a server sent (here: an `issuer`, an error code and
//! 10 000 alias keys, from a fake AS) cannot clear the screen, forge a result line, start a GitHub
//! Actions workflow command (`::` at the start of a line), or print one endless line.

use std::process::Command;

use mtls_harness::pki::TestPki;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::edge;

const HOSTILE: &str = "x\u{1b}[2J\u{1b}[H\n[ 99/99] pass             forged::line\n::error file=a::pwned\r::set-output name=x::y\u{9b}31m";

/// Run the CLI against a fake AS publishing `discovery` (with `{base}` replaced) whose token
/// endpoint answers 400 with `error` = [`HOSTILE`]; stdout, stderr, report.json.
fn run_against(discovery: impl Fn(&str) -> serde_json::Value) -> (String, String, serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = TestPki::generate().unwrap();
    pki.write_to(dir).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
    rt.block_on(async {
        Mock::given(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(discovery(&base)))
            .mount(&wm)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "error": HOSTILE })))
            .mount(&wm)
            .await;
    });
    let file = dir.join("target.yaml");
    std::fs::write(
        &file,
        format!("issuer: {base}\nca_bundle: ca.pem\nclients:\n  tls_client_auth: {{ client_id: c1, cert: registered.pem, key: registered.key }}\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .args(["run", "--target"])
        .arg(&file)
        .arg("--report-dir")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = serde_json::from_slice(&std::fs::read(dir.join("out/report.json")).unwrap()).unwrap();
    // junit.xml stays XML 1.0: no character XML forbids (C0 controls other than tab, LF, CR).
    let xml = std::fs::read_to_string(dir.join("out/junit.xml")).unwrap();
    let bad = xml.chars().find(|c| (*c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'));
    assert!(bad.is_none(), "junit.xml carries {bad:?}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned(), report)
}

fn assert_inert(stdout: &str, stderr: &str) {
    for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{name}: a control character got through");
        for line in text.lines() {
            assert!(!line.trim_start().starts_with("::"), "{name}: a workflow command: {line}");
            assert!(!line.starts_with("[ 99/99]"), "{name}: a forged line: {line}");
            assert!(line.chars().count() < 1_300, "{name}: a line of {} characters", line.chars().count());
        }
    }
}

fn reason(report: &serde_json::Value, id: &str) -> String {
    let c = report["scenarios"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
    c["reason"].as_str().unwrap().to_string()
}

#[test]
fn text_from_a_hostile_as_reaches_the_terminal_inert() {
    // A hostile issuer: disc.fetch quotes it.
    let (stdout, stderr, report) = run_against(|base| {
        json!({ "issuer": format!("{base}{HOSTILE}"), "token_endpoint": format!("{base}/token"),
                "token_endpoint_auth_methods_supported": ["tls_client_auth"], "tls_client_certificate_bound_access_tokens": true })
    });
    assert_inert(&stdout, &stderr);
    assert!(stdout.contains("\\x1b[2J") && stdout.contains("\\n::error file=a::pwned"), "shown, escaped: {stdout}");
    // The reports keep what the server sent, whole (each format escapes it its own way).
    assert!(reason(&report, "disc.fetch").contains(HOSTILE));

    // 10 000 alias keys (disc.aliases.keys lists them) and a hostile error code at the token
    // endpoint (auth.pki.accept quotes it).
    let (stdout, stderr, report) = run_against(|base| {
        let aliases: serde_json::Map<String, serde_json::Value> =
            (0..10_000).map(|i| (format!("x{i}_endpoint"), json!(format!("{base}/x{i}")))).collect();
        json!({ "issuer": base, "token_endpoint": format!("{base}/token"), "token_endpoint_auth_methods_supported": ["tls_client_auth"],
                "tls_client_certificate_bound_access_tokens": true, "mtls_endpoint_aliases": aliases })
    });
    assert_inert(&stdout, &stderr);
    assert!(stdout.contains("… and 9990 more"), "10 000 alias keys summarised: {stdout}");
    assert!(reason(&report, "auth.pki.accept").contains(HOSTILE), "{}", reason(&report, "auth.pki.accept"));
}
