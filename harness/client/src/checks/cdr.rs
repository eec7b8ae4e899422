//! `auth.jwt.aud-endpoint-accepted`, `introspect.access-token-refused`: Australia's Consumer Data
//! Standards (CDS) rules judged by behaviour, not metadata. They run only where a selected
//! profile (au-cdr) or the run's `checks:` asks ([`super::profile_only`]).

use serde_json::Value;

use super::client_auth::accepted;
use super::profile_only::demanded;
use super::{Ctx, Outcome};
use crate::target::Who;
use mtls_core::discovery::Operation;
use mtls_core::pki::Role;

/// The checks of this module (all of them profile-only).
pub const CHECKS: &[&str] = &["auth.jwt.aud-endpoint-accepted", "introspect.access-token-refused"];

/// CDS SP › Client Authentication (MUST accept its Issuer Identifier, Token Endpoint URL, or the
/// URI of the endpoint invoked as `aud`): an assertion with `aud` = the issuer and one with `aud` =
/// the token endpoint URL each get a token.
pub async fn aud_endpoint_accepted(ctx: &Ctx) -> Outcome {
    const ID: &str = "auth.jwt.aud-endpoint-accepted";
    if let Err(o) = demanded(ctx, ID) {
        return o;
    }
    if let Some((url, ev)) = ctx.jwt_aud_refused() {
        return Outcome::fail(format!(
            "an assertion whose aud is the issuer `{}` was refused (the token endpoint URL {url} was accepted instead)",
            ctx.target.issuer
        ))
        .with(ev);
    }
    let url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    if url.trim_end_matches('/') == ctx.target.issuer.trim_end_matches('/') {
        return Outcome::pass("the token endpoint URL is the issuer, whose aud auth.jwt.accept saw accepted");
    }
    let auth = match ctx.jwt_auth(Value::String(url)) {
        Ok(a) => a,
        Err(o) => return o,
    };
    match ctx.token_request_with(Who::Cert(Role::Registered), &auth).await {
        Ok(ex) => {
            let mut o = accepted(&ex, "an assertion whose aud is the token endpoint URL (the issuer was accepted)");
            if o.status == mtls_core::results::Status::Pass {
                o.reason = format!("aud = the issuer and aud = the token endpoint URL both accepted; {}", o.reason);
            }
            o
        }
        Err(o) => o,
    }
}

/// CDS SP › Token Introspection End Point (introspection of access tokens MUST NOT be supported):
/// the client a fresh access token was issued to introspects it and learns nothing — 200 with
/// `active: false` (RFC 7662 §2.2), or a refusal of the request.
pub async fn access_token_introspection_refused(ctx: &Ctx) -> Outcome {
    const ID: &str = "introspect.access-token-refused";
    if let Err(o) = demanded(ctx, ID) {
        return o;
    }
    let (ex, token_ev) = match ctx.primary_introspection().await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let error = |r: &crate::http::Response| r.str_field("error").unwrap_or("(none)").to_string();
    let o = match &ex.outcome {
        Ok(r) if r.status == 200 => match r.field("active") {
            Some(Value::Bool(true)) => Outcome::fail("the access token was introspected: 200, active: true"),
            Some(Value::Bool(false)) => Outcome::pass("200, active: false: the access token is not introspected"),
            _ if r.json.is_none() => Outcome::error("cannot judge: introspection answered 200 without a JSON body"),
            _ => Outcome::error("cannot judge: the introspection response has no boolean `active` (RFC 7662 §2.2 REQUIRED)"),
        },
        Ok(r) if r.status == 400 => Outcome::pass(format!("refused with 400 error={}: the access token is not introspected", error(r))),
        // The client itself refused: nothing tells whether an access token would have been.
        Ok(r) if matches!(r.status, 401 | 403) => Outcome::blocked(format!(
            "introspection refused the token's own client ({} error={}), so whether access tokens are introspected is unknown: check that the target's primary client may introspect (CDS: refresh tokens MUST be introspectable)",
            r.status,
            error(r)
        )),
        Ok(r) => Outcome::error(format!("cannot judge: introspection answered {}", r.status)),
        Err(f) => Outcome::error(format!("cannot judge: introspection request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}
