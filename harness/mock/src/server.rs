//! The AS behind the edge: wiremock mounts whose responders implement discovery per shape
//! (RFC 8414, RFC 8705 §5), the authorization endpoint (headless, code flow with PAR), the token
//! endpoint (client_credentials, authorization_code, refresh_token) with mTLS client
//! authentication (§2), certificate-bound JWT access tokens (§3.1) and refresh tokens (§4), PAR
//! (RFC 9126), introspection (RFC 7662, §3.2), revocation (RFC 7009), userinfo and a protected
//! resource that enforce the binding (§3).

use std::collections::HashSet;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::clients::{Authenticated, OAuthError, Registration};
use crate::defects::Defects;
use crate::terminator::{H_CLIENT_CERT, H_LISTENER};
use crate::tokens::{now, random_id, AccessRecord, CodeRecord, ParRecord, RefreshRecord, Store};
use mtls_core::discovery::Malformed;
use mtls_core::discovery::Shape;
use mtls_core::pki::{x5t_s256, TestPki};
use mtls_core::scenario::{AuthMethod, Defect};
use mtls_core::tls::provider;

pub const AUTHORIZE_PATH: &str = "/authorize";
pub const TOKEN_PATH: &str = "/token";
pub const PAR_PATH: &str = "/par";
pub const INTROSPECT_PATH: &str = "/introspect";
pub const REVOKE_PATH: &str = "/revoke";
pub const USERINFO_PATH: &str = "/userinfo";
pub const RESOURCE_PATH: &str = "/resource";
pub const JWKS_PATH: &str = "/jwks";
pub const DISCOVERY_PATHS: [&str; 2] = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"];
const TOKEN_TTL: u64 = 300;
const CODE_TTL: u64 = 60;
const PAR_TTL: u64 = 60;
const KID: &str = "mock-as-eddsa";

/// The endpoint metadata names the mock serves, with their paths (authorization is top level only).
pub const ENDPOINTS: [(&str, &str); 6] = [
    ("token_endpoint", TOKEN_PATH),
    ("pushed_authorization_request_endpoint", PAR_PATH),
    ("introspection_endpoint", INTROSPECT_PATH),
    ("revocation_endpoint", REVOKE_PATH),
    ("userinfo_endpoint", USERINFO_PATH),
    ("authorization_endpoint", AUTHORIZE_PATH),
];

pub fn endpoint_path(key: &str) -> Option<&'static str> {
    ENDPOINTS.iter().find(|(k, _)| *k == key).map(|(_, p)| *p)
}

/// Ways the `malformed` shape breaks `mtls_endpoint_aliases`.
/// One TLS listener of the mock: its name (as the journal records it) and base URL.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    pub name: &'static str,
    pub base: String,
    pub request_cert: bool,
    /// Paths this listener serves; anything else is 404 there.
    pub paths: Vec<&'static str>,
}

/// The published layout: listeners, aliases, the shape variant.
#[derive(Debug, Clone)]
pub struct Layout {
    pub shape: Shape,
    pub malformed: Option<Malformed>,
    pub listeners: Vec<ListenerInfo>,
    /// Keys aliased, with the listener base they point at.
    pub aliases: Vec<(String, String)>,
    pub resource_base: String,
}

impl Layout {
    pub fn top(&self) -> &ListenerInfo {
        &self.listeners[0]
    }
}

