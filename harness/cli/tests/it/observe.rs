//! Observe mode against a real AS: node-oidc-provider in the `split` layout (its aliases on a
//! second listener) as the upstream, oauth4webapi as the client, driven through
//! `mtls-harness observe`. With `use_mtls_endpoint_aliases` every client check it can judge
//! passes, and introspection read through the proxy shows the token bound to the client's
//! certificate; without, `client.alias.token` fails and says the AS itself refused (401
//! `invalid_client`). The client's key appears in no output. Bad upstreams end in a clear error
//! naming the URL, within the timeout.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mtls_harness::pki::{Role, TestPki};
use serde_json::Value;

use crate::common::repo;
use crate::oidc_provider::{start_peer, Config};

pub(crate) fn observe_cmd<S: AsRef<std::ffi::OsStr>>(pki: &Path, report: &Path, extra: &[S]) -> Output {
    let p = |f: &str| pki.join(f).display().to_string();
    let mut c = Command::new(env!("CARGO_BIN_EXE_mtls-harness"));
    c.args(["observe", "--upstream-ca", &p("ca.pem"), "--client-cert", &p("registered.pem"), "--client-key", &p("registered.key")])
        .args(["--report-dir", &report.display().to_string()])
        .args(extra);
    c.output().unwrap()
}

/// Status and reason of every check of the report, by id; and the verdict.
pub(crate) fn outcomes(report: &Path) -> (BTreeMap<String, (String, String)>, String) {
    let r: Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    let checks = r["scenarios"][0]["checks"].as_array().cloned().unwrap_or_default();
    let by_id = checks
        .iter()
        .map(|c| {
            (c["id"].as_str().unwrap().to_string(), (c["status"].as_str().unwrap().to_string(), c["reason"].as_str().unwrap().to_string()))
        })
        .collect();
    (by_id, r["verdict"].as_str().unwrap_or_default().to_string())
}

/// Everything the run wrote: stdout, stderr and every report file.
fn all_output(out: &Output, report: &Path) -> String {
    let mut text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for f in std::fs::read_dir(report).unwrap() {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()));
    }
    text
}

#[test]
fn oauth4webapi_through_the_proxy_with_and_without_aliases() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let peer = start_peer(Config { mode: "split", defect: None, policy: "own" }, tmp.path(), "s3cr3t-observe");
    let thumb = pki.identity(Role::Registered).x5t_s256.clone();
    let client = format!("node {}", repo().join("fixtures/peers/oauth4webapi/client.mjs").display());
    let key_pem = std::fs::read_to_string(tmp.path().join("registered.key")).unwrap();
    let key_lines: Vec<&str> = key_pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 16).collect();
    assert!(!key_lines.is_empty());
    let mut tables = Vec::new();
    for use_aliases in [true, false] {
        let report = tmp.path().join(format!("report-{use_aliases}"));
        let aliases = use_aliases.to_string();
        let out = observe_cmd(
            tmp.path(),
            &report,
            &[
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
                &aliases,
                "--duration",
                "60",
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let (got, verdict) = outcomes(&report);
        println!("use_aliases={use_aliases}: verdict {verdict}\n{stdout}");
        tables.push(got.clone());
        let text = all_output(&out, &report);
        for l in &key_lines {
            assert!(!text.contains(l), "the client key appears in the output");
        }
        assert!(!text.contains("PRIVATE KEY"), "key material in the output");
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
            // The upstream bound the token to the client's certificate: its introspection
            // answer, read through the proxy, says so (RFC 8705 §3.2).
            assert!(
                stdout
                    .lines()
                    .any(|l| l.contains("POST /token/introspection") && l.ends_with(&format!("(token bound to x5t#S256={thumb})"))),
                "{stdout}"
            );
            // Every request went through the listener of the upstream origin it was meant for.
            let alias_origin = url::Url::parse(&peer.resource).unwrap().origin().ascii_serialization();
            assert!(stdout.contains(&format!("[{alias_origin}] POST /token form[")), "{stdout}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{stdout}");
            assert_eq!(verdict, "fail");
            let (s, r) = row("client.alias.token");
            assert_eq!(s, "fail", "{r}");
            assert!(r.contains("not to the published alias") && r.contains("(the AS answered 401 invalid_client)"), "{r}");
            for id in ["client.alias.introspection", "client.alias.revocation", "client.rs.same-cert"] {
                assert_eq!(row(id).0, "blocked", "{id}: {}", row(id).1);
            }
        }
        for id in ["client.alias.par", "client.alias.userinfo", "client.alias.fallback", "client.authz.top-level"] {
            assert_eq!(row(id).0, "skip", "{id}: {}", row(id).1);
        }
        // The client's registration at a real AS is unknown to the proxy: judged as an mTLS
        // client, its (absent) assertions are not judged.
        let (s, r) = row("client.auth.assertion.signature");
        assert!(s == "skip" && r.contains("not private_key_jwt"), "{s}: {r}");
    }
    assert_eq!(tables[0].len(), 17, "every client check judged");
}

