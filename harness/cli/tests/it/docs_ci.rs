//! The CI recipes a bank pastes (`docs/ci/`): both parse, run the same `mtls-harness run`
//! command, and their steps — all but installing the harness and GitHub's upload action — are
//! executed here as written, with the secrets they expect, against node-oidc-provider: the
//! reports they upload exist, the summary lands where GitHub reads it, and the key is removed.

use std::path::Path;
use std::process::Command;

use mtls_harness::pki::TestPki;
use serde_yaml::Value;

use crate::common::repo;
use crate::oidc_provider::{start_peer, Config};

fn recipe(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join("docs/ci").join(name)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("docs/ci/{name}: {e}"))
}

/// Run `script` with bash in `dir`, `PATH` reaching the built harness first, `env` set.
fn bash(dir: &Path, script: &str, env: &[(&str, String)]) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_mtls-harness")).parent().unwrap().display().to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .envs(env.iter().cloned())
        .output()
        .unwrap()
}

#[test]
fn the_ci_recipes_run_as_written_against_a_real_as() {
    let gh = recipe("github-actions.yml");
    let gl = recipe("gitlab-ci.yml");
    let steps = gh["jobs"]["mtls-harness"]["steps"].as_sequence().unwrap().clone();
    let run_of = |name: &str| -> String {
        steps.iter().find(|s| s["name"] == name).and_then(|s| s["run"].as_str()).unwrap_or_else(|| panic!("no step {name}")).to_string()
    };
    let script: Vec<String> =
        gl["mtls-conformance"]["script"].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    // The same command in both, the one the tests run.
    let command = run_of("Run the checks");
    assert!(command.starts_with("mtls-harness run --target sandbox/target.yaml"), "{command}");
    assert!(script.contains(&command), "GitLab runs the same command: {script:?}");
    assert!(run_of("Install mtls-harness").starts_with("cargo install --locked") && script[0].starts_with("cargo install --locked"));
    let upload = steps.iter().find(|s| s["name"] == "Upload the reports").unwrap();
    assert_eq!(upload["uses"], "actions/upload-artifact@v4");
    assert_eq!(upload["if"], "always()");
    assert_eq!(gl["mtls-conformance"]["artifacts"]["reports"]["junit"], "reports/junit.xml");

    // The secrets, as the recipes expect them: a target made by hand for node-oidc-provider.
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(pki_dir.path()).unwrap();
    let peer = start_peer(Config { mode: "split", defect: None, policy: "all" }, pki_dir.path(), "s3cr3t-docs-ci");
    let target = format!(
        "id: sandbox\nissuer: {}\nca_bundle: ca.pem\nresource: {}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: client.pem, key: client.key }}\n",
        peer.issuer, peer.resource
    );
    let read = |f: &str| std::fs::read_to_string(pki_dir.path().join(f)).unwrap();
    let key = read("registered.key");

    // GitHub Actions: every `run` step but the install, in order, as written.
    let gh_dir = tempfile::tempdir().unwrap();
    let summary = gh_dir.path().join("step-summary.md");
    let env = vec![
        ("MTLS_TARGET_YAML", target.clone()),
        ("MTLS_CA_PEM", read("ca.pem")),
        ("MTLS_CLIENT_PEM", read("registered.pem")),
        ("MTLS_CLIENT_KEY", key.clone()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    for name in ["Write the target, its CA and the client's certificate", "Run the checks", "Job summary"] {
        let o = bash(gh_dir.path(), &run_of(name), &env);
        assert!(o.status.success(), "{name}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        if name.starts_with("Write") {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(gh_dir.path().join("sandbox/client.key")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the key is written 0600");
        }
    }
    for f in upload["with"]["path"].as_str().unwrap().lines().filter(|l| !l.trim().is_empty()) {
        assert!(gh_dir.path().join(f.trim()).is_file(), "the upload step's {f} exists");
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## mtls-harness: PASS"), "{md}");
    let o = bash(gh_dir.path(), &run_of("Remove the key"), &env);
    assert!(o.status.success() && !gh_dir.path().join("sandbox/client.key").exists());

    // GitLab CI: the script after the install and the after_script, with File-type variables.
    let gl_dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| {
        let p = files.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let env = vec![
        ("MTLS_TARGET_YAML", file("target", &target)),
        ("MTLS_CA_PEM", file("ca", &read("ca.pem"))),
        ("MTLS_CLIENT_PEM", file("cert", &read("registered.pem"))),
        ("MTLS_CLIENT_KEY", file("key", &key)),
    ];
    let o = bash(gl_dir.path(), &script[1..].join("\n"), &env);
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let after: Vec<String> =
        gl["mtls-conformance"]["after_script"].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let o = bash(gl_dir.path(), &after.join("\n"), &env);
    let log = String::from_utf8_lossy(&o.stdout);
    assert!(log.contains("## mtls-harness: PASS"), "{log}");
    assert!(gl_dir.path().join("reports/junit.xml").is_file() && !gl_dir.path().join("sandbox/client.key").exists());
    // Nothing the recipes leave behind holds the key.
    for dir in [gh_dir.path(), gl_dir.path()] {
        for e in std::fs::read_dir(dir.join("reports")).unwrap() {
            let text = String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).to_string();
            assert!(!text.contains("PRIVATE KEY") && !key.lines().skip(1).take(1).any(|l| text.contains(l)), "key material in a report");
        }
    }
}

#[test]
fn completions_and_the_man_page_are_generated() {
    for (shell, marker) in [("bash", "_mtls__harness()"), ("zsh", "#compdef mtls-harness"), ("fish", "complete -c mtls-harness")] {
        let o = Command::new(env!("CARGO_BIN_EXE_mtls-harness")).args(["completions", shell]).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && text.contains(marker), "{shell}: {}", &text[..text.len().min(200)]);
        for sub in ["observe", "init", "run", "serve"] {
            assert!(text.contains(sub), "{shell} completes {sub}");
        }
    }
    let o = Command::new(env!("CARGO_BIN_EXE_mtls-harness")).arg("manpage").output().unwrap();
    let man = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && man.contains(".TH mtls-harness 1") && man.contains("observe") && man.contains("init"), "{man}");
}

/// `mtls-harness list --profiles | head -1`: the reader goes away; the harness ends quietly with
/// 141 (128 + SIGPIPE), never a panic.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    for args in [&["list", "--profiles"][..], &["manpage"][..], &["completions", "bash"][..]] {
        // A pipe whose read end is closed before the child starts: every write fails (EPIPE).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness")).args(args).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("error:"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}
