//! `client.*`: a client's mTLS behaviour (RFC 8705 §2, §3, §5), judged from a request journal
//! (the mock AS's, or an observe proxy's in front of a real AS) against the [`Site`]: where a
//! conformant client sends each request.

pub mod assertion;

use serde_json::json;

use std::future::Future;
use std::pin::Pin;

use crate::auth::ClientAuth;
use crate::site::{Loc, Site};
use mtls_core::results::{ClientRun, Evidence, Outcome, Status};
use mtls_core::scenario::AuthMethod;
use mtls_core::scenario::Step;
use mtls_mock::{Entry, SeenAssertion, MTLS_ENDPOINT_KEYS};

/// What the client-mode checks judge: the journal and the site after the client ran.
pub struct ClientCtx {
    /// Every request that reached the AS (or the proxy in front of it), in order.
    pub entries: Vec<Entry>,
    /// Where a conformant client sends each request.
    pub site: Site,
    /// `x5t#S256` of the client's registered certificate.
    pub thumbprint: String,
    /// How the client under test ran (`None`: a client run by hand against `serve --judge`).
    pub client_run: Option<ClientRun>,
    /// The steps the scenario asked the client to perform (`None`: unknown).
    pub asked_steps: Option<Vec<Step>>,
    /// How the client is registered to authenticate, and what its assertions are judged against.
    pub auth: ClientAuth,
    /// The JWT client assertion each entry carried, aligned with `entries` (shorter: none).
    pub assertions: Vec<Option<SeenAssertion>>,
    /// When the client ran, unix seconds (start, end); `None`: unknown (a client run by hand).
    pub window: Option<(u64, u64)>,
}

/// A running client-mode check.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
/// A client-mode check's implementation.
pub type CheckFn = for<'a> fn(&'a ClientCtx) -> CheckFuture<'a>;

/// The implementation of the client-mode check `id` of `mtls_core::catalogue::CATALOGUE`.
pub fn implementation(id: &str) -> Option<CheckFn> {
    Some(match id {
        "client.discovery" => |ctx| Box::pin(discovery(ctx)),
        "client.alias.token" => |ctx| Box::pin(alias_token(ctx)),
        "client.alias.par" => |ctx| Box::pin(alias_par(ctx)),
        "client.alias.introspection" => |ctx| Box::pin(alias_introspection(ctx)),
        "client.alias.revocation" => |ctx| Box::pin(alias_revocation(ctx)),
        "client.alias.userinfo" => |ctx| Box::pin(alias_userinfo(ctx)),
        "client.alias.fallback" => |ctx| Box::pin(alias_fallback(ctx)),
        "client.authz.top-level" => |ctx| Box::pin(authz_top_level(ctx)),
        "client.cert.presented" => |ctx| Box::pin(cert_presented(ctx)),
        "client.client-id" => |ctx| Box::pin(client_id(ctx)),
        "client.auth.assertion.signature" => |ctx| Box::pin(assertion::signature(ctx)),
        "client.auth.assertion.alg" => |ctx| Box::pin(assertion::alg_allowed(ctx)),
        "client.auth.assertion.claims" => |ctx| Box::pin(assertion::claims(ctx)),
        "client.auth.assertion.aud" => |ctx| Box::pin(assertion::aud(ctx)),
        "client.auth.assertion.lifetime" => |ctx| Box::pin(assertion::lifetime(ctx)),
        "client.auth.assertion.jti" => |ctx| Box::pin(assertion::jti(ctx)),
        "client.rs.same-cert" => |ctx| Box::pin(rs_same_cert(ctx)),
        _ => return None,
    })
}

/// The step of the client contract that calls an endpoint key.
fn step_for(key: &str) -> Option<Step> {
    Some(match key {
        "token_endpoint" => Step::Token,
        "pushed_authorization_request_endpoint" => Step::Par,
        "introspection_endpoint" => Step::Introspect,
        "revocation_endpoint" => Step::Revoke,
        "userinfo_endpoint" => Step::Userinfo,
        "authorization_endpoint" => Step::Authorize,
        _ => return None,
    })
}

