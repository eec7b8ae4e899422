//! `mtls-harness serve`: the mock AS by hand until Ctrl-C; with `--judge`, the client checks
//! of whatever client came, through the same runner as a scenario.

use std::sync::Arc;

use anyhow::Context;
use mtls_harness::mock::{AuthMethod, MockConfig};
use mtls_harness::run::{self, OnCheck};
use mtls_harness::{pki, report, scenario};

pub(crate) fn serve(cfg: &MockConfig, pki_dir: &std::path::Path, judge: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let pki = pki::TestPki::generate()?;
        pki.write_to(pki_dir).with_context(|| format!("writing the PKI into {}", pki_dir.display()))?;
        let started_at = run::now_rfc3339();
        let t0 = std::time::Instant::now();
        // This session's secrets: what the mock issues and what its clients send.
        let secrets = mtls_harness::redact::Secrets::new();
        let mt = run::start_mock_target(cfg, Default::default(), &pki, Default::default(), &secrets).await?;
        let mock = &mt.mock;
        let dir = pki_dir.display();
        println!("mtls-harness mock AS, shape {} — Ctrl-C to stop", cfg.shape.name());
        println!("issuer:    {}", mock.issuer);
        println!("discovery: {}/.well-known/openid-configuration", mock.issuer);
        for l in &mock.state.layout.listeners {
            let asks = if l.request_cert { "requests a client certificate" } else { "requests no client certificate" };
            println!("listener:  {:<6} {} ({asks})", l.name, l.base);
        }
        println!("resource:  {}", mock.resource_url);
        println!("CA:        {dir}/ca.pem");
        println!("clients:");
        for c in &mock.state.clients {
            let creds = match c.method {
                AuthMethod::TlsClientAuth => format!("cert {dir}/registered.pem key {dir}/registered.key"),
                AuthMethod::SelfSignedTlsClientAuth => format!("cert {dir}/self-signed.pem key {dir}/self-signed.key"),
                AuthMethod::PrivateKeyJwt => {
                    format!("private_key_jwt, key {dir}/jwt-client.key (EdDSA, kid tpp-jwt-001-eddsa), transport cert {dir}/registered.pem")
                }
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt => {
                    let path = pki_dir.join(format!("{}.secret", c.client_id));
                    let secret = c.secret.as_deref().unwrap_or_default();
                    pki::write_file(&path, secret.as_bytes(), true).with_context(|| format!("writing {}", path.display()))?;
                    format!("secret in {} (mode 0600)", path.display())
                }
                AuthMethod::None => "public client".to_string(),
            };
            let how = c.tls_match.as_ref().map(|m| format!(" [{}]", m.metadata_name())).unwrap_or_default();
            println!("  {:<22} {:<28} {creds}{how}", c.client_id, c.method.name());
        }
        let token = mock
            .state
            .discovery()
            .get("mtls_endpoint_aliases")
            .and_then(|a| a.get("token_endpoint"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/token", mock.issuer));
        println!("try:");
        println!(
            "  curl --cacert {dir}/ca.pem --cert {dir}/registered.pem --key {dir}/registered.key -d grant_type=client_credentials -d client_id={} {token}",
            mtls_harness::mock::TLS_CLIENT_ID
        );
        // The observer is in place before "requests:" is printed: a client that starts on that
        // line must find its first request logged.
        let shown = secrets.clone();
        mock.journal.observe(Box::new(move |e| println!("  {}", mtls_harness::text::inert(&e.line(&shown)))));
        println!("requests:");
        shutdown_signal().await;
        println!("stopped");
        let Some(report_dir) = judge else { return anyhow::Ok(0) };
        let sc = scenario::Scenario::for_judging(cfg.shape);
        let on_check: OnCheck = Arc::new(|sc, c| println!("{}", run::line(&sc.id, c)));
        let result = run::judge_hand_run_client(&sc, &mt, Some(&on_check)).await;
        let mut report = run::assemble(vec![result], started_at, t0, secrets);
        report.configuration = report::Configuration {
            source: "embedded mock AS (serve --judge): a client run by hand".into(),
            ..Default::default()
        };
        let paths = report::write_all(&report, report_dir, &report::Format::ALL)
            .with_context(|| format!("writing the reports into {}", report_dir.display()))?;
        println!("verdict: {}", report.verdict);
        for p in paths {
            println!("report: {}", p.display());
        }
        anyhow::Ok(report.exit_code() as u8)
    })
}

/// Ctrl-C, or SIGTERM where there is one.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
