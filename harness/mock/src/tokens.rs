//! What the mock AS remembers: issued access tokens and their certificate binding (RFC 8705
//! §3.1, reported by introspection §3.2), refresh tokens (bound to the certificate for public
//! clients, §4), authorization codes and pushed authorization requests (RFC 9126).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random URL-safe identifier (128 bits from the OS via std's hasher keys, mixed with a counter).
pub fn random_id() -> String {
    mtls_core::ids::random_id()
}

#[derive(Debug, Clone)]
pub struct AccessRecord {
    pub client_id: String,
    pub scope: String,
    /// `x5t#S256` of the certificate the token is bound to, if bound.
    pub bound_to: Option<String>,
    pub iat: u64,
    pub exp: u64,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub client_id: String,
    pub scope: String,
    /// For public clients: the certificate the refresh token is bound to (RFC 8705 §4).
    pub bound_to: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub exp: u64,
}

#[derive(Debug, Clone)]
pub struct ParRecord {
    pub client_id: String,
    pub params: Vec<(String, String)>,
    pub exp: u64,
}

#[derive(Default)]
struct Inner {
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    codes: HashMap<String, CodeRecord>,
    par: HashMap<String, ParRecord>,
}

/// The store; every map is pruned of expired entries on insert.
#[derive(Default)]
pub struct Store(Mutex<Inner>);

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn put_access(&self, jti: &str, r: AccessRecord) {
        let mut s = self.lock();
        let t = now();
        s.access.retain(|_, a| a.exp > t);
        s.access.insert(jti.to_string(), r);
    }

    pub fn access(&self, jti: &str) -> Option<AccessRecord> {
        self.lock().access.get(jti).cloned()
    }

    pub fn put_refresh(&self, token: &str, r: RefreshRecord) {
        self.lock().refresh.insert(token.to_string(), r);
    }

    pub fn refresh(&self, token: &str) -> Option<RefreshRecord> {
        self.lock().refresh.get(token).cloned()
    }

    /// Mark an access token (by jti) or refresh token inactive, if it belongs to `client_id`.
    pub fn revoke(&self, jti_or_refresh: &str, client_id: &str) -> bool {
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

    pub fn put_code(&self, code: &str, r: CodeRecord) {
        let mut s = self.lock();
        let t = now();
        s.codes.retain(|_, c| c.exp > t);
        s.codes.insert(code.to_string(), r);
    }

    /// Codes are single-use (RFC 6749 §4.1.2).
    pub fn take_code(&self, code: &str) -> Option<CodeRecord> {
        self.lock().codes.remove(code).filter(|c| c.exp > now())
    }

    pub fn put_par(&self, request_uri: &str, r: ParRecord) {
        let mut s = self.lock();
        let t = now();
        s.par.retain(|_, p| p.exp > t);
        s.par.insert(request_uri.to_string(), r);
    }

    /// A request_uri is single-use (RFC 9126 §4).
    pub fn take_par(&self, request_uri: &str) -> Option<ParRecord> {
        self.lock().par.remove(request_uri).filter(|p| p.exp > now())
    }
}