/// Everything the responders share.
pub struct AsState {
    pub issuer: String,
    pub layout: Layout,
    pub bound_access_tokens: bool,
    pub defects: Defects,
    pub clients: Vec<Registration>,
    pub(super) trust: Arc<dyn ClientCertVerifier>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwks: Value,
    pub store: Store,
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
        layout: Layout,
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
            clients,
            trust,
            encoding,
            decoding,
            jwks: json!({ "keys": [jwk] }),
            store: Store::default(),
        })
    }

    pub(super) fn has(&self, d: Defect) -> bool {
        self.defects.has(d)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The discovery document in this instance's shape (RFC 8414 §2, RFC 8705 §3.3, §5).
    pub fn discovery(&self) -> Value {
        let mut doc = json!({
            "issuer": if self.has(Defect::WrongIssuer) { self.url("/some-other-issuer") } else { self.issuer.clone() },
            "jwks_uri": self.url(JWKS_PATH),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": if self.has(Defect::AuthMethodsMissingTls) {
                json!(["client_secret_basic", "none"])
            } else {
                json!(["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic", "none"])
            },
            "introspection_endpoint_auth_methods_supported": ["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"],
            "tls_client_certificate_bound_access_tokens": if self.has(Defect::BoundFlagString) {
                json!(self.bound_access_tokens.to_string())
            } else {
                json!(self.bound_access_tokens)
            },
            "scopes_supported": ["openid", "accounts", "payments", "offline_access"],
        });
        for (key, p) in ENDPOINTS {
            doc[key] = json!(self.url(p));
        }
        let mut aliases = serde_json::Map::new();
        for (key, base) in &self.layout.aliases {
            let p = endpoint_path(key).unwrap_or(JWKS_PATH);
            aliases.insert(key.clone(), json!(format!("{base}{p}")));
        }
        match self.layout.malformed {
            Some(Malformed::RelativeUrl) => {
                aliases.insert("token_endpoint".into(), json!(TOKEN_PATH));
            }
            Some(Malformed::HttpUrl) => {
                let u = self.url(TOKEN_PATH).replacen("https://", "http://", 1);
                aliases.insert("token_endpoint".into(), json!(u));
            }
            Some(Malformed::NonEndpointKey) => {
                aliases.insert("jwks_uri".into(), json!(self.url(JWKS_PATH)));
            }
            Some(Malformed::NotObject) | Some(Malformed::AuthorizationEndpoint) | None => {}
        }
        if self.layout.malformed == Some(Malformed::NotObject) {
            doc["mtls_endpoint_aliases"] = Value::Array(aliases.values().cloned().collect());
        } else if self.layout.shape != Shape::Missing {
            doc["mtls_endpoint_aliases"] = Value::Object(aliases);
        }
        if self.has(Defect::NoTokenEndpoint) {
            if let Some(o) = doc.as_object_mut() {
                o.remove("token_endpoint");
            }
            if let Some(a) = doc.get_mut("mtls_endpoint_aliases").and_then(Value::as_object_mut) {
                a.remove("token_endpoint");
            }
        }
        doc
    }

    /// The `x5t#S256` value written into the JWT `cnf` claim (RFC 8705 §3.1); the encoding
    /// defects change only this claim, never the binding the AS records.
    fn cnf_claim_value(&self, cert: &[u8]) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(cert);
        if self.has(Defect::CnfHex) {
            digest.iter().map(|b| format!("{b:02x}")).collect()
        } else if self.has(Defect::CnfPadded) {
            base64::engine::general_purpose::URL_SAFE.encode(digest)
        } else if self.has(Defect::CnfSha1) {
            URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(cert))
        } else {
            x5t_s256(cert)
        }
    }

    /// Whether a token issued now is bound to the presented certificate (RFC 8705 §3): the AS
    /// and the client both use bound tokens, and a certificate was presented — whatever the
    /// client authentication method (§3 applies to secret-authenticated clients too).
    fn binding(&self, auth: &Authenticated<'_>) -> Option<String> {
        let cert = auth.cert.as_ref()?;
        if !(self.bound_access_tokens && auth.client.bound_access_tokens) {
            return None;
        }
        if self.has(Defect::BindOnlyMtlsAuth) && !auth.client.method.is_mtls() {
            return None;
        }
        Some(x5t_s256(cert))
    }

    fn issue_access(&self, auth: &Authenticated<'_>, scope: &str) -> Result<(String, AccessRecord), OAuthError> {
        let iat = now();
        let bound_to = self.binding(auth);
        let jti = random_id();
        let cnf = match (&auth.cert, &bound_to) {
            (Some(c), Some(_)) if !self.has(Defect::NoCnf) => Some(Cnf { x5t_s256: self.cnf_claim_value(c) }),
            _ => None,
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: auth.client.client_id.clone(),
            client_id: auth.client.client_id.clone(),
            iat,
            exp: iat + TOKEN_TTL,
            jti: jti.clone(),
            scope: scope.to_string(),
            cnf,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(KID.to_string());
        header.typ = Some("at+jwt".to_string());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| OAuthError::new(500, "server_error", format!("signing failed: {e}")))?;
        let record = AccessRecord {
            client_id: auth.client.client_id.clone(),
            scope: scope.to_string(),
            bound_to,
            iat,
            exp: claims.exp,
            active: true,
        };
        self.store.put_access(&jti, record.clone());
        Ok((token, record))
    }

    /// The record of an access token this AS issued and still considers valid.
    fn valid_access(&self, token: &str) -> Option<(String, AccessRecord)> {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&[&self.issuer]);
        v.validate_aud = false;
        let claims = jsonwebtoken::decode::<AccessClaims>(token.trim(), &self.decoding, &v).ok()?.claims;
        let rec = self.store.access(&claims.jti)?;
        (rec.active && rec.exp > now()).then_some((claims.jti, rec))
    }

    /// A 404 when `req` arrived on a listener that does not serve `p` (e.g. authorization on
    /// the alias listener of the split shape).
    fn wrong_listener(&self, req: &Request, p: &str) -> Option<ResponseTemplate> {
        let name = req.headers.get(H_LISTENER).and_then(|v| v.to_str().ok()).unwrap_or("");
        let l = self.layout.listeners.iter().find(|l| l.name == name)?;
        (!l.paths.contains(&p)).then(|| {
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "not_found", "error_description": format!("{p} is not served on the {name} listener")}))
        })
    }
}

