//! The check catalogue: every check by stable id, with its RFC section and level, and the
//! shared context (discovery, the registered client's token) the checks draw on.

pub mod binding;
pub mod client;
pub mod client_auth;
pub mod discovery;
pub mod endpoints;
pub mod refusal;
pub mod tls;

pub use refusal::{expect_invalid_client, expect_invalid_token, judge_refusal, TlsRefusal};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::discovery::{Metadata, Operation, Resolution};
use crate::http::{Evidence, Exchange};
use crate::target::{Target, Who};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    /// A prerequisite failed, errored or was blocked: the check could not run. Never a pass,
    /// never by itself an error; the reason names the prerequisite.
    Blocked,
    Error,
}

impl Status {
    pub const ALL: [Status; 6] = [Status::Pass, Status::Fail, Status::Warn, Status::Skip, Status::Blocked, Status::Error];

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Blocked => "blocked",
            Status::Error => "error",
        }
    }
}

/// The keyword of the requirement a check judges: a broken MUST fails, a broken SHOULD or MAY
/// (or another RFC's rule noticed on the way) warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Must,
    Should,
}

/// What a check concluded, why, and what it saw.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    /// Structured findings (e.g. the effective-endpoint table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The level this outcome was judged at, where it depends on the target (e.g. `bind.other-auth`
    /// is MUST only for clients registered for bound tokens); else the check's own level.
    #[serde(skip)]
    pub level: Option<Level>,
}

impl Outcome {
    fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome { status, reason: reason.into(), evidence: Vec::new(), details: None, level: None }
    }
    pub fn pass(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, reason)
    }
    pub fn fail(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, reason)
    }
    pub fn warn(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Warn, reason)
    }
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skip, reason)
    }
    pub fn blocked(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Blocked, reason)
    }
    pub fn error(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Error, reason)
    }
    pub fn with(mut self, ev: Evidence) -> Outcome {
        self.evidence.push(ev);
        self
    }
    pub fn with_all(mut self, ev: impl IntoIterator<Item = Evidence>) -> Outcome {
        self.evidence.extend(ev);
        self
    }
    pub fn details(mut self, v: Value) -> Outcome {
        self.details = Some(v);
        self
    }
    pub fn at_level(mut self, level: Level) -> Outcome {
        self.level = Some(level);
        self
    }
}

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
pub type CheckFn = for<'a> fn(&'a Ctx) -> CheckFuture<'a>;

/// A prerequisite: the check that establishes a fact, and what is missing without it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub check: &'static str,
    pub why: &'static str,
}

pub struct Check {
    pub id: &'static str,
    /// AS mode (the harness is the client) or client mode (the harness is the AS).
    pub mode: crate::scenario::Mode,
    pub title: &'static str,
    /// Section of RFC 8705 unless another RFC is named.
    pub rfc: &'static str,
    /// The keyword of the requirement judged (MUST → fail, SHOULD/MAY → warn).
    pub level: Level,
    /// The checks whose facts this one needs; a failed, errored or blocked need blocks it.
    pub needs: &'static [Need],
    pub run: CheckFn,
}

