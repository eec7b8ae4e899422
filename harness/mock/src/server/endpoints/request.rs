//! What the responders read from a request: form and query parameters, the `Authorization`
//! header, the client certificate the edge forwarded, and client authentication from those
//! (RFC 6749 §2.3, RFC 8705 §2).

use rustls::pki_types::CertificateDer;
use wiremock::Request;

use crate::clients::{Authenticated, OAuthError};
use crate::server::state::AsState;
use crate::terminator::H_CLIENT_CERT;

/// The certificate the edge forwarded, if any.
pub(super) fn presented_cert(req: &Request) -> Option<CertificateDer<'static>> {
    let escaped = req.headers.get(H_CLIENT_CERT)?.to_str().ok()?;
    let pem = percent_encoding::percent_decode_str(escaped).decode_utf8().ok()?;
    mtls_core::pki::cert_from_pem(pem.as_bytes()).ok()
}

/// Planted `as_trusts_xfcc`: the certificate of an Envoy `X-Forwarded-Client-Cert` header
/// (`…;Cert="<URL-encoded PEM>"`), which a client can send itself.
fn xfcc_cert(req: &Request) -> Option<CertificateDer<'static>> {
    let v = req.headers.get("x-forwarded-client-cert")?.to_str().ok()?;
    let quoted = v.split(';').find_map(|p| p.trim().strip_prefix("Cert="))?.trim_matches('"');
    let pem = percent_encoding::percent_decode_str(quoted).decode_utf8().ok()?;
    mtls_core::pki::cert_from_pem(pem.as_bytes()).ok()
}

/// Planted `rs_trusts_client_cert_header`: the certificate of an RFC 9440 `Client-Cert` header
/// (`:<base64 DER>:`), which a client can send itself.
pub(super) fn client_cert_field(req: &Request) -> Option<CertificateDer<'static>> {
    use base64::Engine;
    let v = req.headers.get("client-cert")?.to_str().ok()?;
    let b64 = v.trim().strip_prefix(':')?.strip_suffix(':')?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok().map(CertificateDer::from)
}

pub(super) struct Form(pub(super) Vec<(String, String)>);
impl Form {
    pub(super) fn parse(body: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }
    pub(super) fn query(req: &Request) -> Form {
        Form(req.url.query_pairs().into_owned().collect())
    }
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

pub(super) fn authorization(req: &Request) -> Option<&str> {
    req.headers.get("authorization").and_then(|v| v.to_str().ok())
}

pub(super) fn authenticate<'a>(s: &'a AsState, req: &Request, form: &Form) -> Result<Authenticated<'a>, OAuthError> {
    let creds = crate::clients::Credentials {
        client_id: form.get("client_id"),
        client_secret: form.get("client_secret"),
        assertion_type: form.get("client_assertion_type"),
        assertion: form.get("client_assertion"),
        authorization: authorization(req),
    };
    use mtls_core::scenario::Defect;
    let tls = presented_cert(req);
    let cert = match tls {
        Some(_) if s.has(Defect::AsPrefersHeaderOverTls) => xfcc_cert(req).or(tls),
        Some(c) => Some(c),
        None if s.has(Defect::AsTrustsXfcc) => xfcc_cert(req),
        None => None,
    };
    s.authenticate(&creds, cert)
}
