//! `par.fapi.*`, `auth.jwt.alg-rs256`, `auth.jwt.iat-future`: FAPI 2.0 Security Profile rules
//! judged by behaviour, not metadata — the pushed request `par.alias` had accepted, with one
//! thing changed (FAPI 2.0 SP §5.3.2.2), and the private_key_jwt assertion `auth.jwt.accept` had
//! accepted, with its algorithm or its `iat`/`nbf` changed (§5.4.1, §5.3.2.1); and UAE's
//! signed-request-object rule at PAR. They are not RFC 8705 rules: each runs only where a
//! selected profile or the run's `checks:` asks ([`super::profile_only`]).

use serde_json::Value;

use super::endpoints::{par_parameters, push, push_as, PushBody};
use super::profile_only::demanded;
use super::refusal::judge_alert;
use super::{access_token_of, expect_invalid_client, Auth, Ctx, Outcome, TlsRefusal};
use crate::http::{Exchange, Failure};
use crate::target::Who;
use mtls_core::pki::{JwsAlg, Role};

/// Seconds ahead of the harness's clock an assertion's `iat`/`nbf` must still be accepted at: inside
/// FAPI 2.0 SP §5.3.2.1-13's 10 s, leaving 2 s for the clocks of harness and AS to differ.
pub const IAT_WITHIN_S: u64 = 8;
/// Seconds ahead an assertion's `iat`/`nbf` must be refused at: beyond §5.3.2.1-13's 60 s, with
/// 30 s to spare for the clocks to differ.
pub const IAT_BEYOND_S: u64 = 90;

const NO_JWT_CLIENT: &str = "the target registers no private_key_jwt client (add `private_key_jwt` under `clients:`)";

/// Why a pushed request must be refused: for its parameters (RFC 9126 §2.3: the error response
/// of RFC 6749 §4.1.2.1, with 400), or for its client (RFC 6749 §5.2: 401 `invalid_client`, or
/// 400; a TLS alert refusing the missing certificate will do too).
#[derive(Clone, Copy, PartialEq, Eq)]
enum RefusedFor {
    Parameters,
    Client,
}

/// Judge the PAR endpoint's answer to a pushed request it must refuse, `why` says for what.
fn par_refused(ex: Exchange, what: &str, why: RefusedFor) -> Outcome {
    let ev = ex.evidence.clone();
    let error = |r: &crate::http::Response| r.str_field("error").unwrap_or("(none)").to_string();
    let o = match ex.outcome {
        Err(Failure::TlsRejected(alert)) if why == RefusedFor::Client => judge_alert(alert, what, TlsRefusal::NoCertificate),
        Err(f) => Outcome::error(format!("cannot judge {what}: {f}")),
        Ok(r) if r.unjudgeable().is_some() => Outcome::error(r.unjudgeable().unwrap_or_default()),
        Ok(r) if (200..300).contains(&r.status) => {
            let uri = if r.str_field("request_uri").is_some() { " with a request_uri" } else { "" };
            let must = if why == RefusedFor::Client { "an unauthenticated client" } else { "it" };
            Outcome::fail(format!("{what}: the PAR endpoint answered {}{uri}; it must refuse {must}", r.status))
        }
        Ok(r) => match (why, r.status, r.str_field("error") == Some("invalid_client")) {
            (RefusedFor::Parameters, 400, false) => Outcome::pass(format!(
                "{what}: refused with 400 error={}{}",
                error(&r),
                r.str_field("error_description").map(|d| format!(" ({d})")).unwrap_or_default()
            )),
            (RefusedFor::Parameters, 401, _) | (RefusedFor::Parameters, _, true) => Outcome::error(format!(
                "cannot judge {what}: the PAR endpoint refused the client ({} error={}), though it accepted the same client's conformant request (par.alias)",
                r.status,
                error(&r)
            )),
            (RefusedFor::Parameters, 403 | 422, _) => {
                Outcome::warn(format!("{what}: refused with {} error={}, where RFC 9126 §2.3 expects 400", r.status, error(&r)))
            }
            (RefusedFor::Client, 400, _) | (RefusedFor::Client, 401, true) => {
                Outcome::pass(format!("{what}: refused with {} error={}", r.status, error(&r)))
            }
            (RefusedFor::Client, 401 | 403, _) => Outcome::warn(format!(
                "{what}: refused with {} error={}, where RFC 6749 §5.2 expects 401 invalid_client (or 400)",
                r.status,
                error(&r)
            )),
            _ => Outcome::error(format!(
                "cannot judge {what}: the PAR endpoint answered {} ({})",
                r.status,
                r.not_a_judgement().unwrap_or_else(|| "an unexpected status".into())
            )),
        },
    };
    o.with(ev)
}

