//! The harness's HTTP side: one reqwest client per certificate identity over a rustls config
//! that trusts only the configured CA, bounded exchanges (timeouts, body size), evidence with
//! secrets redacted, and classification of failures — a TLS-level rejection is an answer
//! (DESIGN: "rejected at TLS handshake"), a timeout or refused connection is not.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mtls_core::redact::Secrets;
use mtls_core::tls::{client_config, ServerTrust};
use reqwest::Method;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Map, Value};

pub mod chain;
mod classify;
mod probe;
mod wire;

pub use chain::explain_untrusted;
pub use classify::alert_name;
use classify::classify;
pub use mtls_core::results::Evidence;
pub use probe::cert_request_probe;

/// Response fields whose values are credentials (RFC 6749 §5.1, OIDC Core §3.1.3.3).
const SECRET_FIELDS: &[&str] = &["access_token", "refresh_token", "id_token", "client_secret", "code", "device_code"];
pub use mtls_core::redact::REDACTED;

/// The longest `Retry-After` the harness waits for before sending a rate-limited request again.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// How long to wait before sending again after a 429/503 whose `Retry-After` is `header` (the
/// `attempt`-th retry): its delta-seconds, or the time until its HTTP-date (RFC 9110 §10.2.3);
/// without a readable one, 1, 2, 4 s… `None` when that is longer than [`MAX_RETRY_WAIT`].
pub fn retry_wait(header: Option<&str>, attempt: u32, now: std::time::SystemTime) -> Option<Duration> {
    let asked = match header.map(str::trim) {
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)),
        Some(v) => match httpdate::parse_http_date(v) {
            Ok(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
            Err(_) => Duration::from_secs(1 << attempt.min(5)),
        },
        None => Duration::from_secs(1 << attempt.min(5)),
    };
    (asked <= MAX_RETRY_WAIT).then_some(asked)
}

/// Bounds on every exchange.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connect timeout (default 5 s).
    pub connect: Duration,
    /// Timeout of the whole request, body included (default 10 s).
    pub request: Duration,
    pub(crate) max_body: usize,
    /// How many times a request answered 429 or 503 is sent again (`--retry-rate-limited`,
    /// default 0): each after the wait its `Retry-After` asks for.
    pub retry_rate_limited: u32,
}

impl Limits {
    /// These limits, sending a rate-limited request again up to `n` times.
    pub fn retrying(mut self, n: u32) -> Limits {
        self.retry_rate_limited = n;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits { connect: Duration::from_secs(5), request: Duration::from_secs(10), max_body: 1 << 20, retry_rate_limited: 0 }
    }
}

/// Why an HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// rustls refused the client configuration (e.g. the certificate and key).
    #[error("TLS client configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// reqwest could not build the client.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// At most so many requests in flight to one origin (scheme, host, port), whichever client
/// (identity) sends them: what a real sandbox sees of the harness. Clones share the count.
#[derive(Clone, Default)]
pub struct Throttle {
    limit: Option<usize>,
    origins: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>>,
}

impl Throttle {
    /// At most `limit` requests in flight per origin (`None`: no bound).
    pub fn per_origin(limit: Option<usize>) -> Throttle {
        Throttle { limit: limit.map(|n| n.max(1)), origins: Arc::default() }
    }

    /// The bound, if any.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// Wait for a slot at the origin of `url`; the slot is held until the permit is dropped.
    pub async fn slot(&self, url: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let limit = self.limit?;
        let origin = url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
        let sem = {
            let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
            origins.entry(origin).or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(limit))).clone()
        };
        sem.acquire_owned().await.ok()
    }
}

