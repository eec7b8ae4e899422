//! What each origin's TLS server accepts, asked with hand-written ClientHellos
//! (`mtls_tlsprobe`): every distinct origin of the effective endpoints, of their top-level
//! twins, of discovery, the JWKS and the authorization endpoint. Each question is asked once per
//! origin per scenario and shared by the `tls.*` checks; every probe takes a slot of the
//! target's per-origin throttle and is bounded by its connect and request timeouts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::OnceCell;

use mtls_core::discovery::Source;
use mtls_tlsprobe::keys::{self, Auth};
use mtls_tlsprobe::{suites, Answer, ClientHello, Renegotiation, Timeouts, Until, Version};

use crate::checks::Discovered;
use crate::http::{Limits, Throttle};

/// One origin and the endpoints it serves.
#[derive(Debug, Clone)]
pub struct Site {
    /// `https://host:port`.
    pub origin: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `(metadata key, label)`: `token_endpoint` / `token_endpoint (mTLS alias)`, `discovery`.
    pub endpoints: Vec<(String, String)>,
}

impl Site {
    /// The labels, comma-separated.
    pub fn labels(&self) -> String {
        self.endpoints.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// The labels for a one-line reason: the first three, then how many more (the details list
    /// them all).
    pub fn short_labels(&self) -> String {
        match self.endpoints.len() {
            0..=3 => self.labels(),
            n => {
                let first: Vec<&str> = self.endpoints.iter().take(2).map(|(_, l)| l.as_str()).collect();
                format!("{} and {} more", first.join(", "), n - 2)
            }
        }
    }

    /// Every endpoint it serves is one of `keys`.
    pub fn only(&self, keys: &[String]) -> bool {
        !self.endpoints.is_empty() && self.endpoints.iter().all(|(k, _)| keys.contains(k))
    }
}

/// The origins to probe, in order: discovery's first.
pub fn sites(d: &Discovered) -> Vec<Site> {
    let mut urls: Vec<(String, String, String)> = vec![(d.url.clone(), "discovery".into(), "discovery".into())];
    for e in &d.resolution.endpoints {
        match e.source {
            Source::Alias => {
                urls.push((e.url.to_string(), e.key.into(), format!("{} (mTLS alias)", e.key)));
                if let Some(top) = &e.top_level {
                    urls.push((top.clone(), e.key.into(), e.key.into()));
                }
            }
            Source::TopLevel => urls.push((e.url.to_string(), e.key.into(), e.key.into())),
        }
    }
    for key in ["jwks_uri", "authorization_endpoint", "registration_endpoint"] {
        if let Some(u) = d.metadata.raw.get(key).and_then(|v| v.as_str()) {
            urls.push((u.to_string(), key.into(), key.into()));
        }
    }
    let mut by_origin: BTreeMap<String, Site> = BTreeMap::new();
    let mut order = Vec::new();
    for (u, key, label) in urls {
        let Ok(url) = url::Url::parse(&u) else { continue };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { continue };
        if url.scheme() != "https" {
            continue;
        }
        let origin = url.origin().ascii_serialization();
        let site = by_origin.entry(origin.clone()).or_insert_with(|| {
            order.push(origin.clone());
            Site { origin, host: host.to_string(), port, endpoints: Vec::new() }
        });
        if !site.endpoints.iter().any(|(_, l)| *l == label) {
            site.endpoints.push((key, label));
        }
    }
    order.into_iter().filter_map(|o| by_origin.remove(&o)).collect()
}

/// A probe's answer, or why there is none.
pub type Probed = Result<Answer, String>;

/// The TLS 1.2 suites an origin accepts, found by offering every registered suite and removing
/// the one chosen until the server refuses.
#[derive(Debug, Clone)]
pub struct Enumeration {
    /// Accepted suites, in the order the server chose them (its preference, if it has one).
    pub accepted: Vec<u16>,
    /// ClientHellos sent.
    pub requests: usize,
    /// How the server answered the last one (`handshake_failure`, closed, …).
    pub end: String,
}

/// The answers one origin gave, each asked on first use.
#[derive(Default)]
struct Answers {
    both: OnceCell<Probed>,
    tls12: OnceCell<Probed>,
    tls13: OnceCell<Probed>,
    tls11: OnceCell<Probed>,
    tls10: OnceCell<Probed>,
    suites: OnceCell<Result<Enumeration, String>>,
    renegotiation: OnceCell<Result<Renegotiation, String>>,
    certificates: OnceCell<Result<Vec<(Auth, Probed)>, String>>,
    dhe: OnceCell<Result<Option<Probed>, String>>,
    tls13_certificate: OnceCell<Result<Vec<u8>, String>>,
}

/// Per-scenario cache of TLS answers, by origin.
pub struct Survey {
    limits: Limits,
    throttle: Throttle,
    /// Presented when a renegotiation probe's server asks for a certificate.
    client: Option<mtls_tlsprobe::ClientAuth>,
    origins: std::sync::Mutex<HashMap<String, Arc<Answers>>>,
}

impl Survey {
    /// An empty survey probing within `limits`, each probe holding a slot of `throttle`; the
    /// renegotiation probe presents `client` where a certificate is asked for.
    pub fn new(limits: Limits, throttle: Throttle, client: Option<mtls_tlsprobe::ClientAuth>) -> Survey {
        Survey { limits, throttle, client, origins: std::sync::Mutex::new(HashMap::new()) }
    }

