//! Connections and TLS sessions of a live target's clients (issue 16): each certificate identity
//! has its own, never another's; the identities whose refusal may be judged at TLS open a fresh
//! connection, with a full handshake, for every request; and requests in flight to one origin
//! never exceed the per-origin bound, whichever identities send them.
//!
//! The server is a TLS echo on 127.0.0.1 that accepts any client certificate and answers every
//! request with what it saw of the connection: its serial number, whether the session was
//! resumed, and the `x5t#S256` of the certificate the connection authenticated with.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mtls_harness::catalogue::Primary;
use mtls_harness::http::{Limits, Reuse};
use mtls_harness::pki::{x5t_s256, Role, TestPki};
use mtls_harness::target::{Clients, Kind, Parts, SecretMethod, Target, Who};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the echo server counted.
#[derive(Default)]
struct Seen {
    connections: AtomicU64,
    /// The certificate (`x5t#S256`) of each connection, in accept order.
    certs: std::sync::Mutex<Vec<Option<String>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Start the echo on 127.0.0.1:0; each answer is delayed by `delay` (requests overlap).
async fn echo(pki: &TestPki, delay: Duration) -> (String, Arc<Seen>) {
    let cfg = mtls_harness::mock::terminator::server_config(&pki.server, true).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), s.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let serial = seen.connections.fetch_add(1, Ordering::SeqCst);
                let (_, conn) = tls.get_ref();
                let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
                let x5t = conn.peer_certificates().and_then(|c| c.first()).map(|c| x5t_s256(c));
                seen.certs.lock().unwrap().push(x5t.clone());
                let mut buf = Vec::new();
                loop {
                    // One request head at a time (GETs: no body).
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        let mut chunk = [0u8; 4096];
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    buf.drain(..end);
                    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
                    let body = serde_json::json!({ "conn": serial, "resumed": resumed, "x5t": x5t }).to_string();
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
                    if tls.write_all(head.as_bytes()).await.is_err() || tls.write_all(body.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, seen)
}

fn target(pki: &TestPki, issuer: &str, max_in_flight: Option<usize>) -> Target {
    Target::build(Parts {
        kind: Kind::Live,
        issuer: issuer.to_string(),
        resource_url: None,
        clients: Clients {
            primary: Primary::TlsClientAuth,
            tls: Some("tpp-client-001".into()),
            self_signed: Some("tpp-self-signed-001".into()),
            jwt: None,
            secret: None,
            secret_method: SecretMethod::ClientSecretBasic,
            public: None,
            redirect_uri: "https://client.example/cb".into(),
        },
        require_bound_tokens: true,
        holds_ca: true,
        other_subject_trusted: true,
        secret_client_bound: false,
        identities: pki.identities().to_vec(),
        roots: vec![pki.ca_cert_der.clone()],
        limits: Limits::default(),
        token_params: Vec::new(),
        no_proxy: true,
        file_keys: None,
        par_request_object: false,
        insecure: false,
        secrets: Default::default(),
        max_in_flight,
        forwarded_cert_headers: Vec::new(),
    })
    .unwrap()
}

fn everyone() -> Vec<Who> {
    let mut w = vec![Who::NoCert, Who::NoCertFresh];
    w.extend(Role::ALL.iter().map(|r| Who::Cert(*r)));
    w
}

/// Every identity sends requests, interleaved and concurrent, in several rounds: each answer
/// names the certificate its connection was authenticated with, and it is always the sender's
/// own (never another identity's connection or resumed session); the refusal identities got a
/// new connection and a full handshake for every request; the others reused theirs (so the
/// pooling the first assertion guards is really there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identity_ever_uses_another_identitys_connection_or_session_and_refusals_handshake_afresh() {
    let pki = TestPki::generate().unwrap();
    let (base, seen) = echo(&pki, Duration::from_millis(5)).await;
    let t = target(&pki, &base, Some(6));
    let own: HashMap<Who, Option<String>> = everyone()
        .into_iter()
        .map(|w| {
            (
                w,
                match w {
                    Who::Cert(r) => pki.identities().iter().find(|i| i.role == r).map(|i| i.x5t_s256.clone()),
                    _ => None,
                },
            )
        })
        .collect();
    let mut answers: HashMap<Who, Vec<(u64, bool)>> = HashMap::new();
    for round in 0..4 {
        let sends = everyone().into_iter().map(|w| {
            let http = t.http(w).unwrap().clone();
            let url = format!("{base}/echo?round={round}");
            async move { (w, http.get(&url, None).await) }
        });
        for (w, ex) in futures_util::future::join_all(sends).await {
            let r = ex.outcome.unwrap_or_else(|f| panic!("{}: {f}", w.name()));
            let j = r.json.unwrap();
            let x5t = j["x5t"].as_str().map(str::to_string);
            assert_eq!(x5t, own[&w], "{w:?} round {round}: the connection is authenticated as the sender, and only the sender");
            answers.entry(w).or_default().push((j["conn"].as_u64().unwrap(), j["resumed"].as_bool().unwrap()));
        }
    }
    let mut owner: HashMap<u64, Who> = HashMap::new();
    for (w, seen) in &answers {
        let conns: BTreeSet<u64> = seen.iter().map(|(c, _)| *c).collect();
        for c in &conns {
            let first = *owner.entry(*c).or_insert(*w);
            assert_eq!(first, *w, "connection {c} carried requests of {first:?} and {w:?}");
        }
        match t.http(*w).unwrap().reuse() {
            Reuse::Fresh => {
                assert_eq!(conns.len(), seen.len(), "{w:?}: a new connection for every request: {seen:?}");
                assert!(seen.iter().all(|(_, resumed)| !resumed), "{w:?}: a full handshake every time: {seen:?}");
            }
            Reuse::Pooled => assert!(conns.len() < seen.len(), "{w:?}: its connection was reused: {seen:?}"),
        }
    }
    for w in [Who::NoCertFresh, Who::Cert(Role::RogueCa), Who::Cert(Role::Expired), Who::Cert(Role::SelfSignedOther)] {
        assert_eq!(t.http(w).unwrap().reuse(), Reuse::Fresh, "{w:?}: its refusal may be judged at TLS");
    }
    for w in [Who::NoCert, Who::Cert(Role::Registered), Who::Cert(Role::SelfSigned), Who::Cert(Role::OtherSubject)] {
        assert_eq!(t.http(w).unwrap().reuse(), Reuse::Pooled, "{w:?}");
    }
    assert!(seen.connections.load(Ordering::SeqCst) >= 4 * 4 + 4, "fresh identities alone opened 16 connections");
}

