//! `summary.md`: a compact table for a CI step summary (e.g. `$GITHUB_STEP_SUMMARY`).

use mtls_core::results::RunReport;
use mtls_core::results::Status;

pub(crate) const FILE_NAME: &str = "summary.md";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub(crate) fn render(report: &RunReport) -> String {
    let t = &report.totals;
    let mut out = format!(
        "## mtls-harness: {}\n\n{} scenarios, {}, {} unexpected. {:.0} ms.\n\n",
        report.verdict.to_uppercase(),
        report.scenarios.len(),
        t.line(),
        t.unexpected,
        report.duration_ms
    );
    // The profile verdicts lead: they are what certification asks about.
    if !report.profiles.is_empty() {
        out.push_str("| profile | version | verdict | rules | failed |\n|---|---|---|---:|---|\n");
        for p in &report.profiles {
            out.push_str(&format!(
                "| {} ({}) | {} | **{}** | {} | {} |\n",
                cell(&p.title),
                p.id,
                cell(&p.version),
                p.verdict.to_uppercase(),
                p.rules,
                cell(&p.failed.join(", "))
            ));
        }
        out.push('\n');
        out.push_str("| scenario | rule | citation | status | evidence |\n|---|---|---|---|---|\n");
        for sc in &report.scenarios {
            for c in sc.checks.iter().filter(|c| c.id.starts_with("profile.")) {
                out.push_str(&format!("| {} | `{}` | {} | {} | {} |\n", cell(&sc.id), c.id, cell(c.rfc), c.status.name(), cell(&c.reason)));
            }
        }
        out.push('\n');
    }
    let first = report.check_file_first();
    if !first.is_empty() {
        out.push_str("### Check your target file first\n\nThe server refused what the target file says it must accept: either it refuses its own client (the verdict stands) or the file is wrong.\n\n| scenario | check | status | keys to check |\n|---|---|---|---|\n");
        for (sc, c) in first {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                cell(sc),
                c.id,
                c.status.name(),
                cell(c.check_file.as_deref().unwrap_or_default())
            ));
        }
        out.push('\n');
    }
    for note in report.redaction.notes() {
        out.push_str(&format!("> **Redaction:** {}.\n\n", cell(&note)));
    }
    if report.configuration.insecure {
        out.push_str("> **Warning:** server certificate verification was switched off (`--insecure`).\n\n");
    }
    out.push_str(
        "| scenario | shape | pass | fail | warn | skip | blocked | error | as expected |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for sc in &report.scenarios {
        let n = |st: Status| sc.checks.iter().filter(|c| c.status == st).count();
        let shape = sc.target.as_ref().and_then(|t| t.shape_observed).unwrap_or("-");
        out.push_str(&format!(
            "| {} | {shape} | {} | {} | {} | {} | {} | {} | {} |\n",
            cell(&sc.id),
            n(Status::Pass),
            n(Status::Fail),
            n(Status::Warn),
            n(Status::Skip),
            n(Status::Blocked),
            n(Status::Error),
            if sc.as_expected() { "yes" } else { "**no**" }
        ));
    }
    let problems: Vec<String> = report
        .scenarios
        .iter()
        .flat_map(|sc| {
            let mut v: Vec<String> = sc.error.iter().map(|e| format!("- `{}`: did not run: {}", sc.id, cell(e))).collect();
            v.extend(
                sc.checks
                    .iter()
                    .filter(|c| !c.as_expected())
                    .map(|c| format!("- `{}::{}` **{}** ({}): {}", sc.id, c.id, c.status.name(), c.rfc, cell(&c.reason))),
            );
            v
        })
        .collect();
    if !problems.is_empty() {
        out.push_str("\n### Unexpected results\n\n");
        out.push_str(&problems.join("\n"));
        out.push('\n');
    }
    out
}
