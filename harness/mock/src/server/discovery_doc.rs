//! The discovery document in the instance's shape (RFC 8414 §2, RFC 8705 §3.3, §5): the
//! endpoints, `mtls_endpoint_aliases` per shape and malformed variant, and the metadata defects.

use serde_json::{json, Value};

use super::layout::{endpoint_path, ENDPOINTS, JWKS_PATH, TOKEN_PATH};
use super::state::AsState;
use mtls_core::discovery::{Malformed, Shape};
use mtls_core::scenario::Defect;

impl AsState {
    /// The discovery document in this instance's shape (RFC 8414 §2, RFC 8705 §3.3, §5).
    pub fn discovery(&self) -> Value {
        let mut doc = json!({
            "issuer": if self.has(Defect::WrongIssuer) { self.url("/some-other-issuer") } else { self.issuer.clone() },
            "jwks_uri": self.url(JWKS_PATH),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": if self.has(Defect::AuthMethodsMissingTls) {
                json!(["client_secret_basic", "none"])
            } else {
                json!(["tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt", "client_secret_basic", "client_secret_post", "client_secret_jwt", "none"])
            },
            // What the assertion policy allows (RS256 too under plain RFC 7523), and HS256 for client_secret_jwt.
            "token_endpoint_auth_signing_alg_values_supported": match self.assertion_policy.algs {
                Some(r) => r.allowed.iter().chain(["HS256"].iter()).copied().collect::<Vec<_>>(),
                None => vec!["PS256", "ES256", "EdDSA", "RS256", "HS256"],
            },
            "introspection_endpoint_auth_methods_supported": ["tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt", "client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt", "client_secret_basic", "client_secret_post"],
            "tls_client_certificate_bound_access_tokens": if self.has(Defect::BoundFlagString) {
                json!(self.bound_access_tokens.to_string())
            } else {
                json!(self.bound_access_tokens)
            },
            "scopes_supported": ["openid", "accounts", "payments", "offline_access"],
        });
        for (key, p) in ENDPOINTS {
            doc[key] = json!(self.url(p));
        }
        let mut aliases = serde_json::Map::new();
        for (key, base) in &self.layout.aliases {
            let p = endpoint_path(key).unwrap_or(JWKS_PATH);
            aliases.insert(key.clone(), json!(format!("{base}{p}")));
        }
        match self.layout.malformed {
            Some(Malformed::RelativeUrl) => {
                aliases.insert("token_endpoint".into(), json!(TOKEN_PATH));
            }
            Some(Malformed::HttpUrl) => {
                let u = self.url(TOKEN_PATH).replacen("https://", "http://", 1);
                aliases.insert("token_endpoint".into(), json!(u));
            }
            Some(Malformed::NonEndpointKey) => {
                aliases.insert("jwks_uri".into(), json!(self.url(JWKS_PATH)));
            }
            Some(Malformed::NotObject) | Some(Malformed::AuthorizationEndpoint) | None => {}
        }
        if self.layout.malformed == Some(Malformed::NotObject) {
            doc["mtls_endpoint_aliases"] = Value::Array(aliases.values().cloned().collect());
        } else if self.layout.shape != Shape::Missing {
            doc["mtls_endpoint_aliases"] = Value::Object(aliases);
        }
        if self.has(Defect::NoTokenEndpoint) {
            if let Some(o) = doc.as_object_mut() {
                o.remove("token_endpoint");
            }
            if let Some(a) = doc.get_mut("mtls_endpoint_aliases").and_then(Value::as_object_mut) {
                a.remove("token_endpoint");
            }
        }
        doc
    }
}
