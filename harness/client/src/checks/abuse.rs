//! `abuse.*`: what one client may do to another's tokens. RFC 7009 §2.1: the AS verifies that a
//! token it is asked to revoke was issued to the client asking.

use super::endpoints::{observe, observers, seen_active};
use super::{Auth, Ctx, Outcome};
use crate::http::Evidence;
use crate::target::Who;
use mtls_core::catalogue::Primary;
use mtls_core::discovery::Operation;
use mtls_core::pki::Role;

/// Another client than the primary one: how it authenticates, and its name.
enum Other {
    /// An mTLS client (RFC 8705 §2): its certificate at TLS and its client_id in the form.
    Mtls { role: Role, client_id: String, method: &'static str },
    /// The secret client.
    Secret(Auth, String),
}

/// Every configured client other than the primary one: the mTLS ones first (the case a real
/// server got wrong), then the secret one.
fn others(ctx: &Ctx) -> Vec<Other> {
    let c = &ctx.target.clients;
    let mut out = Vec::new();
    if let (Some(id), false) = (&c.tls, c.primary == Primary::TlsClientAuth) {
        out.push(Other::Mtls { role: Role::Registered, client_id: id.clone(), method: "tls_client_auth" });
    }
    if let (Some(id), false) = (&c.self_signed, c.primary == Primary::SelfSignedTlsClientAuth) {
        out.push(Other::Mtls { role: Role::SelfSigned, client_id: id.clone(), method: "self_signed_tls_client_auth" });
    }
    if let (Ok(auth), Some((id, _))) = (ctx.secret_auth(), &c.secret) {
        out.push(Other::Secret(auth, id.clone()));
    }
    out
}

/// RFC 7009 §2.1 (MUST verify the token was issued to the requesting client): no other client's
/// revocation request ends the primary client's token — each other configured client tries, on a
/// fresh token seen active first.
pub async fn revoke_other_client(ctx: &Ctx) -> Outcome {
    let url = match ctx.optional_endpoint(Operation::Revocation, "abuse.revoke-other-client").await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let others = others(ctx);
    if others.is_empty() {
        return Outcome::skip("the target configures no client other than the primary one");
    }
    let observers = observers(ctx).await;
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut kept = Vec::new();
    for other in &others {
        let (token, token_ev) = match ctx.fresh_token().await {
            Ok(t) => t,
            Err(o) => return o.with_all(evidence),
        };
        evidence.push(token_ev);
        let saw_active = seen_active(ctx, &observers, &token, &mut evidence).await;
        if saw_active.is_empty() {
            return Outcome::blocked("blocked: no positive control — the fresh token was never seen active (see revoke.alias)")
                .with_all(evidence);
        }
        let form = [("token", token.as_str()), ("token_type_hint", "access_token")];
        let (ex, name) = match other {
            Other::Mtls { role, client_id, method } => {
                let http = match ctx.http(Who::Cert(*role)) {
                    Ok(h) => h,
                    Err(o) => return o.with_all(evidence),
                };
                let mut f = form.to_vec();
                f.push(("client_id", client_id.as_str()));
                (http.post_form(&url, &f).await, format!("{client_id} ({method})"))
            }
            Other::Secret(auth, client_id) => (auth.post(ctx.target.no_cert(), &url, &form).await, format!("{client_id} (secret)")),
        };
        let answer = match &ex.outcome {
            Ok(r) => format!("{} error={}", r.status, r.str_field("error").unwrap_or("(none)")),
            Err(f) => f.to_string(),
        };
        evidence.push(ex.evidence.clone());
        for (who, u) in &saw_active {
            match observe(ctx, *who, u, &token, &mut evidence).await {
                Some(true) => {}
                Some(false) => {
                    return Outcome::fail(format!(
                        "{name} revoked the primary client's token (revocation answered {answer}; {u} now refuses it): any client can end any other client's tokens (RFC 7009 §2.1)"
                    ))
                    .with_all(evidence)
                }
                None => {
                    return Outcome::error(format!("cannot judge: no answer from {u} after {name}'s revocation request")).with_all(evidence)
                }
            }
        }
        kept.push(format!("{name} (answered {answer})"));
    }
    Outcome::pass(format!("the primary client's token stays active after the revocation requests of {}", kept.join(", ")))
        .with_all(evidence)
}
