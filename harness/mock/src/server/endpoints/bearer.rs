//! Bearer token use at the protected endpoints (RFC 6750 §2.1, §3), with the certificate binding
//! enforced (RFC 8705 §3): shared by the resource and userinfo.

use serde_json::json;
use wiremock::{Request, ResponseTemplate};

use super::request::{authorization, client_cert_field, presented_cert};
use crate::server::state::AsState;
use crate::tokens::AccessRecord;
use mtls_core::pki::x5t_s256;
use mtls_core::scenario::Defect;

fn invalid_token(description: &str) -> ResponseTemplate {
    ResponseTemplate::new(401)
        .insert_header("www-authenticate", format!("Bearer error=\"invalid_token\", error_description=\"{description}\""))
        .set_body_json(json!({ "error": "invalid_token", "error_description": description }))
}

/// RFC 6750 bearer token, bound to the presented certificate (RFC 8705 §3).
#[allow(clippy::result_large_err)] // the refusal *is* the response the resource sends
pub(super) fn protected(s: &AsState, req: &Request) -> Result<AccessRecord, ResponseTemplate> {
    let auth = authorization(req).unwrap_or("");
    let Some(token) = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")) else {
        return Err(ResponseTemplate::new(401).insert_header("www-authenticate", "Bearer"));
    };
    let Some((_, rec)) = s.valid_access(token) else {
        return Err(invalid_token("token is invalid, expired or revoked"));
    };
    if let (Some(bound_to), false) = (&rec.bound_to, s.has(Defect::RsIgnoresCert)) {
        let presented = presented_cert(req).or_else(|| if s.has(Defect::RsTrustsClientCertHeader) { client_cert_field(req) } else { None });
        match presented {
            None if s.has(Defect::RsAcceptsMissingCert) => {}
            None => return Err(invalid_token("token is certificate-bound; no client certificate presented")),
            Some(c) if s.has(Defect::RsTrustedAnyCert) => {
                if !s.trusts(&c) {
                    return Err(invalid_token("the presented certificate is not from a trusted CA"));
                }
            }
            Some(c) => {
                let seen = if s.has(Defect::RsThumbprintPem) {
                    x5t_s256(mtls_core::pki::pem_encode("CERTIFICATE", &c).as_bytes())
                } else {
                    x5t_s256(&c)
                };
                if &seen != bound_to {
                    return Err(invalid_token("presented certificate does not match the token's x5t#S256 binding"));
                }
            }
        }
    }
    Ok(rec)
}
