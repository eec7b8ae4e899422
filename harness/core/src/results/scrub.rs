//! Redaction on the report model: every string a report carries — reasons, evidence, response
//! bodies and their keys, details, errors, client output, URLs — scrubbed of every registered
//! secret *before* any format serialises it, so no escaping (JSON `\"`, HTML `&#x2f;`) can hide
//! a secret from the scrubber, and no secret that looks like report syntax can break a file.

use serde_json::Value;

use super::{CheckResult, ClientRun, Evidence, RunEnd, RunReport, ScenarioResult, TargetInfo};
use crate::redact::{scrub, REDACTED};

fn s(v: &str) -> String {
    scrub(v)
}

fn value(v: &Value) -> Value {
    match v {
        Value::String(x) => Value::String(s(x)),
        // A number spelling a secret would lose it inside the JSON text; say so as a string.
        Value::Number(n) if s(&n.to_string()) != n.to_string() => Value::String(REDACTED.into()),
        Value::Array(a) => Value::Array(a.iter().map(value).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (s(k), value(v))).collect()),
        other => other.clone(),
    }
}

fn evidence(e: &Evidence) -> Evidence {
    Evidence {
        request: s(&e.request),
        identity: s(&e.identity),
        authorization: e.authorization.as_deref().map(s),
        form: e.form.as_ref().map(|f| f.iter().map(|(k, v)| (s(k), s(v))).collect()),
        status: e.status,
        www_authenticate: e.www_authenticate.as_deref().map(s),
        response: e.response.as_ref().map(value),
        error: e.error.as_deref().map(s),
    }
}

fn check(c: &CheckResult) -> CheckResult {
    CheckResult {
        reason: s(&c.reason),
        rfc_url: s(&c.rfc_url),
        evidence: c.evidence.iter().map(evidence).collect(),
        details: c.details.as_ref().map(value),
        ..c.clone()
    }
}

fn target(t: &TargetInfo) -> TargetInfo {
    let mut t = t.clone();
    t.issuer = s(&t.issuer);
    for e in &mut t.endpoints {
        let scrubbed = s(e.url.as_str());
        if scrubbed != e.url.as_str() {
            e.url = url::Url::parse("https://redacted.invalid/").unwrap_or_else(|_| e.url.clone());
        }
        e.top_level = e.top_level.as_deref().map(s);
    }
    t
}

fn client(c: &ClientRun) -> ClientRun {
    ClientRun {
        command: s(&c.command),
        end: match &c.end {
            RunEnd::NotStarted(why) => RunEnd::NotStarted(s(why)),
            other => other.clone(),
        },
        duration_ms: c.duration_ms,
        output_tail: c.output_tail.iter().map(|l| s(l)).collect(),
    }
}

fn scenario(sc: &ScenarioResult) -> ScenarioResult {
    ScenarioResult {
        id: s(&sc.id),
        title: s(&sc.title),
        file: s(&sc.file),
        target: sc.target.as_ref().map(target),
        error: sc.error.as_deref().map(s),
        client: sc.client.as_ref().map(client),
        checks: sc.checks.iter().map(check).collect(),
        ..sc.clone()
    }
}

impl RunReport {
    /// This report with every registered secret replaced by `[redacted]` in every string it
    /// carries: what every report format is rendered from.
    pub fn scrubbed(&self) -> RunReport {
        let mut r = self.clone();
        r.configuration.source = s(&r.configuration.source);
        r.configuration.scenarios_dir = r.configuration.scenarios_dir.as_deref().map(s);
        r.configuration.target_file = r.configuration.target_file.as_deref().map(s);
        r.configuration.client_command = r.configuration.client_command.as_deref().map(s);
        r.scenarios = self.scenarios.iter().map(scenario).collect();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_of_the_model_is_scrubbed_and_numbers_spelling_a_secret_become_strings() {
        crate::redact::register("\"status\": \"pass\"");
        crate::redact::register("31415926535");
        let v = serde_json::json!({"error_description": "echo \"status\": \"pass\" end", "\"status\": \"pass\"": 1, "n": 31415926535u64, "ok": 7});
        let out = value(&v);
        assert_eq!(out["error_description"], "echo [redacted] end");
        assert_eq!(out["[redacted]"], 1);
        assert_eq!(out["n"], "[redacted]");
        assert_eq!(out["ok"], 7);
    }
}
