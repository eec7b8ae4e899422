//! `mtls-harness init`: from an issuer URL (and, if given, the client's certificate) to a
//! commented target file. It reads discovery (RFC 8414 §3), resolves the effective endpoints
//! and the shape (RFC 8705 §5), lists the advertised client authentication methods, probes which
//! origins ask for a client certificate, and writes what it found — marking with `TODO` what
//! only the user knows (client ids, secrets' variable names). The loader refuses a file with a
//! `TODO` left in a value.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;

use mtls_client::http::Limits;
use mtls_core::discovery::{Metadata, Source};
use mtls_core::tls::{client_config, ServerTrust};

/// What `init` is given.
#[derive(Debug, Clone)]
pub struct InitInputs {
    /// The AS's issuer.
    pub issuer: Url,
    /// `--issuer` as typed (parsing adds a `/` to a URL without a path).
    pub issuer_arg: String,
    /// The CA bundle its server certificates chain to (system roots when absent).
    pub ca: Option<PathBuf>,
    /// Accept any server certificate (warned about; recorded in the file).
    pub insecure: bool,
    /// The client's certificate and key, if given.
    pub cert: Option<(PathBuf, PathBuf)>,
    /// The file to write (its directory anchors relative paths).
    pub out: PathBuf,
    /// Connect and request timeouts.
    pub limits: Limits,
    /// What only the user knows, given on the command line instead of as TODOs.
    pub answers: Answers,
}

/// The answers `init` would otherwise leave as `TODO` (`--client-id`, `--redirect-uri`,
/// `--scope`, `--require-bound-tokens`). With all it needs, the file is complete and `init`
/// checks it against the AS at once.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    /// The client_id registered for the certificate.
    pub client_id: Option<String>,
    /// The redirect URI registered for the client.
    pub redirect_uri: Option<String>,
    /// The scope for client_credentials token requests (empty: none).
    pub scope: Option<String>,
    /// Whether the ecosystem requires certificate-bound tokens.
    pub require_bound_tokens: Option<bool>,
}

/// What the AS publishes, as `init` found it.
#[derive(Debug, Clone)]
pub struct Survey {
    /// Where discovery was read.
    pub discovery_url: String,
    /// Discovery's `issuer`.
    pub issuer: String,
    /// The shape of its aliases.
    pub shape: &'static str,
    /// Per operation: key, effective URL, whether that is an alias, the top-level URL.
    pub endpoints: Vec<(String, String, bool, Option<String>)>,
    /// Each origin, and whether its TLS server asks for a client certificate (or why unknown).
    pub origins: Vec<(String, Result<bool, String>)>,
    /// `token_endpoint_auth_methods_supported`.
    pub auth_methods: Vec<String>,
    /// `tls_client_certificate_bound_access_tokens`.
    pub bound_tokens: Option<bool>,
    /// `scopes_supported`, minus the OpenID Connect ones.
    pub scopes: Vec<String>,
    /// `require_pushed_authorization_requests`.
    pub par_required: bool,
    /// The certificate's subject and thumbprint, if one was given.
    pub cert: Option<(String, String)>,
    /// Whether discovery publishes a PAR or authorization endpoint (requests carrying a
    /// `redirect_uri`).
    pub authorization: bool,
    /// The protected resource found through `protected_resources` (RFC 9728), or why none.
    pub resource: Result<Resource, String>,
}

/// A protected resource whose RFC 9728 metadata names the AS.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its `resource` identifier.
    pub id: String,
    /// Where its metadata was read.
    pub metadata_url: String,
}

/// The longest protected-resource metadata document read, in bytes.
const MAX_RESOURCE_METADATA: usize = 256 * 1024;

