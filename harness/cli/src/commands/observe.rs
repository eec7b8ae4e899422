//! `mtls-harness observe`: a recording mTLS proxy in front of a real AS. The client under test
//! talks to the proxy's loopback listeners; every request goes on to the real AS and is
//! journalled; when the client command exits (or `--duration` passes, or Ctrl-C), the client
//! checks judge the journal and the usual reports are written.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use mtls_harness::observe::hosts::HostMap;
use mtls_harness::observe::registration::{client_auth, Declared, MethodSource};
use mtls_harness::observe::{ObserveConfig, Observer};
use mtls_harness::pki::JwsAlg;
use mtls_harness::reference_client::JwtKey;
use mtls_harness::run::{self, OnCheck};
use mtls_harness::scenario::AuthMethod;
use mtls_harness::scenario::{ClientUnderTest, Scenario, Step};
use mtls_harness::{report, text};

/// What the command line (or a target file) asks of `observe`.
pub(crate) struct ObserveArgs {
    pub(crate) upstream: Option<String>,
    pub(crate) target: Option<PathBuf>,
    pub(crate) client_cert: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) upstream_ca: Option<PathBuf>,
    pub(crate) listen: SocketAddr,
    pub(crate) preserve_issuer: bool,
    pub(crate) resource: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_cmd: Option<Vec<String>>,
    pub(crate) steps: Option<Vec<Step>>,
    pub(crate) use_aliases: bool,
    pub(crate) client_auth: Option<String>,
    pub(crate) jwt_key: Option<PathBuf>,
    pub(crate) jwt_alg: String,
    pub(crate) jwt_kid: Option<String>,
    pub(crate) client_jwks: Option<PathBuf>,
    pub(crate) duration: Option<u64>,
    pub(crate) ca_out: Option<PathBuf>,
    pub(crate) report_dir: PathBuf,
    pub(crate) formats: Vec<report::Format>,
    pub(crate) timeout: u64,
}

/// How the observed client authenticates, from the flags over the target file: the declared
/// registration the checks judge by, and the assertion key a `--client-cmd` is handed.
pub(crate) struct ObservedClient {
    pub(crate) declared: Declared,
    pub(crate) jwt: Option<JwtKey>,
}

/// `--client-auth`: one of the methods a client under test can use.
fn parse_method(m: &str) -> anyhow::Result<AuthMethod> {
    serde_json::from_value::<AuthMethod>(serde_json::Value::String(m.trim().to_string()))
        .ok()
        .filter(|a| matches!(a, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::PrivateKeyJwt))
        .with_context(|| format!("--client-auth `{m}`: tls_client_auth, self_signed_tls_client_auth or private_key_jwt"))
}

/// The public JWK Set of the signing key at `path` (never the key itself). RS256 uses an RSA
/// key as PS256 does.
fn public_jwks(path: &Path, alg: &str, kid: Option<&str>) -> anyhow::Result<serde_json::Value> {
    let family = match alg {
        "PS256" | "RS256" => JwsAlg::PS256,
        "ES256" => JwsAlg::ES256,
        "EdDSA" => JwsAlg::EdDSA,
        other => anyhow::bail!("--jwt-alg `{other}`: PS256, ES256, EdDSA or RS256"),
    };
    let jwk = mtls_harness::pki::public_jwk(path, family, kid).map_err(|e| anyhow::anyhow!("--jwt-key: {e}"))?;
    Ok(serde_json::json!({ "keys": [jwk] }))
}

