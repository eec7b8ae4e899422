//! "Is it my file or the bank?": a user's own mistake in the target file, against a conformant
//! node-oidc-provider. The RFC verdict stays what it is — the AS refused the client the file
//! names — but the reason gives both readings and names the key and line to check, and every
//! report lists the result first, under "check your target file first".

use std::process::Command;

use mtls_harness::pki::PkiStyle;

use crate::common::write_pki;
use crate::oidc_provider::{start_peer, Config};

/// A `client_id` one letter off (`tpp-client-00l`): `auth.pki.accept` fails with 401
/// `invalid_client` and says it may be the file — `clients.tls_client_auth.client_id` on line 6.
#[test]
fn a_wrong_client_id_names_the_key_and_line_beside_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    write_pki(PkiStyle::Compact, dir.path());
    let peer = start_peer(Config { mode: "identical", defect: None, policy: "own" }, dir.path(), "s3cr3t-target-mistakes-1");
    let target = dir.path().join("target.yaml");
    std::fs::write(
        &target,
        format!(
            "id: mistaken\nissuer: {}\nca_bundle: ca.pem\nclients:\n  tls_client_auth:\n    client_id: tpp-client-00l\n    cert: registered.pem\n    key: registered.key\nchecks: [\"auth.pki.accept\"]\n",
            peer.issuer
        ),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .args(["run", "--target"])
        .arg(&target)
        .arg("--report-dir")
        .arg(&reports)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "the AS refused the client the file names: fail\n{stdout}");
    let key = format!("`clients.tls_client_auth.client_id` ({}:6)", target.display());
    assert!(stdout.contains("two readings (401 invalid_client)") && stdout.contains(&key), "{stdout}");
    assert!(stdout.contains("check your target file first"), "{stdout}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    let accept = json["scenarios"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "auth.pki.accept").unwrap().clone();
    assert_eq!(accept["status"], "fail");
    assert!(accept["check_file"].as_str().unwrap().contains(&key), "{accept}");
    assert!(accept["check_file"].as_str().unwrap().contains("`clients.tls_client_auth.cert`"), "{accept}");
    let md = std::fs::read_to_string(reports.join("summary.md")).unwrap();
    assert!(md.find("### Check your target file first").unwrap() < md.find("| scenario | shape |").unwrap(), "listed first:\n{md}");
    let html = std::fs::read_to_string(reports.join("report.html")).unwrap();
    assert!(html.find("id=\"check-target-file\"").unwrap() < html.find("id=\"configuration\"").unwrap(), "listed first in the HTML");
}

/// The right file against the same server: no second reading, nothing listed.
#[test]
fn the_right_file_gets_no_second_reading() {
    let dir = tempfile::tempdir().unwrap();
    write_pki(PkiStyle::Compact, dir.path());
    let peer = start_peer(Config { mode: "identical", defect: None, policy: "own" }, dir.path(), "s3cr3t-target-mistakes-2");
    let target = dir.path().join("target.yaml");
    std::fs::write(
        &target,
        format!(
            "id: right\nissuer: {}\nca_bundle: ca.pem\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\nchecks: [\"auth.pki.*\"]\n",
            peer.issuer
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .args(["run", "--target"])
        .arg(&target)
        .arg("--report-dir")
        .arg(dir.path().join("reports"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("two readings") && !stdout.contains("check your target file first"), "{stdout}");
}
