//! The discovery endpoints, `/.well-known/openid-configuration` and
//! `/.well-known/oauth-authorization-server` (RFC 8414 §3, RFC 8705 §5): the document of
//! `discovery_doc`.

use wiremock::ResponseTemplate;

use crate::server::layout::DISCOVERY_PATHS;

responder!(Discovery, DISCOVERY_PATHS[0], |s, _req| { ResponseTemplate::new(200).set_body_json(s.discovery()) });
