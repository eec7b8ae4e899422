//! The AS behind the edge: wiremock mounts whose responders implement discovery (RFC 8414),
//! the token endpoint with mTLS client authentication (RFC 8705 §2), certificate-bound JWT
//! access tokens (§3.1), and a protected resource that enforces the binding (§3).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::defects::{Defect, Defects};
use super::terminator::{provider, H_CLIENT_CERT};
use crate::discovery::Shape;
use crate::pki::{x5t_s256, TestPki};

pub const TOKEN_PATH: &str = "/token";
pub const RESOURCE_PATH: &str = "/resource";
pub const JWKS_PATH: &str = "/jwks";
const TOKEN_TTL: u64 = 300;
const KID: &str = "mock-as-es256";

/// How a registered client authenticates (RFC 8705 §2.1, §2.2).
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `tls_client_auth` with `tls_client_auth_subject_dn`.
    TlsSubjectDn(String),
    /// `self_signed_tls_client_auth` with the registered certificate's thumbprint.
    SelfSigned { x5t_s256: String },
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub client_id: String,
    pub auth: ClientAuth,
}

/// Everything the responders share.
pub struct AsState {
    pub issuer: String,
    pub shape: Shape,
    pub bound_access_tokens: bool,
    pub defects: Defects,
    pub clients: Vec<Registration>,
    trust: Arc<dyn ClientCertVerifier>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwks: Value,
    tokens: Mutex<HashMap<String, Issued>>,
}

/// What the AS remembers of a token it issued (the binding lives here, as introspection reports it).
#[derive(Debug, Clone)]
pub struct Issued {
    pub client_id: String,
    /// `x5t#S256` of the certificate the token is bound to (RFC 8705 §3.1), if bound.
    pub bound_to: Option<String>,
    pub exp: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("mock AS trust store: {0}")]
    Trust(String),
    #[error("mock AS token signing key: {0}")]
    Key(#[from] jsonwebtoken::errors::Error),
}

impl AsState {
    pub fn new(
        issuer: String,
        shape: Shape,
        bound_access_tokens: bool,
        defects: Defects,
        clients: Vec<Registration>,
        pki: &TestPki,
    ) -> Result<AsState, StateError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca_cert_der.clone()).map_err(|e| StateError::Trust(e.to_string()))?;
        let trust = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| StateError::Trust(e.to_string()))?;
        let encoding = EncodingKey::from_ec_pem(pki.token_signing_key_pem.as_bytes())?;
        let decoding = DecodingKey::from_ec_pem(pki.token_signing_public_pem.as_bytes())?;
        let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256)?;
        jwk.common.key_id = Some(KID.to_string());
        let jwks = json!({ "keys": [jwk] });
        Ok(AsState { issuer, shape, bound_access_tokens, defects, clients, trust, encoding, decoding, jwks, tokens: Mutex::default() })
    }

    fn has(&self, d: Defect) -> bool {
        self.defects.has(d)
    }

    /// The `x5t#S256` value this AS writes into the JWT `cnf` claim (RFC 8705 §3.1); the
    /// encoding defects change only this claim, never the binding the AS records.
    fn cnf_claim_value(&self, cert: &[u8]) -> String {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(cert);
        if self.has(Defect::CnfHex) {
            digest.iter().map(|b| format!("{b:02x}")).collect()
        } else if self.has(Defect::CnfPadded) {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE.encode(digest)
        } else {
            x5t_s256(cert)
        }
    }

    fn remember(&self, jti: &str, issued: Issued) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let now = now();
        tokens.retain(|_, t| t.exp > now);
        tokens.insert(jti.to_string(), issued);
    }

    pub fn issued(&self, jti: &str) -> Option<Issued> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(jti).cloned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The discovery document in this instance's shape (RFC 8414 §2, RFC 8705 §3.3, §5).
    pub fn discovery(&self) -> Value {
        let token = self.url(TOKEN_PATH);
        let mut doc = json!({
            "issuer": if self.has(Defect::WrongIssuer) { self.url("/some-other-issuer") } else { self.issuer.clone() },
            "jwks_uri": self.url(JWKS_PATH),
            "token_endpoint": token,
            "response_types_supported": ["code"],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["tls_client_auth", "self_signed_tls_client_auth"],
            "tls_client_certificate_bound_access_tokens": self.bound_access_tokens,
            "scopes_supported": ["accounts", "payments"],
        });
        if self.shape == Shape::Identical {
            let alias = if self.has(Defect::AliasNotHttps) { token.replacen("https://", "http://", 1) } else { token.clone() };
            doc["mtls_endpoint_aliases"] = json!({ "token_endpoint": alias });
        }
        if self.has(Defect::NoTokenEndpoint) {
            if let Some(o) = doc.as_object_mut() {
                o.remove("token_endpoint");
                o.remove("mtls_endpoint_aliases");
            }
        }
        doc
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn oauth_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({ "error": error, "error_description": description }))
}

