//! mtls-observe: the harness between a real client and a real AS. It reads the upstream's
//! discovery, stands up one loopback TLS listener per upstream origin (asking for a client
//! certificate where the upstream does), serves the client a discovery document pointing at
//! them, forwards every request to the upstream — re-originating mutual TLS with the user's own
//! certificate — and journals each one as the mock's journal does, so the same client checks
//! judge a client against a real sandbox ([`Observer::site`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use serde_json::Value;
use url::Url;

use mtls_clientmode::site::{Loc, Place, Site};
use mtls_core::discovery::MTLS_ENDPOINT_KEYS;
use mtls_core::pki::{Identity, ProxyCa, Role};
use mtls_core::redact::Secrets;
use mtls_core::tls::{client_config, ServerTrust};
use mtls_mock::journal::Journal;

pub mod hosts;
pub mod proxy;
pub mod registration;
pub mod rewrite;
pub mod signed;
pub mod upstream;

/// Why observing could not start. Every variant names the file or URL at fault.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The upstream could not be reached, did not verify, or answered something unusable.
    #[error("upstream {url}: {reason}")]
    Upstream {
        /// The URL (or origin) at fault.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A file given on the command line could not be used.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The command line or target file asks for something inconsistent.
    #[error("{0}")]
    Usage(String),
    /// A local listener could not be bound.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TLS configuration or certificate generation failed.
    #[error("TLS: {0}")]
    Tls(String),
}

/// What to observe.
#[derive(Debug, Clone)]
pub struct ObserveConfig {
    /// The upstream's issuer.
    pub upstream: Url,
    /// The user's client certificate (PEM chain).
    pub client_cert: PathBuf,
    /// Its private key (PEM). Read into memory, never written or shown.
    pub client_key: PathBuf,
    /// Trust anchors for the upstream (PEM bundle); the system's when `None`.
    pub upstream_ca: Option<PathBuf>,
    /// Where the issuer's listener listens (others take a free port on the same host).
    pub listen: SocketAddr,
    /// Keep the upstream's issuer and URLs in what the client sees.
    pub preserve_issuer: bool,
    /// The protected resource the client calls, if any (it gets a listener of its own origin).
    pub resource: Option<Url>,
    /// Connect timeout and per-request timeout towards the upstream.
    pub connect_timeout: Duration,
    /// Timeout of one upstream exchange.
    pub request_timeout: Duration,
}

/// A running observe proxy.
pub struct Observer {
    /// The listeners, the issuer's first.
    pub listeners: Vec<proxy::Listener>,
    /// The journal of every request.
    pub journal: Journal,
    /// The issuer the client is to be configured with.
    pub local_issuer: String,
    /// The local resource URL, if a resource was given.
    pub local_resource: Option<String>,
    /// The local CA the client must trust, PEM.
    pub ca_pem: String,
    /// The upstream's discovery URL and document (as the upstream serves it).
    pub discovery_url: String,
    /// The upstream's discovery document.
    pub metadata: Value,
    /// How requests map to listeners.
    pub map: rewrite::OriginMap,
    /// `x5t#S256` of the user's certificate.
    pub thumbprint: String,
    /// Under `--preserve-issuer`: the loopback address of each upstream host, or why not.
    pub host_map: hosts::HostMap,
    resource: Option<Url>,
    /// The paths discovery is served under (OIDC's and RFC 8414's, for the upstream's issuer).
    discovery_paths: Vec<String>,
}

/// Trust anchors: the PEM bundle at `path`, else the system's.
pub fn trust_anchors(path: Option<&std::path::Path>) -> Result<Vec<CertificateDer<'static>>, ObserveError> {
    match path {
        Some(p) => read_roots(p),
        None => system_roots(),
    }
}