/// `par.alias`'s pushed request with `edit` applied, which must be refused.
async fn par_changed(ctx: &Ctx, id: &str, what: &str, edit: impl FnOnce(&mut Vec<(&'static str, String)>)) -> Outcome {
    if let Err(o) = demanded(ctx, id) {
        return o;
    }
    match push(ctx, edit).await {
        Ok((ex, _)) => par_refused(ex, what, RefusedFor::Parameters),
        Err(o) => o,
    }
}

fn set(params: &mut [(&'static str, String)], key: &str, value: &str) {
    params.iter_mut().filter(|(k, _)| *k == key).for_each(|(_, v)| *v = value.to_string());
}

/// FAPI 2.0 SP §5.3.2.2-1 (shall require `response_type` `code`): `code id_token` is refused.
pub async fn par_response_type(ctx: &Ctx) -> Outcome {
    par_changed(ctx, "par.fapi.response-type", "the pushed request with response_type=code id_token", |p| {
        set(p, "response_type", "code id_token");
        p.push(("nonce", "mtls-harness-nonce".into()));
    })
    .await
}

/// FAPI 2.0 SP §5.3.2.2-5 (shall require PKCE): a pushed request without `code_challenge` is refused.
pub async fn par_pkce_missing(ctx: &Ctx) -> Outcome {
    par_changed(ctx, "par.fapi.pkce-missing", "the pushed request without code_challenge and code_challenge_method", |p| {
        p.retain(|(k, _)| !k.starts_with("code_challenge"));
    })
    .await
}

/// FAPI 2.0 SP §5.3.2.2-5 (shall require `S256` as the code challenge method): `plain` is refused.
pub async fn par_pkce_plain(ctx: &Ctx) -> Outcome {
    par_changed(ctx, "par.fapi.pkce-plain", "the pushed request with code_challenge_method=plain", |p| {
        // RFC 7636 §4.2: with `plain` the challenge is the verifier itself (43-128 characters).
        set(p, "code_challenge", "mtls-harness-plain-code-verifier-0123456789abcdef");
        set(p, "code_challenge_method", "plain");
    })
    .await
}

/// FAPI 2.0 SP §5.3.2.2-6 (shall require `redirect_uri` in pushed requests): one without it is refused.
pub async fn par_redirect_missing(ctx: &Ctx) -> Outcome {
    par_changed(ctx, "par.fapi.redirect-missing", "the pushed request without redirect_uri", |p| p.retain(|(k, _)| *k != "redirect_uri"))
        .await
}

/// UAE SP-FAPI §2.1-9 (shall require signed request objects, RFC 9101, at the PAR endpoint): the
/// accepted pushed request's parameters as plain form parameters, then as an unsigned (`alg: none`)
/// request object, are each refused.
pub async fn par_signed_request_object(ctx: &Ctx) -> Outcome {
    const ID: &str = "par.fapi.signed-request-object";
    if let Err(o) = demanded(ctx, ID) {
        return o;
    }
    let mut evidence = Vec::new();
    let mut passes = Vec::new();
    for (body, what) in [
        (PushBody::Plain, "the pushed request as form parameters"),
        (PushBody::Unsigned, "the pushed request as an unsigned (alg none) request object"),
    ] {
        let o = match push_as(ctx, |_| {}, body).await {
            Ok((ex, _)) => par_refused(ex, what, RefusedFor::Parameters),
            Err(o) => return o,
        };
        if o.status != mtls_core::results::Status::Pass {
            return o.with_all(evidence);
        }
        evidence.extend(o.evidence);
        passes.push(o.reason);
    }
    Outcome::pass(passes.join("; ")).with_all(evidence)
}

/// FAPI 2.0 SP §5.3.2.2-4 (shall reject pushed requests without client authentication; RFC 9126
/// §2): the conformant parameters with only `client_id`, no certificate, no assertion, are refused.
pub async fn par_no_client_auth(ctx: &Ctx) -> Outcome {
    if let Err(o) = demanded(ctx, "par.fapi.no-client-auth") {
        return o;
    }
    let url = match ctx.optional_endpoint(mtls_core::discovery::Operation::PushedAuthorizationRequest, "par.fapi.no-client-auth").await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let http = match ctx.http(Who::NoCert) {
        Ok(h) => h,
        Err(o) => return o,
    };
    // `par.alias`'s parameters, `client_id` among them, and nothing that authenticates the client.
    let params = par_parameters(&ctx.target);
    let form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ex = http.post_form(&url, &form).await;
    par_refused(ex, "the pushed request with only client_id and no client authentication", RefusedFor::Client)
}

/// The jwt client's assertion with `iat`/`nbf` `ahead_s` ahead and, when given, another `alg`.
fn variant(ctx: &Ctx, ahead_s: u64, alg: Option<jsonwebtoken::Algorithm>) -> Result<Auth, Outcome> {
    let Some(j) = &ctx.target.clients.jwt else { return Err(Outcome::skip(NO_JWT_CLIENT)) };
    let aud = Value::String(ctx.target.issuer.clone());
    crate::assertion::signed_variant(&j.key, &j.client_id, aud, ahead_s, alg, ctx.target.secrets())
        .map(|a| Auth { form: crate::assertion::form(&j.client_id, a), basic: None })
        .map_err(|e| Outcome::error(format!("cannot judge: {e}")))
}

/// FAPI 2.0 SP §5.4.1-1 (shall use PS256, ES256 or EdDSA): an assertion signed RS256 with the
/// registered RSA key is refused. Where the registered key is not RSA it skips: an RS256
/// signature needs an RSA key, and one the client never registered is refused for its key.
pub async fn jwt_alg_rs256(ctx: &Ctx) -> Outcome {
    if let Err(o) = demanded(ctx, "auth.jwt.alg-rs256") {
        return o;
    }
    let Some(j) = &ctx.target.clients.jwt else { return Outcome::skip(NO_JWT_CLIENT) };
    if j.key.alg != JwsAlg::PS256 {
        return Outcome::skip(format!(
            "the private_key_jwt client's registered key is {}, not RSA: RS256 needs an RSA key, and an assertion signed by a key the client never registered would be refused for the key, not the algorithm (auth.jwt.bad-signature)",
            j.key.alg.name()
        ));
    }
    super::jwt_auth::refused_with(
        ctx,
        variant(ctx, 0, Some(jsonwebtoken::Algorithm::RS256)),
        "an assertion signed RS256 with the registered RSA key",
    )
    .await
}

/// FAPI 2.0 SP §5.3.2.1-13 (shall accept `iat`/`nbf` up to 10 s in the future, shall reject more
/// than 60 s): an assertion 8 s ahead gets a token, one 90 s ahead is refused.
pub async fn jwt_iat_future(ctx: &Ctx) -> Outcome {
    if let Err(o) = demanded(ctx, "auth.jwt.iat-future") {
        return o;
    }
    let near = match variant(ctx, IAT_WITHIN_S, None) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let near = match ctx.token_request_with(Who::Cert(Role::Registered), &near).await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    let near_what = format!("an assertion with iat and nbf {IAT_WITHIN_S} s ahead");
    let near_ev = near.evidence.clone();
    let near_verdict = match (&near.outcome, access_token_of(&near)) {
        (_, Ok(_)) => Ok(format!("{near_what} was accepted")),
        (Ok(r), Err(why)) if matches!(r.status, 400 | 401) => {
            Err(Outcome::fail(format!("{near_what} was refused ({why}); the AS must accept iat/nbf up to 10 s in the future")))
        }
        (_, Err(why)) => Err(Outcome::error(format!("cannot judge {near_what}: {why}"))),
    };
    let far = match variant(ctx, IAT_BEYOND_S, None) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let far = match ctx.token_request_with(Who::Cert(Role::Registered), &far).await {
        Ok(ex) => {
            expect_invalid_client(ex, &format!("an assertion with iat and nbf {IAT_BEYOND_S} s ahead"), TlsRefusal::TrustedCertificate)
        }
        Err(o) => return o,
    };
    let mut o = match near_verdict {
        Ok(near) => {
            let mut o = far;
            o.reason = format!("{near}; {}", o.reason);
            o
        }
        Err(mut fail) => {
            fail.reason = format!("{}; {}: {}", fail.reason, far.status.name(), far.reason);
            fail.evidence.extend(far.evidence);
            fail
        }
    };
    o.evidence.insert(0, near_ev);
    o
}
