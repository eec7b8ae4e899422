//! The harness's own conformant RFC 8705 client: discovery with alias resolution (§5),
//! client_credentials and authorization code + PAR with `tls_client_auth` (§2) or
//! `private_key_jwt` (RFC 7523 §2.2, a fresh assertion per request), introspection,
//! userinfo, a bound-token resource call (§3) and revocation — every mTLS request with its
//! certificate. Misbehaviours can be switched on for self-tests of the client checks.
//! It reads the same environment contract as any client under test (`ClientEnv`).

use std::path::PathBuf;

use serde_json::Value;

use mtls_client::http::{Http, Limits};
use mtls_core::discovery::{Metadata, Operation};
use mtls_core::pki::{Identity, Role};
use mtls_core::redact::Secrets;
use mtls_core::scenario::AuthMethod;
pub use mtls_core::scenario::{Misbehaviour, Step};

use crate::signer::{self, Signer};

/// Where a client configured by hand (no discovery) guesses the endpoints: under the issuer.
const GUESSED_PATHS: [(&str, &str); 6] = [
    ("token_endpoint", "/token"),
    ("pushed_authorization_request_endpoint", "/par"),
    ("introspection_endpoint", "/introspect"),
    ("revocation_endpoint", "/revoke"),
    ("userinfo_endpoint", "/userinfo"),
    ("authorization_endpoint", "/authorize"),
];

/// The environment contract of every client under test.
#[derive(Debug, Clone)]
pub struct ClientEnv {
    /// `MTLS_ISSUER`: the AS's issuer; discovery is under it.
    pub issuer: String,
    /// `MTLS_CLIENT_ID`: the client to act as (registered for `auth`).
    pub client_id: String,
    /// `MTLS_CERT`: the client certificate, PEM file.
    pub cert: PathBuf,
    /// `MTLS_KEY`: its private key, PEM file.
    pub key: PathBuf,
    /// `MTLS_CA`: the CA to trust for the AS's server certificate, PEM file.
    pub ca: PathBuf,
    /// `MTLS_RESOURCE`: the protected resource to call with the bound token, if any.
    pub resource: Option<String>,
    /// `MTLS_REDIRECT_URI`: the registered redirect URI for authorization requests.
    pub redirect_uri: String,
    /// `MTLS_STEPS`: what to do (default: every step).
    pub steps: Vec<Step>,
    /// `use_mtls_endpoint_aliases` for clients that have such a switch.
    pub use_aliases: bool,
    /// Reference client only: a second certificate (for the `switch_cert` misbehaviour).
    pub other_cert: Option<(PathBuf, PathBuf)>,
    /// `MTLS_CLIENT_AUTH`: how the client authenticates (`tls_client_auth`,
    /// `self_signed_tls_client_auth`, `private_key_jwt`); the certificate is presented in each case.
    pub auth: AuthMethod,
    /// `MTLS_JWT_KEY`, `MTLS_JWT_KID`, `MTLS_JWT_ALG`: the private_key_jwt assertion key.
    pub jwt: Option<JwtKey>,
    /// Reference client only: a registered RSA key (for the `assertion_rs256` misbehaviour).
    pub rs256_key: Option<JwtKey>,
}

/// A `private_key_jwt` client's assertion-signing key, as the environment names it.
#[derive(Debug, Clone)]
pub struct JwtKey {
    /// PEM file of the private key (mode 0600 when the harness writes it).
    pub path: PathBuf,
    /// The `kid` of its registered public key.
    pub kid: Option<String>,
    /// The algorithm to sign with (`EdDSA`).
    pub alg: String,
}