macro_rules! check {
    ($id:literal, $rfc:literal, $level:ident, $title:literal, $f:path $(, $need:literal => $why:expr)*) => {
        check!(As, $id, $rfc, $level, $title, $f $(, $need => $why)*)
    };
    ($mode:ident, $id:literal, $rfc:literal, $level:ident, $title:literal, $f:path $(, $need:literal => $why:expr)*) => {
        Check {
            id: $id,
            mode: crate::scenario::Mode::$mode,
            title: $title,
            rfc: $rfc,
            level: Level::$level,
            needs: &[$(Need { check: $need, why: $why }),*],
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}

const NO_DISCOVERY: &str = "no discovery document to judge";
const NO_ENDPOINTS: &str = "no effective endpoints";
const NO_TOKEN: &str = "no token to test binding with";
const NO_CONTROL: &str = "no positive control: the registered client was not accepted at this URL, so a refusal proves nothing";

/// Every check, in the order a run performs them (a check comes after everything it needs).
pub static CATALOGUE: &[Check] = &[
    check!("disc.fetch", "RFC 8414 §3", Must, "Discovery is 200 JSON and its issuer matches", discovery::fetch),
    check!("disc.aliases.object", "§5", Must, "mtls_endpoint_aliases, when present, is an object of absolute https URLs", discovery::aliases_object, "disc.fetch" => NO_DISCOVERY),
    check!("disc.aliases.keys", "§5", Must, "Alias keys are endpoint names with a top-level counterpart; never authorization_endpoint", discovery::aliases_keys, "disc.fetch" => NO_DISCOVERY),
    check!("disc.bound-flag", "§3.3", Must, "tls_client_certificate_bound_access_tokens is a boolean, true where the profile requires", discovery::bound_flag, "disc.fetch" => NO_DISCOVERY),
    check!("disc.auth-methods", "§2.1.1, §2.2.1", Must, "token_endpoint_auth_methods_supported lists the mTLS methods under test", discovery::auth_methods, "disc.fetch" => NO_DISCOVERY),
    check!("endpoints.resolve", "§5", Must, "Effective endpoint per operation resolves (alias, else top level)", endpoints::resolve, "disc.fetch" => NO_DISCOVERY),
    check!("tls.cert-requested", "§5, §6", Must, "Every effective mTLS endpoint asks for a client certificate in the handshake", tls::cert_requested, "endpoints.resolve" => NO_ENDPOINTS),
    check!("auth.pki.accept", "§2.1", Must, "Registered CA-issued certificate + client_id gets an access token", client_auth::pki_accept, "endpoints.resolve" => "no token endpoint to call"),
    check!("auth.pki.no-cert", "§2", Must, "No client certificate: invalid_client", client_auth::pki_no_cert, "auth.pki.accept" => NO_CONTROL),
    check!("auth.pki.other-subject", "§2.1", Must, "Trusted-CA certificate with another subject: invalid_client", client_auth::pki_other_subject, "auth.pki.accept" => NO_CONTROL),
    check!("auth.pki.rogue-ca", "§2.1", Must, "Registered subject from an untrusted CA: invalid_client", client_auth::pki_rogue_ca, "auth.pki.accept" => NO_CONTROL),
    check!("auth.pki.expired", "§2.1", Must, "Expired certificate with the registered subject: invalid_client", client_auth::pki_expired, "auth.pki.accept" => NO_CONTROL),
    check!("auth.self.accept", "§2.2", Must, "Registered self-signed certificate gets an access token", client_auth::self_accept, "endpoints.resolve" => "no token endpoint to call"),
    check!("auth.self.other", "§2.2", Must, "Another self-signed certificate: invalid_client", client_auth::self_other, "auth.self.accept" => "no positive control: the registered self-signed certificate was not accepted at this URL, so a refusal proves nothing"),
    check!("bind.token-cnf", "§3.1", Must, "JWT access token carries cnf.x5t#S256 of the presented certificate", binding::token_cnf, "auth.pki.accept" => NO_TOKEN),
    check!("introspect.active", "RFC 7662 §2.2", Should, "Introspection of a fresh token, by the client it was issued to, answers 200 active: true", binding::introspect_active, "auth.pki.accept" => "no token to introspect"),
    check!("bind.introspection-cnf", "§3.2", Must, "Introspection of a bound token returns active with the same cnf", binding::introspection_cnf, "auth.pki.accept" => NO_TOKEN, "introspect.active" => "no introspection response to read the binding from"),
    check!("bind.rs.same-cert", "§3", Must, "Bound token with the same certificate is accepted by the resource", binding::rs_same_cert, "auth.pki.accept" => NO_TOKEN),
    check!("bind.rs.other-cert", "§3", Must, "Bound token with another certificate: 401 invalid_token", binding::rs_other_cert, "bind.rs.same-cert" => "no positive control: the resource did not accept the bound token with its own certificate, so a refusal proves nothing"),
    check!("bind.rs.no-cert", "§3", Must, "Bound token without a certificate: 401", binding::rs_no_cert, "bind.rs.same-cert" => "no positive control: the resource did not accept the bound token with its own certificate, so a refusal proves nothing"),
    check!("bind.other-auth", "§3, §3.4", Should, "A secret-authenticated client presenting a certificate gets a bound token", binding::other_auth, "endpoints.resolve" => "no token endpoint to call"),
    check!("bind.refresh-public", "§4", Should, "A public client's refresh token is bound to its certificate", binding::refresh_public, "endpoints.resolve" => "no token endpoint to call"),
    check!("par.alias", "§5", Must, "PAR at the effective endpoint with mTLS client authentication: 201 request_uri", endpoints::par_alias, "auth.pki.accept" => "the registered client's mTLS authentication was not accepted"),
    check!("revoke.alias", "§5", Must, "Revocation at the effective endpoint: 200, then the token is inactive", endpoints::revoke_alias, "auth.pki.accept" => "no token to revoke"),
    check!(Client, "client.discovery", "§5", Must, "The client read the discovery document", client::discovery),
    check!(Client, "client.alias.token", "§5", Must, "Token requests went to the alias when one is published", client::alias_token),
    check!(Client, "client.alias.par", "§5", Must, "PAR requests went to the alias when one is published", client::alias_par),
    check!(Client, "client.alias.introspection", "§5", Must, "Introspection requests went to the alias when one is published", client::alias_introspection),
    check!(Client, "client.alias.revocation", "§5", Must, "Revocation requests went to the alias when one is published", client::alias_revocation),
    check!(Client, "client.alias.userinfo", "§5", Must, "Userinfo requests went to the alias when one is published", client::alias_userinfo),
    check!(Client, "client.alias.fallback", "§5", Must, "Endpoints without an alias were called at the top level", client::alias_fallback),
    check!(Client, "client.authz.top-level", "§5", Must, "Authorization requests used the top-level authorization_endpoint", client::authz_top_level),
    check!(Client, "client.cert.presented", "§2", Must, "Every request to an mTLS endpoint that asked carried the client certificate, the same one", client::cert_presented),
    check!(Client, "client.client-id", "§2", Must, "Token requests carry client_id, and no secret or client_assertion", client::client_id),
    check!(Client, "client.rs.same-cert", "§3", Must, "The resource call presents the certificate the token is bound to", client::rs_same_cert),
];

pub fn find(id: &str) -> Option<&'static Check> {
    CATALOGUE.iter().find(|c| c.id == id)
}

/// Ids of one mode selected by ids or globs (`*` matches any run of characters), in catalogue order.
pub fn select(patterns: &[String], mode: crate::scenario::Mode) -> Vec<&'static str> {
    CATALOGUE.iter().filter(|c| c.mode == mode && patterns.iter().any(|p| glob_match(p, c.id))).map(|c| c.id).collect()
}

