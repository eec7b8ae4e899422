//! The AS-mode checks (the harness is the client; the catalogue's metadata and graph are in
//! `mtls_core::catalogue`), and the shared context (discovery, the primary client's token,
//! certificate-request probes) they draw on.

pub mod abuse;
pub mod binding;
pub mod cdr;
pub mod client_auth;
pub mod cnf;
pub mod discovery;
pub mod edge;
pub mod endpoints;
pub mod fapi;
pub mod introspection;
pub mod jwt_auth;
mod late_request;
pub mod profile_only;
pub mod readings;
pub mod refresh;
pub mod refusal;
pub mod session;
pub mod tls;
pub mod tls_extensions;
pub mod tls_keys;
pub mod tls_suites;
pub mod tls_version;

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
        "tls.cert-request.required" => |ctx| Box::pin(tls::cert_request_required(ctx)),
        "tls.cert-request.forbidden" => |ctx| Box::pin(tls::cert_request_forbidden(ctx)),
        "tls.version.floor" => |ctx| Box::pin(tls_version::floor(ctx)),
        "tls.version.prefers-13" => |ctx| Box::pin(tls_version::prefers_13(ctx)),
        "tls.ciphers.tls12" => |ctx| Box::pin(tls_suites::tls12(ctx)),
        "tls.ciphers.required" => |ctx| Box::pin(tls_suites::required(ctx)),
        "tls.key-size.server" => |ctx| Box::pin(tls_keys::server(ctx)),
        "tls.key-size.dhe" => |ctx| Box::pin(tls_keys::dhe(ctx)),
        "tls.renegotiation" => |ctx| Box::pin(tls_extensions::renegotiation(ctx)),
        "tls.ems" => |ctx| Box::pin(tls_extensions::ems(ctx)),
        "auth.pki.accept" => |ctx| Box::pin(client_auth::pki_accept(ctx)),
        "auth.pki.no-cert" => |ctx| Box::pin(client_auth::pki_no_cert(ctx)),
        "auth.pki.other-subject" => |ctx| Box::pin(client_auth::pki_other_subject(ctx)),
        "auth.pki.rogue-ca" => |ctx| Box::pin(client_auth::pki_rogue_ca(ctx)),
        "auth.pki.expired" => |ctx| Box::pin(client_auth::pki_expired(ctx)),
        "auth.self.accept" => |ctx| Box::pin(client_auth::self_accept(ctx)),
        "auth.self.other" => |ctx| Box::pin(client_auth::self_other(ctx)),
        "auth.jwt.accept" => |ctx| Box::pin(jwt_auth::accept(ctx)),
        "auth.jwt.bad-signature" => |ctx| Box::pin(jwt_auth::bad_signature(ctx)),
        "auth.jwt.aud-wrong" => |ctx| Box::pin(jwt_auth::aud_wrong(ctx)),
        "auth.jwt.aud-endpoint" => |ctx| Box::pin(jwt_auth::aud_endpoint(ctx)),
        "auth.jwt.aud-array" => |ctx| Box::pin(jwt_auth::aud_array(ctx)),
        "auth.jwt.replay" => |ctx| Box::pin(jwt_auth::replay(ctx)),
        "auth.jwt.no-cert" => |ctx| Box::pin(jwt_auth::no_cert(ctx)),
        "bind.token-cnf" => |ctx| Box::pin(binding::token_cnf(ctx)),
        "introspect.active" => |ctx| Box::pin(introspection::introspect_active(ctx)),
        "bind.introspection-cnf" => |ctx| Box::pin(introspection::introspection_cnf(ctx)),
        "bind.rs.same-cert" => |ctx| Box::pin(binding::rs_same_cert(ctx)),
        "bind.rs.other-cert" => |ctx| Box::pin(binding::rs_other_cert(ctx)),
        "bind.rs.no-cert" => |ctx| Box::pin(binding::rs_no_cert(ctx)),
        "bind.other-auth" => |ctx| Box::pin(binding::other_auth(ctx)),
        "bind.jwt-client" => |ctx| Box::pin(jwt_auth::bound(ctx)),
        "bind.refresh-public" => |ctx| Box::pin(refresh::refresh_public(ctx)),
        "par.alias" => |ctx| Box::pin(endpoints::par_alias(ctx)),
        "par.fapi.response-type" => |ctx| Box::pin(fapi::par_response_type(ctx)),
        "par.fapi.pkce-missing" => |ctx| Box::pin(fapi::par_pkce_missing(ctx)),
        "par.fapi.pkce-plain" => |ctx| Box::pin(fapi::par_pkce_plain(ctx)),
        "par.fapi.redirect-missing" => |ctx| Box::pin(fapi::par_redirect_missing(ctx)),
        "par.fapi.no-client-auth" => |ctx| Box::pin(fapi::par_no_client_auth(ctx)),
        "par.fapi.signed-request-object" => |ctx| Box::pin(fapi::par_signed_request_object(ctx)),
        "auth.jwt.alg-rs256" => |ctx| Box::pin(fapi::jwt_alg_rs256(ctx)),
        "auth.jwt.iat-future" => |ctx| Box::pin(fapi::jwt_iat_future(ctx)),
        "auth.jwt.aud-endpoint-accepted" => |ctx| Box::pin(cdr::aud_endpoint_accepted(ctx)),
        "introspect.access-token-refused" => |ctx| Box::pin(cdr::access_token_introspection_refused(ctx)),
        "revoke.alias" => |ctx| Box::pin(endpoints::revoke_alias(ctx)),
        "edge.client-auth-header-spoof" => |ctx| Box::pin(edge::client_auth_header_spoof(ctx)),
        "edge.rs-header-spoof" => |ctx| Box::pin(edge::rs_header_spoof(ctx)),
        "edge.binding-follows-tls" => |ctx| Box::pin(edge::binding_follows_tls(ctx)),
        "abuse.revoke-other-client" => |ctx| Box::pin(abuse::revoke_other_client(ctx)),
        "session.resume-other-identity" => |ctx| Box::pin(session::resume_other_identity(ctx)),
        "session.resumed-token-bound" => |ctx| Box::pin(session::resumed_token_bound(ctx)),
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
    /// Names the document's top-level object carries more than once (RFC 8259 §4).
    pub(crate) duplicate_keys: Vec<String>,
}