impl ClientEnv {
    /// The variables handed to a client command.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("MTLS_ISSUER", self.issuer.clone()),
            ("MTLS_CLIENT_ID", self.client_id.clone()),
            ("MTLS_CERT", self.cert.display().to_string()),
            ("MTLS_KEY", self.key.display().to_string()),
            ("MTLS_CA", self.ca.display().to_string()),
            ("MTLS_REDIRECT_URI", self.redirect_uri.clone()),
            ("MTLS_STEPS", self.steps.iter().map(|s| s.name()).collect::<Vec<_>>().join(",")),
            ("MTLS_USE_ALIASES", self.use_aliases.to_string()),
        ];
        if let Some(r) = &self.resource {
            v.push(("MTLS_RESOURCE", r.clone()));
        }
        v.push(("MTLS_CLIENT_AUTH", self.auth.name().to_string()));
        if let Some(k) = &self.jwt {
            v.push(("MTLS_JWT_KEY", k.path.display().to_string()));
            v.push(("MTLS_JWT_ALG", k.alg.clone()));
            if let Some(kid) = &k.kid {
                v.push(("MTLS_JWT_KID", kid.clone()));
            }
        }
        v
    }

    /// Read the contract from the process environment (`mtls-harness client`).
    pub fn from_env() -> Result<ClientEnv, String> {
        let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set (see the client-mode contract in the README)"));
        let steps = match std::env::var("MTLS_STEPS") {
            Ok(s) if !s.trim().is_empty() => s
                .split(',')
                .map(|x| Step::parse(x.trim()).ok_or_else(|| format!("MTLS_STEPS: unknown step `{x}`")))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Step::ALL.to_vec(),
        };
        let auth = match std::env::var("MTLS_CLIENT_AUTH") {
            Ok(m) if !m.trim().is_empty() => serde_json::from_value::<AuthMethod>(Value::String(m.trim().to_string()))
                .ok()
                .filter(|a| matches!(a, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::PrivateKeyJwt))
                .ok_or_else(|| format!("MTLS_CLIENT_AUTH `{m}`: tls_client_auth, self_signed_tls_client_auth or private_key_jwt"))?,
            _ => AuthMethod::TlsClientAuth,
        };
        let jwt = match std::env::var("MTLS_JWT_KEY") {
            Ok(path) => Some(JwtKey {
                path: path.into(),
                kid: std::env::var("MTLS_JWT_KID").ok().filter(|k| !k.is_empty()),
                alg: std::env::var("MTLS_JWT_ALG").unwrap_or_else(|_| "EdDSA".into()),
            }),
            Err(_) if auth == AuthMethod::PrivateKeyJwt => {
                return Err("MTLS_CLIENT_AUTH is private_key_jwt but MTLS_JWT_KEY is not set".into())
            }
            Err(_) => None,
        };
        Ok(ClientEnv {
            auth,
            jwt,
            rs256_key: None,
            issuer: var("MTLS_ISSUER")?,
            client_id: var("MTLS_CLIENT_ID")?,
            cert: var("MTLS_CERT")?.into(),
            key: var("MTLS_KEY")?.into(),
            ca: var("MTLS_CA")?.into(),
            resource: std::env::var("MTLS_RESOURCE").ok(),
            redirect_uri: var("MTLS_REDIRECT_URI")?,
            steps,
            use_aliases: std::env::var("MTLS_USE_ALIASES").map(|v| v != "false").unwrap_or(true),
            other_cert: None,
        })
    }
}

/// What the reference client did: one line per step, and whether every step succeeded.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `step NAME: …` for each step performed, in order.
    pub log: Vec<String>,
    /// The names of the steps that failed; empty when the run succeeded.
    pub failed: Vec<String>,
}

struct Run<'a> {
    env: &'a ClientEnv,
    misbehave: &'a [Misbehaviour],
    http: Http,
    no_cert: Http,
    other: Option<Http>,
    meta: Metadata,
    out: Outcome,
    /// private_key_jwt: the assertion signer.
    signer: Option<Signer>,
    /// `assertion_reuse_jti`: the first assertion, sent again.
    sent: Option<String>,
    secrets: Secrets,
}

