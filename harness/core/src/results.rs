//! The results of a run: what a check concluded ([`Outcome`], [`Status`], [`Level`]), what a
//! report shows of each check, scenario and run, and the run's one [`verdict`].

use serde::Serialize;
use serde_json::Value;

use crate::discovery::Effective;
use crate::scenario::Defect;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    /// A prerequisite failed, errored or was blocked: the check could not run. Never a pass,
    /// never by itself an error; the reason names the prerequisite.
    Blocked,
    Error,
}

impl Status {
    pub const ALL: [Status; 6] = [Status::Pass, Status::Fail, Status::Warn, Status::Skip, Status::Blocked, Status::Error];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Blocked => "blocked",
            Status::Error => "error",
        }
    }
}

/// The keyword of the requirement a check judges: a broken MUST fails, a broken SHOULD or MAY
/// (or another RFC's rule noticed on the way) warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
}

/// What a check concluded, why, and what it saw.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// Structured findings (e.g. the effective-endpoint table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The level this outcome was judged at, where it depends on the target (e.g. `bind.other-auth`
    /// is MUST only for clients registered for bound tokens); else the check's own level.
    #[serde(skip)]
    pub level: Option<Level>,
}

impl Outcome {
    fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome { status, reason: reason.into(), evidence: Vec::new(), details: None, level: None }
    }
    pub fn pass(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, reason)
    }
    pub fn fail(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, reason)
    }
    pub fn warn(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Warn, reason)
    }
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skip, reason)
    }
    pub fn blocked(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Blocked, reason)
    }
    pub fn error(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Error, reason)
    }
    pub fn with(mut self, ev: Evidence) -> Outcome {
        self.evidence.push(ev);
        self
    }
    pub fn with_all(mut self, ev: impl IntoIterator<Item = Evidence>) -> Outcome {
        self.evidence.extend(ev);
        self
    }
    pub fn details(mut self, v: Value) -> Outcome {
        self.details = Some(v);
        self
    }
    pub fn at_level(mut self, level: Level) -> Outcome {
        self.level = Some(level);
        self
    }
}

/// What a report shows of one exchange. Tokens, secrets and keys never appear in it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub request: String,
    pub identity: String,
    /// Scheme and client id only; the credential is always redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<Vec<(String, String)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub www_authenticate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Mock,
    Live,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum RunEnd {
    /// Exited with this status code.
    Exited(i32),
    /// Killed by a signal (crashed).
    Signalled,
    /// Did not finish within the timeout and was killed.
    TimedOut(u64),
    /// Could not be started.
    NotStarted(String),
}

/// How the client under test ran.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRun {
    pub command: String,
    pub end: RunEnd,
    pub duration_ms: u64,
    /// The last lines the client printed (stdout and stderr), for the evidence.
    pub output_tail: Vec<String>,
}

impl ClientRun {
    pub fn succeeded(&self) -> bool {
        matches!(self.end, RunEnd::Exited(0))
    }

    /// Why the run does not count as a success, if it does not.
    pub fn failure(&self) -> Option<String> {
        match &self.end {
            RunEnd::Exited(0) => None,
            RunEnd::Exited(c) => Some(format!("the client exited with status {c}")),
            RunEnd::Signalled => Some("the client was killed by a signal (crashed)".into()),
            RunEnd::TimedOut(ms) => Some(format!("the client did not finish within {ms} ms and was killed")),
            RunEnd::NotStarted(why) => Some(format!("the client could not be started: {why}")),
        }
    }
}

/// Bumped on any incompatible change of report.json.
pub const SCHEMA_VERSION: u32 = 1;