/// Shared state of one scenario's checks.
pub struct Ctx {
    pub(crate) target: Arc<Target>,
    discovery: OnceCell<Result<Discovered, (String, Option<Evidence>)>>,
    grant: OnceCell<Exchange>,
    /// The private_key_jwt client's exchange when it is not the primary client.
    pub(crate) jwt_grant: OnceCell<Exchange>,
    introspection: OnceCell<Exchange>,
    /// What `par.alias` saw: the response's `expires_in` and status (for profile rules).
    par_seen: std::sync::Mutex<Option<(Option<u64>, u16)>>,
    /// Whether each origin's server sends a CertificateRequest, probed once per origin.
    cert_requests: tokio::sync::Mutex<std::collections::HashMap<String, Result<bool, crate::http::Failure>>>,
    /// What each origin's TLS server accepts (the `tls.*` checks), asked once per origin.
    pub(crate) survey: crate::tls_survey::Survey,
    /// The selected profiles' TLS rules (BCP 195 where none sets one).
    pub(crate) tls_rules: mtls_core::tls_policy::TlsRules,
    /// Whether a refused `aud` = issuer may be retried with `aud` = the token endpoint URL (RFC
    /// 7523 §3 allows either; a profile that fails `auth.jwt.aud-endpoint` demands the issuer).
    jwt_aud_fallback: bool,
    /// Set when the AS accepted the jwt client's assertion only with `aud` = the token endpoint
    /// URL: that URL, and the evidence of the refused `aud` = issuer attempt.
    jwt_aud_endpoint: std::sync::Mutex<Option<(String, Evidence)>>,
    /// Who asks for each profile-only check ([`fapi`]): check id → the selected profiles that
    /// name it in `required:` or `levels:` (not `off`), or the run's own `checks:` naming it.
    pub(crate) demanded: std::collections::BTreeMap<&'static str, Vec<String>>,
}

