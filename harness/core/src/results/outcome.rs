//! What one check concluded: its [`Status`], at which [`Level`], why, and the [`Evidence`] of
//! the exchanges it judged.

use serde::Serialize;
use serde_json::Value;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    /// The target did what the requirement asks.
    Pass,
    /// A MUST was broken.
    Fail,
    /// A SHOULD or MAY was not followed, or another RFC's rule was broken on the way.
    Warn,
    /// The check does not apply to this target or configuration.
    Skip,
    /// A prerequisite failed, errored or was blocked: the check could not run. Never a pass,
    /// never by itself an error; the reason names the prerequisite.
    Blocked,
    /// The check could not be judged (transport failure, timeout, unusable response).
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
    /// MUST / MUST NOT: a violation fails.
    Must,
    /// SHOULD / MAY: a violation warns.
    Should,
    /// Informational: what the check found is recorded and passes; a profile that makes the
    /// rule its own raises the level.
    Info,
}

/// What a check concluded, why, and what it saw.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The verdict.
    pub status: Status,
    /// Why, in one sentence a person can act on.
    pub reason: String,
    /// The exchanges the verdict rests on.
    pub evidence: Vec<Evidence>,
    /// Structured findings (e.g. the effective-endpoint table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The level this outcome was judged at, where it depends on the target (e.g. `bind.other-auth`
    /// is MUST only for clients registered for bound tokens); else the check's own level.
    #[serde(skip)]
    pub level: Option<Level>,
    /// What the check says beside its verdict; rare, so boxed (an `Outcome` is the error type
    /// of most check steps).
    #[serde(skip)]
    pub beside: Option<Box<Beside>>,
}

/// What a check says beside its verdict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Beside {
    /// What the check was asked about and could not judge (an origin that never answered),
    /// beside what it did judge: a failure found elsewhere stands and names it, but an
    /// informational check's finding is then no pass (`run::graph` words both).
    pub unjudged: Option<String>,
    /// The keys of the user's target file that a wrong value of would explain this outcome as
    /// well as the server could (a positive control refused): listed first in every report.
    pub check_file: Option<String>,
}

impl Outcome {
    fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome { status, reason: reason.into(), evidence: Vec::new(), details: None, level: None, beside: None }
    }
    /// A `pass` for `reason`.
    pub fn pass(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, reason)
    }
    /// A `fail` for `reason`.
    pub fn fail(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, reason)
    }
    /// A `warn` for `reason`.
    pub fn warn(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Warn, reason)
    }
    /// A `skip` for `reason` (why the check does not apply).
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skip, reason)
    }
    /// A `blocked` for `reason` (which prerequisite did not hold).
    pub fn blocked(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Blocked, reason)
    }
    /// An `error` for `reason` (why the check could not be judged).
    pub fn error(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Error, reason)
    }
    /// Add one piece of evidence.
    pub fn with(mut self, ev: Evidence) -> Outcome {
        self.evidence.push(ev);
        self
    }
    /// Add every piece of evidence of `ev`.
    pub fn with_all(mut self, ev: impl IntoIterator<Item = Evidence>) -> Outcome {
        self.evidence.extend(ev);
        self
    }
    /// Attach structured findings.
    pub fn details(mut self, v: Value) -> Outcome {
        self.details = Some(v);
        self
    }
    /// Record what could not be judged beside this verdict (see [`Beside::unjudged`]).
    pub fn unjudged(mut self, what: impl Into<String>) -> Outcome {
        self.beside.get_or_insert_default().unjudged = Some(what.into());
        self
    }
    /// Name the target-file keys that could explain this outcome too (see [`Beside::check_file`]).
    pub fn check_file(mut self, keys: impl Into<String>) -> Outcome {
        self.beside.get_or_insert_default().check_file = Some(keys.into());
        self
    }
    /// Judge this outcome at `level` instead of the check's own.
    pub fn at_level(mut self, level: Level) -> Outcome {
        self.level = Some(level);
        self
    }
}

/// What a report shows of one exchange. Tokens, secrets and keys never appear in it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Evidence {
    /// Method and URL (`POST https://…/token`), or for a journalled request its listener, method
    /// and path.
    pub request: String,
    /// The certificate identity presented (a role name, `no-cert`, or the certificate's
    /// `x5t#S256` in client mode).
    pub identity: String,
    /// Scheme and client id only; the credential is always redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The form parameters sent, secret values redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<Vec<(String, String)>>,
    /// The HTTP status code, when a response arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `WWW-Authenticate` challenges of the response, joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub www_authenticate: Option<String>,
    /// The JSON response body, secret fields redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// Why no usable response arrived (transport failure, timeout, oversized body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
