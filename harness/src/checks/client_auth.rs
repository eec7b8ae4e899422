//! `auth.pki.*`: PKI mutual-TLS client authentication at the token endpoint (RFC 8705 §2.1).

use super::{expect_invalid_client, Ctx, Outcome};
use crate::http::Failure;
use crate::pki::Role;
use crate::target::Who;

/// RFC 8705 §2.1: the registered CA-issued certificate with the client's `client_id` yields a token.
pub async fn pki_accept(ctx: &Ctx) -> Outcome {
    let ex = match ctx.registered_grant().await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    match &ex.outcome {
        Err(Failure::TlsRejected(why)) => {
            Outcome::fail(format!("the registered certificate was rejected at TLS handshake ({why})")).with(ev)
        }
        Err(f) => Outcome::error(format!("cannot judge: token request failed: {f}")).with(ev),
        Ok(r) if r.status == 200 => {
            let token_type = r.str_field("token_type").unwrap_or("");
            match r.str_field("access_token") {
                Some(t) if !t.is_empty() => {
                    if token_type.eq_ignore_ascii_case("bearer") {
                        Outcome::pass("200 with an access_token of token_type Bearer for the registered certificate").with(ev)
                    } else {
                        Outcome::warn(format!("200 with an access_token, but token_type is `{token_type}`, not Bearer")).with(ev)
                    }
                }
                _ => Outcome::fail("200 without an access_token (RFC 6749 §5.1)").with(ev),
            }
        }
        Ok(r) => Outcome::fail(format!(
            "the registered certificate and client_id were refused with {} error={}",
            r.status,
            r.str_field("error").unwrap_or("(none)")
        ))
        .with(ev),
    }
}

async fn refused(ctx: &Ctx, who: Who, what: &str) -> Outcome {
    match ctx.token_request(who, &ctx.target.tls_client_id).await {
        Ok(ex) => expect_invalid_client(ex, what),
        Err(o) => o,
    }
}

/// RFC 8705 §2: a request with the client's `client_id` but no certificate is refused.
pub async fn pki_no_cert(ctx: &Ctx) -> Outcome {
    refused(ctx, Who::NoCert, "token request with client_id and no certificate").await
}

/// RFC 8705 §2.1: a certificate from the trusted CA with another subject is refused.
pub async fn pki_other_subject(ctx: &Ctx) -> Outcome {
    refused(ctx, Who::Cert(Role::OtherSubject), "trusted-CA certificate with another subject").await
}

/// RFC 8705 §2.1: the registered subject DN in a certificate from an untrusted CA is refused.
pub async fn pki_rogue_ca(ctx: &Ctx) -> Outcome {
    refused(ctx, Who::Cert(Role::RogueCa), "registered subject DN issued by an untrusted CA").await
}