/// The certificate the edge forwarded, if any.
fn presented_cert(req: &Request) -> Option<CertificateDer<'static>> {
    let escaped = req.headers.get(H_CLIENT_CERT)?.to_str().ok()?;
    let pem = percent_encoding::percent_decode_str(escaped).decode_utf8().ok()?;
    crate::pki::cert_from_pem(pem.as_bytes()).ok()
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Cnf {
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub client_id: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Cnf>,
}

struct Discovery(Arc<AsState>);
impl Respond for Discovery {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(self.0.discovery())
    }
}

struct Jwks(Arc<AsState>);
impl Respond for Jwks {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(self.0.jwks.clone())
    }
}

struct Token(Arc<AsState>);

impl Token {
    /// RFC 8705 §2.1: trusted chain (validity included) and the registered subject DN.
    fn tls_client_auth(&self, dn: &str, cert: &CertificateDer<'_>) -> Result<(), String> {
        let s = &self.0;
        let lenient = s.has(Defect::AcceptAnyCert);
        if !(lenient || s.has(Defect::AcceptRogueCa)) {
            s.trust
                .verify_client_cert(cert, &[], UnixTime::now())
                .map_err(|e| format!("certificate not trusted: {e}"))?;
        }
        if lenient || s.has(Defect::AcceptAnyTrustedCert) {
            return Ok(());
        }
        let (_, parsed) = x509_parser::parse_x509_certificate(cert).map_err(|e| format!("unparsable certificate: {e}"))?;
        let matches = if s.has(Defect::DnStringCompare) {
            // The planted bug: DER-order string, compared byte for byte.
            parsed.subject().to_string().replace(", ", ",") == dn
        } else {
            crate::dn::same_name(&crate::dn::to_rfc4514(parsed.subject()), dn).unwrap_or(false)
        };
        if matches {
            Ok(())
        } else {
            Err("certificate subject does not match the registered tls_client_auth_subject_dn".into())
        }
    }

    /// RFC 8705 §2.2: the presented certificate is the registered one.
    fn self_signed(&self, registered: &str, cert: &CertificateDer<'_>) -> Result<(), String> {
        if self.0.has(Defect::AcceptAnyCert) || x5t_s256(cert) == registered {
            Ok(())
        } else {
            Err("certificate is not the one registered for self_signed_tls_client_auth".into())
        }
    }

    /// The binding for a token issued to a client that presented `cert`: bound whenever the
    /// AS binds tokens (RFC 8705 §3), whatever the client authentication method was.
    fn binding(&self, cert: Option<&CertificateDer<'_>>) -> Option<String> {
        cert.filter(|_| self.0.bound_access_tokens).map(|c| x5t_s256(c))
    }
}

