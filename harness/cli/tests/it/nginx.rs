//! nginx (Debian package, OpenSSL) as a TLS-terminating reverse proxy on 127.0.0.1 in front of
//! the node-oidc-provider fixture: a real-world TLS edge whose protocol versions and cipher suites
//! the tests choose ([`TlsConfig`]), where the node fixture itself only speaks what Node allows.
//!
//! [`start_forwarding`] runs nginx in front of node-oidc-provider as `front.rs` describes (temporary
//! directory, free port, both killed when the [`Edge`] is dropped); nginx keeps its package
//! defaults apart from what is set below — `large_client_header_buffers` (4 × 8k) included.
//!
//! nginx requests a client certificate (`ssl_verify_client optional_no_ca`: a CertificateRequest,
//! any certificate or none accepted) and serves two certificates for `localhost`/`127.0.0.1`
//! issued by the test CA: the PKI's ECDSA P-256 `server.pem`, and an RSA-2048
//! `server-rsa.pem` minted with the `openssl` command line (ring cannot generate RSA keys) so
//! that static-RSA and `DHE-RSA`/`ECDHE-RSA` suites can be negotiated.
//!
//! With a [`Forward`] other than `None`, nginx forwards the client certificate to node in a
//! header: the deployment RFC 9440 describes, where node takes the certificate
//! from `X-SSL-Client-Cert` (`PEER_CERT_HEADER`) instead of its own TLS socket — once correctly
//! (nginx overwrites the header on every request), once with the classic mistake (nginx sets
//! another header, so a client's own `X-SSL-Client-Cert` reaches node untouched), and once with
//! that mistake where node falls back to nginx's header (so the TLS certificate still works too).
//!
//! `.ci/run` installs nginx with apt-get. Without it [`start_forwarding`] skips (returns `None`),
//! except under CI (`CI=true`), where it fails.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;

use mtls_harness::pki::PkiStyle;

use crate::common::repo;
use crate::front::{installed, spawn, wait_listening, EdgeKind, Front, Killed};

/// The TLS configuration of the nginx edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlsConfig {
    /// FAPI-style: TLS 1.2 and 1.3 only; TLS 1.2 suites ECDHE with AES-GCM only, server order,
    /// no session tickets but a server-side session cache (sessions resume by id, TLS 1.3
    /// tickets refer to the cache).
    Fapi,
    /// Everything OpenSSL still has for an authenticated server: TLS 1.0 to 1.3,
    /// `ALL:!aNULL:@SECLEVEL=0` — CBC, static RSA, DHE (the RFC 7919 ffdhe2048 group,
    /// `fixtures/nginx/ffdhe2048.pem`), CCM, ARIA, Camellia, ChaCha20; not the anonymous suites
    /// `ALL` alone would add. Debian's OpenSSL has no 3DES, RC4 or export suites to offer.
    Legacy,
    /// [`TlsConfig::Fapi`] with the extended master secret switched off
    /// (`ssl_conf_command Options -ExtendedMasterSecret`, OpenSSL 3).
    FapiNoEms,
    /// [`TlsConfig::Fapi`] whose RSA certificate has a 1024-bit key (`server-weak.pem`, beside
    /// the compact PKI's ECDSA one); OpenSSL 3 loads it only with `@SECLEVEL=0` in
    /// `ssl_ciphers` — the planted misconfiguration.
    WeakRsa,
    /// FAPI 1.0's four suites (ECDHE_RSA and DHE_RSA with AES-GCM) with a 1024-bit DHE prime
    /// (`ssl_dhparam fixtures/nginx/dh1024.pem`); OpenSSL 3 uses it only at `@SECLEVEL=1` or
    /// below (Debian's default, 2, wants 2048 bits).
    WeakDhe,
    /// TLS 1.2 with TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 alone: no
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (`ECDHE-RSA-AES256-GCM-SHA384`), which Open Finance
    /// Brasil says a server shall support.
    NoEcdheRsa256,
}

