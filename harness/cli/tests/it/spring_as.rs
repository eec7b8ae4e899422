//! The harness against a third real AS: Spring Authorization Server 1.5 (`fixtures/peers/spring-as`,
//! a Spring Boot jar built by its `build.sh`; `.ci/run` builds it before `cargo test`). Each
//! configuration starts its own JVM (10–40 s to the ready line on a loaded machine), so the
//! configurations of one test run concurrently, at most [`PEERS_AT_ONCE`] JVMs in the whole test
//! binary at a time, and each peer is killed as soon as its runs are done.
//!
//! Conformant, in each alias layout (identical, split, none) × access-token format (JWT, opaque)
//! × PKI style (compact, ecosystem): verdict `pass`, every check's outcome asserted (the non-passes
//! are Spring's documented deviations at SHOULD level, or checks that do not apply). The planted
//! defects are in `spring_as_defects.rs`.
//!
//! Without java or the jar (and mvn to build it) these tests are skipped with a note, except under
//! CI (`CI=true`), where that is a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mtls_harness::checks::Status;
use mtls_harness::pki::{AssertionKey, JwsAlg, PkiStyle};

use crate::common::{client_ca, departures, live_outcomes, repo, write_pki};
use crate::front::binary;

/// JVMs of the peer running at once in this test binary (2 shared cores: each start is CPU-bound).
const PEERS_AT_ONCE: usize = 2;
static PEERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PEERS_AT_ONCE);

/// The peer's jar: built by `build.sh` if missing (and mvn is there), once per process. `None`,
/// with a note, when java, or the jar and mvn, are missing; under `CI=true` that panics.
pub(crate) fn jar() -> Option<PathBuf> {
    static BUILT: Mutex<Option<bool>> = Mutex::new(None);
    let dir = repo().join("fixtures/peers/spring-as");
    let jar = dir.join("target/spring-as.jar");
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if built.is_none() {
        let ok = if binary("java").is_none() {
            false
        } else if binary("mvn").is_some() {
            Command::new("bash").arg(dir.join("build.sh")).status().is_ok_and(|s| s.success()) && jar.is_file()
        } else {
            jar.is_file()
        };
        *built = Some(ok);
    }
    if *built == Some(true) {
        return Some(jar);
    }
    crate::common::server_unavailable(
        "Spring Authorization Server peer unavailable (needs java 17 and fixtures/peers/spring-as/target/spring-as.jar, \
         built by fixtures/peers/spring-as/build.sh with mvn; .ci/run does)",
    );
    None
}

/// How the peer is configured (its environment, fixtures/peers/spring-as/README.md).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// `ALIAS_MODE`: identical, split, none.
    pub(crate) mode: &'static str,
    /// `PEER_TOKEN_FORMAT`: jwt, opaque.
    pub(crate) format: &'static str,
    /// `PEER_CLIENT_CERT_METHOD`: `registered`, or `chain_length` (stock Spring: a one-certificate
    /// chain is taken for `self_signed_tls_client_auth`, deviation 1).
    pub(crate) method: &'static str,
    /// `PEER_DEFECT`, or conformant.
    pub(crate) defect: Option<&'static str>,
    pub(crate) style: PkiStyle,
}

impl Config {
    pub(crate) fn label(&self) -> String {
        let defect = self.defect.unwrap_or("conformant");
        format!("{}-{}-{}-{defect}-{}", self.mode, self.format, self.method, self.style.name())
    }
}

