//! The integration tests of `mtls-harness`, in one test binary (one link of the dependency tree
//! instead of one per file). Each module was a test binary of its own; they now share one
//! process, so every test must pass with all the others running beside it: environment
//! variables a test sets have names no other test uses, servers bind port 0, and a test that
//! measures the whole process (`stress`) runs in a child process of its own
//! ([`common::run_alone`]). `tests/scenarios.rs` (libtest-mimic, `harness = false`) stays a
//! binary of its own.
//!
//! Rendered output (terminal lines, summary.md, the README's bad-input table) is pinned by
//! `insta` snapshots in `snapshots/`; review a change with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test --test it`, then `git diff`). Under `CI=true` a mismatch fails
//! and nothing is written.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod front;

mod apache;
mod bad_input;
mod cli;
mod client_mode;
mod concurrency;
mod connections;
mod docs_ci;
mod edge_spoofing;
mod fuzz;
mod glewlwyd;
mod haproxy;
mod header_spelling;
mod init;
mod live;
mod mock_as;
mod nginx;
mod observe;
mod oidc_provider;
mod open_finance;
mod profiles_real;
mod readme;
mod redaction;
mod reports;
mod self_test;
mod spring_as;
mod spring_as_defects;
mod spring_as_observe;
mod stress;
mod target_mistakes;
mod terminal;
mod tls_bounds;
mod tls_key_probes;
mod tls_probes;
mod tls_race;