fn oauth_error(e: &OAuthError) -> ResponseTemplate {
    let mut r = ResponseTemplate::new(e.status)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({ "error": e.error, "error_description": e.description }));
    if e.status == 401 && e.error == "invalid_client" {
        r = r.insert_header("www-authenticate", "Basic realm=\"mock-as\"");
    }
    r
}

/// The certificate the edge forwarded, if any.
fn presented_cert(req: &Request) -> Option<CertificateDer<'static>> {
    let escaped = req.headers.get(H_CLIENT_CERT)?.to_str().ok()?;
    let pem = percent_encoding::percent_decode_str(escaped).decode_utf8().ok()?;
    mtls_core::pki::cert_from_pem(pem.as_bytes()).ok()
}

struct Form(Vec<(String, String)>);
impl Form {
    fn parse(body: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }
    fn query(req: &Request) -> Form {
        Form(req.url.query_pairs().into_owned().collect())
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

fn authorization(req: &Request) -> Option<&str> {
    req.headers.get("authorization").and_then(|v| v.to_str().ok())
}

fn authenticate<'a>(s: &'a AsState, req: &Request, form: &Form) -> Result<Authenticated<'a>, OAuthError> {
    s.authenticate(form.get("client_id"), authorization(req), presented_cert(req))
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

macro_rules! responder {
    ($name:ident, $path:expr, |$s:ident, $req:ident| $body:block) => {
        struct $name(Arc<AsState>);
        impl Respond for $name {
            fn respond(&self, $req: &Request) -> ResponseTemplate {
                let $s = &*self.0;
                if let Some(r) = $s.wrong_listener($req, $path) {
                    return r;
                }
                $body
            }
        }
    };
}

responder!(Discovery, DISCOVERY_PATHS[0], |s, _req| { ResponseTemplate::new(200).set_body_json(s.discovery()) });
responder!(Jwks, JWKS_PATH, |s, _req| { ResponseTemplate::new(200).set_body_json(s.jwks.clone()) });

responder!(Token, TOKEN_PATH, |s, req| {
    match token(s, req) {
        Ok(body) => ResponseTemplate::new(200).insert_header("cache-control", "no-store").set_body_json(body),
        Err(e) => oauth_error(&e),
    }
});

fn token_response(s: &AsState, auth: &Authenticated<'_>, scope: &str, refresh: Option<String>) -> Result<Value, OAuthError> {
    let (token, _) = s.issue_access(auth, scope)?;
    mtls_core::redact::register(&token);
    let mut body = json!({ "access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL, "scope": scope });
    if let Some(r) = refresh {
        mtls_core::redact::register(&r);
        body["refresh_token"] = json!(r);
    }
    Ok(body)
}

fn token(s: &AsState, req: &Request) -> Result<Value, OAuthError> {
    let form = Form::parse(&req.body);
    let grant = form.get("grant_type").ok_or_else(|| OAuthError::new(400, "invalid_request", "grant_type is missing"))?;
    let auth = authenticate(s, req, &form)?;
    let invalid_grant = |why: &str| OAuthError::new(400, "invalid_grant", why.to_string());
    match grant {
        "client_credentials" => {
            if auth.client.method == AuthMethod::None {
                return Err(OAuthError::new(400, "unauthorized_client", "public clients cannot use client_credentials"));
            }
            token_response(s, &auth, form.get("scope").unwrap_or_default(), None)
        }
        "authorization_code" => {
            let code = form.get("code").ok_or_else(|| OAuthError::new(400, "invalid_request", "code is missing"))?;
            let rec = s.store.take_code(code).ok_or_else(|| invalid_grant("unknown, used or expired code"))?;
            if rec.client_id != auth.client.client_id {
                return Err(invalid_grant("code was issued to another client"));
            }
            if form.get("redirect_uri") != Some(rec.redirect_uri.as_str()) {
                return Err(invalid_grant("redirect_uri does not match the authorization request"));
            }
            if let Some(challenge) = &rec.code_challenge {
                use sha2::Digest;
                let verifier = form.get("code_verifier").ok_or_else(|| invalid_grant("code_verifier is missing"))?;
                if URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes())) != *challenge {
                    return Err(invalid_grant("code_verifier does not match the code_challenge (RFC 7636)"));
                }
            }
            // RFC 8705 §4: a public client's refresh token is bound to its certificate.
            let bound_to = match (&auth.cert, auth.client.method) {
                (Some(c), AuthMethod::None) if !s.has(Defect::RefreshUnbound) => Some(x5t_s256(c)),
                _ => None,
            };
            let refresh = random_id();
            s.store.put_refresh(
                &refresh,
                RefreshRecord { client_id: auth.client.client_id.clone(), scope: rec.scope.clone(), bound_to, active: true },
            );
            token_response(s, &auth, &rec.scope, Some(refresh))
        }
        "refresh_token" => {
            let rt = form.get("refresh_token").ok_or_else(|| OAuthError::new(400, "invalid_request", "refresh_token is missing"))?;
            let rec = s.store.refresh(rt).filter(|r| r.active).ok_or_else(|| invalid_grant("unknown or revoked refresh token"))?;
            if rec.client_id != auth.client.client_id {
                return Err(invalid_grant("refresh token was issued to another client"));
            }
            if let Some(bound) = &rec.bound_to {
                if auth.cert.as_ref().map(|c| x5t_s256(c)).as_ref() != Some(bound) {
                    return Err(invalid_grant("refresh token is bound to another certificate (RFC 8705 §4)"));
                }
            }
            token_response(s, &auth, &rec.scope, None)
        }
        other => Err(OAuthError::new(400, "unsupported_grant_type", format!("grant_type {other} is not supported"))),
    }
}

responder!(Par, PAR_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let auth = match authenticate(s, req, &form) {
        Ok(a) => a,
        Err(e) => return oauth_error(&e),
    };
    if form.get("request_uri").is_some() {
        return oauth_error(&OAuthError::new(400, "invalid_request", "request_uri is not allowed in a pushed request (RFC 9126 §2.1)"));
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random_id());
    let params = form.0.into_iter().filter(|(k, _)| k != "client_secret").collect();
    s.store.put_par(&request_uri, ParRecord { client_id: auth.client.client_id.clone(), params, exp: now() + PAR_TTL });
    ResponseTemplate::new(201)
        .insert_header("cache-control", "no-store")
        .set_body_json(json!({ "request_uri": request_uri, "expires_in": PAR_TTL }))
});