/// Read the AS: discovery, shape, endpoints, methods, which origins ask for a certificate.
pub async fn survey(i: &InitInputs) -> anyhow::Result<Survey> {
    use anyhow::Context;
    let roots = match &i.ca {
        Some(ca) => mtls_observe::trust_anchors(Some(ca)).with_context(|| format!("--ca {}", ca.display()))?,
        None => mtls_observe::trust_anchors(None)
            .map_err(|_| anyhow::anyhow!("no system trust anchors found: give the AS's CA bundle with --ca"))?,
    };
    // The certificate first: a mistyped path is told before any request.
    let cert = match &i.cert {
        Some((c, k)) => {
            let id = mtls_core::pki::Identity::load(mtls_core::pki::Role::Registered, c, k).map_err(|e| {
                let flag = flag_at_fault(&e, k);
                anyhow::Error::new(e).context(flag)
            })?;
            Some((id.subject.clone(), id.x5t_s256.clone()))
        }
        None => None,
    };
    let trust = if i.insecure { ServerTrust::Insecure } else { ServerTrust::Roots };
    let tls = client_config(&roots, None, trust)?;
    let mut b = reqwest::Client::builder()
        .use_preconfigured_tls(tls.config)
        .connect_timeout(i.limits.connect)
        .timeout(i.limits.request)
        .redirect(reqwest::redirect::Policy::none());
    if mtls_observe::is_loopback(&i.issuer) {
        b = b.no_proxy();
    }
    let client = b.build()?;
    let (discovery_url, doc) = match mtls_observe::upstream::discover(&i.issuer, &client, i.limits.request).await {
        Ok(found) => found,
        Err(e) => return Err(untrusted(i, &roots).await.map(anyhow::Error::msg).unwrap_or_else(|| e.into())),
    };
    let md = Metadata::from_json(doc.clone()).map_err(|e| anyhow::anyhow!("{discovery_url}: {e}"))?;
    let res = md.resolve();
    let endpoints =
        res.endpoints.iter().map(|e| (e.key.to_string(), e.url.to_string(), e.source == Source::Alias, e.top_level.clone())).collect();
    let mut origins: Vec<(String, Result<bool, String>)> = Vec::new();
    let urls = mtls_observe::upstream::published_urls(&i.issuer, &doc, &[]);
    for u in mtls_observe::upstream::distinct_origins(&urls).into_iter().take(mtls_observe::upstream::MAX_ORIGINS) {
        let asked = mtls_client::http::cert_request_probe(u, &roots, i.limits, i.insecure).await.map_err(|f| f.to_string());
        origins.push((u.origin().ascii_serialization(), asked));
    }
    let strings = |k: &str| -> Vec<String> {
        doc.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
    };
    let issuer = doc.get("issuer").and_then(Value::as_str).unwrap_or_default().to_string();
    let resource = protected_resource(&client, &doc, &issuer, i.limits.request).await;
    Ok(Survey {
        discovery_url,
        issuer,
        shape: res.shape.name(),
        endpoints,
        origins,
        auth_methods: strings("token_endpoint_auth_methods_supported"),
        bound_tokens: doc.get("tls_client_certificate_bound_access_tokens").and_then(Value::as_bool),
        scopes: strings("scopes_supported")
            .into_iter()
            .filter(|s| !matches!(s.as_str(), "openid" | "offline_access" | "profile" | "email" | "address" | "phone"))
            .collect(),
        par_required: doc.get("require_pushed_authorization_requests").and_then(Value::as_bool) == Some(true),
        cert,
        authorization: ["pushed_authorization_request_endpoint", "authorization_endpoint"].iter().any(|k| doc.get(*k).is_some()),
        resource,
    })
}

