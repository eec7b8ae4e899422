//! Client mode: write the PKI where the client under test can read it, run it against the
//! embedded mock, and gather what the client-mode checks judge.

use mtls_client::target::Target;
use mtls_clientmode::auth::ClientAuth;
use mtls_clientmode::checks::ClientCtx;
use mtls_clientmode::reference::{ClientEnv, JwtKey};
use mtls_core::pki::{AssertionKey, JwsAlg, TestPki};
use mtls_core::results::ClientRun;
use mtls_core::scenario::{AuthMethod, ClientUnderTest, Misbehaviour, Scenario};
use mtls_mock::{MockAs, MockConfig};

use super::RunConfig;

/// Write the PKI where a client command can read it, and run the client under test.
pub(crate) async fn run_client_under_test(
    sc: &Scenario,
    cut: &ClientUnderTest,
    target: &Target,
    pki: &TestPki,
    cfg: &RunConfig,
) -> Result<ClientRun, String> {
    let dir = tempfile::Builder::new().prefix("mtls-harness-client-").tempdir().map_err(|e| format!("temporary PKI directory: {e}"))?;
    pki.write_to(dir.path()).map_err(|e| mtls_core::error_chain(&e))?;
    let p = |f: &str| dir.path().join(f);
    let (cert, key) = match cut.auth {
        AuthMethod::SelfSignedTlsClientAuth => (p("self-signed.pem"), p("self-signed.key")),
        _ => (p("registered.pem"), p("registered.key")),
    };
    // The private_key_jwt client's key: the test PKI's (`jwt-client.key`, written 0600).
    let jwt = (cut.auth == AuthMethod::PrivateKeyJwt).then(|| JwtKey {
        path: p("jwt-client.key"),
        kid: pki.assertion_key.kid.clone(),
        alg: pki.assertion_key.alg.name().to_string(),
    });
    let rs256_key = match cut.misbehave.contains(&Misbehaviour::AssertionRs256) {
        true => {
            let k = rs256_key()?;
            let path = p("jwt-client-rs256.key");
            mtls_core::pki::write_new_file(&path, k.private_pem().unwrap_or_default().as_bytes(), true)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some(JwtKey { path, kid: k.kid.clone(), alg: "RS256".into() })
        }
        false => None,
    };
    let env = ClientEnv {
        issuer: target.issuer.clone(),
        client_id: client_id_for(cut.auth, target),
        cert,
        key,
        ca: p("ca.pem"),
        resource: target.resource_url.clone(),
        redirect_uri: target.clients.redirect_uri.clone(),
        steps: cut.steps.clone(),
        use_aliases: cut.use_aliases,
        other_cert: Some((p("other-subject.pem"), p("other-subject.key"))),
        auth: cut.auth,
        jwt,
        rs256_key,
    };
    let cwd = sc.file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    Ok(mtls_clientmode::run::run_client(cut, &env, cwd, cfg.client_cmd.as_deref(), target.secrets()).await)
}

/// The client id the client under test acts as: the mock's client of its method.
fn client_id_for(method: AuthMethod, target: &Target) -> String {
    let c = &target.clients;
    match method {
        AuthMethod::SelfSignedTlsClientAuth => c.self_signed.clone(),
        AuthMethod::PrivateKeyJwt => c.jwt.as_ref().map(|j| j.client_id.clone()),
        _ => c.tls.clone(),
    }
    .unwrap_or_default()
}

/// The RSA key of the reference client's `assertion_rs256` self-test: generated once per
/// process (RSA generation is slow), registered beside the test PKI's key.
fn rs256_key() -> Result<&'static AssertionKey, String> {
    static KEY: std::sync::OnceLock<Result<AssertionKey, String>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| AssertionKey::generate(JwsAlg::PS256, "tpp-jwt-001-rs256").map_err(|e| e.to_string())).as_ref().map_err(Clone::clone)
}

/// The mock a scenario stands up. In client mode: its client under test registered as the
/// scenario says (the `assertion_rs256` self-test's RSA key beside the test PKI's), and its
/// assertions accepted as the scenario's profiles allow (`available`: the profiles to pick them
/// from) — plain RFC 7523 §3 without one; in AS mode the mock keeps FAPI 2.0 SP's strictness.
pub(crate) fn mock_config(sc: &Scenario, available: &[mtls_core::profile::Profile]) -> Result<MockConfig, String> {
    let mut cfg = MockConfig::from_scenario(sc);
    if sc.mode == mtls_core::scenario::Mode::Client {
        let names: Vec<&String> = sc.profiles.iter().collect();
        let profiles = mtls_core::profile::pick(available, &names).map_err(|e| e.to_string())?;
        cfg.assertion_policy = mtls_core::assertion_policy::AssertionPolicy::of(&profiles);
    }
    if sc.client.as_ref().is_some_and(|c| c.misbehave.contains(&Misbehaviour::AssertionRs256)) {
        let mut jwk = rs256_key()?.public_jwk.clone().ok_or("the RS256 key has no public JWK")?;
        jwk["alg"] = serde_json::json!("RS256");
        cfg.extra_assertion_jwks.push(jwk);
    }
    Ok(cfg)
}

/// What the client-mode checks judge, read from the mock after the client ran (`window`: when
/// the client ran, unix seconds; `profiles`: those the scenario names).
pub(crate) fn client_ctx(
    mock: &MockAs,
    target: &Target,
    client_run: Option<ClientRun>,
    sc: &Scenario,
    window: Option<(u64, u64)>,
    profiles: &[mtls_core::profile::Profile],
) -> ClientCtx {
    // A client run by hand (`serve --judge`) is judged by the method its traffic shows: a
    // jwt-bearer client_assertion makes it the private_key_jwt client (as observe reads it).
    let by_hand = || mtls_observe::registration::sends_jwt_bearer(&mock.journal.entries()).then_some(AuthMethod::PrivateKeyJwt);
    let method = sc.client.as_ref().map(|c| c.auth).or_else(by_hand).unwrap_or(AuthMethod::TlsClientAuth);
    let client_id = client_id_for(method, target);
    let registration = mock.state.clients.iter().find(|r| r.client_id == client_id);
    let jwks = registration.and_then(|r| r.jwks.clone());
    let mut auth = ClientAuth::registered(method, &client_id, jwks, &mock.state.discovery());
    auth.policy = mtls_core::assertion_policy::AssertionPolicy::of(profiles);
    let thumbprint = match method {
        // The certificate it registered (RFC 8705 §2.2).
        AuthMethod::SelfSignedTlsClientAuth => {
            registration.and_then(|r| r.jwks_x5c.first()).map(|der| mtls_core::pki::x5t_s256(der)).unwrap_or_default()
        }
        _ => target.primary_thumbprint().to_string(),
    };
    ClientCtx {
        entries: mock.journal.entries(),
        site: mtls_clientmode::site::Site::of_mock(&mock.state.layout),
        thumbprint,
        client_run,
        asked_steps: sc.client.as_ref().map(|c| c.steps.clone()),
        auth,
        assertions: mock.journal.assertions(),
        window,
    }
}
