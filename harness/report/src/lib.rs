//! Results of a run and the report writers. The results model is what every format renders.

mod html;
mod json;
mod junit;
mod markdown;
mod pictures;

use std::path::{Path, PathBuf};

pub use mtls_core::results::{rfc_url, verdict, CheckResult, Configuration, RunReport, ScenarioResult, TargetInfo, Totals, SCHEMA_VERSION};

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `report.json`, the results as data (`json`).
    Json,
    /// `junit.xml`, for CI test views (`junit` or `xml`).
    Junit,
    /// `report.html`, one page for people (`html`).
    Html,
    /// `summary.md`, a CI step summary (`md` or `markdown`).
    Markdown,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 4] = [Format::Json, Format::Junit, Format::Html, Format::Markdown];

    /// A format by the name `--format` takes.
    pub fn parse(s: &str) -> Result<Format, String> {
        match s.trim() {
            "json" => Ok(Format::Json),
            "junit" | "xml" => Ok(Format::Junit),
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            other => Err(format!("unknown report format `{other}` (json, junit, html, md)")),
        }
    }

    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Format::Json => json::FILE_NAME,
            Format::Junit => junit::FILE_NAME,
            Format::Html => html::FILE_NAME,
            Format::Markdown => markdown::FILE_NAME,
        }
    }

    pub(crate) fn render(self, report: &RunReport) -> Result<Vec<u8>, String> {
        match self {
            Format::Json => serde_json::to_vec_pretty(report).map_err(|e| e.to_string()),
            Format::Junit => junit::render(report).map(String::into_bytes),
            Format::Html => html::render(report).map(String::into_bytes),
            Format::Markdown => Ok(markdown::render(report).into_bytes()),
        }
    }
}

/// Write the report in each format into `dir`. Every file goes to a unique temporary name and
/// is renamed into place, and the whole set is written under an exclusive lock on
/// `dir/.mtls-harness.lock`: the files of concurrent runs never interleave or tear.
pub fn write_all(report: &RunReport, dir: &Path, formats: &[Format]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    // Every format renders the scrubbed model: every registered secret is gone from every string
    // before any serialiser escapes it (a secret scrubbed after JSON or HTML escaping survives in
    // its escaped form, and one that looks like report syntax would break the file).
    let report = report.scrubbed();
    let rendered: Vec<(Format, Vec<u8>)> =
        formats.iter().map(|f| f.render(&report).map(|b| (*f, b)).map_err(std::io::Error::other)).collect::<Result<_, _>>()?;
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".mtls-harness.lock"))?;
    lock.lock()?;
    let mut written = Vec::new();
    for (f, body) in rendered {
        let path = dir.join(f.file_name());
        // A fresh sibling renamed into place: atomic, and never through a planted symlink.
        mtls_core::pki::write_file(&path, &body, false)?;
        written.push(path);
    }
    lock.unlock()?;
    Ok(written)
}
