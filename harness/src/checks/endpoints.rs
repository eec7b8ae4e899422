//! `endpoints.resolve`: the effective endpoint per operation (RFC 8705 §5) and the shape.

use serde_json::json;

use super::{Ctx, Outcome};
use crate::discovery::{https_url, Operation, Source};
use crate::http::Failure;

/// RFC 8705 §5: per operation the alias when published, else the top-level endpoint; the token
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
        return Outcome::fail(format!("top-level endpoint(s) are not absolute https URLs: {}", bad_top.join("; ")))
            .details(details);
    }
    let Some(token) = r.get(Operation::Token) else {
        return Outcome::fail("no token endpoint resolves: neither mtls_endpoint_aliases nor the top level publish a usable token_endpoint (RFC 8414 §2)")
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

/// RFC 8705 §5 with RFC 9126: a pushed authorization request at the effective PAR endpoint,
/// authenticated with the registered certificate, answers 201 with `request_uri` and `expires_in`.
pub async fn par_alias(ctx: &Ctx) -> Outcome {
    let url = match ctx.optional_endpoint(Operation::PushedAuthorizationRequest, "par.alias").await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let t = &ctx.target;
    let form = [
        ("client_id", t.clients.tls.as_str()),
        ("response_type", "code"),
        ("redirect_uri", t.clients.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "mtls-harness"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ];
    let ex = t.registered().post_form(&url, &form).await;
    let ev = ex.evidence.clone();
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
        Ok(r) => Outcome::fail(format!(
            "the pushed request with mTLS client authentication was refused: {} error={}",
            r.status,
            r.str_field("error").unwrap_or("(none)")
        )),
        Err(Failure::TlsRejected(why)) => Outcome::fail(format!("the registered certificate was rejected at TLS handshake ({why})")),
        Err(f) => Outcome::error(format!("cannot judge: PAR request failed: {f}")),
    };
    o.with(ev)
}

/// RFC 8705 §5 with RFC 7009: revocation at the effective endpoint, authenticated with the
/// registered certificate, answers 200 and the token is then inactive (introspection) or
/// refused (resource).
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
    let http = t.registered();
    let form = [("token", token.as_str()), ("token_type_hint", "access_token"), ("client_id", t.clients.tls.as_str())];
    let ex = http.post_form(&url, &form).await;
    let mut evidence = vec![token_ev, ex.evidence.clone()];
    match ex.outcome {
        Ok(r) if r.status == 200 => {}
        Ok(r) if r.status == 400 && r.str_field("error") == Some("unsupported_token_type") => {
            return Outcome::skip(
                "the AS does not revoke this kind of access token (400 unsupported_token_type, which RFC 7009 §2.2.1 permits); revocation could not be exercised",
            )
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
        Err(Failure::TlsRejected(why)) => {
            return Outcome::fail(format!("the registered certificate was rejected at TLS handshake ({why})")).with_all(evidence)
        }
        Err(f) => return Outcome::error(format!("cannot judge: revocation request failed: {f}")).with_all(evidence),
    }
    if let Ok(introspection) = ctx.optional_endpoint(Operation::Introspection, "").await {
        let ix = super::binding::introspect(ctx, &introspection, &token).await;
        evidence.push(ix.evidence.clone());
        return match ix.outcome {
            Ok(r) if r.status == 200 && r.field("active") == Some(&serde_json::Value::Bool(false)) => {
                Outcome::pass("200, and introspection then reports the token inactive").with_all(evidence)
            }
            Ok(r) if r.status == 200 => {
                Outcome::fail("revocation answered 200 but introspection still reports the token active").with_all(evidence)
            }
            Ok(r) => Outcome::error(format!("cannot judge the effect: introspection answered {}", r.status)).with_all(evidence),
            Err(f) => Outcome::error(format!("cannot judge the effect: introspection failed: {f}")).with_all(evidence),
        };
    }
    if let Some(resource) = t.resource_url.clone() {
        let rx = http.get(&resource, Some(&token)).await;
        evidence.push(rx.evidence.clone());
        return match rx.outcome {
            Ok(r) if r.status == 401 => Outcome::pass("200, and the resource then refuses the token").with_all(evidence),
            Ok(r) if (200..300).contains(&r.status) => {
                Outcome::fail("revocation answered 200 but the resource still accepts the token").with_all(evidence)
            }
            Ok(r) => Outcome::error(format!("cannot judge the effect: the resource answered {}", r.status)).with_all(evidence),
            Err(f) => Outcome::error(format!("cannot judge the effect: resource request failed: {f}")).with_all(evidence),
        };
    }
    Outcome::warn("revocation answered 200; with neither introspection nor a resource the effect cannot be confirmed").with_all(evidence)
}
