//! Results of a run and the report writers. The results model is what every format renders.

pub mod json;

use serde::Serialize;
use serde_json::Value;

use crate::checks::{Level, Status};
use crate::discovery::Effective;
use crate::http::Evidence;
use crate::mock::Defect;
use crate::target::Kind;

/// Bumped on any incompatible change of report.json.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub title: &'static str,
    pub rfc: &'static str,
    pub level: Level,
    pub status: Status,
    pub reason: String,
    /// The scenario plants a defect this check must catch (self-test).
    pub expected_fail: bool,
    /// The scenario expects this check to warn (self-test of a SHOULD-level finding).
    pub expected_warn: bool,
    pub duration_ms: f64,
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl CheckResult {
    /// A check meets expectations when an expected failure failed, and anything else did not
    /// fail or error.
    pub fn as_expected(&self) -> bool {
        if self.expected_fail {
            self.status == Status::Fail
        } else if self.expected_warn {
            self.status == Status::Warn
        } else {
            matches!(self.status, Status::Pass | Status::Warn | Status::Skip)
        }
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
    pub client: Option<crate::client_mode::ClientRun>,
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
    pub scenarios: Vec<ScenarioResult>,
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

    /// 0: everything as expected; 1: a check failed (or a planted defect went uncaught);
    /// 2: the harness could not judge something (an `error` result or a scenario that did not run).
    pub fn exit_code(&self) -> i32 {
        let errored = self.totals.error > 0 || self.scenarios.iter().any(|s| s.error.is_some());
        if errored {
            2
        } else if self.totals.unexpected > 0 {
            1
        } else {
            0
        }
    }

    pub fn verdict_for(code: i32) -> &'static str {
        match code {
            0 => "pass",
            1 => "fail",
            _ => "error",
        }
    }
}
