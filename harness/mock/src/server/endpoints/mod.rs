//! The AS endpoints as wiremock responders, one file each, and `mount`, which puts them on the
//! wiremock server behind the edge.

use std::sync::Arc;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::layout::{
    AUTHORIZE_PATH, DISCOVERY_PATHS, INTROSPECT_PATH, JWKS_PATH, PAR_PATH, RESOURCE_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
};
use super::state::AsState;

/// A responder for the endpoint at `$path`: a 404 when the request arrived on a listener that
/// does not serve that path, `$body` otherwise.
macro_rules! responder {
    ($name:ident, $path:expr, |$s:ident, $req:ident| $body:block) => {
        pub(super) struct $name(pub(super) ::std::sync::Arc<$crate::server::AsState>);
        impl ::wiremock::Respond for $name {
            fn respond(&self, $req: &::wiremock::Request) -> ::wiremock::ResponseTemplate {
                let $s = &*self.0;
                if let Some(r) = $s.wrong_listener($req, $path) {
                    return r;
                }
                $body
            }
        }
    };
}

mod authorize;
mod bearer;
mod discovery;
mod error;
mod introspect;
mod jwks;
mod par;
mod request;
mod resource;
mod revoke;
mod token;
mod userinfo;

use authorize::Authorize;
use discovery::Discovery;
use introspect::Introspect;
use jwks::Jwks;
use par::Par;
use resource::Resource;
use revoke::Revoke;
use token::Token;
use userinfo::Userinfo;

/// Mount every endpoint on the wiremock server.
pub async fn mount(server: &MockServer, state: Arc<AsState>) {
    for p in DISCOVERY_PATHS {
        Mock::given(method("GET")).and(path(p)).respond_with(Discovery(state.clone())).mount(server).await;
    }
    let s = || state.clone();
    Mock::given(method("GET")).and(path(JWKS_PATH)).respond_with(Jwks(s())).mount(server).await;
    Mock::given(method("GET")).and(path(AUTHORIZE_PATH)).respond_with(Authorize(s())).mount(server).await;
    Mock::given(method("POST")).and(path(TOKEN_PATH)).respond_with(Token(s())).mount(server).await;
    Mock::given(method("POST")).and(path(PAR_PATH)).respond_with(Par(s())).mount(server).await;
    Mock::given(method("POST")).and(path(INTROSPECT_PATH)).respond_with(Introspect(s())).mount(server).await;
    Mock::given(method("POST")).and(path(REVOKE_PATH)).respond_with(Revoke(s())).mount(server).await;
    for m in ["GET", "POST"] {
        Mock::given(method(m)).and(path(USERINFO_PATH)).respond_with(Userinfo(s())).mount(server).await;
    }
    Mock::given(method("GET")).and(path(RESOURCE_PATH)).respond_with(Resource(s())).mount(server).await;
    // Anything else: a JSON 404, so a client sees a clear answer rather than wiremock's empty one.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "not_found"})))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}
