//! `mtls-harness check-target`: the first contact a run makes, and nothing else — discovery and
//! its issuer, the server certificate of each origin it reaches against `ca_bundle`, each
//! configured client's accept request, the resource with that token, PAR with the redirect URI —
//! in about a second, so that a user fixes their own file before a run reports anything about
//! the bank. The same checks as `run`, judged the same way: what check-target says is what
//! the run will say about them.

use std::sync::Arc;

use mtls_client::live::{ProfileNames, TargetFile};
use mtls_core::results::{CheckResult, RunReport, Status};

use crate::run::{self, RunConfig, Source};

/// The positive controls of a first contact, in the order a run reaches them. The plan adds
/// what they need (discovery, the token they bind).
pub const FIRST_CONTACT: &[&str] =
    &["disc.fetch", "endpoints.resolve", "auth.pki.accept", "auth.self.accept", "auth.jwt.accept", "bind.rs.same-cert", "par.alias"];

/// What check-target concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Every first-contact request went through: run it.
    Ready,
    /// The AS refused a request the file says it must accept (a run reports it as `fail`):
    /// either the file or the AS is wrong — the reason names the key and line to check.
    Refused,
    /// A first-contact request could not be judged (unreachable, TLS, an unusable answer).
    CannotJudge,
}

impl Readiness {
    /// The process exit code: the run's for the same result (0 pass, 1 fail, 2 error).
    pub fn exit_code(self) -> u8 {
        match self {
            Readiness::Ready => 0,
            Readiness::Refused => 1,
            Readiness::CannotJudge => 2,
        }
    }
}

/// A check-target run: the first-contact results, in plan order, and the first to fix.
pub struct Preflight {
    /// The run's report (one scenario; no profile rules).
    pub report: RunReport,
    /// What it concluded.
    pub readiness: Readiness,
}

impl Preflight {
    /// What `report` concludes: ready when nothing is to fix; refused when the first thing to
    /// fix is a refusal (`fail`); otherwise, or when the scenario did not run, not judged.
    fn of(report: RunReport) -> Preflight {
        let mut pre = Preflight { report, readiness: Readiness::CannotJudge };
        let ran = pre.report.scenarios.first().is_some_and(|s| s.error.is_none());
        pre.readiness = match pre.first_problem() {
            _ if !ran => Readiness::CannotJudge,
            None => Readiness::Ready,
            Some(c) if c.status == Status::Fail => Readiness::Refused,
            Some(_) => Readiness::CannotJudge,
        };
        pre
    }

    /// The results, in plan order.
    pub fn results(&self) -> &[CheckResult] {
        self.report.scenarios.first().map(|s| s.checks.as_slice()).unwrap_or_default()
    }

    /// The first result to fix: the earliest that failed, errored or was blocked.
    pub fn first_problem(&self) -> Option<&CheckResult> {
        self.results().iter().find(|c| matches!(c.status, Status::Fail | Status::Error | Status::Blocked))
    }

    /// Why the scenario did not run at all (a target that could not be built), if so.
    pub fn scenario_error(&self) -> Option<&str> {
        self.report.scenarios.first().and_then(|s| s.error.as_deref())
    }
}

/// Make the first contact `tf` describes: its own checks and profiles replaced by
/// [`FIRST_CONTACT`] (no profile rules are judged), bounded by `cfg`'s timeouts.
pub async fn check_target(mut tf: TargetFile, insecure: bool, cfg: &RunConfig) -> Preflight {
    tf.checks = FIRST_CONTACT.iter().map(|s| s.to_string()).collect();
    tf.profile = ProfileNames::default();
    tf.settle_bound_tokens(&[]);
    let scenario = tf.scenario();
    let cfg = RunConfig { profiles: Vec::new(), client_cmd: None, ..cfg.clone() };
    let source = Source::Live { target: Arc::new(tf), insecure };
    Preflight::of(run::run_all(&[scenario], &source, &cfg, None).await)
}
