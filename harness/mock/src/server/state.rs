//! The state every responder shares: the layout, the client registrations, planted defects,
//! the trust store for client certificates, the token signing keys and the token store.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::layout::Layout;
use crate::clients::Registration;
use crate::defects::Defects;
use crate::terminator::H_LISTENER;
use crate::tokens::Store;
use mtls_core::assertion_policy::AssertionPolicy;
use mtls_core::pki::TestPki;
use mtls_core::redact::Secrets;
use mtls_core::scenario::Defect;
use mtls_core::tls::provider;

/// The `kid` of the token signing key ([`AsState::new`] loads it), in token headers and the JWKS.
pub(super) const KID: &str = "mock-as-eddsa";

/// Everything the responders share.
pub struct AsState {
    pub(crate) issuer: String,
    /// Its listeners and aliases.
    pub layout: Layout,
    pub(crate) bound_access_tokens: bool,
    pub(crate) defects: Defects,
    /// What it demands of client assertions beyond RFC 7523 §3.
    pub(crate) assertion_policy: AssertionPolicy,
    /// Its client registrations.
    pub clients: Vec<Registration>,
    pub(crate) trust: Arc<dyn ClientCertVerifier>,
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    pub(super) jwks: Value,
    pub(crate) store: Store,
    pub(crate) secrets: Secrets,
}

/// Why the shared state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The test CA could not be made the client-certificate trust anchor.
    #[error("mock AS trust store: {0}")]
    Trust(String),
    /// The token signing key could not be loaded.
    #[error("mock AS token signing key: {0}")]
    Key(#[from] jsonwebtoken::errors::Error),
}

impl AsState {
    pub(crate) fn new(
        layout: Layout,
        bound_access_tokens: bool,
        defects: Defects,
        clients: Vec<Registration>,
        assertion_policy: AssertionPolicy,
        pki: &TestPki,
        secrets: Secrets,
    ) -> Result<AsState, StateError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_cert_der.clone()).map_err(|e| StateError::Trust(e.to_string()))?;
        let trust = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| StateError::Trust(e.to_string()))?;
        let encoding = EncodingKey::from_ed_pem(pki.token_signing_key_pem.as_bytes())?;
        let decoding = DecodingKey::from_ed_pem(pki.token_signing_public_pem.as_bytes())?;
        // RFC 8037 §2: an Ed25519 public key as an OKP JWK.
        let jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": KID,
            "x": URL_SAFE_NO_PAD.encode(&pki.token_signing_public_raw),
        });
        Ok(AsState {
            issuer: layout.top().base.clone(),
            layout,
            bound_access_tokens,
            defects,
            assertion_policy,
            clients,
            trust,
            encoding,
            decoding,
            jwks: json!({ "keys": [jwk] }),
            secrets,
            store: Store::default(),
        })
    }

    pub(crate) fn has(&self, d: Defect) -> bool {
        self.defects.has(d)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// A 404 when `req` arrived on a listener that does not serve `p` (e.g. authorization on
    /// the alias listener of the split shape).
    pub(super) fn wrong_listener(&self, req: &Request, p: &str) -> Option<ResponseTemplate> {
        let name = req.headers.get(H_LISTENER).and_then(|v| v.to_str().ok()).unwrap_or("");
        let l = self.layout.listeners.iter().find(|l| l.name == name)?;
        (!l.paths.contains(&p)).then(|| {
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "not_found", "error_description": format!("{p} is not served on the {name} listener")}))
        })
    }
}
