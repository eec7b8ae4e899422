//! The introspection endpoint (RFC 7662 §2), authenticated clients only, with the token's
//! certificate binding as `cnf` (RFC 8705 §3.2).

use serde_json::json;
use wiremock::ResponseTemplate;

use super::error::oauth_error;
use super::request::{authenticate, Form};
use crate::clients::OAuthError;
use crate::server::layout::INTROSPECT_PATH;
use mtls_core::scenario::{AuthMethod, Defect};

responder!(Introspect, INTROSPECT_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let auth = match authenticate(s, req, &form) {
        Ok(a) if a.client.method != AuthMethod::None => a,
        Ok(_) => return oauth_error(&OAuthError::new(401, "invalid_client", "introspection requires client authentication")),
        Err(e) => return oauth_error(&e),
    };
    let _ = auth;
    let token = form.get("token").unwrap_or_default();
    let body = if s.has(Defect::IntrospectionAlwaysInactive) {
        json!({ "active": false })
    } else if let Some((_, rec)) = s.valid_access(token) {
        let mut b = json!({
            "active": true, "client_id": rec.client_id, "scope": rec.scope, "token_type": "Bearer",
            "exp": rec.exp, "iat": rec.iat, "iss": s.issuer, "sub": rec.client_id,
        });
        if let Some(x5t) = rec.bound_to.filter(|_| !s.has(Defect::IntrospectionNoCnf)) {
            b["cnf"] = json!({ "x5t#S256": x5t });
        }
        b
    } else if let Some(rec) = s.store.refresh(token).filter(|r| r.active) {
        json!({ "active": true, "client_id": rec.client_id, "scope": rec.scope, "token_type": "refresh_token" })
    } else {
        json!({ "active": false })
    };
    ResponseTemplate::new(200).insert_header("cache-control", "no-store").set_body_json(body)
});
