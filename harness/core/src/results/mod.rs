//! The results of a run: what a check concluded ([`Outcome`], [`Status`], [`Level`]), what a
//! report shows of each check, scenario and run, and the run's one [`verdict`].

mod client_run;
mod outcome;
mod report;
mod scrub;
mod verdict;

pub use client_run::{ClientRun, RunEnd};
pub use outcome::{Beside, Evidence, Level, Outcome, Status};
pub use report::{
    rfc_url, CheckResult, Configuration, Kind, ProfileVerdict, RunReport, ScenarioResult, TargetInfo, Totals, SCHEMA_VERSION,
};
pub use verdict::verdict;
