//! One probe: connect, send a ClientHello, read the first flight, close — each step bounded.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Answer, ClientHello, Flight, ProbeError, Until};

/// The bounds of one probe.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// From the hello sent to the flight read (a server that accepts TCP and says nothing ends
    /// here).
    pub read: Duration,
}

/// Send `hello` to `host:port` and read the answer up to `until`.
pub async fn probe(host: &str, port: u16, hello: &ClientHello, until: Until, t: Timeouts) -> Result<Answer, ProbeError> {
    probe_recorded(host, port, hello, until, t).await.map(|(a, _)| a)
}

/// [`probe`], also returning every byte the server sent (for recording flights as test data).
pub async fn probe_recorded(
    host: &str,
    port: u16,
    hello: &ClientHello,
    until: Until,
    t: Timeouts,
) -> Result<(Answer, Vec<u8>), ProbeError> {
    let (mut tcp, addr) = connect(host, port, t).await?;
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| ProbeError::Protocol(format!("no randomness: {e}")))?;
    let bytes = hello.encode(random);
    let exchange = async {
        tcp.write_all(&bytes).await.map_err(|source| ProbeError::Io { addr: addr.clone(), source })?;
        read_flight(&mut tcp, &addr, until).await
    };
    match tokio::time::timeout(t.read, exchange).await {
        Ok(r) => r,
        Err(_) => {
            Err(ProbeError::Timeout(format!("{addr} accepted the connection but sent no answer to a ClientHello within {:?}", t.read)))
        }
    }
}

/// A TCP connection to `host:port` (an IPv6 literal bracketed or not) within `t.connect`, and
/// its address for messages.
pub(crate) async fn connect(host: &str, port: u16, t: Timeouts) -> Result<(TcpStream, String), ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addr = if bare.contains(':') { format!("[{bare}]:{port}") } else { format!("{bare}:{port}") };
    let tcp = match tokio::time::timeout(t.connect, TcpStream::connect(&addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(source)) => return Err(ProbeError::Connect { addr, source }),
        Err(_) => return Err(ProbeError::Timeout(format!("connecting to {addr} took longer than {:?}", t.connect))),
    };
    let _ = tcp.set_nodelay(true);
    Ok((tcp, addr))
}

/// Read what the server sent into `buf`: the byte count, 0 at end of stream — a reset too, as a
/// server refusing a hello often resets.
pub(crate) async fn read_some(tcp: &mut TcpStream, buf: &mut [u8], addr: &str) -> Result<usize, ProbeError> {
    match tcp.read(buf).await {
        Ok(n) => Ok(n),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => Ok(0),
        Err(source) => Err(ProbeError::Io { addr: addr.to_string(), source }),
    }
}

async fn read_flight(tcp: &mut TcpStream, addr: &str, until: Until) -> Result<(Answer, Vec<u8>), ProbeError> {
    let mut flight = Flight::new(until);
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = read_some(tcp, &mut buf, addr).await?;
        if n == 0 {
            return Ok((flight.eof(), raw));
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(answer) = flight.push(&buf[..n])? {
            return Ok((answer, raw));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Version;

    #[tokio::test]
    async fn a_server_that_accepts_and_says_nothing_is_a_timeout_within_the_bound() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        let keep = tokio::spawn(async move { l.accept().await.map(|(s, _)| s) });
        let t = Timeouts { connect: Duration::from_millis(500), read: Duration::from_millis(300) };
        let t0 = std::time::Instant::now();
        let hello = ClientHello::new(&[Version::Tls12], vec![0xc02f], "127.0.0.1");
        let r = probe("127.0.0.1", port, &hello, Until::ServerHello, t).await;
        assert!(matches!(&r, Err(ProbeError::Timeout(m)) if m.contains("sent no answer")), "{r:?}");
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        keep.abort();
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let t = Timeouts { connect: Duration::from_millis(500), read: Duration::from_millis(300) };
        let hello = ClientHello::new(&[Version::Tls12], vec![0xc02f], "127.0.0.1");
        let r = probe("127.0.0.1", port, &hello, Until::ServerHello, t).await;
        assert!(matches!(r, Err(ProbeError::Connect { .. })), "{r:?}");
    }
}
