//! Client registrations of the mock AS and client authentication at its endpoints:
//! `tls_client_auth` by subject DN or one SAN (RFC 8705 §2.1.2), `self_signed_tls_client_auth`
//! against the registered JWKS `x5c` (§2.2.2), `client_secret_basic` (RFC 6749 §2.3.1), and
//! public clients (`none`).

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rustls::pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use x509_parser::extensions::GeneralName;

use super::defects::Defect;
use super::server::AsState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    TlsClientAuth,
    SelfSignedTlsClientAuth,
    ClientSecretBasic,
    None,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::None => "none",
        }
    }

    pub fn is_mtls(self) -> bool {
        matches!(self, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth)
    }
}

/// The one registered value a `tls_client_auth` certificate must carry (RFC 8705 §2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMatch {
    SubjectDn(String),
    SanDns(String),
    SanUri(String),
    SanIp(IpAddr),
    SanEmail(String),
}

impl TlsMatch {
    /// The registration metadata name (RFC 8705 §2.1.2).
    pub fn metadata_name(&self) -> &'static str {
        match self {
            TlsMatch::SubjectDn(_) => "tls_client_auth_subject_dn",
            TlsMatch::SanDns(_) => "tls_client_auth_san_dns",
            TlsMatch::SanUri(_) => "tls_client_auth_san_uri",
            TlsMatch::SanIp(_) => "tls_client_auth_san_ip",
            TlsMatch::SanEmail(_) => "tls_client_auth_san_email",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub client_id: String,
    pub method: AuthMethod,
    /// For `tls_client_auth`.
    pub tls_match: Option<TlsMatch>,
    /// For `self_signed_tls_client_auth`: DER of the certificates in the registered JWKS `x5c`.
    pub jwks_x5c: Vec<Vec<u8>>,
    /// For `client_secret_basic`.
    pub secret: Option<String>,
    /// `tls_client_certificate_bound_access_tokens` of the client (RFC 8705 §3.4).
    pub bound_access_tokens: bool,
    pub redirect_uris: Vec<String>,
}

/// An OAuth error the endpoint answers with.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError { status, error, description: description.into() }
    }
    fn invalid_client(description: impl Into<String>) -> OAuthError {
        OAuthError::new(401, "invalid_client", description)
    }
}

