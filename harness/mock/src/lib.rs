//! The embedded mock AS: wiremock behind rustls terminators on 127.0.0.1 (ephemeral ports),
//! one or two listeners per discovery shape, stopped when dropped.

pub mod clients;
pub mod defects;
pub mod journal;
pub mod server;
pub mod terminator;
mod tokens;

use std::sync::Arc;

pub use clients::Registration;
pub use defects::Defects;
pub use journal::{Entry, Journal, SeenAssertion};
pub use mtls_core::discovery::{Malformed, MTLS_ENDPOINT_KEYS};
pub use mtls_core::scenario::{AuthMethod, ClientSpec, Defect, PUBLIC_CLIENT_ID, SECRET_CLIENT_ID, SELF_SIGNED_CLIENT_ID, TLS_CLIENT_ID};
pub use server::{endpoint_path, Layout, ListenerInfo};

pub use mtls_core::assertion_policy::AssertionPolicy;
use mtls_core::discovery::{default_aliased, Shape};
use mtls_core::pki::TestPki;
use mtls_core::redact::Secrets;
use mtls_core::scenario::Scenario;
use server::RESOURCE_PATH;

/// Why a mock AS could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// A listener socket could not be bound or set up.
    #[error("mock AS: cannot bind a listener on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    /// A listener's TLS server configuration was refused by rustls.
    #[error("mock AS: TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The shared AS state (trust store, token signing key) could not be built.
    #[error("{0}")]
    State(#[from] server::StateError),
    /// The configuration asks for something the mock cannot do.
    #[error("mock AS: {0}")]
    Config(String),
}

/// What to stand up.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The discovery shape to publish.
    pub shape: Shape,
    /// Endpoint names to alias; `None`: the shape's default.
    pub aliased: Option<Vec<String>>,
    /// For shape `malformed`: which way to break the aliases (required there).
    pub malformed: Option<Malformed>,
    /// `tls_client_certificate_bound_access_tokens` in discovery (RFC 8705 §3.3); false: no
    /// token is bound.
    pub bound_access_tokens: bool,
    /// Defects to plant.
    pub defects: Vec<Defect>,
    /// `None`: the default registrations.
    pub clients: Option<Vec<ClientSpec>>,
    /// Public JWKs every `private_key_jwt` client registers besides the test PKI's assertion
    /// key (client mode: the RSA key of the reference client's `assertion_rs256` self-test).
    pub extra_assertion_jwks: Vec<serde_json::Value>,
    /// What the mock demands of a `private_key_jwt` client's assertions beyond RFC 7523 §3:
    /// FAPI 2.0 SP's issuer-only `aud` and PS256/ES256/EdDSA by default (the AS under test in AS
    /// mode); in client mode, what the scenario's profiles demand of the client under test
    /// ([`AssertionPolicy::of`]), so a client RFC 7523 allows is not refused.
    pub assertion_policy: AssertionPolicy,
}

impl MockConfig {
    /// A conformant mock of `shape`: default aliases and clients, bound tokens, no defects.
    pub fn new(shape: Shape) -> MockConfig {
        MockConfig {
            shape,
            aliased: None,
            malformed: None,
            bound_access_tokens: true,
            defects: vec![],
            clients: None,
            extra_assertion_jwks: vec![],
            assertion_policy: AssertionPolicy::FAPI2,
        }
    }

    /// The mock AS a scenario stands up.
    pub fn from_scenario(sc: &Scenario) -> MockConfig {
        MockConfig {
            shape: sc.discovery.shape,
            aliased: sc.discovery.aliased.clone(),
            malformed: sc.discovery.malformed,
            bound_access_tokens: sc.discovery.bound_access_tokens,
            defects: sc.mock.defects.clone(),
            clients: sc.clients.clone(),
            extra_assertion_jwks: vec![],
            assertion_policy: AssertionPolicy::FAPI2,
        }
    }
}

/// A running mock AS. Dropping it stops every listener and the wiremock server.
pub struct MockAs {
    /// The issuer: the base URL of the top-level listener.
    pub issuer: String,
    /// The protected resource's URL (on the alias listener when there is one).
    pub resource_url: String,
    /// Every request its listeners received.
    pub journal: Journal,
    /// The state its endpoints share: layout, registrations, tokens.
    pub state: Arc<server::AsState>,
    /// Its running TLS listeners.
    pub listeners: Vec<terminator::Listener>,
    _wiremock: wiremock::MockServer,
}

async fn bind() -> Result<(tokio::net::TcpListener, String), MockError> {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(MockError::Bind)?;
    let port = socket.local_addr().map_err(MockError::Bind)?.port();
    Ok((socket, format!("https://127.0.0.1:{port}")))
}

