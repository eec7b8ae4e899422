//! A token's confirmation (RFC 8705 §3.1): the claims of a JWT access token, read without its
//! signature, and a `cnf` member (of those claims or of an introspection response) judged
//! against the thumbprint of the certificate the token should be bound to.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::Outcome;

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

/// Judge a `cnf` member (of JWT claims or an introspection response) against a thumbprint.
pub(crate) fn cnf_matches(obj: &Value, expected: &str, whose: &str) -> Outcome {
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
