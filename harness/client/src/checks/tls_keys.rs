//! `tls.key-size.*`: the keys each origin uses in its handshake — its server certificate's
//! public key (seen in clear in a TLS 1.2 flight, or from a TLS 1.3 handshake where it has no
//! TLS 1.2) and, where it accepts a DHE suite, the size of its finite-field group (the prime of
//! its ServerKeyExchange) — judged against the selected profiles' `tls.key_sizes` (RFC 9325
//! §4.5 where none sets them).

use serde_json::json;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::tls::{control, per_origin, Verdict};
use super::{Ctx, Outcome};
use crate::tls_survey::{describe, Site};
use mtls_core::tls_policy::{InForce, KeySizeRule};
use mtls_tlsprobe::{keys, Answer};

/// A server certificate's public key, as far as a size rule cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// RSA: the modulus's significant bits.
    Rsa(u32),
    /// An elliptic curve (ECDSA, EdDSA): its name and size in bits.
    Ec(String, u32),
    /// Anything else (DSA, unknown): its algorithm.
    Other(String),
}

impl KeyKind {
    /// The key of a DER certificate.
    pub(crate) fn of(der: &[u8]) -> Result<KeyKind, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("unparsable server certificate: {e}"))?;
        let spki = cert.public_key();
        let oid = spki.algorithm.algorithm.to_id_string();
        match oid.as_str() {
            "1.3.101.112" => return Ok(KeyKind::Ec("Ed25519".into(), 256)),
            "1.3.101.113" => return Ok(KeyKind::Ec("Ed448".into(), 456)),
            _ => {}
        }
        match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => Ok(KeyKind::Rsa(significant_bits(rsa.modulus))),
            Ok(PublicKey::EC(point)) => {
                let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
                let (name, bits) = match curve.as_deref() {
                    Some("1.2.840.10045.3.1.7") => ("P-256".to_string(), 256),
                    Some("1.3.132.0.34") => ("P-384".to_string(), 384),
                    Some("1.3.132.0.35") => ("P-521".to_string(), 521),
                    Some("1.2.840.10045.3.1.1") => ("P-192".to_string(), 192),
                    Some("1.3.132.0.33") => ("P-224".to_string(), 224),
                    other => (format!("curve {}", other.unwrap_or("?")), u32::try_from(point.key_size()).unwrap_or(0)),
                };
                Ok(KeyKind::Ec(name, bits))
            }
            Ok(_) | Err(_) => Ok(KeyKind::Other(oid)),
        }
    }

    /// `RSA 2048 bits`, `EC P-256 (256 bits)`.
    pub(crate) fn describe(&self) -> String {
        match self {
            KeyKind::Rsa(b) => format!("RSA {b} bits"),
            KeyKind::Ec(n, b) => format!("EC {n} ({b} bits)"),
            KeyKind::Other(oid) => format!("a key of algorithm {oid}"),
        }
    }

    /// What falls short of `rule`, if anything.
    fn short_of(&self, rule: &KeySizeRule) -> Option<String> {
        match (self, rule.rsa, rule.ec) {
            (KeyKind::Rsa(b), Some(min), _) if *b < min => Some(format!("RSA key of {b} bits, under {min}")),
            (KeyKind::Ec(n, b), _, Some(min)) if *b < min => Some(format!("EC key {n} of {b} bits, under {min}")),
            _ => None,
        }
    }
}

/// The significant bits of a big-endian unsigned integer.
fn significant_bits(n: &[u8]) -> u32 {
    match n.iter().position(|b| *b != 0) {
        Some(i) => u32::try_from((n.len() - i) * 8).unwrap_or(u32::MAX) - n[i].leading_zeros(),
        None => 0,
    }
}

/// Each rule's shortfalls, named by its source; empty when every rule holds.
fn shortfalls<T>(rules: &[InForce<KeySizeRule>], short: impl Fn(&KeySizeRule) -> Option<T>) -> Vec<String>
where
    T: std::fmt::Display,
{
    rules.iter().filter_map(|r| short(&r.rule).map(|why| format!("{why} ({})", r.source(&r.rule.citation)))).collect()
}

/// RFC 9325 §4.5 (MUST) / FAPI 2.0 SP §5.4.1-2, -3 / FAPI 1.0 Part 1 §5.2.2-5, -6 (shall): every
/// server certificate an origin authenticates with is an RSA key of at least 2048 bits or an EC
/// key of at least the profile's curve size.
pub async fn server(ctx: &Ctx) -> Outcome {
    per_origin(ctx, "server certificate keys large enough", server_of).await
}

