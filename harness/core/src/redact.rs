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

/// The shortest secret the harness accepts: a shorter one could not be scrubbed from reports
/// without scrubbing ordinary words too.
pub const MIN_SECRET_LEN: usize = MIN_LEN;

/// Remember a client secret in every form it may travel or be echoed in: raw, form-urlencoded
/// and percent-encoded (RFC 6749 §2.3.1, Appendix B), inside the `Basic` credential
/// (base64 of `id:secret`, encoded and not), JSON-escaped and HTML-escaped.
pub fn register_credential(client_id: &str, secret: &str) {
    use base64::Engine;
    let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pct = |s: &str| percent_encode_all(s);
    let json = serde_json::to_string(secret).map(|j| j.trim_matches('"').to_string()).unwrap_or_default();
    let html = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;");
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    for form_of in [
        secret.to_string(),
        form(secret),
        pct(secret),
        json,
        html,
        b64(format!("{}:{}", form(client_id), form(secret))),
        b64(format!("{client_id}:{secret}")),
    ] {
        register(&form_of);
    }
}

/// Every byte outside the RFC 3986 unreserved set percent-encoded.
fn percent_encode_all(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
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
    fn a_client_secret_is_scrubbed_in_every_form_it_travels_in() {
        use base64::Engine;
        let secret = "CANARY\"s3cret/<&> +=";
        super::register_credential("tpp:one", secret);
        let basic = base64::engine::general_purpose::STANDARD.encode("tpp%3Aone:CANARY%22s3cret%2F%3C%26%3E+%2B%3D");
        for echoed in [
            secret.to_string(),
            "CANARY%22s3cret%2F%3C%26%3E+%2B%3D".to_string(),
            "CANARY%22s3cret%2F%3C%26%3E%20%2B%3D".to_string(),
            r#"CANARY\"s3cret/<&> +="#.to_string(),
            "CANARY&quot;s3cret&#x2f;&lt;&amp;&gt; +=".to_string(),
            basic,
        ] {
            let out = super::scrub(&format!("server said: {echoed}."));
            assert_eq!(out, "server said: [redacted].", "{echoed}");
        }
    }

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
