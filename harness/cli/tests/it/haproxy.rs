//! HAProxy (Debian `haproxy`, OpenSSL) as the TLS-terminating edge in front of node-oidc-provider
//! (`front.rs`): run in the foreground (`-db`) with its own configuration in the test's temporary
//! directory. `bind … ssl crt … verify optional ca-file ca.pem`: HAProxy asks for a client
//! certificate in the handshake and verifies a presented chain itself against the test CA (a
//! certificate from another CA, or a self-signed one, ends the handshake with an alert); the
//! timeouts are those of Debian's `haproxy.cfg`; everything else is HAProxy's default — no
//! `tune.*` (`tune.bufsize 16384`, `tune.http.maxhdr 101`). One setting is the tests': `global
//! noreuseport`, so that a port another process holds makes HAProxy fail ("Address already in
//! use") instead of sharing it (`SO_REUSEPORT`), and the test tries another.
//!
//! HAProxy hands the certificate to node as `X-SSL-Client-Cert: %[ssl_c_der,base64]` (base64 of
//! the DER, no armour; node decodes it by its look), only when the client presented one
//! (`if { ssl_c_used }`, true on resumed sessions too). [`Config`] says how.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mtls_harness::checks::Status;
use mtls_harness::pki::PkiStyle;

use crate::edge_spoofing::{assert_outcomes, correct, edge_checks, header_trusting};
use crate::front::{installed, spawn, wait_listening, EdgeKind, Front, Killed};

/// How HAProxy hands the client certificate to node (which reads `X-SSL-Client-Cert`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Config {
    /// `http-request del-header X-SSL-Client-Cert`, then `http-request set-header
    /// X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }`: whatever the client sent under
    /// that name is gone, and the header is the TLS session's certificate or absent.
    Correct,
    /// `http-request add-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }`, no
    /// sanitising: a client's own `X-SSL-Client-Cert` reaches node, alone when it presented no
    /// certificate, beside HAProxy's when it did (node takes a repeated header as none).
    HeaderTrusting,
}

impl Config {
    fn rules(self) -> &'static str {
        match self {
            Config::Correct => {
                "http-request del-header X-SSL-Client-Cert\n\
                 http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }\n"
            }
            Config::HeaderTrusting => "http-request add-header X-SSL-Client-Cert %[ssl_c_der,base64] if { ssl_c_used }\n",
        }
    }
}

/// A running HAProxy in front of a running node-oidc-provider.
pub(crate) struct Edge {
    pub(crate) front: Front,
    pub(crate) config: Config,
}

/// Start node-oidc-provider behind HAProxy configured as `config`. `None` (with a note on stderr)
/// when haproxy is not installed, except under `CI=true`, where that is a failure.
pub(crate) fn start(config: Config, style: PkiStyle) -> Option<Edge> {
    let haproxy = installed("haproxy", "haproxy")?;
    let kind = EdgeKind {
        name: &format!("haproxy-{config:?}"),
        node_header: Some("x-ssl-client-cert"),
        logs: &["haproxy/stderr.log"],
        stop: None,
        style,
    };
    let front = crate::front::start(&kind, combine_server_pem, |dir, port, node_port| {
        let conf = write_conf(dir, config, port, node_port);
        start_haproxy(&haproxy, &conf, port)
    });
    Some(Edge { front, config })
}

/// `server-haproxy.pem`: the server certificate and its key in one file, as `crt` loads them.
fn combine_server_pem(pki: &Path) {
    let mut pem = std::fs::read(pki.join("server.pem")).unwrap();
    pem.extend(std::fs::read(pki.join("server.key")).unwrap());
    std::fs::write(pki.join("server-haproxy.pem"), pem).unwrap();
}

/// Write `<dir>/haproxy/haproxy.cfg`: TLS on 127.0.0.1:`port`, proxying to node's TLS listener
/// on `node_port`.
fn write_conf(dir: &Path, config: Config, port: u16, node_port: u16) -> PathBuf {
    let root = dir.join("haproxy");
    std::fs::create_dir_all(&root).unwrap();
    let p = dir.join("pki");
    let p = p.display();
    let rules: String = config.rules().lines().map(|l| format!("    {l}\n")).collect();
    let body = format!(
        "global\n\
         \x20   noreuseport\n\
         \x20   log stderr format short local0 info\n\
         defaults\n\
         \x20   mode http\n\
         \x20   log global\n\
         \x20   option httplog\n\
         \x20   timeout connect 5000\n\
         \x20   timeout client 50000\n\
         \x20   timeout server 50000\n\
         frontend edge\n\
         \x20   bind 127.0.0.1:{port} ssl crt {p}/server-haproxy.pem verify optional ca-file {p}/ca.pem\n\
         {rules}\
         \x20   default_backend node\n\
         backend node\n\
         \x20   server node 127.0.0.1:{node_port} ssl verify none\n"
    );
    let conf = root.join("haproxy.cfg");
    std::fs::write(&conf, body).unwrap();
    conf
}

/// Start HAProxy in the foreground with configuration `conf` and wait until it listens on
/// `port`. `None` if the port was taken; any other failure panics with its output.
fn start_haproxy(haproxy: &Path, conf: &Path, port: u16) -> Option<Killed> {
    let out = conf.parent().unwrap().join("stderr.log");
    let mut cmd = Command::new(haproxy);
    cmd.arg("-db").arg("-f").arg(conf);
    let child = spawn(cmd, &out);
    // No pid file in the foreground: listening, and still alive a moment later, is HAProxy.
    wait_listening(child, port, &[out], || true)
}

/// Start HAProxy as `config` says and run the edge checks through it.
async fn outcomes(config: Config, name: &str, style: PkiStyle) -> Option<(Edge, BTreeMap<&'static str, (Status, String)>)> {
    let edge = tokio::task::spawn_blocking(move || start(config, style)).await.unwrap()?;
    let name = &format!("{name}-{}", style.name());
    let conf = std::fs::read_to_string(edge.front.dir.path().join("haproxy/haproxy.cfg")).unwrap();
    assert!(!conf.contains("tune."), "HAProxy at its default buffer and header limits:\n{conf}");
    let tmp = tempfile::tempdir().unwrap();
    let got = edge_checks(tmp.path(), name, &edge.front).await;
    Some((edge, got))
}

/// HAProxy deletes any `X-SSL-Client-Cert` and sets it from its own TLS session when a
/// certificate was presented: every spoof is refused, the controls hold, sessions resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_correct_edge_outcomes() {
    for &style in PkiStyle::ALL {
        let Some((edge, got)) = outcomes(Config::Correct, "haproxy-correct", style).await else { return };
        assert_eq!(edge.config, Config::Correct);
        assert_outcomes(&format!("HAProxy, correct, {} PKI", style.name()), &got, &correct(), &edge.front.log());
    }
}

/// HAProxy appends its `X-SSL-Client-Cert` to the client's: without a TLS certificate the
/// client's own header reaches node alone and authenticates it. With a certificate at TLS and
/// another in the headers, node sees the header twice and takes it as no certificate, so the
/// secret client (bound tokens) gets `invalid_grant` and `edge.binding-follows-tls` cannot judge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_header_trusting_edge_outcomes() {
    for &style in PkiStyle::ALL {
        let Some((edge, got)) = outcomes(Config::HeaderTrusting, "haproxy-trusting", style).await else { return };
        let expected = header_trusting("X-SSL-Client-Cert (url_pem)", (Status::Error, "no access token (HTTP 400 error=invalid_grant)"));
        assert_outcomes(&format!("HAProxy, header-trusting, {} PKI", style.name()), &got, &expected, &edge.front.log());
    }
}