/// The run's verdict, one function (README, "Verdict"):
///
/// | results | verdict | exit |
/// |---|---|---|
/// | any failure nobody planted, or a planted defect not caught (even if there are errors too) | `fail` | 1 |
/// | otherwise any `error`, or a scenario that could not run | `error` | 2 |
/// | otherwise (pass, warn, skip, blocked behind a planted failure) | `pass` | 0 |
///
/// `blocked` never decides: it always names a prerequisite that failed or errored, and that
/// prerequisite decides.
pub fn verdict(scenarios: &[ScenarioResult]) -> &'static str {
    let checks = || scenarios.iter().flat_map(|s| &s.checks);
    if checks().any(CheckResult::unexpected_failure) {
        "fail"
    } else if checks().any(|c| c.status == Status::Error) || scenarios.iter().any(|s| s.error.is_some()) {
        "error"
    } else {
        "pass"
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub rfc: &'static str,
    /// Link to the section on rfc-editor.org.
    pub rfc_url: String,
    pub level: Level,
    pub status: Status,
    pub reason: String,
    /// The scenario plants a defect this check must catch (self-test).
    pub expected_fail: bool,
    /// The scenario expects this check to warn (self-test of a SHOULD-level finding).
    pub expected_warn: bool,
    /// The scenario expects this check to be blocked by a planted failure it depends on.
    pub expected_blocked: bool,
    pub duration_ms: f64,
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl CheckResult {
    /// A check meets expectations when an expected failure failed (an expected warning warned,
    /// an expected block was blocked), and anything else did not fail or error. A `blocked`
    /// check is never a pass, but neither is it a finding of its own: the prerequisite it names
    /// is, and that one decides.
    pub fn as_expected(&self) -> bool {
        if self.expected_fail {
            self.status == Status::Fail
        } else if self.expected_warn {
            self.status == Status::Warn
        } else if self.expected_blocked {
            self.status == Status::Blocked
        } else {
            matches!(self.status, Status::Pass | Status::Warn | Status::Skip | Status::Blocked)
        }
    }

    /// Whether this result makes the run `fail`: a failure nobody planted, or a planted defect
    /// (expected fail, warn or block) that did not show.
    pub fn unexpected_failure(&self) -> bool {
        (self.status == Status::Fail && !self.expected_fail)
            || ((self.expected_fail || self.expected_warn || self.expected_blocked) && !self.as_expected())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetInfo {
    pub kind: Kind,
    pub issuer: String,
    /// The shape the scenario asked the mock to publish (none for a live target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape_declared: Option<&'static str>,
    /// Server certificate verification was switched off (`--insecure`).
    pub insecure: bool,
    /// The shape classified from the discovery document actually served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape_observed: Option<&'static str>,
    pub endpoints: Vec<Effective>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub title: String,
    pub file: String,
    pub self_test: bool,
    pub defects: Vec<Defect>,
    pub expect_fail: Vec<String>,
    pub expect_warn: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetInfo>,
    /// Set when the scenario could not run at all (e.g. the mock did not start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Client mode: how the client under test ran (command, exit, output tail, redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientRun>,
    pub duration_ms: f64,
    pub checks: Vec<CheckResult>,
}

impl ScenarioResult {
    pub fn as_expected(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(CheckResult::as_expected)
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub checks: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
    pub blocked: usize,
    pub error: usize,
    /// Failures planted by self-tests and caught as intended (included in `fail`).
    pub expected_fail: usize,
    /// Checks whose outcome breaks expectations: an unplanted fail, or a planted defect not caught.
    pub unexpected: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub harness_version: &'static str,
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: f64,
    /// `pass`, `fail` or `error`: the same verdict the exit code gives.
    pub verdict: &'static str,
    pub totals: Totals,
    /// How the run was configured, including whether any TLS verification was relaxed.
    pub configuration: Configuration,
    pub scenarios: Vec<ScenarioResult>,
}

/// The run's configuration, as every report shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Configuration {
    /// `embedded mock AS` or `live target`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenarios_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_file: Option<String>,
    /// Server certificate verification of the target was switched off (`--insecure`).
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_command: Option<String>,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub check_timeout_ms: u64,
    /// The whole run's deadline.
    pub run_timeout_ms: u64,
}

impl Totals {
    /// `912 checks: 830 pass, 49 fail (49 expected), 3 warn, 30 skip, 0 blocked, 0 error`.
    pub fn line(&self) -> String {
        format!(
            "{} checks: {} pass, {} fail ({} expected), {} warn, {} skip, {} blocked, {} error",
            self.checks, self.pass, self.fail, self.expected_fail, self.warn, self.skip, self.blocked, self.error
        )
    }
}

impl RunReport {
    pub fn totals(scenarios: &[ScenarioResult]) -> Totals {
        let mut t = Totals::default();
        for c in scenarios.iter().flat_map(|s| &s.checks) {
            t.checks += 1;
            match c.status {
                Status::Pass => t.pass += 1,
                Status::Fail => t.fail += 1,
                Status::Warn => t.warn += 1,
                Status::Skip => t.skip += 1,
                Status::Blocked => t.blocked += 1,
                Status::Error => t.error += 1,
            }
            if c.expected_fail && c.status == Status::Fail {
                t.expected_fail += 1;
            }
            if !c.as_expected() {
                t.unexpected += 1;
            }
        }
        t
    }

    /// The exit code of the verdict: 0 pass, 1 fail, 2 error.
    pub fn exit_code(&self) -> i32 {
        match self.verdict {
            "pass" => 0,
            "fail" => 1,
            _ => 2,
        }
    }
}

/// Link to a section of the RFC a check cites: `§3.1` is RFC 8705's, `RFC 8414 §3` another's.
pub fn rfc_url(rfc: &str) -> String {
    let first = rfc.split(',').next().unwrap_or(rfc).trim();
    let (number, section) = match first.strip_prefix("RFC ") {
        Some(rest) => match rest.split_once(" §") {
            Some((n, s)) => (n.to_string(), s.to_string()),
            None => (rest.to_string(), String::new()),
        },
        None => ("8705".to_string(), first.trim_start_matches('§').to_string()),
    };
    let base = format!("https://www.rfc-editor.org/rfc/rfc{number}");
    if section.is_empty() {
        base
    } else {
        format!("{base}#section-{section}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: Status, expected: &str) -> CheckResult {
        CheckResult {
            id: "x.y",
            title: "",
            rfc: "§2",
            rfc_url: String::new(),
            level: Level::Must,
            status,
            reason: "r".into(),
            expected_fail: expected == "fail",
            expected_warn: expected == "warn",
            expected_blocked: expected == "blocked",
            duration_ms: 0.0,
            evidence: Vec::new(),
            details: None,
        }
    }

    fn scenario(checks: Vec<CheckResult>, error: Option<&str>) -> ScenarioResult {
        ScenarioResult {
            id: "s".into(),
            title: String::new(),
            file: String::new(),
            self_test: false,
            defects: Vec::new(),
            expect_fail: Vec::new(),
            expect_warn: Vec::new(),
            target: None,
            error: error.map(str::to_string),
            client: None,
            duration_ms: 0.0,
            checks,
        }
    }

    fn v(checks: Vec<CheckResult>) -> &'static str {
        verdict(&[scenario(checks, None)])
    }

    #[test]
    fn verdict_an_unplanted_fail_is_fail_even_with_errors() {
        assert_eq!(v(vec![check(Status::Fail, ""), check(Status::Error, ""), check(Status::Blocked, "")]), "fail");
        assert_eq!(v(vec![check(Status::Pass, ""), check(Status::Fail, "")]), "fail");
    }

    #[test]
    fn verdict_a_planted_defect_not_caught_is_fail() {
        assert_eq!(v(vec![check(Status::Pass, "fail")]), "fail");
        assert_eq!(v(vec![check(Status::Blocked, "fail")]), "fail", "blocked is not the failure the self-test planted");
        assert_eq!(v(vec![check(Status::Pass, "warn")]), "fail");
        assert_eq!(v(vec![check(Status::Pass, "blocked")]), "fail", "a refusal passed where its control was broken");
    }

    #[test]
    fn verdict_an_error_without_failures_is_error() {
        assert_eq!(v(vec![check(Status::Pass, ""), check(Status::Error, ""), check(Status::Blocked, "")]), "error");
        assert_eq!(verdict(&[scenario(vec![check(Status::Pass, "")], Some("the mock did not start"))]), "error");
        assert_eq!(verdict(&[scenario(vec![check(Status::Fail, "")], Some("deadline"))]), "fail");
    }

    #[test]
    fn verdict_pass_warn_skip_and_blocked_behind_planted_failures_pass() {
        assert_eq!(v(vec![check(Status::Pass, ""), check(Status::Warn, ""), check(Status::Skip, "")]), "pass");
        assert_eq!(v(vec![check(Status::Fail, "fail"), check(Status::Blocked, ""), check(Status::Blocked, "blocked")]), "pass");
        assert_eq!(v(vec![check(Status::Warn, "warn")]), "pass");
        assert_eq!(v(vec![]), "pass");
    }

    #[test]
    fn exit_code_follows_the_verdict() {
        for (verdict, code) in [("pass", 0), ("fail", 1), ("error", 2)] {
            let r = RunReport {
                schema_version: SCHEMA_VERSION,
                harness_version: "",
                run_id: String::new(),
                started_at: String::new(),
                finished_at: String::new(),
                duration_ms: 0.0,
                verdict,
                totals: Totals::default(),
                configuration: Configuration::default(),
                scenarios: Vec::new(),
            };
            assert_eq!(r.exit_code(), code);
        }
    }
}
