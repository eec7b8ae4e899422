//! Two readings of a failed positive control. When the AS refuses the request the target file
//! says it must accept — `invalid_client`, `unauthorized_client`, `invalid_scope`,
//! `invalid_grant`, a certificate alert — either the AS refuses its own client (the RFC's verdict,
//! which stands: a MUST broken is `fail`) or the file names a client, certificate or scope the AS
//! never registered. The reason says both and names the keys and lines to check; reports list
//! such results first ("check your target file first").

use super::{Ctx, Outcome, Status};
use crate::http::{alert_name, Exchange, Failure};
use mtls_core::pki::Role;

/// Whose positive control it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    /// `auth.pki.accept`: the tls_client_auth client (RFC 8705 §2.1).
    Pki,
    /// `auth.self.accept`: the self-signed client (RFC 8705 §2.2).
    SelfSigned,
    /// `auth.jwt.accept`: the private_key_jwt client (RFC 7523 §3).
    Jwt,
}

/// The refusal in `ex` a wrong target file explains too, named; `None` for anything else.
fn file_explains(ex: &Exchange) -> Option<String> {
    match &ex.outcome {
        Ok(r) if matches!(r.status, 400 | 401 | 403) => match r.str_field("error") {
            Some(e @ ("invalid_client" | "unauthorized_client" | "invalid_scope" | "invalid_grant" | "invalid_target")) => {
                Some(format!("{} {e}", r.status))
            }
            _ => None,
        },
        Err(Failure::TlsRejected(a)) => {
            use rustls::AlertDescription as A;
            matches!(a, A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::UnsupportedCertificate | A::AccessDenied)
                .then(|| format!("TLS alert {}", alert_name(*a)))
        }
        _ => None,
    }
}

/// `o` — a positive control's judgement of `ex` — with the second reading added where a wrong
/// target file explains the refusal as well (live targets only: the embedded mock's file is
/// the harness's own).
pub(crate) fn with_readings(ctx: &Ctx, o: Outcome, ex: &Exchange, control: Control) -> Outcome {
    let (Some(file), Status::Fail) = (&ctx.target.file_keys, o.status) else { return o };
    let Some(refusal) = file_explains(ex) else { return o };
    let cert = |role: Role| {
        ctx.target.identity(role).map(|i| format!("{} (x5t#S256 {})", i.subject, i.x5t_s256)).unwrap_or_else(|| "its certificate".into())
    };
    let (mut keys, registered, rfc) = match control {
        Control::Pki => (
            vec!["clients.tls_client_auth.client_id", "clients.tls_client_auth.cert"],
            format!("tls_client_auth with the subject {}", cert(Role::Registered)),
            "RFC 8705 §2.1",
        ),
        Control::SelfSigned => (
            vec!["clients.self_signed.client_id", "clients.self_signed.cert"],
            format!("self_signed_tls_client_auth with the certificate {}", cert(Role::SelfSigned)),
            "RFC 8705 §2.2",
        ),
        Control::Jwt => (
            vec!["clients.private_key_jwt.client_id", "clients.private_key_jwt.signing_key", "clients.private_key_jwt.kid"],
            "private_key_jwt with the public key of this signing key (and its kid)".to_string(),
            "RFC 7523 §3",
        ),
    };
    if refusal.ends_with("invalid_scope") || refusal.ends_with("invalid_target") {
        keys.extend(["scope", "token_params"]);
    }
    let at: Vec<String> = keys.iter().map(|k| file.at(k)).collect();
    let id = ctx
        .target
        .clients
        .primary_id()
        .filter(|_| control == primary_control(ctx))
        .map(|i| format!("`{i}`"))
        .unwrap_or_else(|| "the client".into());
    let mut o = o;
    o.reason = format!(
        "{} — two readings ({refusal}): if {id} is registered at the AS for {registered}, the AS refuses its own client ({rfc}); otherwise the target file is wrong — check {} first{}",
        o.reason,
        at.join(", "),
        near_miss(ctx, control, &refusal).map(|n| format!(". {n}")).unwrap_or_default()
    );
    o.check_file(at.join(", "))
}

