//! Where a conformant client sends what (RFC 8705 §5): per endpoint, the listener and path of its
//! top-level URL and of its alias, where discovery and the resource are. The client-mode checks
//! judge the journal against it — the embedded mock's layout, or the real upstream an observe
//! proxy stands in front of.

use mtls_core::discovery::MTLS_ENDPOINT_KEYS;
use mtls_mock::server::{endpoint_path, Layout, DISCOVERY_PATHS, RESOURCE_PATH};

/// A listener (as the journal names it) and a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// The listener's name in the journal.
    pub listener: String,
    /// The path, without the query.
    pub path: String,
}

impl Loc {
    /// `listener`, `path`.
    pub fn new(listener: impl Into<String>, path: impl Into<String>) -> Loc {
        Loc { listener: listener.into(), path: path.into() }
    }
}

/// One endpoint of the metadata: its top-level location and its alias's, if any.
#[derive(Debug, Clone)]
pub struct Place {
    /// The metadata name (`token_endpoint`).
    pub key: String,
    /// Where its top-level URL is served.
    pub top: Option<Loc>,
    /// Where its alias is served (`mtls_endpoint_aliases`).
    pub alias: Option<Loc>,
}

/// Where a conformant client sends each request.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// The endpoints (the mTLS ones of RFC 8705 §5 and `authorization_endpoint`).
    pub endpoints: Vec<Place>,
    /// The paths discovery is served under.
    pub discovery_paths: Vec<String>,
    /// The protected resource, if known.
    pub resource: Option<Loc>,
}

impl Site {
    /// The embedded mock's site: every endpoint at its path on the `top` listener, aliases at
    /// the same path on the listener their base names.
    pub fn of_mock(layout: &Layout) -> Site {
        let listener_of =
            |base: &str| layout.listeners.iter().find(|l| l.base == base).map(|l| l.name.to_string()).unwrap_or_else(|| "top".into());
        let mut endpoints = Vec::new();
        for key in MTLS_ENDPOINT_KEYS.iter().chain(["authorization_endpoint"].iter()) {
            let Some(path) = endpoint_path(key) else { continue };
            let alias = layout.aliases.iter().find(|(k, _)| k == key).map(|(_, base)| Loc::new(listener_of(base), path));
            endpoints.push(Place { key: key.to_string(), top: Some(Loc::new("top", path)), alias });
        }
        Site {
            endpoints,
            discovery_paths: DISCOVERY_PATHS.iter().map(|p| p.to_string()).collect(),
            resource: Some(Loc::new(listener_of(&layout.resource_base), RESOURCE_PATH)),
        }
    }

    /// The endpoint `key`, if the site has it.
    pub fn place(&self, key: &str) -> Option<&Place> {
        self.endpoints.iter().find(|p| p.key == key)
    }

    /// The paths `key` is served under (top level and alias): where its calls are found.
    pub fn paths(&self, key: &str) -> Vec<&str> {
        let Some(p) = self.place(key) else { return Vec::new() };
        let mut v: Vec<&str> = p.top.iter().chain(p.alias.iter()).map(|l| l.path.as_str()).collect();
        v.dedup();
        v
    }

    /// The authorization endpoint's path.
    pub fn authorize_path(&self) -> Option<&str> {
        self.place("authorization_endpoint").and_then(|p| p.top.as_ref()).map(|l| l.path.as_str())
    }
}
