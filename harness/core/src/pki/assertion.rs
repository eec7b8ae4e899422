//! Keys a `private_key_jwt` client signs its client assertions with (RFC 7523 §2.2, §3; OIDC
//! Core §9): PS256, ES256 or EdDSA, loaded from a PEM or a private JWK file, or generated for
//! the harness's own clients. Signing uses `jsonwebtoken`; the private key is never printed.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A JWS algorithm a client assertion may be signed with (FAPI 2.0 SP §5.4.1 allows these three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum JwsAlg {
    /// RSASSA-PSS with SHA-256 (RFC 7518 §3.5).
    PS256,
    /// ECDSA P-256 with SHA-256 (RFC 7518 §3.4).
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

impl JwsAlg {
    /// The JOSE name (`PS256`).
    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::PS256 => "PS256",
            JwsAlg::ES256 => "ES256",
            JwsAlg::EdDSA => "EdDSA",
        }
    }
    fn jsonwebtoken(self) -> Algorithm {
        match self {
            JwsAlg::PS256 => Algorithm::PS256,
            JwsAlg::ES256 => Algorithm::ES256,
            JwsAlg::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// Why an assertion key could not be loaded, generated or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no key usable for the algorithm.
    #[error("{}: {what}", path.display())]
    Unusable {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key material).
        what: String,
    },
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Generate(String),
    /// Signing failed.
    #[error("signing the client assertion failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// A client's assertion-signing key: its algorithm, `kid`, the private key (never printed or
/// serialised) and, where known, the public JWK an AS registers.
#[derive(Clone)]
pub struct AssertionKey {
    /// The algorithm it signs with.
    pub alg: JwsAlg,
    /// The `kid` header of its assertions, if any.
    pub kid: Option<String>,
    encoding: EncodingKey,
    /// PKCS#8 PEM of the private key, for keys the harness generated (written 0600).
    private_pem: Option<String>,
    /// The private JWK (with `d`), for keys the harness generated (written 0600).
    private_jwk: Option<Value>,
    /// The public JWK (with `kid`, `alg`, `use`), when the harness can derive it.
    pub public_jwk: Option<Value>,
}

impl std::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionKey").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The DER of a PKCS#8 v1 Ed25519 private key up to its 32 key bytes (RFC 8410 §10.3).
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_32() -> Result<[u8; 32], KeyError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| KeyError::Generate(e.to_string()))?;
    Ok(b)
}

