//! Apache httpd 2.4 (Debian `apache2`, mod_ssl on OpenSSL) as the TLS-terminating edge in front of
//! node-oidc-provider (`front.rs`): the Debian binary run directly, in the foreground
//! (`-DFOREGROUND`), with its own configuration file and `ServerRoot` in the test's temporary
//! directory, loading `mpm_event`, `authz_core`, `ssl`, `socache_shmcb`, `headers`, `proxy` and `proxy_http`
//! from `/usr/lib/apache2/modules`. What Debian's `mods-available/ssl.conf` sets is set the same
//! way (session cache `shmcb`, 300 s; `SSLCipherSuite HIGH:!aNULL`; `SSLProtocol all -SSLv3`;
//! `SSLSessionTickets off`); everything else is Apache's default — no request limit is raised
//! (`LimitRequestFieldSize 8190`, `LimitRequestFields 100`, `LimitRequestLine 8190`).
//!
//! mod_ssl exports the client certificate (`SSLOptions +ExportCertData`) as `SSL_CLIENT_CERT`,
//! and mod_headers renders `"%{SSL_CLIENT_CERT}s"` as the PEM with each line break turned into a
//! space (trailing space included) — or as `(null)` when the client presented none. The header's
//! name has underscores: Apache passes underscore names through, and so does Node's parser, so
//! node reads `ssl_client_cert` (`PEER_CERT_HEADER`). [`Config`] says how Apache forwards it.
//!
//! Apache runs as root in CI containers; it then needs a user to switch its workers to: `User
//! nobody`, `Group nogroup` (ignored when the tests do not run as root). Its workers are processes
//! of their own: when the test is done, Apache is stopped with `apache2 -k stop` (the parent takes
//! them down) before the parent is killed — a SIGKILL alone would leave them running, listening.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mtls_harness::checks::Status;
use mtls_harness::pki::PkiStyle;

use crate::edge_spoofing::{assert_outcomes, correct, edge_checks, header_trusting, rows, Row, BOUND_TO_HEADER};
use crate::front::{installed, spawn, wait_listening, EdgeKind, Front, Killed};

/// Which TLS version the per-location configuration allows (Apache asks for the certificate
/// mid-connection in a way that depends on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// TLS 1.2 only: Apache renegotiates (HelloRequest) to ask for the certificate.
    Tls12,
    /// TLS 1.3 only: Apache would use post-handshake authentication (RFC 8446 §4.6.2).
    Tls13,
}

/// How Apache asks for the client certificate and hands it to node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Config {
    /// `SSLVerifyClient optional_no_ca` for the virtual host and
    /// `RequestHeader set SSL_CLIENT_CERT "%{SSL_CLIENT_CERT}s"`: Apache replaces whatever the
    /// client sent under that name on every request (`(null)` when it presented no certificate).
    Correct,
    /// `SSLVerifyClient optional_no_ca`, but Apache never sets or unsets `SSL_CLIENT_CERT`: it
    /// hands the certificate over as `X-Client-Cert` (`RequestHeader set`), and node reads
    /// `SSL_CLIENT_CERT` first, `X-Client-Cert` when the request has no certificate in the
    /// former (`PEER_CERT_HEADER=ssl_client_cert,x-client-cert`, an origin still honouring the
    /// name mod_ssl documents): the certificate of the TLS session authenticates (the positive
    /// controls hold), and so does a client's own `SSL_CLIENT_CERT`, which node prefers.
    HeaderTrusting,
    /// As [`Config::Correct`], but client authentication per location: `SSLVerifyClient none`
    /// for the virtual host and `SSLVerifyClient require` in `<Location /token>` (node's token,
    /// introspection and revocation endpoints), the TLS version limited to `Version`.
    PerLocation(Version),
}

impl Config {
    /// The header(s) node reads the client certificate from.
    fn node_header(self) -> &'static str {
        match self {
            Config::Correct | Config::PerLocation(_) => "ssl_client_cert",
            Config::HeaderTrusting => "ssl_client_cert,x-client-cert",
        }
    }

    /// The client-certificate and forwarding directives of the virtual host.
    fn directives(self, pki: &Path) -> String {
        let pki = pki.display();
        match self {
            Config::Correct => "SSLVerifyClient optional_no_ca\n\
                 RequestHeader set SSL_CLIENT_CERT \"%{SSL_CLIENT_CERT}s\"\n"
                .to_string(),
            Config::HeaderTrusting => "SSLVerifyClient optional_no_ca\n\
                 RequestHeader set X-Client-Cert \"%{SSL_CLIENT_CERT}s\"\n"
                .to_string(),
            Config::PerLocation(v) => format!(
                "SSLProtocol {}\n\
                 SSLVerifyClient none\n\
                 SSLCACertificateFile {pki}/ca.pem\n\
                 <Location /token>\n\
                 \x20   SSLVerifyClient require\n\
                 </Location>\n\
                 RequestHeader set SSL_CLIENT_CERT \"%{{SSL_CLIENT_CERT}}s\"\n",
                match v {
                    Version::Tls12 => "-all +TLSv1.2",
                    Version::Tls13 => "-all +TLSv1.3",
                }
            ),
        }
    }
}

