//! The protected resource (RFC 6750 §2.1): answers a bearer token that is valid and bound to the
//! presented certificate (RFC 8705 §3).

use serde_json::json;
use wiremock::ResponseTemplate;

use super::bearer::protected;
use crate::server::layout::RESOURCE_PATH;

responder!(Resource, RESOURCE_PATH, |s, req| {
    match protected(s, req) {
        Ok(rec) => ResponseTemplate::new(200).set_body_json(json!({ "resource": "accounts", "client_id": rec.client_id })),
        Err(r) => r,
    }
});
