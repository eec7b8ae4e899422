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
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

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
/// `resolve` only when one arrived (RFC 8705 §5/§6 observation).
#[derive(Debug)]
struct Recording {
    key: Option<Arc<CertifiedKey>>,
    asked: Arc<AtomicUsize>,
}

impl ResolvesClientCert for Recording {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.key.clone()
    }
    fn has_certs(&self) -> bool {
        true
    }
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

/// A client configuration and the counter of CertificateRequests its handshakes received.
pub struct ClientTls {
    /// The rustls configuration (ALPN `http/1.1`).
    pub config: ClientConfig,
    /// How many CertificateRequests handshakes with this configuration have seen.
    pub asked: Arc<AtomicUsize>,
}

/// The one client-configuration builder: `roots` as trust anchors (unless `trust` is
/// `Insecure`), `identity` (chain and key) presented when a server asks.
pub fn client_config(
    roots: &[CertificateDer<'static>],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    trust: ServerTrust,
) -> Result<ClientTls, rustls::Error> {
    let provider = provider();
    let algorithms = provider.signature_verification_algorithms;
    let key = match identity {
        Some((chain, key)) => Some(Arc::new(CertifiedKey::new(chain, provider.key_provider.load_private_key(key)?))),
        None => None,
    };
    let builder = ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?;
    let builder = match trust {
        // --insecure only: an explicit option, warned about and recorded in every report.
        ServerTrust::Insecure => builder.dangerous().with_custom_certificate_verifier(Arc::new(InsecureAnyServerCert { algorithms })),
        ServerTrust::Roots => {
            let mut store = RootCertStore::empty();
            for r in roots {
                store.add(r.clone())?;
            }
            builder.with_root_certificates(store)
        }
    };
    let asked = Arc::new(AtomicUsize::new(0));
    let mut config = builder.with_client_cert_resolver(Arc::new(Recording { key, asked: asked.clone() }));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ClientTls { config, asked })
}
