//! Redaction on the report model: every string a report carries — reasons, evidence, response
//! bodies and their keys, details, errors, client output, URLs — scrubbed of every registered
//! secret *before* any format serialises it, so no escaping (JSON `\"`, HTML `&#x2f;`) can hide
//! a secret from the scrubber, and no secret that looks like report syntax can break a file.

use serde_json::Value;

use super::{CheckResult, ClientRun, Evidence, RunEnd, RunReport, ScenarioResult, TargetInfo};
use crate::redact::{Secrets, REDACTED};

fn value(z: &Secrets, v: &Value) -> Value {
    match v {
        Value::String(x) => Value::String(z.scrub(x)),
        // A number spelling a secret would lose it inside the JSON text; say so as a string.
        Value::Number(n) if z.scrub(&n.to_string()) != n.to_string() => Value::String(REDACTED.into()),
        Value::Array(a) => Value::Array(a.iter().map(|x| value(z, x)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(key, v)| (z.scrub(key), value(z, v))).collect()),
        other => other.clone(),
    }
}

fn evidence(z: &Secrets, e: &Evidence) -> Evidence {
    Evidence {
        request: z.scrub(&e.request),
        identity: z.scrub(&e.identity),
        authorization: e.authorization.as_deref().map(|x| z.scrub(x)),
        form: e.form.as_ref().map(|f| f.iter().map(|(key, v)| (z.scrub(key), z.scrub(v))).collect()),
        status: e.status,
        www_authenticate: e.www_authenticate.as_deref().map(|x| z.scrub(x)),
        response: e.response.as_ref().map(|x| value(z, x)),
        error: e.error.as_deref().map(|x| z.scrub(x)),
    }
}

fn check(z: &Secrets, c: &CheckResult) -> CheckResult {
    CheckResult {
        reason: z.scrub(&c.reason),
        rfc_url: z.scrub(&c.rfc_url),
        evidence: c.evidence.iter().map(|x| evidence(z, x)).collect(),
        details: c.details.as_ref().map(|x| value(z, x)),
        ..c.clone()
    }
}

fn target(z: &Secrets, t: &TargetInfo) -> TargetInfo {
    let mut t = t.clone();
    t.issuer = z.scrub(&t.issuer);
    for e in &mut t.endpoints {
        let scrubbed = z.scrub(e.url.as_str());
        if scrubbed != e.url.as_str() {
            e.url = url::Url::parse("https://redacted.invalid/").unwrap_or_else(|_| e.url.clone());
        }
        e.top_level = e.top_level.as_deref().map(|x| z.scrub(x));
    }
    t
}

fn client(z: &Secrets, c: &ClientRun) -> ClientRun {
    ClientRun {
        command: z.scrub(&c.command),
        end: match &c.end {
            RunEnd::NotStarted(why) => RunEnd::NotStarted(z.scrub(why)),
            other => other.clone(),
        },
        duration_ms: c.duration_ms,
        output_tail: c.output_tail.iter().map(|l| z.scrub(l)).collect(),
    }
}

fn scenario(z: &Secrets, sc: &ScenarioResult) -> ScenarioResult {
    ScenarioResult {
        id: z.scrub(&sc.id),
        title: z.scrub(&sc.title),
        file: z.scrub(&sc.file),
        target: sc.target.as_ref().map(|x| target(z, x)),
        error: sc.error.as_deref().map(|x| z.scrub(x)),
        client: sc.client.as_ref().map(|x| client(z, x)),
        checks: sc.checks.iter().map(|x| check(z, x)).collect(),
        ..sc.clone()
    }
}

impl CheckResult {
    /// This result with every secret in `secrets` scrubbed from every string (what a terminal
    /// line is made of).
    pub fn scrubbed(&self, secrets: &Secrets) -> CheckResult {
        check(secrets, self)
    }
}

impl RunReport {
    /// This report with every registered secret replaced by `[redacted]` in every string it
    /// carries: what every report format is rendered from.
    pub fn scrubbed(&self) -> RunReport {
        let z = &self.secrets;
        let mut r = self.clone();
        r.redaction = z.tally();
        r.configuration.source = z.scrub(&r.configuration.source);
        r.configuration.scenarios_dir = r.configuration.scenarios_dir.as_deref().map(|x| z.scrub(x));
        r.configuration.target_file = r.configuration.target_file.as_deref().map(|x| z.scrub(x));
        r.configuration.client_command = r.configuration.client_command.as_deref().map(|x| z.scrub(x));
        r.scenarios = self.scenarios.iter().map(|x| scenario(z, x)).collect();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_of_the_model_is_scrubbed_and_numbers_spelling_a_secret_become_strings() {
        let z = Secrets::new();
        z.register("\"status\": \"pass\"");
        z.register("31415926535");
        let v = serde_json::json!({"error_description": "echo \"status\": \"pass\" end", "\"status\": \"pass\"": 1, "n": 31415926535u64, "ok": 7});
        let out = value(&z, &v);
        assert_eq!(out["error_description"], "echo [redacted] end");
        assert_eq!(out["[redacted]"], 1);
        assert_eq!(out["n"], "[redacted]");
        assert_eq!(out["ok"], 7);
    }
}