/// What a run performs for `selected`: those checks and, transitively, every check they need, in
/// catalogue order. A check is never judged without the checks that establish its facts.
pub fn plan(selected: &[&'static str]) -> Vec<&'static Check> {
    let mut wanted: std::collections::BTreeSet<&str> = selected.iter().copied().collect();
    let mut stack: Vec<&str> = selected.to_vec();
    while let Some(id) = stack.pop() {
        for n in find(id).map(|c| c.needs).unwrap_or_default() {
            if wanted.insert(n.check) {
                stack.push(n.check);
            }
        }
    }
    CATALOGUE.iter().filter(|c| wanted.contains(c.id)).collect()
}

/// Whether a check may run given the outcomes of the checks it needs: `Some` outcome when a
/// need failed, errored or was blocked (→ `blocked`, naming it) or was skipped (→ `skip`).
pub fn gate(check: &Check, done: &std::collections::HashMap<&str, (Status, String)>) -> Option<Outcome> {
    for n in check.needs {
        match done.get(n.check) {
            Some((s @ (Status::Fail | Status::Error | Status::Blocked), _)) => {
                let verb = match s {
                    Status::Fail => "failed",
                    Status::Error => "could not be judged",
                    _ => "was blocked",
                };
                return Some(Outcome::blocked(format!("blocked: {} {verb} — {}", n.check, n.why)));
            }
            Some((Status::Skip, why)) => return Some(Outcome::skip(format!("does not apply: {} was skipped ({why})", n.check))),
            _ => {}
        }
    }
    None
}

fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(after) = text.strip_prefix(head) else { return false };
            (0..=after.len()).filter(|i| after.is_char_boundary(*i)).any(|i| glob_match(rest, &after[i..]))
        }
    }
}