/// Whether the scenario asked the client to perform `step`.
fn asked(ctx: &ClientCtx, step: Step) -> bool {
    ctx.asked_steps.as_ref().is_some_and(|s| s.contains(&step))
}

/// The outcome for a step the scenario asked for whose endpoint the client never called: `fail`
/// when the client claims success (exit 0), `blocked` naming the client's own failure otherwise.
fn never_called(ctx: &ClientCtx, step: Step, what: &str) -> Outcome {
    match ctx.client_run.as_ref().and_then(|r| r.failure()) {
        Some(f) => Outcome::blocked(format!("blocked: step {} was requested but {f} before it called the {what}", step.name())),
        None => Outcome::fail(format!("step {} was requested; the client never called the {what}", step.name())),
    }
}

/// What the checks read: the journal, the site, the client's certificate.
pub(crate) struct View<'a> {
    entries: Vec<Entry>,
    site: &'a Site,
    thumbprint: &'a str,
}

pub(crate) fn view(ctx: &ClientCtx) -> Result<View<'_>, Outcome> {
    let entries = ctx.entries.clone();
    if entries.is_empty() {
        let why = ctx.client_run.as_ref().and_then(|r| r.failure()).map(|f| format!(" ({f})")).unwrap_or_default();
        return Err(Outcome::error(format!("the client made no request to the AS at all{why}")));
    }
    Ok(View { entries, site: &ctx.site, thumbprint: &ctx.thumbprint })
}

pub(crate) fn evidence(e: &Entry) -> Evidence {
    // What the answer said that is no secret: its error code, the certificate its token is bound to.
    let mut facts = serde_json::Map::new();
    if let Some(code) = &e.error {
        facts.insert("error".into(), json!(code));
    }
    if let Some(t) = &e.token_cnf {
        facts.insert("cnf".into(), json!({ "x5t#S256": t }));
    }
    Evidence {
        request: format!("[{}] {} {}", e.listener, e.method, e.path),
        identity: match &e.cert_x5t_s256 {
            Some(t) => format!("cert x5t#S256={t}"),
            None if e.cert_requested => "no cert".into(),
            None => "no cert (not requested)".into(),
        },
        authorization: e.authorization.clone(),
        form: (!e.form.is_empty()).then(|| e.form.clone()),
        status: Some(e.status),
        www_authenticate: None,
        response: (!facts.is_empty()).then_some(serde_json::Value::Object(facts)),
        error: None,
    }
}

impl View<'_> {
    /// The calls to `path`, on whichever listener.
    fn calls(&self, path: &str) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.path == path).collect()
    }

    /// The calls to the endpoint `key`: to any of its paths, on whichever listener.
    fn calls_of(&self, key: &str) -> Vec<&Entry> {
        let paths = self.site.paths(key);
        self.entries.iter().filter(|e| paths.contains(&e.path.as_str())).collect()
    }

    /// Where a conformant client calls `key`: its alias, else its top-level URL.
    fn expected(&self, key: &str) -> Option<&Loc> {
        self.site.place(key).and_then(|p| p.alias.as_ref().or(p.top.as_ref()))
    }

    fn aliased(&self, key: &str) -> bool {
        self.site.place(key).is_some_and(|p| p.alias.is_some())
    }
}

/// Whether `e` was made at `loc`.
fn at(e: &Entry, loc: &Loc) -> bool {
    e.listener == loc.listener && e.path == loc.path
}

/// What the AS answered, for a reason: ` (the AS answered 401 invalid_client)`.
fn answered(e: &Entry) -> String {
    match &e.error {
        Some(code) => format!(" (the AS answered {} {code})", e.status),
        None => format!(" (the AS answered {})", e.status),
    }
}

