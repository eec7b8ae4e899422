//! Live targets: a YAML file describing a real AS (a bank's sandbox, node-oidc-provider, ...)
//! — issuer, the CA bundle its server certificates chain to, the client registrations the
//! harness acts as, with certificate/key paths (relative to the file) and secrets read only from
//! environment variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::http::Limits;
use crate::target::{Clients, JwtClient, Kind, Parts, Secret, SecretMethod, Target, TargetError};
use mtls_core::catalogue::Primary;
use mtls_core::pki::{mint_rogue, mint_self_signed_like, AssertionKey, ClientCa, Identity, JwsAlg, Role};
use mtls_core::redact::Secrets;
use mtls_core::scenario::ScenarioError;

/// A certificate and its private key, PEM files (paths relative to the target file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// A client that authenticates with a certificate: its id and certificate/key PEM files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertClient {
    pub(crate) client_id: String,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// A secret-authenticated client (`client_secret_basic`, `client_secret_post` or
/// `client_secret_jwt`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretClient {
    pub(crate) client_id: String,
    /// How it authenticates (default client_secret_basic).
    #[serde(default)]
    pub method: SecretMethod,
    /// Name of the environment variable holding the secret (never the secret itself).
    pub secret_env: String,
    /// The client is registered with `tls_client_certificate_bound_access_tokens: true`
    /// (RFC 8705 §3.4): `bind.other-auth` is then a MUST, else a SHOULD.
    #[serde(default)]
    pub bound_tokens: bool,
}

/// A public client (no client authentication).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicClient {
    pub(crate) client_id: String,
}

/// A `private_key_jwt` client (RFC 7523 §2.2): its assertion-signing key and, unless the
/// tls_client_auth client's is used, the transport certificate its tokens are bound to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtClientFile {
    pub(crate) client_id: String,
    /// The private key, PEM (PKCS#8; PKCS#1 for RSA; SEC1 for EC) or a private JWK.
    pub(crate) signing_key: PathBuf,
    /// PS256, ES256 or EdDSA.
    pub(crate) alg: JwsAlg,
    /// The `kid` header (default: the JWK's `kid`, else none).
    #[serde(default)]
    pub(crate) kid: Option<String>,
    /// The transport certificate (PEM), when there is no tls_client_auth client to share one with.
    #[serde(default)]
    pub(crate) cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[serde(default)]
    pub(crate) key: Option<PathBuf>,
}

/// The `clients:` section of a target file: the registrations the harness acts as. None is
/// mandatory; the primary one must be present.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsFile {
    /// The client the binding, PAR, introspection and revocation checks act as (default: the
    /// tls_client_auth client if there is one, else the private_key_jwt one, else the self-signed one).
    #[serde(default)]
    pub primary: Option<Primary>,
    /// A tls_client_auth client (RFC 8705 §2.1).
    #[serde(default)]
    pub tls_client_auth: Option<CertClient>,
    /// A self_signed_tls_client_auth client (§2.2).
    #[serde(default)]
    pub self_signed: Option<CertClient>,
    /// A private_key_jwt client (RFC 7523), sending its assertions over mTLS.
    #[serde(default)]
    pub private_key_jwt: Option<JwtClientFile>,
    /// A secret-authenticated client (for `bind.other-auth`).
    #[serde(default)]
    pub secret: Option<SecretClient>,
    /// A public client (for `bind.refresh-public`).
    #[serde(default)]
    pub public: Option<PublicClient>,
    /// A redirect URI registered for the primary and public clients.
    #[serde(default = "default_redirect")]
    pub redirect_uri: String,
}

impl ClientsFile {
    /// The primary client: as named, else the first present of tls, jwt, self-signed.
    pub fn primary(&self) -> Result<Primary, String> {
        let present = |p: Primary| match p {
            Primary::TlsClientAuth => self.tls_client_auth.is_some(),
            Primary::SelfSignedTlsClientAuth => self.self_signed.is_some(),
            Primary::PrivateKeyJwt => self.private_key_jwt.is_some(),
        };
        match self.primary {
            Some(p) if present(p) => Ok(p),
            Some(p) => Err(format!("clients.primary is {}, but there is no such client under `clients:`", p.name())),
            None => [Primary::TlsClientAuth, Primary::PrivateKeyJwt, Primary::SelfSignedTlsClientAuth]
                .into_iter()
                .find(|p| present(*p))
                .ok_or_else(|| "clients: configure a tls_client_auth, private_key_jwt or self_signed client: the binding, PAR, introspection and revocation checks act as it".to_string()),
        }
    }
}

