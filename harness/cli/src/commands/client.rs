//! `mtls-harness client`: the reference client, from the `MTLS_*` environment contract.

use mtls_harness::reference_client::{self, ClientEnv, Misbehaviour};

pub(crate) fn reference(misbehave: &[Misbehaviour]) -> anyhow::Result<u8> {
    let env = ClientEnv::from_env().map_err(anyhow::Error::msg)?;
    let rt = super::runtime()?;
    let out = rt.block_on(reference_client::run(&env, misbehave)).map_err(anyhow::Error::msg)?;
    for line in &out.log {
        eprintln!("{line}");
    }
    Ok(if out.failed.is_empty() { 0 } else { 1 })
}
