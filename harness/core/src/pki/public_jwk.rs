//! The public half of a client's assertion-signing key file, as a JWK (RFC 7517 §4, RFC 7518 §6,
//! RFC 8037 §2): what a client assertion signed with it verifies against, when the key's
//! registration cannot be read (observe). Only the public members leave this module.

use std::path::Path;

use serde_json::{json, Value};

use super::assertion::{JwsAlg, KeyError};

/// Private JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The public JWK of the private key at `path` (PEM: PKCS#8, PKCS#1 for RSA, SEC1 for EC; or a
/// private JWK) for `alg` (an RSA key for PS256 serves RS256 too). `kid` is set when given.
/// Errors name the file, never the key.
pub fn public_jwk(path: &Path, alg: JwsAlg, kid: Option<&str>) -> Result<Value, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })?;
    let unusable = |what: &str| KeyError::Unusable { path: path.to_path_buf(), what: what.to_string() };
    let mut jwk = if text.trim_start().starts_with('{') {
        let mut v: Value = serde_json::from_str(&text).map_err(|_| unusable("not a JSON JWK"))?;
        let o = v.as_object_mut().ok_or_else(|| unusable("not a JSON JWK"))?;
        for m in PRIVATE_MEMBERS {
            o.remove(*m);
        }
        v
    } else {
        match alg {
            JwsAlg::EdDSA => {
                use ed25519_dalek::pkcs8::DecodePrivateKey;
                let sk = ed25519_dalek::SigningKey::from_pkcs8_pem(&text).map_err(|_| unusable("no Ed25519 private key for EdDSA"))?;
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(sk.verifying_key().as_bytes())})
            }
            JwsAlg::ES256 => {
                use p256::pkcs8::DecodePrivateKey;
                let sk = p256::SecretKey::from_pkcs8_pem(&text)
                    .or_else(|_| p256::SecretKey::from_sec1_pem(&text))
                    .map_err(|_| unusable("no P-256 private key for ES256 (PKCS#8 or SEC1 PEM)"))?;
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&sk.public_key(), false);
                json!({"kty": "EC", "crv": "P-256", "x": point.x().map(|x| b64(x)), "y": point.y().map(|y| b64(y))})
            }
            JwsAlg::PS256 => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                use rsa::pkcs8::DecodePrivateKey;
                use rsa::traits::PublicKeyParts;
                let sk = rsa::RsaPrivateKey::from_pkcs8_pem(&text)
                    .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&text))
                    .map_err(|_| unusable("no RSA private key (PKCS#8 or PKCS#1 PEM)"))?;
                json!({"kty": "RSA", "n": b64(&sk.n().to_bytes_be()), "e": b64(&sk.e().to_bytes_be())})
            }
        }
    };
    if let Some(k) = kid {
        jwk["kid"] = json!(k);
    }
    Ok(jwk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::AssertionKey;

    #[test]
    fn the_public_jwk_of_a_key_file_verifies_what_the_key_signs_and_holds_no_private_member() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for alg in [JwsAlg::EdDSA, JwsAlg::ES256, JwsAlg::PS256] {
            let key = AssertionKey::generate(alg, "k1").unwrap_or_else(|e| panic!("{e}"));
            let path = dir.path().join(format!("{}.key", alg.name()));
            std::fs::write(&path, key.private_pem().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
            let jwk = public_jwk(&path, alg, Some("k1")).unwrap_or_else(|e| panic!("{e}"));
            assert!(PRIVATE_MEMBERS.iter().all(|m| jwk.get(*m).is_none()), "{jwk}");
            let want = key.public_jwk.clone().unwrap_or_default();
            for m in ["kty", "crv", "x", "y", "n", "e", "kid"] {
                assert_eq!(jwk.get(m), want.get(m), "{} {m}", alg.name());
            }
        }
    }
}
