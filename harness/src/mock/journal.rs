//! The request journal: what reached the mock AS, on which listener, with which certificate.
//! Secrets in form bodies and credentials in headers are redacted before they are stored.

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// Form parameters whose values are credentials or tokens (RFC 6749, RFC 7009, RFC 7662, RFC 7523).
const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "assertion",
    "password",
    "access_token",
];

pub const REDACTED: &str = "[redacted]";

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub listener: String,
    /// Whether this listener asked for a client certificate in the handshake.
    pub cert_requested: bool,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Form parameters in order, secrets redacted.
    pub form: Vec<(String, String)>,
    /// Authorization scheme only (`Basic`, `Bearer`), never the credential.
    pub authorization: Option<String>,
    /// `x5t#S256` of the presented client certificate.
    pub cert_x5t_s256: Option<String>,
    pub status: u16,
}

#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Entry>>>);

impl Journal {
    pub fn record(&self, e: Entry) {
        // A poisoned lock only means another request thread panicked; keep recording.
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Parse an `application/x-www-form-urlencoded` body with secret values redacted.
pub fn redacted_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) { REDACTED.to_string() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect()
}

/// Only the scheme of an Authorization header.
pub fn auth_scheme(value: &str) -> String {
    value.split_whitespace().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let form = redacted_form(b"grant_type=client_credentials&client_id=c1&client_secret=s3cr3t&refresh_token=rt");
        assert_eq!(form[0], ("grant_type".into(), "client_credentials".into()));
        assert_eq!(form[1], ("client_id".into(), "c1".into()));
        assert_eq!(form[2].1, REDACTED);
        assert_eq!(form[3].1, REDACTED);
        assert_eq!(auth_scheme("Bearer eyJhbGciOi.x.y"), "Bearer");
    }
}
