//! The authorization endpoint (RFC 6749 §4.1.1, §4.1.2), headless: the code comes straight back,
//! with `iss` (RFC 9207); parameters by query or by a pushed `request_uri` (RFC 9126 §4), PKCE
//! S256 (RFC 7636).

use wiremock::{Request, ResponseTemplate};

use super::error::oauth_error;
use super::request::Form;
use crate::clients::OAuthError;
use crate::server::layout::AUTHORIZE_PATH;
use crate::server::state::AsState;
use crate::tokens::{now, random_id, CodeRecord};

/// Lifetime of an authorization code, in seconds.
const CODE_TTL: u64 = 60;

responder!(Authorize, AUTHORIZE_PATH, |s, req| {
    match authorize(s, req) {
        Ok(location) => ResponseTemplate::new(302).insert_header("location", location.as_str()),
        Err(e) => oauth_error(&e),
    }
});

/// Headless authorization: no user interaction; the code goes straight back (RFC 6749 §4.1.2).
fn authorize(s: &AsState, req: &Request) -> Result<String, OAuthError> {
    let query = Form::query(req);
    let client_id = query.get("client_id").ok_or_else(|| OAuthError::new(400, "invalid_request", "client_id is missing"))?.to_string();
    let client_id = client_id.as_str();
    let params = match query.get("request_uri") {
        Some(uri) => {
            let rec =
                s.store.take_par(uri).ok_or_else(|| OAuthError::new(400, "invalid_request_uri", "unknown, used or expired request_uri"))?;
            if rec.client_id != client_id {
                return Err(OAuthError::new(400, "invalid_request_uri", "request_uri was pushed by another client"));
            }
            Form(rec.params)
        }
        None => query,
    };
    let client =
        s.clients.iter().find(|c| c.client_id == client_id).ok_or_else(|| OAuthError::new(400, "invalid_request", "unknown client"))?;
    if params.get("response_type") != Some("code") {
        return Err(OAuthError::new(400, "unsupported_response_type", "only response_type=code"));
    }
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| OAuthError::new(400, "invalid_request", "redirect_uri is missing"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(OAuthError::new(400, "invalid_request", "redirect_uri is not registered"));
    }
    let challenge = params.get("code_challenge").map(str::to_string);
    if challenge.is_some() && params.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::new(400, "invalid_request", "code_challenge_method must be S256"));
    }
    let code = random_id();
    s.secrets.register(&code);
    s.store.put_code(
        &code,
        CodeRecord {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scope: params.get("scope").unwrap_or_default().to_string(),
            code_challenge: challenge,
            exp: now() + CODE_TTL,
        },
    );
    let mut location = url::Url::parse(redirect_uri).map_err(|_| OAuthError::new(400, "invalid_request", "redirect_uri is not a URL"))?;
    location.query_pairs_mut().append_pair("code", &code).append_pair("iss", &s.issuer);
    if let Some(state) = params.get("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Ok(location.to_string())
}
