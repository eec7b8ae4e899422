//! Whether a server sends a CertificateRequest (RFC 8705 §5, §6): one fresh handshake whose
//! client-certificate resolver records being asked.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use mtls_core::tls::{client_config, ServerTrust};
use rustls::pki_types::CertificateDer;

use super::classify::tls_failure;
use super::{Failure, Limits};

/// Whether the TLS server at `url` sends a CertificateRequest in its handshake (RFC 8705 §5,
/// §6): a fresh connection whose client-certificate resolver records being asked.
pub async fn cert_request_probe(
    url: &url::Url,
    roots: &[CertificateDer<'static>],
    limits: Limits,
    insecure: bool,
) -> Result<bool, Failure> {
    let host = url.host_str().ok_or_else(|| Failure::Other(format!("{url} has no host")))?.to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let trust = if insecure { ServerTrust::Insecure } else { ServerTrust::Roots };
    let tls = client_config(roots, None, trust).map_err(|e| Failure::Tls(e.to_string()))?;
    let asked = tls.asked;
    let cfg = tls.config;
    let name = rustls::pki_types::ServerName::try_from(host.trim_matches(|c| c == '[' || c == ']').to_string())
        .map_err(|e| Failure::Other(format!("{host}: {e}")))?;
    let addr = format!("{host}:{port}");
    let tcp = match tokio::time::timeout(limits.connect, tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Err(Failure::Connect(format!("{addr}: {e}"))),
        Err(_) => return Err(Failure::Timeout(format!("connecting to {addr}"))),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let handshake = tokio::time::timeout(limits.request, connector.connect(name, tcp)).await;
    let requested = asked.load(Ordering::SeqCst) > 0;
    match handshake {
        Ok(Ok(_)) => Ok(requested),
        // A server that insists on a certificate may abort once it sees none: it asked.
        Ok(Err(_)) if requested => Ok(true),
        Ok(Err(e)) => Err(match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(t) => tls_failure(t),
            None => Failure::Connect(format!("{addr}: {e}")),
        }),
        Err(_) => Err(Failure::Timeout(format!("TLS handshake with {addr}"))),
    }
}
