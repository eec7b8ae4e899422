//! `auth.jwt.*` and `bind.jwt-client`: `private_key_jwt` client authentication (RFC 7523 §3,
//! with FAPI 2.0 SP §5.3.2.1's `aud` rule) sent over mTLS, and the token bound to the transport
//! certificate (RFC 8705 §3: binding is independent of the client authentication method).
//! Every refusal is the accepted request (same URL, same certificate) with one thing changed.

use serde_json::{json, Value};

use super::client_auth::accepted;
use super::cnf::jwt_claims;
use super::{access_token_of, expect_invalid_client, Auth, Ctx, Outcome, TlsRefusal};
use crate::http::{Exchange, Failure};
use crate::target::Who;
use mtls_core::catalogue::Primary;
use mtls_core::discovery::Operation;
use mtls_core::pki::{AssertionKey, Role};

const NO_JWT_CLIENT: &str = "the target registers no private_key_jwt client (add `private_key_jwt` under `clients:`)";

/// The jwt client's token exchange (aud = issuer, with the transport certificate), performed once.
async fn grant(ctx: &Ctx) -> Result<&Exchange, Outcome> {
    if ctx.target.clients.jwt.is_none() {
        return Err(Outcome::skip(NO_JWT_CLIENT));
    }
    if ctx.target.clients.primary == Primary::PrivateKeyJwt {
        return ctx.primary_grant().await;
    }
    ctx.jwt_grant.get_or_try_init(|| ctx.jwt_token_request(Who::Cert(Role::Registered))).await
}

/// RFC 7523 §3 (MUST accept a valid assertion): an assertion with `iss` = `sub` = client_id, `aud` =
/// the issuer (or, refused so and no profile demanding the issuer, the token endpoint URL),
/// unique `jti`, short `exp`, sent with the transport certificate, yields a token.
pub async fn accept(ctx: &Ctx) -> Outcome {
    match grant(ctx).await {
        Ok(ex) => {
            let refused = ctx.jwt_aud_refused();
            let what = match &refused {
                Some(_) => "the private_key_jwt assertion (aud = the token endpoint URL, after aud = the issuer was refused; RFC 7523 §3 allows either) sent over mTLS",
                None => "the private_key_jwt assertion (aud = issuer) sent over mTLS",
            };
            let mut judged = accepted(ex, what);
            if let Some((_, ev)) = refused {
                judged.evidence.insert(0, ev);
            }
            let judged = super::late_request::unless_asked_late(ctx, ex, judged).await;
            super::readings::with_readings(ctx, judged, ex, super::readings::Control::Jwt)
        }
        Err(o) => o,
    }
}

/// The accepted request with only the assertion changed, which must be refused.
pub(crate) async fn refused_with(ctx: &Ctx, auth: Result<Auth, Outcome>, what: &str) -> Outcome {
    let auth = match auth {
        Ok(a) => a,
        Err(o) => return o,
    };
    match ctx.token_request_with(Who::Cert(Role::Registered), &auth).await {
        Ok(ex) => expect_invalid_client(ex, what, TlsRefusal::TrustedCertificate),
        Err(o) => o,
    }
}

/// RFC 7523 §3 (MUST reject an invalid signature): an assertion with the registered `kid` and
/// `alg`, signed by a key the client never registered, is refused.
pub async fn bad_signature(ctx: &Ctx) -> Outcome {
    let Some(j) = ctx.target.clients.jwt.clone() else { return Outcome::skip(NO_JWT_CLIENT) };
    let kid = j.key.kid.clone().unwrap_or_else(|| "mtls-harness-unregistered".into());
    let auth = AssertionKey::generate(j.key.alg, &kid)
        .and_then(|k| crate::assertion::signed(&k, &j.client_id, Value::String(ctx.target.issuer.clone()), ctx.target.secrets()))
        .map(|a| Auth { form: crate::assertion::form(&j.client_id, a), basic: None })
        .map_err(|e| Outcome::error(format!("cannot judge: {e}")));
    refused_with(ctx, auth, "an assertion signed by an unregistered key").await
}

/// RFC 7523 §3 (MUST reject a JWT whose `aud` does not identify the AS): `aud` names another server.
pub async fn aud_wrong(ctx: &Ctx) -> Outcome {
    refused_with(ctx, ctx.jwt_auth(json!("https://another-authorization-server.invalid")), "an assertion whose aud is another server").await
}

