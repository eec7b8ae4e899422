//! mtls-harness: a conformance harness for RFC 8705 — OAuth 2.0 Mutual-TLS client
//! authentication (§2), certificate-bound access tokens (§3) and `mtls_endpoint_aliases` (§5).
//!
//! Data flows one way, and the crates follow it (ARCHITECTURE.md): scenario → PKI → target →
//! check graph → results → verdict → reports. This crate is the last stage: the runner that
//! joins them ([`run`]), the benchmark, and the command line; the stages before it are
//! re-exported here under the names the tests and embedders use.

pub mod bench;
pub mod init;
pub mod preflight;
pub mod run;

pub use mtls_client::{http, live, target};
pub use mtls_clientmode::reference as reference_client;
pub use mtls_core::{catalogue, discovery, dn, error_chain, pki, profile, redact, results, scenario, text, tls_policy};
pub use mtls_mock as mock;
pub use mtls_observe as observe;
pub use mtls_report as report;
pub use mtls_tlsprobe as tlsprobe;

/// The check catalogue and graph (`mtls_core::catalogue`), the AS-mode checks
/// (`mtls_client::checks`) and the results they produce.
pub mod checks {
    pub use mtls_client::checks::*;
    pub use mtls_core::catalogue::*;
}

/// Running a client under test (`mtls_clientmode::run`), the client checks and what they judge.
pub mod client_mode {
    pub use mtls_clientmode::run::*;
    pub use mtls_clientmode::{auth, checks, site};
}
