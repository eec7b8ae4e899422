//! `endpoints.resolve`: the effective endpoint per operation (RFC 8705 §5) and the shape.

use serde_json::json;

use super::{Ctx, Outcome};
use crate::http::Failure;
use mtls_core::discovery::{https_url, Operation, Source};

/// RFC 8705 §5 (MUST): per operation the alias when published, else the top-level endpoint; the token
/// endpoint must resolve to an absolute https URL.
pub async fn resolve(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let r = &d.resolution;
    let table: Vec<_> = r
        .endpoints
        .iter()
        .map(|e| json!({"endpoint": e.key, "effective": e.url.as_str(), "source": e.source, "top_level": e.top_level}))
        .collect();
    let details = json!({"shape": r.shape.name(), "endpoints": table, "ignored_aliases": r.ignored});
    let bad_top: Vec<String> = Operation::ALL
        .iter()
        .filter_map(|op| {
            let v = d.metadata.raw.get(op.key())?;
            https_url(v).err().map(|why| format!("{}: {why}", op.key()))
        })
        .collect();
    if !bad_top.is_empty() {
        return Outcome::fail(format!("top-level endpoint(s) are not absolute https URLs: {}", bad_top.join("; "))).details(details);
    }
    let Some(token) = r.get(Operation::Token) else {
        return Outcome::fail(
            "no token endpoint resolves: neither mtls_endpoint_aliases nor the top level publish a usable token_endpoint (RFC 8414 §2)",
        )
        .details(details);
    };
    let summary = r
        .endpoints
        .iter()
        .map(|e| format!("{} → {}", e.key, if e.source == Source::Alias { "alias" } else { "top level" }))
        .collect::<Vec<_>>()
        .join(", ");
    if !r.ignored.is_empty() {
        let why: Vec<String> = r.ignored.iter().map(|i| format!("{}: {}", i.key, i.reason)).collect();
        return Outcome::warn(format!(
            "shape {}: unusable alias(es) ignored, top level used instead ({}); token endpoint {}",
            r.shape.name(),
            why.join("; "),
            token.url
        ))
        .details(details);
    }
    Outcome::pass(format!("shape {}: {summary}", r.shape.name())).details(details)
}