impl TlsConfig {
    /// The `ssl_*` directives of the `server` block (certificates and client certificates apart).
    fn directives(self) -> String {
        match self {
            TlsConfig::Fapi => "ssl_protocols TLSv1.2 TLSv1.3;\n\
                 ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384;\n\
                 ssl_prefer_server_ciphers on;\n\
                 ssl_session_tickets off;\n\
                 ssl_session_cache shared:mtls:1m;\n"
                .to_string(),
            TlsConfig::FapiNoEms => format!("{}ssl_conf_command Options -ExtendedMasterSecret;\n", TlsConfig::Fapi.directives()),
            TlsConfig::WeakRsa => TlsConfig::Fapi.directives().replace("ECDHE-RSA-AES256-GCM-SHA384;", "ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0;"),
            TlsConfig::WeakDhe => format!(
                "ssl_protocols TLSv1.2 TLSv1.3;\n\
                 ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=1;\n\
                 ssl_prefer_server_ciphers on;\n\
                 ssl_dhparam {};\n",
                repo().join("fixtures/nginx/dh1024.pem").display()
            ),
            TlsConfig::NoEcdheRsa256 => "ssl_protocols TLSv1.2 TLSv1.3;\n\
                 ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;\n\
                 ssl_prefer_server_ciphers on;\n"
                .to_string(),
            TlsConfig::Legacy => format!(
                "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n\
                 ssl_ciphers ALL:!aNULL:@SECLEVEL=0;\n\
                 ssl_dhparam {};\n",
                repo().join("fixtures/nginx/ffdhe2048.pem").display()
            ),
        }
    }
}

/// Whether, and how, nginx hands the client certificate of its TLS session to node in a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forward {
    /// No certificate header: node reads its own TLS socket, where (behind nginx) no client
    /// certificate ever arrives.
    None,
    /// `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;` and node reads
    /// `X-SSL-Client-Cert`: nginx replaces whatever the client sent under that name on every
    /// request (and sends none when the client presented no certificate).
    Correct,
    /// `proxy_set_header X-Client-Cert $ssl_client_escaped_cert;` but node reads
    /// `X-SSL-Client-Cert`: a client-supplied `X-SSL-Client-Cert` passes nginx untouched and node
    /// trusts it (the planted defect), while the certificate of the TLS session never reaches node.
    ClassicMistake,
    /// nginx as in [`Forward::ClassicMistake`], but node reads `X-SSL-Client-Cert` and, when the
    /// request has none, `X-Client-Cert` (`PEER_CERT_HEADER=x-ssl-client-cert,x-client-cert`, an
    /// origin still honouring an old name): the certificate of the TLS session authenticates
    /// (positive control), and so does a client-supplied `X-SSL-Client-Cert`, which node prefers.
    ClassicMistakeFallback,
}

impl Forward {
    /// The header node takes the client certificate from (`PEER_CERT_HEADER`), if any.
    fn node_header(self) -> Option<&'static str> {
        match self {
            Forward::None => None,
            Forward::Correct | Forward::ClassicMistake => Some("x-ssl-client-cert"),
            Forward::ClassicMistakeFallback => Some("x-ssl-client-cert,x-client-cert"),
        }
    }

    /// The `proxy_set_header` directive of nginx's `location` (empty for [`Forward::None`]).
    fn directive(self) -> &'static str {
        match self {
            Forward::None => "",
            Forward::Correct => "proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;",
            Forward::ClassicMistake | Forward::ClassicMistakeFallback => "proxy_set_header X-Client-Cert $ssl_client_escaped_cert;",
        }
    }
}

/// A running nginx edge in front of a running node-oidc-provider; both die when it is dropped.
/// The pair's ports, PKI and logs are its [`Front`]'s (`edge.issuer`, `edge.pki_dir`, …).
pub(crate) struct Edge {
    front: Front,
    /// How nginx forwards the client certificate to node.
    pub(crate) forward: Forward,
}

impl Deref for Edge {
    type Target = Front;
    fn deref(&self) -> &Front {
        &self.front
    }
}

/// Start node-oidc-provider behind nginx with the TLS configuration `cfg`, the test PKI of
/// `style`, and nginx forwarding the client certificate to node as `forward` says. `None` (with
/// a note on stderr) when nginx is not installed, except under `CI=true`, where that is a failure.
pub(crate) fn start_forwarding(cfg: TlsConfig, forward: Forward, style: PkiStyle) -> Option<Edge> {
    let nginx = installed("nginx", "nginx")?;
    let name = format!("nginx-{cfg:?}-{}", style.name());
    let kind = EdgeKind { name: &name, node_header: forward.node_header(), logs: &["nginx/error.log"], stop: None, style };
    let prepare = |pki: &Path| {
        if style == PkiStyle::Compact {
            mint_rsa_server_cert(pki, "server-rsa", 2048);
        }
        if cfg == TlsConfig::WeakRsa {
            mint_rsa_server_cert(pki, "server-weak", 1024);
        }
    };
    let front = crate::front::start(&kind, prepare, |dir, port, node_port| {
        let conf = write_conf(dir, cfg, forward, port, node_port, &dir.join("pki"), style);
        start_nginx(&nginx, &conf, port)
    });
    Some(Edge { front, forward })
}