impl Run<'_> {
    fn has(&self, m: Misbehaviour) -> bool {
        self.misbehave.contains(&m)
    }

    fn step(&mut self, name: &str, result: Result<String, String>) -> bool {
        match result {
            Ok(msg) => {
                self.out.log.push(format!("step {name}: {msg}"));
                true
            }
            Err(why) => {
                self.out.log.push(format!("step {name}: FAILED {why}"));
                self.out.failed.push(name.to_string());
                false
            }
        }
    }

    /// The endpoint for an operation: the alias when usable (RFC 8705 §5), else the top level.
    fn endpoint(&self, op: Operation) -> Option<String> {
        if self.has(Misbehaviour::IgnoreAliases) || !self.env.use_aliases {
            return self.meta.raw.get(op.key()).and_then(Value::as_str).map(str::to_string);
        }
        let resolved = self.meta.resolve();
        let e = resolved.get(op)?;
        if self.has(Misbehaviour::GuessAliases) && e.source == mtls_core::discovery::Source::TopLevel {
            if let Some(token_alias) = resolved.get(Operation::Token).filter(|t| t.source == mtls_core::discovery::Source::Alias) {
                let mut guessed = token_alias.url.clone();
                guessed.set_path(e.url.path());
                return Some(guessed.to_string());
            }
        }
        Some(e.url.to_string())
    }

    fn with_client_id<'b>(&self, mut form: Vec<(&'b str, &'b str)>, client_id: &'b str) -> Vec<(&'b str, &'b str)> {
        if !self.has(Misbehaviour::OmitClientId) {
            form.push(("client_id", client_id));
        }
        form
    }

    /// A private_key_jwt client's authentication parameters for a request to `url` (RFC 7523
    /// §2.2): a fresh assertion each time, unless a misbehaviour says otherwise; none for an mTLS client.
    fn client_auth(&mut self, url: &str) -> Result<Vec<(&'static str, String)>, String> {
        let Some(signer) = &self.signer else { return Ok(Vec::new()) };
        let jws = match (&self.sent, self.has(Misbehaviour::AssertionReuseJti)) {
            (Some(first), true) => first.clone(),
            _ => {
                let token_url = self.endpoint(Operation::Token).unwrap_or_else(|| url.to_string());
                let aud = if self.has(Misbehaviour::AssertionAudTokenEndpoint) { token_url } else { self.env.issuer.clone() };
                let lifetime = if self.has(Misbehaviour::AssertionExpired) { -120 } else { 60 };
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
                let mut claims = signer::claims(&self.env.client_id, &aud, now, lifetime);
                if self.has(Misbehaviour::AssertionIssNotClientId) {
                    claims["iss"] = Value::String("https://client.example".into());
                }
                let jws = signer.sign(&claims).map_err(|e| e.to_string())?;
                self.secrets.register(&jws);
                jws
            }
        };
        self.sent.get_or_insert(jws.clone());
        Ok(vec![("client_assertion_type", mtls_mock::clients::JWT_BEARER.to_string()), ("client_assertion", jws)])
    }

    /// POST `form` to `url` with the client's authentication, over `http` (default: with the certificate).
    async fn post(&mut self, url: &str, form: &[(&str, &str)], no_cert: bool) -> mtls_client::http::Exchange {
        let auth = match self.client_auth(url) {
            Ok(a) => a,
            Err(why) => {
                self.out.log.push(format!("client assertion: FAILED {why}"));
                Vec::new()
            }
        };
        let mut all: Vec<(&str, &str)> = form.to_vec();
        all.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
        let http = if no_cert { &self.no_cert } else { &self.http };
        http.post_form(url, &all).await
    }

    async fn token(&mut self, form: Vec<(&str, &str)>) -> Result<String, String> {
        let url = self.endpoint(Operation::Token).ok_or("no token endpoint")?;
        let no_cert = self.has(Misbehaviour::NoCertToken);
        let ex = self.post(&url, &form, no_cert).await;
        let r = ex.outcome.map_err(|f| f.to_string())?;
        match (r.status, r.str_field("access_token")) {
            (200, Some(t)) => Ok(t.to_string()),
            (s, _) => Err(format!("token endpoint answered {s} {}", r.str_field("error").unwrap_or(""))),
        }
    }
}

fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!("{}{}", mtls_core::ids::random_id(), mtls_core::ids::random_id());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Run the reference client, registering what it sends and receives in `secrets`. `Err` only
/// when it could not start (files, discovery).
pub async fn run(env: &ClientEnv, misbehave: &[Misbehaviour], secrets: &Secrets) -> Result<Outcome, String> {
    let id = Identity::load(Role::Registered, &env.cert, &env.key).map_err(|e| e.to_string())?;
    let ca_pem = std::fs::read(&env.ca).map_err(|e| format!("{}: {e}", env.ca.display()))?;
    let ca = mtls_core::pki::cert_from_pem(&ca_pem).map_err(|e| format!("{}: {e}", env.ca.display()))?;
    let limits = Limits::default();
    let roots = [ca];
    let http = Http::new("reference-client", &roots, Some((id.chain(), id.key_der())), limits, true, false, secrets.clone())
        .map_err(|e| e.to_string())?;
    let no_cert = Http::new("reference-client-no-cert", &roots, None, limits, true, false, secrets.clone()).map_err(|e| e.to_string())?;
    let other = match &env.other_cert {
        Some((c, k)) => {
            let o = Identity::load(Role::OtherSubject, c, k).map_err(|e| e.to_string())?;
            Some(
                Http::new("reference-client-other", &roots, Some((o.chain(), o.key_der())), limits, true, false, secrets.clone())
                    .map_err(|e| e.to_string())?,
            )
        }
        None => None,
    };
    let issuer = env.issuer.trim_end_matches('/');
    let meta = if misbehave.contains(&Misbehaviour::NoDiscovery) {
        // Hard-coded endpoints, as a client configured by hand would have them.
        let mut m = serde_json::Map::new();
        for (key, path) in GUESSED_PATHS {
            m.insert(key.to_string(), Value::String(format!("{issuer}{path}")));
        }
        Metadata { raw: m }
    } else {
        let ex = http.get(&format!("{issuer}/.well-known/openid-configuration"), None).await;
        match ex.outcome {
            Ok(r) if r.status == 200 => Metadata::from_json(r.json.unwrap_or(Value::Null))?,
            Ok(r) => return Err(format!("discovery answered {}", r.status)),
            Err(f) => return Err(format!("discovery failed: {f}")),
        }
    };
    let key = if misbehave.contains(&Misbehaviour::AssertionRs256) { env.rs256_key.as_ref() } else { env.jwt.as_ref() };
    let signer = match (env.auth, key) {
        (AuthMethod::PrivateKeyJwt, Some(k)) if misbehave.contains(&Misbehaviour::AssertionUnregisteredKey) => {
            // A key of the same algorithm and kid that the AS never saw.
            Some(Signer::generated(&k.alg, k.kid.clone()).map_err(|e| e.to_string())?)
        }
        (AuthMethod::PrivateKeyJwt, Some(k)) => Some(Signer::load(&k.path, &k.alg, k.kid.clone()).map_err(|e| e.to_string())?),
        (AuthMethod::PrivateKeyJwt, None) => return Err("private_key_jwt without an assertion key (MTLS_JWT_KEY)".into()),
        _ => None,
    };
    let mut run = Run { env, misbehave, http, no_cert, other, meta, out: Outcome::default(), signer, sent: None, secrets: secrets.clone() };
    run.out.log.push("step discovery: done".into());
    if run.has(Misbehaviour::OnlyDiscovery) {
        return Ok(run.out);
    }
    let steps = &env.steps;
    let cid = env.client_id.as_str();
    let mut access: Option<String> = None;

    if steps.contains(&Step::Token) {
        let form = run.with_client_id(vec![("grant_type", "client_credentials")], cid);
        let r = run.token(form).await;
        if let Ok(t) = &r {
            access = Some(t.clone());
        }
        run.step("token", r.map(|_| "200 access_token".into()));
    }
    if steps.contains(&Step::Par) || steps.contains(&Step::Authorize) {
        let (verifier, challenge) = pkce();
        let redirect = env.redirect_uri.as_str();
        let params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "openid"),
            ("state", "ref-client"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let mut request_uri = None;
        if steps.contains(&Step::Par) {
            let r = match run.endpoint(Operation::PushedAuthorizationRequest) {
                None => Err("no PAR endpoint".to_string()),
                Some(url) => {
                    let mut form = params.clone();
                    form.push(("client_id", cid));
                    match run.post(&url, &form, false).await.outcome {
                        Ok(r) if r.status == 201 => r.str_field("request_uri").map(str::to_string).ok_or("201 without request_uri".into()),
                        Ok(r) => Err(format!("PAR answered {}", r.status)),
                        Err(f) => Err(f.to_string()),
                    }
                }
            };
            request_uri = r.as_ref().ok().cloned();
            run.step("par", r.map(|_| "201 request_uri".into()));
        }
        if steps.contains(&Step::Authorize) {
            // Authorization is browser-driven: the top-level endpoint (RFC 8705 §5), no certificate needed.
            let authz = if run.has(Misbehaviour::AliasAuthz) {
                run.meta.aliases().and_then(|a| a.get("authorization_endpoint")).and_then(Value::as_str).map(str::to_string)
            } else {
                None
            }
            .or_else(|| run.meta.raw.get("authorization_endpoint").and_then(Value::as_str).map(str::to_string));
            let r: Result<String, String> = async {
                let mut url = url::Url::parse(&authz.ok_or("no authorization endpoint")?).map_err(|e| e.to_string())?;
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("client_id", cid);
                    match &request_uri {
                        Some(u) => {
                            q.append_pair("request_uri", u);
                        }
                        None => {
                            for (k, v) in &params {
                                q.append_pair(k, v);
                            }
                        }
                    }
                }
                let ex = run.no_cert.get(url.as_str(), None).await;
                let loc = ex.location.clone().ok_or_else(|| format!("no redirect ({:?})", ex.evidence.status))?;
                let code = url::Url::parse(&loc)
                    .ok()
                    .and_then(|u| u.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()))
                    .ok_or("redirect without code")?;
                let form = run.with_client_id(
                    vec![
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", redirect),
                        ("code_verifier", verifier.as_str()),
                    ],
                    cid,
                );
                run.token(form).await
            }
            .await;
            if access.is_none() {
                access = r.as_ref().ok().cloned();
            }
            run.step("authorize", r.map(|_| "code exchanged for an access token".into()));
        }
    }
    let Some(token) = access else {
        for s in [Step::Introspect, Step::Userinfo, Step::Resource, Step::Revoke] {
            if steps.contains(&s) {
                run.step(s.name(), Err("no access token to use".into()));
            }
        }
        return Ok(run.out);
    };
    if steps.contains(&Step::Introspect) {
        let r = match run.endpoint(Operation::Introspection) {
            None => Err("no introspection endpoint".to_string()),
            Some(url) => {
                let form = [("token", token.as_str()), ("client_id", cid)];
                let ex = match run.other.as_ref().filter(|_| run.has(Misbehaviour::SwitchCert)) {
                    Some(other) => other.post_form(&url, &form).await,
                    None => run.post(&url, &form, false).await,
                };
                match ex.outcome {
                    Ok(r) if r.status == 200 => Ok(format!("200 active={}", r.field("active").cloned().unwrap_or(Value::Null))),
                    Ok(r) => Err(format!("introspection answered {}", r.status)),
                    Err(f) => Err(f.to_string()),
                }
            }
        };
        run.step("introspect", r);
    }
    for (step, op) in [(Step::Userinfo, Some(Operation::Userinfo)), (Step::Resource, None)] {
        if !steps.contains(&step) {
            continue;
        }
        let url = match op {
            Some(op) => run.endpoint(op),
            None => env.resource.clone(),
        };
        let http = if step == Step::Resource && run.has(Misbehaviour::NoCertResource) { &run.no_cert } else { &run.http };
        let r = match url {
            None => Err(format!("no {} URL", step.name())),
            Some(u) => match http.get(&u, Some(&token)).await.outcome {
                Ok(r) if (200..300).contains(&r.status) => Ok(format!("{}", r.status)),
                Ok(r) => Err(format!("answered {}", r.status)),
                Err(f) => Err(f.to_string()),
            },
        };
        run.step(step.name(), r);
    }
    if steps.contains(&Step::Revoke) {
        let r = match run.endpoint(Operation::Revocation) {
            None => Err("no revocation endpoint".to_string()),
            Some(url) => {
                let form = [("token", token.as_str()), ("token_type_hint", "access_token"), ("client_id", cid)];
                match run.post(&url, &form, false).await.outcome {
                    Ok(r) if r.status == 200 => Ok("200".into()),
                    Ok(r) => Err(format!("revocation answered {}", r.status)),
                    Err(f) => Err(f.to_string()),
                }
            }
        };
        run.step("revoke", r);
    }
    Ok(run.out)
}