/// The reqwest client over `config`: no redirects followed, bounded by `limits`; with
/// [`Reuse::Fresh`], no idle connections kept and no TLS session resumed.
fn reqwest_client(mut config: rustls::ClientConfig, limits: Limits, no_proxy: bool, reuse: Reuse) -> Result<reqwest::Client, ClientError> {
    if reuse == Reuse::Fresh {
        config.resumption = rustls::client::Resumption::disabled();
    }
    let mut b = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(limits.connect)
        .timeout(limits.request)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mtls-harness/", env!("CARGO_PKG_VERSION")));
    if reuse == Reuse::Fresh {
        b = b.pool_max_idle_per_host(0);
    }
    if no_proxy {
        b = b.no_proxy();
    }
    Ok(b.build()?)
}

/// Whether a client keeps connections (and TLS sessions) for later requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Pooled connections and TLS session resumption, within this client only: the identities
    /// whose requests are meant to be accepted.
    Pooled,
    /// A fresh TCP connection and a full handshake for every request (no idle pool, no session
    /// resumption): refusals, which must be judged on a handshake of their own.
    Fresh,
}

/// An HTTP client holding one certificate identity (or none). Its connections and TLS sessions
/// are its own: never shared with another identity's client.
#[derive(Clone)]
pub struct Http {
    pub(crate) who: String,
    client: reqwest::Client,
    asked: Arc<AtomicUsize>,
    full_handshakes: Arc<AtomicUsize>,
    limits: Limits,
    secrets: Secrets,
    throttle: Throttle,
    reuse: Reuse,
    config: (rustls::ClientConfig, bool),
    /// Kept-alive connections for the byte-for-byte requests (`wire`) of a client that presents
    /// no certificate; `None` for every other client (a fresh connection per such request).
    wire_pool: Option<Arc<wire::Pool>>,
}

