//! The userinfo endpoint (OpenID Connect Core §5.3, a bearer-protected resource per RFC 6750
//! §2), enforcing the certificate binding (RFC 8705 §3).

use serde_json::json;
use wiremock::ResponseTemplate;

use super::bearer::protected;
use crate::server::layout::USERINFO_PATH;

responder!(Userinfo, USERINFO_PATH, |s, req| {
    match protected(s, req) {
        Ok(rec) => ResponseTemplate::new(200).set_body_json(json!({ "sub": rec.client_id })),
        Err(r) => r,
    }
});