fn default_redirect() -> String {
    mtls_core::scenario::DEFAULT_REDIRECT_URI.to_string()
}

/// `profile:` of a target file: one profile id or a list of them.
#[derive(Debug, Clone, Default)]
pub struct ProfileNames(pub Vec<String>);

impl<'de> Deserialize<'de> for ProfileNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
            Other(serde::de::IgnoredAny),
        }
        match Raw::deserialize(d)? {
            Raw::One(s) => Ok(ProfileNames(vec![s])),
            Raw::Many(v) => Ok(ProfileNames(v)),
            Raw::Other(_) => Err(serde::de::Error::custom(
                "profile: name one profile or a list (`profile: fapi2-sp-mtls`; see `mtls-harness list --profiles`); whether bound tokens are required is the top-level `require_bound_tokens`",
            )),
        }
    }
}

/// The `timeouts:` section of a target file, milliseconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Connect timeout of each request (default 5 000).
    #[serde(default = "connect_ms")]
    pub connect_ms: u64,
    /// Timeout of each whole request (default 10 000).
    #[serde(default = "request_ms")]
    pub request_ms: u64,
    /// Timeout of each check (default 30 000).
    #[serde(default = "check_ms")]
    pub check_ms: u64,
}

fn connect_ms() -> u64 {
    5_000
}
fn request_ms() -> u64 {
    10_000
}
fn check_ms() -> u64 {
    30_000
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect_ms: connect_ms(), request_ms: request_ms(), check_ms: check_ms() }
    }
}

fn all_checks() -> Vec<String> {
    vec!["*".to_string()]
}

fn live_id() -> String {
    "live".to_string()
}

/// What `observe` takes from a target file ([`TargetFile::observe_inputs`]).
#[derive(Debug, Clone)]
pub struct ObserveInputs {
    /// The AS's issuer.
    pub issuer: String,
    /// Its CA bundle.
    pub ca_bundle: PathBuf,
    /// The observed client's id.
    pub client_id: String,
    /// Its certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM).
    pub key: PathBuf,
    /// The protected resource, if any.
    pub resource: Option<String>,
    /// The observed client's assertion key, when it is the private_key_jwt one.
    pub jwt: Option<ObserveJwt>,
}

/// A private_key_jwt client's assertion key, as a target file gives it to `observe`.
#[derive(Debug, Clone)]
pub struct ObserveJwt {
    /// The private key file (its public half verifies the assertions).
    pub signing_key: PathBuf,
    /// The algorithm it signs with.
    pub alg: JwsAlg,
    /// The `kid`, if the file names one.
    pub kid: Option<String>,
}

