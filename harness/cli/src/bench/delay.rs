//! A TCP proxy that adds a round-trip time, for `scripts/bench --rtt`: each chunk is delivered
//! half an RTT after it was read, in both directions, and nothing flows until one RTT after the
//! connection was accepted (the TCP handshake a real network would cost before the first byte).
//! Chunks are pipelined through a delay line, not serialised behind one another's sleeps, so
//! bandwidth is not limited — only latency, as a distant server's is.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Chunks in flight per direction before reading pauses (bounds memory, not latency).
const LINE: usize = 256;
const CHUNK: usize = 16 * 1024;

/// A running delay proxy on 127.0.0.1; stops when dropped.
pub struct DelayProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    upstream: Arc<OnceLock<SocketAddr>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DelayProxy {
    /// Bind 127.0.0.1:0 and relay with `rtt`. The upstream is set later ([`DelayProxy::to`]):
    /// a server behind the proxy may need the proxy's port before it can start.
    pub async fn bind(rtt: Duration) -> std::io::Result<DelayProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream: Arc<OnceLock<SocketAddr>> = Arc::new(OnceLock::new());
        let up = upstream.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let accepted = Instant::now();
                if let Some(to) = up.get().copied() {
                    tokio::spawn(relay(client, to, rtt, accepted));
                }
            }
        });
        Ok(DelayProxy { addr, upstream, task })
    }

    /// Relay to `upstream` from now on (once; later calls are ignored).
    pub fn to(&self, upstream: SocketAddr) {
        let _ = self.upstream.set(upstream);
    }
}

async fn relay(client: TcpStream, to: SocketAddr, rtt: Duration, accepted: Instant) {
    let Ok(Ok(server)) = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(to)).await else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let half = rtt / 2;
    // The first byte may leave one RTT after accept (SYN, SYN-ACK), then takes half an RTT.
    let up = direction(cr, sw, half, accepted + rtt);
    let down = direction(sr, cw, half, accepted);
    let _ = tokio::join!(up, down);
}

/// Read chunks from `r`, deliver each to `w` `delay` after it was read (not before `not_before`
/// + `delay`), then propagate end of stream the same way.
async fn direction(mut r: tokio::net::tcp::OwnedReadHalf, mut w: tokio::net::tcp::OwnedWriteHalf, delay: Duration, not_before: Instant) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>(LINE);
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = r.read(&mut buf).await.unwrap_or(0);
            let at = Instant::now().max(not_before) + delay;
            let chunk = (n > 0).then(|| buf[..n].to_vec());
            let end = chunk.is_none();
            if tx.send((at, chunk)).await.is_err() || end {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            match chunk {
                Some(c) if w.write_all(&c).await.is_ok() => {}
                _ => break,
            }
        }
        let _ = w.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo behind the proxy: the first reply costs the connect RTT plus one RTT; a second
    /// exchange on the same connection costs one RTT.
    #[tokio::test]
    async fn a_round_trip_costs_one_rtt_and_a_connection_one_more() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut b = [0u8; 64];
                    while let Ok(n) = s.read(&mut b).await {
                        if n == 0 || s.write_all(&b[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let rtt = Duration::from_millis(60);
        let proxy = DelayProxy::bind(rtt).await.unwrap();
        proxy.to(echo_addr);
        let t0 = std::time::Instant::now();
        let mut c = TcpStream::connect(proxy.addr).await.unwrap();
        let mut b = [0u8; 4];
        c.write_all(b"ping").await.unwrap();
        c.read_exact(&mut b).await.unwrap();
        let first = t0.elapsed();
        let t1 = std::time::Instant::now();
        c.write_all(b"pong").await.unwrap();
        c.read_exact(&mut b).await.unwrap();
        let second = t1.elapsed();
        assert_eq!(&b, b"pong");
        assert!(first >= rtt * 2 && first < rtt * 2 + Duration::from_millis(50), "first exchange took {first:?}");
        assert!(second >= rtt && second < rtt + Duration::from_millis(50), "second exchange took {second:?}");
    }
}
