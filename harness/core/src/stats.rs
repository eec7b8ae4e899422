//! Counters for the benchmark: TLS handshakes the mock AS's listeners completed, HTTP requests
//! they served, and requests the harness sent. Process-wide, relaxed atomics: cheap enough to
//! leave on.

use std::sync::atomic::{AtomicU64, Ordering};

static HANDSHAKES: AtomicU64 = AtomicU64::new(0);
static SERVED: AtomicU64 = AtomicU64::new(0);
static SENT: AtomicU64 = AtomicU64::new(0);

/// Count a TLS handshake a mock AS listener completed.
pub fn handshake() {
    HANDSHAKES.fetch_add(1, Ordering::Relaxed);
}

/// Count an HTTP request the mock AS served.
pub fn served() {
    SERVED.fetch_add(1, Ordering::Relaxed);
}

/// Count an HTTP request the harness sent.
pub fn sent() {
    SENT.fetch_add(1, Ordering::Relaxed);
}

/// The counters at one moment; subtract two for what happened in between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// TLS handshakes completed by the mock AS's listeners.
    pub handshakes: u64,
    /// HTTP requests the mock AS served.
    pub served: u64,
    /// HTTP requests the harness (and the in-process reference client) sent.
    pub sent: u64,
}

/// The counters now.
pub fn snapshot() -> Counts {
    Counts { handshakes: HANDSHAKES.load(Ordering::Relaxed), served: SERVED.load(Ordering::Relaxed), sent: SENT.load(Ordering::Relaxed) }
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts { handshakes: self.handshakes - o.handshakes, served: self.served - o.served, sent: self.sent - o.sent }
    }
}

/// Peak resident set size of this process (VmHWM), in KiB, where /proc tells it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
