//! `bind.*`: certificate-bound access tokens (RFC 8705 §3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::introspection::introspected_binding_as;
use super::{access_token_of, expect_invalid_token, Ctx, Level, Outcome, Status, TlsRefusal};
use crate::http::Failure;
use crate::target::Who;
use mtls_core::pki::Role;

/// The JWT payload, if the token is a JWS compact serialisation with a JSON object payload.
/// The signature is not needed to read `cnf`; the resource checks test what the AS enforces.
pub fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

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

/// Judge a `cnf` member (of JWT claims or an introspection response) against a thumbprint.
pub(super) fn cnf_matches(obj: &Value, expected: &str, whose: &str) -> Outcome {
    let cnf = obj.get("cnf");
    let found = cnf.and_then(|c| c.get("x5t#S256"));
    let details = json!({"cnf": cnf, "expected_x5t#S256": expected});
    let o = match found {
        None if cnf.is_none() => Outcome::fail("no cnf claim: the token is not bound to the certificate"),
        None => Outcome::fail("the cnf claim has no x5t#S256 member"),
        Some(Value::String(s)) if s == expected => Outcome::pass(format!("cnf.x5t#S256 equals base64url(SHA-256(DER)) of {whose}")),
        Some(Value::String(s)) => Outcome::fail(diagnose(s, expected)),
        Some(other) => Outcome::fail(format!("cnf.x5t#S256 is not a string: {other}")),
    };
    o.details(details)
}

/// Say what is wrong with a thumbprint that does not match.
fn diagnose(found: &str, expected: &str) -> String {
    let head = format!("cnf.x5t#S256 is `{found}`, expected `{expected}`");
    if found.trim_end_matches('=') == expected {
        return format!("{head}: base64 padding must be omitted (RFC 8705 §3.1, RFC 7515 §2)");
    }
    if found.len() == 64 && found.chars().all(|c| c.is_ascii_hexdigit()) {
        if let Ok(bytes) = URL_SAFE_NO_PAD.decode(expected) {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            if hex.eq_ignore_ascii_case(found) {
                return format!("{head}: it is the right digest hex-encoded; base64url is required");
            }
        }
    }
    if found.contains('+') || found.contains('/') {
        return format!("{head}: standard base64 alphabet used where base64url is required");
    }
    match URL_SAFE_NO_PAD.decode(found.trim_end_matches('=')) {
        Ok(b) if b.len() == 20 => format!("{head}: a 20-byte digest (SHA-1, i.e. x5t) where SHA-256 is required"),
        Ok(b) if b.len() == 32 => format!("{head}: a SHA-256 digest of something other than the presented certificate's DER"),
        _ => format!("{head}: not a base64url SHA-256 digest"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_common_thumbprint_mistakes() {
        let der = b"not really a certificate";
        let right = mtls_core::pki::x5t_s256(der);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(der);
        let padded = base64::engine::general_purpose::URL_SAFE.encode(digest);
        assert!(diagnose(&padded, &right).contains("padding"));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(diagnose(&hex, &right).contains("hex-encoded"));
        assert!(diagnose(&URL_SAFE_NO_PAD.encode([7u8; 20]), &right).contains("SHA-1"));
        assert!(diagnose(&mtls_core::pki::x5t_s256(b"other"), &right).contains("something other"));
    }

    #[test]
    fn reads_jwt_payload_only_for_three_part_json() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"cnf":{"x5t#S256":"abc"}}"#);
        assert_eq!(jwt_claims(&format!("h.{payload}.s")).unwrap()["cnf"]["x5t#S256"], "abc");
        assert!(jwt_claims("opaque-token").is_none());
        assert!(jwt_claims(&format!("h.{payload}.s.x")).is_none());
        assert!(jwt_claims("h.bm90IGpzb24.s").is_none());
    }
}
