//! The check catalogue: every check by stable id, with its RFC section and level, and the
//! shared context (discovery, the registered client's token) the checks draw on.

pub mod binding;
pub mod client;
pub mod client_auth;
pub mod discovery;
pub mod endpoints;
pub mod tls;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::discovery::{Metadata, Operation, Resolution};
use crate::http::{Evidence, Exchange, Failure, Response};
use crate::target::{Target, Who};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Warn,
    Skip,
    Error,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

/// MUST-level findings fail; SHOULD-level and informational ones warn.
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
}

impl Outcome {
    fn new(status: Status, reason: impl Into<String>) -> Outcome {
        Outcome { status, reason: reason.into(), evidence: Vec::new(), details: None }
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
}

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
pub type CheckFn = for<'a> fn(&'a Ctx) -> CheckFuture<'a>;

pub struct Check {
    pub id: &'static str,
    /// AS mode (the harness is the client) or client mode (the harness is the AS).
    pub mode: crate::scenario::Mode,
    pub title: &'static str,
    /// Section of RFC 8705 unless another RFC is named.
    pub rfc: &'static str,
    pub level: Level,
    pub run: CheckFn,
}

macro_rules! check {
    ($id:literal, $rfc:literal, $level:ident, $title:literal, $f:path) => {
        check!(As, $id, $rfc, $level, $title, $f)
    };
    ($mode:ident, $id:literal, $rfc:literal, $level:ident, $title:literal, $f:path) => {
        Check {
            id: $id,
            mode: crate::scenario::Mode::$mode,
            title: $title,
            rfc: $rfc,
            level: Level::$level,
            run: |ctx| Box::pin($f(ctx)),
        }
    };
}

