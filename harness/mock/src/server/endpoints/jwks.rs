//! The `jwks_uri` endpoint (RFC 8414 §2, RFC 7517 §5): the public key that verifies the access
//! tokens.

use wiremock::ResponseTemplate;

use crate::server::layout::JWKS_PATH;

responder!(Jwks, JWKS_PATH, |s, _req| { ResponseTemplate::new(200).set_body_json(s.jwks.clone()) });