impl MockAs {
    /// Bind the listeners on 127.0.0.1 (ephemeral ports), mount the endpoints and start serving.
    /// Every code and token it issues, and every secret its journal sees, is registered in
    /// `secrets` (the run's registry, or `serve`'s own).
    pub async fn start(cfg: &MockConfig, pki: &TestPki, secrets: Secrets) -> Result<MockAs, MockError> {
        let defects = Defects::new(&cfg.defects);
        // The aliased authorization endpoint of that malformed variant points at a listener that
        // does not serve authorization, so a client that follows it is visible in the journal.
        let alias_authz = cfg.malformed == Some(Malformed::AuthorizationEndpoint);
        let two_listeners = matches!(cfg.shape, Shape::Split | Shape::Partial) || alias_authz;
        let extra_plain = defects.has(Defect::ParOnPlainListener) && cfg.shape != Shape::Split;
        if cfg.shape == Shape::Malformed && cfg.malformed.is_none() {
            return Err(MockError::Config("shape `malformed` needs `discovery.malformed` (which way to break the aliases)".into()));
        }
        let aliased = cfg.aliased.clone().unwrap_or_else(|| default_aliased(cfg.shape));
        for key in &aliased {
            if endpoint_path(key).is_none() {
                return Err(MockError::Config(format!("the mock serves no `{key}` to alias")));
            }
        }

        let mut sockets = Vec::new();
        let (top_socket, top_base) = bind().await?;
        let top_requests = cfg.shape != Shape::Split && (two_listeners || !defects.has(Defect::AliasNoClientCert));
        let mut listeners =
            vec![ListenerInfo { name: "top", base: top_base.clone(), request_cert: top_requests, paths: server::all_paths() }];
        sockets.push(top_socket);
        let alias_base = if two_listeners {
            let (s, base) = bind().await?;
            let mut paths: Vec<&'static str> =
                aliased.iter().filter(|k| *k != "authorization_endpoint").filter_map(|k| endpoint_path(k)).collect();
            paths.push(RESOURCE_PATH);
            listeners.push(ListenerInfo {
                name: "alias",
                base: base.clone(),
                request_cert: !defects.has(Defect::AliasNoClientCert),
                paths,
            });
            sockets.push(s);
            base
        } else {
            top_base.clone()
        };
        let plain_base = if extra_plain {
            let (s, base) = bind().await?;
            listeners.push(ListenerInfo { name: "plain", base: base.clone(), request_cert: false, paths: vec![server::PAR_PATH] });
            sockets.push(s);
            Some(base)
        } else if cfg.shape == Shape::Split {
            Some(top_base.clone())
        } else {
            None
        };
        let mut aliases: Vec<(String, String)> = aliased.iter().map(|k| (k.clone(), alias_base.clone())).collect();
        if alias_authz {
            aliases.push(("authorization_endpoint".into(), alias_base.clone()));
        }
        if let (true, Some(plain)) = (defects.has(Defect::ParOnPlainListener), &plain_base) {
            let key = "pushed_authorization_request_endpoint".to_string();
            aliases.retain(|(k, _)| *k != key);
            aliases.push((key, plain.clone()));
        }
        let layout = server::Layout {
            shape: cfg.shape,
            malformed: cfg.malformed,
            aliases,
            resource_base: alias_base.clone(),
            listeners: listeners.clone(),
        };
        let specs = cfg.clients.clone().unwrap_or_else(mtls_core::scenario::default_specs);
        let mut registrations =
            specs.iter().map(|s| clients::register(s, pki)).collect::<Result<Vec<_>, _>>().map_err(MockError::Config)?;
        for extra in &cfg.extra_assertion_jwks {
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(extra.clone()).map_err(|e| MockError::Config(format!("extra assertion JWK: {e}")))?;
            for r in registrations.iter_mut().filter(|r| r.method == AuthMethod::PrivateKeyJwt) {
                if let Some(set) = r.jwks.as_mut() {
                    set.keys.push(jwk.clone());
                }
            }
        }
        let plant = terminator::EdgePlant {
            tls12_chacha20: defects.has(Defect::Tls12Chacha20),
            prefer_tls12: defects.has(Defect::PrefersTls12),
            pass_client_cert_header: defects.has(Defect::EdgePassesClientCertHeader),
            append_cert_header: defects.has(Defect::EdgeAppendsCertHeader),
            drop_cert_on_resumption: defects.has(Defect::EdgeDropsCertOnResumption),
        };
        // Planted `session_cache_keeps_identity`: one session cache and one identity cache for
        // every listener.
        let keeps_identity: Option<(Arc<dyn rustls::server::StoresServerSessions>, terminator::IdentityCache)> = defects
            .has(Defect::SessionCacheKeepsIdentity)
            .then(|| (rustls::server::ServerSessionMemoryCache::new(256) as _, Default::default()));
        let state = Arc::new(server::AsState::new(
            layout,
            cfg.bound_access_tokens,
            defects,
            registrations,
            cfg.assertion_policy,
            pki,
            secrets.clone(),
        )?);

        // The journal is the record of requests; wiremock keeping its own would grow without
        // bound in a long `serve` session.
        let wm = wiremock::MockServer::builder().disable_request_recording().start().await;
        server::mount(&wm, state.clone()).await;
        let journal = Journal::new(secrets);
        let mut running = Vec::new();
        for (info, socket) in listeners.iter().zip(sockets) {
            let mut tls = terminator::edge_tls(&pki.server, info.request_cert, plant)?;
            if let Some((store, identities)) = &keeps_identity {
                tls = tls.keeping_identities(store.clone(), identities.clone());
            }
            running.push(
                terminator::Listener::spawn(info.name, socket, tls, info.request_cert, wm.uri(), journal.clone())
                    .map_err(MockError::Bind)?,
            );
        }
        Ok(MockAs {
            resource_url: format!("{alias_base}{RESOURCE_PATH}"),
            issuer: top_base,
            journal,
            state,
            listeners: running,
            _wiremock: wm,
        })
    }

    /// The registration of the first client using `method`.
    pub fn client(&self, method: AuthMethod) -> Option<&Registration> {
        self.state.clients.iter().find(|c| c.method == method)
    }
}