/// An upstream of a test: wiremock answering `/.well-known/openid-configuration` with
/// `template`, behind the mock's TLS edge (the test PKI's server certificate).
async fn upstream(
    pki: &TestPki,
    template: wiremock::ResponseTemplate,
) -> (mtls_harness::mock::terminator::Listener, String, wiremock::MockServer) {
    let wm = wiremock::MockServer::builder().disable_request_recording().start().await;
    wiremock::Mock::given(wiremock::matchers::path("/.well-known/openid-configuration")).respond_with(template).mount(&wm).await;
    let (l, base) = mtls_harness::mock::terminator::Listener::front(&pki.server, "127.0.0.1", false, wm.uri()).await.unwrap();
    (l, base, wm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_upstreams_end_in_a_clear_error_within_the_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let other = tempfile::tempdir().unwrap();
    TestPki::generate().unwrap().write_to(other.path()).unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("https://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let (_html, html_base, _w1) =
        upstream(&pki, wiremock::ResponseTemplate::new(200).set_body_string("<html><body>Sandbox maintenance</body></html>")).await;
    let (_slow, slow_base, _w2) = upstream(&pki, wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(30))).await;
    let (_ok, ok_base, _w3) = upstream(&pki, wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({"issuer": "x"}))).await;
    // The wrong CA: another PKI's files (its CA does not issue the upstream's certificate).
    let wrong_ca = "--other-pki".to_string();
    let cases: Vec<(&str, String, Vec<String>, Vec<String>)> = vec![
        (
            "unreachable",
            closed.clone(),
            vec![],
            vec![format!("upstream {closed}/.well-known/openid-configuration"), "Connection refused".into()],
        ),
        (
            "wrong CA",
            ok_base.clone(),
            vec![wrong_ca.clone()],
            vec![format!("upstream {ok_base}/.well-known/openid-configuration"), "invalid peer certificate".into()],
        ),
        (
            "not JSON",
            html_base.clone(),
            vec![],
            vec![format!("upstream {html_base}/.well-known/openid-configuration"), "is not JSON".into(), "Sandbox maintenance".into()],
        ),
        (
            "slow",
            slow_base.clone(),
            vec!["--timeout".into(), "2".into()],
            vec![format!("upstream {slow_base}/.well-known/openid-configuration"), "within 2s".into()],
        ),
        ("plain http", "http://127.0.0.1:9".into(), vec![], vec!["an https URL is needed".into()]),
    ];
    for (label, url, extra, wants) in cases {
        let report = tmp.path().join(format!("r-{}", label.replace(' ', "-")));
        let dir = if extra.contains(&wrong_ca) { other.path().to_path_buf() } else { tmp.path().to_path_buf() };
        let mut args: Vec<String> = vec!["--upstream".into(), url];
        args.extend(extra.into_iter().filter(|a| *a != wrong_ca));
        let t0 = Instant::now();
        let rep = report.clone();
        let out = tokio::task::spawn_blocking(move || observe_cmd(&dir, &rep, &args)).await.unwrap();
        let took = t0.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{label}: {stderr}");
        assert!(stderr.starts_with("error: "), "{label}: {stderr}");
        for w in &wants {
            assert!(stderr.contains(w.as_str()), "{label}: `{w}` in `{stderr}`");
        }
        assert!(!stderr.contains("panicked"), "{label}: {stderr}");
        assert!(took < Duration::from_secs(15), "{label}: took {took:?}");
        assert!(!report.join("report.json").exists(), "{label}: no report for a run that never started");
    }
}