impl AssertionKey {
    /// A fresh key for `alg` (RSA 2048 for PS256), with its public JWK.
    pub fn generate(alg: JwsAlg, kid: &str) -> Result<AssertionKey, KeyError> {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let gen = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
        let (der, pem, jwk, d) = match alg {
            JwsAlg::ES256 => {
                let sk = loop {
                    if let Ok(k) = p256::SecretKey::from_slice(&random_32()?) {
                        break k;
                    }
                };
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&sk.public_key(), false);
                let (x, y) = (point.x().map(|x| b64(x)), point.y().map(|y| b64(y)));
                let pem = sk.to_pkcs8_pem(LineEnding::LF).map_err(|e| gen(&e))?.to_string();
                let der = sk.to_pkcs8_der().map_err(|e| gen(&e))?.as_bytes().to_vec();
                (der, pem, json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}), json!({"d": b64(&sk.to_bytes())}))
            }
            JwsAlg::EdDSA => {
                let sk = ed25519_dalek::SigningKey::from_bytes(&random_32()?);
                // PKCS#8 v1 (RFC 8410 §7, no public key): OpenSSL 3 — under Node, curl, Python —
                // refuses the v2 form ed25519-dalek writes, and client mode hands this file to
                // clients under test (MTLS_JWT_KEY).
                let v1 = [ED25519_PKCS8_V1_PREFIX.as_slice(), sk.as_bytes().as_slice()].concat();
                let pem = super::pem_encode("PRIVATE KEY", &v1);
                let der = sk.to_pkcs8_der().map_err(|e| gen(&e))?.as_bytes().to_vec();
                (
                    der,
                    pem,
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(sk.verifying_key().as_bytes())}),
                    json!({"d": b64(sk.as_bytes())}),
                )
            }
            JwsAlg::PS256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                use rsa::traits::{PrivateKeyParts, PublicKeyParts};
                let sk = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|e| gen(&e))?;
                let pem = sk.to_pkcs8_pem(LineEnding::LF).map_err(|e| gen(&e))?.to_string();
                let der = sk.to_pkcs1_der().map_err(|e| gen(&e))?.as_bytes().to_vec();
                let primes = sk.primes();
                let d = json!({
                    "d": b64(&sk.d().to_bytes_be()),
                    "p": primes.first().map(|p| b64(&p.to_bytes_be())),
                    "q": primes.get(1).map(|q| b64(&q.to_bytes_be())),
                });
                (der, pem, json!({"kty": "RSA", "n": b64(&sk.n().to_bytes_be()), "e": b64(&sk.e().to_bytes_be())}), d)
            }
        };
        let encoding = match alg {
            JwsAlg::PS256 => EncodingKey::from_rsa_der(&der),
            JwsAlg::ES256 => EncodingKey::from_ec_der(&der),
            JwsAlg::EdDSA => EncodingKey::from_ed_der(&der),
        };
        let mut jwk = jwk;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg.name());
        jwk["use"] = json!("sig");
        let mut private = jwk.clone();
        if let (Some(p), Some(d)) = (private.as_object_mut(), d.as_object()) {
            p.extend(d.clone());
        }
        Ok(AssertionKey {
            alg,
            kid: Some(kid.to_string()),
            encoding,
            private_pem: Some(pem),
            private_jwk: Some(private),
            public_jwk: Some(jwk),
        })
    }

    /// Load a private key for `alg` from a PEM file (PKCS#8, or PKCS#1 for RSA, SEC1 for EC)
    /// or a private JWK (a JSON object with `d`). Errors name the file, never the key.
    pub fn load(path: &Path, alg: JwsAlg, kid: Option<String>) -> Result<AssertionKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })?;
        let unusable = |what: String| KeyError::Unusable { path: path.to_path_buf(), what };
        if text.trim_start().starts_with('{') {
            let jwk: Value = serde_json::from_str(&text).map_err(|e| unusable(format!("not a JSON JWK ({e})")))?;
            let kid = kid.or_else(|| jwk.get("kid").and_then(Value::as_str).map(str::to_string));
            let encoding = jwk_encoding_key(&jwk, alg).map_err(unusable)?;
            return Ok(AssertionKey { alg, kid, encoding, private_pem: None, private_jwk: None, public_jwk: None });
        }
        let bytes = text.as_bytes();
        let encoding = match alg {
            JwsAlg::PS256 => EncodingKey::from_rsa_pem(bytes).map_err(|e| unusable(format!("no RSA private key for PS256 ({e})")))?,
            JwsAlg::ES256 => match EncodingKey::from_ec_pem(bytes) {
                Ok(k) => k,
                Err(_) => {
                    use p256::pkcs8::EncodePrivateKey;
                    let sk = p256::SecretKey::from_sec1_pem(&text)
                        .map_err(|_| unusable("no P-256 private key for ES256 (PKCS#8 or SEC1 PEM)".into()))?;
                    let der = sk.to_pkcs8_der().map_err(|e| unusable(e.to_string()))?;
                    EncodingKey::from_ec_der(der.as_bytes())
                }
            },
            JwsAlg::EdDSA => EncodingKey::from_ed_pem(bytes).map_err(|e| unusable(format!("no Ed25519 private key for EdDSA ({e})")))?,
        };
        // Prove the key signs before any check relies on it.
        let key = AssertionKey { alg, kid, encoding, private_pem: None, private_jwk: None, public_jwk: None };
        key.sign(&json!({"probe": true})).map_err(|e| unusable(format!("the key cannot sign {} ({e})", alg.name())))?;
        Ok(key)
    }

    /// Sign `claims` as a compact JWS with this key's `alg` and `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, KeyError> {
        self.sign_typed(claims, None)
    }

    /// [`AssertionKey::sign`] with an explicit `typ` header (`oauth-authz-req+jwt`, RFC 9101 §10.8).
    pub fn sign_typed(&self, claims: &Value, typ: Option<&str>) -> Result<String, KeyError> {
        let mut header = Header::new(self.alg.jsonwebtoken());
        header.kid = self.kid.clone();
        if let Some(t) = typ {
            header.typ = Some(t.to_string());
        }
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// Sign `claims` with this key under another JOSE `alg` of the same key family (RS256 with
    /// an RSA key: what an AS limited to PS256/ES256/EdDSA must refuse, FAPI 2.0 SP §5.4.1).
    pub fn sign_as(&self, claims: &Value, alg: Algorithm) -> Result<String, KeyError> {
        let mut header = Header::new(alg);
        header.kid = self.kid.clone();
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// `{"keys": [public JWK]}`, for keys whose public half the harness knows.
    pub fn public_jwks(&self) -> Option<Value> {
        self.public_jwk.as_ref().map(|k| json!({ "keys": [k] }))
    }

    /// The private key as PKCS#8 PEM, for keys the harness generated (to write with mode 0600).
    pub fn private_pem(&self) -> Option<&str> {
        self.private_pem.as_deref()
    }

    /// The private key as a JWK (with `d`), for keys the harness generated (to write with mode 0600).
    pub fn private_jwk(&self) -> Option<&Value> {
        self.private_jwk.as_ref()
    }
}

/// The process-wide PS256 (RSA 2048) assertion key a mock client registers with `key_alg: PS256`
/// (generated once: RSA key generation is slow).
pub fn rsa_test_assertion_key() -> Result<AssertionKey, KeyError> {
    static KEY: std::sync::OnceLock<Result<AssertionKey, String>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| AssertionKey::generate(JwsAlg::PS256, "tpp-jwt-001-ps256").map_err(|e| e.to_string()))
        .clone()
        .map_err(KeyError::Generate)
}