/// A likelier explanation on the user's side, when the file shows one: a client_id that differs
/// only in case from a name in its certificate, or a certificate file holding the leaf alone
/// when the handshake refused it.
fn near_miss(ctx: &Ctx, control: Control, refusal: &str) -> Option<String> {
    let (role, id, key) = match control {
        Control::Pki => (Role::Registered, ctx.target.clients.tls.as_deref()?, "clients.tls_client_auth"),
        Control::SelfSigned => (Role::SelfSigned, ctx.target.clients.self_signed.as_deref()?, "clients.self_signed"),
        Control::Jwt => return None,
    };
    let identity = ctx.target.identity(role)?;
    if refusal.ends_with("invalid_client") {
        let names = identity.names();
        if let Some(near) = names.iter().find(|n| n.as_str() != id && n.eq_ignore_ascii_case(id)) {
            return Some(format!(
                "Likely: `{id}` differs only in case from `{near}` in the certificate — client identifiers are compared as exact strings (RFC 6749 §2.2)"
            ));
        }
    }
    // The leaf alone, from an issuer the harness knows no certificate of (a root in ca_bundle
    // would be one): an intermediate the AS may need to build the chain (RFC 8705 §2.1
    // "validated certificate chain"; RFC 8446 §4.4.2: the sender supplies the chain).
    let issuer = identity.issuer()?;
    let known = |dn: &str| ctx.target.roots.iter().any(|r| mtls_core::pki::subject_rfc4514(r).is_ok_and(|s| s == dn));
    let leaf_alone = role == Role::Registered && identity.intermediates.is_empty() && issuer != identity.subject && !known(&issuer);
    let at = ctx.target.file_keys.as_ref().map(|f| f.at(&format!("{key}.cert"))).unwrap_or_else(|| format!("{key}.cert"));
    leaf_alone.then(|| {
        format!(
            "Possibly: {at} holds the leaf alone, issued by {issuer}, a CA the file does not include: if that is an intermediate CA, an AS that trusts only the root cannot validate the chain — append the intermediate(s) after the leaf (RFC 8705 §2.1, RFC 8446 §4.4.2)"
        )
    })
}

fn primary_control(ctx: &Ctx) -> Control {
    match ctx.target.clients.primary {
        mtls_core::catalogue::Primary::TlsClientAuth => Control::Pki,
        mtls_core::catalogue::Primary::SelfSignedTlsClientAuth => Control::SelfSigned,
        mtls_core::catalogue::Primary::PrivateKeyJwt => Control::Jwt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(status: u16, body: &str) -> Exchange {
        Exchange {
            evidence: Default::default(),
            location: None,
            set_cookies: Vec::new(),
            outcome: Ok(crate::http::Response {
                status,
                content_type: "application/json".into(),
                body: body.as_bytes().to_vec(),
                json: serde_json::from_str(body).ok(),
                retry_after: None,
            }),
        }
    }

    #[test]
    fn refusals_a_wrong_file_explains_are_recognised() {
        assert_eq!(file_explains(&ex(401, r#"{"error":"invalid_client"}"#)).as_deref(), Some("401 invalid_client"));
        assert_eq!(file_explains(&ex(400, r#"{"error":"invalid_scope"}"#)).as_deref(), Some("400 invalid_scope"));
        assert!(file_explains(&ex(400, r#"{"error":"unsupported_grant_type"}"#)).is_none());
        assert!(file_explains(&ex(500, r#"{"error":"invalid_client"}"#)).is_none());
        let alert = Exchange { outcome: Err(Failure::TlsRejected(rustls::AlertDescription::UnknownCA)), ..ex(200, "{}") };
        assert_eq!(file_explains(&alert).as_deref(), Some("TLS alert unknown_ca"));
        let other = Exchange { outcome: Err(Failure::TlsRejected(rustls::AlertDescription::ProtocolVersion)), ..ex(200, "{}") };
        assert!(file_explains(&other).is_none());
    }
}