impl Ctx {
    /// A fresh context for one scenario's checks against `target`.
    pub fn new(target: Arc<Target>) -> Ctx {
        // The renegotiation probe presents the registered certificate where one is required.
        let client =
            [mtls_core::pki::Role::Registered, mtls_core::pki::Role::SelfSigned].iter().find_map(|r| target.identity(*r)).and_then(|id| {
                let key = mtls_core::tls::provider().key_provider.load_private_key(id.key_der()).ok()?;
                let chain = std::iter::once(&id.cert_der).chain(&id.intermediates).map(|c| c.to_vec()).collect();
                Some(mtls_tlsprobe::ClientAuth { chain, key })
            });
        let survey = crate::tls_survey::Survey::new(target.limits, target.no_cert().throttle().clone(), client);
        Ctx {
            target,
            discovery: OnceCell::new(),
            grant: OnceCell::new(),
            jwt_grant: OnceCell::new(),
            introspection: OnceCell::new(),
            par_seen: std::sync::Mutex::new(None),
            cert_requests: tokio::sync::Mutex::new(std::collections::HashMap::new()),
            survey,
            tls_rules: mtls_core::profile::tls_rules(&[]),
            jwt_aud_fallback: true,
            jwt_aud_endpoint: std::sync::Mutex::new(None),
            demanded: std::collections::BTreeMap::new(),
        }
    }

    /// This context judging the TLS rules of `profiles` (the `tls.*` checks) and their `aud`
    /// rule for client assertions.
    pub fn with_profiles(mut self, profiles: &[mtls_core::profile::Profile]) -> Ctx {
        use mtls_core::profile::RuleLevel;
        self.tls_rules = mtls_core::profile::tls_rules(profiles);
        self.jwt_aud_fallback = !profiles.iter().any(|p| p.level_of("auth.jwt.aud-endpoint").is_some_and(|l| l.level == RuleLevel::Fail));
        for (id, who) in profile_only::demand(profiles, &[]) {
            self.demanded.entry(id).or_default().extend(who);
        }
        self
    }

    /// This context running the profile-only checks ([`profile_only::PROFILE_ONLY`]) that `patterns` (a
    /// scenario's `checks:`, `--checks`) name by their id, not by a glob.
    pub fn with_named_checks(mut self, patterns: &[String]) -> Ctx {
        for (id, who) in profile_only::demand(&[], patterns) {
            self.demanded.entry(id).or_default().extend(who);
        }
        self
    }