/// FAPI 2.0 SP §5.3.2.1 (shall accept only the issuer, as a string, in `aud`): `aud` = the token
/// endpoint URL is refused. RFC 7523 §3 itself permits it, so this is a SHOULD unless a profile
/// raises it.
pub async fn aud_endpoint(ctx: &Ctx) -> Outcome {
    let url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    if url == ctx.target.issuer {
        return Outcome::skip("the token endpoint URL is the issuer itself");
    }
    refused_with(ctx, ctx.jwt_auth(Value::String(url)), "an assertion whose aud is the token endpoint URL").await
}

/// FAPI 2.0 SP §5.3.2.1 (`aud` is the issuer as a single string): `aud` = `[issuer]` is refused.
pub async fn aud_array(ctx: &Ctx) -> Outcome {
    refused_with(ctx, ctx.jwt_auth(json!([ctx.target.issuer])), "an assertion whose aud is an array holding the issuer").await
}

/// RFC 7523 §3 (MAY: the AS may keep the `jti`s it saw and refuse a replayed JWT): one fresh
/// assertion is accepted (its own positive control), then the very same assertion is refused.
pub async fn replay(ctx: &Ctx) -> Outcome {
    let auth = match ctx.jwt_auth(ctx.accepted_jwt_aud()) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let first = match ctx.token_request_with(Who::Cert(Role::Registered), &auth).await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    if let Err(why) = access_token_of(&first) {
        return Outcome::error(format!("cannot judge: the assertion's first use got no token ({why})")).with(first.evidence.clone());
    }
    match ctx.token_request_with(Who::Cert(Role::Registered), &auth).await {
        Ok(ex) => {
            let mut o = expect_invalid_client(ex, "the same assertion (same jti) sent a second time", TlsRefusal::TrustedCertificate);
            o.evidence.insert(0, first.evidence.clone());
            o
        }
        Err(o) => o,
    }
}

/// RFC 8705 §3 with FAPI 2.0 SP §5.3.2.1 (sender-constrained tokens only): the accepted assertion
/// sent without a transport certificate gets no token at all, rather than an unbound one.
pub async fn no_cert(ctx: &Ctx) -> Outcome {
    let auth = match ctx.jwt_auth(ctx.accepted_jwt_aud()) {
        Ok(a) => a,
        Err(o) => return o,
    };
    let ex = match ctx.token_request_with(Who::NoCertFresh, &auth).await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let what = "the assertion without a transport certificate";
    match ex.outcome {
        Err(Failure::TlsRejected(alert)) => super::refusal::judge_alert(alert, what, TlsRefusal::NoCertificate).with(ev),
        Err(f) => Outcome::error(format!("cannot judge {what}: {f}")).with(ev),
        Ok(r) if (200..300).contains(&r.status) && r.field("access_token").is_some() => {
            Outcome::fail(format!("{what}: {} with an access token, which cannot be bound to any certificate", r.status)).with(ev)
        }
        Ok(r) if matches!(r.status, 400 | 401 | 403) => Outcome::pass(format!(
            "{what}: refused with {} error={}, so no unbound token was issued",
            r.status,
            r.str_field("error").unwrap_or("(none)")
        ))
        .with(ev),
        Ok(r) => Outcome::error(format!("cannot judge {what}: the token endpoint answered {}", r.status)).with(ev),
    }
}

/// RFC 8705 §3 (MUST bind whatever the client authentication): the private_key_jwt client's
/// token carries `cnf.x5t#S256` of the transport certificate it presented (read from the JWT,
/// or by introspecting an opaque token as that client). Judged by `bind.token-cnf` when the
/// private_key_jwt client is the primary one.
pub async fn bound(ctx: &Ctx) -> Outcome {
    if ctx.target.clients.primary == Primary::PrivateKeyJwt {
        return Outcome::skip(
            "the private_key_jwt client is the primary client: bind.token-cnf and bind.introspection-cnf judge its binding",
        );
    }
    if let Err(blocked) = ctx.token_endpoint_takes_certificates().await {
        return blocked;
    }
    let ex = match grant(ctx).await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    let (token, ev) = match access_token_of(ex) {
        Ok(t) => t,
        Err(why) => return Outcome::blocked(format!("blocked: auth.jwt.accept yielded no token ({why})")).with(ex.evidence.clone()),
    };
    let expected = ctx.target.identity(Role::Registered).map(|i| i.x5t_s256.clone()).unwrap_or_default();
    let whose = "the transport certificate the private_key_jwt client presented";
    let aud = ctx.accepted_jwt_aud();
    super::binding::token_bound_to(ctx, &token, jwt_claims(&token).as_ref(), &expected, whose, || ctx.jwt_auth(aud)).await.with(ev)
}
