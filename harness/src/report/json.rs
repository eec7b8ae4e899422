//! `report.json`: the run's results, schema-versioned. Written to a temporary file in the
//! same directory and renamed, so a reader never sees half a report.

use std::path::{Path, PathBuf};

use super::RunReport;

pub const FILE_NAME: &str = "report.json";

pub fn write(report: &RunReport, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!(".{FILE_NAME}.{}.tmp", std::process::id()));
    let body = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    crate::pki::write_file(&tmp, &body, false)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
