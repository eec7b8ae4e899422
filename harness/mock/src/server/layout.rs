//! Where the mock serves what: the endpoint paths, the metadata names they publish under, and
//! the listener layout (which TLS listener serves which paths, which endpoints are aliased).

use std::collections::HashSet;

use mtls_core::discovery::{Malformed, Shape};

/// Path of the authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/authorize";
/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/token";
pub(crate) const PAR_PATH: &str = "/par";
pub(crate) const INTROSPECT_PATH: &str = "/introspect";
pub(crate) const REVOKE_PATH: &str = "/revoke";
pub(crate) const USERINFO_PATH: &str = "/userinfo";
/// Path of the protected resource (not in discovery; `MockAs::resource_url` gives its URL).
pub const RESOURCE_PATH: &str = "/resource";
pub(crate) const JWKS_PATH: &str = "/jwks";
/// The discovery document's paths: OpenID Connect's and RFC 8414's well-known URIs.
pub const DISCOVERY_PATHS: [&str; 2] = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"];

/// The endpoint metadata names the mock serves, with their paths (authorization is top level only).
pub const ENDPOINTS: [(&str, &str); 6] = [
    ("token_endpoint", TOKEN_PATH),
    ("pushed_authorization_request_endpoint", PAR_PATH),
    ("introspection_endpoint", INTROSPECT_PATH),
    ("revocation_endpoint", REVOKE_PATH),
    ("userinfo_endpoint", USERINFO_PATH),
    ("authorization_endpoint", AUTHORIZE_PATH),
];

/// The path of the endpoint published under metadata name `key`, if the mock serves it.
pub fn endpoint_path(key: &str) -> Option<&'static str> {
    ENDPOINTS.iter().find(|(k, _)| *k == key).map(|(_, p)| *p)
}

/// All paths (for listeners that serve everything).
pub fn all_paths() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = DISCOVERY_PATHS.to_vec();
    v.extend([JWKS_PATH, RESOURCE_PATH]);
    v.extend(ENDPOINTS.iter().map(|(_, p)| *p));
    let set: HashSet<_> = v.iter().copied().collect();
    let mut out: Vec<_> = set.into_iter().collect();
    out.sort();
    out
}

/// One TLS listener of the mock: its name (as the journal records it) and base URL.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// `top`, `alias` or `plain`.
    pub name: &'static str,
    /// Its base URL, `https://127.0.0.1:PORT`.
    pub base: String,
    /// Whether its handshake asks for a client certificate.
    pub request_cert: bool,
    /// Paths this listener serves; anything else is 404 there.
    pub paths: Vec<&'static str>,
}

/// The published layout: listeners, aliases, the shape variant.
#[derive(Debug, Clone)]
pub struct Layout {
    pub(crate) shape: Shape,
    pub(crate) malformed: Option<Malformed>,
    /// Every listener; the first is the top-level one (the issuer).
    pub listeners: Vec<ListenerInfo>,
    /// Keys aliased, with the listener base they point at.
    pub aliases: Vec<(String, String)>,
    /// The base URL the protected resource is served under.
    pub resource_base: String,
}

impl Layout {
    pub(crate) fn top(&self) -> &ListenerInfo {
        &self.listeners[0]
    }
}