/// RFC 8705 §5 (MUST): only a client that reads the metadata can know the aliases.
pub async fn discovery(ctx: &ClientCtx) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let fetched: Vec<&Entry> = v.entries.iter().filter(|e| v.site.discovery_paths.contains(&e.path)).collect();
    let o = if fetched.is_empty() {
        Outcome::fail("the client never fetched the discovery document, so it cannot know mtls_endpoint_aliases")
    } else {
        Outcome::pass(format!("the client fetched {} ({} time(s))", fetched[0].path, fetched.len()))
            .with_all(fetched.iter().map(|e| evidence(e)))
    };
    // The client's journey, every request in order (what the report draws): where it went, with
    // which certificate, and what the AS answered. Forms and credentials stay out.
    let journey: Vec<serde_json::Value> = v
        .entries
        .iter()
        .map(|e| {
            json!({
                "request": format!("[{}] {} {}", e.listener, e.method, e.path),
                "listener": e.listener,
                "method": e.method,
                "path": e.path,
                "cert_requested": e.cert_requested,
                "cert": e.cert_x5t_s256,
                "status": e.status,
                "error": e.error,
            })
        })
        .collect();
    let mut details = json!({ "journey": journey });
    if let Some(run) = &ctx.client_run {
        details["client"] = json!(run);
    }
    o.details(details)
}

/// RFC 8705 §5 (MUST): requests for `key` went to its alias, where one is published.
fn alias_for(ctx: &ClientCtx, key: &str) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let Some(want) = v.expected(key).cloned() else { return Outcome::skip(format!("the AS publishes no {key}")) };
    let calls = v.calls_of(key);
    if calls.is_empty() {
        return match step_for(key) {
            Some(step) if asked(ctx, step) && v.aliased(key) => never_called(ctx, step, key),
            _ => Outcome::skip(format!("the client never called the {key}")),
        };
    }
    if !v.aliased(key) {
        return Outcome::skip(format!("no alias is published for {key}; see client.alias.fallback"));
    }
    let wrong: Vec<&&Entry> = calls.iter().filter(|e| !at(e, &want)).collect();
    let ev = calls.iter().map(|e| evidence(e));
    if wrong.is_empty() {
        Outcome::pass(format!("all {} call(s) went to the alias on the {} listener", calls.len(), want.listener)).with_all(ev)
    } else {
        Outcome::fail(format!(
            "{} of {} call(s) to the {key} went to {} on the {} listener, not to the published alias ({} on the {} listener){}",
            wrong.len(),
            calls.len(),
            wrong[0].path,
            wrong[0].listener,
            want.path,
            want.listener,
            answered(wrong[0])
        ))
        .with_all(ev)
    }
}

pub(crate) async fn alias_token(ctx: &ClientCtx) -> Outcome {
    alias_for(ctx, "token_endpoint")
}
pub(crate) async fn alias_par(ctx: &ClientCtx) -> Outcome {
    alias_for(ctx, "pushed_authorization_request_endpoint")
}
pub(crate) async fn alias_introspection(ctx: &ClientCtx) -> Outcome {
    alias_for(ctx, "introspection_endpoint")
}
pub(crate) async fn alias_revocation(ctx: &ClientCtx) -> Outcome {
    alias_for(ctx, "revocation_endpoint")
}
pub(crate) async fn alias_userinfo(ctx: &ClientCtx) -> Outcome {
    alias_for(ctx, "userinfo_endpoint")
}

