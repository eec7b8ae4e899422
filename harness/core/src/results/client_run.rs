//! How a client under test ran (client mode): its end and the tail of its output.

use serde::Serialize;

/// How the client under test's process ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum RunEnd {
    /// Exited with this status code.
    Exited(i32),
    /// Killed by a signal (crashed).
    Signalled,
    /// Did not finish within the timeout and was killed.
    TimedOut(u64),
    /// Could not be started.
    NotStarted(String),
}

/// How the client under test ran.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRun {
    /// The command line that was run.
    pub command: String,
    /// How its process ended.
    pub end: RunEnd,
    /// Wall-clock time from start to end, milliseconds.
    pub duration_ms: u64,
    /// The last lines the client printed (stdout and stderr), for the evidence.
    pub output_tail: Vec<String>,
}

impl ClientRun {
    /// Whether the client exited with status 0.
    pub fn succeeded(&self) -> bool {
        matches!(self.end, RunEnd::Exited(0))
    }

    /// Why the run does not count as a success, if it does not.
    pub fn failure(&self) -> Option<String> {
        match &self.end {
            RunEnd::Exited(0) => None,
            RunEnd::Exited(c) => Some(format!("the client exited with status {c}")),
            RunEnd::Signalled => Some("the client was killed by a signal (crashed)".into()),
            RunEnd::TimedOut(ms) => Some(format!("the client did not finish within {ms} ms and was killed")),
            RunEnd::NotStarted(why) => Some(format!("the client could not be started: {why}")),
        }
    }
}
