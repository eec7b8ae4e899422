//! The mock AS's TLS edge: a rustls listener that (optionally) requests a client certificate,
//! then forwards each HTTP request to wiremock with the certificate in a header — the edge
//! termination pattern of the Auth0 seed (nginx `$ssl_client_escaped_cert`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::journal::{auth_scheme, Entry, Journal, SeenAssertion};
use mtls_core::pki::{x5t_s256, Identity};
use mtls_core::redact::redacted_form;
pub use mtls_core::tls::provider;

/// Header carrying the listener name to the AS behind the edge.
pub const H_LISTENER: &str = "x-mtls-listener";
/// Header carrying the presented certificate, URL-encoded PEM.
pub const H_CLIENT_CERT: &str = "x-ssl-client-cert";
/// Header saying whether the listener asked for a certificate ("1" / "0").
pub const H_CERT_REQUESTED: &str = "x-mtls-cert-requested";
/// Header saying whether the connection's client certificate was verified ("SUCCESS" / "NONE",
/// nginx's `$ssl_client_verify`); the edge owns it, a client's own never passes.
pub const H_CLIENT_VERIFY: &str = "x-ssl-client-verify";

/// Planted `session_cache_keeps_identity`: the certificate each `client_id` last obtained a 2xx
/// with, kept by the edge across all its listeners.
pub type IdentityCache = Arc<std::sync::Mutex<std::collections::HashMap<String, CertificateDer<'static>>>>;

const MAX_BODY: usize = 1 << 20;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts any client certificate chain at the TLS layer while still verifying the handshake
/// signature (proof of possession of the key). Trust decisions are the AS's: it answers
/// `invalid_client` itself, as RFC 8705 §2 expects, and self-signed certificates (§2.2) pass.
#[derive(Debug)]
struct AnyClientCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// TLS server config for one listener: `request_cert` decides whether a CertificateRequest is
/// sent; TLS 1.2 and 1.3 with only the RFC 9325 §4.2 TLS 1.2 suites (ECDHE with AES-GCM).
pub fn server_config(server: &Identity, request_cert: bool) -> Result<Arc<ServerConfig>, rustls::Error> {
    Ok(edge_tls(server, request_cert, EdgePlant::default())?.config)
}

/// What a listener does wrong, planted: in its TLS (what rustls can express: it has no TLS
/// 1.0/1.1, CBC, DHE or static-RSA suites to plant) or in its forwarding of the certificate.
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgePlant {
    /// Also accept TLS_ECDHE_*_WITH_CHACHA20_POLY1305_SHA256 in TLS 1.2 (outside RFC 9325 §4.2).
    pub tls12_chacha20: bool,
    /// Pick TLS 1.2 whenever the ClientHello offers it, though TLS 1.3 is supported.
    pub prefer_tls12: bool,
    /// Not TLS but the edge's header hygiene: pass a client's own certificate header through
    /// when the client presented no certificate (overwriting it only when it has one).
    pub pass_client_cert_header: bool,
    /// Append the edge's certificate header after a client's own instead of replacing it (the
    /// origin reads the first).
    pub append_cert_header: bool,
    /// On a resumed session, forward no certificate (the TLS stack kept none) but still say the
    /// client was verified.
    pub drop_cert_on_resumption: bool,
}

/// A listener's TLS: its configuration, and the TLS 1.2-only one a `prefer_tls12` listener
/// switches to when a ClientHello offers TLS 1.2.
#[derive(Clone)]
pub struct EdgeTls {
    /// The configuration.
    pub config: Arc<ServerConfig>,
    /// Planted `prefer_tls12`: used whenever the ClientHello offers a TLS 1.2 suite.
    pub tls12_only: Option<Arc<ServerConfig>>,
    /// Planted: a client's own certificate header passes when it presented no certificate.
    pub pass_client_cert_header: bool,
    /// Planted: the edge appends its certificate header after a client's own.
    pub append_cert_header: bool,
    /// Planted: a resumed session's certificate is not forwarded, its verification is.
    pub drop_cert_on_resumption: bool,
    /// Planted `session_cache_keeps_identity`: the identity cache a resumed session takes its
    /// certificate from.
    pub identity_cache: Option<IdentityCache>,
}

