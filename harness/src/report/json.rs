//! `report.json`: the run's results, schema-versioned (`harness/schema/report.schema.json`).

use std::path::{Path, PathBuf};

use super::{write_all, Format, RunReport};

pub const FILE_NAME: &str = "report.json";

/// Write only report.json (see `write_all` for the atomicity guarantees).
pub fn write(report: &RunReport, dir: &Path) -> std::io::Result<PathBuf> {
    Ok(write_all(report, dir, &[Format::Json])?.remove(0))
}