/// An encoding key from a private JWK of the family `alg` needs.
fn jwk_encoding_key(jwk: &Value, alg: JwsAlg) -> Result<EncodingKey, String> {
    let field = |name: &str| -> Result<Vec<u8>, String> {
        let v = jwk.get(name).and_then(Value::as_str).ok_or_else(|| format!("the JWK has no `{name}` member"))?;
        URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).map_err(|_| format!("the JWK's `{name}` is not base64url"))
    };
    if jwk.get("keys").is_some() {
        return Err("this is a JWK Set; give the one private JWK (with `d`) the client signs with".into());
    }
    if jwk.get("d").is_none() {
        return Err("the JWK has no `d` member: it is a public key; give the private key".into());
    }
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    if let Some(a) = jwk.get("alg").and_then(Value::as_str) {
        if a != alg.name() {
            return Err(format!("the JWK says alg {a}, the target file says {}", alg.name()));
        }
    }
    match (alg, kty) {
        (JwsAlg::ES256, "EC") => {
            use p256::pkcs8::EncodePrivateKey;
            if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                return Err("ES256 needs an EC JWK with crv P-256".into());
            }
            let sk = p256::SecretKey::from_slice(&field("d")?).map_err(|_| "the JWK's `d` is not a P-256 private key".to_string())?;
            Ok(EncodingKey::from_ec_der(sk.to_pkcs8_der().map_err(|e| e.to_string())?.as_bytes()))
        }
        (JwsAlg::EdDSA, "OKP") => {
            use p256::pkcs8::EncodePrivateKey;
            let d: [u8; 32] = field("d")?.try_into().map_err(|_| "the JWK's `d` is not a 32-byte Ed25519 key".to_string())?;
            let sk = ed25519_dalek::SigningKey::from_bytes(&d);
            Ok(EncodingKey::from_ed_der(sk.to_pkcs8_der().map_err(|e| e.to_string())?.as_bytes()))
        }
        (JwsAlg::PS256, "RSA") => {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            use rsa::BigUint;
            let n = |name: &str| field(name).map(|b| BigUint::from_bytes_be(&b));
            let sk = rsa::RsaPrivateKey::from_components(n("n")?, n("e")?, n("d")?, vec![n("p")?, n("q")?])
                .map_err(|e| format!("the RSA JWK is inconsistent ({e})"))?;
            Ok(EncodingKey::from_rsa_der(sk.to_pkcs1_der().map_err(|e| e.to_string())?.as_bytes()))
        }
        (_, kty) => Err(format!(
            "{} needs a {} JWK, this one has kty `{kty}`",
            alg.name(),
            match alg {
                JwsAlg::PS256 => "RSA",
                JwsAlg::ES256 => "EC P-256",
                JwsAlg::EdDSA => "OKP Ed25519",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_with_their_public_jwk() {
        for alg in [JwsAlg::ES256, JwsAlg::EdDSA, JwsAlg::PS256] {
            let k = AssertionKey::generate(alg, "k1").unwrap();
            let jws = k.sign(&json!({"iss": "c", "aud": "https://as.example", "exp": 4_000_000_000u64})).unwrap();
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.public_jwk.clone().unwrap()).unwrap();
            let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let mut v = jsonwebtoken::Validation::new(alg.jsonwebtoken());
            v.set_audience(&["https://as.example"]);
            let data = jsonwebtoken::decode::<Value>(&jws, &dk, &v).unwrap();
            assert_eq!(data.header.kid.as_deref(), Some("k1"));
            assert!(!format!("{k:?}").contains("BEGIN"), "Debug never shows the key");
        }
    }

    #[test]
    fn private_jwks_load_and_sign_for_every_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        for alg in [JwsAlg::ES256, JwsAlg::EdDSA, JwsAlg::PS256] {
            let k = AssertionKey::generate(alg, "k2").unwrap();
            let f = dir.path().join(format!("{}.jwk", alg.name()));
            std::fs::write(&f, k.private_jwk().unwrap().to_string()).unwrap();
            let loaded = AssertionKey::load(&f, alg, None).unwrap();
            assert_eq!(loaded.kid.as_deref(), Some("k2"), "the JWK's kid is used");
            let jws = loaded.sign(&json!({"aud": "a", "exp": 4_000_000_000u64})).unwrap();
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.public_jwk.clone().unwrap()).unwrap();
            let mut v = jsonwebtoken::Validation::new(alg.jsonwebtoken());
            v.set_audience(&["a"]);
            jsonwebtoken::decode::<Value>(&jws, &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(), &v).unwrap();
        }
    }

    #[test]
    fn loads_pem_and_refuses_the_wrong_family_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let k = AssertionKey::generate(JwsAlg::ES256, "k").unwrap();
        let p = dir.path().join("k.pem");
        std::fs::write(&p, k.private_pem().unwrap()).unwrap();
        assert!(AssertionKey::load(&p, JwsAlg::ES256, None).is_ok());
        // Ed25519 keys are written PKCS#8 v1 (what OpenSSL 3 reads), and load back.
        let ed = AssertionKey::generate(JwsAlg::EdDSA, "e").unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(ed.private_pem().unwrap().lines().filter(|l| !l.starts_with("-----")).collect::<String>())
            .unwrap();
        assert_eq!((der.len(), &der[..16]), (48, ED25519_PKCS8_V1_PREFIX.as_slice()));
        let ep = dir.path().join("e.pem");
        std::fs::write(&ep, ed.private_pem().unwrap()).unwrap();
        assert!(AssertionKey::load(&ep, JwsAlg::EdDSA, None).is_ok());
        let e = AssertionKey::load(&p, JwsAlg::PS256, None).unwrap_err().to_string();
        assert!(e.contains("k.pem") && e.contains("PS256") && !e.contains("BEGIN"), "{e}");
        let j = dir.path().join("k.jwk");
        std::fs::write(&j, r#"{"kty":"EC","crv":"P-256","x":"a","y":"b"}"#).unwrap();
        let e = AssertionKey::load(&j, JwsAlg::ES256, None).unwrap_err().to_string();
        assert!(e.contains("k.jwk") && e.contains("`d`") && e.contains("public key"), "{e}");
    }
}
