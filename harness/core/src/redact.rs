//! The last line of defence against leaking credentials: every secret the harness obtains or
//! sends (access, refresh and ID tokens, codes, verifiers, client secrets, cookies) is
//! registered here, and everything the harness writes for people — reports, terminal lines,
//! logs — is scrubbed of all of them in one pass. Field-name redaction (`http::redact`) catches
//! the expected places; this catches a token echoed under any other name.

use std::sync::{Arc, Mutex};

use aho_corasick::AhoCorasick;

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shorter strings are not registered: they would scrub ordinary words.
const MIN_LEN: usize = 8;

#[derive(Default)]
struct Registry {
    secrets: Vec<String>,
    matcher: Option<(usize, Arc<AhoCorasick>)>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

/// Remember a secret for scrubbing.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_LEN || secret == REDACTED {
        return;
    }
    let mut guard = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    let reg = guard.get_or_insert_with(Registry::default);
    if !reg.secrets.iter().any(|s| s == secret) {
        reg.secrets.push(secret.to_string());
    }
}

fn matcher() -> Option<Arc<AhoCorasick>> {
    let mut guard = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    let reg = guard.as_mut()?;
    if reg.secrets.is_empty() {
        return None;
    }
    match &reg.matcher {
        Some((n, m)) if *n == reg.secrets.len() => Some(m.clone()),
        _ => {
            let m = Arc::new(AhoCorasick::new(&reg.secrets).ok()?);
            reg.matcher = Some((reg.secrets.len(), m.clone()));
            Some(m)
        }
    }
}

/// Below this size a plain scan beats building an automaton (terminal lines, log lines).
const SMALL: usize = 4096;

/// `text` with every registered secret replaced by `[redacted]`.
pub fn scrub(text: &str) -> String {
    if text.len() < SMALL {
        let guard = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        let Some(reg) = guard.as_ref() else { return text.to_string() };
        let mut out = text.to_string();
        for s in reg.secrets.iter().filter(|s| s.len() <= text.len()) {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        return out;
    }
    match matcher() {
        Some(m) => m.replace_all(text, &vec![REDACTED; m.patterns_len()]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn registered_secrets_are_scrubbed_wherever_they_appear() {
        super::register("tok-ABCDEFGH-123");
        super::register("short");
        let s = super::scrub(r#"{"echo":"tok-ABCDEFGH-123","n":"short"} tok-ABCDEFGH-123"#);
        assert_eq!(s, r#"{"echo":"[redacted]","n":"short"} [redacted]"#);
    }
}

/// Form parameters whose values are credentials or tokens (RFC 6749, RFC 7009, RFC 7662, RFC 7523).
const SECRET_PARAMS: &[&str] =
    &["client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "token", "assertion", "password", "access_token"];

/// Whether a form or query parameter carries a credential.
pub fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.contains(&name)
}

/// Parse an `application/x-www-form-urlencoded` body with secret values redacted.
pub fn redacted_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                register(&v);
                REDACTED.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect()
}

#[cfg(test)]
mod form_tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let form = redacted_form(b"grant_type=client_credentials&client_id=c1&client_secret=s3cr3t&refresh_token=rt");
        assert_eq!(form[0], ("grant_type".into(), "client_credentials".into()));
        assert_eq!(form[1], ("client_id".into(), "c1".into()));
        assert_eq!(form[2].1, REDACTED);
        assert_eq!(form[3].1, REDACTED);
    }
}
