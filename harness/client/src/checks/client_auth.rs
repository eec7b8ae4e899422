//! `auth.pki.*`: PKI mutual-TLS client authentication at the token endpoint (RFC 8705 §2.1).

use super::late_request::unless_asked_late;
use super::readings::{with_readings, Control};
use super::{expect_invalid_client, Ctx, Outcome, TlsRefusal};
use crate::http::Exchange;
use crate::http::Failure;
use crate::target::Who;
use mtls_core::catalogue::Primary;
use mtls_core::pki::Role;

/// Judge a token exchange that must succeed: 200 with a non-empty access_token of type Bearer.
/// The positive controls that present a certificate pass this judgement through
/// [`unless_asked_late`]: where the server asks for it only after the handshake, `error`.
pub(super) fn accepted(ex: &Exchange, what: &str) -> Outcome {
    let ev = ex.evidence.clone();
    match &ex.outcome {
        Err(f @ Failure::TlsRejected(_)) => Outcome::fail(format!("{what} was refused: {f}")).with(ev),
        Err(f) => Outcome::error(format!("cannot judge: token request failed: {f}")).with(ev),
        Ok(r) if r.unjudgeable().is_some() => Outcome::error(r.unjudgeable().unwrap_or_default()).with(ev),
        Ok(r) if r.status == 200 => {
            let token_type = r.str_field("token_type").unwrap_or("");
            match r.str_field("access_token") {
                Some(t) if !t.is_empty() && token_type.eq_ignore_ascii_case("bearer") => {
                    Outcome::pass(format!("200 with an access_token of token_type Bearer for {what}")).with(ev)
                }
                Some(t) if !t.is_empty() => {
                    Outcome::warn(format!("200 with an access_token for {what}, but token_type is `{token_type}`, not Bearer")).with(ev)
                }
                _ => Outcome::fail("200 without an access_token (RFC 6749 §5.1)").with(ev),
            }
        }
        Ok(r) if r.not_a_judgement().is_some() => Outcome::error(format!(
            "cannot judge: the token endpoint answered {} ({}) error={} for {what}, which is not a judgement of the credential",
            r.status,
            r.not_a_judgement().unwrap_or_default(),
            r.str_field("error").unwrap_or("(none)")
        ))
        .with(ev),
        Ok(r) => Outcome::fail(format!("{what} was refused with {} error={}", r.status, r.str_field("error").unwrap_or("(none)"))).with(ev),
    }
}

/// RFC 8705 §2.1 (MUST): the registered CA-issued certificate with the client's `client_id` yields a token.
pub async fn pki_accept(ctx: &Ctx) -> Outcome {
    let Some(id) = ctx.target.clients.tls.clone() else {
        return Outcome::skip(NO_TLS_CLIENT);
    };
    const WHAT: &str = "the registered certificate and client_id";
    if ctx.target.clients.primary == Primary::TlsClientAuth {
        return match ctx.primary_grant().await {
            Ok(ex) => with_readings(ctx, unless_asked_late(ctx, ex, accepted(ex, WHAT)).await, ex, Control::Pki),
            Err(o) => o,
        };
    }
    match ctx.token_request(Who::Cert(Role::Registered), &id).await {
        Ok(ex) => with_readings(ctx, unless_asked_late(ctx, &ex, accepted(&ex, WHAT)).await, &ex, Control::Pki),
        Err(o) => o,
    }
}

const NO_TLS_CLIENT: &str = "the target registers no tls_client_auth client";

/// The same token request as `auth.pki.accept` (same URL, same form), with only the
/// certificate changed; it must be refused.
async fn refused(ctx: &Ctx, who: Who, what: &str, kind: TlsRefusal) -> Outcome {
    let Some(id) = ctx.target.clients.tls.clone() else {
        return Outcome::skip(NO_TLS_CLIENT);
    };
    match ctx.token_request(who, &id).await {
        Ok(ex) => expect_invalid_client(ex, what, kind),
        Err(o) => o,
    }
}