/// A running Apache in front of a running node-oidc-provider.
pub(crate) struct Edge {
    pub(crate) front: Front,
    pub(crate) config: Config,
}

/// Start node-oidc-provider behind Apache configured as `config`. `None` (with a note on stderr)
/// when apache2 is not installed, except under `CI=true`, where that is a failure.
pub(crate) fn start(config: Config, style: PkiStyle) -> Option<Edge> {
    let apache = installed("apache2", "apache2")?;
    let kind = EdgeKind {
        name: &format!("apache-{config:?}").replace(['(', ')'], ""),
        node_header: Some(config.node_header()),
        logs: &["apache/error.log", "apache/stderr.log"],
        stop: Some(stop_command),
        style,
    };
    let front = crate::front::start(
        &kind,
        |_| {},
        |dir, port, node_port| {
            let conf = write_conf(dir, config, port, node_port, style);
            start_apache(&apache, &conf, port)
        },
    );
    Some(Edge { front, config })
}

/// Write `<dir>/apache/httpd.conf` (the `ServerRoot`: everything Apache writes stays there):
/// TLS on 127.0.0.1:`port`, proxying to node's TLS listener on `node_port`.
fn write_conf(dir: &Path, config: Config, port: u16, node_port: u16, style: PkiStyle) -> PathBuf {
    let root = dir.join("apache");
    std::fs::create_dir_all(&root).unwrap();
    let pki = dir.join("pki");
    let (r, p) = (root.display(), pki.display());
    let modules: String = ["mpm_event", "authz_core", "ssl", "socache_shmcb", "headers", "proxy", "proxy_http"]
        .iter()
        .map(|m| format!("LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"))
        .collect();
    let mut vhost: String = config.directives(&pki).lines().map(|l| format!("    {l}\n")).collect();
    // mod_ssl's SSLVerifyDepth defaults to 1 (the client certificate issued directly by a CA the
    // server knows) and aborts a handshake whose chain is deeper — with unknown_ca, even under
    // optional_no_ca. Open Finance transport certificates are issued two CAs below the root
    // (leaf → issuing → intermediate → root): a deployment must allow that depth.
    if style == PkiStyle::Ecosystem {
        vhost.push_str("    SSLVerifyDepth 3\n");
    }
    let body = format!(
        "ServerRoot {r}\n\
         {modules}\
         Listen 127.0.0.1:{port}\n\
         ServerName 127.0.0.1\n\
         PidFile {r}/httpd.pid\n\
         DefaultRuntimeDir {r}\n\
         ErrorLog {r}/error.log\n\
         LogLevel info\n\
         User nobody\n\
         Group nogroup\n\
         # Debian's mods-available/ssl.conf\n\
         SSLRandomSeed startup builtin\n\
         SSLRandomSeed connect builtin\n\
         SSLSessionCache shmcb:{r}/ssl_scache(512000)\n\
         SSLSessionCacheTimeout 300\n\
         SSLCipherSuite HIGH:!aNULL\n\
         SSLProtocol all -SSLv3\n\
         SSLSessionTickets off\n\
         <VirtualHost 127.0.0.1:{port}>\n\
         \x20   SSLEngine on\n\
         \x20   SSLCertificateFile {p}/server.pem\n\
         \x20   SSLCertificateKeyFile {p}/server.key\n\
         \x20   SSLOptions +ExportCertData\n\
         {vhost}\
         \x20   SSLProxyEngine on\n\
         \x20   SSLProxyVerify none\n\
         \x20   SSLProxyCheckPeerName off\n\
         \x20   ProxyPreserveHost on\n\
         \x20   ProxyPass / https://127.0.0.1:{node_port}/\n\
         </VirtualHost>\n"
    );
    let conf = root.join("httpd.conf");
    std::fs::write(&conf, body).unwrap();
    conf
}

/// `apache2 -k stop` for the instance in `dir`: SIGTERM to the parent (its pid file), which
/// stops the worker processes (a SIGKILL of the parent would leave them running, listening).
fn stop_command(dir: &Path) -> Command {
    let root = dir.join("apache");
    let mut cmd = Command::new(crate::front::binary("apache2").unwrap_or_else(|| "apache2".into()));
    cmd.arg("-d").arg(&root).arg("-f").arg(root.join("httpd.conf")).args(["-k", "stop"]);
    cmd
}