impl Respond for Token {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let s = &self.0;
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body).into_owned().collect();
        let param = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        match param("grant_type") {
            Some("client_credentials") => {}
            Some(other) => return oauth_error(400, "unsupported_grant_type", &format!("grant_type {other} is not supported")),
            None => return oauth_error(400, "invalid_request", "grant_type is missing"),
        }
        // RFC 8705 §2: mTLS client authentication identifies the client by the client_id parameter.
        let Some(client_id) = param("client_id") else {
            return oauth_error(401, "invalid_client", "client_id is required for mutual-TLS client authentication");
        };
        let Some(client) = s.clients.iter().find(|c| c.client_id == client_id) else {
            return oauth_error(401, "invalid_client", "unknown client");
        };
        let cert = presented_cert(req);
        let verdict = match (&cert, &client.auth) {
            (None, _) if s.has(Defect::AcceptNoCert) => Ok(()),
            (None, _) => Err("no client certificate was presented".to_string()),
            (Some(c), ClientAuth::TlsSubjectDn(dn)) => self.tls_client_auth(dn, c),
            (Some(c), ClientAuth::SelfSigned { x5t_s256 }) => self.self_signed(x5t_s256, c),
        };
        if let Err(why) = verdict {
            return oauth_error(401, "invalid_client", &why);
        }
        let iat = now();
        let bound_to = self.binding(cert.as_ref());
        let jti = format!("{:016x}", rand_u64());
        let cnf = match (&cert, &bound_to) {
            (Some(c), Some(_)) if !s.has(Defect::NoCnf) => Some(Cnf { x5t_s256: s.cnf_claim_value(c) }),
            _ => None,
        };
        let claims = AccessClaims {
            iss: s.issuer.clone(),
            sub: client_id.to_string(),
            client_id: client_id.to_string(),
            iat,
            exp: iat + TOKEN_TTL,
            jti: jti.clone(),
            scope: param("scope").unwrap_or_default().to_string(),
            cnf,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(KID.to_string());
        header.typ = Some("at+jwt".to_string());
        let token = match jsonwebtoken::encode(&header, &claims, &s.encoding) {
            Ok(t) => t,
            Err(e) => return oauth_error(500, "server_error", &format!("signing failed: {e}")),
        };
        s.remember(&jti, Issued { client_id: client_id.to_string(), bound_to, exp: claims.exp });
        ResponseTemplate::new(200).insert_header("cache-control", "no-store").set_body_json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "scope": claims.scope,
        }))
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now());
    h.finish()
}

/// The protected resource: Bearer token (RFC 6750) bound to the presented certificate (RFC 8705 §3).
struct Resource(Arc<AsState>);

fn invalid_token(description: &str) -> ResponseTemplate {
    ResponseTemplate::new(401)
        .insert_header("www-authenticate", format!("Bearer error=\"invalid_token\", error_description=\"{description}\""))
        .set_body_json(json!({ "error": "invalid_token", "error_description": description }))
}

impl Respond for Resource {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let s = &self.0;
        let auth = req.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        let Some(token) = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")) else {
            return ResponseTemplate::new(401).insert_header("www-authenticate", "Bearer");
        };
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&s.issuer]);
        validation.validate_aud = false;
        let claims = match jsonwebtoken::decode::<AccessClaims>(token.trim(), &s.decoding, &validation) {
            Ok(d) => d.claims,
            Err(e) => return invalid_token(&format!("token rejected: {e}")),
        };
        let Some(issued) = s.issued(&claims.jti) else {
            return invalid_token("token unknown to the authorization server");
        };
        if let Some(bound_to) = &issued.bound_to {
            if !s.has(Defect::RsIgnoresCert) {
                match presented_cert(req) {
                    None if s.has(Defect::RsAcceptsMissingCert) => {}
                    None => return invalid_token("token is certificate-bound; no client certificate presented"),
                    Some(c) => {
                        let seen = if s.has(Defect::RsThumbprintPem) {
                            x5t_s256(crate::pki::pem_encode("CERTIFICATE", &c).as_bytes())
                        } else {
                            x5t_s256(&c)
                        };
                        if &seen != bound_to {
                            return invalid_token("presented certificate does not match the token's x5t#S256 binding");
                        }
                    }
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(json!({ "resource": "accounts", "client_id": claims.client_id }))
    }
}

/// Mount every endpoint on the wiremock server.
pub async fn mount(server: &MockServer, state: Arc<AsState>) {
    for p in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        Mock::given(method("GET")).and(path(p)).respond_with(Discovery(state.clone())).mount(server).await;
    }
    Mock::given(method("GET")).and(path(JWKS_PATH)).respond_with(Jwks(state.clone())).mount(server).await;
    Mock::given(method("POST")).and(path(TOKEN_PATH)).respond_with(Token(state.clone())).mount(server).await;
    Mock::given(method("GET")).and(path(RESOURCE_PATH)).respond_with(Resource(state.clone())).mount(server).await;
    // Anything else: a JSON 404, so a client sees a clear answer rather than wiremock's empty one.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "not_found"})))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}
