//! What the mock AS remembers: issued access tokens and their certificate binding (RFC 8705
//! §3.1, reported by introspection §3.2), refresh tokens (bound to the certificate for public
//! clients, §4), authorization codes and pushed authorization requests (RFC 9126).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random URL-safe identifier (128 bits from the OS via std's hasher keys, mixed with a counter).
pub(crate) fn random_id() -> String {
    mtls_core::ids::random_id()
}

#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    /// `x5t#S256` of the certificate the token is bound to, if bound.
    pub(crate) bound_to: Option<String>,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) active: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshRecord {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    /// For public clients: the certificate the refresh token is bound to (RFC 8705 §4).
    pub(crate) bound_to: Option<String>,
    pub(crate) active: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CodeRecord {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) code_challenge: Option<String>,
    pub(crate) exp: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct ParRecord {
    pub(crate) client_id: String,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) exp: u64,
}

#[derive(Default)]
struct Inner {
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    codes: HashMap<String, CodeRecord>,
    par: HashMap<String, ParRecord>,
    /// Client assertion `jti`s seen, until their `exp` (RFC 7523 §3: replay detection).
    assertion_jtis: HashMap<String, u64>,
}

/// The store; every map is pruned of expired entries on insert.
#[derive(Default)]
pub(crate) struct Store(Mutex<Inner>);

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn put_access(&self, jti: &str, r: AccessRecord) {
        let mut s = self.lock();
        let t = now();
        s.access.retain(|_, a| a.exp > t);
        s.access.insert(jti.to_string(), r);
    }

    pub(crate) fn access(&self, jti: &str) -> Option<AccessRecord> {
        self.lock().access.get(jti).cloned()
    }

    pub(crate) fn put_refresh(&self, token: &str, r: RefreshRecord) {
        self.lock().refresh.insert(token.to_string(), r);
    }

    pub(crate) fn refresh(&self, token: &str) -> Option<RefreshRecord> {
        self.lock().refresh.get(token).cloned()
    }

    /// Mark an access token (by jti) or refresh token inactive, if it belongs to `client_id`.
    pub(crate) fn revoke(&self, jti_or_refresh: &str, client_id: &str) -> bool {
        let mut s = self.lock();
        if let Some(a) = s.access.get_mut(jti_or_refresh).filter(|a| a.client_id == client_id) {
            a.active = false;
            return true;
        }
        if let Some(r) = s.refresh.get_mut(jti_or_refresh).filter(|r| r.client_id == client_id) {
            r.active = false;
            return true;
        }
        false
    }

    /// Planted `revocation_ignores_client`: revoke whoever's token it is.
    pub(crate) fn revoke_any(&self, jti_or_refresh: &str) -> bool {
        let mut s = self.lock();
        if let Some(a) = s.access.get_mut(jti_or_refresh) {
            a.active = false;
            return true;
        }
        if let Some(r) = s.refresh.get_mut(jti_or_refresh) {
            r.active = false;
            return true;
        }
        false
    }

    pub(crate) fn put_code(&self, code: &str, r: CodeRecord) {
        let mut s = self.lock();
        let t = now();
        s.codes.retain(|_, c| c.exp > t);
        s.codes.insert(code.to_string(), r);
    }

    /// Record a client assertion's `jti` (per client) until `exp`; false if it was seen before.
    pub(crate) fn first_use_of_assertion(&self, client_id: &str, jti: &str, exp: u64) -> bool {
        let mut s = self.lock();
        let t = now();
        s.assertion_jtis.retain(|_, e| *e > t);
        s.assertion_jtis.insert(format!("{client_id}\u{0}{jti}"), exp).is_none()
    }

    /// Codes are single-use (RFC 6749 §4.1.2).
    pub(crate) fn take_code(&self, code: &str) -> Option<CodeRecord> {
        self.lock().codes.remove(code).filter(|c| c.exp > now())
    }

    pub(crate) fn put_par(&self, request_uri: &str, r: ParRecord) {
        let mut s = self.lock();
        let t = now();
        s.par.retain(|_, p| p.exp > t);
        s.par.insert(request_uri.to_string(), r);
    }

    /// A request_uri is single-use (RFC 9126 §4).
    pub(crate) fn take_par(&self, request_uri: &str) -> Option<ParRecord> {
        self.lock().par.remove(request_uri).filter(|p| p.exp > now())
    }
}
