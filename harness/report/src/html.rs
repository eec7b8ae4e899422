//! `report.html`: one self-contained page a person reads (inline CSS, no external fetches):
//! verdict and counts, the run's configuration, then per scenario its target, effective
//! endpoints and a table per RFC 8705 requirement with status badges and expandable evidence.
//! Rendered with minijinja, HTML auto-escaped.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use mtls_core::results::Status;
use mtls_core::results::{CheckResult, RunReport, ScenarioResult};

pub(crate) const FILE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("report.html.j2");

/// The requirement a check is grouped under: RFC 8705's section titles; another specification's
/// section as cited; a profile's rules under the profile.
fn requirement(c: &CheckResult) -> String {
    if let Some(rest) = c.id.strip_prefix("profile.") {
        let profile = rest.split('.').next().unwrap_or(rest);
        return format!("Profile {profile}");
    }
    let rfc = c.rfc;
    let first = rfc.split(',').next().unwrap_or(rfc).trim();
    let title = match first {
        "§2" => "Mutual TLS for OAuth client authentication",
        "§2.1" => "PKI mutual-TLS method (tls_client_auth)",
        "§2.1.1" => "PKI method metadata",
        "§2.2" => "Self-signed certificate method (self_signed_tls_client_auth)",
        "§3" => "Certificate-bound access tokens",
        "§3.1" => "JWT certificate thumbprint confirmation (cnf.x5t#S256)",
        "§3.2" => "Confirmation method for token introspection",
        "§3.3" => "Authorization server metadata for bound tokens",
        "§4" => "Public clients and certificate-bound tokens",
        "§5" => "Endpoint aliases (mtls_endpoint_aliases)",
        "RFC 8414 §3" => "Authorization server metadata (RFC 8414)",
        _ => "",
    };
    let section = if first.starts_with('§') { format!("RFC 8705 {first}") } else { first.to_string() };
    if title.is_empty() {
        section
    } else {
        format!("{section} — {title}")
    }
}

#[derive(Serialize)]
struct CheckView<'a> {
    c: &'a CheckResult,
    anchor: String,
    status: &'static str,
    expected: bool,
    evidence: String,
    details: Option<String>,
}

#[derive(Serialize)]
struct Group<'a> {
    requirement: String,
    checks: Vec<CheckView<'a>>,
}

#[derive(Serialize)]
struct ScenarioView<'a> {
    s: &'a ScenarioResult,
    as_expected: bool,
    counts: [usize; 6],
    groups: Vec<Group<'a>>,
    client: Option<String>,
    /// The endpoint map (inline SVG), when the scenario has a target with endpoints.
    map: Option<String>,
    /// The client's journey (inline SVG), in client and observe mode.
    journey: Option<String>,
}

/// One profile rule's row in the table the report leads with.
#[derive(Serialize)]
struct RuleView<'a> {
    scenario: &'a str,
    c: &'a CheckResult,
    status: &'static str,
}

#[derive(Serialize)]
struct View<'a> {
    r: &'a RunReport,
    rules: Vec<RuleView<'a>>,
    /// The results a wrong target file explains too: listed first.
    check_file: Vec<RuleView<'a>>,
    real: Vec<ScenarioView<'a>>,
    selftests: Vec<ScenarioView<'a>>,
    redaction: Vec<String>,
    /// The verdict at a glance (inline SVG).
    grid: String,
}

fn counts(s: &ScenarioResult) -> [usize; 6] {
    let mut n = [0; 6];
    for (i, st) in Status::ALL.iter().enumerate() {
        n[i] = s.checks.iter().filter(|c| c.status == *st).count();
    }
    n
}

fn scenario_view(s: &ScenarioResult) -> ScenarioView<'_> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for c in &s.checks {
        let req = requirement(c);
        let view = CheckView {
            c,
            anchor: crate::pictures::row_id(&s.id, c.id),
            status: c.status.name(),
            expected: c.expected_fail || c.expected_warn || c.expected_blocked,
            evidence: serde_json::to_string_pretty(&c.evidence).unwrap_or_default(),
            details: c.details.as_ref().map(|d| serde_json::to_string_pretty(d).unwrap_or_default()),
        };
        match groups.iter_mut().find(|g| g.requirement == req) {
            Some(g) => g.checks.push(view),
            None => groups.push(Group { requirement: req, checks: vec![view] }),
        }
    }
    ScenarioView {
        s,
        as_expected: s.as_expected(),
        counts: counts(s),
        groups,
        client: s.client.as_ref().map(|c| serde_json::to_string_pretty(c).unwrap_or_default()),
        map: crate::pictures::endpoint_map(s),
        journey: crate::pictures::journey(s),
    }
}

pub(crate) fn render(report: &RunReport) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE).map_err(|e| e.to_string())?;
    let (selftests, real): (Vec<_>, Vec<_>) = report.scenarios.iter().partition(|s| s.self_test);
    let rules = report
        .scenarios
        .iter()
        .flat_map(|s| {
            s.checks.iter().filter(|c| c.id.starts_with("profile.")).map(move |c| RuleView { scenario: &s.id, c, status: c.status.name() })
        })
        .collect();
    // The grid shows the run's own scenarios (every scenario when it only has self-tests).
    let shown: Vec<&ScenarioResult> = if real.is_empty() { selftests.clone() } else { real.clone() };
    let mut grid_groups: Vec<(String, Vec<(&str, &CheckResult)>)> = Vec::new();
    for s in &shown {
        for c in &s.checks {
            let req = requirement(c);
            match grid_groups.iter_mut().find(|(r, _)| *r == req) {
                Some((_, v)) => v.push((s.id.as_str(), c)),
                None => grid_groups.push((req, vec![(s.id.as_str(), c)])),
            }
        }
    }
    let view = View {
        grid: crate::pictures::verdict_grid(&grid_groups),
        r: report,
        rules,
        check_file: report.check_file_first().into_iter().map(|(scenario, c)| RuleView { scenario, c, status: c.status.name() }).collect(),
        real: real.into_iter().map(scenario_view).collect(),
        selftests: selftests.into_iter().map(scenario_view).collect(),
        redaction: report.redaction.notes(),
    };
    env.get_template("report.html")
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(|e| format!("rendering report.html: {e}"))
}
