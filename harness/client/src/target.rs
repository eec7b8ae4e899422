//! What the AS-mode checks run against: the embedded mock AS (stood up from a scenario) or a
//! live AS (from a target file). Either way: an issuer, client ids, a resource URL, and one
//! HTTP client per certificate identity the target has.

use std::collections::HashMap;
use std::path::PathBuf;

use rustls::pki_types::CertificateDer;

use crate::http::{ClientError, Http, Limits, Reuse, Throttle};
use mtls_core::pki::{Identity, PkiError, Role};
use mtls_core::redact::Secrets;
pub use mtls_core::results::Kind;

/// Which certificate a request is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// No certificate, pooled connections: discovery and the browser-side authorization steps.
    NoCert,
    /// No certificate, a fresh connection per request: the refusals of a certificate-less client
    /// (against the embedded mock, whose edge never refuses at TLS, the pooled client).
    NoCertFresh,
    /// A certificate of this role.
    Cert(Role),
}

impl Who {
    /// The name evidence gives it (`no-cert`, `other-subject`).
    pub fn name(self) -> &'static str {
        match self {
            Who::NoCert | Who::NoCertFresh => "no-cert",
            Who::Cert(r) => r.name(),
        }
    }
}

/// Why a target could not be built. Each variant names the file at fault and keeps the error
/// underneath.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// An HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A certificate or key of the target file could not be used.
    #[error("{at}")]
    Pki {
        /// The key of the target file and its line (`` `clients.tls_client_auth.key` (target.yaml:8) ``).
        at: String,
        /// What was wrong with the certificate or key.
        source: Box<PkiError>,
    },
    /// A certificate the target file registers is outside its validity period: every request
    /// with it would be refused, so nothing is sent.
    #[error("{at}: the certificate {subject} {when}: renew it, or point the key at the current certificate (no request was sent)")]
    CertificateOutOfDate {
        /// The key of the target file and its line.
        at: String,
        /// The certificate's subject.
        subject: String,
        /// "expired on …" or "is not valid before …".
        when: String,
    },
    /// The CA bundle could not be read.
    #[error("{at}: {}", bundle.display())]
    CaBundleUnreadable {
        /// The key of the target file and its line.
        at: String,
        /// The bundle.
        bundle: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CA bundle is not PEM.
    #[error("{at}: {} is not a PEM bundle", bundle.display())]
    CaBundleNotPem {
        /// The key of the target file and its line.
        at: String,
        /// The bundle.
        bundle: PathBuf,
        /// The PEM parser's error.
        source: rustls::pki_types::pem::Error,
    },
    /// The CA bundle holds no certificate.
    #[error("{at}: {} holds no CERTIFICATE", bundle.display())]
    CaBundleEmpty {
        /// The key of the target file and its line.
        at: String,
        /// The bundle.
        bundle: PathBuf,
    },
    /// The target file's clients do not fit together.
    #[error("{}: {msg}", file.display())]
    Config {
        /// The target file.
        file: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The environment variable that should hold a secret is not set.
    #[error("{at} names `{var}`, which is not set in the environment")]
    SecretUnset {
        /// The key of the target file and its line.
        at: String,
        /// The variable.
        var: String,
    },
    /// The secret is too short to be scrubbed safely from reports.
    #[error("{at}: the secret in `{var}` is {len} bytes; secrets under 8 bytes cannot be scrubbed from reports and logs without scrubbing ordinary text, so the harness refuses them")]
    SecretTooShort {
        /// The key of the target file and its line.
        at: String,
        /// The variable.
        var: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The target lacks its primary client or that client's certificate.
    #[error("the primary client ({0}) is not configured, or has no certificate: the binding, PAR, introspection and revocation checks act as it")]
    NoPrimary(&'static str),
}

/// A client secret: never printed, never serialised.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(s: String) -> Secret {
        Secret(s)
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the secret-authenticated client authenticates (RFC 6749 §2.3.1; OIDC Core §9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretMethod {
    /// HTTP Basic.
    #[default]
    ClientSecretBasic,
    /// In the form body.
    ClientSecretPost,
    /// A JWT assertion MACed with the secret (HS256).
    ClientSecretJwt,
}

impl SecretMethod {
    /// The method name.
    pub fn name(self) -> &'static str {
        match self {
            SecretMethod::ClientSecretBasic => "client_secret_basic",
            SecretMethod::ClientSecretPost => "client_secret_post",
            SecretMethod::ClientSecretJwt => "client_secret_jwt",
        }
    }
}

/// A `private_key_jwt` client: its id and assertion key. It presents the `Registered`
/// certificate as its transport certificate, so its tokens can be bound (RFC 8705 §3).
#[derive(Debug, Clone)]
pub struct JwtClient {
    /// Its client id (`iss` and `sub` of its assertions).
    pub client_id: String,
    /// The key its assertions are signed with.
    pub key: std::sync::Arc<mtls_core::pki::AssertionKey>,
}

/// The client registrations the checks act as; none is mandatory, the primary one must exist.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The client the binding, introspection, PAR and revocation checks act as.
    pub primary: mtls_core::catalogue::Primary,
    /// The tls_client_auth client (RFC 8705 §2.1) whose certificate is `Role::Registered`.
    pub tls: Option<String>,
    /// The self_signed_tls_client_auth client (§2.2) whose certificate is `Role::SelfSigned`.
    pub self_signed: Option<String>,
    /// The private_key_jwt client (RFC 7523), presenting `Role::Registered` for binding.
    pub jwt: Option<JwtClient>,
    /// A secret-authenticated client (for `bind.other-auth`, §3).
    pub secret: Option<(String, Secret)>,
    /// How the secret client authenticates.
    pub secret_method: SecretMethod,
    /// A public client (for `bind.refresh-public`, §4).
    pub public: Option<String>,
    /// A redirect URI registered for the primary and public clients.
    pub redirect_uri: String,
}

impl Clients {
    /// The primary client's id, if the target has that client.
    pub fn primary_id(&self) -> Option<&str> {
        use mtls_core::catalogue::Primary;
        match self.primary {
            Primary::TlsClientAuth => self.tls.as_deref(),
            Primary::SelfSignedTlsClientAuth => self.self_signed.as_deref(),
            Primary::PrivateKeyJwt => self.jwt.as_ref().map(|j| j.client_id.as_str()),
        }
    }

    /// The certificate the primary client presents.
    pub fn primary_role(&self) -> Role {
        match self.primary {
            mtls_core::catalogue::Primary::SelfSignedTlsClientAuth => Role::SelfSigned,
            _ => Role::Registered,
        }
    }
}

/// Everything a target is made of, before its HTTP clients are built.
pub struct Parts {
    /// Mock or live.
    pub kind: Kind,
    /// The user's target file, to name the key and line a failure could also be explained by
    /// (none for the embedded mock).
    pub file_keys: Option<crate::file_keys::FileKeys>,
    /// The AS's issuer identifier; discovery is fetched under it.
    pub issuer: String,
    /// A protected resource that enforces the binding, if there is one (for `bind.rs.*`).
    pub resource_url: Option<String>,
    /// The client registrations the checks act as.
    pub clients: Clients,
    /// The profile requires `tls_client_certificate_bound_access_tokens: true` (RFC 8705 §3.3).
    pub require_bound_tokens: bool,
    /// Whether the harness holds the CA that issues the registered certificate.
    pub holds_ca: bool,
    /// Whether the `OtherSubject` certificate is known to come from the CA that issues the
    /// registered one (minted by the harness, or the same issuer): only then does its refusal
    /// say anything about subject matching or binding.
    pub other_subject_trusted: bool,
    /// The secret client is registered for certificate-bound tokens (RFC 8705 §3.4).
    pub secret_client_bound: bool,
    /// Identities by role; the primary client's is required.
    pub identities: Vec<Identity>,
    /// The CAs to trust for the target's server certificates.
    pub roots: Vec<CertificateDer<'static>>,
    /// Timeouts and body limit of every request.
    pub limits: Limits,
    /// Extra form parameters on every token endpoint request (e.g. `resource`, `scope`).
    pub token_params: Vec<(String, String)>,
    /// Use no proxy (loopback targets).
    pub no_proxy: bool,
    /// Push authorization requests as a signed request object (RFC 9101) of the primary
    /// private_key_jwt client, as UAE Open Finance requires; also done whenever discovery says
    /// `require_signed_request_object: true`.
    pub par_request_object: bool,
    /// TLS verification of the target's server certificate is switched off (`--insecure`).
    pub insecure: bool,
    /// The run's secret registry: every HTTP client registers what it sends and receives there.
    pub secrets: Secrets,
    /// At most this many requests in flight to one origin, across all identities (`None`: no
    /// bound; the embedded mock).
    pub max_in_flight: Option<usize>,
    /// Forwarded-certificate headers the `edge.*` checks try beside the built-in catalogue.
    pub forwarded_cert_headers: Vec<mtls_core::forwarded::CertHeader>,
}

/// How an identity's client treats connections. The identities whose refusal may be judged at
/// TLS (a certificate from an untrusted issuer, expired, or self-signed and registered nowhere)
/// get a fresh connection and a full handshake for every request: that refusal is judged on a
/// handshake of its own, never on a connection or session an earlier request set up. The others
/// (accepted identities, and the trusted-CA certificate of another subject, which TLS accepts and
/// only the application refuses) pool theirs, each within its own client.
fn reuse_of(role: Role) -> Reuse {
    match role {
        Role::Registered | Role::SelfSigned | Role::OtherSubject => Reuse::Pooled,
        Role::RogueCa | Role::Expired | Role::SelfSignedOther => Reuse::Fresh,
    }
}

/// An AS the AS-mode checks run against, with one HTTP client per certificate identity.
pub struct Target {
    /// Mock or live.
    pub kind: Kind,
    /// See [`Parts::file_keys`].
    pub file_keys: Option<crate::file_keys::FileKeys>,
    /// The AS's issuer identifier.
    pub issuer: String,
    /// The protected resource's URL, if there is one.
    pub resource_url: Option<String>,
    /// The client registrations the checks act as.
    pub clients: Clients,
    /// The profile requires `tls_client_certificate_bound_access_tokens: true` (RFC 8705 §3.3).
    pub require_bound_tokens: bool,
    /// Whether the harness holds the CA that issues the registered certificate.
    pub holds_ca: bool,
    /// See [`Parts::other_subject_trusted`].
    pub other_subject_trusted: bool,
    /// See [`Parts::secret_client_bound`].
    pub secret_client_bound: bool,
    /// The CAs the harness trusts for the target's server certificates.
    pub roots: Vec<CertificateDer<'static>>,
    pub(crate) limits: Limits,
    pub(crate) token_params: Vec<(String, String)>,
    pub(crate) par_request_object: bool,
    /// TLS verification of the target's server certificate is switched off (`--insecure`).
    pub insecure: bool,
    /// See [`Parts::forwarded_cert_headers`].
    pub forwarded_cert_headers: Vec<mtls_core::forwarded::CertHeader>,
    identities: HashMap<Role, Identity>,
    http: HashMap<Who, Http>,
}

impl Target {
    /// Build the HTTP clients (one without a certificate, one per identity); the primary
    /// client and its certificate are required.
    pub fn build(p: Parts) -> Result<Target, TargetError> {
        let identities: HashMap<Role, Identity> = p.identities.into_iter().map(|i| (i.role, i)).collect();
        if p.clients.primary_id().is_none() || !identities.contains_key(&p.clients.primary_role()) {
            return Err(TargetError::NoPrimary(p.clients.primary.name()));
        }
        // One client per identity, each with connections and TLS sessions of its own; requests
        // of all of them count against one per-origin throttle.
        let throttle = Throttle::per_origin(p.max_in_flight);
        let mut http = HashMap::new();
        let no_cert = Http::new(Who::NoCert.name(), &p.roots, None, p.limits, p.no_proxy, p.insecure, p.secrets.clone())?
            .throttled(throttle.clone())
            .never_resuming()?;
        // The embedded mock's TLS edge never refuses at the handshake (it accepts any
        // certificate, or none, and its AS judges): there the certificate-less refusals share the
        // discovery client's pool, which saves three handshakes per scenario (~60 ms of the
        // loopback suite). Against a live target they handshake afresh.
        let no_cert_refusals = if p.kind == Kind::Mock { no_cert.clone() } else { no_cert.clone().fresh()? };
        http.insert(Who::NoCertFresh, no_cert_refusals);
        http.insert(Who::NoCert, no_cert);
        for (role, id) in &identities {
            let client =
                Http::new(role.name(), &p.roots, Some((id.chain(), id.key_der())), p.limits, p.no_proxy, p.insecure, p.secrets.clone())?
                    .throttled(throttle.clone());
            let client = match reuse_of(*role) {
                Reuse::Pooled => client,
                Reuse::Fresh => client.fresh()?,
            };
            http.insert(Who::Cert(*role), client);
        }
        Ok(Target {
            kind: p.kind,
            file_keys: p.file_keys,
            issuer: p.issuer,
            resource_url: p.resource_url,
            clients: p.clients,
            require_bound_tokens: p.require_bound_tokens,
            holds_ca: p.holds_ca,
            other_subject_trusted: p.other_subject_trusted,
            secret_client_bound: p.secret_client_bound,
            roots: p.roots,
            limits: p.limits,
            token_params: p.token_params,
            par_request_object: p.par_request_object,
            insecure: p.insecure,
            forwarded_cert_headers: p.forwarded_cert_headers,
            identities,
            http,
        })
    }

    /// The HTTP client for an identity, if the target has that identity.
    pub fn http(&self, who: Who) -> Option<&Http> {
        self.http.get(&who)
    }

    /// Against a live target, open a connection (and TLS session) for each pooled certificate
    /// identity at the issuer's origin, in the background, while discovery is fetched: their
    /// first requests then skip the TCP and TLS handshakes, a round trip or two each at a
    /// distance. Each identity warms its own pool (a discovery GET, whose answer is dropped);
    /// nothing is shared across identities. The embedded mock is on loopback: nothing to gain.
    pub(crate) fn warm_up(&self) {
        if self.kind != Kind::Live {
            return;
        }
        // Discovery keeps a slot of the origin's throttle: under `--max-concurrency 1` nothing
        // is warmed, and it never waits behind a warm-up.
        let room = self.no_cert().throttle().limit().map_or(usize::MAX, |n| n.saturating_sub(1));
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let order = [self.clients.primary_role(), Role::Registered, Role::SelfSigned, Role::OtherSubject];
        let mut warmed: Vec<Role> = Vec::new();
        for role in order {
            if warmed.len() >= room || warmed.contains(&role) {
                continue;
            }
            let Some(http) = self.http.get(&Who::Cert(role)).filter(|h| h.reuse() == Reuse::Pooled) else { continue };
            warmed.push(role);
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                let _ = http.get(&url, None).await;
            });
        }
    }

    /// The run's secret registry (shared by every HTTP client of this target).
    pub fn secrets(&self) -> &Secrets {
        self.no_cert().secrets()
    }

    /// The client without a certificate (always present).
    pub fn no_cert(&self) -> &Http {
        self.http.get(&Who::NoCert).unwrap_or_else(|| unreachable!("Target::build always creates the no-cert client"))
    }

    /// The HTTP client holding the primary client's certificate (always present).
    pub fn primary(&self) -> &Http {
        self.http
            .get(&Who::Cert(self.clients.primary_role()))
            .unwrap_or_else(|| unreachable!("Target::build requires the primary identity"))
    }

    /// The primary client's id (always present).
    pub fn primary_id(&self) -> &str {
        self.clients.primary_id().unwrap_or_else(|| unreachable!("Target::build requires the primary client"))
    }

    pub(crate) fn identity(&self, role: Role) -> Option<&Identity> {
        self.identities.get(&role)
    }

    /// `x5t#S256` of the primary client's certificate.
    pub fn primary_thumbprint(&self) -> &str {
        self.identities.get(&self.clients.primary_role()).map(|i| i.x5t_s256.as_str()).unwrap_or_default()
    }
}