/// RFC 8705 §5 (MUST): endpoints missing from the aliases are used at the top level.
pub async fn alias_fallback(ctx: &ClientCtx) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut judged = Vec::new();
    let mut wrong = Vec::new();
    let mut missing = Vec::new();
    for key in MTLS_ENDPOINT_KEYS.iter().filter(|k| !v.aliased(k)) {
        let Some(top) = v.site.place(key).and_then(|p| p.top.clone()) else { continue };
        let calls = v.calls_of(key);
        if calls.is_empty() {
            if let Some(step) = step_for(key).filter(|s| asked(ctx, *s)) {
                missing.push(never_called(ctx, step, key));
            }
        }
        for e in calls {
            if !at(e, &top) {
                wrong.push(format!("{key} at {} on the {} listener{}", e.path, e.listener, answered(e)));
            }
            judged.push(evidence(e));
        }
    }
    if let Some(o) = missing.iter().find(|o| o.status == Status::Fail).or(missing.first()) {
        if wrong.is_empty() {
            return o.clone().with_all(judged);
        }
    }
    if judged.is_empty() {
        return Outcome::skip("the client called no endpoint that lacks an alias");
    }
    if wrong.is_empty() {
        Outcome::pass(format!("{} call(s) to endpoints without an alias went to the top level", judged.len())).with_all(judged)
    } else {
        Outcome::fail(format!("endpoints without an alias were not called at the top level: {}", wrong.join(", "))).with_all(judged)
    }
}

/// RFC 8705 §5 (MUST): authorization is browser-facing; an alias for it has no meaning, the top-level
/// `authorization_endpoint` is the one to use.
pub async fn authz_top_level(ctx: &ClientCtx) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let Some(top) = v.site.place("authorization_endpoint").and_then(|p| p.top.clone()) else {
        return Outcome::skip("the AS publishes no authorization_endpoint");
    };
    let calls = v.calls(&top.path);
    if calls.is_empty() {
        if asked(ctx, Step::Authorize) {
            return never_called(ctx, Step::Authorize, "authorization_endpoint");
        }
        return Outcome::skip("the client never called the authorization endpoint");
    }
    let ev = calls.iter().map(|e| evidence(e));
    match calls.iter().find(|e| e.listener != top.listener) {
        None => Outcome::pass(format!("{} authorization request(s) used the top-level authorization_endpoint", calls.len())).with_all(ev),
        Some(e) => Outcome::fail(format!(
            "an authorization request went to the {} listener: the client used an aliased authorization_endpoint",
            e.listener
        ))
        .with_all(ev),
    }
}

/// RFC 8705 §2 (MUST): wherever the server asked for a certificate at an mTLS endpoint, the client
/// presented its certificate — always the same one.
pub async fn cert_presented(ctx: &ClientCtx) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let paths: Vec<&str> = MTLS_ENDPOINT_KEYS.iter().flat_map(|k| v.site.paths(k)).collect();
    let asked: Vec<&Entry> = v.entries.iter().filter(|e| e.cert_requested && paths.contains(&e.path.as_str())).collect();
    if asked.is_empty() {
        return Outcome::skip("the client made no request to an mTLS endpoint whose server asked for a certificate");
    }
    let ev = asked.iter().map(|e| evidence(e));
    let missing: Vec<&&Entry> = asked.iter().filter(|e| e.cert_x5t_s256.is_none()).collect();
    let other: Vec<&&Entry> = asked.iter().filter(|e| e.cert_x5t_s256.as_deref().is_some_and(|t| t != v.thumbprint)).collect();
    if let Some(e) = missing.first() {
        return Outcome::fail(format!(
            "{} request(s) carried no client certificate although the server asked (first: {} {})",
            missing.len(),
            e.method,
            e.path
        ))
        .with_all(ev);
    }
    if let Some(e) = other.first() {
        return Outcome::fail(format!(
            "{} request(s) presented another certificate than the client's (first: {} {}): one client, one certificate",
            other.len(),
            e.method,
            e.path
        ))
        .with_all(ev);
    }
    Outcome::pass(format!("all {} request(s) to mTLS endpoints carried the client's certificate", asked.len())).with_all(ev)
}

/// The endpoints a client authenticates at (RFC 8705 §2; RFC 9126 §2; RFC 7662 §2.1; RFC 7009 §2.1).
const AUTHENTICATED: [&str; 4] =
    ["token_endpoint", "pushed_authorization_request_endpoint", "introspection_endpoint", "revocation_endpoint"];