/// A running peer; killed when dropped (it holds one of the [`PEERS`] permits until then).
pub(crate) struct Peer {
    child: Child,
    pub(crate) issuer: String,
    pub(crate) resource: String,
    _permit: Option<tokio::sync::SemaphorePermit<'static>>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The kid of the ES256 assertion key of `tpp-jwt-001` (Spring verifies no EdDSA, deviation 7).
const JWT_KID: &str = "tpp-jwt-001-es256";

/// The PKI of `style` in `dir`, plus what the Spring peer needs beside it: an ES256 assertion key
/// for `tpp-jwt-001` (`jwt-es256.key`, its public set `jwt-es256.jwks.json`), and
/// `registered-chain.pem`, the registered certificate followed by `ca.pem` (what a client of a
/// compact PKI sends so that stock Spring takes it for `tls_client_auth`).
pub(crate) fn write_spring_pki(style: PkiStyle, dir: &Path) {
    write_pki(style, dir);
    let key = AssertionKey::generate(JwsAlg::ES256, JWT_KID).unwrap();
    std::fs::write(dir.join("jwt-es256.key"), key.private_pem().unwrap()).unwrap();
    std::fs::write(dir.join("jwt-es256.jwks.json"), serde_json::to_vec(&key.public_jwks().unwrap()).unwrap()).unwrap();
    let chain = [std::fs::read_to_string(dir.join("registered.pem")).unwrap(), std::fs::read_to_string(dir.join("ca.pem")).unwrap()];
    std::fs::write(dir.join("registered-chain.pem"), chain.concat()).unwrap();
}

/// Starts the peer (after a permit is free) on ports 0 with the PKI in `pki_dir`. The peer picks
/// its free ports before Spring starts, so another process may take one in between (exit 2, no
/// ready line, README "Ports"): then it is started again, up to three times. Its stderr goes to
/// `pki_dir/spring-as-N.stderr`, shown when it never gets ready.
pub(crate) async fn start_peer(jar: &Path, cfg: Config, pki_dir: &Path, secret: &str) -> Peer {
    start_peer_with(jar, cfg, pki_dir, secret, &[]).await
}

/// [`start_peer`] with further environment (e.g. `PEER_PUBLIC_HOST`).
pub(crate) async fn start_peer_with(jar: &Path, cfg: Config, pki_dir: &Path, secret: &str, env: &[(&str, &str)]) -> Peer {
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let permit = PEERS.acquire().await.unwrap();
    let (jar, dir, secret) = (jar.to_path_buf(), pki_dir.to_path_buf(), secret.to_string());
    let label = cfg.label();
    let started = Instant::now();
    let (mut peer, ready) = tokio::task::spawn_blocking(move || {
        for attempt in 1..=3 {
            let log = dir.join(format!("spring-as-{attempt}.stderr"));
            let child = Command::new("java")
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .args(["-XX:TieredStopAtLevel=1", "-jar"])
                .arg(&jar)
                .env("PKI_DIR", &dir)
                .env("ALIAS_MODE", cfg.mode)
                .env("PORT", "0")
                .env("ALIAS_PORT", "0")
                .env("PEER_CLIENT_SECRET", &secret)
                .env("PEER_TOKEN_FORMAT", cfg.format)
                .env("PEER_CLIENT_CERT_METHOD", cfg.method)
                .env("PEER_DEFECT", cfg.defect.unwrap_or(""))
                .env("JWT_CLIENT_JWKS", dir.join("jwt-es256.jwks.json"))
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("java runs");
            let mut peer = Peer { child, issuer: String::new(), resource: String::new(), _permit: None };
            match first_line(&mut peer.child, Duration::from_secs(120)) {
                Some(line) => return (peer, line),
                None => {
                    let status = peer.child.wait().unwrap();
                    let err = std::fs::read_to_string(&log).unwrap_or_default();
                    assert!(status.code() == Some(2) && attempt < 3, "Spring AS {label}: no ready line within 120 s ({status}):\n{err}");
                    eprintln!("spring-as {label}: exited without a ready line ({status}), starting it again:\n{err}");
                }
            }
        }
        unreachable!()
    })
    .await
    .unwrap();
    peer._permit = Some(permit);
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap_or_else(|e| panic!("ready line `{ready}`: {e}"));
    eprintln!("spring-as {}: ready in {:.1} s", cfg.label(), started.elapsed().as_secs_f64());
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["defect"], cfg.defect.unwrap_or("none"), "{ready}");
    assert_eq!(ready["token_format"], cfg.format, "{ready}");
    peer.issuer = ready["issuer"].as_str().unwrap().to_string();
    peer.resource = ready["resource"].as_str().unwrap().to_string();
    peer
}

/// The child's first stdout line within `within`; `None` when it ends its stdout (exits) or the
/// time runs out (then it is killed).
fn first_line(child: &mut Child, within: Duration) -> Option<String> {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("the peer's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(within) {
        Ok(line) if !line.trim().is_empty() => Some(line),
        Ok(_) => None,
        Err(_) => {
            let _ = child.kill();
            None
        }
    }
}

/// A target file for `peer`, with the registered client's certificate file `cert`.
pub(crate) fn target_file(dir: &Path, name: &str, peer: &Peer, secret_env: &str, cert: &str, style: PkiStyle) -> PathBuf {
    let body = format!(
        "id: spring-as-{name}\nissuer: {}\nca_bundle: ca.pem\nresource: {}\nclients:\n  tls_client_auth: {{ client_id: tpp-client-001, cert: {cert}, key: registered.key }}\n  self_signed: {{ client_id: tpp-self-signed-001, cert: self-signed.pem, key: self-signed.key }}\n  secret: {{ client_id: tpp-secret-001, secret_env: {secret_env} }}\n  public: {{ client_id: tpp-public-001 }}\n  private_key_jwt: {{ client_id: tpp-jwt-001, signing_key: jwt-es256.key, alg: ES256, kid: {JWT_KID} }}\n{}",
        peer.issuer,
        peer.resource,
        client_ca(style)
    );
    let f = dir.join(format!("{name}.yaml"));
    std::fs::write(&f, body).unwrap();
    f
}

pub(crate) type Outcomes = BTreeMap<&'static str, (Status, String)>;

