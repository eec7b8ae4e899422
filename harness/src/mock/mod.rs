//! The embedded mock AS: wiremock behind a rustls terminator on 127.0.0.1, ephemeral ports,
//! stopped when dropped.

pub mod defects;
pub mod journal;
pub mod server;
pub mod terminator;

use std::sync::Arc;

pub use defects::{Defect, Defects};
pub use journal::{Entry, Journal};
pub use server::{ClientAuth, Registration};

use crate::discovery::Shape;
use crate::pki::{Role, TestPki};

/// The client ids the mock registers by default.
pub const TLS_CLIENT_ID: &str = "tpp-client-001";
pub const SELF_SIGNED_CLIENT_ID: &str = "tpp-self-signed-001";

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("mock AS: cannot bind a listener on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("mock AS: TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("{0}")]
    State(#[from] server::StateError),
    #[error("mock AS: discovery shape `{0}` is not served yet")]
    Shape(&'static str),
}

/// What to stand up.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub shape: Shape,
    pub bound_access_tokens: bool,
    pub defects: Vec<Defect>,
}

/// A running mock AS. Dropping it stops every listener and the wiremock server.
pub struct MockAs {
    pub issuer: String,
    pub resource_url: String,
    pub journal: Journal,
    pub state: Arc<server::AsState>,
    pub listeners: Vec<terminator::Listener>,
    _wiremock: wiremock::MockServer,
}

impl MockAs {
    /// The default registrations: a tls_client_auth client (subject DN) and a self-signed one.
    pub fn default_clients(pki: &TestPki) -> Vec<Registration> {
        vec![
            Registration {
                client_id: TLS_CLIENT_ID.to_string(),
                auth: ClientAuth::TlsSubjectDn(pki.identity(Role::Registered).subject.clone()),
            },
            Registration {
                client_id: SELF_SIGNED_CLIENT_ID.to_string(),
                auth: ClientAuth::SelfSigned { x5t_s256: pki.identity(Role::SelfSigned).x5t_s256.clone() },
            },
        ]
    }

    pub async fn start(cfg: &MockConfig, pki: &TestPki) -> Result<MockAs, MockError> {
        if !cfg.shape.mock_supported() {
            return Err(MockError::Shape(cfg.shape.name()));
        }
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(MockError::Bind)?;
        let addr = socket.local_addr().map_err(MockError::Bind)?;
        let issuer = format!("https://127.0.0.1:{}", addr.port());
        let state = Arc::new(server::AsState::new(
            issuer.clone(),
            cfg.shape,
            cfg.bound_access_tokens,
            Defects::new(&cfg.defects),
            Self::default_clients(pki),
            pki,
        )?);
        let wm = wiremock::MockServer::builder().start().await;
        server::mount(&wm, state.clone()).await;
        let journal = Journal::default();
        let tls = terminator::server_config(&pki.server, true)?;
        let listener = terminator::Listener::spawn("mtls", socket, tls, true, wm.uri(), journal.clone())
            .map_err(MockError::Bind)?;
        Ok(MockAs {
            resource_url: state.url(server::RESOURCE_PATH),
            issuer,
            journal,
            state,
            listeners: vec![listener],
            _wiremock: wm,
        })
    }
}
