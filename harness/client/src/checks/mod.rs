//! The AS-mode checks (the harness is the client; the catalogue's metadata and graph are in
//! `mtls_core::catalogue`), and the shared context (discovery, the registered client's token,
//! certificate-request probes) they draw on.

pub mod binding;
pub mod client_auth;
pub mod discovery;
pub mod endpoints;
pub mod introspection;
pub mod refresh;
pub mod refusal;
pub mod tls;

pub use refusal::{expect_invalid_client, expect_invalid_token, judge_refusal, TlsRefusal};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::http::{Evidence, Exchange};
use crate::target::{Target, Who};
use mtls_core::discovery::{Metadata, Operation, Resolution};
pub use mtls_core::results::{Level, Outcome, Status};

/// A running AS-mode check.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
/// An AS-mode check's implementation.
pub type CheckFn = for<'a> fn(&'a Ctx) -> CheckFuture<'a>;

/// The implementation of the AS-mode check `id` of `mtls_core::catalogue::CATALOGUE`.
pub fn implementation(id: &str) -> Option<CheckFn> {
    Some(match id {
        "disc.fetch" => |ctx| Box::pin(discovery::fetch(ctx)),
        "disc.aliases.object" => |ctx| Box::pin(discovery::aliases_object(ctx)),
        "disc.aliases.keys" => |ctx| Box::pin(discovery::aliases_keys(ctx)),
        "disc.bound-flag" => |ctx| Box::pin(discovery::bound_flag(ctx)),
        "disc.auth-methods" => |ctx| Box::pin(discovery::auth_methods(ctx)),
        "endpoints.resolve" => |ctx| Box::pin(endpoints::resolve(ctx)),
        "tls.cert-requested" => |ctx| Box::pin(tls::cert_requested(ctx)),
        "auth.pki.accept" => |ctx| Box::pin(client_auth::pki_accept(ctx)),
        "auth.pki.no-cert" => |ctx| Box::pin(client_auth::pki_no_cert(ctx)),
        "auth.pki.other-subject" => |ctx| Box::pin(client_auth::pki_other_subject(ctx)),
        "auth.pki.rogue-ca" => |ctx| Box::pin(client_auth::pki_rogue_ca(ctx)),
        "auth.pki.expired" => |ctx| Box::pin(client_auth::pki_expired(ctx)),
        "auth.self.accept" => |ctx| Box::pin(client_auth::self_accept(ctx)),
        "auth.self.other" => |ctx| Box::pin(client_auth::self_other(ctx)),
        "bind.token-cnf" => |ctx| Box::pin(binding::token_cnf(ctx)),
        "introspect.active" => |ctx| Box::pin(introspection::introspect_active(ctx)),
        "bind.introspection-cnf" => |ctx| Box::pin(introspection::introspection_cnf(ctx)),
        "bind.rs.same-cert" => |ctx| Box::pin(binding::rs_same_cert(ctx)),
        "bind.rs.other-cert" => |ctx| Box::pin(binding::rs_other_cert(ctx)),
        "bind.rs.no-cert" => |ctx| Box::pin(binding::rs_no_cert(ctx)),
        "bind.other-auth" => |ctx| Box::pin(binding::other_auth(ctx)),
        "bind.refresh-public" => |ctx| Box::pin(refresh::refresh_public(ctx)),
        "par.alias" => |ctx| Box::pin(endpoints::par_alias(ctx)),
        "revoke.alias" => |ctx| Box::pin(endpoints::revoke_alias(ctx)),
        _ => return None,
    })
}

/// Discovery as fetched once per scenario.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub(crate) url: String,
    pub(crate) metadata: Metadata,
    /// The effective endpoints it resolves to (RFC 8705 §5).
    pub resolution: Resolution,
    pub(crate) evidence: Evidence,
}

/// Shared state of one scenario's checks.
pub struct Ctx {
    pub(crate) target: Arc<Target>,
    discovery: OnceCell<Result<Discovered, (String, Option<Evidence>)>>,
    grant: OnceCell<Exchange>,
    introspection: OnceCell<Exchange>,
    /// Whether each origin's server sends a CertificateRequest, probed once per origin.
    cert_requests: tokio::sync::Mutex<std::collections::HashMap<String, Result<bool, crate::http::Failure>>>,
}

impl Ctx {
    /// A fresh context for one scenario's checks against `target`.
    pub fn new(target: Arc<Target>) -> Ctx {
        Ctx {
            target,
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
    pub(crate) async fn token_request(&self, who: Who, client_id: &str) -> Result<Exchange, Outcome> {
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
    pub(crate) fn http(&self, who: Who) -> Result<&crate::http::Http, Outcome> {
        self.target.http(who).ok_or_else(|| {
            Outcome::skip(format!(
                "the target has no `{}` certificate (configure it in the target file, or give the harness the client CA)",
                who.name()
            ))
        })
    }

    /// An access token for the registered client from a fresh token request.
    pub async fn fresh_token(&self) -> Result<(String, Evidence), Outcome> {
        let ex = self.token_request(Who::Cert(mtls_core::pki::Role::Registered), &self.target.clients.tls).await?;
        access_token_of(&ex).map_err(|why| {
            Outcome::blocked(format!("blocked: the registered client got no fresh access token ({why}); see auth.pki.accept"))
                .with(ex.evidence.clone())
        })
    }

    /// The registered tls_client_auth client's token exchange, performed once.
    pub async fn registered_grant(&self) -> Result<&Exchange, Outcome> {
        self.grant.get_or_try_init(|| self.token_request(Who::Cert(mtls_core::pki::Role::Registered), &self.target.clients.tls)).await
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
        let ex = self.introspection.get_or_init(|| introspection::introspect(self, &url, &token)).await;
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
    #[test]
    fn every_as_check_of_the_catalogue_is_implemented() {
        for c in mtls_core::catalogue::CATALOGUE.iter().filter(|c| c.mode == mtls_core::scenario::Mode::As) {
            assert!(super::implementation(c.id).is_some(), "{} has no implementation", c.id);
        }
    }
}
