//! `mtls-harness client`: the reference client, from the `MTLS_*` environment contract.

use mtls_harness::reference_client::{self, ClientEnv, Misbehaviour};

pub(crate) fn reference(misbehave: &[Misbehaviour]) -> anyhow::Result<u8> {
    let env = ClientEnv::from_env().map_err(anyhow::Error::msg)?;
    let rt = super::runtime()?;
    // What it obtains (codes, tokens) is registered, and its log never prints one.
    let secrets = mtls_harness::redact::Secrets::new();
    let out = rt.block_on(reference_client::run(&env, misbehave, &secrets)).map_err(anyhow::Error::msg)?;
    for line in &out.log {
        eprintln!("{}", mtls_harness::text::inert(&secrets.scrub(line)));
    }
    Ok(if out.failed.is_empty() { 0 } else { 1 })
}
