//! What one check concluded: its [`Status`], at which [`Level`], why, and the [`Evidence`] of
//! the exchanges it judged.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    /// A prerequisite failed, errored or was blocked: the check could not run. Never a pass,
    /// never by itself an error; the reason names the prerequisite.
    Blocked,
    Error,
}

impl Status {
    /// Every status, in the order reports count them.
    pub const ALL: &'static [Status] = <Status as strum::VariantArray>::VARIANTS;

    /// The name reports use (`blocked`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The keyword of the requirement a check judges: a broken MUST fails, a broken SHOULD or MAY
/// (or another RFC's rule noticed on the way) warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
}

/// What a check concluded, why, and what it saw.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// Structured findings (e.g. the effective-endpoint table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The level this outcome was judged at, where it depends on the target (e.g. `bind.other-auth`
    /// is MUST only for clients registered for bound tokens); else the check's own level.
    #[serde(skip)]
    pub level: Option<Level>,
}

impl Outcome {
    fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome { status, reason: reason.into(), evidence: Vec::new(), details: None, level: None }
    }
    pub fn pass(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, reason)
    }
    pub fn fail(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, reason)
    }
    pub fn warn(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Warn, reason)
    }
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skip, reason)
    }
    pub fn blocked(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Blocked, reason)
    }
    pub fn error(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Error, reason)
    }
    pub fn with(mut self, ev: Evidence) -> Outcome {
        self.evidence.push(ev);
        self
    }
    pub fn with_all(mut self, ev: impl IntoIterator<Item = Evidence>) -> Outcome {
        self.evidence.extend(ev);
        self
    }
    pub fn details(mut self, v: Value) -> Outcome {
        self.details = Some(v);
        self
    }
    pub fn at_level(mut self, level: Level) -> Outcome {
        self.level = Some(level);
        self
    }
}

/// What a report shows of one exchange. Tokens, secrets and keys never appear in it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub request: String,
    pub identity: String,
    /// Scheme and client id only; the credential is always redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<Vec<(String, String)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub www_authenticate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
