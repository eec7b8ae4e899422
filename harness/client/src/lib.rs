//! mtls-client: the harness as the OAuth client of an authorization server — one HTTP client
//! per certificate identity with bounded, redacted exchanges ([`http`]), what the AS-mode checks
//! run against ([`target`], built from a live [`live::TargetFile`] or by the runner from the
//! embedded mock's facts), and the AS-mode checks themselves ([`checks`]). It never depends on
//! the mock.

pub mod assertion;
pub mod checks;
pub mod file_keys;
pub mod http;
pub mod live;
pub mod profile;
pub mod target;
pub mod tls_survey;