/// The pushed authorization request `par.alias` sends (RFC 9126 §2.1), after `edit` changed its
/// parameters, authenticated as the primary client with its certificate at the effective PAR
/// endpoint; the parameters go in a signed request object (RFC 9101) where the target or
/// discovery wants one. `Ok((exchange, signed))`.
pub(crate) async fn push(ctx: &Ctx, edit: impl FnOnce(&mut Vec<(&'static str, String)>)) -> Result<(crate::http::Exchange, bool), Outcome> {
    push_as(ctx, edit, PushBody::AsConfigured).await
}

/// The conformant pushed authorization request of the primary client (RFC 9126 §2.1 with RFC
/// 6749 §4.1.1, PKCE S256 per RFC 7636 §4.3).
pub(crate) fn par_parameters(t: &crate::target::Target) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", t.primary_id().to_string()),
        ("redirect_uri", t.clients.redirect_uri.clone()),
        ("scope", "openid".into()),
        ("state", "mtls-harness".into()),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// How a pushed request carries its parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushBody {
    /// A signed request object where the target or discovery wants one, else form parameters.
    AsConfigured,
    /// Form parameters, whatever the target or discovery says.
    Plain,
    /// An unsigned (`alg: none`, RFC 9101 §4 / RFC 7519 §6) request object.
    Unsigned,
}

/// [`push`] with the parameters carried as `body` says.
pub(crate) async fn push_as(
    ctx: &Ctx,
    edit: impl FnOnce(&mut Vec<(&'static str, String)>),
    body: PushBody,
) -> Result<(crate::http::Exchange, bool), Outcome> {
    let url = ctx.optional_endpoint(Operation::PushedAuthorizationRequest, "par.alias").await?;
    let t = &ctx.target;
    let auth = ctx.primary_auth()?;
    let mut params = par_parameters(t);
    edit(&mut params);
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let required = ctx.discovered().await.ok().and_then(|d| d.metadata.raw.get("require_signed_request_object"))
        == Some(&serde_json::Value::Bool(true));
    if body == PushBody::Unsigned {
        let jwt = crate::assertion::unsigned_request_object(t.primary_id(), &t.issuer, &params);
        return Ok((auth.post(t.primary(), &url, &[("request", jwt.as_str())]).await, false));
    }
    let signed = match (&t.clients.jwt, t.clients.primary) {
        (Some(j), mtls_core::catalogue::Primary::PrivateKeyJwt) if body == PushBody::AsConfigured && (t.par_request_object || required) => {
            match crate::assertion::request_object(&j.key, &j.client_id, &t.issuer, &params, t.secrets()) {
                Ok(jws) => Some(jws),
                Err(e) => return Err(Outcome::error(format!("cannot judge: {e}"))),
            }
        }
        _ => None,
    };
    // The parameters themselves, or (RFC 9101 §4, RFC 9126 §3) the request object; the client
    // authentication adds `client_id` either way.
    let form: Vec<(&str, &str)> = match &signed {
        Some(jws) => vec![("request", jws.as_str())],
        None => params.iter().filter(|(k, _)| *k != "client_id").copied().collect(),
    };
    Ok((auth.post(t.primary(), &url, &form).await, signed.is_some()))
}

/// RFC 8705 §5 with RFC 9126 (MUST): a pushed authorization request at the effective PAR endpoint,
/// authenticated as the primary client, answers 201 with `request_uri` and `expires_in`.
pub async fn par_alias(ctx: &Ctx) -> Outcome {
    let t = &ctx.target;
    let (ex, signed) = match push(ctx, |_| {}).await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    if let Ok(r) = &ex.outcome {
        ctx.record_par(r.field("expires_in").and_then(serde_json::Value::as_u64), r.status);
    }
    let o = match ex.outcome {
        Ok(r) if r.unjudgeable().is_some() => Outcome::error(r.unjudgeable().unwrap_or_default()),
        Ok(r) if r.status == 201 || r.status == 200 => {
            let uri = r.str_field("request_uri");
            let expires = r.field("expires_in").and_then(serde_json::Value::as_u64);
            match (uri, expires) {
                (Some(_), Some(e)) if r.status == 201 => Outcome::pass(format!("201 with a request_uri (expires_in {e})")),
                (Some(_), Some(_)) => Outcome::warn("200 with request_uri; RFC 9126 §2.2 specifies 201 Created"),
                _ => Outcome::fail(format!("{} without request_uri and expires_in (RFC 9126 §2.2)", r.status)),
            }
        }
        Ok(r) if r.not_a_judgement().is_some() => {
            Outcome::error(format!("cannot judge: the PAR endpoint answered {} ({})", r.status, r.not_a_judgement().unwrap_or_default()))
        }
        // A refusal of the request's content, not of the client: what this AS wants beyond RFC
        // 9126 (a signed request object, other scopes) says nothing about the alias or mTLS.
        Ok(r) if r.status == 400 && r.str_field("error") != Some("invalid_client") => {
            let o = Outcome::error(format!(
                "cannot judge: the AS refused the pushed request's parameters, not the client: 400 error={}{}; {}",
                r.str_field("error").unwrap_or("(none)"),
                r.str_field("error_description").map(|d| format!(" ({d})")).unwrap_or_default(),
                par_parameters_advice(t, &r, signed),
            ));
            match (&t.file_keys, refused_redirect(&r)) {
                (Some(file), true) => o.check_file(file.at("clients.redirect_uri")),
                _ => o,
            }
        }
        Ok(r) => Outcome::fail(format!(
            "the pushed request, authenticated as the primary client, was refused: {} error={}",
            r.status,
            r.str_field("error").unwrap_or("(none)")
        )),
        Err(f @ Failure::TlsRejected(_)) => Outcome::fail(format!("the registered certificate was refused: {f}")),
        Err(f) => Outcome::error(format!("cannot judge: PAR request failed: {f}")),
    };
    o.with(ev)
}

/// Whether a PAR refusal is about the redirect URI (RFC 6749 §4.1.2.1 `invalid_request`
/// naming it, or OpenID Connect's `invalid_redirect_uri`).
fn refused_redirect(r: &crate::http::Response) -> bool {
    r.str_field("error") == Some("invalid_redirect_uri") || r.str_field("error_description").is_some_and(|d| d.contains("redirect_uri"))
}

/// What to change when the AS refused the pushed request's parameters: the redirect URI the
/// target file registers, or a signed request object (RFC 9101), as the refusal says.
fn par_parameters_advice(t: &crate::target::Target, r: &crate::http::Response, signed: bool) -> String {
    let redirect = match &t.file_keys {
        Some(f) => format!(
            "check {} — `{}` must be a redirect URI registered for the primary client",
            f.at("clients.redirect_uri"),
            t.clients.redirect_uri
        ),
        None => format!("the redirect URI `{}` must be registered for the primary client", t.clients.redirect_uri),
    };
    let object = if signed {
        "the request object was signed by the primary client".to_string()
    } else {
        "if it requires a signed request object (RFC 9101), set `par_request_object: true` with a private_key_jwt primary client"
            .to_string()
    };
    let description = r.str_field("error_description").unwrap_or_default().to_ascii_lowercase();
    if refused_redirect(r) {
        redirect
    } else if description.contains("request object") || description.contains("request_object") || description.contains("signed") {
        object
    } else {
        format!("{redirect}; {object}")
    }
}

/// Who can tell whether a token is active: introspection (RFC 7662) by its own client, and the
/// protected resource with the certificate it is bound to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Observer {
    Introspection,
    Resource,
}

/// Who can observe the target's tokens: introspection, if the AS publishes it, and the resource.
pub(super) async fn observers(ctx: &Ctx) -> Vec<(Observer, String)> {
    let mut out = Vec::new();
    if let Ok(u) = ctx.optional_endpoint(Operation::Introspection, "").await {
        out.push((Observer::Introspection, u));
    }
    if let Some(u) = ctx.target.resource_url.clone() {
        out.push((Observer::Resource, u));
    }
    out
}

/// The observers that see `token` active (the positive control before a revocation).
pub(super) async fn seen_active(
    ctx: &Ctx,
    observers: &[(Observer, String)],
    token: &str,
    evidence: &mut Vec<crate::http::Evidence>,
) -> Vec<(Observer, String)> {
    let mut out = Vec::new();
    for (who, u) in observers {
        if observe(ctx, *who, u, token, evidence).await == Some(true) {
            out.push((*who, u.clone()));
        }
    }
    out
}

/// `Some(true)`: the observer says active; `Some(false)`: inactive/refused; `None`: no answer.
pub(super) async fn observe(ctx: &Ctx, who: Observer, url: &str, token: &str, evidence: &mut Vec<crate::http::Evidence>) -> Option<bool> {
    let ex = match who {
        Observer::Introspection => match super::introspection::introspect(ctx, url, token).await {
            Ok(ex) => ex,
            Err(_) => return None,
        },
        Observer::Resource => ctx.target.primary().get(url, Some(token)).await,
    };
    evidence.push(ex.evidence.clone());
    let r = ex.outcome.ok()?;
    match who {
        Observer::Introspection if r.status == 200 => match r.field("active") {
            Some(serde_json::Value::Bool(b)) => Some(*b),
            _ => None,
        },
        Observer::Resource if (200..300).contains(&r.status) => Some(true),
        Observer::Resource if r.status == 401 => Some(false),
        _ => None,
    }
}

/// RFC 8705 §5 with RFC 7009 §2 (MUST): revocation at the effective endpoint, authenticated with the
/// primary client, answers 200 and the token is no longer accepted. Positive control:
/// the token must be seen active first; "after" is judged by every observer that saw it active.
pub async fn revoke_alias(ctx: &Ctx) -> Outcome {
    let url = match ctx.optional_endpoint(Operation::Revocation, "revoke.alias").await {
        Ok(u) => u,
        Err(o) => return o,
    };
    // A token of its own: revoking the shared one would spoil other checks.
    let (token, token_ev) = match ctx.fresh_token().await {
        Ok(t) => t,
        Err(o) => return o,
    };
    let t = &ctx.target;
    let mut evidence = vec![token_ev];
    let observers = observers(ctx).await;
    let saw_active = seen_active(ctx, &observers, &token, &mut evidence).await;
    if saw_active.is_empty() {
        let why = if observers.is_empty() {
            "the AS publishes no introspection endpoint and the target has no resource".to_string()
        } else {
            "neither introspection (active: true) nor the resource (2xx) confirmed it; see introspect.active and bind.rs.same-cert"
                .to_string()
        };
        return if observers.is_empty() {
            Outcome::skip(format!("no way to see the token active before revocation: {why}")).with_all(evidence)
        } else {
            Outcome::blocked(format!("blocked: no positive control — the fresh token was never seen active before revocation: {why}"))
                .with_all(evidence)
        };
    }
    let auth = match ctx.primary_auth() {
        Ok(a) => a,
        Err(o) => return o.with_all(evidence),
    };
    let form = [("token", token.as_str()), ("token_type_hint", "access_token")];
    let ex = auth.post(t.primary(), &url, &form).await;
    evidence.push(ex.evidence.clone());
    match ex.outcome {
        Ok(r) if r.status == 200 => {}
        Ok(r) if r.status == 400 && r.str_field("error") == Some("unsupported_token_type") => {
            return Outcome::skip(
                "the AS does not revoke this kind of access token (400 unsupported_token_type, which RFC 7009 §2.2.1 permits); revocation could not be exercised",
            )
            .with_all(evidence)
        }
        Ok(r) if r.not_a_judgement().is_some() => {
            return Outcome::error(format!(
                "cannot judge: the revocation endpoint answered {} ({})",
                r.status,
                r.not_a_judgement().unwrap_or_default()
            ))
            .with_all(evidence)
        }
        Ok(r) => {
            return Outcome::fail(format!(
                "revocation with mTLS client authentication was refused: {} error={}",
                r.status,
                r.str_field("error").unwrap_or("(none)")
            ))
            .with_all(evidence)
        }
        Err(f @ Failure::TlsRejected(_)) => {
            return Outcome::fail(format!("the registered certificate was refused: {f}")).with_all(evidence)
        }
        Err(f) => return Outcome::error(format!("cannot judge: revocation request failed: {f}")).with_all(evidence),
    }
    let mut still = Vec::new();
    let mut unknown = Vec::new();
    for (who, u) in &saw_active {
        let name = if *who == Observer::Introspection { "introspection" } else { "the resource" };
        match observe(ctx, *who, u, &token, &mut evidence).await {
            Some(false) => {}
            Some(true) => still.push(name),
            None => unknown.push(name),
        }
    }
    let names: Vec<&str> =
        saw_active.iter().map(|(w, _)| if *w == Observer::Introspection { "introspection" } else { "the resource" }).collect();
    if !still.is_empty() {
        Outcome::fail(format!("revocation answered 200 but {} still accept(s) the token", still.join(" and "))).with_all(evidence)
    } else if !unknown.is_empty() {
        Outcome::error(format!("cannot judge the effect: {} gave no usable answer after revocation", unknown.join(" and ")))
            .with_all(evidence)
    } else {
        Outcome::pass(format!("the token was active before; revocation answered 200; then {} refused it", names.join(" and ")))
            .with_all(evidence)
    }
}