/// Start Apache in the foreground with configuration `conf` and wait until it listens on `port`.
/// `None` if the port was taken; any other failure panics with Apache's logs.
fn start_apache(apache: &Path, conf: &Path, port: u16) -> Option<Killed> {
    let root = conf.parent().unwrap();
    let (log, out, pid) = (root.join("error.log"), root.join("stderr.log"), root.join("httpd.pid"));
    for stale in [&pid, &log] {
        let _ = std::fs::remove_file(stale);
    }
    let mut cmd = Command::new(apache);
    cmd.arg("-d").arg(root).arg("-f").arg(conf).arg("-DFOREGROUND");
    let child = spawn(cmd, &out);
    // The pid file is written after the listening socket is bound.
    wait_listening(child, port, &[log, out], || pid.exists())
}

/// Start Apache as `config` says and run the edge checks through it.
async fn outcomes(config: Config, name: &str, style: PkiStyle) -> Option<(Edge, BTreeMap<&'static str, (Status, String)>)> {
    let edge = tokio::task::spawn_blocking(move || start(config, style)).await.unwrap()?;
    let name = &format!("{name}-{}", style.name());
    let conf = std::fs::read_to_string(edge.front.dir.path().join("apache/httpd.conf")).unwrap();
    assert!(!conf.contains("LimitRequest"), "Apache at its default request limits:\n{conf}");
    let tmp = tempfile::tempdir().unwrap();
    let got = edge_checks(tmp.path(), name, &edge.front).await;
    Some((edge, got))
}

/// Apache sets `SSL_CLIENT_CERT` from its own TLS session on every request (`(null)` without a
/// certificate): every spoof is refused, the controls hold, sessions resume with the certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_correct_edge_outcomes() {
    for &style in PkiStyle::ALL {
        let Some((edge, got)) = outcomes(Config::Correct, "apache-correct", style).await else { return };
        assert_eq!(edge.config, Config::Correct);
        assert_outcomes(&format!("Apache, correct, {} PKI", style.name()), &got, &correct(), &edge.front.log());
    }
}

/// Apache never sets or unsets `SSL_CLIENT_CERT`, and node reads it first: a client's own
/// `SSL_CLIENT_CERT` (Apache's encoding, the PEM with spaces) authenticates it and chooses the
/// binding of its token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_header_trusting_edge_outcomes() {
    for &style in PkiStyle::ALL {
        let Some((edge, got)) = outcomes(Config::HeaderTrusting, "apache-trusting", style).await else { return };
        let expected = header_trusting("SSL_CLIENT_CERT (pem_spaces)", BOUND_TO_HEADER);
        assert_outcomes(&format!("Apache, header-trusting, {} PKI", style.name()), &got, &expected, &edge.front.log());
    }
}

/// Client authentication only inside `<Location /token>`: Apache asks for the certificate
/// mid-connection — TLS 1.2 renegotiation, TLS 1.3 post-handshake authentication — which rustls
/// refuses. The positive control is `error` naming the mechanism and what to configure instead;
/// nothing is judged `fail` or `pass`, what needs the control is blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_per_location_client_auth_is_named_not_judged() {
    let (tls12, tls13) = tokio::join!(
        outcomes(Config::PerLocation(Version::Tls12), "apache-location-tls12", PkiStyle::Compact),
        outcomes(Config::PerLocation(Version::Tls13), "apache-location-tls13", PkiStyle::Compact)
    );
    let (Some((edge12, got12)), Some((edge13, got13))) = (tls12, tls13) else { return };
    for (edge, got, words, logged) in [
        (&edge12, &got12, vec!["alert handshake_failure", "TLS 1.2 renegotiation"], "AH02261: Re-negotiation handshake failed"),
        (
            &edge13,
            &got13,
            vec!["403", "Cannot perform Post-Handshake Authentication", "post_handshake_auth"],
            "AH10158: cannot perform post-handshake authentication",
        ),
    ] {
        let label = format!("Apache, {:?}", edge.config);
        let mut accept = vec!["cannot judge", "no CertificateRequest in the TLS handshake", "rustls", "SSLVerifyClient optional_no_ca"];
        accept.extend(words);
        let expected: Vec<Row> = rows()
            .map(|id| match id {
                "auth.pki.accept" => (id, Status::Error, accept.clone()),
                _ => (id, Status::Blocked, vec!["blocked:"]),
            })
            .collect();
        assert_outcomes(&label, got, &expected, &edge.front.log());
        // What Apache says it did: the mechanism, from its side.
        assert!(edge.front.log().contains(logged), "{label}: {logged}\n{}", edge.front.log());
    }
}
