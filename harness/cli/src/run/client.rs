//! Client mode: write the PKI where the client under test can read it, run it against the
//! embedded mock, and gather what the client-mode checks judge.

use mtls_client::target::Target;
use mtls_clientmode::checks::ClientCtx;
use mtls_clientmode::reference::ClientEnv;
use mtls_core::pki::TestPki;
use mtls_core::results::ClientRun;
use mtls_core::scenario::{ClientUnderTest, Scenario};
use mtls_mock::MockAs;

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
    let env = ClientEnv {
        issuer: target.issuer.clone(),
        client_id: target.clients.tls.clone().unwrap_or_default(),
        cert: p("registered.pem"),
        key: p("registered.key"),
        ca: p("ca.pem"),
        resource: target.resource_url.clone(),
        redirect_uri: target.clients.redirect_uri.clone(),
        steps: cut.steps.clone(),
        use_aliases: cut.use_aliases,
        other_cert: Some((p("other-subject.pem"), p("other-subject.key"))),
    };
    let cwd = sc.file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    Ok(mtls_clientmode::run::run_client(cut, &env, cwd, cfg.client_cmd.as_deref(), target.secrets()).await)
}

/// What the client-mode checks judge, read from the mock after the client ran.
pub(crate) fn client_ctx(mock: &MockAs, target: &Target, client_run: Option<ClientRun>, sc: &Scenario) -> ClientCtx {
    ClientCtx {
        entries: mock.journal.entries(),
        site: mtls_clientmode::site::Site::of_mock(&mock.state.layout),
        thumbprint: target.primary_thumbprint().to_string(),
        client_run,
        asked_steps: sc.client.as_ref().map(|c| c.steps.clone()),
    }
}
