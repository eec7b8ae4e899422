//! The embedded mock AS as a target: stand it up for a scenario and describe it to the AS-mode
//! checks the way a target file describes a live AS (issuer, clients, resource, certificates).
//! The mock and the client side meet only here, in the runner.

use mtls_client::http::Limits;
use std::sync::Arc;

use mtls_client::target::{Clients, JwtClient, Kind, Parts, Secret, SecretMethod, Target, TargetError};
use mtls_core::catalogue::Primary;
use mtls_core::pki::TestPki;
use mtls_core::redact::Secrets;
use mtls_core::scenario::AuthMethod;
use mtls_mock::{MockAs, MockConfig, MockError};

/// Why a scenario's mock target could not be stood up.
#[derive(Debug, thiserror::Error)]
pub enum MockTargetError {
    /// The mock AS did not start.
    #[error(transparent)]
    Mock(#[from] MockError),
    /// The target could not be built from it.
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// A running mock AS and the target that describes it; the mock stops when this is dropped.
pub struct MockTarget {
    /// The mock AS itself (its journal and layout judge clients).
    pub mock: MockAs,
    /// The target the AS-mode checks run against.
    pub target: Target,
}

/// Stand up the embedded mock AS for `cfg` and describe it as a target whose primary client is `primary`.
/// Everything either side registers — the mock's codes and tokens, the harness's requests — goes
/// into `secrets`.
pub async fn start(
    cfg: &MockConfig,
    primary: Primary,
    pki: &TestPki,
    limits: Limits,
    secrets: &Secrets,
) -> Result<MockTarget, MockTargetError> {
    let mock = MockAs::start(cfg, pki, secrets.clone()).await?;
    let id = |m: AuthMethod| mock.client(m).map(|c| c.client_id.clone());
    let primary_method = match primary {
        Primary::TlsClientAuth => AuthMethod::TlsClientAuth,
        Primary::SelfSignedTlsClientAuth => AuthMethod::SelfSignedTlsClientAuth,
        Primary::PrivateKeyJwt => AuthMethod::PrivateKeyJwt,
    };
    let redirect_uri = mock.client(primary_method).and_then(|c| c.redirect_uris.first().cloned());
    let secret =
        [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::ClientSecretJwt].into_iter().find_map(|m| mock.client(m));
    let clients = Clients {
        primary,
        tls: id(AuthMethod::TlsClientAuth),
        self_signed: id(AuthMethod::SelfSignedTlsClientAuth),
        jwt: mock.client(AuthMethod::PrivateKeyJwt).map(|c| JwtClient {
            client_id: c.client_id.clone(),
            key: Arc::new(c.key.clone().unwrap_or_else(|| pki.assertion_key.clone())),
        }),
        secret: secret.and_then(|c| {
            let value = c.secret.clone()?;
            secrets.register_credential(&c.client_id, &value);
            Some((c.client_id.clone(), Secret::new(value)))
        }),
        secret_method: match secret.map(|c| c.method) {
            Some(AuthMethod::ClientSecretPost) => SecretMethod::ClientSecretPost,
            Some(AuthMethod::ClientSecretJwt) => SecretMethod::ClientSecretJwt,
            _ => SecretMethod::ClientSecretBasic,
        },
        public: id(AuthMethod::None),
        redirect_uri: redirect_uri.unwrap_or_else(|| mtls_core::scenario::DEFAULT_REDIRECT_URI.to_string()),
    };
    let target = Target::build(Parts {
        kind: Kind::Mock,
        issuer: mock.issuer.clone(),
        resource_url: Some(mock.resource_url.clone()),
        clients,
        require_bound_tokens: true,
        holds_ca: true,
        other_subject_trusted: true,
        secret_client_bound: true,
        identities: pki.identities().to_vec(),
        roots: vec![pki.ca_cert_der.clone()],
        limits,
        token_params: Vec::new(),
        no_proxy: true,
        file_keys: None,
        par_request_object: false,
        insecure: false,
        secrets: secrets.clone(),
        // The embedded mock is the harness's own: its scenarios are bounded by checks in flight.
        max_in_flight: None,
        forwarded_cert_headers: Vec::new(),
    })?;
    Ok(MockTarget { mock, target })
}
