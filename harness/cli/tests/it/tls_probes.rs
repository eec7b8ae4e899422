//! The `tls.*` probes against real TLS stacks, each started here on 127.0.0.1: nginx (OpenSSL 3)
//! in front of node-oidc-provider in a FAPI-clean configuration, a legacy one and one without the
//! extended master secret (`nginx.rs`); node-oidc-provider with Node's default TLS settings; and
//! glewlwyd (GnuTLS). Each run selects only `tls.*` and asserts every check's outcome. These are
//! also the negative self-tests rustls cannot plant (`ON_REAL_SERVERS` in `self_test.rs`).
//!
//! Every test runs with each style of test PKI ([`PkiStyle::ALL`]), the styles' servers started
//! and probed at once. The compact PKI's servers hold ECDSA P-256 certificates (nginx an RSA-2048
//! one beside it); the ecosystem PKI's hold its RSA-2048 server chain alone, so no ECDSA suite
//! can be negotiated with them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mtls_harness::checks::Status;
use mtls_harness::live::TargetFile;
use mtls_harness::pki::PkiStyle;
use mtls_harness::run::{run_scenario, RunConfig, Source};
use serde_json::Value;

use crate::common::{each_style, write_pki};
use crate::nginx::{start_forwarding, Edge, Forward, TlsConfig};

/// Each `tls.*` check's status, reason and details.
pub(crate) type Got = BTreeMap<String, (Status, String, Value)>;

/// Run the `tls.*` checks against `issuer` (whose CA and client certificate are in `pki`) under
/// `profiles`.
pub(crate) async fn tls_checks(dir: &Path, name: &str, issuer: &str, pki: &Path, profiles: &[&str]) -> Got {
    tls_checks_with(dir, name, issuer, pki, profiles, "").await
}

/// [`tls_checks`] with more target-file lines (`extra`).
pub(crate) async fn tls_checks_with(dir: &Path, name: &str, issuer: &str, pki: &Path, profiles: &[&str], extra: &str) -> Got {
    let file = dir.join(format!("{name}.yaml"));
    let p = pki.display();
    let body = format!(
        "id: {name}\nissuer: {issuer}\nca_bundle: {p}/ca.pem\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {p}/registered.pem, key: {p}/registered.key }}\nchecks: [\"tls.*\"]\nprofile: [{}]\n{extra}",
        profiles.join(", ")
    );
    std::fs::write(&file, body).unwrap();
    let tf = Arc::new(TargetFile::load(&file).unwrap());
    let r = run_scenario(&tf.scenario(), &Source::Live { target: tf.clone(), insecure: false }, &RunConfig::default(), None).await;
    assert!(r.error.is_none(), "{name}: {:?}", r.error);
    r.checks
        .iter()
        .filter(|c| c.id.starts_with("tls."))
        .map(|c| (c.id.to_string(), (c.status, c.reason.clone(), c.details.clone().unwrap_or_default())))
        .collect()
}

/// Assert every `tls.*` check's status; `contains` pins words of some reasons.
pub(crate) fn expect(label: &str, got: &Got, want: &[(&str, Status)], contains: &[(&str, &str)]) {
    let ids: Vec<&str> = got.keys().map(String::as_str).collect();
    let wanted: Vec<&str> = want.iter().map(|(id, _)| *id).collect();
    let mut sorted = wanted.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "{label}: the tls.* checks");
    for (id, status) in want {
        let (s, reason, _) = &got[*id];
        assert_eq!(s, status, "{label}: {id}: {reason}");
    }
    for (id, word) in contains {
        assert!(got[*id].1.contains(word), "{label}: {id} should mention {word:?}: {}", got[*id].1);
    }
}

/// The suites `tls.ciphers.tls12` enumerated at the first origin, and its ClientHello count.
fn enumerated(got: &Got) -> (Vec<String>, u64) {
    let probe = &got["tls.ciphers.tls12"].2["origins"][0]["probe"];
    let names = probe["accepted"].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default();
    (names, probe["requests"].as_u64().unwrap_or_default())
}

const BCP195_FOUR: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

