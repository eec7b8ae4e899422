//! The run's one verdict, and the exit code a CI acts on.

use super::{CheckResult, ScenarioResult, Status};

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

#[cfg(test)]
mod tests {
    use super::super::{Configuration, Level, RunReport, Totals, SCHEMA_VERSION};
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
            check_file: None,
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
            profiles: Vec::new(),
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
                profiles: Vec::new(),
                totals: Totals::default(),
                configuration: Configuration::default(),
                scenarios: Vec::new(),
                redaction: Default::default(),
                secrets: Default::default(),
            };
            assert_eq!(r.exit_code(), code);
        }
    }
}
