//! Signed client authentication seen through the proxy. A `client_assertion` (RFC 7523 §2.2) or
//! a request object (RFC 9101) carries an `aud` the client signed — the issuer it was given.
//! With the issuer rewritten to the proxy's, that is the proxy's URL, which the upstream must
//! refuse (RFC 7523 §3: `aud` identifies the AS), and a signature cannot be rewritten: such an
//! observation judges the setup, not the client. Only `--preserve-issuer` works for these
//! clients.

use mtls_mock::journal::Entry;

/// The first request of `entries` that carries signed client authentication or a signed
/// request object: what it carried, where, and how the upstream answered.
pub fn first_signed(entries: &[Entry]) -> Option<String> {
    entries.iter().find_map(|e| {
        let has = |k: &str| e.form.iter().any(|(n, _)| n == k);
        let what = if has("client_assertion") {
            "a client_assertion (RFC 7523)"
        } else if has("request") {
            "a request object (RFC 9101)"
        } else {
            return None;
        };
        let answer = match &e.error {
            Some(err) => format!("{} {err}", e.status),
            None => e.status.to_string(),
        };
        Some(format!("{what} at {} {} (the upstream answered {answer})", e.method, e.path))
    })
}

/// Why observing a client that signs its authentication with the issuer rewritten cannot judge
/// it, and what works instead.
pub fn why_rewriting_fails(seen: &str, local_issuer: &str, upstream_issuer: &str) -> String {
    format!(
        "the client sent {seen}: it signs the issuer it was given — the proxy's {local_issuer} — as the audience, which {upstream_issuer} must refuse (RFC 7523 §3) and no proxy can rewrite without breaking the signature. This observation judges the setup, not the client. Run observe with --preserve-issuer: the client then sees the upstream's own issuer and URLs, and must reach the listeners under the upstream's host names and ports (the lines to point them there are printed)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(form: &[(&str, &str)], status: u16, error: Option<&str>) -> Entry {
        Entry {
            listener: "alias".into(),
            method: "POST".into(),
            path: "/token".into(),
            form: form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            status,
            error: error.map(str::to_string),
            ..Entry::default()
        }
    }

    #[test]
    fn a_client_assertion_or_request_object_is_found_with_its_answer() {
        let plain = entry(&[("client_id", "c"), ("grant_type", "client_credentials")], 200, None);
        assert_eq!(first_signed(std::slice::from_ref(&plain)), None, "tls_client_auth signs nothing");
        let jwt = entry(&[("client_assertion", "[redacted]"), ("grant_type", "client_credentials")], 401, Some("invalid_client"));
        let seen = first_signed(&[plain, jwt]).unwrap_or_default();
        assert_eq!(seen, "a client_assertion (RFC 7523) at POST /token (the upstream answered 401 invalid_client)");
        let par = entry(&[("request", "[redacted]")], 201, None);
        assert!(first_signed(&[par]).unwrap_or_default().starts_with("a request object (RFC 9101)"));
        assert!(why_rewriting_fails(&seen, "https://127.0.0.1:1", "https://as").contains("--preserve-issuer"));
    }
}