/// The nginx edges of each configuration in `cfgs`, with each PKI style, all started at once;
/// `None` when nginx is not installed (see [`start_forwarding`]).
pub(crate) fn nginx_edges(cfgs: &[TlsConfig]) -> Option<Vec<(PkiStyle, Vec<Edge>)>> {
    let started = each_style(|style| {
        std::thread::scope(|s| {
            let handles: Vec<_> = cfgs.iter().map(|&cfg| s.spawn(move || start_forwarding(cfg, Forward::None, style))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect::<Option<Vec<Edge>>>()
        })
    });
    started.into_iter().map(|(style, edges)| Some((style, edges?))).collect()
}

/// The `tls.*` checks against each of `edges` (named `<name>-<style>`) under `profiles`, all at
/// once; per style, one result per edge in the order of `names`.
pub(crate) async fn nginx_checks(
    dir: &Path,
    edges: &[(PkiStyle, Vec<Edge>)],
    names: &[&str],
    profiles: &[&str],
) -> Vec<(PkiStyle, Vec<Got>)> {
    let runs = edges.iter().map(|(style, edges)| async move {
        let runs = edges
            .iter()
            .zip(names)
            .map(|(e, name)| async move { tls_checks(dir, &format!("{name}-{}", style.name()), &e.issuer, &e.pki_dir, profiles).await });
        (*style, futures_util::future::join_all(runs).await)
    });
    futures_util::future::join_all(runs).await
}

/// nginx (a), FAPI-clean: every tls.* rule of FAPI 2.0 passes; the one origin serves discovery
/// and asks for a certificate, which CDR forbids. nginx (b), legacy: TLS 1.0/1.1 and every
/// OpenSSL suite — the floor and the suite rules fail, nothing else. Both enumerations are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_fapi_passes_and_legacy_fails_exactly_the_version_and_suite_rules() {
    let Some(edges) = nginx_edges(&[TlsConfig::Fapi, TlsConfig::Legacy]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let profiles = ["fapi2-sp-mtls", "au-cdr"];
    for (style, got) in nginx_checks(tmp.path(), &edges, &["nginx-fapi", "nginx-legacy"], &profiles).await {
        let [a, b] = &got[..] else { unreachable!("two edges") };
        use Status::{Fail, Pass, Skip};
        expect(
            &format!("nginx (a) FAPI-clean, {style:?} PKI"),
            a,
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Fail),
                ("tls.version.floor", Pass),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Pass),
                ("tls.renegotiation", Pass),
                ("tls.ems", Pass),
                ("tls.ciphers.required", Skip),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Pass),
            ],
            &[
                ("tls.cert-request.forbidden", "discovery"),
                ("tls.key-size.server", "RSA 2048 bits"),
                ("tls.key-size.dhe", "accepts no DHE suite"),
            ],
        );
        if style == PkiStyle::Compact {
            assert!(a["tls.key-size.server"].1.contains("EC P-256 (256 bits)"), "both certificates seen: {}", a["tls.key-size.server"].1);
        }
        let (suites, requests) = enumerated(a);
        let mut sorted = suites.clone();
        sorted.sort();
        // An ECDHE_ECDSA suite needs an ECDSA certificate: the compact PKI's nginx serves one
        // (beside its RSA one), the ecosystem PKI's only the RSA chain — of the four it allows,
        // nginx can then negotiate only the two ECDHE_RSA suites.
        let mut allowed: Vec<String> =
            BCP195_FOUR.iter().filter(|s| style == PkiStyle::Compact || !s.contains("_ECDSA_")).map(|s| s.to_string()).collect();
        allowed.sort();
        assert_eq!(sorted, allowed, "nginx (a), {style:?} PKI, accepts exactly RFC 9325 §4.2's four its certificates allow");
        assert_eq!(requests as usize, allowed.len() + 1, "{style:?}: each accepted, then one refused: {suites:?}");
        println!("nginx (a), {style:?} PKI: {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());

        expect(
            &format!("nginx (b) legacy, {style:?} PKI"),
            b,
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Fail),
                ("tls.version.floor", Fail),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Fail),
                ("tls.renegotiation", Pass),
                ("tls.ems", Pass),
                ("tls.ciphers.required", Skip),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Pass),
            ],
            &[
                ("tls.version.floor", "TLS 1.0"),
                ("tls.version.floor", "TLS 1.1"),
                ("tls.ciphers.tls12", "outside the allow-list"),
                // The positive control of the DHE measurement: ffdhe2048 measured as 2048 bits.
                ("tls.key-size.dhe", "a 2048-bit DHE group"),
            ],
        );
        let (suites, requests) = enumerated(b);
        for s in ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"] {
            assert!(suites.iter().any(|x| x == s), "nginx (b), {style:?} PKI, accepts {s}: {suites:?}");
        }
        // ECDSA suites only where nginx has an ECDSA certificate (the compact PKI).
        let ecdsa = suites.iter().any(|s| s.contains("_ECDSA_"));
        assert_eq!(ecdsa, style == PkiStyle::Compact, "nginx (b), {style:?} PKI: ECDSA suites {suites:?}");
        assert!(suites.iter().all(|s| !s.contains("_anon_") && !s.contains("NULL")), "no anonymous or NULL suite: {suites:?}");
        assert_eq!(requests as usize, suites.len() + 1, "one ClientHello per accepted suite, and the refused one");
        println!("nginx (b), {style:?} PKI: {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());
    }
}

