//! Random identifiers (tokens of the mock, PKCE verifiers, temporary file names): 128 bits from
//! the operating system's generator, base64url without padding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// 128 random bits from the OS (`getrandom`), base64url-encoded without padding (22 characters).
/// Falls back to a time-and-counter value only if the OS generator fails, which it does not on
/// any platform the harness runs on.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        bytes[..8].copy_from_slice(&(nanos as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_url_safe() {
        let a = super::random_id();
        assert_eq!(a.len(), 22);
        assert_ne!(a, super::random_id());
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