/// Requests of all identities together never exceed the per-origin bound in flight, and do
/// overlap up to it (the bound is what limits them, not a serial client).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_to_one_origin_never_exceed_the_bound() {
    for bound in [1, 3] {
        let pki = TestPki::generate().unwrap();
        let (base, seen) = echo(&pki, Duration::from_millis(40)).await;
        let t = target(&pki, &base, Some(bound));
        let sends = (0..24).map(|i| {
            let w = everyone()[i % everyone().len()];
            let http = t.http(w).unwrap().clone();
            let url = format!("{base}/echo?n={i}");
            async move { http.get(&url, None).await.outcome.is_ok() }
        });
        let ok = futures_util::future::join_all(sends).await;
        assert!(ok.iter().all(|o| *o), "every request answered");
        assert_eq!(seen.max_in_flight.load(Ordering::SeqCst), bound, "at most {bound} in flight, and that many at once");
    }
    // Unbounded (the embedded mock's targets): they all overlap.
    let pki = TestPki::generate().unwrap();
    let (base, seen) = echo(&pki, Duration::from_millis(100)).await;
    let t = target(&pki, &base, None);
    let sends = everyone().into_iter().map(|w| {
        let http = t.http(w).unwrap().clone();
        let url = format!("{base}/echo");
        async move { http.get(&url, None).await.outcome.is_ok() }
    });
    assert!(futures_util::future::join_all(sends).await.iter().all(|o| *o));
    assert!(seen.max_in_flight.load(Ordering::SeqCst) > 6, "no bound: {} at once", seen.max_in_flight.load(Ordering::SeqCst));
}

/// While discovery is fetched from a live target, the accepted identities open their connections
/// (the primary's first), each with its own certificate; the refusal identities open none; and
/// discovery keeps a slot of the origin's bound: at `max_in_flight: 1` nothing is warmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_identities_open_their_connections_while_discovery_is_in_flight() {
    let x5t = |pki: &TestPki, r: Role| pki.identities().iter().find(|i| i.role == r).map(|i| i.x5t_s256.clone());
    for (bound, want) in
        [(6, vec![Role::Registered, Role::SelfSigned, Role::OtherSubject]), (3, vec![Role::Registered, Role::SelfSigned]), (1, vec![])]
    {
        let pki = TestPki::generate().unwrap();
        let (base, seen) = echo(&pki, Duration::from_millis(30)).await;
        let ctx = mtls_harness::checks::Ctx::new(Arc::new(target(&pki, &base, Some(bound))));
        // The echo is no discovery document: what matters is who connected meanwhile.
        let _ = ctx.discovery().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let certs = seen.certs.lock().unwrap().clone();
        let warmed: BTreeSet<Option<String>> = certs.iter().filter(|c| c.is_some()).cloned().collect();
        let expected: BTreeSet<Option<String>> = want.iter().map(|r| x5t(&pki, *r)).collect();
        assert_eq!(warmed, expected, "bound {bound}: the connections opened beside discovery");
        assert_eq!(certs.iter().filter(|c| c.is_none()).count(), 1, "bound {bound}: discovery's own, without a certificate");
        assert_eq!(certs.len(), want.len() + 1, "bound {bound}: one connection each");
    }
}