/// nginx with the extended master secret switched off: exactly tls.ems fails under BCP 195.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_without_the_extended_master_secret_fails_exactly_tls_ems() {
    let Some(edges) = nginx_edges(&[TlsConfig::FapiNoEms]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (style, got) in nginx_checks(tmp.path(), &edges, &["nginx-no-ems"], &["bcp195"]).await {
        use Status::{Fail, Pass, Skip};
        expect(
            &format!("nginx without EMS, {style:?} PKI"),
            &got[0],
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Skip),
                ("tls.version.floor", Pass),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Pass),
                ("tls.renegotiation", Pass),
                ("tls.ems", Fail),
                ("tls.ciphers.required", Skip),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Pass),
            ],
            &[("tls.ems", "RFC 7627")],
        );
    }
}

/// A server with one certificate negotiates only the TLS 1.2 suites that certificate can
/// authenticate: with the compact PKI's ECDSA P-256 one, ECDHE_ECDSA suites alone; with the
/// ecosystem PKI's RSA-2048 chain, RSA-authenticated ones alone — static-RSA key exchange
/// (`TLS_RSA_WITH_*`, no forward secrecy, RFC 9325 §4.1) among them: Node's and GnuTLS's defaults
/// keep it enabled, and only an RSA certificate shows it.
fn assert_suites_fit_the_certificate(label: &str, style: PkiStyle, suites: &[String]) {
    match style {
        PkiStyle::Compact => assert!(suites.iter().all(|s| s.contains("_ECDSA_")), "{label}: ECDSA suites only: {suites:?}"),
        PkiStyle::Ecosystem => {
            assert!(suites.iter().all(|s| s.contains("_RSA_") && !s.contains("_ECDSA_")), "{label}: RSA suites only: {suites:?}");
            assert!(suites.iter().any(|s| s.starts_with("TLS_RSA_WITH_")), "{label}: static RSA accepted: {suites:?}");
        }
    }
}

/// The CA whose name a server that trusts the test PKI's `ca.pem` lists in its
/// CertificateRequest: the compact PKI's one CA, or the ecosystem PKI's root (`ca.pem` holds the
/// root alone; the issuing CA and intermediate reach the server in the client's chain).
fn trusted_ca_name(style: PkiStyle) -> &'static str {
    match style {
        PkiStyle::Compact => "CN=mtls-harness Test CA",
        PkiStyle::Ecosystem => "CN=mtls-harness Ecosystem Root CA",
    }
}

