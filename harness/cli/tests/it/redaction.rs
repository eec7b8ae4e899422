//! Property: a client secret of any shape — quotes, backslashes, `/ & < > + = %`, spaces, tabs,
//! newlines, non-ASCII, report syntax — registered as a credential, then carried by a report in
//! any field (a reason, a JSON response value and key, an error, a header, details, client
//! output) in any form it travels in (raw, form-urlencoded, the Basic credential), never appears
//! in any report file in any form, and every file still parses.

use base64::Engine;
use proptest::prelude::*;
use serde_json::{json, Value};

use mtls_harness::redact::Secrets;
use mtls_harness::report::{self, CheckResult, RunReport, ScenarioResult};
use mtls_harness::results::{Evidence, Level, Status};

fn secret() -> impl Strategy<Value = String> {
    // At least 8 bytes (shorter ones are refused), drawn from what breaks serialisers.
    prop::collection::vec(
        prop_oneof![
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("/".to_string()),
            Just("&".to_string()),
            Just("<".to_string()),
            Just(">".to_string()),
            Just("'".to_string()),
            Just("+".to_string()),
            Just("=".to_string()),
            Just("%".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            Just("\n".to_string()),
            Just("é".to_string()),
            Just("\"status\": \"pass\"".to_string()),
            Just("</testcase>".to_string()),
            "[A-Za-z0-9]{1,4}",
        ],
        4..12,
    )
    .prop_map(|parts| format!("S3{}", parts.concat()))
    .prop_filter("8 bytes or more, not blank at either end", |s| s.len() >= 8 && s.trim() == s)
}

/// The `Basic` credential as the harness sends it: base64 of the form-urlencoded id and secret
/// (RFC 6749 §2.3.1).
fn basic(client_id: &str, secret: &str) -> String {
    let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", form(client_id), form(secret)))
}

fn report_carrying(client_id: &str, secret: &str, secrets: Secrets) -> RunReport {
    let form = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
    let basic = basic(client_id, secret);
    let evidence = Evidence {
        request: format!("POST https://as.example/token?e={form}"),
        identity: "registered".into(),
        authorization: Some(format!("Basic {basic}")),
        form: Some(vec![("echo".into(), secret.into())]),
        status: Some(401),
        www_authenticate: Some(format!("Bearer error_description=\"{secret}\"")),
        response: Some(json!({ "error_description": format!("bad {secret} {form} {basic}"), secret: [secret, 1] })),
        error: Some(format!("server said {secret}")),
    };
    let check = CheckResult {
        id: "auth.pki.accept",
        title: "t",
        rfc: "§2.1",
        rfc_url: String::new(),
        level: Level::Must,
        status: Status::Fail,
        reason: format!("refused with error={secret}"),
        expected_fail: false,
        expected_warn: false,
        expected_blocked: false,
        duration_ms: 1.0,
        evidence: vec![evidence],
        details: Some(json!({ "k": secret, secret: form })),
        check_file: None,
    };
    let sc = ScenarioResult {
        id: "s".into(),
        title: format!("title {secret}"),
        file: "f.yaml".into(),
        self_test: false,
        defects: vec![],
        expect_fail: vec![],
        expect_warn: vec![],
        target: None,
        error: Some(format!("error {basic}")),
        client: None,
        duration_ms: 1.0,
        checks: vec![check],
        profiles: vec![],
    };
    mtls_harness::run::assemble(vec![sc], "2026-01-01T00:00:00Z".into(), std::time::Instant::now(), secrets)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_form_of_a_secret_reaches_any_report_and_every_report_parses(secret in secret()) {
        let client_id = "tpp client";
        let secrets = Secrets::new();
        secrets.register_credential(client_id, &secret);
        let dir = tempfile::tempdir().unwrap();
        let formats = [report::Format::Json, report::Format::Junit, report::Format::Html, report::Format::Markdown];
        report::write_all(&report_carrying(client_id, &secret, secrets), dir.path(), &formats).unwrap();
        let form = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
        let basic = basic(client_id, &secret);
        let json_escaped = serde_json::to_string(&secret).unwrap().trim_matches('"').to_string();
        let html_escaped = secret.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;").replace('/', "&#x2f;");
        let text = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        let parsed: Value = serde_json::from_str(&text("report.json")).map_err(|e| TestCaseError::fail(format!("report.json: {e}")))?;
        let data = parsed.to_string();
        prop_assert!(!data.contains(&json_escaped), "report.json data carries the secret");
        quick_junit::Report::deserialize_from_str(&text("junit.xml")).map_err(|e| TestCaseError::fail(format!("junit.xml: {e}")))?;
        for f in ["junit.xml", "report.html", "summary.md"] {
            let body = text(f);
            for form_of in [&secret, &form, &basic, &json_escaped, &html_escaped] {
                prop_assert!(!body.contains(form_of.as_str()), "{} carries {:?}", f, form_of);
            }
        }
    }
}
