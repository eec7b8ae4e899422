//! mtls-core: the part of mtls-harness every other part builds on, and that depends on none of
//! them — the scenario model, the check catalogue and its graph, results and the verdict, the
//! discovery model (where split-alias resolution is decided), DN comparison, the test PKI,
//! secret redaction, and the TLS configuration with its crypto provider.
//!
//! Data flows one way: scenario → PKI → target → check graph → results → verdict → reports.

pub mod assertion_policy;
pub mod catalogue;
pub mod discovery;
pub mod dn;
pub mod forwarded;
pub mod ids;
pub mod pki;
pub mod profile;
pub mod redact;
pub mod results;
pub mod scenario;
pub mod stats;
pub mod text;
pub mod tls;
pub mod tls_policy;

/// An error and its sources on one line, `outer: inner: innermost` (what the command line
/// prints; reports use it where an error ends a scenario).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.join(": ")
}
