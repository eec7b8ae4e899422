//! What bad input gets: every case of malformed files and network faults, run through the CLI.
//! Each must end in exit code 2 with a clear message — never a panic, a hang, or a pass. The
//! observed messages form the README's "What bad input gets" table; this test fails when the
//! README no longer matches (UPDATE_README=1 rewrites that section).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mtls_harness::mock::terminator::server_config;
use mtls_harness::pki::TestPki;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::{edge, repo, snapshot_settings};

struct Row {
    case: &'static str,
    gets: &'static str,
    message: String,
}

struct Out {
    code: Option<i32>,
    stderr: String,
    report: Value,
    elapsed: Duration,
}

fn cli(args: &[&str], dir: &Path) -> Out {
    let t0 = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
        .env_remove("MTLS_HARNESS_TARGET")
        .env_remove("MTLS_BAD_INPUT_UNSET")
        .env("MTLS_BAD_INPUT_SECRET", "not-a-real-secret-1234")
        .env("MTLS_BAD_INPUT_SHORT", "7chars!")
        .args(args)
        .arg("--report-dir")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let report = std::fs::read(dir.join("out/report.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    Out { code: o.status.code(), stderr: String::from_utf8_lossy(&o.stderr).into_owned(), report, elapsed: t0.elapsed() }
}

/// Replace temporary paths and ephemeral ports, so the table is stable.
pub(crate) fn normalise(s: &str, dir: &Path) -> String {
    let s = s.replace(&dir.display().to_string(), "<dir>");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("127.0.0.") {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let host_end = tail[8..].find(|c: char| !c.is_ascii_digit()).map(|n| n + 8).unwrap_or(tail.len());
        out.push_str(&tail[..host_end]);
        rest = &tail[host_end..];
        if let Some(after) = rest.strip_prefix(':') {
            let n = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
            if n > 0 {
                out.push_str(":PORT");
                rest = &after[n..];
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

fn scenario_case(rows: &mut Vec<Row>, case: &'static str, body: &str, expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("scenarios");
    std::fs::create_dir_all(&sc).unwrap();
    std::fs::write(sc.join("bad.yaml"), body).unwrap();
    let out = cli(&["run", "--scenarios", sc.to_str().unwrap()], tmp.path());
    assert_eq!(out.code, Some(2), "{case}: {}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{case}: one line: {}", out.stderr);
    assert!(out.stderr.contains(expect), "{case}: `{expect}` in {}", out.stderr);
    rows.push(Row { case, gets: "exit 2 before any request", message: normalise(&out.stderr, tmp.path()) });
}

const GOOD_SCENARIO: &str = "id: x\ntitle: X\nmode: as\ndiscovery:\n  shape: identical\nchecks: [\"*\"]\n";

fn target_yaml(issuer: &str, extra: &str) -> String {
    format!(
        "issuer: {issuer}\nca_bundle: ca.pem\nclients:\n  tls_client_auth: {{ client_id: c1, cert: registered.pem, key: registered.key }}\n{extra}timeouts: {{ connect_ms: 500, request_ms: 700, check_ms: 3000 }}\n"
    )
}

fn target_case(rows: &mut Vec<Row>, case: &'static str, yaml: &str, expect: &str) {
    target_case_with(rows, case, yaml, expect, |_| {});
}

/// [`target_case`], with `prepare` writing further files into the target's directory first.
fn target_case_with(rows: &mut Vec<Row>, case: &'static str, yaml: &str, expect: &str, prepare: impl Fn(&Path)) {
    let tmp = tempfile::tempdir().unwrap();
    TestPki::generate().unwrap().write_to(tmp.path()).unwrap();
    prepare(tmp.path());
    std::fs::create_dir_all(tmp.path().join("a-directory")).unwrap();
    let f = tmp.path().join("target.yaml");
    std::fs::write(&f, yaml).unwrap();
    let out = cli(&["run", "--target", f.to_str().unwrap()], tmp.path());
    assert_eq!(out.code, Some(2), "{case}: {}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{case}: one line: {}", out.stderr);
    assert!(out.stderr.contains(expect), "{case}: `{expect}` in {}", out.stderr);
    assert!(out.report.is_null(), "{case}: no run, no report");
    rows.push(Row { case, gets: "exit 2 before any request", message: normalise(&out.stderr, tmp.path()) });
}

/// A profile file in `--profiles-dir` that must be refused, naming file:line:column.
fn profile_case(rows: &mut Vec<Row>, case: &'static str, body: &str, expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    let head = "id: mine\ntitle: Mine\nversion: '1'\nsources: [{ name: S, url: 'https://example.com/s' }]\n";
    std::fs::write(dir.join("mine.yaml"), format!("{head}{body}")).unwrap();
    let out = cli(&["run", "--profiles-dir", dir.to_str().unwrap(), "--profile", "mine"], tmp.path());
    assert_eq!(out.code, Some(2), "{case}: {}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{case}: one line: {}", out.stderr);
    assert!(out.stderr.contains(expect) && out.stderr.contains("mine.yaml:"), "{case}: `{expect}` in {}", out.stderr);
    assert!(out.report.is_null(), "{case}: no run, no report");
    rows.push(Row { case, gets: "exit 2 before any request", message: normalise(&out.stderr, tmp.path()) });
}

/// Run against a live "AS" at `issuer` (its PKI in `dir`); the named check must be an error
/// whose reason contains `expect`; nothing may pass; the run is bounded.
fn network_case(rows: &mut Vec<Row>, case: &'static str, dir: &Path, issuer: &str, check: &str, expect: &str) {
    let f = dir.join(format!("target-{}.yaml", rows.len()));
    std::fs::write(&f, target_yaml(issuer, "")).unwrap();
    let out = cli(&["run", "--target", f.to_str().unwrap()], dir);
    assert_eq!(out.code, Some(2), "{case}: {}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(30), "{case}: bounded, took {:?}", out.elapsed);
    let checks = out.report["scenarios"][0]["checks"].as_array().unwrap_or_else(|| panic!("{case}: report {}", out.report));
    let c = checks.iter().find(|c| c["id"] == check).unwrap();
    assert_eq!(c["status"], "error", "{case}: {c}");
    let reason = c["reason"].as_str().unwrap();
    assert!(reason.contains(expect), "{case}: `{expect}` in {reason}");
    // Nothing that depends on the faulty part may pass: with discovery broken, no check at all;
    // with the token endpoint broken, no check that needs a token request.
    let depends = |id: &str| check == "disc.fetch" || ["auth.", "bind.", "par.", "revoke."].iter().any(|p| id.starts_with(p));
    for c in checks.iter().filter(|c| depends(c["id"].as_str().unwrap_or(""))) {
        assert_ne!(c["status"], "pass", "{case}: {} passed: {}", c["id"], c["reason"]);
    }
    if check == "disc.fetch" {
        // The profile-only behaviour checks no profile asks for skip before their needs are looked at.
        let unasked = |c: &&serde_json::Value| c["reason"].as_str().is_some_and(|r| r.starts_with("no selected profile requires it ("));
        for c in checks.iter().filter(|c| c["id"] != "disc.fetch" && !unasked(c)) {
            assert_eq!(c["status"], "blocked", "{case}: {} is {}: {}", c["id"], c["status"], c["reason"]);
        }
    }
    rows.push(Row {
        case,
        gets: if check == "disc.fetch" {
            "`error` for disc.fetch, every other check `blocked`, exit 2"
        } else {
            "`error` for the token request, the checks that need it `blocked`, exit 2"
        },
        message: format!("{check}: {}", normalise(reason, dir)),
    });
}

fn discovery_doc(base: &str) -> Value {
    json!({ "issuer": base, "token_endpoint": format!("{base}/token"), "token_endpoint_auth_methods_supported": ["tls_client_auth"],
            "tls_client_certificate_bound_access_tokens": true })
}

/// A TLS server that answers every request with a response head and then `body` forever,
/// one chunk every `every`: a drip, or an endless stream.
async fn streaming_server(pki: &TestPki, chunk: &'static [u8], every: Duration) -> String {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://127.0.0.1:{}", socket.local_addr().unwrap().port());
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&pki.server, false).unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = socket.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n").await;
                for _ in 0..200_000 {
                    let frame = format!("{:x}\r\n", chunk.len());
                    if tls.write_all(frame.as_bytes()).await.is_err()
                        || tls.write_all(chunk).await.is_err()
                        || tls.write_all(b"\r\n").await.is_err()
                    {
                        return;
                    }
                    if !every.is_zero() {
                        tokio::time::sleep(every).await;
                    }
                }
            });
        }
    });
    base
}

const MARK_START: &str = "<!-- bad-input-table:start -->";
const MARK_END: &str = "<!-- bad-input-table:end -->";

#[test]
fn what_bad_input_gets() {
    let mut rows = Vec::new();
    // --- scenario files
    scenario_case(
        &mut rows,
        "scenario: malformed YAML",
        "id: x\ntitle: X\nmode: as\ndiscovery:\n  shape: [identical\nchecks: [\"*\"]\n",
        "bad.yaml:",
    );
    scenario_case(
        &mut rows,
        "scenario: unknown key",
        &GOOD_SCENARIO.replace("mode: as\n", "mode: as\ncolour: blue\n"),
        "unknown field `colour`",
    );
    scenario_case(&mut rows, "scenario: wrong type", &GOOD_SCENARIO.replace("checks: [\"*\"]", "checks: 5"), "checks: invalid type");
    scenario_case(
        &mut rows,
        "scenario: check glob that matches nothing",
        &GOOD_SCENARIO.replace("\"*\"", "\"authz.*\""),
        "matches no AS-mode check",
    );
    scenario_case(&mut rows, "scenario: unknown shape", &GOOD_SCENARIO.replace("identical", "sideways"), "unknown variant `sideways`");
    scenario_case(
        &mut rows,
        "scenario: unknown defect",
        &format!("{GOOD_SCENARIO}mock:\n  defects: [no_tls]\n"),
        "unknown variant `no_tls`",
    );
    {
        let tmp = tempfile::tempdir().unwrap();
        let out = cli(&["run", "--scenarios", tmp.path().join("nowhere").to_str().unwrap()], tmp.path());
        assert_eq!(out.code, Some(2));
        rows.push(Row {
            case: "scenario directory missing",
            gets: "exit 2 before any request",
            message: normalise(&out.stderr, tmp.path()),
        });
    }
    // --- target files
    let t = |extra: &str| target_yaml("https://127.0.0.1:9", extra);
    target_case(&mut rows, "target: unknown key", &format!("{}colour: blue\n", t("")), "unknown field `colour`");
    target_case(&mut rows, "target: missing certificate file", &t("").replace("cert: registered.pem", "cert: nowhere.pem"), "nowhere.pem");
    target_case(
        &mut rows,
        "target: key of another certificate",
        &t("").replace("key: registered.key", "key: other-subject.key"),
        "does not belong",
    );
    target_case(&mut rows, "target: unreadable CA bundle", &t("").replace("ca_bundle: ca.pem", "ca_bundle: a-directory"), "ca_bundle");
    target_case(
        &mut rows,
        "target: CA bundle without certificates",
        &t("").replace("ca_bundle: ca.pem", "ca_bundle: registered.key"),
        "ca_bundle",
    );
    target_case(&mut rows, "target: secret variable unset", &t("clients_placeholder").replace("clients_placeholder", "").replace(
        "  tls_client_auth: { client_id: c1, cert: registered.pem, key: registered.key }\n",
        "  tls_client_auth: { client_id: c1, cert: registered.pem, key: registered.key }\n  secret: { client_id: c2, secret_env: MTLS_BAD_INPUT_UNSET }\n",
    ), "MTLS_BAD_INPUT_UNSET");
    target_case(&mut rows, "target: plain-http issuer", &target_yaml("http://127.0.0.1:9", ""), "must use https");
    {
        let before = rows.len();
        target_case(
            &mut rows,
            "target: a secret shorter than 8 bytes",
            &t("").replace(
                "  tls_client_auth: { client_id: c1, cert: registered.pem, key: registered.key }\n",
                "  tls_client_auth: { client_id: c1, cert: registered.pem, key: registered.key }\n  secret: { client_id: c2, secret_env: MTLS_BAD_INPUT_SHORT }\n",
            ),
            "7 bytes",
        );
        assert!(!rows[before].message.contains("7chars!"), "the secret itself is never printed: {}", rows[before].message);
    }
    {
        let with_password = target_yaml("https://tpp:hunter2pw@127.0.0.1:9", "");
        let before = rows.len();
        target_case(&mut rows, "target: issuer with user info", &with_password, "user info");
        assert!(!rows[before].message.contains("hunter2pw"), "the password is not repeated: {}", rows[before].message);
    }
    target_case(&mut rows, "target: issuer with a query", &target_yaml("https://127.0.0.1:9/?tenant=a", ""), "query or fragment");
    target_case(&mut rows, "target: `checks: []`", &format!("{}checks: []\n", t("")), "`checks` is empty");
    target_case(
        &mut rows,
        "target: `max_concurrency: 0`",
        &format!("{}max_concurrency: 0\n", t("")),
        "max_concurrency must be between 1 and 64",
    );
    target_case_with(
        &mut rows,
        "target: encrypted private key",
        &t("").replace("key: registered.key", "key: encrypted.key"),
        "encrypted",
        |d| {
            std::fs::write(d.join("encrypted.key"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n").unwrap()
        },
    );
    target_case_with(
        &mut rows,
        "target: certificate file with the CA before the leaf",
        &t("").replace("cert: registered.pem", "cert: chain.pem"),
        "put the client's own (leaf) certificate first",
        |d| {
            let chain = format!(
                "{}{}",
                std::fs::read_to_string(d.join("ca.pem")).unwrap(),
                std::fs::read_to_string(d.join("registered.pem")).unwrap()
            );
            std::fs::write(d.join("chain.pem"), chain).unwrap();
        },
    );
    {
        let tmp = tempfile::tempdir().unwrap();
        let out = cli(&["run", "--format", ""], tmp.path());
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert!(out.stderr.contains("--format is empty") && out.report.is_null(), "{}", out.stderr);
        rows.push(Row { case: "`--format ''`", gets: "exit 2 before any request", message: normalise(&out.stderr, tmp.path()) });
    }
    let jwt = |key: &str, alg: &str| {
        t("").replace(
            "  tls_client_auth: { client_id: c1, cert: registered.pem, key: registered.key }\n",
            &format!("  tls_client_auth: {{ client_id: c1, cert: registered.pem, key: registered.key }}\n  private_key_jwt: {{ client_id: c3, signing_key: {key}, alg: {alg} }}\n"),
        )
    };
    target_case(
        &mut rows,
        "target: private_key_jwt key of another algorithm",
        &jwt("jwt-client.key", "PS256"),
        "no RSA private key for PS256",
    );
    target_case(&mut rows, "target: private_key_jwt key is a public JWK Set", &jwt("jwt-client.jwks.json", "ES256"), "JWK Set");
    target_case(&mut rows, "target: unknown alg", &jwt("jwt-client.key", "RS256"), "unknown variant `RS256`");
    target_case(
        &mut rows,
        "target: primary client not configured",
        &t("").replace("clients:\n", "clients:\n  primary: private_key_jwt\n"),
        "clients.primary is private_key_jwt",
    );
    target_case(&mut rows, "target: unknown profile", &format!("{}profile: [fapi3]\n", t("")), "profile `fapi3` is not known");
    profile_case(&mut rows, "profile file: unknown key", "colour: red\n", "unknown field `colour`");
    profile_case(
        &mut rows,
        "profile file: unknown check id",
        "required:\n  - { check: auth.pki.acept, citation: X §1 }\n",
        "unknown check id `auth.pki.acept`",
    );
    profile_case(
        &mut rows,
        "profile file: rule without a citation",
        "rules:\n  - { id: r, title: R, level: fail, assert: { metadata: { key: k, present: true } } }\n",
        "missing field `citation`",
    );

    // --- files written: a symlink planted at a key file is refused, never followed
    #[cfg(unix)]
    {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let out_dir = tmp.path().join("pki");
        std::fs::create_dir_all(&out_dir).unwrap();
        std::os::unix::fs::symlink(&victim, out_dir.join("ca.key")).unwrap();
        let pki = |force: bool| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_mtls-harness"));
            c.args(["pki", "--out"]).arg(&out_dir);
            if force {
                c.arg("--force");
            }
            let o = c.output().unwrap();
            (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
        };
        let (code, stderr) = pki(false);
        let out = Out { code, stderr, report: Value::Null, elapsed: Duration::ZERO };
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert!(out.stderr.contains("ca.key") && out.stderr.contains("--force"), "{}", out.stderr);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1, "nothing written beside the refusal");
        rows.push(Row {
            case: "pki --out: a symlink planted at a key file",
            gets: "exit 2, nothing written",
            message: normalise(&out.stderr, tmp.path()),
        });
        let (code, stderr) = pki(true);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "--force replaces the link, never writes through it");
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(out_dir.join("ca.key")).unwrap();
        assert!(meta.file_type().is_file() && meta.permissions().mode() & 0o777 == 0o600);
    }

    // --- network faults, against servers on loopback
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = TestPki::generate().unwrap();
    pki.write_to(dir).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    network_case(&mut rows, "connection refused (nothing listens)", dir, "https://127.0.0.1:9", "disc.fetch", "connection failed");
    {
        let other = TestPki::generate().unwrap();
        let (_wm, _l, base) = rt.block_on(edge(&other, "127.0.0.1"));
        network_case(&mut rows, "TLS: server certificate from an untrusted CA", dir, &base, "disc.fetch", "invalid peer certificate");
    }
    {
        let (_wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.2"));
        network_case(
            &mut rows,
            "TLS: hostname mismatch (certificate for 127.0.0.1, served on 127.0.0.2)",
            dir,
            &base,
            "disc.fetch",
            "not valid for name",
        );
    }
    {
        let silent = rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = l.local_addr().unwrap().port();
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((s, _)) = l.accept().await {
                    held.push(s);
                }
            });
            format!("https://127.0.0.1:{port}")
        });
        network_case(&mut rows, "server accepts the connection and never answers", dir, &silent, "disc.fetch", "timed out");
    }
    {
        let base = rt.block_on(streaming_server(&pki, b" ", Duration::from_millis(100)));
        network_case(&mut rows, "server drips a byte every 100 ms", dir, &base, "disc.fetch", "timed out");
    }
    {
        let base = rt.block_on(streaming_server(&pki, &[b' '; 16384], Duration::ZERO));
        network_case(&mut rows, "endless response body", dir, &base, "disc.fetch", "exceeds the 1048576-byte limit");
    }
    {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        rt.block_on(
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b' '; 10 << 20], "application/json"))
                .mount(&wm),
        );
        network_case(&mut rows, "10 MiB discovery document", dir, &base, "disc.fetch", "exceeds the 1048576-byte limit");
    }
    {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        rt.block_on(
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/"))
                .mount(&wm),
        );
        network_case(&mut rows, "discovery redirects elsewhere", dir, &base, "disc.fetch", "HTTP 302");
    }
    {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        rt.block_on(
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_raw("<html>Sign in</html>", "text/html"))
                .mount(&wm),
        );
        network_case(&mut rows, "discovery is an HTML page", dir, &base, "disc.fetch", "not JSON (text/html");
    }
    // Introspection whose `active` is a string: one reading everywhere — malformed, not active.
    for (case, active) in
        [("introspection `active` is the string \"true\"", json!("true")), ("introspection without `active`", Value::Null)]
    {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        let mut body = json!({ "client_id": "c1", "cnf": { "x5t#S256": pki.identity(mtls_harness::pki::Role::Registered).x5t_s256 } });
        if !active.is_null() {
            body["active"] = active;
        }
        rt.block_on(async {
            let mut doc = discovery_doc(&base);
            doc["introspection_endpoint"] = json!(format!("{base}/introspect"));
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_json(doc))
                .mount(&wm)
                .await;
            Mock::given(method("POST"))
                .and(path("/token"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({ "access_token": "opaque-token-0123456789", "token_type": "Bearer" })),
                )
                .mount(&wm)
                .await;
            Mock::given(path("/introspect")).respond_with(ResponseTemplate::new(200).set_body_json(body)).mount(&wm).await;
        });
        let f = dir.join(format!("target-{}.yaml", rows.len()));
        std::fs::write(&f, target_yaml(&base, "")).unwrap();
        let out = cli(&["run", "--target", f.to_str().unwrap(), "--format", "json"], dir);
        let checks = out.report["scenarios"][0]["checks"].as_array().unwrap_or_else(|| panic!("{case}: {}", out.stderr)).clone();
        let get = |id: &str| checks.iter().find(|c| c["id"] == id).cloned().unwrap_or(Value::Null);
        let active_check = get("introspect.active");
        assert_eq!(active_check["status"], "warn", "{case}: {active_check}");
        // Read as not active by every check that reads it: nothing is judged from it.
        assert_eq!(get("bind.introspection-cnf")["status"], "skip", "{case}: {}", get("bind.introspection-cnf"));
        assert_ne!(get("revoke.alias")["status"], "pass", "{case}");
        rows.push(Row {
            case,
            gets: "`warn` for introspect.active; read as not active by every check",
            message: format!("introspect.active: {}", active_check["reason"].as_str().unwrap_or_default()),
        });
    }
    for (case, body, expect) in [
        ("discovery with a UTF-8 byte-order mark", [&[0xEF, 0xBB, 0xBF][..], b"{}"].concat(), "byte-order mark"),
        ("discovery gzip-compressed, undeclared", vec![0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00], "gzip-compressed"),
    ] {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        rt.block_on(
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
                .mount(&wm),
        );
        network_case(&mut rows, case, dir, &base, "disc.fetch", expect);
    }
    {
        // Two `issuer` members: the second one is the right one; parsers differ on which wins.
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        let doc = discovery_doc(&base).to_string();
        let body = format!("{{\"issuer\":\"https://old.example\",{}", &doc[1..]);
        rt.block_on(
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
                .mount(&wm),
        );
        let f = dir.join(format!("target-{}.yaml", rows.len()));
        std::fs::write(&f, target_yaml(&base, "")).unwrap();
        let out = cli(&["run", "--target", f.to_str().unwrap(), "--format", "json"], dir);
        let checks = out.report["scenarios"][0]["checks"].as_array().unwrap_or_else(|| panic!("{}", out.stderr)).clone();
        let fetch = checks.iter().find(|c| c["id"] == "disc.fetch").cloned().unwrap_or(Value::Null);
        assert_eq!(fetch["status"], "warn", "{fetch}");
        let reason = fetch["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("names `issuer` more than once") && reason.contains("RFC 8259 §4"), "{reason}");
        rows.push(Row {
            case: "discovery names `issuer` twice",
            gets: "`warn` for disc.fetch (the last value is read); the run goes on",
            message: normalise(&format!("disc.fetch: {reason}"), dir),
        });
    }
    {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        rt.block_on(async {
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_json(discovery_doc(&base)))
                .mount(&wm)
                .await;
            Mock::given(method("POST"))
                .and(path("/token"))
                .respond_with(ResponseTemplate::new(500).set_body_raw("<html>Internal Server Error</html>", "text/html"))
                .mount(&wm)
                .await;
        });
        network_case(
            &mut rows,
            "token endpoint answers with an HTML error page",
            dir,
            &base,
            "auth.pki.accept",
            "non-JSON body (text/html",
        );
    }
    {
        let (wm, _l, base) = rt.block_on(edge(&pki, "127.0.0.1"));
        rt.block_on(async {
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(ResponseTemplate::new(200).set_body_json(discovery_doc(&base)))
                .mount(&wm)
                .await;
            Mock::given(method("POST"))
                .and(path("/token"))
                .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(120)))
                .mount(&wm)
                .await;
        });
        network_case(&mut rows, "token endpoint never answers", dir, &base, "auth.pki.accept", "timed out");
    }

    // --- the README table
    let mut rendered = String::from("| case | what it gets | observed message |\n|---|---|---|\n");
    for r in &rows {
        rendered.push_str(&format!("| {} | {} | `{}` |\n", r.case, r.gets, r.message.replace('|', "\\|").replace('`', "'")));
    }
    let table = format!("{MARK_START}\n{rendered}{MARK_END}");
    let readme_path = repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (Some(a), Some(b)) = (readme.find(MARK_START), readme.find(MARK_END)) else {
        panic!("README.md lacks the bad-input table markers; the table is:\n{table}");
    };
    let current = &readme[a..b + MARK_END.len()];
    let readme_is_current = current == table;
    if !readme_is_current && std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(&readme_path, readme.replacen(current, &table, 1)).unwrap();
    }
    // The same table, as a snapshot (after the README is rewritten, so that UPDATE_README=1
    // still does its part when the snapshot changes too).
    snapshot_settings().bind(|| insta::assert_snapshot!("what_bad_input_gets_table", rendered));
    if !readme_is_current && std::env::var_os("UPDATE_README").is_none() {
        panic!("README.md's bad-input table is out of date (run with UPDATE_README=1); it should be:\n{table}");
    }
}
