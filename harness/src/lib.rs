//! mtls-harness: a conformance harness for RFC 8705 — OAuth 2.0 Mutual-TLS client
//! authentication (§2), certificate-bound access tokens (§3) and `mtls_endpoint_aliases` (§5).
//!
//! Data flows one way: scenario → PKI → target → checks → results → reports.

pub mod bench;
pub mod checks;
pub mod client_mode;
pub mod discovery;
pub mod dn;
pub mod http;
pub mod live;
pub mod mock;
pub mod pki;
pub mod redact;
pub mod reference_client;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod target;
