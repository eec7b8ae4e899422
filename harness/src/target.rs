//! What the AS-mode checks run against: the embedded mock AS (stood up from a scenario) or, in a
//! later issue, a live AS. Either way: an issuer, client ids, a resource URL, and one HTTP
//! client per certificate identity.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::http::{ClientError, Http, Limits};
use crate::mock::{MockAs, MockConfig, MockError, SELF_SIGNED_CLIENT_ID, TLS_CLIENT_ID};
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

pub struct Target {
    pub kind: Kind,
    pub issuer: String,
    pub resource_url: Option<String>,
    /// The tls_client_auth client (RFC 8705 §2.1) whose certificate is `Role::Registered`.
    pub tls_client_id: String,
    /// The self_signed_tls_client_auth client (§2.2), if the target registers one.
    pub self_signed_client_id: Option<String>,
    /// Whether the harness holds the CA that issues the registered certificate.
    pub holds_ca: bool,
    pub pki: Arc<TestPki>,
    clients: HashMap<Who, Http>,
    /// Keeps the mock running for as long as the target lives.
    pub mock: Option<MockAs>,
}

impl Target {
    /// Stand up the embedded mock AS for a scenario.
    pub async fn mock(cfg: &MockConfig, pki: Arc<TestPki>, limits: Limits) -> Result<Target, TargetError> {
        let mock = MockAs::start(cfg, &pki).await?;
        let clients = Self::clients(&pki, &[pki.ca_cert_der.clone()], limits, true)?;
        Ok(Target {
            kind: Kind::Mock,
            issuer: mock.issuer.clone(),
            resource_url: Some(mock.resource_url.clone()),
            tls_client_id: TLS_CLIENT_ID.to_string(),
            self_signed_client_id: Some(SELF_SIGNED_CLIENT_ID.to_string()),
            holds_ca: true,
            pki,
            clients,
            mock: Some(mock),
        })
    }

    fn clients(
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
        self.clients.get(&who).unwrap_or_else(|| unreachable!("client for {who:?} is built in Target::clients"))
    }

    pub fn thumbprint(&self, role: Role) -> &str {
        &self.pki.identity(role).x5t_s256
    }
}
