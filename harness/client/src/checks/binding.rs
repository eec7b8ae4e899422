//! `bind.*`: certificate-bound access tokens (RFC 8705 §3).

use serde_json::Value;

use super::cnf::{cnf_matches, jwt_claims};
use super::introspection::introspected_binding_as;
use super::{access_token_of, expect_invalid_token, Ctx, Level, Outcome, Status, TlsRefusal};
use crate::http::Failure;
use crate::target::Who;
use mtls_core::pki::Role;

/// RFC 8705 §3.1 (MUST): a JWT access token carries `cnf.x5t#S256`, the base64url (unpadded) SHA-256
/// of the DER of the certificate presented at the token request.
pub async fn token_cnf(ctx: &Ctx) -> Outcome {
    let (token, ev) = match ctx.primary_token().await {
        Ok(t) => t,
        Err(o) => return o,
    };
    let expected = ctx.target.primary_thumbprint();
    let Some(claims) = jwt_claims(&token) else {
        return Outcome::skip("the access token is not a JWT; its binding is judged through introspection (bind.introspection-cnf)")
            .with(ev);
    };
    cnf_matches(&claims, expected, "the presented certificate").with(ev)
}

async fn resource_with(ctx: &Ctx, who: Who) -> Result<(crate::http::Exchange, crate::http::Evidence), Outcome> {
    let Some(url) = ctx.target.resource_url.clone() else {
        return Err(Outcome::skip("the target configures no protected resource URL"));
    };
    let http = ctx.http(who)?;
    let (token, token_ev) = ctx.primary_token().await?;
    Ok((http.get(&url, Some(&token)).await, token_ev))
}

/// RFC 8705 §3 (MUST): the bound token presented with the same certificate is accepted.
pub async fn rs_same_cert(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match resource_with(ctx, Who::Cert(ctx.target.clients.primary_role())).await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match ex.outcome {
        Ok(r) if (200..300).contains(&r.status) => Outcome::pass(format!("{} with the certificate the token is bound to", r.status)),
        Ok(r) if r.not_a_judgement().is_some() => Outcome::error(format!(
            "cannot judge: the resource answered {} ({}), which is not a judgement of the token",
            r.status,
            r.not_a_judgement().unwrap_or_default()
        )),
        Ok(r) => Outcome::fail(format!(
            "the resource refused the bound token with its own certificate: {}{}",
            r.status,
            ev.www_authenticate.as_deref().map(|w| format!(" ({w})")).unwrap_or_default()
        )),
        Err(f @ Failure::TlsRejected(_)) => Outcome::fail(format!("the resource refused the certificate the token is bound to: {f}")),
        Err(f) => Outcome::error(format!("cannot judge: resource request failed: {f}")),
    };
    resource_readings(ctx, o).with(token_ev).with(ev)
}

/// The resource's refusal of its own bound token read both ways (live targets): a resource
/// that breaks RFC 8705 §3, or a `resource` URL that is not the protected resource, or a token
/// without the scope or audience it needs — the keys to check named with their lines.
fn resource_readings(ctx: &Ctx, o: Outcome) -> Outcome {
    let Some(file) = &ctx.target.file_keys else { return o };
    let keys = match o.status {
        Status::Fail => vec![file.at("resource"), file.at("scope"), file.at("token_params")],
        Status::Error if o.reason.contains("the resource answered") => vec![file.at("resource")],
        _ => return o,
    };
    let mut o = o;
    if o.status == Status::Fail {
        o.reason = format!(
            "{} — two readings: the resource refuses a token bound to the certificate presented (RFC 8705 §3), or the file's resource URL, scope or resource indicator is not what this resource needs — check {} first",
            o.reason,
            keys.join(", ")
        );
    }
    o.check_file(keys.join(", "))
}

/// RFC 8705 §3 (MUST reject with 401 `invalid_token` when the certificate does not match): the
/// bound token with another certificate the resource trusts at TLS is refused. An untrusted
/// certificate would be refused for its issuer, which says nothing about the binding.
pub async fn rs_other_cert(ctx: &Ctx) -> Outcome {
    if let Some(skip) = super::client_auth::untrusted_other(ctx) {
        return skip;
    }
    match resource_with(ctx, Who::Cert(Role::OtherSubject)).await {
        Ok((ex, token_ev)) => {
            expect_invalid_token(ex, "bound token with another trusted certificate", TlsRefusal::TrustedCertificate).with(token_ev)
        }
        Err(o) => o,
    }
}

/// RFC 8705 §3 (MUST obtain the certificate and reject on mismatch): the bound token presented
/// without any certificate is refused with 401.
pub async fn rs_no_cert(ctx: &Ctx) -> Outcome {
    match resource_with(ctx, Who::NoCertFresh).await {
        Ok((ex, token_ev)) => expect_invalid_token(ex, "bound token without a certificate", TlsRefusal::NoCertificate).with(token_ev),
        Err(o) => o,
    }
}

/// RFC 8705 §3 and §3.4: binding is independent of client authentication — a
/// secret-authenticated client (basic, post or client_secret_jwt) presenting a certificate gets
/// a token bound to it. MUST where
/// the client is registered for bound tokens (§3.4) or the profile requires them; else SHOULD.
pub async fn other_auth(ctx: &Ctx) -> Outcome {
    let level = if ctx.target.secret_client_bound || ctx.target.require_bound_tokens { Level::Must } else { Level::Should };
    other_auth_judged(ctx).await.at_level(level)
}

async fn other_auth_judged(ctx: &Ctx) -> Outcome {
    let auth = match ctx.secret_auth() {
        Ok(a) => a,
        Err(o) => return o,
    };
    if let Err(blocked) = ctx.token_endpoint_takes_certificates().await {
        return blocked;
    }
    let method = ctx.target.clients.secret_method.name();
    // The secret client presents the primary client's certificate: any certificate will do,
    // the token must be bound to it.
    let ex = match ctx.token_request_with(Who::Cert(ctx.target.clients.primary_role()), &auth).await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    let (token, ev) = match access_token_of(&ex) {
        Ok(t) => t,
        Err(why) => {
            return Outcome::error(format!("cannot judge: the {method} client got no access token ({why})")).with(ex.evidence.clone());
        }
    };
    token_bound_to(
        ctx,
        &token,
        jwt_claims(&token).as_ref(),
        ctx.target.primary_thumbprint(),
        "the certificate the secret-authenticated client presented",
        || ctx.secret_auth(),
    )
    .await
    .with(ev)
}

/// Whether `token` is bound to `expected`: from its JWT `claims` when it has them, else through
/// introspection as the client it was issued to — `auth` is asked only then (a client assertion
/// is single-use: a fresh one per request).
pub(super) async fn token_bound_to(
    ctx: &Ctx,
    token: &str,
    claims: Option<&Value>,
    expected: &str,
    whose: &str,
    auth: impl FnOnce() -> Result<super::Auth, Outcome>,
) -> Outcome {
    match claims {
        Some(claims) => cnf_matches(claims, expected, whose),
        None => match auth() {
            Ok(auth) => introspected_binding_as(ctx, token, expected, whose, &auth).await,
            Err(o) => o,
        },
    }
}
