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
    s.authenticate(&creds, presented_cert(req))
}
