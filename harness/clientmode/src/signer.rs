//! The reference client's `private_key_jwt` assertions (RFC 7523 §2.2, §3; OIDC Core §9): the
//! key `MTLS_JWT_KEY` names, signed with `MTLS_JWT_ALG` (PS256, ES256, EdDSA through
//! `mtls_core::pki::AssertionKey`; RS256 — which plain RFC 7523 allows and FAPI 2.0 forbids —
//! straight through jsonwebtoken). The key is never printed: errors name the file only.

use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use mtls_core::pki::{AssertionKey, JwsAlg, KeyError};

/// Why the assertion key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// `MTLS_JWT_ALG` names no algorithm the reference client signs with.
    #[error("MTLS_JWT_ALG `{0}`: the reference client signs with PS256, ES256, EdDSA or RS256")]
    UnknownAlg(String),
    /// The PS256 / ES256 / EdDSA key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The RS256 key could not be read or holds no RSA private key.
    #[error("{}: {what}", path.display())]
    Rs256 {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key material).
        what: String,
    },
    /// Signing failed.
    #[error("signing the client assertion failed: {0}")]
    Sign(String),
}

enum Key {
    Listed(AssertionKey),
    Rs256 { encoding: EncodingKey, kid: Option<String> },
}

/// A client's assertion signer.
pub struct Signer {
    key: Key,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("alg", &self.alg()).finish_non_exhaustive()
    }
}

impl Signer {
    /// The key at `path` (PEM, or a private JWK for the listed algorithms), signing with `alg`.
    pub fn load(path: &Path, alg: &str, kid: Option<String>) -> Result<Signer, SignerError> {
        let listed = match alg {
            "PS256" => Some(JwsAlg::PS256),
            "ES256" => Some(JwsAlg::ES256),
            "EdDSA" => Some(JwsAlg::EdDSA),
            "RS256" => None,
            other => return Err(SignerError::UnknownAlg(other.to_string())),
        };
        let key = match listed {
            Some(a) => Key::Listed(AssertionKey::load(path, a, kid)?),
            None => {
                let rs = |what: String| SignerError::Rs256 { path: path.to_path_buf(), what };
                let pem = std::fs::read(path).map_err(|e| rs(e.to_string()))?;
                let encoding = EncodingKey::from_rsa_pem(&pem).map_err(|e| rs(format!("no RSA private key for RS256 ({e})")))?;
                Key::Rs256 { encoding, kid }
            }
        };
        Ok(Signer { key })
    }

    /// A fresh key for `alg` (PS256, ES256, EdDSA) that no AS registered.
    pub fn generated(alg: &str, kid: Option<String>) -> Result<Signer, SignerError> {
        let a = match alg {
            "PS256" => JwsAlg::PS256,
            "ES256" => JwsAlg::ES256,
            "EdDSA" => JwsAlg::EdDSA,
            other => return Err(SignerError::UnknownAlg(other.to_string())),
        };
        let mut key = AssertionKey::generate(a, kid.as_deref().unwrap_or("unregistered"))?;
        key.kid = kid;
        Ok(Signer { key: Key::Listed(key) })
    }

    /// The JOSE algorithm name.
    pub fn alg(&self) -> &'static str {
        match &self.key {
            Key::Listed(k) => k.alg.name(),
            Key::Rs256 { .. } => "RS256",
        }
    }

    /// `claims` as a compact JWS.
    pub fn sign(&self, claims: &Value) -> Result<String, SignerError> {
        match &self.key {
            Key::Listed(k) => k.sign(claims).map_err(|e| SignerError::Sign(e.to_string())),
            Key::Rs256 { encoding, kid } => {
                let mut header = Header::new(Algorithm::RS256);
                header.kid = kid.clone();
                jsonwebtoken::encode(&header, claims, encoding).map_err(|e| SignerError::Sign(e.to_string()))
            }
        }
    }
}

/// The claims of a client authentication assertion (RFC 7523 §3): `iss` = `sub` = the client,
/// `aud`, `iat` = `now`, `exp` = `now + lifetime_s` (negative: already expired), a fresh `jti`.
pub fn claims(client_id: &str, aud: &str, now: i64, lifetime_s: i64) -> Value {
    let iat = if lifetime_s < 0 { now + 2 * lifetime_s } else { now };
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": iat,
        "exp": now + lifetime_s,
        "jti": mtls_core::ids::random_id(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_each_algorithm_and_refuses_unknown_ones_without_showing_the_key() {
        let dir = tempfile::tempdir().unwrap();
        for alg in [JwsAlg::EdDSA, JwsAlg::ES256] {
            let k = AssertionKey::generate(alg, "k").unwrap();
            let p = dir.path().join(format!("{}.pem", alg.name()));
            std::fs::write(&p, k.private_pem().unwrap()).unwrap();
            let s = Signer::load(&p, alg.name(), Some("k".into())).unwrap();
            let jws = s.sign(&claims("c", "https://as", 1_000, 60)).unwrap();
            let h = jsonwebtoken::decode_header(&jws).unwrap();
            assert_eq!((format!("{:?}", h.alg), h.kid.as_deref()), (alg.name().to_string(), Some("k")));
            assert!(!format!("{s:?}").contains("BEGIN"));
        }
        let p = dir.path().join("EdDSA.pem");
        let e = Signer::load(&p, "HS256", None).unwrap_err().to_string();
        assert!(e.contains("HS256") && !e.contains("BEGIN"), "{e}");
        let e = Signer::load(&p, "RS256", None).unwrap_err().to_string();
        assert!(e.contains("EdDSA.pem") && e.contains("RSA") && !e.contains("BEGIN"), "{e}");
    }

    #[test]
    fn expired_claims_were_issued_before_they_expired() {
        let c = claims("c", "a", 10_000, -120);
        assert_eq!((c["exp"].as_i64(), c["iat"].as_i64()), (Some(9_880), Some(9_760)));
        assert_ne!(claims("c", "a", 0, 60)["jti"], claims("c", "a", 0, 60)["jti"]);
    }
}
