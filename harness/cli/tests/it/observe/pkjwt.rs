//! Observe mode with private_key_jwt clients: oauth4webapi and openid-client, each sending RFC 7523
//! client assertions over mutual TLS (the transport certificate binds the token, RFC 8705 §3),
//! observed through `observe --preserve-issuer` in front of node-oidc-provider addressed as
//! `https://localhost:PORT` (its private_key_jwt client `tpp-jwt-001`), in the split and the
//! identical layout. The proxy keeps each assertion's header and claims (never the JWS), so the
//! `client.auth.assertion.*` checks judge the observed traffic as they judge client mode's: with
//! the aliases used the verdict is `pass`; a client that ignores them (split) fails exactly
//! `client.alias.token`. Without the client's key, the method is read from the traffic and the
//! signature check skips saying what to give — never `pass`.

use std::process::{Command, Output};

use mtls_harness::pki::{Role, TestPki};

use super::{observe_cmd, outcomes};
use crate::common::repo;
use crate::oidc_provider::{start_peer_with, Config};

/// The client scripts under test, by name.
pub(crate) const CLIENTS: [(&str, &str); 2] = [("oauth4webapi", "oauth4webapi/client.mjs"), ("openid-client", "openid-client/client.mjs")];

/// The assertion checks, every one of which a private_key_jwt client's observation judges.
pub(crate) const ASSERTION_CHECKS: [&str; 6] = [
    "client.auth.assertion.signature",
    "client.auth.assertion.alg",
    "client.auth.assertion.claims",
    "client.auth.assertion.aud",
    "client.auth.assertion.lifetime",
    "client.auth.assertion.jti",
];

/// Whether unshare can give a client command a private /etc/hosts here.
pub(crate) fn can_unshare() -> bool {
    let probe = Command::new("unshare").args(["--mount", "--propagation", "private", "true"]).output();
    probe.is_ok_and(|o| o.status.success())
}

/// Every compact JWS-looking word of `text` (`eyJ….….…`): a token or an assertion leaked.
pub(crate) fn compact_jws(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .filter(|w| w.starts_with("eyJ") && w.split('.').filter(|p| !p.is_empty()).count() == 3)
        .map(str::to_string)
        .collect()
}

/// stdout, stderr and every report file of a run.
pub(crate) fn everything(out: &Output, report: &std::path::Path) -> String {
    let mut text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for f in std::fs::read_dir(report).unwrap() {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()));
    }
    text
}

/// One observation of `script` as `tpp-jwt-001` against `issuer`; `key`: hand observe the
/// signing key (else the command carries it itself and observe reads the method from the traffic).
fn observe_jwt_client(dir: &std::path::Path, label: &str, issuer: &str, resource: &str, script: &str, aliases: bool, key: bool) -> Output {
    let report = dir.join(format!("report-{label}"));
    let node = format!("node {}", repo().join("fixtures/peers").join(script).display());
    let jwt_key = dir.join("jwt-client.key").display().to_string();
    let client = if key { node } else { format!("env MTLS_CLIENT_AUTH=private_key_jwt MTLS_JWT_KEY={jwt_key} MTLS_JWT_ALG=EdDSA {node}") };
    let mut args = vec![
        "--upstream",
        issuer,
        "--preserve-issuer",
        "--resource",
        resource,
        "--client-id",
        "tpp-jwt-001",
        "--steps",
        "token,introspect,resource,revoke",
        "--client-cmd",
        &client,
        "--duration",
        "60",
        "--format",
        "json",
        "--use-aliases",
        if aliases { "true" } else { "false" },
    ];
    if key {
        args.extend(["--client-auth", "private_key_jwt", "--jwt-key", &jwt_key, "--jwt-alg", "EdDSA", "--jwt-kid", "tpp-jwt-001-eddsa"]);
    }
    observe_cmd(dir, &report, &args)
}