/// Whether `url` names this machine (then no proxy from the environment applies, as for a live
/// target's loopback issuer; any other host goes through `HTTPS_PROXY` when one is set).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn read_roots(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, ObserveError> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|e| ObserveError::File { path: path.to_path_buf(), reason: e.to_string() })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| ObserveError::File { path: path.to_path_buf(), reason: format!("not a PEM certificate bundle: {e}") })?;
    if certs.is_empty() {
        return Err(ObserveError::File { path: path.to_path_buf(), reason: "holds no certificate".into() });
    }
    Ok(certs)
}

fn system_roots() -> Result<Vec<CertificateDer<'static>>, ObserveError> {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        return Err(ObserveError::Usage("no system trust anchors found: give the upstream's CA with --upstream-ca".into()));
    }
    Ok(found.certs)
}

/// A reqwest client to the upstream trusting `roots`, presenting `identity` where asked.
fn upstream_client(
    roots: &[CertificateDer<'static>],
    identity: Option<&Identity>,
    cfg: &ObserveConfig,
) -> Result<reqwest::Client, ObserveError> {
    let tls = client_config(roots, identity.map(|i| (i.chain(), i.key_der())), ServerTrust::Roots)
        .map_err(|e| ObserveError::Tls(e.to_string()))?;
    let mut b = reqwest::Client::builder()
        .use_preconfigured_tls(tls.config)
        .connect_timeout(cfg.connect_timeout)
        .timeout(cfg.request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if is_loopback(&cfg.upstream) {
        b = b.no_proxy();
    }
    b.build().map_err(|e| ObserveError::Tls(mtls_core::error_chain(&e)))
}

impl Observer {
    /// Read the upstream, stand the listeners up, start relaying. Bounded by the configured
    /// timeouts; any failure names the URL or file at fault.
    pub async fn start(cfg: &ObserveConfig, secrets: Secrets) -> Result<Observer, ObserveError> {
        if cfg.upstream.scheme() != "https" {
            return Err(ObserveError::Usage(format!("--upstream {}: an https URL is needed (RFC 8414 §2)", cfg.upstream)));
        }
        let identity = Identity::load(Role::Registered, &cfg.client_cert, &cfg.client_key)
            .map_err(|e| ObserveError::File { path: cfg.client_cert.clone(), reason: mtls_core::error_chain(&e) })?;
        let roots = trust_anchors(cfg.upstream_ca.as_deref())?;
        let without_cert = upstream_client(&roots, None, cfg)?;
        let with_cert = upstream_client(&roots, Some(&identity), cfg)?;
        let (discovery_url, metadata) = upstream::discover(&cfg.upstream, &without_cert, cfg.request_timeout).await?;
        let upstream_issuer = metadata.get("issuer").and_then(Value::as_str).unwrap_or(cfg.upstream.as_str()).to_string();
        let mut limits = mtls_client::http::Limits::default();
        (limits.connect, limits.request) = (cfg.connect_timeout, cfg.request_timeout);
        let urls = upstream::published_urls(&cfg.upstream, &metadata, cfg.resource.as_slice());
        let origins = upstream::origins(&urls, &roots, limits).await?;
        let names: Vec<String> = origins.iter().map(|o| o.host.clone()).collect();
        let ca = ProxyCa::generate(&names).map_err(|e| ObserveError::Tls(mtls_core::error_chain(&e)))?;
        // Bind every listener first: the map needs their ports. Preserving the issuer (on the
        // default loopback listen address), each upstream host gets a loopback address of its
        // own and each origin its own port there ([`hosts`]); else free ports on --listen.
        let mut host_map = if cfg.preserve_issuer && cfg.listen.ip().is_loopback() && cfg.listen.port() == 0 {
            hosts::plan(&origins.iter().map(|o| o.origin.clone()).collect::<Vec<_>>())
        } else {
            hosts::HostMap::Unmapped("--preserve-issuer not given, or --listen set".into())
        };
        let mut sockets = Vec::new();
        if let hosts::HostMap::Mapped { addrs, .. } = &host_map {
            for (o, addr) in origins.iter().zip(addrs) {
                match tokio::net::TcpListener::bind(addr).await {
                    Ok(socket) => sockets.push((socket, format!("https://{addr}"), o)),
                    Err(e) => {
                        sockets.clear();
                        host_map = hosts::HostMap::Unmapped(format!("{addr} cannot be bound ({e})"));
                        break;
                    }
                }
            }
        }
        if sockets.is_empty() {
            for (i, o) in origins.iter().enumerate() {
                let addr = if i == 0 { cfg.listen } else { SocketAddr::new(cfg.listen.ip(), 0) };
                let socket =
                    tokio::net::TcpListener::bind(addr).await.map_err(|e| ObserveError::Listen { addr: addr.to_string(), source: e })?;
                let port = socket.local_addr().map_err(|e| ObserveError::Listen { addr: addr.to_string(), source: e })?.port();
                let host = match cfg.listen.ip() {
                    std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                    ip => ip.to_string(),
                };
                sockets.push((socket, format!("https://{host}:{port}"), o));
            }
        }
        let map = rewrite::OriginMap {
            pairs: sockets.iter().map(|(_, local, o)| (o.origin.clone(), local.clone())).collect(),
            upstream_issuer: upstream_issuer.clone(),
            preserve_issuer: cfg.preserve_issuer,
        };
        let upstream_issuer_url = Url::parse(&upstream_issuer).unwrap_or_else(|_| cfg.upstream.clone());
        let discovery_paths: Vec<String> = upstream::discovery_urls(&upstream_issuer_url)
            .iter()
            .filter_map(|u| Url::parse(u).ok())
            .map(|u| u.path().to_string())
            .collect();
        let journal = Journal::new(secrets.clone());
        let shared = Arc::new(proxy::Shared {
            map: map.clone(),
            journal: journal.clone(),
            secrets,
            with_cert,
            without_cert,
            thumbprint: identity.x5t_s256.clone(),
            discovery_paths: discovery_paths.clone(),
            timeout: cfg.request_timeout,
        });
        let mut listeners = Vec::new();
        for (socket, local, o) in sockets {
            let tls = mtls_mock::terminator::server_config(&ca.server, o.requests_cert).map_err(|e| ObserveError::Tls(e.to_string()))?;
            listeners.push(proxy::Listener::spawn(socket, local, o.origin.clone(), tls, o.requests_cert, shared.clone()));
        }
        let local_resource = cfg.resource.as_ref().map(|r| {
            if cfg.preserve_issuer {
                r.to_string()
            } else {
                map.to_local(r.as_str()).unwrap_or_else(|| r.to_string())
            }
        });
        Ok(Observer {
            listeners,
            journal,
            local_issuer: map.local_issuer(),
            local_resource,
            ca_pem: ca.ca_pem,
            discovery_url,
            metadata,
            map,
            thumbprint: identity.x5t_s256.clone(),
            host_map,
            resource: cfg.resource.clone(),
            discovery_paths,
        })
    }

    /// Where a conformant client sends each request, in the journal's terms: per endpoint the
    /// listener (upstream origin) and path of its top-level URL and of its alias.
    pub fn site(&self) -> Site {
        let loc = |v: Option<&Value>| -> Option<Loc> {
            let u = Url::parse(v?.as_str()?).ok()?;
            Some(Loc::new(u.origin().ascii_serialization(), u.path()))
        };
        let aliases = self.metadata.get("mtls_endpoint_aliases");
        let endpoints = MTLS_ENDPOINT_KEYS
            .iter()
            .chain(["authorization_endpoint"].iter())
            .map(|k| Place {
                key: k.to_string(),
                top: loc(self.metadata.get(*k)),
                alias: if *k == "authorization_endpoint" { None } else { loc(aliases.and_then(|a| a.get(*k))) },
            })
            .filter(|p| p.top.is_some() || p.alias.is_some())
            .collect();
        let resource = self.resource.as_ref().map(|r| Loc::new(r.origin().ascii_serialization(), r.path()));
        Site { endpoints, discovery_paths: self.discovery_paths.clone(), resource }
    }
}
