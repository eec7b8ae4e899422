//! Client mode: the harness is the AS. The client under test — the built-in reference client,
//! in process, or any program run as a command with the `ClientEnv` variables — talks to the
//! mock AS; when it is done, the `client.*` checks judge the mock's request journal.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::reference::{self as reference_client, ClientEnv};
use mtls_core::redact::Secrets;
pub use mtls_core::results::{ClientRun, RunEnd};
use mtls_core::scenario::ClientUnderTest;

const TAIL: usize = 20;

/// The last lines of a client's output, with anything token- or key-like redacted: a client
/// under test may print what the harness must never write into a report.
fn tail(text: &str, secrets: &Secrets) -> Vec<String> {
    // Scrubbed whole before it is cut: a secret split by the 300-character cut is still found.
    let text = secrets.scrub(text);
    let lines: Vec<String> = text.lines().map(|l| redact_line(&l.chars().take(300).collect::<String>())).collect();
    lines[lines.len().saturating_sub(TAIL)..].to_vec()
}

fn redact_line(line: &str) -> String {
    if line.contains("PRIVATE KEY") {
        return "[redacted: key material]".into();
    }
    line.split_inclusive(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '=' | ':'))
        .map(|w| {
            let core = w.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '=' | ':'));
            let looks_jwt = core.starts_with("eyJ") && core.matches('.').count() >= 1;
            let looks_opaque = core.len() >= 32 && core.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if looks_jwt || looks_opaque {
                w.replacen(core, mtls_core::redact::REDACTED, 1)
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// The mtls-harness binary, for `{harness}` in commands.
fn harness_bin() -> String {
    std::env::var("MTLS_HARNESS_BIN")
        .ok()
        .or_else(|| std::env::current_exe().ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| "mtls-harness".into())
}

/// Run the client under test to completion (or its timeout); what it printed is scrubbed of
/// every secret in `secrets` (the run's: the mock AS registers what it issues there).
pub async fn run_client(
    cut: &ClientUnderTest,
    env: &ClientEnv,
    cwd: &Path,
    command_override: Option<&[String]>,
    secrets: &Secrets,
) -> ClientRun {
    let started = Instant::now();
    let timeout = Duration::from_millis(cut.timeout_ms);
    let command = command_override.map(<[String]>::to_vec).or_else(|| cut.command.clone());
    let Some(argv) = command else {
        let end = match tokio::time::timeout(timeout, reference_client::run(env, &cut.misbehave, secrets)).await {
            Ok(Ok(out)) => {
                let code = if out.failed.is_empty() { 0 } else { 1 };
                return ClientRun {
                    command: "reference client (in process)".into(),
                    end: RunEnd::Exited(code),
                    duration_ms: started.elapsed().as_millis() as u64,
                    output_tail: tail(&out.log.join("\n"), secrets),
                };
            }
            Ok(Err(why)) => (RunEnd::Exited(1), tail(&why, secrets)),
            Err(_) => (RunEnd::TimedOut(cut.timeout_ms), vec![]),
        };
        return ClientRun {
            command: "reference client (in process)".into(),
            end: end.0,
            duration_ms: started.elapsed().as_millis() as u64,
            output_tail: end.1,
        };
    };
    let argv: Vec<String> = argv.iter().map(|a| a.replace("{harness}", &harness_bin())).collect();
    let shown = argv.join(" ");
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .envs(env.vars())
        .envs(&cut.env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return ClientRun { command: shown, end: RunEnd::NotStarted(format!("{}: {e}", argv[0])), duration_ms: 0, output_tail: vec![] }
        }
    };
    // On timeout the future (and with it the child, kill_on_drop) is dropped: the client dies.
    let (end, out) = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(o)) => {
            let end = match o.status.code() {
                Some(c) => RunEnd::Exited(c),
                None => RunEnd::Signalled,
            };
            let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            (end, tail(&text, secrets))
        }
        Ok(Err(e)) => (RunEnd::NotStarted(e.to_string()), vec![]),
        Err(_) => (RunEnd::TimedOut(cut.timeout_ms), vec![]),
    };
    ClientRun { command: shown, end, duration_ms: started.elapsed().as_millis() as u64, output_tail: out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_output_is_redacted() {
        let l = super::redact_line("token: eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig, ok");
        assert!(!l.contains("eyJ") && l.contains("[redacted]") && l.ends_with(", ok"), "{l}");
        assert_eq!(super::redact_line("step token: 200"), "step token: 200");
        assert!(!super::redact_line("refresh=0123456789abcdef0123456789abcdef99").contains("0123456789abcdef"));
        assert_eq!(super::redact_line("-----BEGIN PRIVATE KEY-----"), "[redacted: key material]");
    }
}