    /// Each probe's bounds: the target's connect timeout, and its request timeout for the answer.
    fn timeouts(&self) -> Timeouts {
        Timeouts { connect: self.limits.connect, read: self.limits.request }
    }

    fn answers(&self, site: &Site) -> Arc<Answers> {
        let mut m = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(site.origin.clone()).or_default().clone()
    }

    async fn ask(&self, site: &Site, hello: ClientHello, until: Until) -> Probed {
        let _slot = self.throttle.slot(&site.origin).await;
        mtls_tlsprobe::probe(&site.host, site.port, &hello, until, self.timeouts()).await.map_err(|e| e.to_string())
    }

    /// Offered TLS 1.3 and 1.2 with every suite: the positive control of every refusal.
    pub async fn both(&self, site: &Site) -> Probed {
        let all: Vec<u16> = suites::TLS13.iter().copied().chain(suites::tls12()).collect();
        let hello = ClientHello::new(&[Version::Tls13, Version::Tls12], all, &site.host);
        self.answers(site).both.get_or_init(|| self.ask(site, hello, Until::ServerHello)).await.clone()
    }

    /// Offered TLS 1.2 only, every suite, read to ServerHelloDone (extensions, CertificateRequest).
    pub async fn tls12(&self, site: &Site) -> Probed {
        let hello = ClientHello::new(&[Version::Tls12], suites::tls12(), &site.host);
        self.answers(site).tls12.get_or_init(|| self.ask(site, hello, Until::ServerHelloDone)).await.clone()
    }

    /// Offered TLS 1.3 only.
    pub async fn tls13(&self, site: &Site) -> Probed {
        let hello = ClientHello::new(&[Version::Tls13], suites::TLS13.to_vec(), &site.host);
        self.answers(site).tls13.get_or_init(|| self.ask(site, hello, Until::ServerHello)).await.clone()
    }

    /// Offered only `v` (TLS 1.0 or 1.1) with every suite that version can use.
    pub async fn legacy(&self, site: &Site, v: Version) -> Probed {
        let hello = ClientHello::new(&[v], suites::pre_tls12(), &site.host);
        let a = self.answers(site);
        let cell = if v == Version::Tls10 { &a.tls10 } else { &a.tls11 };
        cell.get_or_init(|| self.ask(site, hello, Until::ServerHello)).await.clone()
    }

    /// Every TLS 1.2 suite the origin accepts (RFC 5246 §7.4.1.3: the server picks one of those
    /// offered): offer all, remove the chosen one, repeat until refused.
    pub async fn suites(&self, site: &Site) -> Result<Enumeration, String> {
        let a = self.answers(site);
        a.suites.get_or_init(|| self.enumerate(site)).await.clone()
    }

    /// A client-initiated renegotiation tried after a full TLS 1.2 handshake (RFC 5746 §3.5).
    pub async fn renegotiation(&self, site: &Site) -> Result<Renegotiation, String> {
        let a = self.answers(site);
        a.renegotiation
            .get_or_init(|| async {
                let _slot = self.throttle.slot(&site.origin).await;
                mtls_tlsprobe::renegotiate(&site.host, site.port, self.timeouts(), self.client.as_ref()).await.map_err(|e| e.to_string())
            })
            .await
            .clone()
    }

