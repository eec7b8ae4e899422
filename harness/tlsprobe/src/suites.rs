//! Cipher suites by IANA name and by the protocol versions that can negotiate them (IANA "TLS
//! Cipher Suites" registry, as tabled by `tls-parser`).

use tls_parser::{TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherMac, TlsCipherSuite, TlsPRF, CIPHERS};

/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746 §3.3) and `TLS_FALLBACK_SCSV` (RFC 7507): signals,
/// not suites.
const SIGNALS: [u16; 2] = [0x00ff, 0x5600];

/// The IANA name of a suite, or its code point in hex when the registry has none.
pub fn name(id: u16) -> String {
    TlsCipherSuite::from_id(id).map(|s| s.name.to_string()).unwrap_or_else(|| format!("0x{id:04X}"))
}

/// The code point of an IANA suite name.
pub fn by_name(name: &str) -> Option<u16> {
    TlsCipherSuite::from_name(name).map(|s| s.id.0)
}

/// Every registered suite a TLS 1.2 server could choose (all but the TLS 1.3 suites and the
/// signalling values), in code-point order: what an exhaustive enumeration offers.
pub fn tls12() -> Vec<u16> {
    let mut all: Vec<u16> = CIPHERS.values().filter(|s| s.kx != TlsCipherKx::Tls13 && !SIGNALS.contains(&s.id.0)).map(|s| s.id.0).collect();
    all.sort_unstable();
    all
}

/// The suites a TLS 1.0 or 1.1 server could choose: no AEAD, no SHA-2 MAC or PRF (RFC 5246
/// §A.5 introduced those with TLS 1.2).
pub fn pre_tls12() -> Vec<u16> {
    tls12()
        .into_iter()
        .filter(|id| {
            TlsCipherSuite::from_id(*id).is_some_and(|s| {
                s.prf == TlsPRF::Default
                    && !matches!(s.enc_mode, TlsCipherEncMode::Gcm | TlsCipherEncMode::Ccm)
                    && s.enc != TlsCipherEnc::Chacha20_Poly1305
                    && !matches!(s.mac, TlsCipherMac::HmacSha256 | TlsCipherMac::HmacSha384 | TlsCipherMac::HmacSha512 | TlsCipherMac::Aead)
            })
        })
        .collect()
}

/// The TLS 1.3 suites (RFC 8446 §B.4).
pub const TLS13: [u16; 5] = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];

/// RFC 9325 §4.2: the four RECOMMENDED TLS 1.2 suites (ECDHE with AES-GCM).
pub const RFC9325_RECOMMENDED: [u16; 4] = [0xc02b, 0xc02f, 0xc02c, 0xc030];

/// What RFC 9325 §4.1 says of a suite a server accepted, when it says anything: `Some(MUST NOT)`
/// for NULL, RC4, export and < 112-bit ciphers; `Some(SHOULD NOT)` for static RSA/DH/ECDH key
/// exchange, DHE, and ciphers under 128 bits.
pub fn rfc9325_concern(id: u16) -> Option<&'static str> {
    let s = TlsCipherSuite::from_id(id)?;
    let export = s.name.contains("EXPORT");
    if s.enc == TlsCipherEnc::Null
        || s.enc == TlsCipherEnc::Rc4
        || export
        || (s.enc_size > 0 && s.enc_size < 112)
        || s.enc == TlsCipherEnc::Des
    {
        return Some("MUST NOT (RFC 9325 §4.1: NULL, RC4, export or < 112-bit)");
    }
    if s.enc == TlsCipherEnc::TripleDes || s.enc_size < 128 {
        return Some("SHOULD NOT (RFC 9325 §4.1: < 128-bit)");
    }
    match s.kx {
        TlsCipherKx::Rsa | TlsCipherKx::Dh | TlsCipherKx::Ecdh => {
            Some("SHOULD NOT (RFC 9325 §4.1: static key exchange, no forward secrecy)")
        }
        TlsCipherKx::Dhe => Some("SHOULD NOT (RFC 9325 §4.1: DHE in TLS 1.2)"),
        _ if s.enc_mode == TlsCipherEncMode::Cbc => Some("SHOULD NOT unless encrypt_then_mac (RFC 9325 §4.2: CBC)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_know_the_suites_profiles_name() {
        assert_eq!(name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(by_name("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"), Some(0x009f));
        assert_eq!(name(0xfefe), "0xFEFE");
        let all = tls12();
        assert!(all.len() > 300, "the whole registry, not a sample: {}", all.len());
        assert!(all.contains(&0x002f) && all.contains(&0xc02b) && all.contains(&0xcca8));
        assert!(!all.contains(&0x1301) && !all.contains(&0x00ff), "no TLS 1.3 suites, no SCSV");
        let old = pre_tls12();
        assert!(old.contains(&0x002f) && old.contains(&0xc013), "AES-CBC-SHA suites work in TLS 1.0");
        assert!(!old.contains(&0xc02f) && !old.contains(&0x003c), "GCM and SHA-256 suites are TLS 1.2 only");
    }

    #[test]
    fn rfc9325_concerns() {
        assert_eq!(rfc9325_concern(0xc02f), None);
        assert!(rfc9325_concern(0x0004).is_some_and(|c| c.starts_with("MUST NOT")), "RC4");
        assert!(rfc9325_concern(0x000a).is_some_and(|c| c.contains("128")), "3DES");
        assert!(rfc9325_concern(0x002f).is_some_and(|c| c.contains("static")), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert!(rfc9325_concern(0x009e).is_some_and(|c| c.contains("DHE")));
        assert!(rfc9325_concern(0xc013).is_some_and(|c| c.contains("CBC")));
    }
}
