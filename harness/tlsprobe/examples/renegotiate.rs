//! Try a client-initiated renegotiation: `renegotiate HOST PORT`.

use std::time::Duration;

use mtls_tlsprobe::{renegotiate, Timeouts};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, host, port] = args.as_slice() else {
        return Err("usage: renegotiate HOST PORT".into());
    };
    let t = Timeouts { connect: Duration::from_secs(5), read: Duration::from_secs(5) };
    println!("{}", renegotiate(host, port.parse()?, t, None).await?.describe());
    Ok(())
}