/// RFC 8705 §2 (MUST) / RFC 7523 §2.2 (MUST): requests authenticate the way the client is
/// registered. An mTLS client (`tls_client_auth`, `self_signed_tls_client_auth`, or unknown)
/// sends `client_id` at the token endpoint and nowhere a secret, an assertion or HTTP Basic; a
/// `private_key_jwt` client sends `client_assertion_type` =
/// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` with a `client_assertion` at the
/// token endpoint and wherever it authenticates, and never a secret or HTTP Basic (the
/// assertion itself is judged by `client.auth.assertion.*`).
pub async fn client_id(ctx: &ClientCtx) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let calls = v.calls_of("token_endpoint");
    if calls.is_empty() {
        return Outcome::skip("the client made no token request");
    }
    let jwt = ctx.auth.is_jwt();
    let authenticated: Vec<&Entry> = AUTHENTICATED.iter().flat_map(|k| v.calls_of(k)).collect();
    let mut problems = Vec::new();
    for e in &authenticated {
        let has = |k: &str| e.form.iter().any(|(n, _)| n == k);
        let at_token = calls.iter().any(|c| std::ptr::eq(*c, *e));
        if at_token && !jwt && !has("client_id") {
            problems.push(format!(
                "a token request ({}) has no client_id",
                e.form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.as_str()).unwrap_or("?")
            ));
        }
        if has("client_secret") {
            problems.push(format!("a request to {} carries client_secret", e.path));
        }
        if e.authorization.as_deref() == Some("Basic") {
            problems.push(format!("a request to {} carries HTTP Basic credentials", e.path));
        }
        if jwt {
            let kind = e.form.iter().find(|(k, _)| k == "client_assertion_type").map(|(_, v)| v.as_str());
            match (kind, has("client_assertion")) {
                (Some(mtls_mock::clients::JWT_BEARER), true) => {}
                (_, false) if at_token => problems.push(format!(
                    "a token request to {} carries no client_assertion (the client is registered for private_key_jwt)",
                    e.path
                )),
                (_, false) => {}
                (Some(other), true) => problems.push(format!(
                    "a request to {} has client_assertion_type `{other}`, not urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    e.path
                )),
                (None, true) => problems.push(format!("a request to {} carries client_assertion without client_assertion_type", e.path)),
            }
        } else if has("client_assertion") {
            let method = ctx.auth.method.unwrap_or(AuthMethod::TlsClientAuth).name();
            problems.push(format!("a request to {} carries client_assertion (the client is registered for {method})", e.path));
        }
    }
    let ev = calls.iter().map(|e| evidence(e));
    if !problems.is_empty() {
        problems.dedup();
        return Outcome::fail(problems.join("; ")).with_all(ev);
    }
    if jwt {
        Outcome::pass(format!("{} token request(s) carry a jwt-bearer client_assertion and no secret", calls.len())).with_all(ev)
    } else {
        Outcome::pass(format!("{} token request(s) carry client_id and no other credential", calls.len())).with_all(ev)
    }
}

/// RFC 8705 §3 (MUST): the resource call presents the certificate the token is bound to.
pub async fn rs_same_cert(ctx: &ClientCtx) -> Outcome {
    let v = match view(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let Some(resource) = v.site.resource.clone() else {
        return Outcome::skip("no protected resource is known to judge");
    };
    let calls = v.calls(&resource.path);
    if calls.is_empty() {
        if asked(ctx, Step::Resource) {
            return never_called(ctx, Step::Resource, "protected resource");
        }
        return Outcome::skip("the client never called the protected resource");
    }
    let ev = calls.iter().map(|e| evidence(e));
    match calls.iter().find(|e| e.cert_x5t_s256.as_deref() != Some(v.thumbprint)) {
        None => Outcome::pass(format!("{} resource call(s) presented the certificate the token is bound to", calls.len())).with_all(ev),
        Some(e) if e.cert_x5t_s256.is_none() => {
            Outcome::fail("a resource call presented no certificate: its bound token is refused (401)").with_all(ev)
        }
        Some(_) => Outcome::fail("a resource call presented another certificate than the one the token is bound to").with_all(ev),
    }
}
