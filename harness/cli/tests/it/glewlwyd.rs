//! The harness against a second, independent real AS: glewlwyd 2.7.5 (Debian package, C, GnuTLS),
//! started by `fixtures/peers/glewlwyd/start.sh` on 127.0.0.1 in HTTPS mode with the test CA as
//! its client CA, mTLS aliases at `…/mtls/*`, PAR, introspection, revocation and JWT access tokens.
//! Its full outcome table is asserted twice: under plain RFC 8705 (where glewlwyd conforms nothing
//! may fail, where it deviates the harness says so with the right status and citation), and under
//! a profile that requires certificate-bound tokens (which glewlwyd's discovery and its
//! secret-client tokens then break).
//!
//! `.ci/run` installs glewlwyd with apt-get. Without it this test fails under CI (`CI=true`) and
//! says how to install it elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mtls_harness::checks::Status;
use mtls_harness::pki::PkiStyle;

use crate::common::{client_ca, live_outcomes, repo, write_pki};

/// A running glewlwyd; stopped (with its work directory removed) when dropped.
pub(crate) struct Peer {
    child: Child,
    pub(crate) issuer: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // SIGTERM lets start.sh stop glewlwyd and clean up; closing its stdin does too.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn installed() -> bool {
    Command::new("sh").args(["-c", "command -v glewlwyd && command -v sqlite3"]).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

pub(crate) fn start_peer(pki_dir: &Path, secret: &str) -> Option<Peer> {
    if !installed() {
        let how = "glewlwyd is not installed: apt-get update && apt-get install -y glewlwyd sqlite3 (.ci/run does)";
        crate::common::server_unavailable(how);
        return None;
    }
    let script = repo().join("fixtures/peers/glewlwyd/start.sh");
    let child = Command::new("bash")
        .arg(script)
        .env("PKI_DIR", pki_dir)
        .env("PEER_CLIENT_SECRET", secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bash runs");
    let mut peer = Peer { child, issuer: String::new() };
    let ready = crate::common::ready_line(&mut peer.child, Duration::from_secs(40), "glewlwyd");
    assert!(ready["resource"].is_null(), "glewlwyd has no resource that checks the binding: {ready}");
    peer.issuer = ready["issuer"].as_str().unwrap().to_string();
    Some(peer)
}

fn target_file(dir: &Path, name: &str, issuer: &str, secret_env: &str, require_bound: bool, style: PkiStyle) -> PathBuf {
    let body = format!(
        "id: glewlwyd-{name}\nissuer: {issuer}\nca_bundle: ca.pem\nscope: mtls\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\n  self_signed: {{ client_id: self-signed-client-001, cert: self-signed.pem, key: self-signed.key }}\n  secret: {{ client_id: secret-client-001, secret_env: {secret_env}, bound_tokens: {require_bound} }}\n  public: {{ client_id: public-client-001 }}\n{}require_bound_tokens: {require_bound}\n",
        client_ca(style)
    );
    let f = dir.join(format!("{name}.yaml"));
    std::fs::write(&f, body).unwrap();
    f
}

/// glewlwyd's deviations and what the harness says of them (README, "Proven against glewlwyd").
const REFUSED_403: &str = "refused with 403 error=(none), where RFC 6749 §5.2 expects 400/401 error=invalid_client";

fn expected(require_bound: bool) -> Vec<(&'static str, Status, &'static str)> {
    let mut v = vec![
        ("auth.pki.no-cert", Status::Warn, REFUSED_403),
        ("auth.pki.other-subject", Status::Warn, REFUSED_403),
        ("auth.pki.rogue-ca", Status::Warn, REFUSED_403),
        ("auth.pki.expired", Status::Warn, REFUSED_403),
        ("auth.self.other", Status::Warn, REFUSED_403),
        ("bind.rs.same-cert", Status::Skip, "no protected resource"),
        ("bind.rs.other-cert", Status::Skip, "bind.rs.same-cert was skipped"),
        ("bind.rs.no-cert", Status::Skip, "bind.rs.same-cert was skipped"),
        ("edge.rs-header-spoof", Status::Skip, "bind.rs.same-cert was skipped"),
        // RFC 7009 §2.1: glewlwyd revokes a token at the request of another mTLS client.
        (
            "abuse.revoke-other-client",
            Status::Fail,
            "self-signed-client-001 (self_signed_tls_client_auth) revoked the primary client's token",
        ),
        // No cnf in glewlwyd's tokens: nothing to compare the binding with.
        ("edge.binding-follows-tls", Status::Blocked, "bound"),
        // Every spoof refused, with glewlwyd's 403 (as its other refusals).
        ("edge.client-auth-header-spoof", Status::Warn, "refused with 403 error=(none)"),
        ("bind.refresh-public", Status::Skip, "without a user"),
        // The fixture registers no private_key_jwt client in glewlwyd.
        ("auth.jwt.accept", Status::Skip, "no private_key_jwt client"),
        ("auth.jwt.bad-signature", Status::Skip, "auth.jwt.accept was skipped"),
        ("auth.jwt.aud-wrong", Status::Skip, "auth.jwt.accept was skipped"),
        ("auth.jwt.aud-endpoint", Status::Skip, "auth.jwt.accept was skipped"),
        ("auth.jwt.aud-array", Status::Skip, "auth.jwt.accept was skipped"),
        ("auth.jwt.replay", Status::Skip, "auth.jwt.accept was skipped"),
        ("auth.jwt.no-cert", Status::Skip, "auth.jwt.accept was skipped"),
        ("bind.jwt-client", Status::Skip, "auth.jwt.accept was skipped"),
        // GnuTLS with Debian's defaults (README, "The TLS layer"): TLS 1.0 and 1.1 accepted (a
        // SHOULD without a profile), CBC, CCM and ChaCha20 suites (informational without one).
        ("tls.version.floor", Status::Warn, "accepts TLS 1.0"),
        ("tls.ciphers.tls12", Status::Pass, "informational"),
        ("tls.cert-request.forbidden", Status::Skip, "no selected profile"),
        ("tls.ciphers.required", Status::Skip, "no selected profile names TLS 1.2 suites"),
        // libmicrohttpd gives GnuTLS no session cache and no tickets: nothing resumes, so no
        // token is ever issued on a resumed session (and none set up elsewhere is honoured).
        ("session.resumed-token-bound", Status::Skip, "resumed none"),
        ("session.resume-other-identity", Status::Pass, "0 session(s)"),
    ];
    if require_bound {
        v.push(("disc.bound-flag", Status::Fail, "absent means false"));
        v.push(("bind.other-auth", Status::Fail, "no cnf claim"));
    } else {
        v.push(("bind.other-auth", Status::Warn, "SHOULD-level"));
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glewlwyd_outcome_table() {
    outcome_table(PkiStyle::Compact).await;
}

/// The same with ecosystem-shaped certificates: RSA-2048 leaves of 2 KB under an RSA-4096 root →
/// intermediate → issuing chain (the root alone trusted, the chain sent), long Open Finance
/// subjects (which GnuTLS spells its own way in the registered DN), the harness minting with the
/// issuing CA as `client_ca`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glewlwyd_outcome_table_ecosystem_pki() {
    outcome_table(PkiStyle::Ecosystem).await;
}

async fn outcome_table(style: PkiStyle) {
    let tmp = tempfile::tempdir().unwrap();
    write_pki(style, tmp.path());
    let secret = format!("glewlwyd-s3cret-{}", std::process::id());
    std::env::set_var("MTLS_TEST_GLEWLWYD_SECRET", &secret);
    let Some(peer) = start_peer(tmp.path(), &secret) else { return };
    for require_bound in [false, true] {
        let name = format!("{}-{}", if require_bound { "bound-required" } else { "rfc8705" }, style.name());
        let name = name.as_str();
        let (got, verdict) =
            live_outcomes(&target_file(tmp.path(), name, &peer.issuer, "MTLS_TEST_GLEWLWYD_SECRET", require_bound, style)).await;
        let want = expected(require_bound);
        let mut table = String::new();
        let mut wrong = Vec::new();
        for (id, (status, reason)) in &got {
            table.push_str(&format!("| `{id}` | {} | {reason} |\n", status.name()));
            let (s, because) = crate::common::expected_without_profile(id, &want);
            if *status != s || !reason.contains(because) {
                wrong.push(format!("{id}: {} (want {}{because}): {reason}", status.name(), s.name()));
            }
        }
        println!("glewlwyd, {name}: verdict {verdict}\n{table}");
        assert!(wrong.is_empty(), "{name}:\n{}", wrong.join("\n"));
        // Any mTLS client may revoke any token (abuse.revoke-other-client): fail in both.
        assert_eq!(verdict, "fail", "{name}");
    }
}