/// An RSA server certificate of `bits` for `localhost`/`127.0.0.1`, issued by the PKI's CA with
/// the `openssl` command line: `<stem>.pem`, `<stem>.key` in `pki_dir`.
fn mint_rsa_server_cert(pki_dir: &Path, stem: &str, bits: u32) {
    let conf = pki_dir.join(format!("{stem}.cnf"));
    std::fs::write(
        &conf,
        "[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = localhost\n[ext]\n\
         basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n\
         subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
    )
    .unwrap();
    let out = Command::new("openssl")
        .args(["req", "-x509", "-config"])
        .arg(&conf)
        .args(["-extensions", "ext", "-newkey", &format!("rsa:{bits}"), "-nodes", "-days", "7", "-CA"])
        .arg(pki_dir.join("ca.pem"))
        .arg("-CAkey")
        .arg(pki_dir.join("ca.key"))
        .arg("-keyout")
        .arg(pki_dir.join(format!("{stem}.key")))
        .arg("-out")
        .arg(pki_dir.join(format!("{stem}.pem")))
        .output()
        .expect("the openssl command line is installed");
    assert!(out.status.success(), "openssl req: {}", String::from_utf8_lossy(&out.stderr));
}

/// Write `<dir>/nginx/nginx.conf`: everything nginx writes stays in `<dir>/nginx`; TLS on
/// 127.0.0.1:`port`, proxying to node on `node_port` (with `forward`'s certificate header).
/// Returns the configuration's path.
fn write_conf(dir: &Path, cfg: TlsConfig, forward: Forward, port: u16, node_port: u16, pki_dir: &Path, style: PkiStyle) -> PathBuf {
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).unwrap();
    let (p, pki) = (prefix.display(), pki_dir.display());
    let temp_paths: String =
        ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].iter().map(|t| format!("    {t}_temp_path {p}/{t}_temp;\n")).collect();
    let body = format!(
        "pid {p}/nginx.pid;\n\
         error_log {p}/error.log info;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n\
         \x20   access_log {p}/access.log;\n\
         {temp_paths}\
         \x20   server {{\n\
         \x20       listen 127.0.0.1:{port} ssl;\n\
         {certificates}\
         \x20       ssl_verify_client optional_no_ca;\n\
         {directives}\
         \x20       location / {{\n\
         \x20           proxy_pass https://127.0.0.1:{node_port};\n\
         \x20           proxy_ssl_verify off;\n\
         \x20           proxy_http_version 1.1;\n\
         \x20           proxy_set_header Host $http_host;\n\
         {forward}\
         \x20       }}\n\
         \x20   }}\n\
         }}\n",
        certificates = server_certificates(cfg, style)
            .iter()
            .map(|stem| format!("        ssl_certificate {pki}/{stem}.pem;\n        ssl_certificate_key {pki}/{stem}.key;\n"))
            .collect::<String>(),
        directives = cfg.directives().lines().map(|l| format!("        {l}\n")).collect::<String>(),
        forward = if forward == Forward::None { String::new() } else { format!("            {}\n", forward.directive()) },
    );
    let conf = prefix.join("nginx.conf");
    std::fs::write(&conf, body).unwrap();
    conf
}

/// The stems of the PKI's files (`<stem>.pem`, `<stem>.key`) nginx serves as its certificates:
/// ECDSA and RSA in the compact style; the ecosystem style's RSA chain alone (one certificate per
/// key type: a second RSA one would replace it); [`TlsConfig::WeakRsa`] its 1024-bit RSA one
/// in place of the RSA one.
fn server_certificates(cfg: TlsConfig, style: PkiStyle) -> &'static [&'static str] {
    match (cfg, style) {
        (TlsConfig::WeakRsa, PkiStyle::Compact) => &["server", "server-weak"],
        (TlsConfig::WeakRsa, PkiStyle::Ecosystem) => &["server-weak"],
        (_, PkiStyle::Compact) => &["server", "server-rsa"],
        (_, PkiStyle::Ecosystem) => &["server"],
    }
}

/// Start nginx in the foreground, one process, with configuration `conf` (its directory is the
/// prefix) and wait until it listens on `port`. `None` if the port was taken; any other failure
/// panics with nginx's error log.
fn start_nginx(nginx: &Path, conf: &Path, port: u16) -> Option<Killed> {
    let prefix = conf.parent().unwrap();
    let log = prefix.join("error.log");
    let pid = prefix.join("nginx.pid");
    // Left by an earlier attempt (another port) in this prefix: neither may speak for this one.
    for stale in [&pid, &log] {
        let _ = std::fs::remove_file(stale);
    }
    let mut cmd = Command::new(nginx);
    cmd.arg("-p").arg(prefix).arg("-c").arg(conf).arg("-e").arg(&log).args(["-g", "daemon off; master_process off;"]);
    let child = spawn(cmd, &prefix.join("stderr.log"));
    // The pid file is written after the listening socket is bound: then the port is nginx's.
    wait_listening(child, port, &[log, prefix.join("stderr.log")], || pid.exists())
}

