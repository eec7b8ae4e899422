//! The AS behind the edge: wiremock mounts whose responders implement discovery per shape
//! (RFC 8414, RFC 8705 §5), the authorization endpoint (headless, code flow with PAR), the token
//! endpoint (client_credentials, authorization_code, refresh_token) with mTLS client
//! authentication (§2), certificate-bound JWT access tokens (§3.1) and refresh tokens (§4), PAR
//! (RFC 9126), introspection (RFC 7662, §3.2), revocation (RFC 7009), userinfo and a protected
//! resource that enforce the binding (§3). This module only assembles its parts.

mod discovery_doc;
mod endpoints;
mod jwt;
pub(crate) mod layout;
mod state;

pub use endpoints::mount;
pub(crate) use layout::PAR_PATH;
pub use layout::{all_paths, endpoint_path, Layout, ListenerInfo, AUTHORIZE_PATH, DISCOVERY_PATHS, ENDPOINTS, RESOURCE_PATH, TOKEN_PATH};
pub use state::{AsState, StateError};