/// RFC 8705 §2 (MUST): a request with the client's `client_id` but no certificate is refused.
pub async fn pki_no_cert(ctx: &Ctx) -> Outcome {
    refused(ctx, Who::NoCertFresh, "token request with client_id and no certificate", TlsRefusal::NoCertificate).await
}

/// RFC 8705 §2.1 (MUST: the subject must match the registered one): a certificate from the
/// trusted CA with another subject is refused. Only with a certificate the server trusts at TLS.
pub async fn pki_other_subject(ctx: &Ctx) -> Outcome {
    if let Some(skip) = untrusted_other(ctx) {
        return skip;
    }
    refused(ctx, Who::Cert(Role::OtherSubject), "trusted-CA certificate with another subject", TlsRefusal::TrustedCertificate).await
}

/// A `skip` when the harness's other-subject certificate is absent or not known to come from
/// the CA that issues the registered certificate: its refusal could be the issuer's, not the
/// subject's (or the binding's).
pub(crate) fn untrusted_other(ctx: &Ctx) -> Option<Outcome> {
    if ctx.target.identity(Role::OtherSubject).is_none() {
        return Some(Outcome::skip(
            "the harness has no certificate from the trusted CA with another subject (give the target file `other_subject`, or `client_ca` to mint one)",
        ));
    }
    (!ctx.target.other_subject_trusted).then(|| {
        Outcome::skip(
            "the other_subject certificate is not issued by the CA that issued the registered certificate, so a refusal could be the issuer's, not the subject's: give a certificate from the same CA",
        )
    })
}

/// RFC 8705 §2.1 (MUST): the registered subject DN in a certificate from an untrusted CA is refused.
pub async fn pki_rogue_ca(ctx: &Ctx) -> Outcome {
    refused(ctx, Who::Cert(Role::RogueCa), "registered subject DN issued by an untrusted CA", TlsRefusal::UntrustedIssuer).await
}

/// RFC 8705 §2.1 (MUST: certificate path validation): an expired certificate with the registered
/// subject is refused. Only where the harness holds the issuing CA and could mint one.
pub async fn pki_expired(ctx: &Ctx) -> Outcome {
    if !ctx.target.holds_ca {
        return Outcome::skip("the harness does not hold the CA that issues the registered certificate, so it cannot mint an expired one");
    }
    refused(ctx, Who::Cert(Role::Expired), "expired certificate with the registered subject", TlsRefusal::TrustedCertificate).await
}

/// RFC 8705 §2.2 (MUST): the self-signed certificate registered for the client yields a token.
pub async fn self_accept(ctx: &Ctx) -> Outcome {
    let Some(id) = ctx.target.clients.self_signed.clone() else {
        return Outcome::skip("the target registers no self_signed_tls_client_auth client");
    };
    const WHAT: &str = "the registered self-signed certificate";
    if ctx.target.clients.primary == Primary::SelfSignedTlsClientAuth {
        return match ctx.primary_grant().await {
            Ok(ex) => with_readings(ctx, unless_asked_late(ctx, ex, accepted(ex, WHAT)).await, ex, Control::SelfSigned),
            Err(o) => o,
        };
    }
    match ctx.token_request(Who::Cert(Role::SelfSigned), &id).await {
        Ok(ex) => with_readings(ctx, unless_asked_late(ctx, &ex, accepted(&ex, WHAT)).await, &ex, Control::SelfSigned),
        Err(o) => o,
    }
}

/// RFC 8705 §2.2 (MUST): a self-signed certificate not registered for the client is refused.
pub async fn self_other(ctx: &Ctx) -> Outcome {
    let Some(id) = ctx.target.clients.self_signed.clone() else {
        return Outcome::skip("the target registers no self_signed_tls_client_auth client");
    };
    match ctx.token_request(Who::Cert(Role::SelfSignedOther), &id).await {
        Ok(ex) => expect_invalid_client(ex, "an unregistered self-signed certificate", TlsRefusal::UntrustedIssuer),
        Err(o) => o,
    }
}
