//! The revocation endpoint (RFC 7009 §2), with client authentication (RFC 8705 §2): revokes an
//! access or refresh token of the authenticated client.

use wiremock::ResponseTemplate;

use super::error::oauth_error;
use super::request::{authenticate, Form};
use crate::clients::OAuthError;
use crate::server::layout::REVOKE_PATH;
use mtls_core::scenario::Defect;

responder!(Revoke, REVOKE_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let auth = match authenticate(s, req, &form) {
        Ok(a) => a,
        Err(e) => return oauth_error(&e),
    };
    let Some(token) = form.get("token") else {
        return oauth_error(&OAuthError::new(400, "invalid_request", "token is missing"));
    };
    if !s.has(Defect::RevocationNoop) {
        let key = s.valid_access(token).map(|(jti, _)| jti).unwrap_or_else(|| token.to_string());
        if s.has(Defect::RevocationIgnoresClient) {
            s.store.revoke_any(&key);
        } else {
            s.store.revoke(&key, &auth.client.client_id);
        }
    }
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    ResponseTemplate::new(200)
});
