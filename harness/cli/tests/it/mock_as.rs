//! The mock AS driven with plain reqwest calls (not through the checks): per shape, what it
//! publishes, which listener answers, and the status/error codes of every endpoint, including
//! the negative paths.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Certificate, Client, Identity, StatusCode};
use serde_json::Value;

use mtls_harness::discovery::Shape;
use mtls_harness::mock::{Malformed, MockAs, MockConfig, PUBLIC_CLIENT_ID, SECRET_CLIENT_ID, SELF_SIGNED_CLIENT_ID, TLS_CLIENT_ID};
use mtls_harness::pki::{Role, TestPki};

struct Env {
    mock: MockAs,
    pki: std::sync::Arc<TestPki>,
    clients: HashMap<Option<Role>, Client>,
}

impl Env {
    async fn start(cfg: MockConfig) -> Env {
        let pki = TestPki::shared().unwrap();
        let mock = MockAs::start(&cfg, &pki, Default::default()).await.expect("mock starts");
        let mut clients = HashMap::new();
        let ca = Certificate::from_pem(pki.ca_cert_pem.as_bytes()).unwrap();
        for role in [None, Some(Role::Registered), Some(Role::OtherSubject), Some(Role::SelfSigned), Some(Role::SelfSignedOther)] {
            let mut b = Client::builder()
                .tls_certs_only([ca.clone()])
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(std::time::Duration::from_secs(10));
            if let Some(r) = role {
                let id = pki.identity(r);
                b = b.identity(Identity::from_pem(format!("{}{}", id.cert_pem, id.key_pem()).as_bytes()).unwrap());
            }
            clients.insert(role, b.build().unwrap());
        }
        Env { mock, pki, clients }
    }

    fn c(&self, role: Option<Role>) -> &Client {
        &self.clients[&role]
    }

