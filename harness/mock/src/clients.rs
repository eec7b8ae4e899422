//! Client registrations of the mock AS and client authentication at its endpoints:
//! `tls_client_auth` by subject DN or one SAN (RFC 8705 §2.1.2), `self_signed_tls_client_auth`
//! against the registered JWKS `x5c` (§2.2.2), `private_key_jwt` against the registered JWKS
//! (RFC 7523 §3, with FAPI 2.0 SP's `aud` = the issuer string), `client_secret_basic` and
//! `client_secret_post` (RFC 6749 §2.3.1), `client_secret_jwt` (RFC 7523 §2.2, HS256), and
//! public clients (`none`).

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mtls_core::assertion_policy::AssertionPolicy;
use mtls_core::pki::TestPki;
use mtls_core::scenario::{AuthMethod, ClientSpec, Defect, TlsMatch, DEFAULT_REDIRECT_URI};
use rustls::pki_types::{CertificateDer, UnixTime};
use x509_parser::extensions::GeneralName;

use crate::server::AsState;

/// A client as the mock AS registered it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Its client id.
    pub client_id: String,
    /// Its token endpoint authentication method.
    pub method: AuthMethod,
    /// For `tls_client_auth`.
    pub tls_match: Option<TlsMatch>,
    /// For `self_signed_tls_client_auth`: DER of the certificates in the registered JWKS `x5c`.
    pub jwks_x5c: Vec<Vec<u8>>,
    /// For `private_key_jwt`: the registered JWKS (public keys).
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    /// For `client_secret_basic` and `client_secret_post`.
    pub secret: Option<String>,
    /// `tls_client_certificate_bound_access_tokens` of the client (RFC 8705 §3.4).
    pub bound_access_tokens: bool,
    /// Redirect URIs the authorization endpoint accepts for it.
    pub redirect_uris: Vec<String>,
    /// For `private_key_jwt`: the private key the harness signs its assertions with.
    pub key: Option<mtls_core::pki::AssertionKey>,
}

/// An OAuth error the endpoint answers with.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

impl OAuthError {
    pub(crate) fn new(status: u16, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError { status, error, description: description.into() }
    }
    fn invalid_client(description: impl Into<String>) -> OAuthError {
        OAuthError::new(401, "invalid_client", description)
    }
}

/// The client credentials of a request: form parameters and the `Authorization` header.
#[derive(Default)]
pub struct Credentials<'r> {
    /// `client_id` of the form.
    pub client_id: Option<&'r str>,
    /// `client_secret` of the form (client_secret_post).
    pub client_secret: Option<&'r str>,
    /// `client_assertion_type` of the form.
    pub assertion_type: Option<&'r str>,
    /// `client_assertion` of the form (RFC 7523 §2.2).
    pub assertion: Option<&'r str>,
    /// The `Authorization` header.
    pub authorization: Option<&'r str>,
}

/// How far in the future an assertion's `iat` or `nbf` may be (FAPI 2.0 SP §5.3.2.1-13: at most 60 s).
const MAX_FUTURE_S: u64 = 60;

/// RFC 7523 §2.2: the assertion type of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The unverified claims of a compact JWS (to find which client it claims to be).
fn unverified_claims(jws: &str) -> Option<serde_json::Value> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = jws.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()
}

/// Who was authenticated, and with which certificate.
pub struct Authenticated<'a> {
    pub(crate) client: &'a Registration,
    pub(crate) cert: Option<CertificateDer<'static>>,
}

/// Credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-urlencoded id and secret).
fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let b64 = header?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let dec = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((dec(id)?, dec(secret)?))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl AsState {
    /// Authenticate the client of a token, PAR, introspection or revocation request.
    pub fn authenticate<'a>(
        &'a self,
        creds: &Credentials<'_>,
        cert: Option<CertificateDer<'static>>,
    ) -> Result<Authenticated<'a>, OAuthError> {
        let basic = basic_credentials(creds.authorization);
        let assertion = match (creds.assertion_type, creds.assertion) {
            (Some(JWT_BEARER), Some(a)) => Some(a),
            (Some(t), Some(_)) => {
                return Err(OAuthError::new(400, "invalid_request", format!("client_assertion_type `{t}` is not supported")))
            }
            (None, Some(_)) => return Err(OAuthError::new(400, "invalid_request", "client_assertion without client_assertion_type")),
            _ => None,
        };
        // RFC 7523 §3: the assertion's `sub` is the client_id; the form's client_id is optional.
        let asserted = assertion.and_then(unverified_claims).and_then(|c| c.get("sub").and_then(|v| v.as_str()).map(str::to_string));
        let client_id = match (&basic, creds.client_id, &asserted) {
            (Some((b, _)), Some(f), _) if b != f => {
                return Err(OAuthError::new(400, "invalid_request", "client_id in the form and Basic credentials differ"))
            }
            (_, Some(f), Some(a)) if f != a => return Err(OAuthError::invalid_client("client_id differs from the assertion's sub")),
            (Some((b, _)), _, _) => b.clone(),
            (None, Some(f), _) => f.to_string(),
            (None, None, Some(a)) => a.clone(),
            (None, None, None) => return Err(OAuthError::invalid_client("no client_id (RFC 8705 §2: mTLS clients send client_id)")),
        };
        let client = self.clients.iter().find(|c| c.client_id == client_id).ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
        if assertion.is_some() && !matches!(client.method, AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt) {
            return Err(OAuthError::invalid_client(format!(
                "the client is registered for {}, not a client assertion",
                client.method.name()
            )));
        }
        match client.method {
            AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt => {
                let Some(jws) = assertion else {
                    return Err(OAuthError::invalid_client(format!("{} client sent no client_assertion", client.method.name())));
                };
                self.verify_assertion(client, jws).map_err(OAuthError::invalid_client)?;
            }
            AuthMethod::ClientSecretPost => {
                let ok = matches!((creds.client_secret, &client.secret), (Some(given), Some(secret)) if basic.is_none() && constant_time_eq(given, secret));
                if !ok {
                    return Err(OAuthError::invalid_client("client_secret_post authentication failed"));
                }
            }
            AuthMethod::ClientSecretBasic => {
                let ok = matches!((&basic, &client.secret), (Some((_, given)), Some(secret)) if constant_time_eq(given, secret));
                if !ok {
                    return Err(OAuthError::invalid_client("client_secret_basic authentication failed"));
                }
            }
            AuthMethod::None => {}
            AuthMethod::TlsClientAuth => match &cert {
                None if self.has(Defect::AcceptNoCert) => {}
                None => return Err(OAuthError::invalid_client("no client certificate was presented")),
                Some(c) => self.tls_client_auth(client, c).map_err(OAuthError::invalid_client)?,
            },
            AuthMethod::SelfSignedTlsClientAuth => match &cert {
                None => return Err(OAuthError::invalid_client("no client certificate was presented")),
                Some(c) => {
                    if self.has(Defect::SelfSignedChainCheck) {
                        if let Err(e) = self.trust.verify_client_cert(c, &[], UnixTime::now()) {
                            return Err(OAuthError::invalid_client(format!("certificate not trusted: {e}")));
                        }
                    }
                    let registered = client.jwks_x5c.iter().any(|der| der.as_slice() == c.as_ref());
                    if !(registered || self.has(Defect::SelfSignedAny)) {
                        return Err(OAuthError::invalid_client(
                            "certificate is not in the client's registered JWKS x5c (self_signed_tls_client_auth)",
                        ));
                    }
                }
            },
        }
        Ok(Authenticated { client, cert })
    }

    /// RFC 7523 §3: a JWT signed with a registered key, `iss` = `sub` = the client, `aud` naming
    /// this AS (the issuer as a single string where the policy says FAPI 2.0 SP §5.3.2.1), an
    /// algorithm the policy allows, unexpired.
    fn verify_assertion(&self, client: &Registration, jws: &str) -> Result<(), String> {
        let header = jsonwebtoken::decode_header(jws).map_err(|e| format!("client_assertion is not a JWS: {e}"))?;
        use jsonwebtoken::Algorithm;
        let claims = if self.has(Defect::JwtSignatureNotVerified) {
            unverified_claims(jws).ok_or("client_assertion has no JSON payload")?
        } else {
            let key = if client.method == AuthMethod::ClientSecretJwt {
                // RFC 7523 §2.2 with OIDC Core §9: a MAC with the client secret.
                if header.alg != Algorithm::HS256 {
                    return Err(format!("client_secret_jwt assertions are HS256, not {:?}", header.alg));
                }
                jsonwebtoken::DecodingKey::from_secret(client.secret.as_deref().unwrap_or_default().as_bytes())
            } else {
                let rs256 = header.alg == Algorithm::RS256 && self.has(Defect::JwtRs256Accepted);
                let name = format!("{:?}", header.alg);
                if !self.assertion_policy.allows_alg(&name) && !rs256 {
                    return Err(match self.assertion_policy.algs {
                        Some(r) => format!("private_key_jwt assertions are {} ({}), not {name}", AssertionPolicy::listed(&r), r.cite),
                        None => format!("private_key_jwt assertions are signed with the client's private key (OIDC Core §9), not {name}"),
                    });
                }
                let keys = client.jwks.as_ref().ok_or("the client has no registered JWKS")?;
                let jwk = match &header.kid {
                    Some(kid) => keys.find(kid).ok_or_else(|| format!("no registered key has kid `{kid}`"))?,
                    None => keys.keys.first().ok_or("the registered JWKS is empty")?,
                };
                jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| format!("registered key unusable: {e}"))?
            };
            let mut v = jsonwebtoken::Validation::new(header.alg);
            v.validate_aud = false;
            v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
            jsonwebtoken::decode::<serde_json::Value>(jws, &key, &v).map_err(|e| format!("client_assertion rejected: {e}"))?.claims
        };
        let str_claim = |n: &str| claims.get(n).and_then(|v| v.as_str());
        if str_claim("iss") != Some(client.client_id.as_str()) || str_claim("sub") != Some(client.client_id.as_str()) {
            return Err("client_assertion iss and sub must both be the client_id (RFC 7523 §3)".into());
        }
        if self.has(Defect::JwtAudNeverMatches) {
            if str_claim("aud") != Some(format!("{}/", self.issuer).as_str()) {
                return Err("client_assertion aud does not identify this AS".into());
            }
        } else if self.has(Defect::JwtAudTokenEndpointOnly) {
            if !str_claim("aud").is_some_and(|a| a.ends_with(crate::server::layout::TOKEN_PATH)) {
                return Err("client_assertion aud must be the token endpoint URL".into());
            }
        } else if !self.has(Defect::JwtAudNotChecked) {
            if self.assertion_policy.issuer_only_aud {
                if str_claim("aud") != Some(self.issuer.as_str()) {
                    return Err(format!(
                        "client_assertion aud must be the issuer `{}` as a single string (FAPI 2.0 SP §5.3.2.1)",
                        self.issuer
                    ));
                }
            } else if !self.identified_by(claims.get("aud")) {
                return Err(format!(
                    "client_assertion aud must identify this AS: the issuer `{}` or the token endpoint URL (RFC 7523 §3)",
                    self.issuer
                ));
            }
        }
        // FAPI 2.0 SP §5.3.2.1-13: `iat`/`nbf` up to 10 s ahead accepted (this AS allows 60 s),
        // more than 60 s ahead refused.
        let leeway = if self.has(Defect::JwtIatNoLeeway) { 0 } else { MAX_FUTURE_S };
        let now = crate::tokens::now();
        for name in ["iat", "nbf"] {
            let at = claims.get(name).and_then(serde_json::Value::as_u64).unwrap_or_default();
            if at > now + leeway && !self.has(Defect::JwtFutureIatAccepted) {
                return Err(format!("client_assertion {name} is {} s in the future (FAPI 2.0 SP §5.3.2.1)", at - now));
            }
        }
        let Some(jti) = claims.get("jti").and_then(|v| v.as_str()).filter(|j| !j.is_empty()) else {
            return Err("client_assertion has no jti".into());
        };
        let exp = claims.get("exp").and_then(serde_json::Value::as_u64).unwrap_or_default();
        if !self.store.first_use_of_assertion(&client.client_id, jti, exp) && !self.has(Defect::JwtReplayAccepted) {
            return Err("client_assertion jti was already used (RFC 7523 §3)".into());
        }
        Ok(())
    }

    /// RFC 7523 §3 ¶3: whether `aud` (a string or an array) names this AS — its issuer, its token
    /// endpoint URL (top level or alias), or its PAR endpoint URL (RFC 9126 §2).
    fn identified_by(&self, aud: Option<&serde_json::Value>) -> bool {
        let doc = self.discovery();
        let urls: Vec<&str> = ["token_endpoint", "pushed_authorization_request_endpoint"]
            .iter()
            .flat_map(|k| [doc.get(*k), doc.get("mtls_endpoint_aliases").and_then(|a| a.get(*k))])
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .chain([self.issuer.as_str()])
            .collect();
        let names = |v: &serde_json::Value| v.as_str().is_some_and(|s| urls.contains(&s));
        match aud {
            Some(serde_json::Value::Array(items)) => items.iter().any(names),
            Some(v) => names(v),
            None => false,
        }
    }

    /// Whether a certificate chains to the trusted client CA (validity and EKU included).
    pub(crate) fn trusts(&self, cert: &CertificateDer<'_>) -> bool {
        self.trust.verify_client_cert(cert, &[], UnixTime::now()).is_ok()
    }

    /// RFC 8705 §2.1: a chain to the trusted CA (validity and clientAuth EKU included) and the
    /// registered subject DN or SAN.
    fn tls_client_auth(&self, client: &Registration, cert: &CertificateDer<'_>) -> Result<(), String> {
        let lenient = self.has(Defect::AcceptAnyCert);
        if !(lenient || self.has(Defect::AcceptRogueCa)) {
            if let Err(e) = self.trust.verify_client_cert(cert, &[], UnixTime::now()) {
                let expired = matches!(e, rustls::Error::InvalidCertificate(rustls::CertificateError::Expired))
                    || matches!(&e, rustls::Error::InvalidCertificate(rustls::CertificateError::ExpiredContext { .. }));
                if !(expired && self.has(Defect::AcceptExpired)) {
                    return Err(format!("certificate not trusted: {e}"));
                }
            }
        }
        if lenient || self.has(Defect::AcceptAnyTrustedCert) {
            return Ok(());
        }
        let (_, parsed) = x509_parser::parse_x509_certificate(cert).map_err(|e| format!("unparsable certificate: {e}"))?;
        let Some(expected) = &client.tls_match else {
            return Err("client has no tls_client_auth_* registration value".into());
        };
        let sans: Vec<GeneralName<'_>> =
            parsed.subject_alternative_name().ok().flatten().map(|s| s.value.general_names.clone()).unwrap_or_default();
        let matched = match expected {
            TlsMatch::SubjectDn(dn) if self.has(Defect::DnStringCompare) => {
                // The planted bug: DER-order string, compared byte for byte.
                parsed.subject().to_string().replace(", ", ",") == *dn
            }
            TlsMatch::SubjectDn(dn) => mtls_core::dn::same_name(&mtls_core::dn::to_rfc4514(parsed.subject()), dn).unwrap_or(false),
            TlsMatch::SanDns(v) => sans.iter().any(|n| matches!(n, GeneralName::DNSName(d) if d.eq_ignore_ascii_case(v))),
            TlsMatch::SanUri(v) => sans.iter().any(|n| matches!(n, GeneralName::URI(u) if u == v)),
            TlsMatch::SanEmail(v) => sans.iter().any(|n| matches!(n, GeneralName::RFC822Name(e) if e.eq_ignore_ascii_case(v))),
            TlsMatch::SanIp(ip) => sans.iter().any(|n| match (n, ip) {
                (GeneralName::IPAddress(b), IpAddr::V4(v4)) => *b == v4.octets().as_slice(),
                (GeneralName::IPAddress(b), IpAddr::V6(v6)) => *b == v6.octets().as_slice(),
                _ => false,
            }),
        };
        if matched {
            Ok(())
        } else {
            Err(format!("certificate does not carry the registered {}", expected.metadata_name()))
        }
    }
}