responder!(Authorize, AUTHORIZE_PATH, |s, req| {
    match authorize(s, req) {
        Ok(location) => ResponseTemplate::new(302).insert_header("location", location.as_str()),
        Err(e) => oauth_error(&e),
    }
});

/// Headless authorization: no user interaction; the code goes straight back (RFC 6749 §4.1.2).
fn authorize(s: &AsState, req: &Request) -> Result<String, OAuthError> {
    let query = Form::query(req);
    let client_id = query.get("client_id").ok_or_else(|| OAuthError::new(400, "invalid_request", "client_id is missing"))?.to_string();
    let client_id = client_id.as_str();
    let params = match query.get("request_uri") {
        Some(uri) => {
            let rec =
                s.store.take_par(uri).ok_or_else(|| OAuthError::new(400, "invalid_request_uri", "unknown, used or expired request_uri"))?;
            if rec.client_id != client_id {
                return Err(OAuthError::new(400, "invalid_request_uri", "request_uri was pushed by another client"));
            }
            Form(rec.params)
        }
        None => query,
    };
    let client =
        s.clients.iter().find(|c| c.client_id == client_id).ok_or_else(|| OAuthError::new(400, "invalid_request", "unknown client"))?;
    if params.get("response_type") != Some("code") {
        return Err(OAuthError::new(400, "unsupported_response_type", "only response_type=code"));
    }
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| OAuthError::new(400, "invalid_request", "redirect_uri is missing"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(OAuthError::new(400, "invalid_request", "redirect_uri is not registered"));
    }
    let challenge = params.get("code_challenge").map(str::to_string);
    if challenge.is_some() && params.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::new(400, "invalid_request", "code_challenge_method must be S256"));
    }
    let code = random_id();
    mtls_core::redact::register(&code);
    s.store.put_code(
        &code,
        CodeRecord {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scope: params.get("scope").unwrap_or_default().to_string(),
            code_challenge: challenge,
            exp: now() + CODE_TTL,
        },
    );
    let mut location = url::Url::parse(redirect_uri).map_err(|_| OAuthError::new(400, "invalid_request", "redirect_uri is not a URL"))?;
    location.query_pairs_mut().append_pair("code", &code).append_pair("iss", &s.issuer);
    if let Some(state) = params.get("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Ok(location.to_string())
}

