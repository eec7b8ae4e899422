//! TLS configuration shared by every part of the harness: the crypto provider, and the one
//! builder of client configurations (trust anchors or `--insecure`, an optional client
//! certificate, and a resolver that records whether the server asked for one).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

/// The crypto provider of every TLS config the harness builds (ring: it seeds from the OS at
/// once, where aws-lc's first use costs ~30 ms per process). Also installed as the process
/// default, once, for clients that take the default (reqwest's plain-HTTP ones).
pub fn provider() -> Arc<CryptoProvider> {
    static DEFAULT: std::sync::Once = std::sync::Once::new();
    DEFAULT.call_once(|| {
        // Another provider installed first (by an embedding program) is fine: ours are explicit.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Client-side certificate resolver that counts the server's CertificateRequests: rustls calls
/// `resolve` only when one arrived (RFC 8705 §5/§6 observation). Its certificate can be switched
/// between connections ([`CertSwitch`]).
#[derive(Debug)]
struct Recording {
    key: std::sync::RwLock<Option<Arc<CertifiedKey>>>,
    asked: Arc<AtomicUsize>,
}

impl ResolvesClientCert for Recording {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.key.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
    fn has_certs(&self) -> bool {
        true
    }
}

/// The certificate a configuration presents, switchable between connections: rustls resumes a
/// session only under the configuration (verifier and certificate resolver) that set it up, so
/// the `session.*` checks set a session up under one identity and offer it under another by
/// switching this one resolver's certificate in between.
#[derive(Debug, Clone)]
pub struct CertSwitch(Arc<Recording>);

impl CertSwitch {
    /// Present `identity` (chain and key), or none, from the next handshake on.
    pub fn present(&self, identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>) -> Result<(), rustls::Error> {
        let key = certified(identity)?;
        *self.0.key.write().unwrap_or_else(|p| p.into_inner()) = key;
        Ok(())
    }
}

fn certified(identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>) -> Result<Option<Arc<CertifiedKey>>, rustls::Error> {
    Ok(match identity {
        Some((chain, key)) => Some(Arc::new(CertifiedKey::new(chain, provider().key_provider.load_private_key(key)?))),
        None => None,
    })
}

/// `--insecure`: accepts any server certificate (still checking handshake signatures). Only
/// ever built when the user asked for it; every report records that it was.
#[derive(Debug)]
struct InsecureAnyServerCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for InsecureAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// How the server's certificate is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTrust {
    /// Against the given trust anchors (the default, always).
    Roots,
    /// Not at all (`--insecure`, explicit, warned about and recorded in every report).
    Insecure,
}

/// A client configuration, the counter of CertificateRequests its handshakes received, and the
/// counter of full handshakes (a resumed one verifies no server certificate).
pub struct ClientTls {
    /// The rustls configuration (ALPN `http/1.1`).
    pub config: ClientConfig,
    /// How many CertificateRequests handshakes with this configuration have seen.
    pub asked: Arc<AtomicUsize>,
    /// How many server certificates handshakes with this configuration have verified: one per
    /// full handshake, none for a resumed one (RFC 8446 §2.2, RFC 5246 §7.3).
    pub full_handshakes: Arc<AtomicUsize>,
    /// The certificate it presents, switchable.
    pub cert: CertSwitch,
}

/// Counts the server certificates it is asked to verify (one per full handshake; a resumed
/// handshake carries none), deferring every judgement to the verifier it wraps.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn ServerCertVerifier>,
    verified: Arc<AtomicUsize>,
}

impl ServerCertVerifier for Counting {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verified.fetch_add(1, Ordering::SeqCst);
        self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// The one client-configuration builder: `roots` as trust anchors (unless `trust` is
/// `Insecure`), `identity` (chain and key) presented when a server asks, TLS 1.3 and 1.2.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    trust: ServerTrust,
) -> Result<ClientTls, rustls::Error> {
    client_config_for(roots, identity, trust, rustls::DEFAULT_VERSIONS)
}

/// [`client_config`] offering only `versions`.
pub fn client_config_for(
    roots: &[CertificateDer<'static>],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    trust: ServerTrust,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<ClientTls, rustls::Error> {
    let provider = provider();
    let algorithms = provider.signature_verification_algorithms;
    let key = certified(identity)?;
    let inner: Arc<dyn ServerCertVerifier> = match trust {
        // --insecure only: an explicit option, warned about and recorded in every report; and the
        // key-size survey's TLS 1.3 handshake, which only reads the certificate and sends nothing.
        ServerTrust::Insecure => Arc::new(InsecureAnyServerCert { algorithms }),
        ServerTrust::Roots => {
            let mut store = RootCertStore::empty();
            for r in roots {
                store.add(r.clone())?;
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(format!("server certificate verifier: {e}")))?
        }
    };
    let full_handshakes = Arc::new(AtomicUsize::new(0));
    let verifier = Arc::new(Counting { inner, verified: full_handshakes.clone() });
    let builder = ClientConfig::builder_with_provider(provider).with_protocol_versions(versions)?;
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    let asked = Arc::new(AtomicUsize::new(0));
    let resolver = Arc::new(Recording { key: std::sync::RwLock::new(key), asked: asked.clone() });
    let mut config = builder.with_client_cert_resolver(resolver.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ClientTls { config, asked, full_handshakes, cert: CertSwitch(resolver) })
}

/// A TLS session store that ignores which server a session came from: every session it holds
/// is offered to every server, whatever its name — what the `session.*` checks need to offer a
/// session set up at one origin, or with one identity, to another (RFC 6066 §3 says a server
/// must not resume across names; rustls, rightly, never offers across names on its own).
#[derive(Debug)]
pub struct SharedSessions {
    inner: rustls::client::ClientSessionMemoryCache,
    stored: AtomicUsize,
}

impl Default for SharedSessions {
    fn default() -> Self {
        SharedSessions { inner: rustls::client::ClientSessionMemoryCache::new(16), stored: AtomicUsize::new(0) }
    }
}

impl SharedSessions {
    /// How many sessions (TLS 1.2 sessions or TLS 1.3 tickets) servers have handed out into it.
    pub fn stored(&self) -> usize {
        self.stored.load(Ordering::SeqCst)
    }

    fn key() -> ServerName<'static> {
        ServerName::IpAddress(rustls::pki_types::IpAddr::from(std::net::Ipv4Addr::UNSPECIFIED))
    }
}

impl rustls::client::ClientSessionStore for SharedSessions {
    fn set_kx_hint(&self, _server_name: ServerName<'static>, group: rustls::NamedGroup) {
        self.inner.set_kx_hint(Self::key(), group)
    }
    fn kx_hint(&self, _server_name: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.inner.kx_hint(&Self::key())
    }
    fn set_tls12_session(&self, _server_name: ServerName<'static>, value: rustls::client::Tls12ClientSessionValue) {
        self.stored.fetch_add(1, Ordering::SeqCst);
        self.inner.set_tls12_session(Self::key(), value)
    }
    fn tls12_session(&self, _server_name: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.inner.tls12_session(&Self::key())
    }
    fn remove_tls12_session(&self, _server_name: &ServerName<'static>) {
        self.inner.remove_tls12_session(&Self::key())
    }
    fn insert_tls13_ticket(&self, _server_name: ServerName<'static>, value: rustls::client::Tls13ClientSessionValue) {
        self.stored.fetch_add(1, Ordering::SeqCst);
        self.inner.insert_tls13_ticket(Self::key(), value)
    }
    fn take_tls13_ticket(&self, _server_name: &ServerName<'static>) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(&Self::key())
    }
}