    /// The origin's TLS 1.2 flight for each kind of certificate its accepted suites need (RSA,
    /// ECDSA): only the accepted suites of that kind offered, read to ServerHelloDone, where the
    /// certificate and the ServerKeyExchange are in clear (RFC 5246 §7.4.2, §7.4.3).
    pub async fn certificates(&self, site: &Site) -> Result<Vec<(Auth, Probed)>, String> {
        let a = self.answers(site);
        a.certificates
            .get_or_init(|| async {
                let e = self.suites(site).await?;
                let mut out = Vec::new();
                for auth in [Auth::Rsa, Auth::Ecdsa] {
                    let of: Vec<u16> = e.accepted.iter().copied().filter(|s| Auth::of(*s) == Some(auth)).collect();
                    if !of.is_empty() {
                        out.push((auth, self.ask(site, ClientHello::new(&[Version::Tls12], of, &site.host), Until::ServerHelloDone).await));
                    }
                }
                Ok(out)
            })
            .await
            .clone()
    }

    /// The origin's TLS 1.2 flight when offered only the DHE suites it accepts, naming no
    /// RFC 7919 group (so the server shows its own prime) — or, where that is refused (GnuTLS
    /// refuses DHE to a client whose named groups hold no finite-field one), with the RFC 7919
    /// groups offered too; `None` when it accepts no DHE suite.
    pub async fn dhe(&self, site: &Site) -> Result<Option<Probed>, String> {
        let a = self.answers(site);
        a.dhe
            .get_or_init(|| async {
                let e = self.suites(site).await?;
                let dhe: Vec<u16> = e.accepted.iter().copied().filter(|s| keys::is_dhe(*s)).collect();
                if dhe.is_empty() {
                    return Ok(None);
                }
                let with_groups = ClientHello::new(&[Version::Tls12], dhe, &site.host);
                let mut own = with_groups.clone();
                own.groups = keys::without_ffdhe(&own.groups);
                match self.ask(site, own, Until::ServerHelloDone).await {
                    Ok(a) if a.refused() => Ok(Some(self.ask(site, with_groups, Until::ServerHelloDone).await)),
                    other => Ok(Some(other)),
                }
            })
            .await
            .clone()
    }

    /// The end-entity certificate (DER) of a TLS 1.3 handshake completed with rustls, whose
    /// Certificate message is encrypted to a prober: for origins that accept no TLS 1.2 suite.
    /// The certificate is not verified (its size is the question, not its trust).
    pub async fn tls13_certificate(&self, site: &Site) -> Result<Vec<u8>, String> {
        let a = self.answers(site);
        a.tls13_certificate
            .get_or_init(|| async {
                let _slot = self.throttle.slot(&site.origin).await;
                tls13_peer_certificate(site, self.timeouts()).await
            })
            .await
            .clone()
    }

    async fn enumerate(&self, site: &Site) -> Result<Enumeration, String> {
        let mut offered = suites::tls12();
        let mut accepted = Vec::new();
        let mut answer = self.tls12(site).await?;
        let mut requests = 1;
        loop {
            let chosen = match &answer {
                Answer::Hello { hello, .. } => hello.suite,
                refused => return Ok(Enumeration { accepted, requests, end: describe(refused) }),
            };
            if !offered.contains(&chosen) {
                return Err(format!(
                    "{} chose {} ({chosen:#06x}), which was not offered (RFC 5246 §7.4.1.3 forbids it)",
                    site.origin,
                    suites::name(chosen)
                ));
            }
            accepted.push(chosen);
            offered.retain(|s| *s != chosen);
            if offered.is_empty() {
                return Ok(Enumeration { accepted, requests, end: "every registered suite accepted".into() });
            }
            let hello = ClientHello::new(&[Version::Tls12], offered.clone(), &site.host);
            answer = self.ask(site, hello, Until::ServerHello).await?;
            requests += 1;
        }
    }
}

async fn tls13_peer_certificate(site: &Site, t: Timeouts) -> Result<Vec<u8>, String> {
    use mtls_core::tls::{client_config_for, ServerTrust};
    let tls = client_config_for(&[], None, ServerTrust::Insecure, &[&rustls::version::TLS13]).map_err(|e| e.to_string())?;
    let bare = site.host.trim_start_matches('[').trim_end_matches(']').to_string();
    let name = rustls::pki_types::ServerName::try_from(bare.clone()).map_err(|e| format!("{}: {e}", site.host))?;
    let addr = if bare.contains(':') { format!("[{bare}]:{}", site.port) } else { format!("{bare}:{}", site.port) };
    let tcp = match tokio::time::timeout(t.connect, tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => return Err(format!("connecting to {addr} took longer than {:?}", t.connect)),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls.config));
    let stream = match tokio::time::timeout(t.read, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("TLS 1.3 handshake with {addr}: {e}")),
        Err(_) => return Err(format!("TLS 1.3 handshake with {addr} took longer than {:?}", t.read)),
    };
    let (_, conn) = stream.get_ref();
    conn.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).ok_or_else(|| format!("{addr} sent no certificate"))
}