/// Every check, in the order a run performs them.
pub static CATALOGUE: &[Check] = &[
    check!("disc.fetch", "RFC 8414 §3", Must, "Discovery is 200 JSON and its issuer matches", discovery::fetch),
    check!("disc.aliases.object", "§5", Must, "mtls_endpoint_aliases, when present, is an object of absolute https URLs", discovery::aliases_object),
    check!("disc.aliases.keys", "§5", Must, "Alias keys are endpoint names with a top-level counterpart; never authorization_endpoint", discovery::aliases_keys),
    check!("disc.bound-flag", "§3.3", Must, "tls_client_certificate_bound_access_tokens is a boolean, true where the profile requires", discovery::bound_flag),
    check!("disc.auth-methods", "§2.1.1, §2.2.1", Must, "token_endpoint_auth_methods_supported lists the mTLS methods under test", discovery::auth_methods),
    check!("endpoints.resolve", "§5", Must, "Effective endpoint per operation resolves (alias, else top level)", endpoints::resolve),
    check!("tls.cert-requested", "§5, §6", Must, "Every effective mTLS endpoint asks for a client certificate in the handshake", tls::cert_requested),
    check!("auth.pki.accept", "§2.1", Must, "Registered CA-issued certificate + client_id gets an access token", client_auth::pki_accept),
    check!("auth.pki.no-cert", "§2", Must, "No client certificate: invalid_client", client_auth::pki_no_cert),
    check!("auth.pki.other-subject", "§2.1", Must, "Trusted-CA certificate with another subject: invalid_client", client_auth::pki_other_subject),
    check!("auth.pki.rogue-ca", "§2.1", Must, "Registered subject from an untrusted CA: invalid_client", client_auth::pki_rogue_ca),
    check!("auth.pki.expired", "§2.1", Must, "Expired certificate with the registered subject: invalid_client", client_auth::pki_expired),
    check!("auth.self.accept", "§2.2", Must, "Registered self-signed certificate gets an access token", client_auth::self_accept),
    check!("auth.self.other", "§2.2", Must, "Another self-signed certificate: invalid_client", client_auth::self_other),
    check!("bind.token-cnf", "§3.1", Must, "JWT access token carries cnf.x5t#S256 of the presented certificate", binding::token_cnf),
    check!("bind.introspection-cnf", "§3.2", Must, "Introspection of a bound token returns active with the same cnf", binding::introspection_cnf),
    check!("bind.rs.same-cert", "§3", Must, "Bound token with the same certificate is accepted by the resource", binding::rs_same_cert),
    check!("bind.rs.other-cert", "§3", Must, "Bound token with another certificate: 401 invalid_token", binding::rs_other_cert),
    check!("bind.rs.no-cert", "§3", Must, "Bound token without a certificate: 401", binding::rs_no_cert),
    check!("bind.other-auth", "§3", Must, "A secret-authenticated client presenting a certificate gets a bound token", binding::other_auth),
    check!("bind.refresh-public", "§4", Must, "A public client's refresh token is bound to its certificate", binding::refresh_public),
    check!("par.alias", "§5", Must, "PAR at the effective endpoint with mTLS client authentication: 201 request_uri", endpoints::par_alias),
    check!("revoke.alias", "§5", Must, "Revocation at the effective endpoint: 200, then the token is inactive", endpoints::revoke_alias),
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

/// The registered client's token response, obtained once per scenario.
#[derive(Debug, Clone)]
pub struct Grant {
    pub exchange: Exchange,
}

/// Shared state of one scenario's checks.
pub struct Ctx {
    pub target: Arc<Target>,
    /// Client mode: how the client under test ran.
    pub client_run: Option<crate::client_mode::ClientRun>,
    discovery: OnceCell<Result<Discovered, (String, Option<Evidence>)>>,
    grant: OnceCell<Exchange>,
}

impl Ctx {
    pub fn new(target: Arc<Target>) -> Ctx {
        Ctx { target, client_run: None, discovery: OnceCell::new(), grant: OnceCell::new() }
    }

    /// Discovery (RFC 8414 §3), fetched on first use.
    pub async fn discovery(&self) -> Result<&Discovered, (String, Option<Evidence>)> {
        self.discovery.get_or_init(|| discovery::fetch_metadata(self)).await.as_ref().map_err(Clone::clone)
    }

    /// Discovery, or the `error` outcome a check that needs it ends with.
    pub async fn discovered(&self) -> Result<&Discovered, Outcome> {
        self.discovery()
            .await
            .map_err(|(why, ev)| Outcome::error(format!("cannot judge: discovery failed: {why}")).with_all(ev))
    }

    /// The effective endpoint URL for an operation, or an `error` outcome saying why not.
    pub async fn endpoint(&self, op: Operation) -> Result<String, Outcome> {
        let d = self.discovered().await?;
        d.resolution
            .get(op)
            .map(|e| e.url.to_string())
            .ok_or_else(|| Outcome::error(format!("cannot judge: discovery publishes no usable {}", op.key())))
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
            Outcome::error(format!("cannot judge: no access token for the registered client ({why}); see auth.pki.accept"))
                .with(ex.evidence.clone())
        })
    }

    /// The registered tls_client_auth client's token exchange, performed once.
    pub async fn registered_grant(&self) -> Result<&Exchange, Outcome> {
        self.grant
            .get_or_try_init(|| self.token_request(Who::Cert(crate::pki::Role::Registered), &self.target.clients.tls))
            .await
    }

    /// The registered client's access token, or an `error` outcome for checks that need one.
    pub async fn registered_token(&self) -> Result<(String, Evidence), Outcome> {
        let ex = self.registered_grant().await?;
        access_token_of(ex).map_err(|why| {
            Outcome::error(format!("cannot judge: no access token for the registered client ({why}); see auth.pki.accept"))
                .with(ex.evidence.clone())
        })
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

/// Judge a request that must be refused by the token endpoint (RFC 6749 §5.2 `invalid_client`).
pub fn expect_invalid_client(ex: Exchange, what: &str) -> Outcome {
    let ev = ex.evidence.clone();
    match ex.outcome {
        Err(Failure::TlsRejected(why)) => Outcome::pass(format!("{what}: rejected at TLS handshake ({why})")).with(ev),
        Err(f) => Outcome::error(format!("cannot judge {what}: {f}")).with(ev),
        Ok(r) => match r.unjudgeable() {
            Some(why) => Outcome::error(why).with(ev),
            None => judge_refusal(&r, what, "invalid_client", &[400, 401], "RFC 6749 §5.2").with(ev),
        },
    }
}

pub fn judge_refusal(r: &Response, what: &str, code: &str, statuses: &[u16], rfc: &str) -> Outcome {
    let error = r.str_field("error");
    if (200..300).contains(&r.status) {
        let token = if r.field("access_token").is_some() { " and issued an access token" } else { "" };
        return Outcome::fail(format!("{what}: the server answered {}{token}; it must refuse", r.status));
    }
    if statuses.contains(&r.status) && error == Some(code) {
        return Outcome::pass(format!("{what}: refused with {} error={code}", r.status));
    }
    if (400..500).contains(&r.status) {
        return Outcome::warn(format!(
            "{what}: refused with {} error={}, where {rfc} expects {} error={code}",
            r.status,
            error.unwrap_or("(none)"),
            statuses.iter().map(u16::to_string).collect::<Vec<_>>().join("/"),
        ));
    }
    Outcome::fail(format!("{what}: the server answered {} instead of refusing with error={code}", r.status))
}

/// Judge a resource request that must be refused (RFC 6750 §3.1 401 `invalid_token`).
pub fn expect_invalid_token(ex: Exchange, what: &str) -> Outcome {
    let ev = ex.evidence.clone();
    match ex.outcome {
        Err(Failure::TlsRejected(why)) => Outcome::pass(format!("{what}: rejected at TLS handshake ({why})")).with(ev),
        Err(f) => Outcome::error(format!("cannot judge {what}: {f}")).with(ev),
        Ok(r) => {
            if r.status == 401 {
                let challenge = ev.www_authenticate.clone().unwrap_or_default();
                if challenge.contains("error=\"invalid_token\"") || r.str_field("error") == Some("invalid_token") {
                    Outcome::pass(format!("{what}: 401 with error=\"invalid_token\""))
                } else {
                    Outcome::warn(format!(
                        "{what}: refused with 401 but without error=\"invalid_token\" (RFC 6750 §3.1); WWW-Authenticate: {}",
                        if challenge.is_empty() { "(absent)" } else { &challenge }
                    ))
                }
                .with(ev)
            } else {
                judge_refusal(&r, what, "invalid_token", &[401], "RFC 6750 §3.1").with(ev)
            }
        }
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
