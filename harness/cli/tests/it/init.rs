//! `mtls-harness init` against real servers: node-oidc-provider in each alias layout and
//! glewlwyd. The file it writes says what the AS publishes, has TODO only where the user must
//! answer, is refused by the loader until they are filled, and — filled — runs to a verdict.
//!
//! Each test runs with each style of test PKI at once: init is given the style's `ca.pem` (the
//! ecosystem PKI's root alone) and `registered.pem` (there the leaf with its issuing and
//! intermediate CAs).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{each_style, write_pki};
use crate::oidc_provider::{start_peer, Config};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mtls-harness")).args(args).output().unwrap()
}

/// init, then the checks the file must pass: the shape and origins found, the TODO lines, the
/// loader's refusal until they are filled, and a run with them filled from `answers`.
fn init_then_run(dir: &Path, issuer: &str, shape: Option<&str>, answers: &[(&str, &str)]) -> (String, Value) {
    let label = shape.unwrap_or("any");
    let out = dir.join(format!("target-{label}.yaml"));
    let p = |f: &str| dir.join(f).display().to_string();
    let o = harness(&[
        "init",
        "--issuer",
        issuer,
        "--ca",
        &p("ca.pem"),
        "--cert",
        &p("registered.pem"),
        "--key",
        &p("registered.key"),
        "--out",
        &out.display().to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("next: fill in the TODO"), "{stdout}");
    let yaml = std::fs::read_to_string(&out).unwrap();
    if let Some(shape) = shape {
        assert!(stdout.contains(&format!("shape {shape}")) && yaml.contains(&format!("#   shape: {shape}")), "{stdout}\n{yaml}");
    }
    assert!(yaml.contains("asks for a client certificate"), "{yaml}");
    assert!(!yaml.contains("PRIVATE KEY"), "only the key's path is written");
    // Refused until filled, naming the line.
    let refused = harness(&["run", "--target", &out.display().to_string(), "--report-dir", &p("unused")]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("a TODO is left here"), "{err}");
    // init never overwrites.
    let again = harness(&["init", "--issuer", issuer, "--ca", &p("ca.pem"), "--out", &out.display().to_string()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("init never overwrites"));
    let mut filled = yaml.clone();
    for (field, value) in answers {
        filled = if value.is_empty() {
            // An optional TODO the AS does not need: its line deleted, as the comment says.
            filled.lines().filter(|l| !l.starts_with(&format!("{field}: TODO"))).map(|l| format!("{l}\n")).collect()
        } else {
            filled.replacen(&format!("{field}: TODO"), &format!("{field}: {value}"), 1)
        };
    }
    let todo_left: Vec<&str> = filled.lines().filter(|l| l.split('#').next().unwrap_or_default().contains("TODO")).collect();
    assert!(todo_left.is_empty(), "only the TODOs were filled, and all of them: {todo_left:?}");
    std::fs::write(&out, &filled).unwrap();
    let report = dir.join(format!("report-{label}"));
    let run = harness(&["run", "--target", &out.display().to_string(), "--report-dir", &report.display().to_string(), "--format", "json"]);
    let r: Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    assert_eq!(run.status.code(), Some(0), "{}\n{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    (yaml, r)
}

#[test]
fn init_reads_node_oidc_provider_in_each_layout_and_the_filled_file_runs() {
    each_style(|style| {
        for (mode, shape) in [("identical", "identical"), ("split", "split"), ("none", "missing")] {
            let label = format!("{mode}, {style:?} PKI");
            let tmp = tempfile::tempdir().unwrap();
            write_pki(style, tmp.path());
            let peer = start_peer(Config { mode, defect: None, policy: "all" }, tmp.path(), "s3cr3t-init");
            // node-oidc-provider publishes scopes its client_credentials grant does not need.
            let (yaml, report) = init_then_run(tmp.path(), &peer.issuer, Some(shape), &[("client_id", "tpp-client-001"), ("scope", "")]);
            assert_eq!(report["verdict"], "pass", "{label}: {yaml}");
            let checks = report["scenarios"][0]["checks"].as_array().unwrap();
            let passed = |id: &str| checks.iter().any(|c| c["id"] == id && c["status"] == "pass");
            assert!(passed("auth.pki.accept") && (passed("bind.token-cnf") || passed("bind.introspection-cnf")), "{label}: {report}");
            if shape == "split" {
                assert!(yaml.contains("(alias; top level"), "{label}: {yaml}");
            }
        }
    });
}

#[test]
fn init_reads_glewlwyd_and_the_filled_file_runs() {
    each_style(|style| {
        let tmp = tempfile::tempdir().unwrap();
        write_pki(style, tmp.path());
        let secret = format!("glewlwyd-init-{}-{}", style.name(), std::process::id());
        let Some(peer) = crate::glewlwyd::start_peer(tmp.path(), &secret) else { return };
        let (yaml, report) = init_then_run(
            tmp.path(),
            &peer.issuer,
            None,
            &[("client_id", "tpp-client-001"), ("scope", "mtls"), ("require_bound_tokens", "false")],
        );
        assert!(yaml.contains("scope: TODO"), "{style:?}: glewlwyd publishes scopes: init asks for one\n{yaml}");
        assert!(yaml.contains("require_bound_tokens: TODO"), "{style:?}: glewlwyd does not publish bound tokens: init asks\n{yaml}");
        let checks = report["scenarios"][0]["checks"].as_array().unwrap();
        assert!(checks.iter().any(|c| c["id"] == "auth.pki.accept" && c["status"] == "pass"), "{style:?}: {report}");
        assert_eq!(report["verdict"], "pass", "{style:?}");
    });
}
