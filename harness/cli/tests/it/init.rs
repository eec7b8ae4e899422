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
    // The first contact, before the run: ready, with no edit but the TODOs.
    let check = harness(&["check-target", &out.display().to_string()]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{said}{}", String::from_utf8_lossy(&check.stderr));
    assert!(said.contains("ready to run: mtls-harness run --target"), "{said}");
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
            // node-oidc-provider publishes scopes its client_credentials grant does not need; its
            // clients' redirect_uris (fixtures/peers/oidc-provider/start.mjs) are this one.
            let (yaml, report) = init_then_run(
                tmp.path(),
                &peer.issuer,
                Some(shape),
                &[("client_id", "tpp-client-001"), ("scope", ""), ("redirect_uri", "https://client.example/cb")],
            );
            assert_eq!(report["verdict"], "pass", "{label}: {yaml}");
            let checks = report["scenarios"][0]["checks"].as_array().unwrap();
            let passed = |id: &str| checks.iter().any(|c| c["id"] == id && c["status"] == "pass");
            assert!(passed("auth.pki.accept") && (passed("bind.token-cnf") || passed("bind.introspection-cnf")), "{label}: {report}");
            assert!(yaml.contains("  redirect_uri: TODO"), "{label}: discovery publishes PAR and authorization endpoints\n{yaml}");
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
            &[
                ("client_id", "tpp-client-001"),
                ("scope", "mtls"),
                ("require_bound_tokens", "false"),
                // fixtures/peers/glewlwyd/setup.sql: every client's registered redirect_uri.
                ("redirect_uri", "https://client.example/cb"),
            ],
        );
        assert!(yaml.contains("scope: TODO"), "{style:?}: glewlwyd publishes scopes: init asks for one\n{yaml}");
        assert!(yaml.contains("require_bound_tokens: TODO"), "{style:?}: glewlwyd does not publish bound tokens: init asks\n{yaml}");
        let checks = report["scenarios"][0]["checks"].as_array().unwrap();
        assert!(checks.iter().any(|c| c["id"] == "auth.pki.accept" && c["status"] == "pass"), "{style:?}: {report}");
        assert_eq!(report["verdict"], "pass", "{style:?}");
    });
}

/// The subject of the first certificate of the PEM file `f`.
fn subject_of(f: &Path) -> String {
    let der = mtls_harness::pki::cert_from_pem(&std::fs::read(f).unwrap()).unwrap();
    mtls_harness::pki::subject_rfc4514(&der).unwrap()
}

/// A live target file at `dir` for `issuer` trusting `ca_bundle`; the run's report.
fn run_with_bundle(dir: &Path, issuer: &str, ca_bundle: &Path) -> (Output, Value) {
    let f = dir.join("wrong-bundle.yaml");
    std::fs::write(
        &f,
        format!(
            "issuer: {issuer}\nca_bundle: {}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: registered.pem, key: registered.key }}\n",
            ca_bundle.display()
        ),
    )
    .unwrap();
    let report = dir.join("report-wrong-bundle");
    let o = harness(&["run", "--target", &f.display().to_string(), "--report-dir", &report.display().to_string(), "--format", "json"]);
    let r: Value = serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    (o, r)
}

/// disc.fetch's reason in a report.
fn disc_fetch_reason(r: &Value) -> String {
    let checks = r["scenarios"][0]["checks"].as_array().unwrap();
    checks.iter().find(|c| c["id"] == "disc.fetch").unwrap()["reason"].as_str().unwrap().to_string()
}

