//! What the AS-mode checks run against: the embedded mock AS (stood up from a scenario) or, in a
//! later issue, a live AS. Either way: an issuer, client ids, a resource URL, and one HTTP
//! client per certificate identity.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::http::{ClientError, Http, Limits};
use crate::mock::{AuthMethod, MockAs, MockConfig, MockError};
use crate::pki::{Role, TestPki};

/// Which certificate a request is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    NoCert,
    Cert(Role),
}

impl Who {
    pub fn name(self) -> &'static str {
        match self {
            Who::NoCert => "no-cert",
            Who::Cert(r) => r.name(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Mock,
    Live,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Mock(#[from] MockError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A client secret: never printed, never serialised.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The client registrations the checks act as.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The tls_client_auth client (RFC 8705 §2.1) whose certificate is `Role::Registered`.
    pub tls: String,
    /// The self_signed_tls_client_auth client (§2.2) whose certificate is `Role::SelfSigned`.
    pub self_signed: Option<String>,
    /// A client_secret_basic client (for `bind.other-auth`, §3).
    pub secret: Option<(String, Secret)>,
    /// A public client (for `bind.refresh-public`, §4).
    pub public: Option<String>,
    /// A redirect URI registered for the tls and public clients.
    pub redirect_uri: String,
}

pub struct Target {
    pub kind: Kind,
    pub issuer: String,
    pub resource_url: Option<String>,
    pub clients: Clients,
    /// The profile requires `tls_client_certificate_bound_access_tokens: true` (RFC 8705 §3.3).
    pub require_bound_tokens: bool,
    /// Whether the harness holds the CA that issues the registered certificate.
    pub holds_ca: bool,
    pub pki: Arc<TestPki>,
    /// The CAs the harness trusts for the target's server certificates.
    pub roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub limits: Limits,
    http: HashMap<Who, Http>,
    /// Keeps the mock running for as long as the target lives.
    pub mock: Option<MockAs>,
}

impl Target {
    /// Stand up the embedded mock AS for a scenario.
    pub async fn mock(cfg: &MockConfig, pki: Arc<TestPki>, limits: Limits) -> Result<Target, TargetError> {
        let mock = MockAs::start(cfg, &pki).await?;
        let roots = vec![pki.ca_cert_der.clone()];
        let http = Self::http_clients(&pki, &roots, limits, true)?;
        let id = |m: AuthMethod| mock.client(m).map(|c| c.client_id.clone());
        let tls = mock.client(AuthMethod::TlsClientAuth).ok_or_else(|| MockError::Config("no tls_client_auth client".into()))?;
        let clients = Clients {
            tls: tls.client_id.clone(),
            self_signed: id(AuthMethod::SelfSignedTlsClientAuth),
            secret: mock
                .client(AuthMethod::ClientSecretBasic)
                .and_then(|c| Some((c.client_id.clone(), Secret::new(c.secret.clone()?)))),
            public: id(AuthMethod::None),
            redirect_uri: tls.redirect_uris.first().cloned().unwrap_or_default(),
        };
        Ok(Target {
            kind: Kind::Mock,
            issuer: mock.issuer.clone(),
            resource_url: Some(mock.resource_url.clone()),
            clients,
            require_bound_tokens: true,
            holds_ca: true,
            pki,
            roots,
            limits,
            http,
            mock: Some(mock),
        })
    }

    fn http_clients(
        pki: &TestPki,
        roots: &[rustls::pki_types::CertificateDer<'static>],
        limits: Limits,
        no_proxy: bool,
    ) -> Result<HashMap<Who, Http>, ClientError> {
        let mut out = HashMap::new();
        out.insert(Who::NoCert, Http::new(Who::NoCert.name(), roots, None, limits, no_proxy)?);
        for role in Role::ALL {
            let id = pki.identity(role);
            let http = Http::new(role.name(), roots, Some((vec![id.cert_der.clone()], id.key_der())), limits, no_proxy)?;
            out.insert(Who::Cert(role), http);
        }
        Ok(out)
    }

    /// The HTTP client for an identity. Every identity gets one at construction.
    pub fn http(&self, who: Who) -> &Http {
        self.http.get(&who).unwrap_or_else(|| unreachable!("client for {who:?} is built in Target::clients"))
    }

    pub fn thumbprint(&self, role: Role) -> &str {
        &self.pki.identity(role).x5t_s256
    }
}
