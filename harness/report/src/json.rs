//! `report.json`: the run's results, schema-versioned (`harness/schema/report.schema.json`).
//! Rendered by `Format::Json` and written by `write_all` with the other formats.

pub(crate) const FILE_NAME: &str = "report.json";