#[test]
fn private_key_jwt_clients_through_the_proxy_in_front_of_node_split_and_identical() {
    if !can_unshare() {
        eprintln!("SKIPPED: no privilege to unshare a mount namespace here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let thumb = pki.identity(Role::Registered).x5t_s256.clone();
    let key_pem = std::fs::read_to_string(tmp.path().join("jwt-client.key")).unwrap();
    let key_lines: Vec<&str> = key_pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 16).collect();
    assert!(!key_lines.is_empty());
    for mode in ["split", "identical"] {
        let cfg = Config { mode, defect: None, policy: "all" };
        let peer = start_peer_with(cfg, tmp.path(), "s3cr3t-observe-pkjwt", &[("PEER_PUBLIC_HOST", "localhost")]);
        for (name, script) in CLIENTS {
            // Aliases ignored are visible only where the alias is another listener (split).
            let uses = if mode == "split" { vec![true, false] } else { vec![true] };
            for aliases in uses {
                let label = format!("{mode}-{name}-{aliases}");
                let out = observe_jwt_client(tmp.path(), &label, &peer.issuer, &peer.resource, script, aliases, true);
                let stdout = String::from_utf8_lossy(&out.stdout).to_string();
                let report = tmp.path().join(format!("report-{label}"));
                assert!(report.join("report.json").exists(), "{label}: no report\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
                let (got, verdict) = outcomes(&report);
                println!("{label}: verdict {verdict}\n{stdout}");
                let row = |id: &str| got.get(id).cloned().unwrap_or_else(|| ("missing".into(), String::new()));
                let text = everything(&out, &report);
                assert!(compact_jws(&text).is_empty(), "{label}: a JWS in the output: {:?}", compact_jws(&text));
                for l in &key_lines {
                    assert!(!text.contains(l), "{label}: the assertion key appears in the output");
                }
                assert!(stdout.contains("client auth: private_key_jwt (as declared)"), "{label}\n{stdout}");
                if aliases {
                    assert_eq!(out.status.code(), Some(0), "{label}\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
                    assert_eq!(verdict, "pass", "{label}: {got:?}");
                    for id in ["client.discovery", "client.alias.token", "client.alias.introspection", "client.alias.revocation"]
                        .into_iter()
                        .chain(["client.cert.presented", "client.client-id", "client.rs.same-cert"])
                        .chain(ASSERTION_CHECKS)
                    {
                        assert_eq!(row(id).0, "pass", "{label} {id}: {}", row(id).1);
                    }
                    assert!(row("client.client-id").1.contains("carry a jwt-bearer client_assertion"), "{:?}", row("client.client-id"));
                    assert!(row("client.auth.assertion.signature").1.contains("verify with a registered key"), "{label}");
                    assert!(row("client.auth.assertion.aud").1.ends_with("name the AS (RFC 7523 §3) in aud"), "{label}");
                    // The upstream bound the token to the transport certificate (RFC 8705 §3).
                    let bound = format!("(token bound to x5t#S256={thumb})");
                    assert!(stdout.lines().any(|l| l.contains("POST /token/introspection") && l.ends_with(&bound)), "{label}\n{stdout}");
                } else {
                    assert_eq!(out.status.code(), Some(1), "{label}\n{stdout}");
                    assert_eq!(verdict, "fail", "{label}");
                    let failed: Vec<&String> = got.iter().filter(|(_, (s, _))| s == "fail").map(|(id, _)| id).collect();
                    assert_eq!(failed, ["client.alias.token"], "{label}: {got:?}");
                    assert!(row("client.alias.token").1.contains("not to the published alias"), "{:?}", row("client.alias.token"));
                }
            }
        }
        if mode == "split" {
            // No key given: the method is read from the traffic, the signature is not verified.
            let label = format!("{mode}-inferred");
            let out = observe_jwt_client(tmp.path(), &label, &peer.issuer, &peer.resource, CLIENTS[0].1, true, false);
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            let (got, verdict) = outcomes(&tmp.path().join(format!("report-{label}")));
            assert!(stdout.contains("client auth: private_key_jwt (read from the traffic: a jwt-bearer client_assertion"), "{stdout}");
            let (s, r) = got["client.auth.assertion.signature"].clone();
            assert_eq!(s, "skip", "{r}");
            assert!(r.contains("no signature was verified") && r.contains("--client-jwks") && r.contains("--jwt-key"), "{r}");
            for id in ASSERTION_CHECKS.iter().skip(1).chain(["client.client-id", "client.alias.token"].iter()) {
                assert_eq!(got[*id].0, "pass", "{id}: {}", got[*id].1);
            }
            assert_eq!((out.status.code(), verdict.as_str()), (Some(0), "pass"), "{stdout}");
        }
        if mode == "identical" {
            // From a target file: its private_key_jwt client (key, alg, kid, transport
            // certificate) is the observed client; no --client-auth or --jwt-key given.
            let file = tmp.path().join("target.yaml");
            std::fs::write(
                &file,
                format!(
                    "issuer: {}\nca_bundle: ca.pem\nresource: {}\nclients:\n  private_key_jwt: {{ client_id: tpp-jwt-001, signing_key: jwt-client.key, alg: EdDSA, kid: tpp-jwt-001-eddsa, cert: registered.pem, key: registered.key }}\n",
                    peer.issuer, peer.resource
                ),
            )
            .unwrap();
            let report = tmp.path().join("report-target-file");
            let client = format!("node {}", repo().join("fixtures/peers/openid-client/client.mjs").display());
            let target = file.display().to_string();
            let args = ["--target", &target, "--preserve-issuer", "--steps", "token,introspect,resource,revoke", "--client-cmd", &client];
            let out = observe_cmd(tmp.path(), &report, &args);
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
            assert!(stdout.contains("client auth: private_key_jwt (as declared)"), "{stdout}");
            let (got, verdict) = outcomes(&report);
            assert_eq!(verdict, "pass", "{got:?}");
            for id in ASSERTION_CHECKS.iter().chain(["client.client-id", "client.rs.same-cert"].iter()) {
                assert_eq!(got[*id].0, "pass", "{id}: {}", got[*id].1);
            }
        }
        drop(peer);
    }
}

/// What a user sees observing a real private_key_jwt client (oauth4webapi) with the issuer
/// rewritten: the client signs the proxy's issuer as `aud`, node-oidc-provider refuses it, and the
/// run explains why and what works instead — verdict `error`, exit 2, no check `fail` (the
/// assertion checks that would fail on the proxy's audience are `blocked` by the setup).
#[test]
fn a_real_private_key_jwt_client_with_a_rewritten_issuer_is_explained_not_failed() {
    let tmp = tempfile::tempdir().unwrap();
    TestPki::generate().unwrap().write_to(tmp.path()).unwrap();
    let cfg = Config { mode: "split", defect: None, policy: "all" };
    let peer = crate::oidc_provider::start_peer(cfg, tmp.path(), "s3cr3t-observe-pkjwt-rewritten");
    let report = tmp.path().join("report");
    let client = format!("node {}", repo().join("fixtures/peers/oauth4webapi/client.mjs").display());
    let key = tmp.path().join("jwt-client.key").display().to_string();
    let args = [
        "--upstream",
        &peer.issuer,
        "--client-id",
        "tpp-jwt-001",
        "--client-auth",
        "private_key_jwt",
        "--jwt-key",
        &key,
        "--steps",
        "token",
        "--client-cmd",
        &client,
        "--format",
        "json",
    ];
    let out = observe_cmd(tmp.path(), &report, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains(
            "cannot judge: the client sent a client_assertion (RFC 7523) at POST /token (the upstream answered 401 invalid_client)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Run observe with --preserve-issuer"), "{stdout}");
    let (got, verdict) = outcomes(&report);
    assert_eq!(verdict, "error", "{got:?}");
    assert!(got.values().all(|(status, _)| status != "fail"), "{got:?}");
    let (s, r) = got["client.auth.assertion.aud"].clone();
    assert!(s == "blocked" && r.contains("run with --preserve-issuer"), "{s}: {r}");
    assert_eq!(got["client.auth.assertion.signature"].0, "pass", "the signature itself verifies");
    assert!(compact_jws(&everything(&out, &report)).is_empty(), "no JWS in the output");
}