/// Who was authenticated, and with which certificate.
pub struct Authenticated<'a> {
    pub client: &'a Registration,
    pub cert: Option<CertificateDer<'static>>,
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
        form_client_id: Option<&str>,
        authorization: Option<&str>,
        cert: Option<CertificateDer<'static>>,
    ) -> Result<Authenticated<'a>, OAuthError> {
        let basic = basic_credentials(authorization);
        let client_id = match (&basic, form_client_id) {
            (Some((b, _)), Some(f)) if b != f => {
                return Err(OAuthError::new(400, "invalid_request", "client_id in the form and Basic credentials differ"))
            }
            (Some((b, _)), _) => b.clone(),
            (None, Some(f)) => f.to_string(),
            (None, None) => return Err(OAuthError::invalid_client("no client_id (RFC 8705 §2: mTLS clients send client_id)")),
        };
        let client = self
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
            .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
        match client.method {
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
        let sans: Vec<GeneralName<'_>> = parsed
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|s| s.value.general_names.clone())
            .unwrap_or_default();
        let matched = match expected {
            TlsMatch::SubjectDn(dn) if self.has(Defect::DnStringCompare) => {
                // The planted bug: DER-order string, compared byte for byte.
                parsed.subject().to_string().replace(", ", ",") == *dn
            }
            TlsMatch::SubjectDn(dn) => crate::dn::same_name(&crate::dn::to_rfc4514(parsed.subject()), dn).unwrap_or(false),
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

/// A client registration as a scenario writes it (`clients:`); unset fields take defaults.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub client_id: String,
    pub auth: AuthMethod,
    /// tls_client_auth: at most one of these (RFC 8705 §2.1.2); none means the registered
    /// certificate's subject DN.
    #[serde(default)]
    pub subject_dn: Option<String>,
    #[serde(default)]
    pub san_dns: Option<String>,
    #[serde(default)]
    pub san_uri: Option<String>,
    #[serde(default)]
    pub san_ip: Option<IpAddr>,
    #[serde(default)]
    pub san_email: Option<String>,
    /// self_signed_tls_client_auth: whose certificate goes into the JWKS `x5c` (default `self-signed`).
    #[serde(default)]
    pub certificate: Option<crate::pki::Role>,
    #[serde(default = "yes")]
    pub bound_access_tokens: bool,
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

pub const DEFAULT_REDIRECT_URI: &str = "https://client.example/cb";

impl ClientSpec {
    pub fn new(client_id: &str, auth: AuthMethod) -> ClientSpec {
        ClientSpec {
            client_id: client_id.to_string(),
            auth,
            subject_dn: None,
            san_dns: None,
            san_uri: None,
            san_ip: None,
            san_email: None,
            certificate: None,
            bound_access_tokens: true,
            redirect_uris: None,
        }
    }

    /// The tls_client_auth value, if one is set; an error if more than one is.
    pub fn tls_match(&self) -> Result<Option<TlsMatch>, String> {
        let mut set: Vec<TlsMatch> = Vec::new();
        if let Some(v) = &self.subject_dn {
            crate::dn::parse(v).map_err(|e| e.to_string())?;
            set.push(TlsMatch::SubjectDn(v.clone()));
        }
        if let Some(v) = &self.san_dns {
            set.push(TlsMatch::SanDns(v.clone()));
        }
        if let Some(v) = &self.san_uri {
            set.push(TlsMatch::SanUri(v.clone()));
        }
        if let Some(v) = self.san_ip {
            set.push(TlsMatch::SanIp(v));
        }
        if let Some(v) = &self.san_email {
            set.push(TlsMatch::SanEmail(v.clone()));
        }
        match set.len() {
            0 => Ok(None),
            1 => Ok(set.pop()),
            _ => Err(format!("client {}: set only one of subject_dn, san_dns, san_uri, san_ip, san_email (RFC 8705 §2.1.2)", self.client_id)),
        }
    }

    /// Check the spec is coherent for its method.
    pub fn validate(&self) -> Result<(), String> {
        let m = self.tls_match()?;
        if m.is_some() && self.auth != AuthMethod::TlsClientAuth {
            return Err(format!("client {}: tls_client_auth_* values only apply to auth: tls_client_auth", self.client_id));
        }
        if self.certificate.is_some() && self.auth != AuthMethod::SelfSignedTlsClientAuth {
            return Err(format!("client {}: `certificate` only applies to auth: self_signed_tls_client_auth", self.client_id));
        }
        Ok(())
    }

    /// Resolve against the PKI into what the mock AS registers.
    pub fn register(&self, pki: &crate::pki::TestPki) -> Result<Registration, String> {
        use crate::pki::Role;
        self.validate()?;
        let tls_match = match self.auth {
            AuthMethod::TlsClientAuth => {
                Some(self.tls_match()?.unwrap_or_else(|| TlsMatch::SubjectDn(pki.identity(Role::Registered).subject.clone())))
            }
            _ => None,
        };
        let jwks_x5c = match self.auth {
            AuthMethod::SelfSignedTlsClientAuth => {
                vec![pki.identity(self.certificate.unwrap_or(Role::SelfSigned)).cert_der.to_vec()]
            }
            _ => Vec::new(),
        };
        let secret = (self.auth == AuthMethod::ClientSecretBasic).then(super::tokens::random_id);
        Ok(Registration {
            client_id: self.client_id.clone(),
            method: self.auth,
            tls_match,
            jwks_x5c,
            secret,
            bound_access_tokens: self.bound_access_tokens,
            redirect_uris: self.redirect_uris.clone().unwrap_or_else(|| vec![DEFAULT_REDIRECT_URI.to_string()]),
        })
    }
}

/// The clients the mock registers when a scenario names none.
pub fn default_specs() -> Vec<ClientSpec> {
    use crate::pki::{REGISTERED_SAN_DNS, REGISTERED_SAN_EMAIL, REGISTERED_SAN_IP, REGISTERED_SAN_URI};
    let mut v = vec![
        ClientSpec::new(super::TLS_CLIENT_ID, AuthMethod::TlsClientAuth),
        ClientSpec::new(super::SELF_SIGNED_CLIENT_ID, AuthMethod::SelfSignedTlsClientAuth),
        ClientSpec::new(super::SECRET_CLIENT_ID, AuthMethod::ClientSecretBasic),
        ClientSpec::new(super::PUBLIC_CLIENT_ID, AuthMethod::None),
    ];
    let mut san = |id: &str, f: &dyn Fn(&mut ClientSpec)| {
        let mut s = ClientSpec::new(id, AuthMethod::TlsClientAuth);
        f(&mut s);
        v.push(s);
    };
    san("tpp-san-dns-001", &|s| s.san_dns = Some(REGISTERED_SAN_DNS.into()));
    san("tpp-san-uri-001", &|s| s.san_uri = Some(REGISTERED_SAN_URI.into()));
    san("tpp-san-ip-001", &|s| s.san_ip = Some(REGISTERED_SAN_IP));
    san("tpp-san-email-001", &|s| s.san_email = Some(REGISTERED_SAN_EMAIL.into()));
    v
}