/// Why discovery could not be read when the AS's certificate does not verify against `--ca` (or
/// the system roots): the chain it sends and what the bundle lacks (`http::chain`); `None` when
/// it verifies, was not checked (`--insecure`), or no TLS answer came.
async fn untrusted(i: &InitInputs, roots: &[rustls::pki_types::CertificateDer<'static>]) -> Option<String> {
    if i.insecure {
        return None;
    }
    let why = mtls_client::http::explain_untrusted(&i.issuer, roots, i.limits).await?;
    let (bundle, named) = match &i.ca {
        Some(ca) => (format!("--ca {}", ca.display()), "the --ca bundle"),
        None => ("the system's trust anchors (give the AS's CA bundle with --ca)".to_string(), "the system's trust anchors"),
    };
    Some(format!(
        "discovery at {} could not be read: the AS's server certificate does not verify against {bundle}: {}",
        i.issuer,
        why.replace("ca_bundle", named).replace('\n', "; ")
    ))
}

/// The flag whose file `e` is about: `--key` when it names `key` alone, `--cert` when it names
/// the certificate alone, both when it is about the pair.
fn flag_at_fault(e: &mtls_core::pki::PkiError, key: &Path) -> String {
    use mtls_core::pki::PkiError as E;
    match e {
        E::Io { path, .. } | E::Pem { path, .. } | E::Encrypted { path } | E::NotUtf8 { path } | E::NoCertificate { path }
            if path == key =>
        {
            format!("--key {}", key.display())
        }
        E::KeyMismatch { cert, key, .. } | E::LeafNotFirst { cert, key, .. } => {
            format!("--cert {} and --key {}", cert.display(), key.display())
        }
        E::Io { path, .. } | E::Pem { path, .. } | E::Encrypted { path } | E::NotUtf8 { path } | E::NoCertificate { path } => {
            format!("--cert {}", path.display())
        }
        _ => "--cert".to_string(),
    }
}

/// RFC 9728 §3.1: the metadata URL of `resource`, `/.well-known/oauth-protected-resource`
/// inserted between its host and its path.
fn resource_metadata_url(resource: &Url) -> String {
    let path = resource.path().trim_end_matches('/');
    let query = resource.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{}/.well-known/oauth-protected-resource{path}{query}", resource.origin().ascii_serialization())
}

/// The first of `protected_resources` (RFC 9728 §4), when its metadata (§3) answers 200 JSON with
/// that `resource` (§3.3) and lists `issuer` in `authorization_servers`; else why not.
async fn protected_resource(client: &reqwest::Client, doc: &Value, issuer: &str, timeout: std::time::Duration) -> Result<Resource, String> {
    let first = doc
        .get("protected_resources")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .ok_or("discovery publishes no protected_resources (RFC 9728 §4)")?;
    let shown = mtls_core::text::cap(&mtls_core::text::inert(first), 200);
    let url = Url::parse(first).map_err(|e| format!("protected_resources names {shown}, not a URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("protected_resources names {shown}, not an https URL"));
    }
    let md = resource_metadata_url(&url);
    let read = async {
        let mut resp = client.get(&md).header("accept", "application/json").send().await.map_err(|e| mtls_core::error_chain(&e))?;
        if resp.status() != 200 {
            return Err(format!("answered {}", resp.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| mtls_core::error_chain(&e))? {
            if body.len() + chunk.len() > MAX_RESOURCE_METADATA {
                return Err(format!("the body exceeds {MAX_RESOURCE_METADATA} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice::<Value>(&body).map_err(|e| format!("not JSON ({e})"))
    };
    let meta = match tokio::time::timeout(timeout, read).await {
        Ok(r) => r.map_err(|why| format!("{md}: {why}"))?,
        Err(_) => return Err(format!("{md}: no answer within {timeout:?}")),
    };
    match meta.get("resource").and_then(Value::as_str) {
        Some(r) if r == first => {}
        Some(_) => return Err(format!("{md}: its `resource` is not {shown} (RFC 9728 §3.3 requires them identical)")),
        None => return Err(format!("{md}: no string `resource` (RFC 9728 §2 REQUIRED)")),
    }
    let names_us =
        meta.get("authorization_servers").and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v.as_str() == Some(issuer)));
    if !names_us {
        return Err(format!("{md}: its authorization_servers does not list {issuer}"));
    }
    Ok(Resource { id: first.to_string(), metadata_url: md })
}

/// `p` relative to `base` when it is under it, else absolute.
fn relative(p: &Path, base: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    abs.strip_prefix(&base).map(|r| r.display().to_string()).unwrap_or_else(|_| abs.display().to_string())
}

/// A YAML double-quoted string.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The target file for `s`: what was found, in comments and values; `TODO` where the user must
/// answer.
pub fn render(i: &InitInputs, s: &Survey, today: &str) -> String {
    let dir = i.out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let host = i.issuer.host_str().unwrap_or("as").replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.', "-");
    let has = |m: &str| s.auth_methods.iter().any(|x| x == m);
    let mut y = String::new();
    let _ = writeln!(y, "# Written by `mtls-harness init` on {today} from {}.", s.discovery_url);
    let _ = writeln!(y, "# Fill in every TODO (the loader refuses a file with one left), then run:");
    let _ = writeln!(y, "#   mtls-harness run --target {}", i.out.display());
    let _ = writeln!(y, "#");
    let _ = writeln!(y, "# What the AS publishes (RFC 8414 §3, RFC 8705 §5):");
    let _ = writeln!(y, "#   shape: {} ({} endpoint(s) resolved)", s.shape, s.endpoints.len());
    for (key, url, alias, top) in &s.endpoints {
        let how = if *alias { format!("alias; top level {}", top.as_deref().unwrap_or("none")) } else { "top level".into() };
        let _ = writeln!(y, "#   {key}: {url} ({how})");
    }
    for (o, asked) in &s.origins {
        let what = match asked {
            Ok(true) => "asks for a client certificate".to_string(),
            Ok(false) => "asks for no client certificate".to_string(),
            Err(e) => format!("not probed: {e}"),
        };
        let _ = writeln!(y, "#   origin {o}: {what}");
    }
    let _ = writeln!(
        y,
        "#   token_endpoint_auth_methods_supported: {}",
        if s.auth_methods.is_empty() { "(not published)".into() } else { s.auth_methods.join(", ") }
    );
    let _ = writeln!(
        y,
        "#   tls_client_certificate_bound_access_tokens: {}",
        s.bound_tokens.map(|b| b.to_string()).unwrap_or_else(|| "(not published: false)".into())
    );
    if s.issuer != i.issuer.as_str().trim_end_matches('/') && s.issuer != i.issuer.as_str() {
        let _ = writeln!(y, "#   WARNING: discovery's issuer is {} (RFC 8414 §3.3: it must be the URL discovery was read from)", s.issuer);
    } else if !s.issuer.is_empty() && s.issuer != i.issuer_arg {
        let _ = writeln!(
            y,
            "#   note: --issuer was given as {}; the issuer below is discovery's, {} (compared as a string, RFC 8414 §3.3)",
            mtls_core::text::inert(&i.issuer_arg),
            s.issuer
        );
    }
    if i.insecure {
        let _ = writeln!(y, "#   WARNING: read with --insecure: the AS's certificate was NOT verified. Give its CA bundle below.");
    }
    let _ = writeln!(y, "id: {host}");
    let _ = writeln!(y, "issuer: {}", q(if s.issuer.is_empty() { i.issuer.as_str() } else { &s.issuer }));
    match &i.ca {
        Some(ca) => {
            let _ = writeln!(y, "ca_bundle: {}", q(&relative(ca, dir)));
        }
        None => {
            let _ =
                writeln!(y, "ca_bundle: TODO                        # the PEM bundle of the CA(s) the AS's server certificates chain to");
        }
    }
    match &s.resource {
        Ok(r) => {
            let _ = writeln!(
                y,
                "resource: {}  # RFC 9728 metadata of {} names this AS; bind.rs.* call it with the token",
                q(&r.id),
                r.metadata_url
            );
        }
        Err(why) => {
            let _ = writeln!(
                y,
                "# resource: TODO                       # optional: a protected resource that enforces the binding; bind.rs.* call it with the token (not filled in: {})",
                mtls_core::text::inert(why)
            );
        }
    }
    let a = &i.answers;
    if let Some(scope) = a.scope.as_deref().filter(|v| !v.is_empty()) {
        let _ = writeln!(y, "scope: {}                             # sent on client_credentials token requests (--scope)", q(scope));
    } else if s.scopes.is_empty() || a.scope.is_some() {
        let _ = writeln!(y, "# scope: accounts                       # optional: scope sent on client_credentials token requests");
    } else {
        let _ = writeln!(
            y,
            "scope: TODO                             # a scope your client may get with client_credentials, one of: {} (delete the line if none is needed)",
            s.scopes.join(" ")
        );
    }
    let _ = writeln!(y, "clients:");
    let certs = |y: &mut String| {
        let (c, k) = match &i.cert {
            Some((c, k)) => (q(&relative(c, dir)), q(&relative(k, dir))),
            None => ("TODO".to_string(), "TODO".to_string()),
        };
        let _ = writeln!(
            y,
            "    cert: {c}{}",
            if i.cert.is_none() { "                          # your client certificate (PEM, leaf first)" } else { "" }
        );
        let _ = writeln!(
            y,
            "    key: {k}{}",
            if i.cert.is_none() { "                           # its private key (PEM); read, never copied" } else { "" }
        );
    };
    let subject = s.cert.as_ref().map(|(dn, t)| format!(" (certificate {dn}, x5t#S256 {t})")).unwrap_or_default();
    if has("tls_client_auth") || (!has("self_signed_tls_client_auth") && !has("private_key_jwt")) {
        let _ = writeln!(y, "  tls_client_auth:                      # RFC 8705 §2.1");
        let _ = writeln!(
            y,
            "    client_id: {}                     # the client_id registered for this certificate{subject}",
            a.client_id.as_deref().map(q).unwrap_or_else(|| "TODO".into())
        );
        certs(&mut y);
    } else if has("self_signed_tls_client_auth") {
        let _ = writeln!(y, "  self_signed:                          # RFC 8705 §2.2");
        let _ = writeln!(
            y,
            "    client_id: {}                     # the client_id registered with this certificate{subject}",
            a.client_id.as_deref().map(q).unwrap_or_else(|| "TODO".into())
        );
        certs(&mut y);
    }
    if has("private_key_jwt") {
        let _ = writeln!(y, "  # private_key_jwt:                    # RFC 7523, assertions sent over mTLS (the AS advertises it)");
        let _ = writeln!(y, "  #   client_id: my-jwt-client");
        let _ = writeln!(y, "  #   signing_key: jwt-signing.key      # PEM or a private JWK");
        let _ = writeln!(y, "  #   alg: PS256                        # PS256, ES256 or EdDSA");
    }
    if has("client_secret_basic") || has("client_secret_post") || has("client_secret_jwt") {
        let m = ["client_secret_basic", "client_secret_post", "client_secret_jwt"]
            .into_iter()
            .find(|m| has(m))
            .unwrap_or("client_secret_basic");
        let _ = writeln!(y, "  # secret:                             # a secret-authenticated client (bind.other-auth, RFC 8705 §3)");
        let _ = writeln!(y, "  #   client_id: my-secret-client");
        let _ = writeln!(y, "  #   secret_env: AS_CLIENT_SECRET      # the NAME of the environment variable holding the secret");
        let _ = writeln!(y, "  #   method: {m}");
    }
    let _ = writeln!(y, "  # primary: tls_client_auth            # the client binding, PAR, introspection and revocation act as");
    if s.authorization {
        let _ = writeln!(
            y,
            "  redirect_uri: {}                    # the redirect URI registered for your client (PAR and authorization requests carry it)",
            a.redirect_uri.as_deref().map(q).unwrap_or_else(|| "TODO".into())
        );
    }
    let _ = writeln!(
        y,
        "# other_subject: {{ cert: TODO, key: TODO }}  # a certificate from your CA with a subject no client is registered with: without it (or client_ca) auth.pki.other-subject and bind.rs.other-cert cannot run, and a profile requiring them reports the run incomplete"
    );
    let _ = writeln!(
        y,
        "# client_ca: {{ cert: TODO, key: TODO }}      # the CA that issues your client certificates, if you may hold it: the harness mints the other-subject and expired certificates; without it (or other_subject) auth.pki.other-subject, bind.rs.other-cert and auth.pki.expired cannot run, and a profile requiring them reports the run incomplete"
    );
    let mut suggest = Vec::new();
    if s.bound_tokens == Some(true) && has("private_key_jwt") && s.par_required {
        suggest.push("fapi2-sp-mtls");
    }
    suggest.push("bcp195");
    let _ = writeln!(
        y,
        "# profile: [{}]                  # optional rule sets (`mtls-harness list --profiles`); suggested from what the AS advertises",
        suggest.join(", ")
    );
    if let (Some(b), true) = (a.require_bound_tokens, s.bound_tokens != Some(true)) {
        let _ = writeln!(y, "require_bound_tokens: {b}             # --require-bound-tokens (the AS does not publish tls_client_certificate_bound_access_tokens: true)");
    } else if s.bound_tokens != Some(true) {
        let _ = writeln!(
            y,
            "require_bound_tokens: TODO              # the AS does not publish tls_client_certificate_bound_access_tokens: true — true if your ecosystem requires certificate-bound tokens (disc.bound-flag then fails), else false"
        );
    }
    let _ = writeln!(y, "checks: [\"*\"]");
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> Survey {
        Survey {
            discovery_url: "https://as.example/.well-known/openid-configuration".into(),
            issuer: "https://as.example".into(),
            shape: "split",
            endpoints: vec![(
                "token_endpoint".into(),
                "https://mtls.as.example/token".into(),
                true,
                Some("https://as.example/token".into()),
            )],
            origins: vec![("https://as.example".into(), Ok(false)), ("https://mtls.as.example".into(), Ok(true))],
            auth_methods: vec!["tls_client_auth".into(), "private_key_jwt".into(), "client_secret_basic".into()],
            bound_tokens: Some(true),
            scopes: vec!["accounts".into()],
            par_required: true,
            cert: Some(("CN=tpp".into(), "abc".into())),
            authorization: true,
            resource: Err("discovery publishes no protected_resources (RFC 9728 §4)".into()),
        }
    }

    fn inputs() -> InitInputs {
        InitInputs {
            issuer: Url::parse("https://as.example").unwrap_or_else(|e| panic!("{e}")),
            issuer_arg: "https://as.example".into(),
            ca: Some(PathBuf::from("/tmp/x/ca.pem")),
            insecure: false,
            cert: Some((PathBuf::from("/tmp/x/c.pem"), PathBuf::from("/tmp/x/c.key"))),
            out: PathBuf::from("/tmp/x/target.yaml"),
            limits: Limits::default(),
            answers: Answers::default(),
        }
    }

    #[test]
    fn the_file_says_what_was_found_and_leaves_todos_only_for_the_user() {
        let i = inputs();
        let y = render(&i, &survey(), "2026-11-26");
        assert!(y.contains("#   token_endpoint: https://mtls.as.example/token (alias; top level https://as.example/token)"), "{y}");
        assert!(y.contains("origin https://mtls.as.example: asks for a client certificate"), "{y}");
        assert!(y.contains("ca_bundle: \"ca.pem\"") && y.contains("cert: \"c.pem\""), "{y}");
        assert!(y.contains("# profile: [fapi2-sp-mtls, bcp195]"), "{y}");
        let todos: Vec<&str> = y.lines().filter(|l| !l.trim_start().starts_with('#') && l.contains("TODO")).collect();
        assert_eq!(todos.len(), 3, "client_id, scope and redirect_uri: {todos:?}");
        assert!(y.contains("\n# resource: TODO") && y.contains("bind.rs.* call it with the token"), "{y}");
        assert!(y.contains("# other_subject: {") && y.contains("# client_ca: {") && y.contains("reports the run incomplete"), "{y}");
        assert!(!y.contains("note: --issuer"), "the issuer given is discovery's: {y}");
        let mut unbound = survey();
        unbound.bound_tokens = None;
        assert!(render(&i, &unbound, "2026-11-26").contains("require_bound_tokens: TODO"), "a decision only the user can make");
        let filled = y.replacen("client_id: TODO", "client_id: tpp", 1).replacen("scope: TODO", "scope: accounts", 1).replacen(
            "redirect_uri: TODO",
            "redirect_uri: https://tpp.example/cb",
            1,
        );
        let parsed = mtls_client::live::TargetFile::parse(&filled, &i.out).unwrap_or_else(|e| panic!("{e}\n{filled}"));
        assert_eq!(parsed.id, "as.example");
        assert_eq!(parsed.clients.redirect_uri, "https://tpp.example/cb");
        assert_eq!(parsed.resource, None);
        let first = y.lines().position(|l| !l.trim_start().starts_with('#') && l.contains("TODO")).unwrap_or_default() + 1;
        let unfilled = mtls_client::live::TargetFile::parse(&y, &i.out).map(|_| ()).unwrap_err().to_string();
        assert!(unfilled.contains("TODO") && unfilled.contains(&format!("target.yaml:{first}")), "{unfilled}");
    }

    #[test]
    fn a_protected_resource_that_names_the_as_is_filled_in_and_the_file_parses() {
        let i = inputs();
        let mut s = survey();
        s.resource = Ok(Resource {
            id: "https://rs.example/accounts".into(),
            metadata_url: "https://rs.example/.well-known/oauth-protected-resource/accounts".into(),
        });
        s.authorization = false;
        let y = render(&i, &s, "2026-11-26");
        assert!(
            y.contains("resource: \"https://rs.example/accounts\"")
                && y.contains("RFC 9728 metadata of https://rs.example/.well-known/oauth-protected-resource/accounts"),
            "{y}"
        );
        assert!(!y.contains("redirect_uri"), "no PAR or authorization endpoint: no redirect URI asked for\n{y}");
        let filled = y.replacen("client_id: TODO", "client_id: tpp", 1).replacen("scope: TODO", "scope: accounts", 1);
        let parsed = mtls_client::live::TargetFile::parse(&filled, &i.out).unwrap_or_else(|e| panic!("{e}\n{filled}"));
        assert_eq!(parsed.resource.as_deref(), Some("https://rs.example/accounts"));
    }

    #[test]
    fn the_issuer_written_is_discoverys_with_a_note_when_the_given_one_differed() {
        let mut i = inputs();
        i.issuer = Url::parse("https://as.example/").unwrap_or_else(|e| panic!("{e}"));
        i.issuer_arg = "https://as.example/".into();
        let y = render(&i, &survey(), "2026-11-26");
        assert!(y.contains("\nissuer: \"https://as.example\"\n"), "{y}");
        assert!(
            y.contains("#   note: --issuer was given as https://as.example/; the issuer below is discovery's, https://as.example"),
            "{y}"
        );
        assert!(!y.contains("WARNING"), "{y}");
    }

    #[test]
    fn the_protected_resource_metadata_url_inserts_the_well_known_suffix_after_the_host() {
        let u = |s: &str| resource_metadata_url(&Url::parse(s).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(u("https://rs.example/accounts"), "https://rs.example/.well-known/oauth-protected-resource/accounts");
        assert_eq!(u("https://rs.example/"), "https://rs.example/.well-known/oauth-protected-resource");
        assert_eq!(u("https://rs.example:8443/a/b?x=1"), "https://rs.example:8443/.well-known/oauth-protected-resource/a/b?x=1");
    }
}