/// A reqwest client trusting only the test CA at `ca`.
fn client(ca: &Path) -> reqwest::Client {
    mtls_harness::mock::terminator::provider();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap()])
        .no_proxy()
        .build()
        .unwrap()
}

/// Through the edge: discovery, and the answer (status, JSON body) to a client-credentials token
/// request of the secret client.
async fn discovery_and_token(edge: &Edge) -> (serde_json::Value, (reqwest::StatusCode, serde_json::Value)) {
    let client = client(&edge.ca);
    let url = format!("https://127.0.0.1:{}/.well-known/openid-configuration", edge.port);
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    let doc: serde_json::Value = response.json().await.unwrap();
    let token = client
        .post(doc["token_endpoint"].as_str().unwrap_or_default())
        .basic_auth("tpp-secret-001", Some(&edge.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    (doc, (token.status(), token.json().await.unwrap()))
}

/// Both TLS configurations, with each style of test PKI.
#[test]
fn nginx_edges_start_and_proxy_discovery() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let edges = std::thread::scope(|s| {
        let handles: Vec<_> = PkiStyle::ALL
            .iter()
            .flat_map(|&style| [TlsConfig::Fapi, TlsConfig::Legacy].map(move |cfg| (cfg, style)))
            .map(|(cfg, style)| s.spawn(move || ((cfg, style), start_forwarding(cfg, Forward::None, style))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
    });
    for (cfg, edge) in edges {
        let Some(edge) = edge else { return };
        assert_eq!(edge.style, cfg.1);
        let base = format!("https://127.0.0.1:{}", edge.port);
        assert_eq!((edge.issuer.as_str(), edge.resource.as_str()), (base.as_str(), format!("{base}/resource").as_str()), "{cfg:?}");
        assert_ne!(edge.node_port, edge.port, "{cfg:?}");
        assert_eq!(edge.pki_dir.join("server-rsa.pem").is_file(), edge.style == PkiStyle::Compact, "{cfg:?}");
        let (doc, token_answer) = rt.block_on(discovery_and_token(&edge));
        assert_eq!(doc["issuer"], base.as_str(), "{cfg:?}: {doc}");
        let token = doc["token_endpoint"].as_str().unwrap_or_default();
        assert!(token.starts_with(&format!("{base}/")), "{cfg:?}: token_endpoint {token}, expected under {base}/\n{}", edge.log());
        // The POST and its Basic credentials reach node (a wrong secret would be 401
        // invalid_client), but nginx terminates TLS: node never sees a client certificate, so it
        // refuses to issue the certificate-bound token (RFC 8705 §3) this client is registered for.
        let (status, body) = token_answer;
        assert_eq!((status.as_u16(), &body["error"]), (400, &"invalid_grant".into()), "{cfg:?}: {body}\n{}", edge.log());
    }
}

/// A reqwest client trusting only the test CA at `ca`, presenting the PKI's `<name>.pem` (with
/// `<name>.key`) when nginx asks for a client certificate.
fn client_presenting(ca: &Path, pki_dir: &Path, name: &str) -> reqwest::Client {
    mtls_harness::mock::terminator::provider();
    let mut pem = std::fs::read(pki_dir.join(format!("{name}.pem"))).unwrap();
    pem.extend(std::fs::read(pki_dir.join(format!("{name}.key"))).unwrap());
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap()])
        .identity(reqwest::Identity::from_pem(&pem).unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

/// `s` percent-encoded as `encodeURIComponent` does (everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`).
fn uri_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The answer (status, JSON body) of the token endpoint `url` to a client-credentials request of
/// `tpp-client-001` (`tls_client_auth`; no `resource`: an opaque token) sent with `client`,
/// carrying `X-SSL-Client-Cert: <header>` when given.
async fn tls_client_auth_token(client: &reqwest::Client, url: &str, header: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = client.post(url).form(&[("grant_type", "client_credentials"), ("client_id", "tpp-client-001")]);
    if let Some(value) = header {
        request = request.header("X-SSL-Client-Cert", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// RFC 9440's deployment: nginx terminates TLS (`ssl_verify_client optional_no_ca`: any
/// certificate or none) and node-oidc-provider takes the client certificate from
/// `X-SSL-Client-Cert`. Done right, nginx overwrites that header from its own TLS session, so
/// only the certificate a client proves possession of at TLS authenticates it. Done with the
/// classic mistake (nginx sets `X-Client-Cert` instead), a client's own `X-SSL-Client-Cert`
/// reaches node and authenticates anyone who has a copy of the (public) registered certificate.
///
/// With each style of test PKI: the ecosystem one's leaves come from an issuing CA under an
/// intermediate, and the header carries the leaf alone — node completes the chain from the PKI's
/// intermediates up to `ca.pem`, the root.
#[test]
fn nginx_forwarding_edges_correct_and_classic_mistake() {
    for &style in PkiStyle::ALL {
        forwarding_edges(style);
    }
}

fn forwarding_edges(style: PkiStyle) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let edges = std::thread::scope(|s| {
        let handles = [Forward::Correct, Forward::ClassicMistake, Forward::ClassicMistakeFallback]
            .map(|f| s.spawn(move || (f, start_forwarding(TlsConfig::Fapi, f, style))));
        handles.map(|h| h.join().unwrap())
    });
    for (forward, edge) in edges {
        let Some(edge) = edge else { return };
        assert_eq!(edge.forward, forward);
        let conf = std::fs::read_to_string(edge.dir.path().join("nginx/nginx.conf")).unwrap();
        assert!(conf.contains(forward.directive()) && conf.contains("ssl_verify_client optional_no_ca;"), "{conf}");
        // nginx at its default header limits (large_client_header_buffers 4 8k).
        assert!(!conf.contains("large_client_header_buffers") && !conf.contains("client_header_buffer_size"), "{conf}");
        // The leaf alone, as nginx's $ssl_client_escaped_cert carries it (registered.pem of the
        // ecosystem PKI also holds two intermediates: 7.9 KB, beyond nginx's 8 KB header buffers
        // once URL-encoded).
        let registered_der = mtls_harness::pki::cert_from_pem(&std::fs::read(edge.pki_dir.join("registered.pem")).unwrap()).unwrap();
        let spoof = uri_component(&mtls_harness::pki::pem_encode("CERTIFICATE", &registered_der));
        let answers = rt.block_on(async {
            let anonymous = client(&edge.ca);
            let doc: serde_json::Value =
                anonymous.get(format!("{}/.well-known/openid-configuration", edge.issuer)).send().await.unwrap().json().await.unwrap();
            let token = doc["mtls_endpoint_aliases"]["token_endpoint"].as_str().or(doc["token_endpoint"].as_str()).unwrap().to_string();
            let registered = client_presenting(&edge.ca, &edge.pki_dir, "registered");
            let other = client_presenting(&edge.ca, &edge.pki_dir, "other-subject");
            [
                ("registered.pem at TLS", tls_client_auth_token(&registered, &token, None).await),
                ("no certificate, no header", tls_client_auth_token(&anonymous, &token, None).await),
                ("no certificate, X-SSL-Client-Cert: registered.pem", tls_client_auth_token(&anonymous, &token, Some(&spoof)).await),
                ("other-subject.pem at TLS, X-SSL-Client-Cert: registered.pem", tls_client_auth_token(&other, &token, Some(&spoof)).await),
            ]
        });
        for (what, (status, body)) in &answers {
            eprintln!("{forward:?}: {what}: {status} {body}");
        }
        let outcome = |(status, body): &(u16, serde_json::Value)| match status {
            200 if body["access_token"].is_string() => "token",
            400 | 401 if body["error"] == "invalid_client" => "invalid_client",
            _ => "other",
        };
        let observed: Vec<(&str, &str)> = answers.iter().map(|(what, answer)| (*what, outcome(answer))).collect();
        let expected = match forward {
            // nginx replaces the header with the certificate of its TLS session, or removes it.
            Forward::Correct => ["token", "invalid_client", "invalid_client", "invalid_client"],
            // The client's header is what node reads; nginx's X-Client-Cert is never looked at,
            // so the certificate proven at TLS does not reach node at all.
            Forward::ClassicMistake => ["invalid_client", "invalid_client", "token", "token"],
            // nginx's X-Client-Cert is read only when the client sent no X-SSL-Client-Cert.
            Forward::ClassicMistakeFallback => ["token", "invalid_client", "token", "token"],
            Forward::None => unreachable!(),
        };
        let expected: Vec<(&str, &str)> = answers.iter().map(|(what, _)| *what).zip(expected).collect();
        assert_eq!(observed, expected, "{style:?}/{forward:?}: {answers:?}\n{}", edge.log());
    }
}