impl From<Arc<ServerConfig>> for EdgeTls {
    fn from(config: Arc<ServerConfig>) -> EdgeTls {
        EdgeTls {
            config,
            tls12_only: None,
            pass_client_cert_header: false,
            append_cert_header: false,
            drop_cert_on_resumption: false,
            identity_cache: None,
        }
    }
}

impl EdgeTls {
    /// Planted `session_cache_keeps_identity`: this listener keeping its TLS sessions in `store`
    /// (shared with every other listener) and taking a resumed session's certificate from
    /// `identities`.
    pub fn keeping_identities(mut self, store: Arc<dyn rustls::server::StoresServerSessions>, identities: IdentityCache) -> EdgeTls {
        fn share(c: &Arc<ServerConfig>, store: &Arc<dyn rustls::server::StoresServerSessions>) -> Arc<ServerConfig> {
            let mut c = (**c).clone();
            c.session_storage = store.clone();
            Arc::new(c)
        }
        self.config = share(&self.config, &store);
        self.tls12_only = self.tls12_only.as_ref().map(|c| share(c, &store));
        self.identity_cache = Some(identities);
        self
    }
}

/// A listener's TLS with `plant` planted.
pub fn edge_tls(server: &Identity, request_cert: bool, plant: EdgePlant) -> Result<EdgeTls, rustls::Error> {
    let config = config_for(server, request_cert, plant, &[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let tls12_only = if plant.prefer_tls12 { Some(config_for(server, request_cert, plant, &[&rustls::version::TLS12])?) } else { None };
    Ok(EdgeTls {
        config,
        tls12_only,
        pass_client_cert_header: plant.pass_client_cert_header,
        append_cert_header: plant.append_cert_header,
        drop_cert_on_resumption: plant.drop_cert_on_resumption,
        identity_cache: None,
    })
}

fn config_for(
    server: &Identity,
    request_cert: bool,
    plant: EdgePlant,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut p = (*provider()).clone();
    p.cipher_suites.retain(|s| s.tls13().is_some() || plant.tls12_chacha20 || !format!("{:?}", s.suite()).contains("CHACHA20"));
    let provider = Arc::new(p);
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(versions)?;
    let builder = if request_cert {
        builder.with_client_cert_verifier(Arc::new(AnyClientCert { algorithms: provider.signature_verification_algorithms }))
    } else {
        builder.with_no_client_auth()
    };
    // The leaf and its intermediates (none in the compact PKI), as a deployed server sends them.
    let mut cfg = builder.with_single_cert(server.chain(), server.key_der())?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// One running listener. The accept loop stops when this is dropped.
pub struct Listener {
    /// The listener's name, as the journal records it.
    pub name: &'static str,
    /// The local address it accepts on.
    pub addr: SocketAddr,
    /// Whether its handshake sends a CertificateRequest.
    pub request_cert: bool,
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Edge {
    name: &'static str,
    request_cert: bool,
    pass_client_cert_header: bool,
    append_cert_header: bool,
    drop_cert_on_resumption: bool,
    identity_cache: Option<IdentityCache>,
    upstream: String,
    journal: Journal,
    http: reqwest::Client,
}

impl Listener {
    /// A listener of its own on `host:0` in front of `upstream`, and its base URL: the edge
    /// alone, for tests and tools that put their own server behind it.
    pub async fn front(server: &Identity, host: &str, request_cert: bool, upstream: String) -> std::io::Result<(Listener, String)> {
        let socket = TcpListener::bind(format!("{host}:0")).await?;
        let base = format!("https://{host}:{}", socket.local_addr()?.port());
        let tls = server_config(server, request_cert).map_err(std::io::Error::other)?;
        Ok((Listener::spawn("top", socket, tls, request_cert, upstream, Journal::default())?, base))
    }

    /// Start serving on an already bound socket, forwarding to `upstream` (wiremock's base URI).
    pub fn spawn(
        name: &'static str,
        socket: TcpListener,
        tls: impl Into<EdgeTls>,
        request_cert: bool,
        upstream: String,
        journal: Journal,
    ) -> std::io::Result<Listener> {
        let addr = socket.local_addr()?;
        provider();
        let http = reqwest::Client::builder()
            .no_proxy()
            // Plain HTTP to the AS behind: no trust anchors needed. Without this reqwest loads the
            // system's native roots for every listener (a fifth of the loopback suite's CPU).
            .tls_certs_only(Vec::<reqwest::Certificate>::new())
            // The edge is transparent: the AS's redirects go back to the client untouched.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(std::io::Error::other)?;
        let tls: EdgeTls = tls.into();
        let edge = Arc::new(Edge {
            name,
            request_cert,
            pass_client_cert_header: tls.pass_client_cert_header,
            append_cert_header: tls.append_cert_header,
            drop_cert_on_resumption: tls.drop_cert_on_resumption,
            identity_cache: tls.identity_cache.clone(),
            upstream,
            journal,
            http,
        });
        let task = serve_tls(socket, tls, move |req, cert, resumed| {
            let edge = edge.clone();
            async move { edge.forward(req, cert.as_ref(), resumed).await }
        });
        Ok(Listener { name, addr, request_cert, task })
    }
}

/// Serve `socket`: each connection's TLS handshake with `tls` (bounded), then HTTP/1.1 on it, each
/// request answered by `handle(request, the client's certificate, whether the session was
/// resumed)`. The accept loop of the mock's edge and of the observe proxy; it stops when the
/// returned task is aborted.
pub fn serve_tls<H, F>(socket: TcpListener, tls: impl Into<EdgeTls>, handle: H) -> JoinHandle<()>
where
    H: Fn(Request<Incoming>, Option<CertificateDer<'static>>, bool) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let tls: EdgeTls = tls.into();
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _peer)) = socket.accept().await else { continue };
            // Small handshake and response writes must not wait for delayed ACKs.
            let _ = tcp.set_nodelay(true);
            let (tls, handle) = (tls.clone(), handle.clone());
            tokio::spawn(async move {
                let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, accept(&tls, tcp)).await else {
                    return; // handshake failed or timed out: nothing to serve
                };
                mtls_core::stats::handshake();
                let conn = tls.get_ref().1;
                let cert = conn.peer_certificates().and_then(|c| c.first()).map(|c| c.clone().into_owned());
                let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
                let service = hyper::service::service_fn(move |req| {
                    let fut = handle(req, cert.clone(), resumed);
                    async move { Ok::<_, Infallible>(fut.await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HANDSHAKE_TIMEOUT)
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    })
}

/// The handshake: with the listener's configuration, or — planted `prefer_tls12` — its TLS
/// 1.2-only one when the ClientHello offers a TLS 1.2 suite.
async fn accept(tls: &EdgeTls, tcp: tokio::net::TcpStream) -> std::io::Result<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    let Some(tls12) = &tls.tls12_only else {
        return TlsAcceptor::from(tls.config.clone()).accept(tcp).await;
    };
    let start = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp).await?;
    let offers12 = start.client_hello().cipher_suites().iter().any(|s| !format!("{s:?}").starts_with("TLS13_"));
    start.into_stream(if offers12 { tls12.clone() } else { tls.config.clone() }).await
}

/// A plain-text answer with `status` (the edge's and the observe proxy's own errors).
pub fn plain(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg.to_string())));
    *r.status_mut() = status;
    r
}

