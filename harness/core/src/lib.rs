//! mtls-core: the part of mtls-harness every other part builds on, and that depends on none of
//! them — the scenario model, the check catalogue and its graph, results and the verdict, the
//! discovery model (where split-alias resolution is decided), DN comparison, the test PKI,
//! secret redaction, and the TLS configuration with its crypto provider.
//!
//! Data flows one way: scenario → PKI → target → check graph → results → verdict → reports.

pub mod catalogue;
pub mod discovery;
pub mod dn;
pub mod ids;
pub mod pki;
pub mod redact;
pub mod results;
pub mod scenario;
pub mod stats;
pub mod tls;
