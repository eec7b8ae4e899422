//! How the client under test is registered to authenticate (RFC 8705 §2, RFC 7523 §2.2), and
//! what its `private_key_jwt` assertions are judged against: the registered public keys, the
//! audiences the AS answers to, and whether a FAPI 2.0 profile is judged.

use mtls_core::assertion_policy::AssertionPolicy;
use mtls_core::scenario::AuthMethod;
use serde_json::Value;

/// The registration the client checks judge a client's authentication by.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    /// The registered `token_endpoint_auth_method`; `None`: unknown (a client observed in
    /// front of a real AS) — judged as an mTLS client.
    pub method: Option<AuthMethod>,
    /// The registered client_id; `None`: unknown.
    pub client_id: Option<String>,
    /// The registered JWKS (public keys) of a `private_key_jwt` client.
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    /// Why the registered JWKS is unknown and what would make it known (observe: the AS's
    /// registration cannot be read); `client.auth.assertion.signature` then skips with it.
    pub jwks_unknown: Option<String>,
    /// The AS's issuer identifier.
    pub issuer: String,
    /// The token endpoint's URLs (top level and alias): RFC 7523 §3 lets `aud` name them.
    pub token_endpoints: Vec<String>,
    /// The PAR endpoint's URLs (top level and alias): RFC 9126 §2 lets a PAR assertion name them.
    pub par_endpoints: Vec<String>,
    /// What the judged profiles demand of the assertions beyond RFC 7523 §3 (FAPI 2.0 SP: the
    /// issuer alone as `aud`, §5.3.2.1, and no RS256, §5.4.1; FAPI 1.0 Advanced: PS256 or ES256, §8.6).
    pub policy: AssertionPolicy,
}

impl ClientAuth {
    /// Nothing known of the registration (`observe`): judged as an mTLS client.
    pub fn unknown(issuer: &str) -> ClientAuth {
        ClientAuth {
            method: None,
            client_id: None,
            jwks: None,
            jwks_unknown: None,
            issuer: issuer.to_string(),
            token_endpoints: Vec::new(),
            par_endpoints: Vec::new(),
            policy: AssertionPolicy::RFC7523,
        }
    }

    /// The registration of `client_id` with `method` at the AS whose discovery document is `meta`.
    pub fn registered(method: AuthMethod, client_id: &str, jwks: Option<jsonwebtoken::jwk::JwkSet>, meta: &Value) -> ClientAuth {
        let urls = |key: &str| -> Vec<String> {
            let top = meta.get(key).and_then(Value::as_str);
            let alias = meta.get("mtls_endpoint_aliases").and_then(|a| a.get(key)).and_then(Value::as_str);
            top.into_iter().chain(alias).map(str::to_string).collect()
        };
        ClientAuth {
            method: Some(method),
            client_id: Some(client_id.to_string()),
            jwks,
            jwks_unknown: None,
            issuer: meta.get("issuer").and_then(Value::as_str).unwrap_or_default().to_string(),
            token_endpoints: urls("token_endpoint"),
            par_endpoints: urls("pushed_authorization_request_endpoint"),
            policy: AssertionPolicy::RFC7523,
        }
    }

    /// Whether the client authenticates with `private_key_jwt`.
    pub fn is_jwt(&self) -> bool {
        self.method == Some(AuthMethod::PrivateKeyJwt)
    }
}
