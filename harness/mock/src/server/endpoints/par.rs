//! The pushed authorization request endpoint (RFC 9126 §2), with client authentication (RFC 8705
//! §2) and `request_uri` refused in the pushed request (§2.1).

use serde_json::json;
use wiremock::ResponseTemplate;

use super::error::oauth_error;
use super::request::{authenticate, Form};
use crate::clients::OAuthError;
use crate::server::layout::PAR_PATH;
use crate::tokens::{now, random_id, ParRecord};

/// Lifetime of a pushed request's `request_uri`, in seconds.
const PAR_TTL: u64 = 60;

responder!(Par, PAR_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let auth = match authenticate(s, req, &form) {
        Ok(a) => a,
        Err(e) => return oauth_error(&e),
    };
    if form.get("request_uri").is_some() {
        return oauth_error(&OAuthError::new(400, "invalid_request", "request_uri is not allowed in a pushed request (RFC 9126 §2.1)"));
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random_id());
    let params = form.0.into_iter().filter(|(k, _)| k != "client_secret").collect();
    s.store.put_par(&request_uri, ParRecord { client_id: auth.client.client_id.clone(), params, exp: now() + PAR_TTL });
    ResponseTemplate::new(201)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({ "request_uri": request_uri, "expires_in": PAR_TTL }))
});