/// Resolve against the PKI into what the mock AS registers.
pub fn register(spec: &ClientSpec, pki: &TestPki) -> Result<Registration, String> {
    use mtls_core::pki::Role;
    spec.validate()?;
    let tls_match = match spec.auth {
        AuthMethod::TlsClientAuth => {
            Some(spec.tls_match()?.unwrap_or_else(|| TlsMatch::SubjectDn(pki.identity(Role::Registered).subject.clone())))
        }
        _ => None,
    };
    let jwks_x5c = match spec.auth {
        AuthMethod::SelfSignedTlsClientAuth => {
            vec![pki.identity(spec.certificate.unwrap_or(Role::SelfSigned)).cert_der.to_vec()]
        }
        _ => Vec::new(),
    };
    let secret = matches!(spec.auth, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt)
        .then(crate::tokens::random_id);
    let key = match (spec.auth, spec.key_alg) {
        (AuthMethod::PrivateKeyJwt, None | Some(mtls_core::pki::JwsAlg::EdDSA)) => Some(pki.assertion_key.clone()),
        (AuthMethod::PrivateKeyJwt, Some(mtls_core::pki::JwsAlg::PS256)) => {
            Some(mtls_core::pki::rsa_test_assertion_key().map_err(|e| e.to_string())?)
        }
        (AuthMethod::PrivateKeyJwt, Some(other)) => {
            return Err(format!("client {}: key_alg {} is not offered (EdDSA or PS256)", spec.client_id, other.name()))
        }
        _ => None,
    };
    let jwks = match &key {
        Some(k) => {
            let set = k.public_jwks().ok_or("the assertion key has no public JWK")?;
            Some(serde_json::from_value(set).map_err(|e| format!("assertion JWKS: {e}"))?)
        }
        None => None,
    };
    Ok(Registration {
        client_id: spec.client_id.clone(),
        method: spec.auth,
        tls_match,
        jwks_x5c,
        jwks,
        secret,
        bound_access_tokens: spec.bound_access_tokens,
        redirect_uris: spec.redirect_uris.clone().unwrap_or_else(|| vec![DEFAULT_REDIRECT_URI.to_string()]),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let h = format!("Basic {}", STANDARD.encode("tpp%3Aone:s%2Bcret"));
        assert_eq!(basic_credentials(Some(&h)), Some(("tpp:one".into(), "s+cret".into())));
        assert_eq!(basic_credentials(Some("Bearer x")), None);
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd") && !constant_time_eq("a", "ab"));
    }
}
