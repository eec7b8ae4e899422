//! Record a server's first flight as test data: `record HOST PORT KIND OUT`, KIND one of
//! `13` (TLS 1.3 + 1.2, every suite), `13-hrr` (an empty key share: draws a
//! HelloRetryRequest), `12` (TLS 1.2 only, read to ServerHelloDone),
//! `10` (TLS 1.0 only), `12-rc4` (TLS 1.2 offering only RC4).

use std::time::Duration;

use mtls_tlsprobe::{probe_recorded, suites, ClientHello, Timeouts, Until, Version};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port, kind, out] = args.as_slice() else {
        return Err("usage: record HOST PORT KIND OUT".into());
    };
    let all: Vec<u16> = suites::TLS13.iter().copied().chain(suites::tls12()).collect();
    let (hello, until) = match kind.as_str() {
        "13" => (ClientHello::new(&[Version::Tls13, Version::Tls12], all, host), Until::ServerHelloDone),
        "13-hrr" => {
            let mut h = ClientHello::new(&[Version::Tls13, Version::Tls12], all, host);
            h.key_share = false;
            (h, Until::ServerHelloDone)
        }
        "12" => (ClientHello::new(&[Version::Tls12], suites::tls12(), host), Until::ServerHelloDone),
        "10" => (ClientHello::new(&[Version::Tls10], suites::pre_tls12(), host), Until::ServerHelloDone),
        "12-rc4" => (ClientHello::new(&[Version::Tls12], vec![0x0004, 0x0005], host), Until::ServerHelloDone),
        other => return Err(format!("unknown kind {other}").into()),
    };
    let t = Timeouts { connect: Duration::from_secs(5), read: Duration::from_secs(5) };
    let (answer, raw) = probe_recorded(host, port.parse()?, &hello, until, t).await?;
    std::fs::write(out, &raw)?;
    println!("{answer:?}");
    Ok(())
}
