//! The pushed authorization request endpoint (RFC 9126 §2), with client authentication (RFC 8705
//! §2) and `request_uri` refused in the pushed request (§2.1).

use serde_json::json;
use wiremock::ResponseTemplate;

use super::error::oauth_error;
use super::request::{authenticate, Form};
use crate::clients::OAuthError;
use crate::server::layout::PAR_PATH;
use crate::server::state::AsState;
use crate::tokens::{now, random_id, ParRecord};
use mtls_core::scenario::Defect;

/// Lifetime of a pushed request's `request_uri`, in seconds.
const PAR_TTL: u64 = 60;

responder!(Par, PAR_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let client_id = match authenticate(s, req, &form) {
        Ok(a) => a.client.client_id.clone(),
        // Planted `par_unauthenticated`: a registered client_id alone is taken at its word.
        Err(_)
            if s.has(Defect::ParUnauthenticated)
                && unauthenticated(&form).is_some_and(|id| s.clients.iter().any(|c| c.client_id == id)) =>
        {
            unauthenticated(&form).unwrap_or_default().to_string()
        }
        Err(e) => return oauth_error(&e),
    };
    if form.get("request_uri").is_some() {
        return oauth_error(&OAuthError::new(400, "invalid_request", "request_uri is not allowed in a pushed request (RFC 9126 §2.1)"));
    }
    if let Err(e) = fapi_parameters(s, &form) {
        return oauth_error(&e);
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random_id());
    let params = form.0.into_iter().filter(|(k, _)| k != "client_secret").collect();
    s.store.put_par(&request_uri, ParRecord { client_id, params, exp: now() + PAR_TTL });
    ResponseTemplate::new(201)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({ "request_uri": request_uri, "expires_in": PAR_TTL }))
});

/// The form's `client_id` when it carries no credential at all (no assertion, no secret).
fn unauthenticated(form: &Form) -> Option<&str> {
    ["client_assertion", "client_secret"].iter().all(|k| form.get(k).is_none()).then(|| form.get("client_id")).flatten()
}

/// FAPI 2.0 SP §5.3.2.2: `response_type` is `code` (-1), PKCE with S256 (-5), `redirect_uri` (-6).
/// A pushed request object (`request`, RFC 9101) is taken as it is: the mock does not open it.
fn fapi_parameters(s: &AsState, form: &Form) -> Result<(), OAuthError> {
    if form.get("request").is_some() {
        return Ok(());
    }
    let invalid = |why: &'static str| Err(OAuthError::new(400, "invalid_request", why));
    if form.get("response_type") != Some("code") && !s.has(Defect::ParAcceptsHybrid) {
        return Err(OAuthError::new(400, "unsupported_response_type", "only response_type=code (FAPI 2.0 SP §5.3.2.2)"));
    }
    if form.get("code_challenge").is_none() && !s.has(Defect::ParPkceOptional) {
        return invalid("code_challenge is required (FAPI 2.0 SP §5.3.2.2: PKCE)");
    }
    if form.get("code_challenge").is_some() && form.get("code_challenge_method") != Some("S256") && !s.has(Defect::ParPkcePlain) {
        return invalid("code_challenge_method must be S256 (FAPI 2.0 SP §5.3.2.2)");
    }
    if form.get("redirect_uri").is_none() && !s.has(Defect::ParRedirectOptional) {
        return invalid("redirect_uri is required in a pushed request (FAPI 2.0 SP §5.3.2.2)");
    }
    Ok(())
}