impl Http {
    /// A client named `who` in evidence that verifies server certificates against `roots` (not
    /// at all when `insecure`), presents `cert` (chain and key) when asked, and is bounded by
    /// `limits`. Every secret it sends or receives is registered in `secrets` (the run's).
    pub fn new(
        who: &str,
        roots: &[CertificateDer<'static>],
        cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
        limits: Limits,
        no_proxy: bool,
        insecure: bool,
        secrets: Secrets,
    ) -> Result<Http, ClientError> {
        let trust = if insecure { ServerTrust::Insecure } else { ServerTrust::Roots };
        let wire_pool = cert.is_none().then(Arc::default);
        let tls = client_config(roots, cert, trust)?;
        let client = reqwest_client(tls.config.clone(), limits, no_proxy, Reuse::Pooled)?;
        Ok(Http {
            who: who.to_string(),
            client,
            asked: tls.asked,
            full_handshakes: tls.full_handshakes,
            limits,
            secrets,
            throttle: Throttle::default(),
            reuse: Reuse::Pooled,
            config: (tls.config, no_proxy),
            wire_pool,
        })
    }

    /// This client with its requests counted against `throttle` (shared with the target's other
    /// clients).
    pub fn throttled(mut self, throttle: Throttle) -> Http {
        self.throttle = throttle;
        self
    }

    /// This client opening a fresh connection, with a full handshake, for every request.
    pub fn fresh(mut self) -> Result<Http, ClientError> {
        let (config, no_proxy) = self.config.clone();
        self.client = reqwest_client(config, self.limits, no_proxy, Reuse::Fresh)?;
        self.reuse = Reuse::Fresh;
        Ok(self)
    }

    /// This client never resuming a TLS session (its connections are still pooled): the
    /// certificate-less client, whose sessions — set up where no certificate was asked for —
    /// must never stand in for the handshake of a refusal at an mTLS endpoint (a server may
    /// resume a session across ports of one host).
    pub fn never_resuming(mut self) -> Result<Http, ClientError> {
        let (mut config, no_proxy) = self.config.clone();
        config.resumption = rustls::client::Resumption::disabled();
        self.client = reqwest_client(config.clone(), self.limits, no_proxy, self.reuse)?;
        self.config = (config, no_proxy);
        Ok(self)
    }

    /// A client named `who` holding `identity` (or none) and offering only `versions`, with a
    /// fresh TCP connection per request that offers whatever TLS session `sessions` holds, from
    /// whichever server it came; and the switch of the certificate it presents, so that a
    /// session set up under one identity is offered under another — the `session.*` checks'
    /// deliberate crossing of identities (never done by any other client). Limits, proxy
    /// choice, secrets and throttle are this client's.
    #[allow(clippy::too_many_arguments)]
    pub fn resuming(
        &self,
        who: &str,
        roots: &[CertificateDer<'static>],
        identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
        insecure: bool,
        versions: &[&'static rustls::SupportedProtocolVersion],
        sessions: Arc<mtls_core::tls::SharedSessions>,
    ) -> Result<(Http, mtls_core::tls::CertSwitch), ClientError> {
        let trust = if insecure { ServerTrust::Insecure } else { ServerTrust::Roots };
        let mut tls = mtls_core::tls::client_config_for(roots, identity, trust, versions)?;
        tls.config.resumption = rustls::client::Resumption::store(sessions);
        let no_proxy = self.config.1;
        let mut b = reqwest::Client::builder()
            .use_preconfigured_tls(tls.config.clone())
            .connect_timeout(self.limits.connect)
            .timeout(self.limits.request)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .user_agent(concat!("mtls-harness/", env!("CARGO_PKG_VERSION")));
        if no_proxy {
            b = b.no_proxy();
        }
        let http = Http {
            who: who.to_string(),
            client: b.build()?,
            asked: tls.asked,
            full_handshakes: tls.full_handshakes,
            limits: self.limits,
            secrets: self.secrets.clone(),
            throttle: self.throttle.clone(),
            reuse: Reuse::Fresh,
            config: (tls.config, no_proxy),
            wire_pool: None,
        };
        Ok((http, tls.cert))
    }

    /// This client under another name in evidence (connections, sessions and certificate shared).
    pub fn named(&self, who: &str) -> Http {
        Http { who: who.to_string(), ..self.clone() }
    }

    /// How many full TLS handshakes this client has made (a resumed handshake is not one).
    pub fn full_handshakes(&self) -> usize {
        self.full_handshakes.load(Ordering::SeqCst)
    }

    /// Whether this client reuses connections.
    pub fn reuse(&self) -> Reuse {
        self.reuse
    }

    /// Send `rb`; a 429 or 503 is sent again, up to `limits.retry_rate_limited` times, after the
    /// wait its `Retry-After` asks for (RFC 6585 §4, RFC 9110 §10.2.3; without one 1, 2, 4 s…),
    /// unless that wait is over [`MAX_RETRY_WAIT`]. Says how often it retried, for the evidence.
    async fn send_retrying(&self, mut rb: reqwest::RequestBuilder) -> (reqwest::Result<reqwest::Response>, Option<String>) {
        let mut waits = Vec::new();
        loop {
            let again = rb.try_clone();
            let sent = rb.send().await;
            let retry = match (&sent, again) {
                (Ok(r), Some(again))
                    if waits.len() < self.limits.retry_rate_limited as usize && matches!(r.status().as_u16(), 429 | 503) =>
                {
                    let header = r.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok());
                    retry_wait(header, waits.len() as u32, std::time::SystemTime::now()).map(|w| (w, r.status().as_u16(), again))
                }
                _ => None,
            };
            let Some((wait, status, again)) = retry else {
                let note = (!waits.is_empty()).then(|| format!("sent {} times: {}", waits.len() + 1, waits.join(", ")));
                return (sent, note);
            };
            waits.push(format!("{status}, waited {} s", wait.as_millis() as f64 / 1000.0));
            drop(sent);
            tokio::time::sleep(wait).await;
            rb = again;
        }
    }

    /// The throttle its requests count against.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// The registry this client registers secrets in.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// How many CertificateRequests this client has seen so far.
    pub fn cert_requests(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }

    /// GET, with a bearer token when given.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Exchange {
        self.send(Method::GET, url, bearer.map(Auth::Bearer).unwrap_or(Auth::None), None, &[]).await
    }

    /// GET with a bearer token and extra header fields (appended in order; a name may repeat).
    pub async fn get_with_headers(&self, url: &str, bearer: &str, headers: &[(String, String)]) -> Exchange {
        self.send(Method::GET, url, Auth::Bearer(bearer), None, headers).await
    }

    /// POST a form with `client_secret_basic` credentials and extra header fields.
    pub async fn post_form_basic_with_headers(
        &self,
        url: &str,
        form: &[(&str, &str)],
        id: &str,
        secret: &str,
        headers: &[(String, String)],
    ) -> Exchange {
        self.send(Method::POST, url, Auth::Basic(id, secret), Some(form), headers).await
    }

    /// POST a form with extra header fields (appended in order; a name may repeat).
    pub async fn post_form_with_headers(&self, url: &str, form: &[(&str, &str)], headers: &[(String, String)]) -> Exchange {
        self.send(Method::POST, url, Auth::None, Some(form), headers).await
    }

    /// GET with a `Cookie` header (browser-style steps of an authorization request).
    pub async fn get_with_cookies(&self, url: &str, cookies: &str) -> Exchange {
        self.send(Method::GET, url, if cookies.is_empty() { Auth::None } else { Auth::Cookie(cookies) }, None, &[]).await
    }

    /// POST a form, with no client credentials in headers.
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Exchange {
        self.send(Method::POST, url, Auth::None, Some(form), &[]).await
    }

    /// POST a form with `client_secret_basic` credentials (RFC 6749 §2.3.1).
    pub async fn post_form_basic(&self, url: &str, form: &[(&str, &str)], id: &str, secret: &str) -> Exchange {
        self.send(Method::POST, url, Auth::Basic(id, secret), Some(form), &[]).await
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        auth: Auth<'_>,
        form: Option<&[(&str, &str)]>,
        headers: &[(String, String)],
    ) -> Exchange {
        mtls_core::stats::sent();
        // Extra fields are named in the evidence, not valued (a certificate is public, but a
        // report listing twenty of them helps nobody).
        let extra = if headers.is_empty() {
            String::new()
        } else {
            format!(" with {}", headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))
        };
        let mut ev = Evidence {
            request: format!("{method} {url}{extra}"),
            identity: self.who.clone(),
            authorization: match auth {
                Auth::None => None,
                Auth::Bearer(_) => Some(format!("Bearer {REDACTED}")),
                Auth::Basic(id, _) => Some(format!("Basic {id}:{REDACTED}")),
                Auth::Cookie(_) => Some(format!("Cookie {REDACTED}")),
            },
            form: form.map(|f| mtls_core::redact::redacted_form(serde_urlencoded_pairs(f).as_bytes(), &self.secrets)),
            status: None,
            response: None,
            www_authenticate: None,
            error: None,
        };
        // Everything secret this request carries is remembered for scrubbing (crate::redact).
        match auth {
            Auth::Bearer(t) | Auth::Cookie(t) => self.secrets.register(t),
            Auth::Basic(id, secret) => self.secrets.register_credential(id, secret),
            Auth::None => {}
        }
        for (k, v) in form.unwrap_or_default() {
            if mtls_core::redact::is_secret_param(k) {
                self.secrets.register(v);
            }
        }
        // Held until the response is read (or the request failed): the origin's slot.
        let _slot = self.throttle.slot(url).await;
        // Extra fields go out byte for byte, names as spelled (hyper would lower-case them).
        let got = if headers.is_empty() {
            self.via_reqwest(method, url, auth, form, &mut ev).await
        } else {
            self.via_wire(method, url, auth, form, headers).await.map_err(|f| (f, None))
        };
        let answer = match got {
            Ok(a) => a,
            Err((mut failure, status)) => {
                // Under TLS 1.3 a server refuses the client certificate after the client's
                // Finished, while the client may still be writing a large request: the write then
                // fails (broken pipe, reset, "connection was not ready") before the alert is
                // read. Read it: a small request over a fresh connection meets the same refusal.
                // The verdict must not depend on who wins that race; the probe changes nothing
                // unless the server answers it with a TLS alert. The probe can lose the same race
                // (a server closing with unread data resets the connection, and the reset can
                // discard the alert before it is read), so it is tried up to three times.
                let mut how = String::new();
                if let Failure::Other(first) | Failure::NoAnswer { why: first, .. } = &failure {
                    for _ in 0..3 {
                        let Err(probe) = self.client.get(url).send().await else { break };
                        match classify(&probe) {
                            refused @ Failure::TlsRejected(_) => {
                                how = format!(" (read with a second, small request: the first was cut off while being written — {first})");
                                failure = refused;
                                break;
                            }
                            Failure::Other(_) => continue,
                            _ => break,
                        }
                    }
                }
                ev.status = status;
                ev.error = Some(format!("{failure}{how}"));
                return Exchange { evidence: ev, location: None, set_cookies: Vec::new(), outcome: Err(failure) };
            }
        };
        let wire::Answer { status, headers: resp_headers, body } = answer;
        ev.status = Some(status);
        let location = resp_headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let Some(l) = location.as_deref().and_then(|l| url::Url::parse(l).ok()) {
            for (k, v) in l.query_pairs() {
                if mtls_core::redact::is_secret_param(&k) {
                    self.secrets.register(&v);
                }
            }
        }
        let set_cookies: Vec<String> = resp_headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next().map(|c| c.trim().to_string()))
            .collect();
        for c in &set_cookies {
            // A cookie too short to be a session credential is not registered: it would scrub
            // ordinary words (`lang=en`).
            if let Some((_, v)) = c.split_once('=').filter(|(_, v)| v.len() >= mtls_core::redact::MIN_SECRET_LEN) {
                self.secrets.register(v);
            }
        }
        // How long a rate-limited or unavailable server asks to be left alone (RFC 9110 §10.2.3),
        // bounded: it is quoted in reasons.
        let retry_after =
            resp_headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(|v| mtls_core::text::cap(v.trim(), 64));
        // Several WWW-Authenticate fields are one challenge list (RFC 9110 §11.6.1, §5.3).
        let challenges: Vec<&str> =
            resp_headers.get_all(reqwest::header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()).collect();
        ev.www_authenticate = (!challenges.is_empty()).then(|| challenges.join(", "));
        let content_type = resp_headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let json = serde_json::from_slice::<Value>(&body).ok();
        ev.response = json.as_ref().map(|j| redact(j, &self.secrets));
        Exchange { evidence: ev, location, set_cookies, outcome: Ok(Response { status, content_type, body, json, retry_after }) }
    }

    /// Send through reqwest (rate-limited answers sent again, the retries noted in `ev`) and read
    /// the body within the limit; a failure keeps the status when one arrived.
    async fn via_reqwest(
        &self,
        method: Method,
        url: &str,
        auth: Auth<'_>,
        form: Option<&[(&str, &str)]>,
        ev: &mut Evidence,
    ) -> Result<wire::Answer, (Failure, Option<u16>)> {
        let mut rb = self.client.request(method, url);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => rb = rb.bearer_auth(t),
            Auth::Cookie(c) => rb = rb.header(reqwest::header::COOKIE, c),
            Auth::Basic(id, secret) => rb = rb.header(reqwest::header::AUTHORIZATION, basic(id, secret)),
        }
        if let Some(f) = form {
            rb = rb.form(f);
        }
        let (sent, retried) = self.send_retrying(rb).await;
        if let Some(note) = retried {
            ev.request = format!("{} ({note})", ev.request);
        }
        let resp = sent.map_err(|e| (classify(&e), None))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = read_limited(resp, self.limits.max_body).await.map_err(|f| (f, Some(status)))?;
        Ok(wire::Answer { status, headers, body })
    }

    /// Send byte for byte over a connection of its own (`wire`), with this client's TLS
    /// configuration (no session resumption for a client that handshakes afresh).
    async fn via_wire(
        &self,
        method: Method,
        url: &str,
        auth: Auth<'_>,
        form: Option<&[(&str, &str)]>,
        headers: &[(String, String)],
    ) -> Result<wire::Answer, Failure> {
        let parsed = url::Url::parse(url).map_err(|e| Failure::Other(format!("{url}: {e}")))?;
        let fields: Vec<(&str, String)> = match auth {
            Auth::None => vec![],
            Auth::Bearer(t) => vec![("Authorization", format!("Bearer {t}"))],
            Auth::Cookie(c) => vec![("Cookie", c.to_string())],
            Auth::Basic(id, secret) => vec![("Authorization", basic(id, secret))],
        };
        let body = form.map(serde_urlencoded_pairs);
        let req =
            wire::Request::new(method.as_str(), &parsed, &fields, headers, body.as_deref().map(str::as_bytes), self.wire_pool.is_some())?;
        let (mut config, no_proxy) = self.config.clone();
        if self.reuse == Reuse::Fresh {
            config.resumption = rustls::client::Resumption::disabled();
        }
        wire::exchange(Arc::new(config), &parsed, &req, self.limits, no_proxy, self.wire_pool.as_deref()).await
    }
}