/// `--client-jwks`: a public JWK Set (or one public JWK) from a file.
fn read_jwks(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("--client-jwks {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("--client-jwks {}: not JSON (a JWK Set is expected)", path.display()))?;
    let set = if v.get("keys").is_some() { v } else { serde_json::json!({ "keys": [v] }) };
    let keys = set["keys"].as_array().cloned().unwrap_or_default();
    if keys.is_empty() {
        anyhow::bail!("--client-jwks {}: no key in the set", path.display());
    }
    if keys.iter().any(|k| ["d", "p", "q", "k"].iter().any(|m| k.get(*m).is_some())) {
        anyhow::bail!("--client-jwks {}: holds private key material; give the public JWK Set", path.display());
    }
    Ok(set)
}

/// The configuration, the observed client's id and its authentication, from the flags over the
/// target file.
fn config(a: &ObserveArgs) -> anyhow::Result<(ObserveConfig, String, ObservedClient)> {
    let flag_method = a.client_auth.as_deref().map(parse_method).transpose()?;
    let jwt_first = flag_method == Some(AuthMethod::PrivateKeyJwt) || (flag_method.is_none() && a.jwt_key.is_some());
    let from_file = match &a.target {
        Some(p) => Some(
            mtls_harness::live::TargetFile::load(p)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .observe_inputs(jwt_first)
                .map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    let upstream = a
        .upstream
        .clone()
        .or(from_file.as_ref().map(|f| f.issuer.clone()))
        .context("--upstream is needed (the real AS's issuer), or --target with an issuer")?;
    let upstream = url::Url::parse(&upstream).with_context(|| format!("--upstream `{upstream}` is not a URL"))?;
    let client_cert = a
        .client_cert
        .clone()
        .or(from_file.as_ref().map(|f| f.cert.clone()))
        .context("--client-cert is needed (the client's own certificate, PEM)")?;
    let client_key =
        a.client_key.clone().or(from_file.as_ref().map(|f| f.key.clone())).context("--client-key is needed (the client's own key, PEM)")?;
    let resource = match a.resource.clone().or(from_file.as_ref().and_then(|f| f.resource.clone())) {
        Some(r) => Some(url::Url::parse(&r).with_context(|| format!("--resource `{r}` is not a URL"))?),
        None => None,
    };
    let client_id = a.client_id.clone().or(from_file.as_ref().map(|f| f.client_id.clone())).unwrap_or_default();
    // The assertion key: --jwt-key over the target file's private_key_jwt client.
    let file_jwt = from_file.as_ref().and_then(|f| f.jwt.clone());
    let jwt = match (&a.jwt_key, &file_jwt) {
        (Some(path), _) => Some(JwtKey { path: path.clone(), kid: a.jwt_kid.clone(), alg: a.jwt_alg.clone() }),
        (None, Some(f)) => Some(JwtKey { path: f.signing_key.clone(), kid: f.kid.clone(), alg: f.alg.name().to_string() }),
        (None, None) => None,
    };
    let method = flag_method.or(jwt.as_ref().map(|_| AuthMethod::PrivateKeyJwt));
    let jwks = match (&a.client_jwks, &jwt) {
        (Some(p), _) => Some(read_jwks(p)?),
        (None, Some(k)) => Some(public_jwks(&k.path, &k.alg, k.kid.as_deref())?),
        (None, None) => None,
    };
    let declared = Declared { method, client_id: Some(client_id.clone()).filter(|c| !c.is_empty()), jwks };
    let timeout = Duration::from_secs(a.timeout.max(1));
    Ok((
        ObserveConfig {
            upstream,
            client_cert,
            client_key,
            upstream_ca: a.upstream_ca.clone().or(from_file.map(|f| f.ca_bundle)),
            listen: a.listen,
            preserve_issuer: a.preserve_issuer,
            resource,
            connect_timeout: timeout.min(Duration::from_secs(5)),
            request_timeout: timeout,
        },
        client_id,
        ObservedClient { declared, jwt },
    ))
}

/// `argv` run in a private mount namespace whose /etc/hosts sends the upstream's host names to
/// the listeners (Linux, with the privilege to unshare); else `argv` unchanged, with the reason
/// printed — the hosts lines are printed either way.
fn with_private_hosts(argv: &[String], lines: &[(std::net::IpAddr, String)], dir: &Path) -> Vec<String> {
    let hosts = dir.join("observe-hosts");
    let current = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let probe = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output();
    let why_not = match probe {
        Ok(o) if o.status.success() => match std::fs::write(&hosts, mtls_harness::observe::hosts::hosts_file(lines, &current)) {
            Ok(()) => None,
            Err(e) => Some(format!("{}: {e}", hosts.display())),
        },
        Ok(o) => Some(format!("unshare: {}", text::inert(String::from_utf8_lossy(&o.stderr).trim()))),
        Err(e) => Some(format!("unshare: {e}")),
    };
    if let Some(why) = why_not {
        println!("note:      the client runs with the system's /etc/hosts ({why}): point it at the listeners with the hosts lines above");
        return argv.to_vec();
    }
    println!("client:    runs with a private /etc/hosts ({}): the upstream's names lead to the listeners", hosts.display());
    let mut wrapped: Vec<String> =
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\""]
            .iter()
            .map(|s| s.to_string())
            .collect();
    wrapped.push(hosts.display().to_string());
    wrapped.extend(argv.iter().cloned());
    wrapped
}

/// How to make common clients trust the proxy's CA (printed; also in the README).
fn trust_hints(ca: &Path) -> Vec<String> {
    let ca = ca.display();
    vec![
        format!("curl:    --cacert {ca}"),
        format!("Node:    new undici.Agent({{ connect: {{ ca: fs.readFileSync('{ca}') }} }})  (or NODE_EXTRA_CA_CERTS={ca})"),
        format!("Python:  requests.get(url, verify='{ca}')  (or REQUESTS_CA_BUNDLE={ca})"),
        format!("Go:      x509.NewCertPool() + AppendCertsFromPEM(os.ReadFile(\"{ca}\")) in tls.Config.RootCAs  (or SSL_CERT_FILE={ca})"),
        format!("Java:    keytool -importcert -noprompt -alias mtls-harness -file {ca} -keystore trust.p12 -storepass changeit; -Djavax.net.ssl.trustStore=trust.p12"),
    ]
}

pub(crate) fn observe(a: &ObserveArgs) -> anyhow::Result<u8> {
    let (cfg, client_id, observed) = config(a)?;
    let auth_method = observed.declared.method.unwrap_or(AuthMethod::TlsClientAuth);
    if !cfg.listen.ip().is_loopback() {
        eprintln!(
            "warning: --listen {} is not a loopback address: anyone who can reach it can use the client's certificate at the upstream through this proxy",
            cfg.listen
        );
    }
    let rt = super::runtime()?;
    rt.block_on(async {
        let started_at = run::now_rfc3339();
        let unix_now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        // Every observed request was sent between the start and the stop: the window the
        // assertions' exp, iat and nbf are judged in (RFC 7523 §3).
        let observing_from = unix_now();
        let t0 = Instant::now();
        let secrets = mtls_harness::redact::Secrets::new();
        let obs = Observer::start(&cfg, secrets.clone()).await?;
        std::fs::create_dir_all(&a.report_dir).with_context(|| format!("creating {}", a.report_dir.display()))?;
        let ca_path = a.ca_out.clone().unwrap_or_else(|| a.report_dir.join("observe-ca.pem"));
        mtls_harness::pki::write_file(&ca_path, obs.ca_pem.as_bytes(), false).with_context(|| format!("writing {}", ca_path.display()))?;
        println!("mtls-harness observe — upstream {} (discovery {})", cfg.upstream, obs.discovery_url);
        println!("issuer:    {}{}", obs.local_issuer, if cfg.preserve_issuer { " (the upstream's, preserved)" } else { "" });
        if obs.map.upstream_issuer.trim_end_matches('/') != cfg.upstream.as_str().trim_end_matches('/') {
            println!(
                "warning:   discovery's issuer `{}` is not --upstream `{}`: a conformant client refuses it (RFC 8414 §3.3)",
                text::inert(&obs.map.upstream_issuer),
                cfg.upstream
            );
        }
        for l in &obs.listeners {
            let asks =
                if l.request_cert { "requests a client certificate, as its upstream does" } else { "requests no client certificate" };
            println!("listener:  {} -> {} ({asks})", l.local, l.name);
            if cfg.preserve_issuer {
                let local = url::Url::parse(&l.local).ok();
                let up = url::Url::parse(&l.name).ok();
                if let (Some(local), Some(up)) = (local, up) {
                    println!(
                        "           curl --connect-to {}:{}:{}:{}",
                        up.host_str().unwrap_or_default(),
                        up.port_or_known_default().unwrap_or(443),
                        local.host_str().unwrap_or_default(),
                        local.port_or_known_default().unwrap_or(443)
                    );
                }
            }
        }
        if cfg.preserve_issuer {
            match &obs.host_map {
                HostMap::Mapped { lines, .. } => {
                    for (ip, host) in lines {
                        println!("hosts:     {ip} {host}   (each origin listens there on the upstream's own port)");
                    }
                }
                HostMap::Unmapped(why) => println!("note:      no hosts lines: {why}"),
            }
        }
        if let Some(r) = &obs.local_resource {
            println!("resource:  {r}");
        }
        println!("trust:     {} (the proxy's CA; the client must trust it for these listeners)", ca_path.display());
        for h in trust_hints(&ca_path) {
            println!("           {h}");
        }
        let shown = secrets.clone();
        obs.journal.observe(Box::new(move |e| println!("  {}", text::inert(&e.line(&shown)))));
        println!("requests:");
        let client_run = match &a.client_cmd {
            Some(argv) => {
                let argv = match (&obs.host_map, cfg.preserve_issuer) {
                    (HostMap::Mapped { lines, .. }, true) => with_private_hosts(argv, lines, &a.report_dir),
                    _ => argv.clone(),
                };
                let cut = ClientUnderTest {
                    command: Some(argv),
                    misbehave: Vec::new(),
                    auth: auth_method,
                    steps: a.steps.clone().unwrap_or_else(|| Step::ALL.to_vec()),
                    use_aliases: a.use_aliases,
                    env: Default::default(),
                    timeout_ms: a.duration.unwrap_or(120) * 1000,
                };
                let env = mtls_harness::reference_client::ClientEnv {
                    issuer: obs.local_issuer.clone(),
                    client_id: client_id.clone(),
                    cert: cfg.client_cert.clone(),
                    key: cfg.client_key.clone(),
                    ca: ca_path.clone(),
                    resource: obs.local_resource.clone(),
                    redirect_uri: "https://client.example/cb".into(),
                    steps: cut.steps.clone(),
                    use_aliases: a.use_aliases,
                    other_cert: None,
                    auth: auth_method,
                    jwt: observed.jwt.clone(),
                    rs256_key: None,
                };
                let run = mtls_harness::client_mode::run_client(&cut, &env, Path::new("."), None, &secrets).await;
                println!("client:    {} — {}", run.command, run.failure().unwrap_or_else(|| "exited 0".into()));
                Some(run)
            }
            None => {
                match a.duration {
                    Some(s) => {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(s)) => {}
                            _ = super::serve::shutdown_signal() => {}
                        }
                    }
                    None => super::serve::shutdown_signal().await,
                }
                None
            }
        };
        println!("stopped");
        let window = Some((observing_from, unix_now()));
        let sc = Scenario::for_observing();
        let entries = obs.journal.entries();
        // The registration is declared, else read from the traffic (registration.rs).
        let (auth, how) = client_auth(&observed.declared, &entries, &obs.metadata).map_err(anyhow::Error::msg)?;
        let method = auth.method.map(|m| m.name()).unwrap_or("an mTLS method");
        match how {
            MethodSource::Declared => println!("client auth: {method} (as declared)"),
            MethodSource::Inferred => {
                println!("client auth: {method} (read from the traffic: a jwt-bearer client_assertion; --client-auth overrides)")
            }
            MethodSource::Assumed => {
                println!("client auth: {method} (nothing declared, no client_assertion seen; --client-auth overrides)")
            }
        }
        if let Some(why) = &auth.jwks_unknown {
            println!("note:      assertions' signatures are not verified: {why}");
        }
        let ctx = mtls_harness::client_mode::checks::ClientCtx {
            entries,
            site: obs.site(),
            thumbprint: obs.thumbprint.clone(),
            client_run,
            asked_steps: a.steps.clone(),
            auth,
            assertions: obs.journal.assertions(),
            window,
        };
        let on_check: OnCheck = Arc::new(|sc, c| println!("{}", run::line(&sc.id, c)));
        let upstream_issuer = obs.map.upstream_issuer.clone();
        let signed = if cfg.preserve_issuer { None } else { mtls_harness::observe::signed::first_signed(&ctx.entries) };
        let mut result = run::judge_observed(&sc, &ctx, &upstream_issuer, &obs.metadata, &secrets, Some(&on_check)).await;
        if let Some(seen) = signed {
            // Not the client's verdict: the rewritten issuer broke its signed authentication.
            let why = mtls_harness::observe::signed::why_rewriting_fails(&seen, &obs.local_issuer, &upstream_issuer);
            println!("cannot judge: {}", text::inert(&why));
            // What failed after the upstream refused the rewritten audience is not the client's
            // failure: blocked by the setup, never a `fail` a CI acts on.
            for c in result.checks.iter_mut().filter(|c| c.status == mtls_harness::results::Status::Fail) {
                c.status = mtls_harness::results::Status::Blocked;
                c.reason = format!(
                    "blocked: the rewritten issuer broke the client's signed authentication (run with --preserve-issuer) — {}",
                    c.reason
                );
            }
            result.error = Some(why);
        }
        let mut report = run::assemble(vec![result], started_at, t0, secrets);
        report.configuration =
            report::Configuration { source: format!("observe proxy in front of {upstream_issuer}"), ..Default::default() };
        let paths = report::write_all(&report, &a.report_dir, &a.formats)
            .with_context(|| format!("writing the reports into {}", a.report_dir.display()))?;
        println!("verdict: {}", report.verdict);
        for p in paths {
            println!("report: {}", p.display());
        }
        anyhow::Ok(report.exit_code() as u8)
    })
}