/// `--preserve-issuer`: discovery reaches the client exactly as the upstream serves it, and a
/// client pointed at the listeners with `curl --connect-to` (the lines observe prints) is
/// journalled and judged like any other.
#[test]
fn preserve_issuer_relays_discovery_unchanged_for_a_client_using_connect_to() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let peer = start_peer(Config { mode: "split", defect: None, policy: "own" }, tmp.path(), "s3cr3t-preserve");
    let report = tmp.path().join("report");
    let p = |f: &str| tmp.path().join(f).display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .args(["observe", "--upstream", &peer.issuer, "--upstream-ca", &p("ca.pem"), "--client-cert", &p("registered.pem")])
        .args(["--client-key", &p("registered.key"), "--preserve-issuer", "--duration", "4", "--format", "json"])
        .args(["--report-dir", &report.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut connect_to = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(c) = line.trim().strip_prefix("curl --connect-to ") {
            connect_to.push(c.to_string());
        }
        if line == "requests:" {
            break;
        }
    }
    assert_eq!(connect_to.len(), 2, "one --connect-to line per upstream origin: {connect_to:?}");
    let curl = |args: &[&str]| {
        let mut c = Command::new("curl");
        c.args(["-sS", "--max-time", "10", "--cacert", &report.join("observe-ca.pem").display().to_string()]);
        for m in &connect_to {
            c.args(["--connect-to", m]);
        }
        let o = c.args(args).output().unwrap();
        assert!(o.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let doc: Value = serde_json::from_str(&curl(&[&format!("{}/.well-known/openid-configuration", peer.issuer)])).unwrap();
    assert_eq!(doc["issuer"], peer.issuer.as_str(), "the issuer is the upstream's");
    let alias = doc["mtls_endpoint_aliases"]["token_endpoint"].as_str().unwrap().to_string();
    assert!(alias.starts_with(&url::Url::parse(&peer.resource).unwrap().origin().ascii_serialization()), "{alias}");
    let token: Value = serde_json::from_str(&curl(&[
        "--cert",
        &p("registered.pem"),
        "--key",
        &p("registered.key"),
        "-d",
        "grant_type=client_credentials",
        "-d",
        "client_id=tpp-client-001",
        &alias,
    ]))
    .unwrap();
    assert!(token["access_token"].is_string(), "{token}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    let (got, verdict) = outcomes(&report);
    assert_eq!(verdict, "pass", "{got:?}");
    for id in ["client.discovery", "client.alias.token", "client.cert.presented", "client.client-id"] {
        assert_eq!(got[id].0, "pass", "{id}: {}", got[id].1);
    }
    let text = std::fs::read_to_string(report.join("report.json")).unwrap();
    assert!(!text.contains(token["access_token"].as_str().unwrap()), "the token is not in the report");
}

/// The same from a target file: issuer, CA bundle and the tls_client_auth client's certificate
/// and key come from it (paths relative to it); an unreachable issuer is named.
#[test]
fn a_target_file_supplies_the_upstream_and_the_client() {
    let tmp = tempfile::tempdir().unwrap();
    TestPki::generate().unwrap().write_to(tmp.path()).unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("https://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let file = tmp.path().join("target.yaml");
    std::fs::write(
        &file,
        format!("issuer: {closed}\nca_bundle: ca.pem\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .args(["observe", "--target", &file.display().to_string(), "--report-dir", &tmp.path().join("r").display().to_string()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("upstream {closed}/.well-known/openid-configuration: ")) && stderr.contains("Connection refused"),
        "{stderr}"
    );
    let missing = Command::new(env!("CARGO_BIN_EXE_mtls-harness")).args(["observe", "--upstream", &closed]).output().unwrap();
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--client-cert is needed"), "{stderr}");
}

/// A client that signs its authentication (here a `client_assertion`, as a private_key_jwt
/// client sends) observed with the issuer rewritten: the upstream refuses the proxy's audience,
/// and the run says why and what works instead — verdict `error`, exit 2, no check `fail`.
#[test]
fn signed_client_authentication_with_a_rewritten_issuer_is_explained_not_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let peer = start_peer(Config { mode: "identical", defect: None, policy: "all" }, tmp.path(), "s3cr3t-observe-signed");
    let report = tmp.path().join("report");
    // The token endpoint found through the proxy's discovery, then a jwt-bearer assertion.
    let client = r#"sh -c 'token=$(curl -sS --max-time 10 --cacert "$MTLS_CA" "$MTLS_ISSUER/.well-known/openid-configuration" | sed -n "s/.*\"token_endpoint\":\"\([^\"]*\)\".*/\1/p"); curl -sS --max-time 10 --cacert "$MTLS_CA" --cert "$MTLS_CERT" --key "$MTLS_KEY" -d grant_type=client_credentials -d client_id=tpp-jwt-001 -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d client_assertion=eyJhbGciOiJFZERTQSJ9.eyJhdWQiOiJ4In0.c2ln "$token"'"#;
    let out = observe_cmd(
        tmp.path(),
        &report,
        &["--upstream", &peer.issuer, "--client-id", "tpp-jwt-001", "--steps", "token", "--client-cmd", client, "--format", "json"],
    );
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
}

/// `--preserve-issuer` with the upstream addressed by name (node-oidc-provider, split layout, as
/// https://localhost:PORT): each origin listens on 127.0.0.2 at the upstream's own port, the
/// hosts line is printed, and the client command runs with a private /etc/hosts that sends
/// `localhost` there — so an unmodified client (oauth4webapi, no resolver override) is observed
/// with the upstream's own issuer, and every request reaches the AS through the proxy.
#[test]
fn preserve_issuer_points_an_unmodified_client_at_the_listeners_by_host_name() {
    let probe = Command::new("unshare").args(["--mount", "--propagation", "private", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: no privilege to unshare a mount namespace here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = TestPki::generate().unwrap();
    pki.write_to(tmp.path()).unwrap();
    let cfg = Config { mode: "split", defect: None, policy: "all" };
    let peer = crate::oidc_provider::start_peer_with(cfg, tmp.path(), "s3cr3t-observe-hosts", &[("PEER_PUBLIC_HOST", "localhost")]);
    assert!(peer.issuer.starts_with("https://localhost:"), "{}", peer.issuer);
    let report = tmp.path().join("report");
    // oauth4webapi on Node, unmodified: it resolves `localhost` through the hosts file (curl
    // would not: it pins localhost to loopback, RFC 6761 §6.3).
    let client = format!("node {}", repo().join("fixtures/peers/oauth4webapi/client.mjs").display());
    let out = observe_cmd(
        tmp.path(),
        &report,
        &[
            "--upstream",
            &peer.issuer,
            "--preserve-issuer",
            "--resource",
            &peer.resource,
            "--client-id",
            "tpp-client-001",
            "--steps",
            "token,introspect,resource,revoke",
            "--client-cmd",
            &client,
            "--duration",
            "60",
            "--format",
            "json",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("hosts:     127.0.0.2 localhost"), "{stdout}");
    assert!(stdout.contains("runs with a private /etc/hosts"), "{stdout}");
    let port = url::Url::parse(&peer.issuer).unwrap().port().unwrap();
    assert!(stdout.contains(&format!("listener:  https://127.0.0.2:{port} -> {}", peer.issuer)), "the upstream's own port\n{stdout}");
    let (got, verdict) = outcomes(&report);
    assert_eq!(verdict, "pass", "{got:?}");
    for id in ["client.discovery", "client.alias.token", "client.cert.presented", "client.client-id"] {
        assert_eq!(got[id].0, "pass", "{id}: {}", got[id].1);
    }
    assert!(
        !std::fs::read_to_string("/etc/hosts").unwrap_or_default().contains("127.0.0.2\tlocalhost"),
        "the system's hosts file is untouched"
    );
}

pub(crate) mod pkjwt;