/// A live target file: the AS, its CA bundle, the clients to act as, and what to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// Names the run in reports and test names (`<id>::<check>`).
    #[serde(default = "live_id")]
    pub id: String,
    pub(crate) issuer: String,
    /// PEM bundle of the CA(s) the AS's server certificates chain to.
    pub ca_bundle: PathBuf,
    /// A protected resource that enforces the binding (for `bind.rs.*`).
    #[serde(default)]
    pub resource: Option<String>,
    /// `scope` sent on token requests.
    #[serde(default)]
    pub scope: Option<String>,
    /// Further form parameters on every token request (e.g. a `resource` indicator).
    #[serde(default)]
    pub token_params: BTreeMap<String, String>,
    /// The client registrations the harness acts as.
    pub clients: ClientsFile,
    /// A certificate from the trusted CA with a subject no client is registered with.
    #[serde(default)]
    pub other_subject: Option<CertFiles>,
    /// The CA (certificate and key) that issues the client certificates, if the harness may hold
    /// it: then it mints the expired and other-subject certificates itself.
    #[serde(default)]
    pub client_ca: Option<CertFiles>,
    /// Profiles whose rules the run judges (default `rfc8705`).
    #[serde(default)]
    pub profile: ProfileNames,
    /// Whether `disc.bound-flag` requires `tls_client_certificate_bound_access_tokens: true`
    /// (default: whether a selected profile requires bound tokens).
    #[serde(default)]
    pub require_bound_tokens: Option<bool>,
    /// Push authorization requests as a request object signed by the private_key_jwt primary
    /// client (RFC 9101; UAE Open Finance requires it at PAR). Also done whenever discovery says
    /// `require_signed_request_object: true`.
    #[serde(default)]
    pub par_request_object: bool,
    /// Request and check timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// At most this many requests in flight to one origin of this AS at once (1–64): the
    /// sandbox's own limit. The run uses the lower of this and `--max-concurrency`.
    #[serde(default)]
    pub max_concurrency: Option<usize>,
    /// Check ids or globs to run.
    #[serde(default = "all_checks")]
    pub checks: Vec<String>,
    /// Forwarded-certificate headers the `edge.*` checks try beside the built-in catalogue
    /// (`name`, `encoding`, `source`), e.g. the one your edge sets.
    #[serde(default)]
    pub forwarded_cert_headers: Vec<mtls_core::forwarded::CertHeader>,
    /// The file this came from (set by the loader).
    #[serde(skip)]
    pub file: PathBuf,
    /// The file's text, to find the line of a key (`file_keys`).
    #[serde(skip)]
    source: String,
}

