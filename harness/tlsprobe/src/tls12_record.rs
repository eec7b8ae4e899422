//! TLS 1.2 record protection for the renegotiation probe: the PRF (RFC 5246 §5) and AES-GCM
//! records (RFC 5288 §3, RFC 5246 §6.2.3.3), keyed by the handshake in `renegotiate.rs`.

use ring::aead::{Aad, LessSafeKey, Nonce};
use ring::digest;
use ring::hmac;

use crate::hello::record;
use crate::{ProbeError, Version};

/// The negotiated keys of the first handshake.
pub(crate) struct Session {
    pub(crate) client: LessSafeKey,
    pub(crate) client_iv: [u8; 4],
    pub(crate) client_seq: u64,
    pub(crate) server: LessSafeKey,
    pub(crate) server_iv: [u8; 4],
    pub(crate) server_seq: u64,
    pub(crate) client_verify: Vec<u8>,
}

impl Session {
    pub(crate) fn seal(&mut self, kind: u8, plain: &[u8]) -> Result<Vec<u8>, ProbeError> {
        let explicit = self.client_seq.to_be_bytes();
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.client_iv);
        nonce[4..].copy_from_slice(&explicit);
        let aad = additional(self.client_seq, kind, plain.len());
        let mut body = plain.to_vec();
        self.client
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body)
            .map_err(|_| ProbeError::Protocol("cannot encrypt".into()))?;
        self.client_seq += 1;
        let mut payload = explicit.to_vec();
        payload.extend_from_slice(&body);
        Ok(record(kind, Version::Tls12, &payload))
    }

    pub(crate) fn open(&mut self, kind: u8, payload: &[u8]) -> Result<Vec<u8>, ProbeError> {
        let bad = || ProbeError::Protocol("a record the server encrypted does not decrypt with the negotiated keys".into());
        if payload.len() < 8 + 16 {
            return Err(bad());
        }
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.server_iv);
        nonce[4..].copy_from_slice(&payload[..8]);
        let aad = additional(self.server_seq, kind, payload.len() - 8 - 16);
        let mut body = payload[8..].to_vec();
        let plain = self.server.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body).map_err(|_| bad())?;
        self.server_seq += 1;
        Ok(plain.to_vec())
    }
}

/// RFC 5246 §6.2.3.3: seq_num + type + version + length.
fn additional(seq: u64, kind: u8, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(&seq.to_be_bytes());
    a[8] = kind;
    a[9..11].copy_from_slice(&Version::Tls12.wire().to_be_bytes());
    a[11..].copy_from_slice(&(len as u16).to_be_bytes());
    a
}

/// RFC 5246 §5: PRF(secret, label, seed) = P_hash(secret, label + seed).
pub(crate) fn prf(hash: &'static digest::Algorithm, secret: &[u8], label: &str, seed: &[u8], len: usize) -> Vec<u8> {
    let alg = if hash == &digest::SHA384 { hmac::HMAC_SHA384 } else { hmac::HMAC_SHA256 };
    let key = hmac::Key::new(alg, secret);
    let mut ls = label.as_bytes().to_vec();
    ls.extend_from_slice(seed);
    let mut a = hmac::sign(&key, &ls).as_ref().to_vec();
    let mut out = Vec::with_capacity(len + 48);
    while out.len() < len {
        let mut input = a.clone();
        input.extend_from_slice(&ls);
        out.extend_from_slice(hmac::sign(&key, &input).as_ref());
        a = hmac::sign(&key, &a).as_ref().to_vec();
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5246's PRF with SHA-256 against a published test vector (the IETF TLS WG's
    /// "TLS 1.2 PRF test vectors", SHA-256, first 16 bytes).
    #[test]
    fn prf_sha256_matches_the_test_vector() {
        let secret = [0x9b, 0xbe, 0x43, 0x6b, 0xa9, 0x40, 0xf0, 0x17, 0xb1, 0x76, 0x52, 0x84, 0x9a, 0x71, 0xdb, 0x35];
        let seed = [0xa0, 0xba, 0x9f, 0x93, 0x6c, 0xda, 0x31, 0x18, 0x27, 0xa6, 0xf7, 0x96, 0xff, 0xd5, 0x19, 0x8c];
        let out = prf(&digest::SHA256, &secret, "test label", &seed, 16);
        assert_eq!(out, [0xe3, 0xf2, 0x29, 0xba, 0x72, 0x7b, 0xe1, 0x7b, 0x8d, 0x12, 0x26, 0x20, 0x55, 0x7c, 0xd4, 0x53]);
    }
}
