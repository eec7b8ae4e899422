//! `bind.*`: certificate-bound access tokens (RFC 8705 §3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::{expect_invalid_token, Ctx, Outcome};
use crate::http::Failure;
use crate::pki::Role;
use crate::target::Who;

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

/// RFC 8705 §3.1: a JWT access token carries `cnf.x5t#S256`, the base64url (unpadded) SHA-256
/// of the DER of the certificate presented at the token request.
pub async fn token_cnf(ctx: &Ctx) -> Outcome {
    let (token, ev) = match ctx.registered_token().await {
        Ok(t) => t,
        Err(o) => return o,
    };
    let expected = ctx.target.thumbprint(Role::Registered);
    let Some(claims) = jwt_claims(&token) else {
        return Outcome::skip("the access token is not a JWT; its binding is judged through introspection (bind.introspection-cnf)")
            .with(ev);
    };
    let cnf = claims.get("cnf");
    let found = cnf.and_then(|c| c.get("x5t#S256"));
    let details = json!({"cnf": cnf, "expected_x5t#S256": expected});
    let o = match found {
        None if cnf.is_none() => Outcome::fail("the JWT access token has no cnf claim: the token is not bound to the certificate"),
        None => Outcome::fail("the cnf claim has no x5t#S256 member"),
        Some(Value::String(s)) if s == expected => {
            Outcome::pass("cnf.x5t#S256 equals base64url(SHA-256(DER)) of the presented certificate")
        }
        Some(Value::String(s)) => Outcome::fail(diagnose(s, expected)),
        Some(other) => Outcome::fail(format!("cnf.x5t#S256 is not a string: {other}")),
    };
    o.with(ev).details(details)
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
    let (token, token_ev) = ctx.registered_token().await?;
    Ok((ctx.target.http(who).get(&url, Some(&token)).await, token_ev))
}

/// RFC 8705 §3: the bound token presented with the same certificate is accepted.
pub async fn rs_same_cert(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match resource_with(ctx, Who::Cert(Role::Registered)).await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match ex.outcome {
        Ok(r) if (200..300).contains(&r.status) => Outcome::pass(format!("{} with the certificate the token is bound to", r.status)),
        Ok(r) => Outcome::fail(format!(
            "the resource refused the bound token with its own certificate: {}{}",
            r.status,
            ev.www_authenticate.as_deref().map(|w| format!(" ({w})")).unwrap_or_default()
        )),
        Err(Failure::TlsRejected(why)) => Outcome::fail(format!("the resource rejected the bound certificate at TLS handshake ({why})")),
        Err(f) => Outcome::error(format!("cannot judge: resource request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}

/// RFC 8705 §3: the bound token presented with another (trusted) certificate is refused, 401 invalid_token.
pub async fn rs_other_cert(ctx: &Ctx) -> Outcome {
    match resource_with(ctx, Who::Cert(Role::OtherSubject)).await {
        Ok((ex, token_ev)) => expect_invalid_token(ex, "bound token with another certificate").with(token_ev),
        Err(o) => o,
    }
}

/// RFC 8705 §3: the bound token presented without any certificate is refused with 401.
pub async fn rs_no_cert(ctx: &Ctx) -> Outcome {
    match resource_with(ctx, Who::NoCert).await {
        Ok((ex, token_ev)) => expect_invalid_token(ex, "bound token without a certificate").with(token_ev),
        Err(o) => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_common_thumbprint_mistakes() {
        let der = b"not really a certificate";
        let right = crate::pki::x5t_s256(der);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(der);
        let padded = base64::engine::general_purpose::URL_SAFE.encode(digest);
        assert!(diagnose(&padded, &right).contains("padding"));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(diagnose(&hex, &right).contains("hex-encoded"));
        assert!(diagnose(&URL_SAFE_NO_PAD.encode([7u8; 20]), &right).contains("SHA-1"));
        assert!(diagnose(&crate::pki::x5t_s256(b"other"), &right).contains("something other"));
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
