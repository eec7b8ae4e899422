//! The key-size and required-suite probes against nginx (OpenSSL 3), each planted with exactly
//! one defect the mock (rustls) cannot have — a 1024-bit RSA certificate, a 1024-bit DHE prime,
//! one ECDHE_RSA suite left out — and judged under the profile whose clause it breaks; the
//! positive controls (nginx FAPI-clean and legacy, node, glewlwyd) are in `tls_probes.rs`.

use mtls_harness::checks::Status;
use mtls_harness::pki::PkiStyle;

use crate::nginx::{Forward, TlsConfig};
use crate::tls_probes::{expect, nginx_checks, nginx_edges, tls_checks};

/// nginx serving a 1024-bit RSA certificate (beside the compact PKI's ECDSA one; loaded only at
/// `@SECLEVEL=0`), under FAPI 2.0: exactly tls.key-size.server fails, naming the key and the
/// clause; the ECDSA key passes beside it. Compact PKI only: rustls (the harness's HTTP client)
/// refuses a 1024-bit RSA signature, so nginx needs the ECDSA certificate to serve discovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_with_a_1024_bit_rsa_key_fails_exactly_the_server_key_size() {
    let Some(edge) = crate::nginx::start_forwarding(TlsConfig::WeakRsa, Forward::None, PkiStyle::Compact) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let got = tls_checks(tmp.path(), "nginx-weak-rsa", &edge.issuer, &edge.pki_dir, &["fapi2-sp-mtls"]).await;
    use Status::{Fail, Pass, Skip};
    expect(
        "nginx with a 1024-bit RSA key",
        &got,
        &[
            ("tls.cert-request.required", Pass),
            ("tls.cert-request.forbidden", Skip),
            ("tls.version.floor", Pass),
            ("tls.version.prefers-13", Pass),
            ("tls.ciphers.tls12", Pass),
            ("tls.ciphers.required", Skip),
            ("tls.key-size.server", Fail),
            ("tls.key-size.dhe", Pass),
            ("tls.renegotiation", Pass),
            ("tls.ems", Pass),
        ],
        &[
            ("tls.key-size.server", "RSA key of 1024 bits, under 2048 (fapi2-sp-mtls (FAPI 2.0 SP §5.4.1-2, -3"),
            ("tls.key-size.server", "EC P-256 (256 bits)"),
        ],
    );
}

/// nginx with FAPI 1.0's four suites and a 1024-bit DHE prime, under FAPI 1.0 Advanced: exactly
/// tls.key-size.dhe fails, naming the suite, the size and §8.5-3; the allow-list holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_with_a_1024_bit_dhe_group_fails_exactly_the_dhe_size() {
    let Some(edges) = nginx_edges(&[TlsConfig::WeakDhe]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (style, got) in nginx_checks(tmp.path(), &edges, &["nginx-weak-dhe"], &["fapi1-advanced"]).await {
        use Status::{Fail, Pass, Skip};
        expect(
            &format!("nginx with a 1024-bit DHE group, {style:?} PKI"),
            &got[0],
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Skip),
                ("tls.version.floor", Pass),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Pass),
                ("tls.ciphers.required", Skip),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Fail),
                ("tls.renegotiation", Pass),
                ("tls.ems", Pass),
            ],
            &[
                ("tls.key-size.dhe", "TLS_DHE_RSA_WITH_AES_"),
                ("tls.key-size.dhe", "DHE group of 1024 bits, under 2048"),
                ("tls.key-size.dhe", "§8.5-3"),
            ],
        );
    }
}

/// nginx accepting TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 alone, under Open Finance Brasil:
/// exactly tls.ciphers.required fails, naming the one missing suite (the accepted one is on the
/// allow-list, so tls.ciphers.tls12 passes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_without_ecdhe_rsa_aes256_fails_exactly_the_required_suites() {
    let Some(edges) = nginx_edges(&[TlsConfig::NoEcdheRsa256]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (style, got) in nginx_checks(tmp.path(), &edges, &["nginx-no-aes256"], &["br-openfinance"]).await {
        use Status::{Fail, Pass, Skip};
        expect(
            &format!("nginx without ECDHE-RSA-AES256-GCM-SHA384, {style:?} PKI"),
            &got[0],
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Skip),
                ("tls.version.floor", Pass),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Pass),
                ("tls.ciphers.required", Fail),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Pass),
                ("tls.renegotiation", Pass),
                ("tls.ems", Pass),
            ],
            &[("tls.ciphers.required", "1 not accepted: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")],
        );
        assert!(
            !got[0]["tls.ciphers.required"].1.contains("AES_128"),
            "only the missing suite is named: {}",
            got[0]["tls.ciphers.required"].1
        );
    }
}