responder!(Introspect, INTROSPECT_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let auth = match authenticate(s, req, &form) {
        Ok(a) if a.client.method != AuthMethod::None => a,
        Ok(_) => return oauth_error(&OAuthError::new(401, "invalid_client", "introspection requires client authentication")),
        Err(e) => return oauth_error(&e),
    };
    let _ = auth;
    let token = form.get("token").unwrap_or_default();
    let body = if s.has(Defect::IntrospectionAlwaysInactive) {
        json!({ "active": false })
    } else if let Some((_, rec)) = s.valid_access(token) {
        let mut b = json!({
            "active": true, "client_id": rec.client_id, "scope": rec.scope, "token_type": "Bearer",
            "exp": rec.exp, "iat": rec.iat, "iss": s.issuer, "sub": rec.client_id,
        });
        if let Some(x5t) = rec.bound_to.filter(|_| !s.has(Defect::IntrospectionNoCnf)) {
            b["cnf"] = json!({ "x5t#S256": x5t });
        }
        b
    } else if let Some(rec) = s.store.refresh(token).filter(|r| r.active) {
        json!({ "active": true, "client_id": rec.client_id, "scope": rec.scope, "token_type": "refresh_token" })
    } else {
        json!({ "active": false })
    };
    ResponseTemplate::new(200).insert_header("cache-control", "no-store").set_body_json(body)
});

responder!(Revoke, REVOKE_PATH, |s, req| {
    let form = Form::parse(&req.body);
    let auth = match authenticate(s, req, &form) {
        Ok(a) => a,
        Err(e) => return oauth_error(&e),
    };
    let Some(token) = form.get("token") else {
        return oauth_error(&OAuthError::new(400, "invalid_request", "token is missing"));
    };
    if !s.has(Defect::RevocationNoop) {
        let key = s.valid_access(token).map(|(jti, _)| jti).unwrap_or_else(|| token.to_string());
        s.store.revoke(&key, &auth.client.client_id);
    }
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    ResponseTemplate::new(200)
});

