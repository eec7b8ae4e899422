//! What a report shows of each check, scenario and run, and the run's configuration.

use serde::Serialize;
use serde_json::Value;

use super::{ClientRun, Evidence, Level, Status};
use crate::discovery::Effective;
use crate::redact::{Secrets, Tally};
use crate::scenario::Defect;

/// Whether a target is the embedded mock AS or a live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The harness's own mock AS, started for the scenario.
    Mock,
    /// A real AS described by a target file.
    Live,
}

/// Bumped on any incompatible change of report.json.
pub const SCHEMA_VERSION: u32 = 1;

/// What a report shows of one check in one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's catalogue id.
    pub id: &'static str,
    /// The check's catalogue title.
    pub title: &'static str,
    /// The section judged: of RFC 8705 unless another RFC is named.
    pub rfc: &'static str,
    /// Link to the section on rfc-editor.org.
    pub rfc_url: String,
    /// The level the outcome was judged at.
    pub level: Level,
    /// The verdict.
    pub status: Status,
    /// Why, as the check put it.
    pub reason: String,
    /// The scenario plants a defect this check must catch (self-test).
    pub expected_fail: bool,
    /// The scenario expects this check to warn (self-test of a SHOULD-level finding).
    pub expected_warn: bool,
    /// The scenario expects this check to be blocked by a planted failure it depends on.
    pub expected_blocked: bool,
    /// How long the check took, milliseconds.
    pub duration_ms: f64,
    /// The exchanges the verdict rests on.
    pub evidence: Vec<Evidence>,
    /// Structured findings (e.g. the effective-endpoint table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The keys (and lines) of the target file a wrong value of would explain this result as
    /// well as the server could: reports list such results first, "check your target file first".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_file: Option<String>,
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

/// The AS a scenario ran against.
#[derive(Debug, Clone, Serialize)]
pub struct TargetInfo {
    /// Mock or live.
    pub kind: Kind,
    /// Its issuer identifier.
    pub issuer: String,
    /// The shape the scenario asked the mock to publish (none for a live target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape_declared: Option<&'static str>,
    /// Server certificate verification was switched off (`--insecure`).
    pub insecure: bool,
    /// The shape classified from the discovery document actually served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape_observed: Option<&'static str>,
    /// The effective endpoint per operation resolved from its discovery (RFC 8705 §5).
    pub endpoints: Vec<Effective>,
}

/// What a report shows of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// The scenario's id.
    pub id: String,
    /// The scenario's title.
    pub title: String,
    /// The file it was loaded from.
    pub file: String,
    /// Whether it is a self-test (plants defects and names the checks that must catch them).
    pub self_test: bool,
    /// The defects planted in the mock AS.
    pub defects: Vec<Defect>,
    /// Check ids the scenario expects to fail.
    pub expect_fail: Vec<String>,
    /// Check ids the scenario expects to warn.
    pub expect_warn: Vec<String>,
    /// The AS it ran against, once that was known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetInfo>,
    /// Set when the scenario could not run at all (e.g. the mock did not start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Client mode: how the client under test ran (command, exit, output tail, redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientRun>,
    /// How long the scenario took, milliseconds.
    pub duration_ms: f64,
    /// Every check performed, in catalogue order, then the selected profiles' rules.
    pub checks: Vec<CheckResult>,
    /// The verdict of each selected profile on this scenario's target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileVerdict>,
}

/// A profile's verdict: `fail` when one of its `fail`-level rules (or required checks) failed
/// unexpectedly, else `error` when one could not be judged, else `pass`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProfileVerdict {
    /// The profile id (`uae-openfinance`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The version of the specification it encodes.
    pub version: String,
    /// `pass`, `fail` or `error`.
    pub verdict: &'static str,
    /// How many rules (required checks included) were judged.
    pub rules: usize,
    /// The rules that failed (`scenario::rule` in the run-level summary).
    pub failed: Vec<String>,
}

impl ProfileVerdict {
    /// The verdict of profile `id` over the rows of `checks` that belong to it.
    pub fn of(id: &str, title: &str, version: &str, checks: &[CheckResult]) -> ProfileVerdict {
        let prefix = format!("profile.{id}.");
        let rows: Vec<&CheckResult> = checks.iter().filter(|c| c.id.starts_with(&prefix)).collect();
        let failed: Vec<String> =
            rows.iter().filter(|c| c.status == Status::Fail && !c.expected_fail).map(|c| c.id[prefix.len()..].to_string()).collect();
        let verdict = if !failed.is_empty() {
            "fail"
        } else if rows.iter().any(|c| c.status == Status::Error) {
            "error"
        } else {
            "pass"
        };
        ProfileVerdict { id: id.into(), title: title.into(), version: version.into(), verdict, rules: rows.len(), failed }
    }

