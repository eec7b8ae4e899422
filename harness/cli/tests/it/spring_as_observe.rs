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