fn invalid_token(description: &str) -> ResponseTemplate {
    ResponseTemplate::new(401)
        .insert_header("www-authenticate", format!("Bearer error=\"invalid_token\", error_description=\"{description}\""))
        .set_body_json(json!({ "error": "invalid_token", "error_description": description }))
}

/// RFC 6750 bearer token, bound to the presented certificate (RFC 8705 §3).
#[allow(clippy::result_large_err)] // the refusal *is* the response the resource sends
fn protected(s: &AsState, req: &Request) -> Result<AccessRecord, ResponseTemplate> {
    let auth = authorization(req).unwrap_or("");
    let Some(token) = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")) else {
        return Err(ResponseTemplate::new(401).insert_header("www-authenticate", "Bearer"));
    };
    let Some((_, rec)) = s.valid_access(token) else {
        return Err(invalid_token("token is invalid, expired or revoked"));
    };
    if let (Some(bound_to), false) = (&rec.bound_to, s.has(Defect::RsIgnoresCert)) {
        match presented_cert(req) {
            None if s.has(Defect::RsAcceptsMissingCert) => {}
            None => return Err(invalid_token("token is certificate-bound; no client certificate presented")),
            Some(c) if s.has(Defect::RsTrustedAnyCert) => {
                if !s.trusts(&c) {
                    return Err(invalid_token("the presented certificate is not from a trusted CA"));
                }
            }
            Some(c) => {
                let seen = if s.has(Defect::RsThumbprintPem) {
                    x5t_s256(mtls_core::pki::pem_encode("CERTIFICATE", &c).as_bytes())
                } else {
                    x5t_s256(&c)
                };
                if &seen != bound_to {
                    return Err(invalid_token("presented certificate does not match the token's x5t#S256 binding"));
                }
            }
        }
    }
    Ok(rec)
}

responder!(Resource, RESOURCE_PATH, |s, req| {
    match protected(s, req) {
        Ok(rec) => ResponseTemplate::new(200).set_body_json(json!({ "resource": "accounts", "client_id": rec.client_id })),
        Err(r) => r,
    }
});

responder!(Userinfo, USERINFO_PATH, |s, req| {
    match protected(s, req) {
        Ok(rec) => ResponseTemplate::new(200).set_body_json(json!({ "sub": rec.client_id })),
        Err(r) => r,
    }
});

/// Mount every endpoint on the wiremock server.
pub async fn mount(server: &MockServer, state: Arc<AsState>) {
    for p in DISCOVERY_PATHS {
        Mock::given(method("GET")).and(path(p)).respond_with(Discovery(state.clone())).mount(server).await;
    }
    let s = || state.clone();
    Mock::given(method("GET")).and(path(JWKS_PATH)).respond_with(Jwks(s())).mount(server).await;
    Mock::given(method("GET")).and(path(AUTHORIZE_PATH)).respond_with(Authorize(s())).mount(server).await;
    Mock::given(method("POST")).and(path(TOKEN_PATH)).respond_with(Token(s())).mount(server).await;
    Mock::given(method("POST")).and(path(PAR_PATH)).respond_with(Par(s())).mount(server).await;
    Mock::given(method("POST")).and(path(INTROSPECT_PATH)).respond_with(Introspect(s())).mount(server).await;
    Mock::given(method("POST")).and(path(REVOKE_PATH)).respond_with(Revoke(s())).mount(server).await;
    for m in ["GET", "POST"] {
        Mock::given(method(m)).and(path(USERINFO_PATH)).respond_with(Userinfo(s())).mount(server).await;
    }
    Mock::given(method("GET")).and(path(RESOURCE_PATH)).respond_with(Resource(s())).mount(server).await;
    // Anything else: a JSON 404, so a client sees a clear answer rather than wiremock's empty one.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "not_found"})))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// All paths (for listeners that serve everything).
pub fn all_paths() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = DISCOVERY_PATHS.to_vec();
    v.extend([JWKS_PATH, RESOURCE_PATH]);
    v.extend(ENDPOINTS.iter().map(|(_, p)| *p));
    let set: HashSet<_> = v.iter().copied().collect();
    let mut out: Vec<_> = set.into_iter().collect();
    out.sort();
    out
}
