//! Client registrations as scenarios write them (`clients:`): the authentication method, the
//! one `tls_client_auth_*` value (RFC 8705 §2.1.2), the certificate a self-signed client
//! registers, whether tokens are bound (§3.4).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The client ids the mock registers by default.
pub const TLS_CLIENT_ID: &str = "tpp-client-001";
/// The default `self_signed_tls_client_auth` client.
pub const SELF_SIGNED_CLIENT_ID: &str = "tpp-self-signed-001";
/// The default `client_secret_basic` client.
pub const SECRET_CLIENT_ID: &str = "tpp-secret-001";
/// The default `private_key_jwt` client.
pub const JWT_CLIENT_ID: &str = "tpp-jwt-001";
/// The default `client_secret_post` client.
pub const SECRET_POST_CLIENT_ID: &str = "tpp-secret-post-001";
/// The default public client.
pub const PUBLIC_CLIENT_ID: &str = "tpp-public-001";

/// How a registered client authenticates at the token endpoint (`token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// PKI mutual-TLS: a CA-issued certificate matching the registration (RFC 8705 §2.1).
    TlsClientAuth,
    /// Self-signed certificate mutual-TLS: the registered certificate itself (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// A JWT client assertion signed with the client's registered key (RFC 7523 §2.2, OIDC Core §9).
    PrivateKeyJwt,
    /// Client id and secret in HTTP Basic (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// Client id and secret in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A JWT client assertion MACed (HS256) with the client secret (RFC 7523 §2.2, OIDC Core §9).
    ClientSecretJwt,
    /// A public client: no client authentication.
    None,
}

impl AuthMethod {
    /// The registered metadata value (`tls_client_auth`).
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::ClientSecretJwt => "client_secret_jwt",
            AuthMethod::None => "none",
        }
    }

    /// Whether the method authenticates with the TLS client certificate (RFC 8705 §2).
    pub fn is_mtls(self) -> bool {
        matches!(self, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth)
    }
}

/// The one registered value a `tls_client_auth` certificate must carry (RFC 8705 §2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMatch {
    /// `tls_client_auth_subject_dn`: the subject DN, RFC 4514.
    SubjectDn(String),
    /// `tls_client_auth_san_dns`: a dNSName SAN.
    SanDns(String),
    /// `tls_client_auth_san_uri`: a uniformResourceIdentifier SAN.
    SanUri(String),
    /// `tls_client_auth_san_ip`: an iPAddress SAN.
    SanIp(IpAddr),
    /// `tls_client_auth_san_email`: an rfc822Name SAN.
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

/// A client registration as a scenario writes it (`clients:`); unset fields take defaults.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// The client id it registers.
    pub client_id: String,
    /// Its token endpoint authentication method.
    pub auth: AuthMethod,
    /// tls_client_auth: at most one of these (RFC 8705 §2.1.2); none means the registered
    /// certificate's subject DN.
    #[serde(default)]
    pub subject_dn: Option<String>,
    #[serde(default)]
    pub(crate) san_dns: Option<String>,
    #[serde(default)]
    pub(crate) san_uri: Option<String>,
    #[serde(default)]
    pub(crate) san_ip: Option<IpAddr>,
    #[serde(default)]
    pub(crate) san_email: Option<String>,
    /// self_signed_tls_client_auth: whose certificate goes into the JWKS `x5c` (default `self-signed`).
    #[serde(default)]
    pub certificate: Option<crate::pki::Role>,
    /// Whether its access tokens are certificate-bound (RFC 8705 §3.4; default true).
    #[serde(default = "yes")]
    pub bound_access_tokens: bool,
    /// Its registered redirect URIs (default [`DEFAULT_REDIRECT_URI`]).
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    /// private_key_jwt: the algorithm of its registered key (default EdDSA, the test PKI's key;
    /// PS256 registers an RSA key, which an RS256 assertion can be signed with).
    #[serde(default)]
    pub key_alg: Option<crate::pki::JwsAlg>,
}

fn yes() -> bool {
    true
}

/// The redirect URI a client registers when its spec names none.
pub const DEFAULT_REDIRECT_URI: &str = "https://client.example/cb";

impl ClientSpec {
    /// A registration of `client_id` with `auth` and every other field at its default.
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
            key_alg: None,
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
            _ => {
                Err(format!("client {}: set only one of subject_dn, san_dns, san_uri, san_ip, san_email (RFC 8705 §2.1.2)", self.client_id))
            }
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
        if self.key_alg.is_some() && self.auth != AuthMethod::PrivateKeyJwt {
            return Err(format!("client {}: `key_alg` only applies to auth: private_key_jwt", self.client_id));
        }
        Ok(())
    }
}

/// The clients the mock registers when a scenario names none.
pub fn default_specs() -> Vec<ClientSpec> {
    use crate::pki::{REGISTERED_SAN_DNS, REGISTERED_SAN_EMAIL, REGISTERED_SAN_IP, REGISTERED_SAN_URI};
    let mut v = vec![
        ClientSpec::new(TLS_CLIENT_ID, AuthMethod::TlsClientAuth),
        ClientSpec::new(SELF_SIGNED_CLIENT_ID, AuthMethod::SelfSignedTlsClientAuth),
        ClientSpec::new(SECRET_CLIENT_ID, AuthMethod::ClientSecretBasic),
        ClientSpec::new(JWT_CLIENT_ID, AuthMethod::PrivateKeyJwt),
        ClientSpec::new(PUBLIC_CLIENT_ID, AuthMethod::None),
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