impl Edge {
    /// The certificate to forward for a request on a connection whose handshake presented
    /// `cert` (`resumed`: an abbreviated one), and whether to say it was verified: the
    /// session's own, unless a planted defect says otherwise.
    fn identity(
        &self,
        cert: Option<&CertificateDer<'static>>,
        resumed: bool,
        client_id: Option<&str>,
    ) -> (Option<CertificateDer<'static>>, bool) {
        let verified = cert.is_some();
        if !resumed {
            return (cert.cloned(), verified);
        }
        if self.drop_cert_on_resumption {
            return (None, verified);
        }
        let cached = self
            .identity_cache
            .as_ref()
            .zip(client_id)
            .and_then(|(cache, id)| cache.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned());
        match cached {
            Some(c) => (Some(c), true),
            None => (cert.cloned(), verified),
        }
    }

    async fn forward(&self, req: Request<Incoming>, cert: Option<&CertificateDer<'static>>, resumed: bool) -> Response<Full<Bytes>> {
        mtls_core::stats::served();
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large or broken"),
        };
        let is_form = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let client_id =
            if is_form { url::form_urlencoded::parse(&body).find(|(k, _)| k == "client_id").map(|(_, v)| v.into_owned()) } else { None };
        let (cert, verified) = self.identity(cert, resumed, client_id.as_deref());
        let cert = cert.as_ref();
        let path_q = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let url = format!("{}{}", self.upstream, path_q);
        let mut up = self.http.request(parts.method.clone(), &url);
        for (k, v) in parts.headers.iter() {
            // Hop-by-hop headers stay here; headers the edge owns are never taken from a client.
            let n = k.as_str();
            if matches!(n, "host" | "connection" | "content-length" | "transfer-encoding" | "keep-alive")
                || n == H_LISTENER
                || (n == H_CLIENT_CERT && !self.append_cert_header && (cert.is_some() || !self.pass_client_cert_header))
                || n == H_CERT_REQUESTED
                || n == H_CLIENT_VERIFY
            {
                continue;
            }
            up = up.header(k, v);
        }
        up = up
            .header(H_LISTENER, self.name)
            .header(H_CERT_REQUESTED, if self.request_cert { "1" } else { "0" })
            .header(H_CLIENT_VERIFY, if verified { "SUCCESS" } else { "NONE" });
        if let Some(c) = cert {
            let pem = mtls_core::pki::pem_encode("CERTIFICATE", c);
            let escaped = percent_encoding::utf8_percent_encode(&pem, percent_encoding::NON_ALPHANUMERIC).to_string();
            up = up.header(H_CLIENT_CERT, escaped);
        }
        // A JWT client assertion is a credential: the entry keeps it redacted, the journal keeps
        // its header and claims (and the sealed JWS) for the client checks.
        let assertion = if is_form {
            url::form_urlencoded::parse(&body).find(|(k, _)| k == "client_assertion").and_then(|(_, v)| SeenAssertion::parse(&v))
        } else {
            None
        };
        let entry_base = Entry {
            listener: self.name.to_string(),
            cert_requested: self.request_cert,
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            form: if is_form { redacted_form(&body, self.journal.secrets()) } else { Vec::new() },
            authorization: parts.headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(auth_scheme),
            cert_x5t_s256: cert.map(|c| x5t_s256(c)),
            status: 0,
            error: None,
            upstream: None,
            token_cnf: None,
        };
        let resp = match up.body(body).send().await {
            Ok(r) => r,
            Err(e) => {
                self.journal.record_with_assertion(Entry { status: 502, ..entry_base }, assertion);
                return plain(StatusCode::BAD_GATEWAY, &format!("mock AS upstream error: {e}"));
            }
        };
        let status = resp.status();
        if let (Some(cache), Some(id), Some(c), true) = (&self.identity_cache, &client_id, cert, status.is_success()) {
            cache.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), c.clone());
        }
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap_or_default();
        let (error, token_cnf) =
            serde_json::from_slice::<serde_json::Value>(&bytes).map(|v| crate::journal::answer_facts(&v)).unwrap_or_default();
        self.journal.record_with_assertion(Entry { status: status.as_u16(), error, token_cnf, ..entry_base }, assertion);
        let mut out = Response::new(Full::new(bytes));
        *out.status_mut() = status;
        for (k, v) in headers.iter() {
            if !matches!(k.as_str(), "connection" | "content-length" | "transfer-encoding" | "keep-alive") {
                out.headers_mut().append(k, v.clone());
            }
        }
        out
    }
}