/// `TLS 1.2 TLS_ECDHE_…`, `alert handshake_failure (fatal)`, `closed`.
pub fn describe(a: &Answer) -> String {
    match a {
        Answer::Hello { hello, .. } if hello.retry => format!("{} (HelloRetryRequest)", hello.version),
        Answer::Hello { hello, .. } => format!("{} {}", hello.version, suites::name(hello.suite)),
        Answer::Alert { level, description } => {
            format!("alert {} ({})", mtls_tlsprobe::alert_name(*description), if *level == 1 { "warning" } else { "fatal" })
        }
        Answer::Closed => "connection closed without an answer".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtls_core::discovery::Metadata;

    /// A TLS 1.3-only origin hides its Certificate from a prober; the rustls handshake shows it
    /// (unverified: the CA is not even given), and a closed port is an error naming the address.
    #[tokio::test]
    async fn a_tls13_only_origin_shows_its_certificate_to_a_rustls_handshake() {
        let pki = mtls_core::pki::TestPki::shared().expect("pki");
        let cfg = rustls::ServerConfig::builder_with_provider(mtls_core::tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(pki.server.chain(), pki.server.key_der())
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = l.local_addr().expect("addr").port();
        let serve = tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let a = acceptor.clone();
                tokio::spawn(async move { a.accept(s).await.map(|_| ()) });
            }
        });
        let site = |port| Site { origin: format!("https://127.0.0.1:{port}"), host: "127.0.0.1".into(), port, endpoints: Vec::new() };
        let t = Timeouts { connect: std::time::Duration::from_secs(2), read: std::time::Duration::from_secs(3) };
        let der = tls13_peer_certificate(&site(port), t).await.expect("a certificate");
        assert_eq!(der, pki.server.cert_der.to_vec());
        serve.abort();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let e = tls13_peer_certificate(&site(closed), t).await.expect_err("nothing listens");
        assert!(e.contains(&format!("127.0.0.1:{closed}")), "{e}");
    }

    #[test]
    fn sites_group_endpoints_and_twins_by_origin() {
        let raw = serde_json::json!({
            "issuer": "https://as.example",
            "token_endpoint": "https://as.example/token",
            "authorization_endpoint": "https://login.example/authorize",
            "jwks_uri": "https://as.example/jwks",
            "mtls_endpoint_aliases": { "token_endpoint": "https://mtls.as.example:8443/token" }
        });
        let metadata = Metadata::from_json(raw).expect("metadata");
        let resolution = metadata.resolve();
        let d = Discovered {
            url: "https://as.example/.well-known/openid-configuration".into(),
            metadata,
            resolution,
            evidence: crate::http::Evidence::default(),
            duplicate_keys: Vec::new(),
        };
        let s = sites(&d);
        let origins: Vec<&str> = s.iter().map(|s| s.origin.as_str()).collect();
        assert_eq!(origins, ["https://as.example", "https://mtls.as.example:8443", "https://login.example"]);
        assert_eq!(s[0].labels(), "discovery, token_endpoint, jwks_uri", "the alias's top-level twin is probed too");
        assert_eq!(s[1].labels(), "token_endpoint (mTLS alias)");
        assert!(s[2].only(&["authorization_endpoint".into()]));
        assert!(!s[0].only(&["authorization_endpoint".into()]));
    }
}
