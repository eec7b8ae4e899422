//! Certificate-bound JWT access tokens: issuing them with the `cnf` `x5t#S256` claim
//! (RFC 8705 §3.1, RFC 9068 `at+jwt`, EdDSA) and validating the ones this AS issued.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::state::{AsState, KID};
use crate::clients::{Authenticated, OAuthError};
use crate::tokens::{now, random_id, AccessRecord};
use mtls_core::pki::x5t_s256;
use mtls_core::scenario::{AuthMethod, Defect};

/// Lifetime of access tokens, in seconds.
pub(super) const TOKEN_TTL: u64 = 300;

#[derive(Debug, Serialize, Deserialize)]
struct Cnf {
    #[serde(rename = "x5t#S256")]
    x5t_s256: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    client_id: String,
    iat: u64,
    exp: u64,
    jti: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf>,
}

impl AsState {
    /// The `x5t#S256` value written into the JWT `cnf` claim (RFC 8705 §3.1); the encoding
    /// defects change only this claim, never the binding the AS records.
    fn cnf_claim_value(&self, cert: &[u8]) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(cert);
        if self.has(Defect::CnfHex) {
            digest.iter().map(|b| format!("{b:02x}")).collect()
        } else if self.has(Defect::CnfPadded) {
            base64::engine::general_purpose::URL_SAFE.encode(digest)
        } else if self.has(Defect::CnfSha1) {
            URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(cert))
        } else {
            x5t_s256(cert)
        }
    }

    /// Whether a token issued now is bound to the presented certificate (RFC 8705 §3): the AS
    /// and the client both use bound tokens, and a certificate was presented — whatever the
    /// client authentication method (§3 applies to secret-authenticated clients too).
    fn binding(&self, auth: &Authenticated<'_>) -> Option<String> {
        let cert = auth.cert.as_ref()?;
        if !(self.bound_access_tokens && auth.client.bound_access_tokens) {
            return None;
        }
        if self.has(Defect::BindOnlyMtlsAuth) && !auth.client.method.is_mtls() && auth.client.method != AuthMethod::PrivateKeyJwt {
            return None;
        }
        if self.has(Defect::JwtUnbound) && auth.client.method == AuthMethod::PrivateKeyJwt {
            return None;
        }
        Some(x5t_s256(cert))
    }

    pub(super) fn issue_access(&self, auth: &Authenticated<'_>, scope: &str) -> Result<(String, AccessRecord), OAuthError> {
        let iat = now();
        let bound_to = self.binding(auth);
        let jti = random_id();
        let cnf = match (&auth.cert, &bound_to) {
            (Some(c), Some(_)) if !self.has(Defect::NoCnf) => Some(Cnf { x5t_s256: self.cnf_claim_value(c) }),
            _ => None,
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: auth.client.client_id.clone(),
            client_id: auth.client.client_id.clone(),
            iat,
            exp: iat + TOKEN_TTL,
            jti: jti.clone(),
            scope: scope.to_string(),
            cnf,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(KID.to_string());
        header.typ = Some("at+jwt".to_string());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| OAuthError::new(500, "server_error", format!("signing failed: {e}")))?;
        let record = AccessRecord {
            client_id: auth.client.client_id.clone(),
            scope: scope.to_string(),
            bound_to,
            iat,
            exp: claims.exp,
            active: true,
        };
        self.store.put_access(&jti, record.clone());
        Ok((token, record))
    }

    /// The record of an access token this AS issued and still considers valid.
    pub(super) fn valid_access(&self, token: &str) -> Option<(String, AccessRecord)> {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&[&self.issuer]);
        v.validate_aud = false;
        let claims = jsonwebtoken::decode::<AccessClaims>(token.trim(), &self.decoding, &v).ok()?.claims;
        let rec = self.store.access(&claims.jti)?;
        (rec.active && rec.exp > now()).then_some((claims.jti, rec))
    }
}
