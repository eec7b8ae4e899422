//! Observe mode in front of Spring Authorization Server (`spring_as.rs`) in the `split` layout
//! (its aliases on a second listener that wants certificates), oauth4webapi as the client, as
//! `observe.rs` does with node-oidc-provider. With `use_mtls_endpoint_aliases` every client check
//! it can judge passes and the token Spring issued is bound to the client's certificate; without,
//! `client.alias.token` fails: the client went to the top-level token endpoint, where Spring asked
//! for no certificate and refused it (401).

use mtls_harness::pki::{PkiStyle, Role};

use crate::common::{ensure_node_peers, repo};
use crate::observe::{observe_cmd, outcomes};
use crate::spring_as::{jar, start_peer, write_spring_pki, Config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth4webapi_through_the_proxy_in_front_of_spring() {
    let Some(jar) = tokio::task::spawn_blocking(jar).await.unwrap() else { return };
    tokio::task::spawn_blocking(ensure_node_peers).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    write_spring_pki(PkiStyle::Compact, &dir);
    let thumb = mtls_harness::pki::TestPki::shared_with(PkiStyle::Compact).unwrap().identity(Role::Registered).x5t_s256.clone();
    // oauth4webapi sends the registered leaf alone (compact PKI): the method by registration.
    let cfg = Config { mode: "split", format: "jwt", method: "registered", defect: None, style: PkiStyle::Compact };
    let peer = start_peer(&jar, cfg, &dir, "s3cr3t-spring-observe").await;
    let client = format!("node {}", repo().join("fixtures/peers/oauth4webapi/client.mjs").display());
    for use_aliases in [true, false] {
        let report = dir.join(format!("report-{use_aliases}"));
        let args = [
            "--upstream",
            &peer.issuer,
            "--resource",
            &peer.resource,
            "--client-id",
            "tpp-client-001",
            "--client-cmd",
            &client,
            "--steps",
            "token,introspect,resource,revoke",
            "--use-aliases",
            if use_aliases { "true" } else { "false" },
            "--duration",
            "60",
        ]
        .map(String::from);
        let (d, r) = (dir.clone(), report.clone());
        let out = tokio::task::spawn_blocking(move || observe_cmd(&d, &r, &args)).await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let (got, verdict) = outcomes(&report);
        let row = |id: &str| got.get(id).cloned().unwrap_or_else(|| ("missing".into(), String::new()));
        if use_aliases {
            assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(verdict, "pass");
            for id in [
                "client.discovery",
                "client.alias.token",
                "client.alias.introspection",
                "client.alias.revocation",
                "client.cert.presented",
                "client.client-id",
                "client.rs.same-cert",
            ] {
                assert_eq!(row(id).0, "pass", "{id}: {}", row(id).1);
            }
            // Spring bound the token: its introspection answer, read through the proxy, says so.
            let bound = format!("(token bound to x5t#S256={thumb})");
            assert!(stdout.lines().any(|l| l.contains("POST /oauth2/introspect") && l.ends_with(&bound)), "{stdout}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{stdout}");
            assert_eq!(verdict, "fail");
            let (s, r) = row("client.alias.token");
            assert_eq!(s, "fail", "{r}");
            // Spring's bare 401 for a client_id without credentials (deviation 8): no error code.
            assert!(r.contains("not to the published alias") && r.contains("(the AS answered 401)"), "{r}");
            for id in ["client.alias.introspection", "client.alias.revocation", "client.rs.same-cert"] {
                assert_eq!(row(id).0, "blocked", "{id}: {}", row(id).1);
            }
        }
        for id in ["client.alias.par", "client.alias.userinfo", "client.alias.fallback", "client.authz.top-level"] {
            assert_eq!(row(id).0, "skip", "{id}: {}", row(id).1);
        }
    }
    drop(peer);
}

/// private_key_jwt clients (oauth4webapi, openid-client) with their transport certificate through
/// `observe --preserve-issuer` in front of Spring addressed as `https://localhost:PORT` (split):
/// Spring's `tpp-jwt-001` (ES256, its JWK Set served by the peer) at Spring's defaults. With the
/// aliases used the verdict is `pass`, every assertion check passing and the token bound; ignoring
/// them fails exactly `client.alias.token` (Spring's top-level listener asks for no certificate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_clients_through_the_proxy_in_front_of_spring() {
    use crate::observe::pkjwt::{can_unshare, compact_jws, everything, ASSERTION_CHECKS, CLIENTS};
    if !can_unshare() {
        eprintln!("SKIPPED: no privilege to unshare a mount namespace here");
        return;
    }
    let Some(jar) = tokio::task::spawn_blocking(jar).await.unwrap() else { return };
    tokio::task::spawn_blocking(ensure_node_peers).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    write_spring_pki(PkiStyle::Compact, &dir);
    let thumb = mtls_harness::pki::TestPki::shared_with(PkiStyle::Compact).unwrap().identity(Role::Registered).x5t_s256.clone();
    let cfg = Config { mode: "split", format: "jwt", method: "registered", defect: None, style: PkiStyle::Compact };
    let peer = crate::spring_as::start_peer_with(&jar, cfg, &dir, "s3cr3t-spring-pkjwt", &[("PEER_PUBLIC_HOST", "localhost")]).await;
    assert!(peer.issuer.starts_with("https://localhost:"), "{}", peer.issuer);
    let key = dir.join("jwt-es256.key").display().to_string();
    for (name, script) in CLIENTS {
        for aliases in [true, false] {
            let label = format!("spring-{name}-{aliases}");
            let report = dir.join(format!("report-{label}"));
            let client = format!("node {}", repo().join("fixtures/peers").join(script).display());
            let args = [
                "--upstream",
                &peer.issuer,
                "--preserve-issuer",
                "--resource",
                &peer.resource,
                "--client-id",
                "tpp-jwt-001",
                "--client-auth",
                "private_key_jwt",
                "--jwt-key",
                &key,
                "--jwt-alg",
                "ES256",
                "--jwt-kid",
                "tpp-jwt-001-es256",
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
            ]
            .map(String::from);
            let (d, r) = (dir.clone(), report.clone());
            let out = tokio::task::spawn_blocking(move || observe_cmd(&d, &r, &args)).await.unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            println!("{label}\n{stdout}");
            assert!(report.join("report.json").exists(), "{label}: no report\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
            let (got, verdict) = outcomes(&report);
            let row = |id: &str| got.get(id).cloned().unwrap_or_else(|| ("missing".into(), String::new()));
            let text = everything(&out, &report);
            assert!(compact_jws(&text).is_empty(), "{label}: a JWS in the output: {:?}", compact_jws(&text));
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
                let bound = format!("(token bound to x5t#S256={thumb})");
                assert!(stdout.lines().any(|l| l.contains("POST /oauth2/introspect") && l.ends_with(&bound)), "{label}\n{stdout}");
            } else {
                assert_eq!(out.status.code(), Some(1), "{label}\n{stdout}");
                assert_eq!(verdict, "fail", "{label}");
                let failed: Vec<&String> = got.iter().filter(|(_, (s, _))| s == "fail").map(|(id, _)| id).collect();
                assert_eq!(failed, ["client.alias.token"], "{label}: {got:?}");
            }
        }
    }
    drop(peer);
}