/// The `client_secret_basic` field value (RFC 6749 §2.3.1: both parts form-encoded first).
fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret))))
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
    Cookie(&'a str),
}

fn serde_urlencoded_pairs(f: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(f).finish()
}

async fn read_limited(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(Failure::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(classify(&e)),
        }
    }
}

/// A response that arrived whole.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
    /// The body, when it parses as JSON.
    pub json: Option<Value>,
    /// The `Retry-After` header, if any (bounded).
    pub retry_after: Option<String>,
}

impl Response {
    /// Why this status answers nothing about the request's credential, or `None` when it is a
    /// judgement: a redirect, not found, method not allowed, a request timeout, rate limiting
    /// (429, RFC 6585 §4) or unavailability (503), quoting `Retry-After` (RFC 9110 §10.2.3), a
    /// server error. Never a refusal: a sandbox that throttles the harness has judged nothing.
    pub fn not_a_judgement(&self) -> Option<String> {
        let kind = match self.status {
            300..=399 => "a redirect",
            404 => "not found",
            405 => "method not allowed",
            408 => "a request timeout",
            429 => "rate limited",
            503 => "unavailable",
            500..=599 => "a server error",
            _ => return None,
        };
        let wait = self.retry_after.as_deref().map(|w| format!("; Retry-After: {w}")).unwrap_or_default();
        Some(format!("{kind}{wait}"))
    }

