//! The assertion checks against hand-made journals: each rule passes a conformant assertion and
//! fails (or warns on) the one that breaks it.

use serde_json::{json, Value};

use super::*;
use crate::auth::ClientAuth;
use crate::site::Site;
use mtls_core::pki::{AssertionKey, JwsAlg};
use mtls_core::results::Status;
use mtls_core::scenario::AuthMethod;

const ISSUER: &str = "https://as.example";
const TOKEN: &str = "https://mtls.as.example/token";
const NOW: u64 = 1_800_000_000;

fn key() -> &'static AssertionKey {
    static K: std::sync::OnceLock<AssertionKey> = std::sync::OnceLock::new();
    K.get_or_init(|| AssertionKey::generate(JwsAlg::EdDSA, "k1").unwrap())
}

fn good() -> Value {
    json!({"iss": "c1", "sub": "c1", "aud": ISSUER, "iat": NOW, "exp": NOW + 60, "jti": mtls_core::ids::random_id()})
}

fn entry(path: &str) -> Entry {
    Entry {
        listener: "mtls".into(),
        cert_requested: true,
        method: "POST".into(),
        path: path.into(),
        query: None,
        form: vec![("grant_type".into(), "client_credentials".into())],
        authorization: None,
        cert_x5t_s256: Some("t".into()),
        status: 200,
        error: None,
        upstream: None,
        token_cnf: None,
    }
}

fn ctx(claims: &[Value], fapi2: bool) -> ClientCtx {
    let meta = json!({"issuer": ISSUER, "token_endpoint": "https://as.example/token", "mtls_endpoint_aliases": {"token_endpoint": TOKEN}});
    let jwks = serde_json::from_value(key().public_jwks().unwrap()).unwrap();
    let mut auth = ClientAuth::registered(AuthMethod::PrivateKeyJwt, "c1", Some(jwks), &meta);
    auth.policy =
        if fapi2 { mtls_core::assertion_policy::AssertionPolicy::FAPI2 } else { mtls_core::assertion_policy::AssertionPolicy::RFC7523 };
    ClientCtx {
        entries: claims.iter().map(|_| entry("/token")).collect(),
        site: Site::default(),
        thumbprint: "t".into(),
        client_run: None,
        asked_steps: None,
        auth,
        assertions: claims.iter().map(|c| SeenAssertion::parse(&key().sign(c).unwrap())).collect(),
        window: Some((NOW - 1, NOW + 1)),
    }
}

fn status(o: Outcome) -> Status {
    o.status
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

#[test]
fn a_conformant_assertion_passes_every_rule_with_or_without_fapi() {
    let rt = rt();
    for fapi2 in [false, true] {
        let c = ctx(&[good(), good()], fapi2);
        for (name, o) in [
            ("signature", rt.block_on(signature(&c))),
            ("alg", rt.block_on(alg_allowed(&c))),
            ("claims", rt.block_on(claims(&c))),
            ("aud", rt.block_on(aud(&c))),
            ("lifetime", rt.block_on(lifetime(&c))),
            ("jti", rt.block_on(jti(&c))),
        ] {
            assert_eq!(o.status, Status::Pass, "{name} (fapi2 {fapi2}): {}", o.reason);
        }
    }
}

#[test]
fn aud_token_endpoint_or_array_passes_rfc7523_and_fails_fapi2() {
    let rt = rt();
    for aud_value in [json!(TOKEN), json!([ISSUER])] {
        let mut c = good();
        c["aud"] = aud_value.clone();
        assert_eq!(status(rt.block_on(aud(&ctx(std::slice::from_ref(&c), false)))), Status::Pass, "{aud_value}");
        let o = rt.block_on(aud(&ctx(&[c], true)));
        assert!(o.status == Status::Fail && o.reason.contains("§5.3.2.1"), "{aud_value}: {}", o.reason);
    }
    let mut c = good();
    c["aud"] = json!("https://elsewhere.example");
    assert_eq!(status(rt.block_on(aud(&ctx(&[c], false)))), Status::Fail);
}

#[test]
fn claims_lifetime_and_jti_catch_their_breakage() {
    let rt = rt();
    let mut c = good();
    c["sub"] = json!("someone-else");
    assert_eq!(status(rt.block_on(claims(&ctx(&[c], false)))), Status::Fail);
    let mut c = good();
    c["exp"] = json!(NOW - 120);
    c["iat"] = json!(NOW - 240);
    assert_eq!(status(rt.block_on(lifetime(&ctx(&[c], false)))), Status::Fail);
    let mut c = good();
    c["iat"] = json!(NOW + 600);
    c["exp"] = json!(NOW + 660);
    assert_eq!(status(rt.block_on(lifetime(&ctx(&[c], false)))), Status::Fail);
    let mut c = good();
    c["exp"] = json!(NOW + 7200);
    assert_eq!(status(rt.block_on(lifetime(&ctx(&[c], false)))), Status::Warn);
    let c = good();
    let o = rt.block_on(jti(&ctx(&[c.clone(), c], false)));
    assert!(o.status == Status::Fail && o.reason.contains("reuses"), "{}", o.reason);
    let mut c = good();
    c.as_object_mut().unwrap().remove("jti");
    assert_eq!(status(rt.block_on(jti(&ctx(&[c], false)))), Status::Fail);
}

#[test]
fn an_unregistered_key_fails_the_signature_and_an_mtls_client_is_not_judged() {
    let rt = rt();
    let mut c = ctx(&[good()], false);
    let other = AssertionKey::generate(JwsAlg::EdDSA, "k1").unwrap();
    c.assertions = vec![SeenAssertion::parse(&other.sign(&good()).unwrap())];
    let o = rt.block_on(signature(&c));
    assert!(o.status == Status::Fail && o.reason.contains("does not verify"), "{}", o.reason);
    c.auth.method = Some(AuthMethod::TlsClientAuth);
    assert_eq!(status(rt.block_on(signature(&c))), Status::Skip);
}

#[test]
fn rs256_passes_plain_rfc7523_and_fails_fapi2_and_a_mac_always_fails() {
    let rt = rt();
    let rsa = AssertionKey::generate(JwsAlg::PS256, "r1").unwrap();
    let enc = jsonwebtoken::EncodingKey::from_rsa_pem(rsa.private_pem().unwrap().as_bytes()).unwrap();
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some("r1".into());
    let rs256 = jsonwebtoken::encode(&header, &good(), &enc).unwrap();
    for (fapi2, want) in [(false, Status::Pass), (true, Status::Fail)] {
        let mut c = ctx(&[good()], fapi2);
        c.assertions = vec![SeenAssertion::parse(&rs256)];
        let o = rt.block_on(alg_allowed(&c));
        assert_eq!(o.status, want, "fapi2 {fapi2}: {}", o.reason);
    }
    let hs =
        jsonwebtoken::encode(&jsonwebtoken::Header::new(Algorithm::HS256), &good(), &jsonwebtoken::EncodingKey::from_secret(b"s")).unwrap();
    let mut c = ctx(&[good()], false);
    c.assertions = vec![SeenAssertion::parse(&hs)];
    assert_eq!(status(rt.block_on(alg_allowed(&c))), Status::Fail);
    assert_eq!(status(rt.block_on(signature(&c))), Status::Fail);
}
