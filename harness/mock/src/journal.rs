//! The request journal: what reached the mock AS, on which listener, with which certificate.
//! Secrets in form bodies and credentials in headers are redacted before they are stored.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use mtls_core::redact::{redacted_form, Secrets};
use serde::Serialize;

/// One request that reached the mock AS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entry {
    /// The name of the listener it arrived on (`top`, `alias`, `plain`).
    pub listener: String,
    /// Whether this listener asked for a client certificate in the handshake.
    pub cert_requested: bool,
    /// The HTTP method.
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    /// The query string, as sent (scrubbed when shown).
    pub query: Option<String>,
    /// Form parameters in order, secrets redacted.
    pub form: Vec<(String, String)>,
    /// Authorization scheme only (`Basic`, `Bearer`), never the credential.
    pub authorization: Option<String>,
    /// `x5t#S256` of the presented client certificate.
    pub cert_x5t_s256: Option<String>,
    /// The status code the AS answered with (502 when the edge could not reach it).
    pub status: u16,
    /// The OAuth error code of a JSON error answer (RFC 6749 §5.2), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where an observe proxy forwarded the request (the real AS's URL, query left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `cnf.x5t#S256` of the JWT access token a successful answer carried (a thumbprint, not a
    /// secret): which certificate the AS bound the token to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_cnf: Option<String>,
}

/// What an answer's JSON body says that the journal keeps: its OAuth `error` code, and the
/// `cnf.x5t#S256` of a JWT `access_token` it carries (RFC 8705 §3.1) or of an introspection
/// answer (§3.2). Never the token.
pub fn answer_facts(v: &serde_json::Value) -> (Option<String>, Option<String>) {
    use base64::Engine;
    let error = v.get("error").and_then(|e| e.as_str()).map(|e| e.chars().take(80).collect());
    let cnf = v.get("access_token").and_then(|t| t.as_str()).and_then(|t| {
        let payload = t.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        claims.get("cnf")?.get("x5t#S256")?.as_str().map(|s| s.chars().take(100).collect())
    });
    let introspected = v.get("cnf").and_then(|c| c.get("x5t#S256")).and_then(|t| t.as_str()).map(|s| s.chars().take(100).collect());
    (error, cnf.or(introspected))
}

/// A JWT client assertion (RFC 7523 §2.2) as a request carried it: its header and claims for
/// the client checks to judge, and the compact JWS itself — a credential, so sealed: never
/// serialised, never shown by `Debug`, only handed to a signature verification.
#[derive(Clone)]
pub struct SeenAssertion {
    /// The JOSE header, as sent.
    pub header: serde_json::Value,
    /// The claims, as sent (unverified).
    pub claims: serde_json::Value,
    jws: String,
}

impl std::fmt::Debug for SeenAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenAssertion").field("header", &self.header).field("claims", &self.claims).finish_non_exhaustive()
    }
}

impl SeenAssertion {
    /// A compact JWS's header and claims; `None` when it is no JWS with JSON header and payload.
    pub fn parse(jws: &str) -> Option<SeenAssertion> {
        use base64::Engine;
        let part = |s: &str| -> Option<serde_json::Value> {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?;
            serde_json::from_slice(&bytes).ok().filter(serde_json::Value::is_object)
        };
        let mut it = jws.split('.');
        let (h, c, _sig) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() {
            return None;
        }
        Some(SeenAssertion { header: part(h)?, claims: part(c)?, jws: jws.to_string() })
    }

    /// The compact JWS, for a signature verification only.
    pub fn jws(&self) -> &str {
        &self.jws
    }
}

/// An entry and the client assertion its request carried.
type Recorded = (Entry, Option<SeenAssertion>);

/// A callback told of each entry as it is recorded (for `mtls-harness serve`).
pub type Observer = Box<dyn Fn(&Entry) + Send + Sync>;

/// The most recent entries (a long-running `serve` must not grow without bound).
const CAPACITY: usize = 10_000;