    /// One verdict per profile over a run's scenarios (the worst wins).
    pub fn over_run(scenarios: &[ScenarioResult]) -> Vec<ProfileVerdict> {
        let mut out: Vec<ProfileVerdict> = Vec::new();
        for sc in scenarios {
            for p in &sc.profiles {
                let failed = p.failed.iter().map(|f| format!("{}::{f}", sc.id));
                match out.iter_mut().find(|o| o.id == p.id) {
                    Some(o) => {
                        o.rules += p.rules;
                        o.failed.extend(failed);
                        let rank = |v: &str| match v {
                            "fail" => 2,
                            "error" => 1,
                            _ => 0,
                        };
                        if rank(p.verdict) > rank(o.verdict) {
                            o.verdict = p.verdict;
                        }
                    }
                    None => out.push(ProfileVerdict { failed: failed.collect(), ..p.clone() }),
                }
            }
        }
        out
    }
}

impl ScenarioResult {
    /// Whether the scenario ran and every check met expectations ([`CheckResult::as_expected`]).
    pub fn as_expected(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(CheckResult::as_expected)
    }
}

/// Counts of check results over a run, by status.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    /// Every check result.
    pub checks: usize,
    /// Results `pass`.
    pub pass: usize,
    /// Results `fail`, planted or not.
    pub fail: usize,
    /// Results `warn`.
    pub warn: usize,
    /// Results `skip`.
    pub skip: usize,
    /// Results `blocked`.
    pub blocked: usize,
    /// Results `error`.
    pub error: usize,
    /// Failures planted by self-tests and caught as intended (included in `fail`).
    pub expected_fail: usize,
    /// Checks whose outcome breaks expectations: an unplanted fail, or a planted defect not caught.
    pub unexpected: usize,
}

/// A whole run: what every report format renders (report.json is its serialisation).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// [`SCHEMA_VERSION`] of the report.json this serialises to.
    pub schema_version: u32,
    /// The mtls-harness version that ran.
    pub harness_version: &'static str,
    /// Unique id of the run: start time and process id.
    pub run_id: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// End time, RFC 3339 UTC.
    pub finished_at: String,
    /// How long the run took, milliseconds.
    pub duration_ms: f64,
    /// `pass`, `fail` or `error`: the same verdict the exit code gives.
    pub verdict: &'static str,
    /// The verdict of each selected profile, over every scenario it was judged on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileVerdict>,
    /// Counts over every scenario's checks.
    pub totals: Totals,
    /// How the run was configured, including whether any TLS verification was relaxed.
    pub configuration: Configuration,
    /// Every scenario, in the order they were given.
    pub scenarios: Vec<ScenarioResult>,
    /// What the run's secret registry held — counts only; shown when a secret was short or
    /// had to be dropped.
    #[serde(skip_serializing_if = "Tally::is_quiet")]
    pub redaction: Tally,
    /// The run's secrets: what every report format is scrubbed of ([`RunReport::scrubbed`]).
    /// Never serialised.
    #[serde(skip)]
    pub secrets: Secrets,
}

/// The run's configuration, as every report shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Configuration {
    /// `embedded mock AS` or `live target`.
    pub source: String,
    /// The directory scenarios were loaded from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenarios_dir: Option<String>,
    /// The target file, for a live run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_file: Option<String>,
    /// Server certificate verification of the target was switched off (`--insecure`).
    pub insecure: bool,
    /// The client-under-test command given on the command line (client mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_command: Option<String>,
    /// Connect timeout of each request, milliseconds.
    pub connect_timeout_ms: u64,
    /// Timeout of each whole request, milliseconds.
    pub request_timeout_ms: u64,
    /// Timeout of each check, milliseconds.
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
    /// The results a wrong target file explains as well as the server could (`check_file`),
    /// with their scenario: what every report lists first, "check your target file first".
    pub fn check_file_first(&self) -> Vec<(&str, &CheckResult)> {
        self.scenarios.iter().flat_map(|s| s.checks.iter().filter(|c| c.check_file.is_some()).map(move |c| (s.id.as_str(), c))).collect()
    }

    /// Count the check results of `scenarios`.
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
    if let Some(section) = first.strip_prefix("FAPI 2.0 SP §") {
        let section = section.split(['-', ' ']).next().unwrap_or(section);
        return format!("https://openid.net/specs/fapi-security-profile-2_0-final.html#section-{section}");
    }
    let (number, section) = match first.strip_prefix("RFC ") {
        Some(rest) => match rest.split_once(" §") {
            Some((n, s)) => (n.to_string(), s.to_string()),
            None => (rest.to_string(), String::new()),
        },
        None if first.starts_with('§') => ("8705".to_string(), first.trim_start_matches('§').to_string()),
        // A profile's own citation (an ecosystem standard): its sources carry the links.
        None => return String::new(),
    };
    let base = format!("https://www.rfc-editor.org/rfc/rfc{number}");
    if section.is_empty() {
        base
    } else {
        format!("{base}#section-{section}")
    }
}