impl TargetFile {
    /// Read and parse a target file.
    pub fn load(path: &Path) -> Result<TargetFile, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io { path: path.display().to_string(), msg: e.to_string() })?;
        TargetFile::parse(&text, path)
    }

    /// Parse a target file's text; `path` names it in errors and anchors its relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<TargetFile, ScenarioError> {
        let name = path.display().to_string();
        // `mtls-harness init` marks what only the user knows with TODO: never run with one left.
        if let Some(n) = text.lines().position(|l| l.split('#').next().unwrap_or_default().contains("TODO")) {
            return Err(ScenarioError::Invalid {
                file: format!("{name}:{}", n + 1),
                msg: "a TODO is left here: fill it in (or delete the optional line) before running".into(),
            });
        }
        let mut t: TargetFile = serde_yaml::from_str(text).map_err(|e| mtls_core::scenario::syntax_error(&name, &e))?;
        t.file = path.to_path_buf();
        t.source = text.to_string();
        t.validate().map_err(|msg| ScenarioError::Invalid { file: name, msg })?;
        Ok(t)
    }

    fn validate(&self) -> Result<(), String> {
        let issuer = url::Url::parse(&self.issuer).map_err(|e| format!("issuer `{}` is not a URL ({e})", self.issuer))?;
        if issuer.scheme() != "https" {
            return Err(format!("issuer `{}` must use https (RFC 8414 §2)", self.issuer));
        }
        // RFC 8414 §2: an https URL with no query or fragment; user info would be copied into
        // every report (and never belongs in an issuer) — refuse it without repeating it.
        if !issuer.username().is_empty() || issuer.password().is_some() {
            return Err("issuer carries user info (`user:password@`): an issuer has none (RFC 8414 §2), and it would be copied into every report; remove it".into());
        }
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(format!(
                "issuer `{}` has a query or fragment, which RFC 8414 §2 forbids",
                issuer.as_str().split(['?', '#']).next().unwrap_or_default()
            ));
        }
        if let Some(r) = &self.resource {
            url::Url::parse(r).map_err(|e| format!("resource `{r}` is not a URL ({e})"))?;
        }
        if self.max_concurrency.is_some_and(|n| !(1..=64).contains(&n)) {
            return Err("max_concurrency must be between 1 and 64".into());
        }
        if self.checks.is_empty() {
            return Err("`checks` is empty: name check ids or globs such as `auth.*`, or leave the key out to run every check".into());
        }
        for pattern in &self.checks {
            if mtls_core::catalogue::select(std::slice::from_ref(pattern), mtls_core::scenario::Mode::As).is_empty() {
                return Err(format!("check `{pattern}` matches no check in the catalogue (see `mtls-harness list`)"));
            }
        }
        let primary = self.clients.primary()?;
        if self.par_request_object && primary != Primary::PrivateKeyJwt {
            return Err(
                "par_request_object: request objects are signed with the private_key_jwt primary client's key; make it the primary client"
                    .into(),
            );
        }
        if let (Some(_), Some(j)) = (&self.clients.tls_client_auth, &self.clients.private_key_jwt) {
            if j.cert.is_some() || j.key.is_some() {
                return Err("clients.private_key_jwt: with a tls_client_auth client as well, the jwt client presents its certificate; leave out private_key_jwt.cert and .key".into());
            }
        }
        if let (None, Some(j)) = (&self.clients.tls_client_auth, &self.clients.private_key_jwt) {
            if j.cert.is_none() || j.key.is_none() {
                return Err(
                    "clients.private_key_jwt: give `cert` and `key`, the transport certificate its tokens are bound to (RFC 8705 §3)"
                        .into(),
                );
            }
        }
        if self.timeouts.request_ms == 0 || self.timeouts.connect_ms == 0 || self.timeouts.check_ms == 0 {
            return Err("timeouts must be greater than zero".into());
        }
        Ok(())
    }

    /// What `observe` takes from the file: the issuer, the CA bundle, the client it observes
    /// (paths resolved against the file's directory) and the resource. The client is the
    /// tls_client_auth one, else the self-signed one, else the private_key_jwt one (with its
    /// transport certificate); `jwt_first` (`--client-auth private_key_jwt`) takes the
    /// private_key_jwt one first — presenting the tls_client_auth client's certificate when it
    /// has none of its own.
    pub fn observe_inputs(&self, jwt_first: bool) -> Result<ObserveInputs, String> {
        let c = &self.clients;
        let mtls = c.tls_client_auth.as_ref().or(c.self_signed.as_ref());
        let jwt = c.private_key_jwt.as_ref().map(|j| {
            let transport = match (&j.cert, &j.key) {
                (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
                _ => c.tls_client_auth.as_ref().map(|t| (t.cert.clone(), t.key.clone())),
            };
            (j, transport)
        });
        let inputs = |client_id: &str, cert: &Path, key: &Path, jwt: Option<ObserveJwt>| ObserveInputs {
            issuer: self.issuer.clone(),
            ca_bundle: self.path(&self.ca_bundle),
            client_id: client_id.to_string(),
            cert: self.path(cert),
            key: self.path(key),
            resource: self.resource.clone(),
            jwt,
        };
        match (mtls, jwt) {
            (Some(m), _) if !jwt_first => Ok(inputs(&m.client_id, &m.cert, &m.key, None)),
            (_, Some((j, Some((cert, key))))) => {
                let key_file = ObserveJwt { signing_key: self.path(&j.signing_key), alg: j.alg, kid: j.kid.clone() };
                Ok(inputs(&j.client_id, &cert, &key, Some(key_file)))
            }
            (Some(m), _) => Ok(inputs(&m.client_id, &m.cert, &m.key, None)),
            (None, _) => Err(format!(
                "{}: observe needs a tls_client_auth, self_signed or private_key_jwt client with its certificate and key",
                self.file.display()
            )),
        }
    }

    /// A path from the file, relative to the file's directory.
    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.file.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// Where the file's keys are written, by line.
    pub fn file_keys(&self) -> crate::file_keys::FileKeys {
        crate::file_keys::FileKeys::new(self.file.display().to_string(), &self.source)
    }

    /// `source`, blamed on the key of `section` it came from: `.key` when the key file is at
    /// fault, else `.cert`.
    fn blame(&self, section: &str, key: &Path, source: mtls_core::pki::PkiError) -> TargetError {
        let field = if source.path() == Some(self.path(key).as_path()) { "key" } else { "cert" };
        TargetError::Pki { at: self.file_keys().at(&format!("{section}.{field}")), source: Box::new(source) }
    }

    /// The certificate and key of `section`, loaded, and in date: a certificate every request
    /// would be refused for is reported before any request.
    fn identity(&self, role: Role, section: &str, cert: &Path, key: &Path) -> Result<Identity, TargetError> {
        let id = Identity::load(role, &self.path(cert), &self.path(key)).map_err(|e| self.blame(section, key, e))?;
        if let Some((from, until)) = id.validity() {
            let now = time::OffsetDateTime::now_utc();
            let day = |t: time::OffsetDateTime| t.date().to_string();
            let when = if until < now {
                Some(format!("expired on {}", day(until)))
            } else if from > now {
                Some(format!("is not valid before {}", day(from)))
            } else {
                None
            };
            if let Some(when) = when {
                let at = self.file_keys().at(&format!("{section}.cert"));
                return Err(TargetError::CertificateOutOfDate { at, subject: id.subject.clone(), when });
            }
        }
        Ok(id)
    }

    /// The request limits its timeouts give.
    pub fn limits(&self) -> Limits {
        Limits {
            connect: Duration::from_millis(self.timeouts.connect_ms),
            request: Duration::from_millis(self.timeouts.request_ms),
            ..Limits::default()
        }
    }

    /// Its per-check timeout.
    pub fn check_timeout(&self) -> Duration {
        Duration::from_millis(self.timeouts.check_ms)
    }

    /// Everything read from disk and environment, with the impostor certificates minted.
    /// Errors name the file or variable at fault.
    pub fn parts(&self, insecure: bool, secrets: &Secrets) -> Result<Parts, TargetError> {
        let keys = self.file_keys();
        let bundle_path = self.path(&self.ca_bundle);
        let at_bundle = || keys.at("ca_bundle");
        let bundle = std::fs::read(&bundle_path).map_err(|source| TargetError::CaBundleUnreadable {
            at: at_bundle(),
            bundle: bundle_path.clone(),
            source,
        })?;
        let roots: Vec<_> = {
            use rustls::pki_types::{pem::PemObject, CertificateDer};
            CertificateDer::pem_slice_iter(&bundle).collect::<Result<_, _>>().map_err(|source| TargetError::CaBundleNotPem {
                at: at_bundle(),
                bundle: bundle_path.clone(),
                source,
            })?
        };
        if roots.is_empty() {
            return Err(TargetError::CaBundleEmpty { at: at_bundle(), bundle: bundle_path.clone() });
        }
        let c = &self.clients;
        let primary = c.primary().map_err(|msg| TargetError::Config { file: self.file.clone(), msg })?;
        // The `Registered` certificate: the tls_client_auth client's, else the jwt client's transport certificate.
        let registered_files = match (&c.tls_client_auth, &c.private_key_jwt) {
            (Some(t), _) => Some(("clients.tls_client_auth", t.cert.clone(), t.key.clone())),
            (None, Some(JwtClientFile { cert: Some(cert), key: Some(key), .. })) => {
                Some(("clients.private_key_jwt", cert.clone(), key.clone()))
            }
            _ => None,
        };
        let registered = match &registered_files {
            Some((section, cert, key)) => Some(self.identity(Role::Registered, section, cert, key)?),
            None => None,
        };
        // Generated, not read: an error here names the section the certificate came from.
        let minted = |section: &str, source| TargetError::Pki { at: keys.at(&format!("{section}.cert")), source: Box::new(source) };
        let mut identities = Vec::new();
        if let (Some(r), Some((section, ..))) = (&registered, &registered_files) {
            identities.push(mint_rogue(r).map_err(|e| minted(section, e))?);
        }
        if let Some(ss) = &c.self_signed {
            let id = self.identity(Role::SelfSigned, "clients.self_signed", &ss.cert, &ss.key)?;
            identities.push(mint_self_signed_like(&id, Role::SelfSignedOther).map_err(|e| minted("clients.self_signed", e))?);
            identities.push(id);
        }
        let jwt = match &c.private_key_jwt {
            Some(j) => {
                let key = AssertionKey::load(&self.path(&j.signing_key), j.alg, j.kid.clone()).map_err(|e| TargetError::Pki {
                    at: keys.at("clients.private_key_jwt.signing_key"),
                    source: Box::new(mtls_core::pki::PkiError::Key(e)),
                })?;
                Some(JwtClient { client_id: j.client_id.clone(), key: std::sync::Arc::new(key) })
            }
            None => None,
        };
        let ca = match &self.client_ca {
            Some(f) => Some(ClientCa::load(&self.path(&f.cert), &self.path(&f.key)).map_err(|e| self.blame("client_ca", &f.key, e))?),
            None => None,
        };
        if let (Some(ca), Some(r)) = (&ca, &registered) {
            identities.push(ca.mint_expired(r).map_err(|e| minted("client_ca", e))?);
        }
        let other_subject_trusted = match (&self.other_subject, &ca) {
            (Some(f), _) => {
                let other = self.identity(Role::OtherSubject, "other_subject", &f.cert, &f.key)?;
                let trusted = registered.as_ref().is_some_and(|r| mtls_core::pki::same_issuer(&other, r));
                identities.push(other);
                trusted
            }
            (None, Some(ca)) => {
                identities.push(ca.mint_other_subject(registered.as_ref()).map_err(|e| minted("client_ca", e))?);
                true
            }
            (None, None) => false,
        };
        identities.extend(registered);
        let secret = match &c.secret {
            Some(s) => {
                let value = std::env::var(&s.secret_env)
                    .map_err(|_| TargetError::SecretUnset { at: keys.at("clients.secret.secret_env"), var: s.secret_env.clone() })?;
                if value.len() < mtls_core::redact::MIN_SECRET_LEN {
                    return Err(TargetError::SecretTooShort {
                        at: keys.at("clients.secret.secret_env"),
                        var: s.secret_env.clone(),
                        len: value.len(),
                    });
                }
                secrets.register_credential(&s.client_id, &value);
                Some((s.client_id.clone(), Secret::new(value)))
            }
            None => None,
        };
        let mut token_params: Vec<(String, String)> = self.token_params.clone().into_iter().collect();
        if let Some(scope) = &self.scope {
            token_params.push(("scope".into(), scope.clone()));
        }
        let loopback = url::Url::parse(&self.issuer)
            .ok()
            .and_then(|u| u.host_str().map(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]"))
            .unwrap_or(false);
        Ok(Parts {
            secrets: secrets.clone(),
            kind: Kind::Live,
            file_keys: Some(keys),
            issuer: self.issuer.clone(),
            resource_url: self.resource.clone(),
            clients: Clients {
                primary,
                tls: c.tls_client_auth.as_ref().map(|t| t.client_id.clone()),
                jwt,
                secret_method: c.secret.as_ref().map(|s| s.method).unwrap_or_default(),
                self_signed: c.self_signed.as_ref().map(|s| s.client_id.clone()),
                secret,
                public: c.public.as_ref().map(|p| p.client_id.clone()),
                redirect_uri: c.redirect_uri.clone(),
            },
            require_bound_tokens: self.require_bound_tokens.unwrap_or(false),
            holds_ca: ca.is_some(),
            other_subject_trusted,
            secret_client_bound: c.secret.as_ref().is_some_and(|s| s.bound_tokens),
            identities,
            roots,
            limits: self.limits(),
            token_params,
            no_proxy: loopback,
            // The target file's bound; a run may lower it (`--max-concurrency`).
            max_in_flight: self.max_concurrency,
            forwarded_cert_headers: self.forwarded_cert_headers.clone(),
            par_request_object: self.par_request_object,
            insecure,
        })
    }

    /// The scenario a live run performs: this target's checks, its discovery deciding the shape.
    pub fn scenario(&self) -> mtls_core::scenario::Scenario {
        let mut sc = mtls_core::scenario::Scenario::for_live_target(
            &self.id,
            &format!("Live target {}", self.issuer),
            self.checks.clone(),
            &self.file,
        );
        sc.primary = self.clients.primary().unwrap_or_default();
        sc.profiles = self.profile.0.clone();
        sc
    }

    /// Settle `require_bound_tokens` when the file leaves it out: true when a selected profile
    /// requires bound tokens. No profile selected means the default `rfc8705`, which does not
    /// (RFC 8705 §3.3: the metadata is OPTIONAL, absent means false).
    pub fn settle_bound_tokens(&mut self, selected: &[mtls_core::profile::Profile]) {
        if self.require_bound_tokens.is_none() {
            self.require_bound_tokens = Some(selected.iter().any(|p| p.bound_tokens));
        }
    }

    /// The target its parts build ([`TargetFile::parts`]).
    pub fn target(&self, insecure: bool, secrets: &Secrets) -> Result<Target, TargetError> {
        Target::build(self.parts(insecure, secrets)?)
    }
}