    /// Why an answer from an OAuth endpoint (token, PAR, introspection) cannot be judged: a
    /// success or server error that is not JSON is an error page of the server or of a proxy in
    /// front of it, not an OAuth answer (RFC 6749 §5.1, §5.2 answer in JSON).
    pub fn unjudgeable(&self) -> Option<String> {
        if self.json.is_some() || !((200..300).contains(&self.status) || self.status >= 500) {
            return None;
        }
        let ct = if self.content_type.is_empty() { "no content-type" } else { self.content_type.as_str() };
        Some(format!(
            "cannot judge: the endpoint answered {} with a non-JSON body ({ct}, {} bytes): an error page, not an OAuth response",
            self.status,
            self.body.len()
        ))
    }

    /// A member of the JSON body, if the body is a JSON object that has it.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.json.as_ref().and_then(|j| j.get(name))
    }
    /// A string member of the JSON body.
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(Value::as_str)
    }
}

/// Why no response arrived.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    /// The peer refused us at the TLS layer with this alert (RFC 8446 §6.2). Which alerts count
    /// as a refusal of the certificate is the checks' decision ([`crate::checks::refusal`]).
    #[error("rejected at TLS handshake: the server sent alert {}", alert_name(*.0))]
    TlsRejected(rustls::AlertDescription),
    /// We refused the peer (untrusted server certificate, name mismatch).
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The connect or request timeout passed.
    #[error("timed out: {0}")]
    Timeout(String),
    /// No connection could be made (name resolution, TCP).
    #[error("connection failed: {0}")]
    Connect(String),
    /// The server closed (or reset) the connection after a request whose head was `head` bytes
    /// long, without any answer: what servers do with a head larger than they accept.
    #[error("no answer to a request with a {head}-byte head: {why}")]
    NoAnswer {
        /// The size of the request head, in bytes.
        head: usize,
        /// What was seen.
        why: String,
    },
    /// The body was larger than this limit, in bytes.
    #[error("response body exceeds the {0}-byte limit")]
    TooLarge(usize),
    /// Any other failure, with its error chain.
    #[error("request failed: {0}")]
    Other(String),
}

