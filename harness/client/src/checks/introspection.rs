//! `introspect.active` and `bind.introspection-cnf`: a bound token's binding as introspection
//! (RFC 7662) shows it to resource servers (RFC 8705 §3.2).

use serde_json::Value;

use super::cnf::cnf_matches;
use super::{Auth, Ctx, Outcome};
use crate::http::Exchange;
use mtls_core::discovery::Operation;

/// RFC 7662 §2.2 (MUST answer 200 with `active`; here a SHOULD, being another RFC's rule): the
/// client a token was issued to introspects it over mTLS and learns it is active.
pub async fn introspect_active(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match ctx.primary_introspection().await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match &ex.outcome {
        Ok(r) if r.status == 200 => match r.field("active") {
            Some(Value::Bool(true)) => Outcome::pass("200, active: true"),
            Some(Value::Bool(false)) => Outcome::warn(
                "the freshly issued access token is reported inactive to the client it was issued to (RFC 7662 §2.2)",
            ),
            Some(other) => Outcome::warn(format!("`active` is {other}, not a JSON boolean (RFC 7662 §2.2 REQUIRED boolean); read as unusable")),
            None if r.json.is_none() => Outcome::error("cannot judge: introspection answered 200 without a JSON body"),
            None => Outcome::warn("the introspection response has no `active` member (RFC 7662 §2.2 REQUIRED)"),
        },
        Ok(r) if r.status == 400 => Outcome::warn(format!(
            "introspection refused the access token: 400 error={}; RFC 7662 §2.2 requires 200 with active: false for a token the AS will not introspect",
            r.str_field("error").unwrap_or("(none)")
        )),
        Ok(r) if matches!(r.status, 401 | 403) => Outcome::warn(format!(
            "introspection refused the token's own client: {} error={} (RFC 7662 §2.1)",
            r.status,
            r.str_field("error").unwrap_or("(none)")
        )),
        Ok(r) => Outcome::error(format!("cannot judge: introspection answered {}", r.status)),
        Err(f) => Outcome::error(format!("cannot judge: introspection request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}

/// RFC 8705 §3.2 (MUST: the `cnf` member carries the `x5t#S256` of the bound certificate): an active
/// introspection response for the bound token has the same `cnf`. When no active response was
/// obtained (see `introspect.active`), there is nothing this section constrains: skip.
pub async fn introspection_cnf(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match ctx.primary_introspection().await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match &ex.outcome {
        Ok(r) if r.status == 200 && r.field("active") == Some(&Value::Bool(true)) => {
            let body = r.json.clone().unwrap_or(Value::Null);
            cnf_matches(&body, ctx.target.primary_thumbprint(), "the certificate the token was issued to")
        }
        Ok(r) => Outcome::skip(format!(
            "no active introspection response for the bound token ({}; see introspect.active), so there is no cnf to judge",
            r.status
        )),
        Err(f) => Outcome::error(format!("cannot judge: introspection request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}

/// The `cnf` of an opaque token, read through introspection (RFC 8705 §3.2) by the client the
/// token was issued to (`auth`, presenting the primary client's certificate): an AS may let a
/// client introspect only its own tokens.
pub(super) async fn introspected_binding_as(ctx: &Ctx, token: &str, expected: &str, whose: &str, auth: &Auth) -> Outcome {
    let url = match ctx.optional_endpoint(Operation::Introspection, "reading an opaque token's binding").await {
        Ok(u) => u,
        Err(_) => return Outcome::skip("the access token is opaque and the AS publishes no introspection endpoint to read its binding"),
    };
    let form = [("token", token), ("token_type_hint", "access_token")];
    let ex = auth.post(ctx.target.primary(), &url, &form).await;
    let ev = ex.evidence.clone();
    match ex.outcome {
        Ok(r) if r.status == 200 && r.field("active") == Some(&Value::Bool(true)) => {
            let body = r.json.unwrap_or(Value::Null);
            cnf_matches(&body, expected, whose).with(ev)
        }
        Ok(r) => Outcome::skip(format!(
            "the opaque token's introspection by its own client answered {} without active: true, so its binding cannot be read (RFC 7662 §2.2)",
            r.status
        ))
        .with(ev),
        Err(f) => Outcome::error(format!("cannot judge: introspection failed: {f}")).with(ev),
    }
}

/// Introspect `token` as the primary client over mTLS (RFC 7662 §2.1); `Err` when the primary
/// client cannot authenticate (its key cannot sign an assertion).
pub(crate) async fn introspect(ctx: &Ctx, url: &str, token: &str) -> Result<Exchange, Outcome> {
    let form = [("token", token), ("token_type_hint", "access_token")];
    let auth = ctx.primary_auth()?;
    Ok(auth.post(ctx.target.primary(), url, &form).await)
}