/// Discovery as fetched once per scenario.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub url: String,
    pub metadata: Metadata,
    pub resolution: Resolution,
    pub evidence: Evidence,
}

/// Shared state of one scenario's checks.
pub struct Ctx {
    pub target: Arc<Target>,
    /// Client mode: how the client under test ran.
    pub client_run: Option<crate::client_mode::ClientRun>,
    /// Client mode: the steps the scenario asked the client to perform (`None`: unknown, e.g. a
    /// client run by hand against `serve --judge`).
    pub asked_steps: Option<Vec<crate::reference_client::Step>>,
    discovery: OnceCell<Result<Discovered, (String, Option<Evidence>)>>,
    grant: OnceCell<Exchange>,
    introspection: OnceCell<Exchange>,
    /// Whether each origin's server sends a CertificateRequest, probed once per origin.
    cert_requests: tokio::sync::Mutex<std::collections::HashMap<String, Result<bool, crate::http::Failure>>>,
}

impl Ctx {
    pub fn new(target: Arc<Target>) -> Ctx {
        Ctx {
            target,
            client_run: None,
            asked_steps: None,
            discovery: OnceCell::new(),
            grant: OnceCell::new(),
            introspection: OnceCell::new(),
            cert_requests: tokio::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Discovery (RFC 8414 §3), fetched on first use.
    pub async fn discovery(&self) -> Result<&Discovered, (String, Option<Evidence>)> {
        self.discovery.get_or_init(|| discovery::fetch_metadata(self)).await.as_ref().map_err(Clone::clone)
    }

    /// Whether the server at `url`'s origin asks for a client certificate in a fresh handshake
    /// (RFC 8705 §5, §6), probed once per origin per scenario.
    pub async fn cert_requested(&self, url: &url::Url) -> Result<bool, crate::http::Failure> {
        let origin = url.origin().ascii_serialization();
        let mut probes = self.cert_requests.lock().await;
        if let Some(r) = probes.get(&origin) {
            return r.clone();
        }
        let t = &self.target;
        let r = crate::http::cert_request_probe(url, &t.roots, t.limits, t.insecure).await;
        probes.insert(origin, r.clone());
        r
    }

    /// `Err(blocked)` when the effective token endpoint's server sends no CertificateRequest:
    /// no certificate can be presented there, so nothing about binding can be judged.
    pub async fn token_endpoint_takes_certificates(&self) -> Result<(), Outcome> {
        let url = self.endpoint(Operation::Token).await?;
        let Ok(parsed) = url::Url::parse(&url) else { return Ok(()) };
        match self.cert_requested(&parsed).await {
            Ok(false) => Err(Outcome::blocked(format!(
                "blocked: tls.cert-requested — the token endpoint's server ({}) sends no CertificateRequest, so no certificate can be presented to bind a token to",
                parsed.origin().ascii_serialization()
            ))),
            _ => Ok(()),
        }
    }

    /// Discovery, or the `blocked` outcome a check that needs it ends with (disc.fetch judged why).
    pub async fn discovered(&self) -> Result<&Discovered, Outcome> {
        self.discovery()
            .await
            .map_err(|(why, ev)| Outcome::blocked(format!("blocked: disc.fetch could not read discovery — {why}")).with_all(ev))
    }

    /// The effective endpoint URL for an operation, or a `blocked` outcome saying why not
    /// (endpoints.resolve judged it).
    pub async fn endpoint(&self, op: Operation) -> Result<String, Outcome> {
        let d = self.discovered().await?;
        d.resolution
            .get(op)
            .map(|e| e.url.to_string())
            .ok_or_else(|| Outcome::blocked(format!("blocked: endpoints.resolve found no usable {}", op.key())))
    }

    /// The effective endpoint, or a `skip` outcome when the AS publishes none.
    pub async fn optional_endpoint(&self, op: Operation, for_what: &str) -> Result<String, Outcome> {
        let d = self.discovered().await?;
        d.resolution
            .get(op)
            .map(|e| e.url.to_string())
            .ok_or_else(|| Outcome::skip(format!("the AS publishes no {}; {for_what} does not apply", op.key())))
    }

    /// Client-credentials token request at the effective token endpoint.
    pub async fn token_request(&self, who: Who, client_id: &str) -> Result<Exchange, Outcome> {
        let url = self.endpoint(Operation::Token).await?;
        let http = self.http(who)?;
        let form = self.token_form(&[("grant_type", "client_credentials"), ("client_id", client_id)]);
        Ok(http.post_form(&url, &form).await)
    }

    /// A token-endpoint form: `base`, then the target's extra token parameters (scope, resource).
    pub fn token_form<'a>(&'a self, base: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut form = base.to_vec();
        form.extend(self.target.token_params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        form
    }

    /// The HTTP client holding `who`'s certificate, or a `skip` when the target has none.
    pub fn http(&self, who: Who) -> Result<&crate::http::Http, Outcome> {
        self.target.http(who).ok_or_else(|| {
            Outcome::skip(format!(
                "the target has no `{}` certificate (configure it in the target file, or give the harness the client CA)",
                who.name()
            ))
        })
    }

    /// An access token for the registered client from a fresh token request.
    pub async fn fresh_token(&self) -> Result<(String, Evidence), Outcome> {
        let ex = self.token_request(Who::Cert(crate::pki::Role::Registered), &self.target.clients.tls).await?;
        access_token_of(&ex).map_err(|why| {
            Outcome::blocked(format!("blocked: the registered client got no fresh access token ({why}); see auth.pki.accept"))
                .with(ex.evidence.clone())
        })
    }

    /// The registered tls_client_auth client's token exchange, performed once.
    pub async fn registered_grant(&self) -> Result<&Exchange, Outcome> {
        self.grant
            .get_or_try_init(|| self.token_request(Who::Cert(crate::pki::Role::Registered), &self.target.clients.tls))
            .await
    }

    /// The registered client's access token, or a `blocked` outcome for checks that need one.
    pub async fn registered_token(&self) -> Result<(String, Evidence), Outcome> {
        let ex = self.registered_grant().await?;
        access_token_of(ex).map_err(|why| {
            Outcome::blocked(format!("blocked: auth.pki.accept did not yield an access token ({why})")).with(ex.evidence.clone())
        })
    }

    /// Introspection (RFC 7662) of the registered client's token, by that client over mTLS,
    /// performed once; `Err` when no introspection endpoint is published or there is no token.
    pub async fn registered_introspection(&self) -> Result<(&Exchange, Evidence), Outcome> {
        let url = self.optional_endpoint(Operation::Introspection, "introspection").await?;
        let (token, token_ev) = self.registered_token().await?;
        let ex = self.introspection.get_or_init(|| binding::introspect(self, &url, &token)).await;
        Ok((ex, token_ev))
    }
}

/// The access token of a successful token response, or why there is none.
pub fn access_token_of(ex: &Exchange) -> Result<(String, Evidence), String> {
    match &ex.outcome {
        Ok(r) if r.status == 200 => match r.str_field("access_token") {
            Some(t) if !t.is_empty() => Ok((t.to_string(), ex.evidence.clone())),
            _ => Err("200 without access_token".into()),
        },
        Ok(r) => Err(format!("HTTP {} error={}", r.status, r.str_field("error").unwrap_or("(none)"))),
        Err(f) => Err(f.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_globs_select() {
        let mut ids: Vec<_> = CATALOGUE.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        use crate::scenario::Mode::{As, Client};
        assert_eq!(select(&["auth.pki.*".into()], As).len(), 5);
        assert_eq!(select(&["*".into()], As).len() + select(&["*".into()], Client).len(), CATALOGUE.len());
        assert_eq!(select(&["*".into()], Client).len(), 11);
        assert!(select(&["client.*".into()], As).is_empty(), "client checks never run in AS mode");
        assert_eq!(select(&["bind.rs.*".into(), "disc.fetch".into()], As), vec!["disc.fetch", "bind.rs.same-cert", "bind.rs.other-cert", "bind.rs.no-cert"]);
        assert!(select(&["auth".into()], As).is_empty(), "a bare prefix is not a glob");
    }
}
