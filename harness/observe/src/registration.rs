//! What observe knows of the observed client's registration at the real AS, which the proxy
//! cannot read: how it authenticates (RFC 8705 §2, RFC 7523 §2.2), its client_id, and — for
//! `private_key_jwt` — the public keys its assertions must verify with (OIDC Core §9).
//!
//! The method is the one declared (`--client-auth`, or the target file's client entry); else it
//! is read from the traffic: a request carrying a `client_assertion` of the jwt-bearer type
//! (RFC 7523 §2.2) makes the client a `private_key_jwt` one; otherwise it is judged as an mTLS
//! client. The keys come from the declared signing key (its public half) or JWKS; without them
//! `client.auth.assertion.signature` skips and says what to give.

use mtls_clientmode::auth::ClientAuth;
use mtls_core::scenario::AuthMethod;
use mtls_mock::clients::JWT_BEARER;
use mtls_mock::Entry;
use serde_json::Value;

/// What the user declared of the client (flags or target file).
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// The registered method; `None`: read it from the traffic.
    pub method: Option<AuthMethod>,
    /// The client_id; `None` (or empty): unknown.
    pub client_id: Option<String>,
    /// The registered public keys (a JWK Set) of a private_key_jwt client.
    pub jwks: Option<Value>,
}

/// How the method was found, for the terminal and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodSource {
    /// Given on the command line or in the target file.
    Declared,
    /// Read from the traffic: a jwt-bearer `client_assertion` was seen.
    Inferred,
    /// Nothing said it: judged as an mTLS client.
    Assumed,
}

/// Why a private_key_jwt client's signatures cannot be verified, and what to give.
pub const NO_KEYS: &str = "give observe the client's public key: --client-jwks (its registered JWK Set), --jwt-key (its signing key, whose public half is used), or clients.private_key_jwt in --target";

/// Whether `e` carries a jwt-bearer client assertion (RFC 7523 §2.2).
fn carries_jwt_bearer(e: &Entry) -> bool {
    let has = |k: &str, v: Option<&str>| e.form.iter().any(|(n, x)| n == k && v.is_none_or(|v| x == v));
    has("client_assertion", None) && has("client_assertion_type", Some(JWT_BEARER))
}

/// Whether any of `entries` carries a jwt-bearer client assertion: the traffic of a
/// private_key_jwt client.
pub fn sends_jwt_bearer(entries: &[Entry]) -> bool {
    entries.iter().any(carries_jwt_bearer)
}

/// The registration the client checks judge by, and how its method was found.
pub fn client_auth(declared: &Declared, entries: &[Entry], metadata: &Value) -> Result<(ClientAuth, MethodSource), String> {
    let (method, source) = match declared.method {
        Some(m) => (m, MethodSource::Declared),
        None if sends_jwt_bearer(entries) => (AuthMethod::PrivateKeyJwt, MethodSource::Inferred),
        None => {
            let issuer = metadata.get("issuer").and_then(Value::as_str).unwrap_or_default();
            let mut auth = ClientAuth::unknown(issuer);
            auth.client_id = declared.client_id.clone().filter(|c| !c.is_empty());
            return Ok((auth, MethodSource::Assumed));
        }
    };
    let jwks = match (&declared.jwks, method) {
        (Some(set), AuthMethod::PrivateKeyJwt) => {
            Some(serde_json::from_value(set.clone()).map_err(|e| format!("the client's JWK Set is not usable: {e}"))?)
        }
        _ => None,
    };
    let client_id = declared.client_id.clone().unwrap_or_default();
    let mut auth = ClientAuth::registered(method, &client_id, jwks, metadata);
    if client_id.is_empty() {
        auth.client_id = None;
    }
    if method == AuthMethod::PrivateKeyJwt && auth.jwks.is_none() {
        auth.jwks_unknown = Some(NO_KEYS.into());
    }
    Ok((auth, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(form: &[(&str, &str)]) -> Entry {
        Entry {
            method: "POST".into(),
            path: "/token".into(),
            form: form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Entry::default()
        }
    }

    #[test]
    fn the_method_is_declared_else_read_from_a_jwt_bearer_assertion_else_mtls() {
        let meta = serde_json::json!({"issuer": "https://as.example", "token_endpoint": "https://as.example/token"});
        let jwt = entry(&[("client_assertion_type", JWT_BEARER), ("client_assertion", "[redacted]")]);
        let plain = entry(&[("client_id", "c1")]);
        let (a, s) = client_auth(&Declared::default(), &[plain.clone(), jwt.clone()], &meta).unwrap();
        assert_eq!((a.method, s), (Some(AuthMethod::PrivateKeyJwt), MethodSource::Inferred));
        assert_eq!(a.jwks_unknown.as_deref(), Some(NO_KEYS), "no key declared: the signature is not verified");
        assert_eq!(a.client_id, None);
        let (a, s) = client_auth(&Declared::default(), std::slice::from_ref(&plain), &meta).unwrap();
        assert_eq!((a.method, s), (None, MethodSource::Assumed));
        let declared = Declared { method: Some(AuthMethod::TlsClientAuth), client_id: Some("c1".into()), jwks: None };
        let (a, s) = client_auth(&declared, &[jwt], &meta).unwrap();
        assert_eq!((a.method, s, a.client_id.as_deref()), (Some(AuthMethod::TlsClientAuth), MethodSource::Declared, Some("c1")));
        assert_eq!(a.token_endpoints, ["https://as.example/token"]);
    }
}
