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

/// One mistake a newcomer makes in a target file: how it is made from the good file, which
/// command meets it, the exit code, and a fragment of what the user must be shown.
struct Mistake {
    what: &'static str,
    /// The good file's text and the test directory → the mistaken file's text.
    make: fn(&str, &std::path::Path) -> String,
    command: &'static str,
    exit: i32,
    shown: &'static str,
}

fn swap(from: &'static str, to: &'static str) -> impl Fn(&str) -> String {
    move |good: &str| {
        assert!(good.contains(from), "{from} in {good}");
        good.replacen(from, to, 1)
    }
}

const MISTAKES: &[Mistake] = &[
    Mistake {
        what: "a TODO of `init` left unfilled",
        make: |g, _| swap("client_id: tpp-client-001", "client_id: TODO")(g),
        command: "check-target",
        exit: 2,
        shown: "a TODO is left here",
    },
    Mistake {
        what: "a key misspelt (`client-id`)",
        make: |g, _| swap("client_id:", "client-id:")(g),
        command: "check-target",
        exit: 2,
        shown: "unknown field `client-id`",
    },
    Mistake {
        what: "an http issuer",
        make: |g, _| swap("issuer: https://", "issuer: http://")(g),
        command: "check-target",
        exit: 2,
        shown: "must use https",
    },
    Mistake {
        what: "an issuer with a trailing slash the AS does not state",
        make: |g, _| {
            let issuer = g.lines().find_map(|l| l.strip_prefix("issuer: ")).unwrap_or_default();
            g.replacen(&format!("issuer: {issuer}\n"), &format!("issuer: {issuer}/\n"), 1)
        },
        command: "check-target",
        exit: 1,
        shown: "check `issuer` (target.yaml:2)",
    },
    Mistake {
        what: "`ca_bundle` names a file that is not there",
        make: |g, _| swap("ca_bundle: ca.pem", "ca_bundle: ca-bundle.pem")(g),
        command: "check-target",
        exit: 2,
        shown: "`ca_bundle` (target.yaml:3)",
    },
    Mistake {
        what: "a certificate path mistyped",
        make: |g, _| swap("cert: registered.pem", "cert: registred.pem")(g),
        command: "check-target",
        exit: 2,
        shown: "`clients.tls_client_auth.cert` (target.yaml:8)",
    },
    Mistake {
        what: "the key of another certificate",
        make: |g, _| swap("key: registered.key", "key: other-subject.key")(g),
        command: "check-target",
        exit: 2,
        shown: "`clients.tls_client_auth.key` (target.yaml:9)",
    },
    Mistake {
        what: "an expired client certificate",
        make: |g, _| swap("cert: registered.pem", "cert: expired.pem")(&swap("key: registered.key", "key: expired.key")(g)),
        command: "check-target",
        exit: 2,
        shown: "expired on",
    },
    Mistake {
        what: "the CA certificate before the leaf in the certificate file",
        make: |g, dir| {
            let chain =
                [std::fs::read_to_string(dir.join("ca.pem")).unwrap(), std::fs::read_to_string(dir.join("registered.pem")).unwrap()];
            std::fs::write(dir.join("chain.pem"), chain.concat()).unwrap();
            swap("cert: registered.pem", "cert: chain.pem")(g)
        },
        command: "check-target",
        exit: 2,
        shown: "put the client's own (leaf) certificate first",
    },
    Mistake {
        what: "an encrypted private key",
        make: |g, dir| {
            std::fs::write(dir.join("encrypted.key"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n")
                .unwrap();
            swap("key: registered.key", "key: encrypted.key")(g)
        },
        command: "check-target",
        exit: 2,
        shown: "decrypt it first",
    },
    Mistake {
        what: "a secret client whose variable is not set",
        make: |g, _| format!("{g}  secret: {{ client_id: tpp-secret-001, secret_env: MTLS_MISTAKES_UNSET }}\n"),
        command: "check-target",
        exit: 2,
        shown: "`clients.secret.secret_env` (target.yaml:11) names `MTLS_MISTAKES_UNSET`, which is not set",
    },
    Mistake {
        what: "a client_id the AS does not know",
        make: |g, _| swap("client_id: tpp-client-001", "client_id: tpp-client-00l")(g),
        command: "check-target",
        exit: 1,
        shown: "check `clients.tls_client_auth.client_id` (target.yaml:7)",
    },
    Mistake {
        what: "a client_id that differs only in case",
        make: |g, _| swap("client_id: tpp-client-001", "client_id: TPP-Client-001")(g),
        command: "check-target",
        exit: 1,
        shown: "differs only in case from `tpp-client-001` in the certificate",
    },
    Mistake {
        what: "a redirect_uri the AS has not registered",
        make: |g, _| swap("redirect_uri: https://client.example/cb", "redirect_uri: https://client.example/callback")(g),
        command: "check-target",
        exit: 2,
        shown: "check `clients.redirect_uri` (target.yaml:10)",
    },
    Mistake {
        what: "a resource URL that is not the protected resource",
        make: |g, _| {
            let resource = g.lines().find_map(|l| l.strip_prefix("resource: ")).unwrap_or_default().to_string();
            g.replacen(&resource, &format!("{resource}-typo"), 1)
        },
        command: "check-target",
        exit: 2,
        shown: "check `resource` (target.yaml:4)",
    },
    Mistake {
        what: "a profile that does not exist",
        make: |g, _| format!("{g}profile: fapi3\n"),
        command: "run",
        exit: 2,
        shown: "profile `fapi3` is not known",
    },
    Mistake {
        what: "a check glob that matches nothing",
        make: |g, _| format!("{g}checks: [\"authz.*\"]\n"),
        command: "run",
        exit: 2,
        shown: "matches no check in the catalogue",
    },
];

/// `line` without what changes from run to run: thumbprints of the PKI generated per process,
/// dates relative to today.
fn stable(line: &str) -> String {
    let mut text = line.to_string();
    for (marker, len) in [("x5t#S256 ", 43), ("expired on ", 10)] {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(marker) {
            out.push_str(&rest[..i + marker.len()]);
            out.push('…');
            rest = rest.get(i + marker.len() + len..).unwrap_or_default();
        }
        out.push_str(rest);
        text = out;
    }
    text
}

/// At most ~300 characters of `line` around `shown`, marked with … where cut.
fn excerpt(line: &str, shown: &str) -> String {
    let chars: Vec<char> = line.trim().chars().collect();
    let text: String = chars.iter().collect();
    let at = text.find(shown).map(|b| text[..b].chars().count()).unwrap_or(0);
    let (from, to) = (at.saturating_sub(200), (at + shown.chars().count() + 100).min(chars.len()));
    let cut: String = chars[from..to].iter().collect();
    format!("{}{cut}{}", if from > 0 { "…" } else { "" }, if to < chars.len() { "…" } else { "" })
}

const TABLE_START: &str = "<!-- user-mistakes-table:start -->";
const TABLE_END: &str = "<!-- user-mistakes-table:end -->";

/// Every mistake of [`MISTAKES`] against a conformant node-oidc-provider: the exit code and the
/// message asserted, and README.md's table of them kept to what was observed
/// (UPDATE_README=1 rewrites it).
#[test]
fn every_user_mistake_names_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    write_pki(PkiStyle::Compact, dir.path());
    let peer = start_peer(Config { mode: "identical", defect: None, policy: "all" }, dir.path(), "s3cr3t-target-mistakes-3");
    let good = format!(
        "id: mistakes\nissuer: {}\nca_bundle: ca.pem\nresource: {}\nclients:\n  tls_client_auth:\n    client_id: tpp-client-001\n    cert: registered.pem\n    key: registered.key\n  redirect_uri: https://client.example/cb\n",
        peer.issuer, peer.resource
    );
    let target = dir.path().join("target.yaml");
    let harness = |command: &str| {
        // From the target's directory, as a user would: the file is named as given.
        let mut c = Command::new(env!("CARGO_BIN_EXE_mtls-harness"));
        c.current_dir(dir.path());
        match command {
            "run" => c.args(["run", "--target", "target.yaml", "--report-dir", "reports"]),
            _ => c.args([command, "target.yaml"]),
        };
        let o = c.env("NO_COLOR", "1").env_remove("MTLS_MISTAKES_UNSET").output().unwrap();
        (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    };
    std::fs::write(&target, &good).unwrap();
    let (code, out) = harness("check-target");
    assert_eq!(code, Some(0), "the good file is ready\n{out}");
    assert!(out.contains("ready to run: mtls-harness run --target"), "{out}");
    let mut rows = String::from("| mistake | command | exit | what you are shown |\n|---|---|---|---|\n");
    for m in MISTAKES {
        std::fs::write(&target, (m.make)(&good, dir.path())).unwrap();
        let (code, out) = harness(m.command);
        assert_eq!(code, Some(m.exit), "{}: exit\n{out}", m.what);
        let line = out.lines().find(|l| l.contains(m.shown)).unwrap_or_else(|| panic!("{}: `{}` not shown\n{out}", m.what, m.shown));
        let line = excerpt(&stable(&crate::bad_input::normalise(line, dir.path())), m.shown);
        let line = line.replace('|', "\\|").replace('`', "'");
        rows.push_str(&format!("| {} | `{}` | {} | `{line}` |\n", m.what, m.command, m.exit));
    }
    let table = format!("{TABLE_START}\n{rows}{TABLE_END}");
    let readme_path = crate::common::repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (Some(a), Some(b)) = (readme.find(TABLE_START), readme.find(TABLE_END)) else {
        panic!("README.md lacks the user-mistakes table markers; the table is:\n{table}");
    };
    let current = &readme[a..b + TABLE_END.len()];
    if current != table {
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(&readme_path, readme.replacen(current, &table, 1)).unwrap();
        } else {
            panic!("README.md's user-mistakes table is out of date (run with UPDATE_README=1); it should be:\n{table}");
        }
    }
}

/// An Open Finance transport certificate (ecosystem PKI: root → intermediate → issuing CA)
/// given as the leaf alone: node-oidc-provider, trusting the root only, cannot validate it and
/// refuses the client; check-target says so beside the two readings. With the chain, ready.
#[test]
fn a_leaf_without_its_intermediates_is_pointed_out() {
    let dir = tempfile::tempdir().unwrap();
    write_pki(PkiStyle::Ecosystem, dir.path());
    let peer = start_peer(Config { mode: "identical", defect: None, policy: "all" }, dir.path(), "s3cr3t-target-mistakes-4");
    let chain = std::fs::read_to_string(dir.path().join("registered.pem")).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let leaf = &chain[..chain.find(end).unwrap() + end.len()];
    std::fs::write(dir.path().join("leaf.pem"), leaf).unwrap();
    let check = |cert: &str| {
        let body = format!(
            "issuer: {}\nca_bundle: ca.pem\nclients:\n  tls_client_auth:\n    client_id: tpp-client-001\n    cert: {cert}\n    key: registered.key\n",
            peer.issuer
        );
        std::fs::write(dir.path().join("target.yaml"), body).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_mtls-harness"))
            .current_dir(dir.path())
            .args(["check-target", "target.yaml"])
            .output()
            .unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let (code, out) = check("leaf.pem");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "Possibly: `clients.tls_client_auth.cert` (target.yaml:6) holds the leaf alone, issued by CN=mtls-harness Ecosystem Issuing CA"
        ),
        "{out}"
    );
    let (code, out) = check("registered.pem");
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("leaf alone"), "{out}");
}
