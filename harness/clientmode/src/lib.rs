//! mtls-clientmode: the harness as the authorization server of a client under test — running
//! the client ([`run`]), the built-in conformant [`reference`](mod@reference) client, and the client-mode
//! [`checks`] that judge the embedded mock's request journal.

pub mod auth;
pub mod checks;
pub mod reference;
pub mod run;
pub mod signer;
pub mod site;