    async fn discovery(&self) -> Value {
        let r = self.c(None).get(format!("{}/.well-known/openid-configuration", self.mock.issuer)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    fn secret(&self) -> String {
        self.mock.state.clients.iter().find(|c| c.client_id == SECRET_CLIENT_ID).and_then(|c| c.secret.clone()).unwrap()
    }

    async fn post(&self, role: Option<Role>, url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self.c(role).post(url).form(form).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, role: Option<Role>, url: &str, client_id: &str) -> (StatusCode, Value) {
        self.post(role, url, &[("grant_type", "client_credentials"), ("client_id", client_id)]).await
    }

    fn last_entry(&self) -> mtls_harness::mock::Entry {
        self.mock.journal.entries().pop().expect("a request was journaled")
    }
}

fn claims(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

fn alias(d: &Value, key: &str) -> String {
    d["mtls_endpoint_aliases"][key].as_str().unwrap_or_else(|| panic!("alias {key} in {d}")).to_string()
}

use mtls_harness::mock::MTLS_ENDPOINT_KEYS as MTLS_KEYS;

#[tokio::test]
async fn identical_aliases_equal_top_level_on_one_listener_that_asks_for_certs() {
    let env = Env::start(MockConfig::new(Shape::Identical)).await;
    let d = env.discovery().await;
    assert_eq!(d["issuer"], env.mock.issuer);
    for k in MTLS_KEYS {
        assert_eq!(alias(&d, k), d[k].as_str().unwrap(), "{k}");
    }
    assert!(d["mtls_endpoint_aliases"].get("authorization_endpoint").is_none(), "authorization is never aliased");
    assert_eq!(d["tls_client_certificate_bound_access_tokens"], true);
    let (status, body) = env.token(Some(Role::Registered), &alias(&d, "token_endpoint"), TLS_CLIENT_ID).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["cnf"]["x5t#S256"], env.pki.identity(Role::Registered).x5t_s256);
    let e = env.last_entry();
    assert_eq!((e.listener.as_str(), e.cert_requested, e.status), ("top", true, 200));
    assert_eq!(e.cert_x5t_s256.as_deref(), Some(env.pki.identity(Role::Registered).x5t_s256.as_str()));
}

#[tokio::test]
async fn split_aliases_live_on_their_own_listener_and_the_top_level_never_asks_for_a_cert() {
    let env = Env::start(MockConfig::new(Shape::Split)).await;
    let d = env.discovery().await;
    let top = url::Url::parse(&env.mock.issuer).unwrap();
    for k in MTLS_KEYS {
        let a = url::Url::parse(&alias(&d, k)).unwrap();
        assert_ne!(a.port(), top.port(), "{k} alias on another listener");
        assert_eq!(a.path(), url::Url::parse(d[k].as_str().unwrap()).unwrap().path());
    }
    // tls_client_auth at the top level: the listener never asked, so no certificate arrives.
    let (status, body) = env.token(Some(Role::Registered), d["token_endpoint"].as_str().unwrap(), TLS_CLIENT_ID).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    let e = env.last_entry();
    assert_eq!((e.listener.as_str(), e.cert_requested, e.cert_x5t_s256.as_deref()), ("top", false, None));
    // A secret client with a certificate at the top level gets a token, but not a bound one.
    let r = env
        .c(Some(Role::Registered))
        .post(d["token_endpoint"].as_str().unwrap())
        .basic_auth(SECRET_CLIENT_ID, Some(env.secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(claims(body["access_token"].as_str().unwrap()).get("cnf").is_none(), "no cert reached the AS: no binding");
    // The same request at the alias listener is bound (RFC 8705 §3 applies to secret clients too).
    let r = env
        .c(Some(Role::Registered))
        .post(alias(&d, "token_endpoint"))
        .basic_auth(SECRET_CLIENT_ID, Some(env.secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(claims(body["access_token"].as_str().unwrap())["cnf"]["x5t#S256"], env.pki.identity(Role::Registered).x5t_s256);
    let e = env.last_entry();
    assert_eq!((e.listener.as_str(), e.cert_requested, e.authorization.as_deref()), ("alias", true, Some("Basic")));
    // The alias listener serves only what is aliased (plus the resource): no authorization endpoint there.
    let alias_base = url::Url::parse(&alias(&d, "token_endpoint")).unwrap();
    let r = env.c(None).get(alias_base.join("/authorize?client_id=x").unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(env.last_entry().listener, "alias");
}

#[tokio::test]
async fn partial_aliases_only_the_token_endpoint_and_the_top_level_asks_for_certs() {
    let env = Env::start(MockConfig::new(Shape::Partial)).await;
    let d = env.discovery().await;
    let aliases = d["mtls_endpoint_aliases"].as_object().unwrap();
    assert_eq!(aliases.keys().collect::<Vec<_>>(), vec!["token_endpoint"]);
    assert_ne!(alias(&d, "token_endpoint"), d["token_endpoint"].as_str().unwrap());
    // PAR is top level only; the top-level listener asks for the cert, so mTLS client auth works there.
    let par = d["pushed_authorization_request_endpoint"].as_str().unwrap();
    let form = [
        ("client_id", TLS_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", "https://client.example/cb"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ];
    // FAPI 2.0 SP §5.3.2.2: without PKCE the pushed request is refused.
    let (status, body) = env.post(Some(Role::Registered), par, &form[..3]).await;
    assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let (status, body) = env.post(Some(Role::Registered), par, &form).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["request_uri"].as_str().unwrap().starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(body["expires_in"], 60);
    assert_eq!(env.last_entry().listener, "top");
    let (status, _) = env.token(Some(Role::Registered), &alias(&d, "token_endpoint"), TLS_CLIENT_ID).await;
    assert_eq!(status, 200);
    assert_eq!(env.last_entry().listener, "alias");
}

#[tokio::test]
async fn missing_publishes_no_aliases_and_the_top_level_asks_for_certs() {
    let env = Env::start(MockConfig::new(Shape::Missing)).await;
    let d = env.discovery().await;
    assert!(d.get("mtls_endpoint_aliases").is_none());
    let (status, body) = env.token(Some(Role::Registered), d["token_endpoint"].as_str().unwrap(), TLS_CLIENT_ID).await;
    assert_eq!(status, 200, "{body}");
    assert!(env.last_entry().cert_requested);
}

#[tokio::test]
async fn malformed_variants_publish_what_they_say() {
    type Judge = fn(&Value) -> bool;
    let cases: [(Malformed, Judge); 5] = [
        (Malformed::NotObject, |a| a.is_array()),
        (Malformed::RelativeUrl, |a| a["token_endpoint"] == "/token"),
        (Malformed::HttpUrl, |a| a["token_endpoint"].as_str().is_some_and(|u| u.starts_with("http://"))),
        (Malformed::AuthorizationEndpoint, |a| a.get("authorization_endpoint").is_some()),
        (Malformed::NonEndpointKey, |a| a.get("jwks_uri").is_some()),
    ];
    for (variant, holds) in cases {
        let env = Env::start(MockConfig { malformed: Some(variant), ..MockConfig::new(Shape::Malformed) }).await;
        let d = env.discovery().await;
        assert!(holds(&d["mtls_endpoint_aliases"]), "{variant:?}: {}", d["mtls_endpoint_aliases"]);
    }
}

#[tokio::test]
async fn token_endpoint_client_authentication_and_its_negative_paths() {
    let env = Env::start(MockConfig::new(Shape::Identical)).await;
    let d = env.discovery().await;
    let token = alias(&d, "token_endpoint");
    let err = |(s, b): (StatusCode, Value)| (s.as_u16(), b["error"].as_str().unwrap_or("").to_string());
    assert_eq!(err(env.post(Some(Role::Registered), &token, &[("client_id", TLS_CLIENT_ID)]).await), (400, "invalid_request".into()));
    assert_eq!(
        err(env.post(Some(Role::Registered), &token, &[("grant_type", "password"), ("client_id", TLS_CLIENT_ID)]).await),
        (400, "unsupported_grant_type".into())
    );
    assert_eq!(err(env.token(Some(Role::Registered), &token, "nobody").await), (401, "invalid_client".into()));
    assert_eq!(err(env.token(None, &token, TLS_CLIENT_ID).await), (401, "invalid_client".into()));
    assert_eq!(err(env.token(Some(Role::OtherSubject), &token, TLS_CLIENT_ID).await), (401, "invalid_client".into()));
    // Each SAN kind of RFC 8705 §2.1.2 identifies its client; a certificate without it does not.
    for id in ["tpp-san-dns-001", "tpp-san-uri-001", "tpp-san-ip-001", "tpp-san-email-001"] {
        assert_eq!(env.token(Some(Role::Registered), &token, id).await.0, 200, "{id}");
        assert_eq!(err(env.token(Some(Role::OtherSubject), &token, id).await), (401, "invalid_client".into()), "{id}");
    }
    // self_signed_tls_client_auth: the registered JWKS certificate only.
    assert_eq!(env.token(Some(Role::SelfSigned), &token, SELF_SIGNED_CLIENT_ID).await.0, 200);
    assert_eq!(err(env.token(Some(Role::SelfSignedOther), &token, SELF_SIGNED_CLIENT_ID).await), (401, "invalid_client".into()));
    // client_secret_basic: the right secret only; public clients cannot use client_credentials.
    let wrong = env.c(None).post(&token).basic_auth(SECRET_CLIENT_ID, Some("wrong")).form(&[("grant_type", "client_credentials")]);
    assert_eq!(wrong.send().await.unwrap().status(), 401);
    assert_eq!(err(env.token(Some(Role::Registered), &token, PUBLIC_CLIENT_ID).await), (400, "unauthorized_client".into()));
}

#[tokio::test]
async fn code_flow_with_par_pkce_bound_refresh_introspection_revocation_and_resource() {
    use sha2::Digest;
    let env = Env::start(MockConfig::new(Shape::Identical)).await;
    let d = env.discovery().await;
    let verifier = "a-code-verifier-that-is-long-enough-for-pkce-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let redirect = "https://client.example/cb";
    // PAR as the public client, then the top-level authorization endpoint with the request_uri.
    let par = [
        ("client_id", PUBLIC_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("scope", "openid offline_access"),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (status, body) = env.post(Some(Role::Registered), &alias(&d, "pushed_authorization_request_endpoint"), &par).await;
    assert_eq!(status, 201, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap().to_string();
    let mut az = url::Url::parse(d["authorization_endpoint"].as_str().unwrap()).unwrap();
    az.query_pairs_mut().append_pair("client_id", PUBLIC_CLIENT_ID).append_pair("request_uri", &request_uri);
    let r = env.c(None).get(az.clone()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert!(loc.as_str().starts_with(redirect));
    assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("xyz", env.mock.issuer.as_str()));
    // request_uri is single use.
    assert_eq!(env.c(None).get(az).send().await.unwrap().status(), 400);

    let token = alias(&d, "token_endpoint");
    let code_form = |v: &'static str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", q["code"].clone()),
            ("redirect_uri", redirect.to_string()),
            ("client_id", PUBLIC_CLIENT_ID.to_string()),
            ("code_verifier", v.to_string()),
        ]
    };
    let send = |role: Option<Role>, form: Vec<(&'static str, String)>| {
        let c = env.c(role).clone();
        let url = token.clone();
        async move {
            let r = c.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = send(Some(Role::Registered), code_form("wrong-verifier")).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "PKCE mismatch");
    // The failed attempt consumed the code (codes are single use), so run the flow again for a fresh one.
    let code = {
        let (_, body) = env.post(Some(Role::Registered), &alias(&d, "pushed_authorization_request_endpoint"), &par).await;
        let mut az = url::Url::parse(d["authorization_endpoint"].as_str().unwrap()).unwrap();
        az.query_pairs_mut().append_pair("client_id", PUBLIC_CLIENT_ID).append_pair("request_uri", body["request_uri"].as_str().unwrap());
        let r = env.c(None).get(az).send().await.unwrap();
        let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        loc.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned()
    };
    let mut form = code_form(verifier);
    form[1].1 = code.clone();
    let (s, b) = send(Some(Role::Registered), form.clone()).await;
    assert_eq!(s, 200, "{b}");
    let refresh = b["refresh_token"].as_str().unwrap().to_string();
    let access = b["access_token"].as_str().unwrap().to_string();
    let (s, b) = send(Some(Role::Registered), form).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "code reuse");
    // RFC 8705 §4: the public client's refresh token is bound to its certificate.
    let rform = |c: &str| -> Vec<(&'static str, String)> {
        vec![("grant_type", "refresh_token".into()), ("refresh_token", c.to_string()), ("client_id", PUBLIC_CLIENT_ID.into())]
    };
    let (s, b) = send(Some(Role::OtherSubject), rform(&refresh)).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{b}");
    let (s, _) = send(None, rform(&refresh)).await;
    assert_eq!(s, 400, "no certificate: refused too");
    let (s, b) = send(Some(Role::Registered), rform(&refresh)).await;
    assert_eq!(s, 200, "{b}");

    // Introspection (as the tls client): active with cnf; a public client may not introspect.
    let introspect = alias(&d, "introspection_endpoint");
    let (s, b) = env.post(Some(Role::Registered), &introspect, &[("token", &access), ("client_id", TLS_CLIENT_ID)]).await;
    assert_eq!((s.as_u16(), &b["active"]), (200, &Value::Bool(true)), "{b}");
    assert_eq!(b["cnf"]["x5t#S256"], env.pki.identity(Role::Registered).x5t_s256);
    assert_eq!(env.post(None, &introspect, &[("token", &access), ("client_id", PUBLIC_CLIENT_ID)]).await.0, 401);
    // The journal never holds the token, code or refresh token.
    for e in env.mock.journal.entries() {
        for (k, v) in &e.form {
            if ["token", "code", "refresh_token", "code_verifier"].contains(&k.as_str()) {
                assert_eq!(v, "[redacted]", "{k} in journal");
            }
        }
    }

    // Resource and userinfo enforce the binding.
    for path in [env.mock.resource_url.clone(), alias(&d, "userinfo_endpoint")] {
        let get = |role: Option<Role>, t: &str| env.c(role).get(&path).bearer_auth(t.to_string()).send();
        assert_eq!(get(Some(Role::Registered), &access).await.unwrap().status(), 200, "{path}");
        let r = get(Some(Role::OtherSubject), &access).await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
        assert_eq!(get(None, &access).await.unwrap().status(), 401);
        assert_eq!(get(Some(Role::Registered), "garbage").await.unwrap().status(), 401);
        let r = env.c(Some(Role::Registered)).get(&path).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()["www-authenticate"].to_str().unwrap()), (401, "Bearer"));
    }

    // Revocation (RFC 7009): 200, then inactive and refused by the resource.
    let (s, _) =
        env.post(Some(Role::Registered), &alias(&d, "revocation_endpoint"), &[("token", &access), ("client_id", PUBLIC_CLIENT_ID)]).await;
    assert_eq!(s, 200);
    let (_, b) = env.post(Some(Role::Registered), &introspect, &[("token", &access), ("client_id", TLS_CLIENT_ID)]).await;
    assert_eq!(b["active"], false);
    let r = env.c(Some(Role::Registered)).get(&env.mock.resource_url).bearer_auth(&access).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn spoofed_certificate_header_from_a_client_is_dropped_by_the_edge() {
    let env = Env::start(MockConfig::new(Shape::Identical)).await;
    let d = env.discovery().await;
    let pem = &env.pki.identity(Role::Registered).cert_pem;
    let spoof = percent_encoding::utf8_percent_encode(pem, percent_encoding::NON_ALPHANUMERIC).to_string();
    let r = env
        .c(None)
        .post(alias(&d, "token_endpoint"))
        .header("x-ssl-client-cert", spoof)
        .header("x-mtls-listener", "alias")
        .form(&[("grant_type", "client_credentials"), ("client_id", TLS_CLIENT_ID)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a header is no certificate");
    assert_eq!(env.last_entry().listener, "top");
}