/// The record of requests of one mock AS, shared by its listeners; clones share it.
#[derive(Clone, Default)]
pub struct Journal {
    entries: Arc<Mutex<VecDeque<Recorded>>>,
    observer: Arc<OnceLock<Observer>>,
    secrets: Secrets,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("entries", &self.entries().len()).finish()
    }
}

impl Journal {
    /// An empty journal whose lines are scrubbed of `secrets` (and whose form secrets are
    /// registered there).
    pub fn new(secrets: Secrets) -> Journal {
        Journal { secrets, ..Journal::default() }
    }

    /// The registry this journal's requests register their secrets in.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Record `e` (telling the observer first).
    pub fn record(&self, e: Entry) {
        self.record_with_assertion(e, None);
    }

    /// [`Journal::record`], with the JWT client assertion the request carried (RFC 7523 §2.2).
    pub fn record_with_assertion(&self, e: Entry, assertion: Option<SeenAssertion>) {
        if let Some(obs) = self.observer.get() {
            obs(&e);
        }
        // A poisoned lock only means another request thread panicked; keep recording.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back((e, assertion));
    }

    /// The recorded entries, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(e, _)| e.clone()).collect()
    }

    /// The client assertion of each recorded entry, aligned with [`Journal::entries`].
    pub fn assertions(&self) -> Vec<Option<SeenAssertion>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(_, a)| a.clone()).collect()
    }

    /// Set the observer; only the first call takes effect.
    pub fn observe(&self, f: Observer) {
        let _ = self.observer.set(f);
    }
}

impl Entry {
    /// One line for a terminal: listener, request, certificate, status. No secrets: every one
    /// in `secrets` is scrubbed.
    pub fn line(&self, secrets: &Secrets) -> String {
        let q = self.query.as_deref().map(|q| format!("?{}", redacted_query(q, secrets))).unwrap_or_default();
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
        let error = self.error.as_deref().map(|e| format!(" {e}")).unwrap_or_default();
        let bound = self.token_cnf.as_deref().map(|t| format!(" (token bound to x5t#S256={t})")).unwrap_or_default();
        secrets.scrub(&format!("[{}] {} {}{q}{form}{auth} {cert} -> {}{error}{bound}", self.listener, self.method, self.path, self.status))
    }
}

fn redacted_query(q: &str, secrets: &Secrets) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(redacted_form(q.as_bytes(), secrets)).finish()
}

/// Only the scheme of an Authorization header.
pub fn auth_scheme(value: &str) -> String {
    value.split_whitespace().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_scheme_of_a_credential_is_kept() {
        assert_eq!(auth_scheme("Bearer eyJhbGciOi.x.y"), "Bearer");
    }

    #[test]
    fn a_seen_assertion_shows_its_claims_but_never_the_jws() {
        use base64::Engine;
        let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jws = format!("{}.{}.c2lnbmF0dXJl", b(r#"{"alg":"EdDSA"}"#), b(r#"{"iss":"c","jti":"j1"}"#));
        let a = SeenAssertion::parse(&jws).unwrap();
        assert_eq!((a.header["alg"].as_str(), a.claims["jti"].as_str(), a.jws()), (Some("EdDSA"), Some("j1"), jws.as_str()));
        let shown = format!("{a:?}");
        assert!(shown.contains("j1") && !shown.contains("c2lnbmF0dXJl"), "{shown}");
        assert!(SeenAssertion::parse("a.b").is_none() && SeenAssertion::parse(&format!("{jws}.x")).is_none());
        let journal = Journal::default();
        journal.record_with_assertion(sample_entry(), Some(a));
        journal.record(sample_entry());
        let seen = journal.assertions();
        assert_eq!((journal.entries().len(), seen.len(), seen[0].is_some(), seen[1].is_some()), (2, 2, true, false));
    }

    fn sample_entry() -> Entry {
        Entry {
            listener: "top".into(),
            cert_requested: true,
            method: "POST".into(),
            path: "/token".into(),
            query: None,
            form: vec![],
            authorization: None,
            cert_x5t_s256: None,
            status: 200,
            error: None,
            upstream: None,
            token_cnf: None,
        }
    }
}