    /// The `aud` the AS accepts from the jwt client: the issuer, or the token endpoint URL when
    /// only that was accepted ([`Ctx::jwt_token_request`]).
    pub(crate) fn accepted_jwt_aud(&self) -> serde_json::Value {
        let endpoint = self.jwt_aud_endpoint.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(u, _)| u.clone());
        serde_json::Value::String(endpoint.unwrap_or_else(|| self.target.issuer.clone()))
    }

    /// The refused `aud` = issuer attempt, when the token endpoint URL was accepted instead.
    pub(crate) fn jwt_aud_refused(&self) -> Option<(String, Evidence)> {
        self.jwt_aud_endpoint.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A token request of the jwt client with `who`'s certificate: `aud` = the issuer; when the
    /// AS refuses the client for it and no selected profile demands the issuer alone, once more
    /// with `aud` = the token endpoint URL (RFC 7523 §3: that URL MAY identify the AS; OpenID
    /// Connect Core §9 recommends it, FAPI 1 ecosystems use it).
    pub(crate) async fn jwt_token_request(&self, who: Who) -> Result<Exchange, Outcome> {
        let issuer = self.target.issuer.clone();
        let first = self.token_request_with(who, &self.jwt_auth(serde_json::Value::String(issuer.clone()))?).await?;
        let refused = matches!(&first.outcome, Ok(r) if matches!(r.status, 400 | 401) && r.str_field("error") == Some("invalid_client"));
        if !refused || !self.jwt_aud_fallback {
            return Ok(first);
        }
        let url = self.endpoint(Operation::Token).await?;
        if url.trim_end_matches('/') == issuer.trim_end_matches('/') {
            return Ok(first);
        }
        let second = self.token_request_with(who, &self.jwt_auth(serde_json::Value::String(url.clone()))?).await?;
        if access_token_of(&second).is_err() {
            return Ok(first);
        }
        *self.jwt_aud_endpoint.lock().unwrap_or_else(|p| p.into_inner()) = Some((url, first.evidence.clone()));
        Ok(second)
    }

    /// Record what the PAR endpoint answered (RFC 9126 §2.2 `expires_in`).
    pub(crate) fn record_par(&self, expires_in: Option<u64>, status: u16) {
        *self.par_seen.lock().unwrap_or_else(|p| p.into_inner()) = Some((expires_in, status));
    }

    /// What `par.alias` saw, if it ran: `expires_in` and the status.
    pub fn par_seen(&self) -> Option<(Option<u64>, u16)> {
        *self.par_seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Discovery (RFC 8414 §3), fetched on first use.
    pub async fn discovery(&self) -> Result<&Discovered, (String, Option<Evidence>)> {
        let fetch = || {
            // While discovery is in flight, the clients that will need connections open theirs.
            self.target.warm_up();
            discovery::fetch_metadata(self)
        };
        self.discovery.get_or_init(fetch).await.as_ref().map_err(Clone::clone)
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
        let _slot = t.no_cert().throttle().slot(url.as_str()).await;
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
                "blocked: tls.cert-request.required — the token endpoint's server ({}) sends no CertificateRequest, so no certificate can be presented to bind a token to",
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

    /// Client-credentials token request at the effective token endpoint, as `client_id`
    /// authenticated by the certificate alone (RFC 8705 §2).
    pub(crate) async fn token_request(&self, who: Who, client_id: &str) -> Result<Exchange, Outcome> {
        let url = self.endpoint(Operation::Token).await?;
        let http = self.http(who)?;
        let form = self.token_form(&[("grant_type", "client_credentials"), ("client_id", client_id)]);
        Ok(http.post_form(&url, &form).await)
    }

    /// Client-credentials token request authenticated with `auth` (an assertion, a secret).
    pub(crate) async fn token_request_with(&self, who: Who, auth: &Auth) -> Result<Exchange, Outcome> {
        let url = self.endpoint(Operation::Token).await?;
        let http = self.http(who)?;
        let form = self.token_form(&[("grant_type", "client_credentials")]);
        Ok(auth.post(http, &url, &form).await)
    }

    /// A fresh `private_key_jwt` assertion for the target's jwt client, with `aud`.
    pub(crate) fn jwt_auth(&self, aud: serde_json::Value) -> Result<Auth, Outcome> {
        let Some(j) = &self.target.clients.jwt else {
            return Err(Outcome::skip("the target registers no private_key_jwt client"));
        };
        crate::assertion::signed(&j.key, &j.client_id, aud, self.target.secrets())
            .map(|a| Auth { form: crate::assertion::form(&j.client_id, a), basic: None })
            .map_err(|e| Outcome::error(format!("cannot judge: {e}")))
    }

    /// How the primary client authenticates: `client_id` with its certificate (RFC 8705 §2), or
    /// a fresh assertion whose `aud` is the issuer (RFC 7523 §3).
    pub(crate) fn primary_auth(&self) -> Result<Auth, Outcome> {
        match self.target.clients.primary {
            mtls_core::catalogue::Primary::PrivateKeyJwt => self.jwt_auth(serde_json::Value::String(self.target.issuer.clone())),
            _ => Ok(Auth { form: vec![("client_id".into(), self.target.primary_id().to_string())], basic: None }),
        }
    }

    /// How the secret-authenticated client authenticates (RFC 6749 §2.3.1; `client_secret_jwt`
    /// per RFC 7523 §2.2 with `aud` = the issuer); `client_id` is in the form in every case
    /// (RFC 6749 §3.2.1 lets a client identify itself so, and some ASes need it).
    pub(crate) fn secret_auth(&self) -> Result<Auth, Outcome> {
        let Some((id, secret)) = self.target.clients.secret.clone() else {
            return Err(Outcome::skip("the target registers no secret-authenticated client"));
        };
        let mut form = vec![("client_id".to_string(), id.clone())];
        Ok(match self.target.clients.secret_method {
            crate::target::SecretMethod::ClientSecretBasic => Auth { form, basic: Some((id, secret)) },
            crate::target::SecretMethod::ClientSecretPost => {
                form.push(("client_secret".into(), secret.expose().to_string()));
                Auth { form, basic: None }
            }
            crate::target::SecretMethod::ClientSecretJwt => {
                let a = crate::assertion::maced(
                    secret.expose(),
                    &id,
                    serde_json::Value::String(self.target.issuer.clone()),
                    self.target.secrets(),
                )
                .map_err(|e| Outcome::error(format!("cannot judge: {e}")))?;
                Auth { form: crate::assertion::form(&id, a), basic: None }
            }
        })
    }

    /// A client-credentials token request as the primary client, with its certificate.
    pub(crate) async fn primary_token_request(&self) -> Result<Exchange, Outcome> {
        if self.target.clients.primary == mtls_core::catalogue::Primary::PrivateKeyJwt {
            return self.jwt_token_request(Who::Cert(self.target.clients.primary_role())).await;
        }
        let auth = self.primary_auth()?;
        self.token_request_with(Who::Cert(self.target.clients.primary_role()), &auth).await
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

    /// An access token for the primary client from a fresh token request.
    pub async fn fresh_token(&self) -> Result<(String, Evidence), Outcome> {
        let ex = self.primary_token_request().await?;
        access_token_of(&ex).map_err(|why| {
            Outcome::blocked(format!(
                "blocked: the primary client got no fresh access token ({why}); see {}",
                self.target.clients.primary.accept_check()
            ))
            .with(ex.evidence.clone())
        })
    }

    /// The primary client's token exchange, performed once.
    pub async fn primary_grant(&self) -> Result<&Exchange, Outcome> {
        self.grant.get_or_try_init(|| self.primary_token_request()).await
    }

    /// The primary client's access token, or a `blocked` outcome for checks that need one.
    pub async fn primary_token(&self) -> Result<(String, Evidence), Outcome> {
        let ex = self.primary_grant().await?;
        access_token_of(ex).map_err(|why| {
            Outcome::blocked(format!("blocked: {} did not yield an access token ({why})", self.target.clients.primary.accept_check()))
                .with(ex.evidence.clone())
        })
    }

    /// Introspection (RFC 7662) of the primary client's token, by that client over mTLS,
    /// performed once; `Err` when no introspection endpoint is published or there is no token.
    pub async fn primary_introspection(&self) -> Result<(&Exchange, Evidence), Outcome> {
        let url = self.optional_endpoint(Operation::Introspection, "introspection").await?;
        let (token, token_ev) = self.primary_token().await?;
        let ex = self.introspection.get_or_try_init(|| introspection::introspect(self, &url, &token)).await?;
        Ok((ex, token_ev))
    }
}

/// How a request authenticates its client: form parameters, and HTTP Basic credentials.
#[derive(Clone)]
pub struct Auth {
    /// Parameters added to the form (`client_id`, an assertion, `client_secret`).
    pub form: Vec<(String, String)>,
    /// HTTP Basic credentials (`client_secret_basic`).
    pub basic: Option<(String, crate::target::Secret)>,
}

impl Auth {
    /// POST `base` plus this authentication to `url` with `http`.
    pub async fn post(&self, http: &crate::http::Http, url: &str, base: &[(&str, &str)]) -> Exchange {
        self.post_with_headers(http, url, base, &[]).await
    }

    /// [`Auth::post`] with extra header fields.
    pub async fn post_with_headers(
        &self,
        http: &crate::http::Http,
        url: &str,
        base: &[(&str, &str)],
        headers: &[(String, String)],
    ) -> Exchange {
        let mut form = base.to_vec();
        form.extend(self.form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        match &self.basic {
            Some((id, secret)) => http.post_form_basic_with_headers(url, &form, id, secret.expose(), headers).await,
            None => http.post_form_with_headers(url, &form, headers).await,
        }
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