async fn server_of(ctx: &Ctx, site: Site) -> (Verdict, serde_json::Value) {
    if let Err(v) = control(ctx, &site).await {
        return (v, json!(null));
    }
    let flights = match ctx.survey.certificates(&site).await {
        Ok(f) => f,
        Err(e) => return (Verdict::Error(e), json!(null)),
    };
    // (how it was seen, the certificate's DER)
    let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
    for (auth, flight) in flights {
        match flight {
            Ok(Answer::Hello { keys: mtls_tlsprobe::ServerKeys { certificate: Some(der), .. }, .. }) => {
                seen.push((format!("TLS 1.2 {} suites", auth.name()), der));
            }
            Ok(a) => {
                return (
                    Verdict::Error(format!(
                        "offered the {} suites it accepted, it answered {} without a certificate",
                        auth.name(),
                        describe(&a)
                    )),
                    json!(null),
                )
            }
            Err(e) => return (Verdict::Error(format!("offering its {} suites: {e}", auth.name())), json!(null)),
        }
    }
    if seen.is_empty() {
        match ctx.survey.tls13_certificate(&site).await {
            Ok(der) => seen.push(("TLS 1.3 (no TLS 1.2 suite with a certificate accepted)".into(), der)),
            Err(e) => return (Verdict::Error(format!("no TLS 1.2 certificate in clear, and {e}")), json!(null)),
        }
    }
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for (how, der) in &seen {
        let key = match KeyKind::of(der) {
            Ok(k) => k,
            Err(e) => return (Verdict::Error(format!("{how}: {e}")), json!(rows)),
        };
        rows.push(json!({ "seen_with": how, "key": key.describe() }));
        found.push(format!("{} ({how})", key.describe()));
        problems.extend(shortfalls(&ctx.tls_rules.key_sizes, |r| key.short_of(r)));
    }
    let detail = json!({ "certificates": rows });
    if problems.is_empty() {
        (Verdict::Pass(found.join("; ")), detail)
    } else {
        (Verdict::Fail(format!("{}: {}", found.join("; "), problems.join("; "))), detail)
    }
}

/// RFC 9325 §4.5 (REQUIRED) / FAPI 1.0 Adv §8.5-3 (required): an origin that accepts a DHE suite
/// uses a group of at least 2048 bits; one that accepts none has no group to judge.
pub async fn dhe(ctx: &Ctx) -> Outcome {
    per_origin(ctx, "DHE groups large enough", dhe_of).await
}

async fn dhe_of(ctx: &Ctx, site: Site) -> (Verdict, serde_json::Value) {
    if let Err(v) = control(ctx, &site).await {
        return (v, json!(null));
    }
    let flight = match ctx.survey.dhe(&site).await {
        Ok(None) => {
            let end = ctx.survey.suites(&site).await.map(|e| e.accepted.len()).unwrap_or(0);
            return (
                Verdict::Pass(format!("accepts no DHE suite (none among its {end} TLS 1.2 suite(s)): no finite-field group to judge")),
                json!({ "dhe": null }),
            );
        }
        Ok(Some(f)) => f,
        Err(e) => return (Verdict::Error(e), json!(null)),
    };
    let (suite, ske) = match flight {
        Ok(Answer::Hello { hello, keys: mtls_tlsprobe::ServerKeys { key_exchange: Some(ske), .. }, .. }) if keys::is_dhe(hello.suite) => {
            (hello.suite, ske)
        }
        Ok(a) => {
            return (
                Verdict::Error(format!(
                    "offered only the DHE suites it accepted, it answered {} with no DHE ServerKeyExchange",
                    describe(&a)
                )),
                json!(null),
            )
        }
        Err(e) => return (Verdict::Error(format!("offering its DHE suites: {e}")), json!(null)),
    };
    let Some(bits) = keys::dhe_prime_bits(&ske) else {
        return (Verdict::Error("its DHE ServerKeyExchange holds no readable prime".into()), json!(null));
    };
    let bits = u32::try_from(bits).unwrap_or(u32::MAX);
    let name = mtls_tlsprobe::suites::name(suite);
    let detail = json!({ "suite": name, "prime_bits": bits });
    let problems = shortfalls(&ctx.tls_rules.key_sizes, |r| {
        r.dhe.filter(|min| bits < *min).map(|min| format!("DHE group of {bits} bits, under {min}"))
    });
    if problems.is_empty() {
        (Verdict::Pass(format!("{name}: a {bits}-bit DHE group")), detail)
    } else {
        (Verdict::Fail(format!("{name}: {}", problems.join("; "))), detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_test_pki_and_their_sizes() {
        let compact = mtls_core::pki::TestPki::shared().expect("pki");
        let key = KeyKind::of(compact.server.cert_der.as_ref()).expect("parses");
        assert_eq!(key, KeyKind::Ec("P-256".into(), 256));
        let fapi1 = KeySizeRule { rsa: Some(2048), ec: Some(160), dhe: Some(2048), citation: "X".into() };
        assert_eq!(key.short_of(&fapi1), None);
        assert_eq!(KeyKind::Rsa(1024).short_of(&fapi1).as_deref(), Some("RSA key of 1024 bits, under 2048"));
        assert_eq!(
            KeyKind::Ec("P-192".into(), 192).short_of(&mtls_core::tls_policy::bcp195_key_sizes()).as_deref(),
            Some("EC key P-192 of 192 bits, under 224")
        );
        assert_eq!(significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(significant_bits(&[0x01, 0xff]), 9);
        assert!(KeyKind::of(b"not a certificate").is_err());
    }
}