/// A CA bundle of another PKI: init and run name the CA the server's chain needs (the issuer of
/// the top certificate it sends: the compact PKI's only CA, the ecosystem PKI's root) and say the
/// bundle lacks it, instead of "client error (Connect)" or a bare UnknownIssuer.
#[test]
fn a_bundle_of_another_pki_is_told_which_ca_the_servers_chain_needs() {
    each_style(|style| {
        let tmp = tempfile::tempdir().unwrap();
        write_pki(style, tmp.path());
        let other_style = mtls_harness::pki::PkiStyle::ALL.iter().copied().find(|s| *s != style).unwrap();
        let other = tempfile::tempdir().unwrap();
        write_pki(other_style, other.path());
        let wrong = other.path().join("ca.pem");
        let needed = subject_of(&tmp.path().join("ca.pem"));
        let peer = start_peer(Config { mode: "identical", defect: None, policy: "all" }, tmp.path(), "s3cr3t-init-wrong-ca");
        let out = tmp.path().join("target.yaml");
        let o = harness(&["init", "--issuer", &peer.issuer, "--ca", &wrong.display().to_string(), "--out", &out.display().to_string()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{style:?}: {err}");
        assert!(err.contains(&format!("does not verify against --ca {}", wrong.display())), "{style:?}: {err}");
        assert!(err.contains("the server sent") && err.contains(&needed), "{style:?}: names {needed}: {err}");
        // What the peer sends (server.pem): compact, the leaf and its (root) CA, which the bundle
        // does not hold; ecosystem, the leaf, issuing and intermediate CAs, whose root it lacks.
        let lacks = match style {
            mtls_harness::pki::PkiStyle::Compact => {
                format!("the server's chain ends in the self-signed certificate {needed}, which the --ca bundle does not hold")
            }
            mtls_harness::pki::PkiStyle::Ecosystem => {
                format!("the --ca bundle has no certificate named {needed} (the issuer of the last certificate the server sent)")
            }
        };
        assert!(err.contains(&lacks), "{style:?}: {lacks}\n{err}");
        assert!(!err.contains("client error (Connect)"), "{style:?}: {err}");
        assert!(!out.exists(), "nothing written");
        let (run, r) = run_with_bundle(tmp.path(), &peer.issuer, &wrong);
        assert_eq!(run.status.code(), Some(2), "{style:?}");
        let reason = disc_fetch_reason(&r);
        assert!(reason.contains("invalid peer certificate") && reason.contains(&needed), "{style:?}: {reason}");
        assert!(reason.contains(&lacks.replace("the --ca bundle", "ca_bundle")), "{style:?}: {reason}");
        assert!(reason.chars().count() < 2500, "{style:?}: bounded: {reason}");
    });
}

/// The ecosystem PKI, the bundle its root alone. node-oidc-provider serves `server.pem` as
/// written: the leaf, its issuing CA and the intermediate (never the root) — that chain verifies,
/// and there is nothing to explain. With `server.pem` cut to the leaf alone, init and run say
/// the server sends no intermediate and name the issuing CA it must send.
#[test]
fn a_server_that_sends_no_intermediate_is_told_so() {
    let style = mtls_harness::pki::PkiStyle::Ecosystem;
    let tmp = tempfile::tempdir().unwrap();
    write_pki(style, tmp.path());
    let root = tmp.path().join("ca.pem");
    let issuing = subject_of(&tmp.path().join("issuing-ca.pem"));
    let chain = std::fs::read_to_string(tmp.path().join("server.pem")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 3, "leaf, issuing CA, intermediate CA");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let roots = vec![mtls_harness::pki::cert_from_pem(&std::fs::read(&root).unwrap()).unwrap()];
    {
        let peer = start_peer(Config { mode: "identical", defect: None, policy: "all" }, tmp.path(), "s3cr3t-init-chain");
        let url = url::Url::parse(&peer.issuer).unwrap();
        let limits = mtls_harness::http::Limits::default();
        assert_eq!(rt.block_on(mtls_harness::http::explain_untrusted(&url, &roots, limits)), None, "the whole chain is sent: it verifies");
    }
    // The leaf alone, as a misconfigured server sends it.
    let end = chain.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----\n".len();
    std::fs::write(tmp.path().join("server.pem"), &chain[..end]).unwrap();
    let peer = start_peer(Config { mode: "identical", defect: None, policy: "all" }, tmp.path(), "s3cr3t-init-leaf");
    let out = tmp.path().join("target.yaml");
    let o = harness(&["init", "--issuer", &peer.issuer, "--ca", &root.display().to_string(), "--out", &out.display().to_string()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("the server sent 1 certificate(s)"), "{err}");
    assert!(
        err.contains(&format!(
            "the server sends no intermediate: its leaf is issued by {issuing}, which is not in the --ca bundle; either the server must send {issuing}"
        )),
        "{err}"
    );
    let (run, r) = run_with_bundle(tmp.path(), &peer.issuer, &root);
    assert_eq!(run.status.code(), Some(2));
    let reason = disc_fetch_reason(&r);
    assert!(
        reason.contains(&format!("the server sends no intermediate: its leaf is issued by {issuing}, which is not in ca_bundle")),
        "{reason}"
    );
}

/// An AS behind the harness's TLS edge (wiremock) whose discovery says `issuer` and lists
/// `protected_resources: [<base>/accounts]`, that resource's RFC 9728 metadata naming
/// `authorization_servers`: the wiremock, the edge in front of it, and the edge's base URL.
fn as_with_resource(
    rt: &tokio::runtime::Runtime,
    pki: &mtls_harness::pki::TestPki,
    names_as: bool,
) -> (wiremock::MockServer, mtls_harness::mock::terminator::Listener, String) {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    let (wm, l, base) = rt.block_on(crate::common::edge(pki, "127.0.0.1"));
    let discovery = serde_json::json!({
        "issuer": base,
        "token_endpoint": format!("{base}/token"),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint_auth_methods_supported": ["tls_client_auth"],
        "tls_client_certificate_bound_access_tokens": true,
        "protected_resources": [format!("{base}/accounts")],
    });
    let servers = if names_as { vec![base.clone()] } else { vec!["https://another-as.example".to_string()] };
    let resource = serde_json::json!({ "resource": format!("{base}/accounts"), "authorization_servers": servers });
    rt.block_on(async {
        Mock::given(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(discovery))
            .mount(&wm)
            .await;
        Mock::given(path("/.well-known/oauth-protected-resource/accounts"))
            .respond_with(ResponseTemplate::new(200).set_body_json(resource))
            .mount(&wm)
            .await;
    });
    (wm, l, base)
}

/// RFC 9728: a protected resource the AS lists, whose metadata names the AS, is written as the
/// target's `resource`; one whose metadata names another AS is not (a commented TODO says why).
/// The issuer written is discovery's (`https://host:port`), with a note, when `--issuer` was
/// given with a trailing slash.
#[test]
fn init_fills_in_a_protected_resource_that_names_the_as_and_writes_discoverys_issuer() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = write_pki(mtls_harness::pki::PkiStyle::Compact, tmp.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = tmp.path().join("ca.pem").display().to_string();
    for names_as in [true, false] {
        let (_wm, _edge, base) = as_with_resource(&rt, &pki, names_as);
        let out = tmp.path().join(format!("target-{names_as}.yaml"));
        let given = format!("{base}/");
        let o = harness(&["init", "--issuer", &given, "--ca", &ca, "--out", &out.display().to_string()]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let yaml = std::fs::read_to_string(&out).unwrap();
        assert!(yaml.contains(&format!("\nissuer: \"{base}\"\n")), "{yaml}");
        assert!(yaml.contains(&format!("#   note: --issuer was given as {given}; the issuer below is discovery's, {base}")), "{yaml}");
        assert!(yaml.contains("  redirect_uri: TODO"), "{yaml}");
        if names_as {
            assert!(yaml.contains(&format!("\nresource: \"{base}/accounts\"")), "{yaml}");
            assert!(yaml.contains(&format!("RFC 9728 metadata of {base}/.well-known/oauth-protected-resource/accounts")), "{yaml}");
        } else {
            assert!(yaml.contains("\n# resource: TODO") && yaml.contains("does not list"), "{yaml}");
        }
        let filled =
            yaml.replacen("client_id: TODO", "client_id: c1", 1).replacen("redirect_uri: TODO", "redirect_uri: https://c.example/cb", 1);
        let filled = filled.replacen("cert: TODO", "cert: registered.pem", 1).replacen("key: TODO", "key: registered.key", 1);
        let parsed = mtls_harness::live::TargetFile::parse(&filled, &out).unwrap_or_else(|e| panic!("{e}\n{filled}"));
        assert_eq!(parsed.resource.is_some(), names_as);
    }
}

/// A flag's error names that flag: a mistyped `--key` is `--key`, not `--cert`; an unreadable
/// `--ca` is `--ca`. Each keeps the error's own words.
#[test]
fn init_names_the_flag_at_fault() {
    let tmp = tempfile::tempdir().unwrap();
    write_pki(mtls_harness::pki::PkiStyle::Compact, tmp.path());
    let p = |f: &str| tmp.path().join(f).display().to_string();
    let out = p("target.yaml");
    let o = harness(&[
        "init",
        "--issuer",
        "https://127.0.0.1:9",
        "--ca",
        &p("ca.pem"),
        "--cert",
        &p("registered.pem"),
        "--key",
        &p("nope.key"),
        "--out",
        &out,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("--key {}", p("nope.key"))) && !err.contains("--cert"), "{err}");
    assert!(err.contains("No such file"), "the source is kept: {err}");
    let o = harness(&[
        "init",
        "--issuer",
        "https://127.0.0.1:9",
        "--ca",
        &p("ca.pem"),
        "--cert",
        &p("nope.pem"),
        "--key",
        &p("registered.key"),
        "--out",
        &out,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("--cert {}", p("nope.pem"))) && !err.contains("--key"), "{err}");
    let o = harness(&["init", "--issuer", "https://127.0.0.1:9", "--ca", &p("registered.key"), "--out", &out]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("--ca {}", p("registered.key"))) && err.contains("holds no certificate"), "{err}");
}

/// Given every answer on the command line, init leaves nothing to fill and checks the file at
/// once: ready to run, exit 0; with a client_id the AS does not know, the first thing to fix
/// with its line, exit 1.
#[test]
fn init_with_every_answer_checks_the_file_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    write_pki(mtls_harness::pki::PkiStyle::Compact, tmp.path());
    let peer = start_peer(Config { mode: "split", defect: None, policy: "all" }, tmp.path(), "s3cr3t-init-answers");
    let p = |f: &str| tmp.path().join(f).display().to_string();
    let init = |client_id: &str, out: &str| {
        harness(&[
            "init",
            "--issuer",
            &peer.issuer,
            "--ca",
            &p("ca.pem"),
            "--cert",
            &p("registered.pem"),
            "--key",
            &p("registered.key"),
            "--client-id",
            client_id,
            "--redirect-uri",
            "https://client.example/cb",
            "--scope",
            "",
            "--out",
            &p(out),
        ])
    };
    let o = init("tpp-client-001", "ready.yaml");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("nothing left to fill; checking it:") && stdout.contains("ready to run"), "{stdout}");
    let yaml = std::fs::read_to_string(p("ready.yaml")).unwrap();
    let todo = yaml.lines().any(|l| l.split('#').next().unwrap_or_default().contains("TODO"));
    assert!(yaml.contains("client_id: \"tpp-client-001\"") && !todo, "{yaml}");
    let o = init("tpp-client-00l", "wrong.yaml");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("not ready — the AS refused auth.pki.accept") && stdout.contains("`clients.tls_client_auth.client_id` ("),
        "{stdout}"
    );
}
