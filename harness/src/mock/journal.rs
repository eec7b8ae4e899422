//! The request journal: what reached the mock AS, on which listener, with which certificate.
//! Secrets in form bodies and credentials in headers are redacted before they are stored.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

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

pub use crate::redact::REDACTED;

/// Whether a form or query parameter carries a credential.
pub fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.contains(&name)
}

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

/// A callback told of each entry as it is recorded (for `mtls-harness serve`).
pub type Observer = Box<dyn Fn(&Entry) + Send + Sync>;

/// The most recent entries (a long-running `serve` must not grow without bound).
const CAPACITY: usize = 10_000;

#[derive(Clone, Default)]
pub struct Journal {
    entries: Arc<Mutex<VecDeque<Entry>>>,
    observer: Arc<OnceLock<Observer>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("entries", &self.entries().len()).finish()
    }
}

impl Journal {
    pub fn record(&self, e: Entry) {
        if let Some(obs) = self.observer.get() {
            obs(&e);
        }
        // A poisoned lock only means another request thread panicked; keep recording.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(e);
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// Set the observer; only the first call takes effect.
    pub fn observe(&self, f: Observer) {
        let _ = self.observer.set(f);
    }
}

impl Entry {
    /// One line for a terminal: listener, request, certificate, status. No secrets.
    pub fn line(&self) -> String {
        let q = self.query.as_deref().map(|q| format!("?{}", redacted_query(q))).unwrap_or_default();
        let form = if self.form.is_empty() {
            String::new()
        } else {
            format!(" form[{}]", self.form.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
        };
        let auth = self.authorization.as_deref().map(|a| format!(" auth={a}")).unwrap_or_default();
        let cert = match (&self.cert_x5t_s256, self.cert_requested) {
            (Some(t), _) => format!("cert x5t#S256={t}"),
            (None, true) => "no cert".to_string(),
            (None, false) => "no cert (not requested)".to_string(),
        };
        crate::redact::scrub(&format!("[{}] {} {}{q}{form}{auth} {cert} -> {}", self.listener, self.method, self.path, self.status))
    }
}

fn redacted_query(q: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(redacted_form(q.as_bytes())).finish()
}

/// Parse an `application/x-www-form-urlencoded` body with secret values redacted.
pub fn redacted_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                crate::redact::register(&v);
                REDACTED.to_string()
            } else {
                v.into_owned()
            };
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