/// node-oidc-provider with Node's default TLS settings (the fixture sets only what Node defaults
/// to: TLS 1.2 minimum), judged under FAPI 2.0 and Open Finance Brasil: Node accepts a
/// client-initiated renegotiation (Brazil forbids it) and CBC and ChaCha20 TLS 1.2 suites
/// outside both allow-lists (with the compact PKI's ECDSA certificate as with the ecosystem
/// PKI's RSA one, which adds static RSA: [`assert_suites_fit_the_certificate`]). Split aliases: the top-level listener asks for no certificate, so CDR's rule
/// holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_oidc_provider_defaults() {
    let peers = each_style(|style| {
        let tmp = tempfile::tempdir().unwrap();
        write_pki(style, tmp.path());
        let cfg = crate::oidc_provider::Config { mode: "split", defect: None, policy: "all" };
        let peer = crate::oidc_provider::start_peer(cfg, tmp.path(), "node-tls-secret");
        (tmp, peer)
    });
    let profiles = ["fapi2-sp-mtls", "br-openfinance", "au-cdr"];
    let runs = peers.iter().map(|(style, (tmp, peer))| async move {
        tls_checks(tmp.path(), &format!("node-defaults-{}", style.name()), &peer.issuer, tmp.path(), &profiles).await
    });
    for ((style, _), got) in peers.iter().zip(futures_util::future::join_all(runs).await) {
        let (suites, requests) = enumerated(&got);
        println!("node, {style:?} PKI: {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());
        for id in ["tls.key-size.server", "tls.key-size.dhe", "tls.ciphers.required"] {
            println!("node, {style:?} PKI: {id}: {}", got[id].1);
        }
        assert_suites_fit_the_certificate(&format!("node, {style:?} PKI"), *style, &suites);
        assert_eq!(requests as usize, suites.len() + 1);
        use Status::{Fail, Pass};
        expect(
            &format!("node-oidc-provider, {style:?} PKI"),
            &got,
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Pass),
                ("tls.version.floor", Pass),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Fail),
                ("tls.renegotiation", Fail),
                ("tls.ems", Pass),
                ("tls.ciphers.required", if *style == PkiStyle::Compact { Fail } else { Pass }),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Pass),
            ],
            &[
                ("tls.renegotiation", "accepts a client-initiated renegotiation"),
                ("tls.ciphers.tls12", "CHACHA20"),
                ("tls.ciphers.tls12", "CBC"),
                ("tls.cert-request.required", trusted_ca_name(*style)),
            ],
        );
    }
}

/// glewlwyd (GnuTLS with Debian's defaults; its fixture asks for client certificates on its one
/// listener), under FAPI 2.0, Open Finance Brasil and CDR: it accepts TLS 1.0 and 1.1, and CBC,
/// CCM and ChaCha20 TLS 1.2 suites (and static RSA with the ecosystem PKI's RSA certificate:
/// [`assert_suites_fit_the_certificate`]); it refuses renegotiation; its one listener asks for a
/// certificate at discovery too (CDR).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glewlwyd_defaults() {
    let peers = each_style(|style| {
        let tmp = tempfile::tempdir().unwrap();
        write_pki(style, tmp.path());
        let peer = crate::glewlwyd::start_peer(tmp.path(), &format!("glewlwyd-tls-secret-{}", style.name()));
        peer.map(|p| (tmp, p))
    });
    let Some(peers) = peers.into_iter().map(|(style, p)| Some((style, p?))).collect::<Option<Vec<_>>>() else { return };
    let profiles = ["fapi2-sp-mtls", "br-openfinance", "au-cdr"];
    let runs = peers.iter().map(|(style, (tmp, peer))| async move {
        tls_checks(tmp.path(), &format!("glewlwyd-defaults-{}", style.name()), &peer.issuer, tmp.path(), &profiles).await
    });
    for ((style, _), got) in peers.iter().zip(futures_util::future::join_all(runs).await) {
        let (suites, requests) = enumerated(&got);
        println!("glewlwyd, {style:?} PKI: {} TLS 1.2 suites in {requests} ClientHellos: {suites:?}", suites.len());
        for id in ["tls.key-size.server", "tls.key-size.dhe", "tls.ciphers.required"] {
            println!("glewlwyd, {style:?} PKI: {id}: {}", got[id].1);
        }
        assert_suites_fit_the_certificate(&format!("glewlwyd, {style:?} PKI"), *style, &suites);
        assert_eq!(requests as usize, suites.len() + 1);
        use Status::{Fail, Pass};
        expect(
            &format!("glewlwyd, {style:?} PKI"),
            &got,
            &[
                ("tls.cert-request.required", Pass),
                ("tls.cert-request.forbidden", Fail),
                ("tls.version.floor", Fail),
                ("tls.version.prefers-13", Pass),
                ("tls.ciphers.tls12", Fail),
                ("tls.renegotiation", Pass),
                ("tls.ems", Pass),
                ("tls.ciphers.required", if *style == PkiStyle::Compact { Fail } else { Pass }),
                ("tls.key-size.server", Pass),
                ("tls.key-size.dhe", Pass),
            ],
            &[
                ("tls.version.floor", "accepts TLS 1.0"),
                ("tls.version.floor", "TLS 1.1"),
                ("tls.ciphers.tls12", "CBC"),
                ("tls.renegotiation", "refuses renegotiation"),
                ("tls.cert-request.forbidden", "discovery"),
                ("tls.cert-request.required", trusted_ca_name(*style)),
            ],
        );
    }
}
