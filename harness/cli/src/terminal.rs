//! What the terminal shows: colours by status (anstyle), written through anstream, which drops
//! them when stdout is not a terminal or NO_COLOR is set (https://no-color.org).

use anstyle::{AnsiColor, Style as Ansi};
use mtls_harness::report::CheckResult;
use mtls_harness::results::Status;

/// How statuses and the verdict are coloured.
#[derive(Clone, Copy)]
pub(crate) struct Style;

impl Style {
    fn of(status: &str) -> Ansi {
        let colour = match status {
            "pass" => AnsiColor::Green,
            "fail" => AnsiColor::Red,
            "warn" => AnsiColor::Yellow,
            "skip" => AnsiColor::BrightBlack,
            "blocked" => AnsiColor::Blue,
            _ => AnsiColor::Magenta,
        };
        colour.on_default()
    }

    /// A check's line with its status word coloured (a planted failure caught: cyan).
    pub(crate) fn paint(&self, c: &CheckResult, line: &str) -> String {
        let style = if c.as_expected() && c.status == Status::Fail { AnsiColor::Cyan.on_default() } else { Style::of(c.status.name()) };
        match line.split_once(' ') {
            Some((head, rest)) => format!("{style}{head}{style:#} {rest}"),
            None => line.to_string(),
        }
    }

    /// The verdict word, bold and coloured.
    pub(crate) fn verdict(&self, v: &str) -> String {
        let style = Style::of(v).bold();
        format!("{style}{v}{style:#}")
    }
}
