//! Client assertions (RFC 7523 §2.2, §3; OIDC Core §9): `iss` = `sub` = the client id, `aud`,
//! a unique `jti`, `iat` and a short `exp`. Signed with the client's key (`private_key_jwt`) or
//! MACed with its secret (`client_secret_jwt`). Every assertion is registered for redaction
//! before it leaves the harness.

use serde_json::{json, Value};

use mtls_core::pki::{AssertionKey, KeyError};
use mtls_core::redact::Secrets;

/// RFC 7523 §2.2: `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Lifetime of an assertion: short, as FAPI 2.0 SP and RFC 7523 §3 (item 4) expect.
const LIFETIME_S: u64 = 60;

fn claims(client_id: &str, aud: Value) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "jti": mtls_core::ids::random_id(),
        "iat": now,
        "exp": now + LIFETIME_S,
    })
}

/// A fresh `private_key_jwt` assertion for `aud` (normally the issuer, as a string).
pub fn signed(key: &AssertionKey, client_id: &str, aud: Value, secrets: &Secrets) -> Result<String, KeyError> {
    let jws = key.sign(&claims(client_id, aud))?;
    secrets.register(&jws);
    Ok(jws)
}

/// A fresh assertion as [`signed`] makes it, but with `iat` and `nbf` `ahead_s` seconds in the
/// future (`exp` a lifetime after them), and signed under `alg` when given (the same key).
pub fn signed_variant(
    key: &AssertionKey,
    client_id: &str,
    aud: Value,
    ahead_s: u64,
    alg: Option<jsonwebtoken::Algorithm>,
    secrets: &Secrets,
) -> Result<String, KeyError> {
    let mut c = claims(client_id, aud);
    if ahead_s > 0 {
        let at = c["iat"].as_u64().unwrap_or_default() + ahead_s;
        c["iat"] = json!(at);
        c["nbf"] = json!(at);
        c["exp"] = json!(at + LIFETIME_S);
    }
    let jws = match alg {
        Some(a) => key.sign_as(&c, a)?,
        None => key.sign(&c)?,
    };
    secrets.register(&jws);
    Ok(jws)
}

/// A fresh `client_secret_jwt` assertion (HS256 with the client secret) for `aud`.
pub fn maced(secret: &str, client_id: &str, aud: Value, secrets: &Secrets) -> Result<String, KeyError> {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let jws = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims(client_id, aud), &key)?;
    secrets.register(&jws);
    Ok(jws)
}

/// A request object (RFC 9101 §4) carrying the authorization `params`, signed by the client's
/// key: `iss` = client_id, `aud` = the issuer, `exp` 5 minutes ahead, `nbf`, `iat`, `jti`; typed
/// `oauth-authz-req+jwt` (RFC 9101 §10.8).
pub fn request_object(
    key: &AssertionKey,
    client_id: &str,
    issuer: &str,
    params: &[(&str, &str)],
    secrets: &Secrets,
) -> Result<String, KeyError> {
    let jws = key.sign_typed(&request_object_claims(client_id, issuer, params), Some("oauth-authz-req+jwt"))?;
    secrets.register(&jws);
    Ok(jws)
}

/// An unsigned request object (RFC 9101 §4 with RFC 7519 §6: JOSE header `alg: none`, empty
/// signature) carrying `params` — what an AS that requires signed request objects must refuse.
pub fn unsigned_request_object(client_id: &str, issuer: &str, params: &[(&str, &str)]) -> String {
    use base64::Engine;
    let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = json!({ "alg": "none", "typ": "oauth-authz-req+jwt" });
    format!("{}.{}.", b64(&header), b64(&request_object_claims(client_id, issuer, params)))
}

/// A request object's claims: `iss` = client_id, `aud` = the issuer, `exp` 5 minutes ahead,
/// `nbf`, `iat`, a fresh `jti`, and the authorization `params`.
fn request_object_claims(client_id: &str, issuer: &str, params: &[(&str, &str)]) -> serde_json::Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let mut claims = json!({
        "iss": client_id,
        "aud": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": mtls_core::ids::random_id(),
    });
    for (k, v) in params {
        claims[*k] = json!(v);
    }
    claims
}

/// The form parameters carrying an assertion: `client_id` (RFC 6749 §3.2.1 lets the client
/// identify itself; many ASes want it), `client_assertion_type`, `client_assertion`.
pub fn form(client_id: &str, assertion: String) -> Vec<(String, String)> {
    vec![
        ("client_id".into(), client_id.to_string()),
        ("client_assertion_type".into(), JWT_BEARER.into()),
        ("client_assertion".into(), assertion),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_carry_the_rfc7523_claims_and_are_registered_for_redaction() {
        let key = AssertionKey::generate(mtls_core::pki::JwsAlg::ES256, "k").unwrap();
        let secrets = Secrets::new();
        let jws = signed(&key, "tpp-jwt-001", json!("https://as.example"), &secrets).unwrap();
        let claims = crate::checks::cnf::jwt_claims(&jws).unwrap();
        assert_eq!(claims["iss"], "tpp-jwt-001");
        assert_eq!(claims["sub"], "tpp-jwt-001");
        assert_eq!(claims["aud"], "https://as.example");
        assert!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap() <= 60);
        let other = signed(&key, "tpp-jwt-001", json!("https://as.example"), &secrets).unwrap();
        assert_ne!(crate::checks::cnf::jwt_claims(&other).unwrap()["jti"], claims["jti"], "jti is unique");
        assert_eq!(secrets.scrub(&format!("x {jws} y")), "x [redacted] y");
    }

    #[test]
    fn variants_move_iat_and_nbf_ahead_and_sign_under_another_alg_with_the_same_key() {
        let key = mtls_core::pki::rsa_test_assertion_key().unwrap();
        let secrets = Secrets::new();
        let jws = signed_variant(&key, "c", json!("https://as.example"), 90, Some(jsonwebtoken::Algorithm::RS256), &secrets).unwrap();
        let header = jsonwebtoken::decode_header(&jws).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (jsonwebtoken::Algorithm::RS256, key.kid.as_deref()));
        let claims = crate::checks::cnf::jwt_claims(&jws).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let iat = claims["iat"].as_u64().unwrap();
        assert!((now + 89..=now + 91).contains(&iat), "iat {iat} is 90 s after {now}");
        assert_eq!(claims["nbf"], claims["iat"]);
        assert_eq!(claims["exp"].as_u64().unwrap(), iat + LIFETIME_S, "exp follows the moved iat");
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk.clone().unwrap()).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&["https://as.example"]);
        jsonwebtoken::decode::<Value>(&jws, &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(), &v)
            .expect("the registered key verifies it");
        assert_eq!(secrets.scrub(&jws), "[redacted]");
    }
}
