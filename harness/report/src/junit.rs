//! `junit.xml` (quick-junit): one testsuite per scenario, one testcase per check. A check that
//! failed (or errored) against expectations is a failure (error); a skip is skipped; a planted
//! defect caught as intended is a success whose output says so.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use mtls_core::results::Status;
use mtls_core::results::{CheckResult, RunReport};

pub(crate) const FILE_NAME: &str = "junit.xml";

pub(crate) fn render(report: &RunReport) -> Result<String, String> {
    let mut r = Report::new("mtls-harness");
    r.set_time(Duration::from_secs_f64(report.duration_ms / 1000.0));
    for sc in &report.scenarios {
        let mut suite = TestSuite::new(sc.id.as_str());
        suite.add_property(("title", sc.title.as_str()));
        if let Some(t) = &sc.target {
            suite.add_property(("issuer", t.issuer.as_str()));
            suite.add_property(("shape", t.shape_observed.unwrap_or("unknown")));
        }
        if let Some(e) = &sc.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(e.as_str());
            let mut case = TestCase::new("scenario", status);
            case.set_classname(sc.id.as_str());
            suite.add_test_case(case);
        }
        let in_profile = |c: &&CheckResult| sc.profiles.iter().any(|p| c.id.starts_with(&format!("profile.{}.", p.id)));
        for c in sc.checks.iter().filter(|c| !in_profile(c)) {
            suite.add_test_case(case(sc.id.as_str(), c));
        }
        r.add_test_suite(suite);
        // One testsuite per profile judged on the scenario: its rules, its verdict as a property.
        for p in &sc.profiles {
            let mut suite = TestSuite::new(format!("{}::profile {}", sc.id, p.id));
            suite.add_property(("profile", p.title.as_str()));
            suite.add_property(("version", p.version.as_str()));
            suite.add_property(("verdict", p.verdict));
            let class = format!("{}.{}", sc.id, p.id);
            for c in sc.checks.iter().filter(|c| c.id.starts_with(&format!("profile.{}.", p.id))) {
                suite.add_test_case(case(&class, c));
            }
            r.add_test_suite(suite);
        }
    }
    r.to_string().map_err(|e| e.to_string())
}

/// One check (or profile rule) as a testcase of class `class`.
fn case(class: &str, c: &CheckResult) -> TestCase {
    let text = format!("{} ({} {}): {}", c.status.name(), c.rfc, c.rfc_url, c.reason);
    let status = if c.as_expected() {
        if matches!(c.status, Status::Skip | Status::Blocked) {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!("{}: {}", c.status.name(), c.reason));
            s
        } else {
            TestCaseStatus::success()
        }
    } else {
        let kind = if c.status == Status::Error { NonSuccessKind::Error } else { NonSuccessKind::Failure };
        let mut s = TestCaseStatus::non_success(kind);
        let message = if c.expected_fail || c.expected_warn || c.expected_blocked {
            format!("the planted defect was not caught: {} is {}: {}", c.id, c.status.name(), c.reason)
        } else {
            c.reason.clone()
        };
        s.set_message(message.as_str());
        s.set_type(c.status.name());
        s.set_description(text.as_str());
        s
    };
    let mut case = TestCase::new(c.id, status);
    case.set_classname(class);
    case.set_time(Duration::from_secs_f64(c.duration_ms / 1000.0));
    let expected = if c.expected_fail || c.expected_warn || c.expected_blocked { " (planted: expected)" } else { "" };
    case.set_system_out(format!("{text}{expected}"));
    case
}
