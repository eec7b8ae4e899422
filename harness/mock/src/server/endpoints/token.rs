//! The token endpoint (RFC 6749 §3.2): `client_credentials` (§4.4), `authorization_code` (§4.1.3,
//! PKCE per RFC 7636 §4.6) and `refresh_token` (§6) grants, mTLS client authentication (RFC 8705
//! §2), certificate-bound access tokens (§3) and public clients' bound refresh tokens (§4).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::error::oauth_error;
use super::request::{authenticate, Form};
use crate::clients::{Authenticated, OAuthError};
use crate::server::jwt::TOKEN_TTL;
use crate::server::layout::TOKEN_PATH;
use crate::server::state::AsState;
use crate::tokens::{random_id, RefreshRecord};
use mtls_core::pki::x5t_s256;
use mtls_core::scenario::{AuthMethod, Defect};

responder!(Token, TOKEN_PATH, |s, req| {
    match token(s, req) {
        Ok(body) => ResponseTemplate::new(200).insert_header("cache-control", "no-store").set_body_json(body),
        Err(e) => oauth_error(&e),
    }
});

fn token_response(s: &AsState, auth: &Authenticated<'_>, scope: &str, refresh: Option<String>) -> Result<Value, OAuthError> {
    let (token, _) = s.issue_access(auth, scope)?;
    s.secrets.register(&token);
    let mut body = json!({ "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL, "scope": scope });
    if let Some(r) = refresh {
        s.secrets.register(&r);
        body["refresh_token"] = json!(r);
    }
    Ok(body)
}

fn token(s: &AsState, req: &Request) -> Result<Value, OAuthError> {
    let form = Form::parse(&req.body);
    let grant = form.get("grant_type").ok_or_else(|| OAuthError::new(400, "invalid_request", "grant_type is missing"))?;
    let auth = authenticate(s, req, &form)?;
    // A client registered for certificate-bound tokens (RFC 8705 §3.4) that presents no
    // certificate gets no token rather than an unbound one (FAPI 2.0 SP §5.3.2.1: sender-constrained only).
    let wants_binding = s.bound_access_tokens && auth.client.bound_access_tokens && auth.client.method == AuthMethod::PrivateKeyJwt;
    // Planted `edge_drops_cert_on_resumption`: the edge's "verified" flag taken for a certificate.
    let edge_vouches = s.has(Defect::EdgeDropsCertOnResumption)
        && req.headers.get(crate::terminator::H_CLIENT_VERIFY).and_then(|v| v.to_str().ok()) == Some("SUCCESS");
    if wants_binding && auth.cert.is_none() && !s.has(Defect::JwtNoCertUnbound) && !edge_vouches {
        return Err(OAuthError::new(
            400,
            "invalid_request",
            "the client is registered for certificate-bound access tokens and presented no client certificate",
        ));
    }
    let invalid_grant = |why: &str| OAuthError::new(400, "invalid_grant", why.to_string());
    match grant {
        "client_credentials" => {
            if auth.client.method == AuthMethod::None {
                return Err(OAuthError::new(400, "unauthorized_client", "public clients cannot use client_credentials"));
            }
            token_response(s, &auth, form.get("scope").unwrap_or_default(), None)
        }
        "authorization_code" => {
            let code = form.get("code").ok_or_else(|| OAuthError::new(400, "invalid_request", "code is missing"))?;
            let rec = s.store.take_code(code).ok_or_else(|| invalid_grant("unknown, used or expired code"))?;
            if rec.client_id != auth.client.client_id {
                return Err(invalid_grant("code was issued to another client"));
            }
            if form.get("redirect_uri") != Some(rec.redirect_uri.as_str()) {
                return Err(invalid_grant("redirect_uri does not match the authorization request"));
            }
            if let Some(challenge) = &rec.code_challenge {
                use sha2::Digest;
                let verifier = form.get("code_verifier").ok_or_else(|| invalid_grant("code_verifier is missing"))?;
                if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())) != *challenge {
                    return Err(invalid_grant("code_verifier does not match the code_challenge (RFC 7636)"));
                }
            }
            // RFC 8705 §4: a public client's refresh token is bound to its certificate.
            let bound_to = match (&auth.cert, auth.client.method) {
                (Some(c), AuthMethod::None) if !s.has(Defect::RefreshUnbound) => Some(x5t_s256(c)),
                _ => None,
            };
            let refresh = random_id();
            s.store.put_refresh(
                &refresh,
                RefreshRecord { client_id: auth.client.client_id.clone(), scope: rec.scope.clone(), bound_to, active: true },
            );
            token_response(s, &auth, &rec.scope, Some(refresh))
        }
        "refresh_token" => {
            let rt = form.get("refresh_token").ok_or_else(|| OAuthError::new(400, "invalid_request", "refresh_token is missing"))?;
            let rec = s.store.refresh(rt).filter(|r| r.active).ok_or_else(|| invalid_grant("unknown or revoked refresh token"))?;
            if rec.client_id != auth.client.client_id {
                return Err(invalid_grant("refresh token was issued to another client"));
            }
            if let Some(bound) = &rec.bound_to {
                if auth.cert.as_ref().map(|c| x5t_s256(c)).as_ref() != Some(bound) {
                    return Err(invalid_grant("refresh token is bound to another certificate (RFC 8705 §4)"));
                }
            }
            token_response(s, &auth, &rec.scope, None)
        }
        other => Err(OAuthError::new(400, "unsupported_grant_type", format!("grant_type {other} is not supported"))),
    }
}