/// The whole AS catalogue against the peer configured as `cfg`, the registered client sending
/// `cert`. `None` when the peer is unavailable (skipped).
pub(crate) async fn run_config(cfg: Config, cert: &'static str) -> Option<(Outcomes, &'static str)> {
    let jar = tokio::task::spawn_blocking(jar).await.unwrap()?;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    tokio::task::spawn_blocking(move || write_spring_pki(cfg.style, &dir)).await.unwrap();
    let label = cfg.label();
    let secret = format!("s3cr3t-{label}-{}", std::process::id());
    let var = format!("MTLS_TEST_SPRING_SECRET_{}", label.to_uppercase().replace('-', "_"));
    std::env::set_var(&var, &secret);
    let peer = start_peer(&jar, cfg, tmp.path(), &secret).await;
    let started = Instant::now();
    let out = live_outcomes(&target_file(tmp.path(), &label, &peer, &var, cert, cfg.style)).await;
    eprintln!("spring-as {label}: {} checks in {:.1} s", out.0.len(), started.elapsed().as_secs_f64());
    drop(peer);
    Some(out)
}

/// Spring's documented non-passes in every conformant configuration (README "Proven against
/// Spring Authorization Server"):
///
/// * No client authentication at all (`client_id`, no certificate or other credentials) is
///   refused by Spring Security's entry point with a bare `401`, not `invalid_client` (RFC 6749
///   §5.2, deviation 8): `auth.pki.no-cert`, `edge.client-auth-header-spoof` and
///   `session.resume-other-identity` warn.
/// * Client assertions (deviation 7, SHOULD-level under RFC 7523 §3 and FAPI 2.0 SP §5.3.2.1):
///   `aud` = the token endpoint URL and an array are accepted, `jti` replay is not refused.
/// * No profile selected: no endpoint is meant to be off mTLS; Spring issues no refresh token to
///   a public client, so RFC 8705 §4 has nothing to apply to.
pub(crate) const COMMON: [(&str, Status, &str); 9] = [
    ("auth.pki.no-cert", Status::Warn, "401"),
    ("edge.client-auth-header-spoof", Status::Warn, "401"),
    ("session.resume-other-identity", Status::Warn, "401"),
    ("auth.jwt.aud-endpoint", Status::Warn, "SHOULD"),
    ("auth.jwt.aud-array", Status::Warn, "SHOULD"),
    ("auth.jwt.replay", Status::Warn, "SHOULD"),
    ("tls.cert-request.forbidden", Status::Skip, "no selected profile"),
    ("tls.ciphers.required", Status::Skip, "no selected profile names TLS 1.2 suites"),
    ("bind.refresh-public", Status::Skip, "refresh"),
];

/// The non-passes of a conformant peer configured as `cfg`: [`COMMON`], and what its layout and
/// token format change.
pub(crate) fn expected(cfg: Config) -> Vec<(&'static str, Status, &'static str)> {
    let mut v = COMMON.to_vec();
    if cfg.format == "opaque" {
        // A reference token has no claims to read: the binding is judged through introspection.
        v.push(("bind.token-cnf", Status::Skip, "not a JWT"));
    }
    if cfg.mode == "none" {
        v.push(("disc.aliases.keys", Status::Skip, "not published"));
    }
    if cfg.mode == "split" {
        // Spring accepts as `aud` only URLs derived from the issuer (deviation 7): an assertion
        // addressed to the alias token endpoint is refused, which is what the check wants.
        v.retain(|(id, _, _)| *id != "auth.jwt.aud-endpoint");
    }
    v
}

/// The conformant peer in every layout and token format with the PKI of `style`, the registered
/// client's certificate method and file as given; all configurations at once (bounded by
/// [`PEERS_AT_ONCE`]).
async fn conformant(style: PkiStyle, method: &'static str, cert: &'static str) {
    let mut runs = tokio::task::JoinSet::new();
    for mode in ["identical", "split", "none"] {
        for format in ["jwt", "opaque"] {
            let cfg = Config { mode, format, method, defect: None, style };
            runs.spawn(async move { (cfg, run_config(cfg, cert).await) });
        }
    }
    let mut wrong = Vec::new();
    while let Some(r) = runs.join_next().await {
        let (cfg, Some(got)) = r.unwrap() else { return };
        wrong.extend(departures(&cfg.label(), &got, &expected(cfg), "pass"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Compact PKI (one CA, the registered leaf issued by it directly): the client sends its leaf
/// alone, as TLS allows (RFC 8446 §4.4.2), so the peer decides the method by registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_as_conformant_compact_pki() {
    conformant(PkiStyle::Compact, "registered", "registered.pem").await;
}

/// Ecosystem PKI (root → intermediate → issuing CA): the registered file carries its
/// intermediates, so stock Spring (method by chain length) takes it for `tls_client_auth`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_as_conformant_ecosystem_pki() {
    conformant(PkiStyle::Ecosystem, "chain_length", "registered.pem").await;
}