impl Failure {
    /// Whether this is our refusal of the server's certificate (rustls's `InvalidCertificate`:
    /// unknown issuer, expired, wrong name…), which [`explain_untrusted`] can explain.
    pub fn is_untrusted_server_cert(&self) -> bool {
        matches!(self, Failure::Tls(m) if m.starts_with("invalid peer certificate"))
    }
}

/// One request and what came of it; the evidence is already redacted.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// What a report shows of the exchange.
    pub evidence: Evidence,
    /// The `Location` header of a redirect. Kept out of the evidence: it can carry a code.
    pub location: Option<String>,
    /// `name=value` of each `Set-Cookie` (session state; never in the evidence).
    pub set_cookies: Vec<String>,
    /// The response, or why none arrived.
    pub outcome: Result<Response, Failure>,
}

/// Replace credential values in a JSON response, recursively, registering each in `secrets`.
pub fn redact(v: &Value, secrets: &Secrets) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if SECRET_FIELDS.contains(&k.as_str()) && !v.is_null() {
                        if let Some(s) = v.as_str() {
                            secrets.register(s);
                        }
                        Value::String(REDACTED.into())
                    } else {
                        redact(v, secrets)
                    };
                    (k.clone(), v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| redact(x, secrets)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 9110 §10.2.3: Retry-After is delta-seconds or an HTTP-date; either is waited for, up to
    /// MAX_RETRY_WAIT; an unreadable or missing one backs off 1, 2, 4 s.
    #[test]
    fn retry_wait_reads_seconds_and_dates_and_refuses_long_waits() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_wait(Some("2"), 0, now), Some(Duration::from_secs(2)));
        assert_eq!(retry_wait(Some(" 0 "), 0, now), Some(Duration::ZERO));
        assert_eq!(retry_wait(Some("Sun, 06 Nov 1994 08:49:47 GMT"), 0, now), Some(Duration::from_secs(10)));
        assert_eq!(retry_wait(Some("Sun, 06 Nov 1994 08:49:00 GMT"), 0, now), Some(Duration::ZERO), "a date past: at once");
        assert_eq!(retry_wait(Some("120"), 0, now), None, "longer than the harness waits");
        assert_eq!(retry_wait(Some("99999999999999999999999"), 0, now), None);
        assert_eq!(retry_wait(Some("soon"), 0, now), Some(Duration::from_secs(1)));
        assert_eq!(retry_wait(None, 2, now), Some(Duration::from_secs(4)));
        assert_eq!(retry_wait(None, 9, now), None, "backing off past the cap: give up");
    }

    #[test]
    fn redacts_tokens_at_any_depth() {
        let v = json!({"access_token": "eyJ.a.b", "token_type": "Bearer", "nested": [{"refresh_token": "rt"}]});
        let r = redact(&v, &Secrets::new());
        assert_eq!(r["access_token"], REDACTED);
        assert_eq!(r["token_type"], "Bearer");
        assert_eq!(r["nested"][0]["refresh_token"], REDACTED);
        assert!(!r.to_string().contains("eyJ"));
    }
}
