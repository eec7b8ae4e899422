//! The subcommands of `mtls-harness`, one file each.

pub(crate) mod bench;
pub(crate) mod check_target;
pub(crate) mod client;
pub(crate) mod init;
pub(crate) mod list;
pub(crate) mod observe;
pub(crate) mod run;
pub(crate) mod serve;

/// A multi-threaded tokio runtime for a command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}
