//! OAuth error responses (RFC 6749 §5.2), with `WWW-Authenticate` on a 401 `invalid_client`.

use serde_json::json;
use wiremock::ResponseTemplate;

use crate::clients::OAuthError;

pub(super) fn oauth_error(e: &OAuthError) -> ResponseTemplate {
    let mut r = ResponseTemplate::new(e.status)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({ "error": e.error, "error_description": e.description }));
    if e.status == 401 && e.error == "invalid_client" {
        r = r.insert_header("www-authenticate", "Basic realm=\"mock-as\"");
    }
    r
}
