//! The key material a TLS 1.2 server shows in clear (RFC 5246 §7.4.2, §7.4.3): which suites
//! authenticate with which kind of certificate, and the size of an ephemeral finite-field
//! Diffie-Hellman group from its ServerKeyExchange (RFC 5246 §7.4.3 `ServerDHParams`).

use crate::suites;

/// The kind of server certificate a TLS 1.2 suite authenticates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Auth {
    /// `_RSA_` suites (ECDHE_RSA, DHE_RSA, static RSA).
    Rsa,
    /// `_ECDSA_` suites.
    Ecdsa,
}

impl Auth {
    /// The certificate kind of `suite`; `None` for PSK, anonymous, DSS and static (EC)DH suites.
    pub fn of(suite: u16) -> Option<Auth> {
        let n = suites::name(suite);
        if n.contains("PSK") || n.contains("_anon_") {
            None
        } else if n.starts_with("TLS_ECDHE_ECDSA_") {
            Some(Auth::Ecdsa)
        } else if n.starts_with("TLS_ECDHE_RSA_") || n.starts_with("TLS_DHE_RSA_") || n.starts_with("TLS_RSA_WITH_") {
            Some(Auth::Rsa)
        } else {
            None
        }
    }

    /// `RSA`, `ECDSA`.
    pub fn name(self) -> &'static str {
        match self {
            Auth::Rsa => "RSA",
            Auth::Ecdsa => "ECDSA",
        }
    }
}

/// `suite` agrees its key with ephemeral finite-field Diffie-Hellman (`TLS_DHE_*`).
pub fn is_dhe(suite: u16) -> bool {
    let n = suites::name(suite);
    n.starts_with("TLS_DHE_") && !n.contains("PSK")
}

/// The size in bits of the prime `dh_p` of a DHE ServerKeyExchange body (RFC 5246 §7.4.3: a
/// 2-byte length, then the prime, big-endian; leading zero bits do not count).
pub fn dhe_prime_bits(key_exchange: &[u8]) -> Option<usize> {
    let [hi, lo, rest @ ..] = key_exchange else { return None };
    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
    let p = rest.get(..len)?;
    let first = p.iter().position(|b| *b != 0)?;
    Some((p.len() - first) * 8 - p[first].leading_zeros() as usize)
}

/// Named groups without the RFC 7919 finite-field ones (0x0100–0x01ff): a client that names
/// none gets the server's own DHE prime, the one it falls back to.
pub fn without_ffdhe(groups: &[u16]) -> Vec<u16> {
    groups.iter().copied().filter(|g| !(0x0100..=0x01ff).contains(g)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_by_certificate_kind() {
        let by = |n: &str| suites::by_name(n).unwrap_or_else(|| panic!("{n}"));
        assert_eq!(Auth::of(by("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")), Some(Auth::Rsa));
        assert_eq!(Auth::of(by("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")), Some(Auth::Rsa));
        assert_eq!(Auth::of(by("TLS_RSA_WITH_AES_128_GCM_SHA256")), Some(Auth::Rsa));
        assert_eq!(Auth::of(by("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")), Some(Auth::Ecdsa));
        assert_eq!(Auth::of(by("TLS_RSA_PSK_WITH_AES_128_GCM_SHA256")), None);
        assert!(is_dhe(by("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")));
        assert!(!is_dhe(by("TLS_DHE_PSK_WITH_AES_128_GCM_SHA256")) && !is_dhe(by("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")));
    }

    #[test]
    fn the_prime_size_counts_significant_bits() {
        let mut ske = vec![0x00, 0x81, 0x00, 0x80];
        ske.extend(std::iter::repeat_n(0xff, 127));
        ske.extend([0, 1, 2, 0, 1, 5]);
        assert_eq!(dhe_prime_bits(&ske), Some(1024), "a leading zero byte and the top bit");
        assert_eq!(dhe_prime_bits(&[0x01, 0x00, 0xff]), None, "truncated");
        assert_eq!(dhe_prime_bits(&[]), None);
        assert_eq!(without_ffdhe(&[0x001d, 0x0100, 0x0017, 0x0102]), [0x001d, 0x0017]);
    }
}
