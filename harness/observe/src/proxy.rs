//! The recording proxy: one TLS listener per upstream origin, asking for a client certificate
//! where its upstream does; each request journalled (as the mock's journal records them) and
//! sent on to the upstream, re-originating mutual TLS with the user's certificate when — and
//! only when — the client presented that certificate to the proxy; the answer relayed as the
//! upstream gave it, but for [`crate::rewrite`].

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::rewrite::OriginMap;
use mtls_core::pki::x5t_s256;
use mtls_core::redact::{redacted_form, Secrets};
use mtls_mock::journal::{answer_facts, auth_scheme, Entry, Journal, SeenAssertion};
use mtls_mock::terminator::plain;

/// The most of a request body taken from the client.
const MAX_REQUEST: usize = 1 << 20;
/// The most of an answer taken from the upstream.
const MAX_ANSWER: usize = 4 << 20;

/// Answer fields that are credentials (RFC 6749 §5.1, OIDC Core §3.1.3.3, RFC 7591 §3.2.1).
const SECRET_FIELDS: &[&str] = &["access_token", "refresh_token", "id_token", "device_code", "client_secret", "registration_access_token"];

/// Header fields that belong to one hop (RFC 9110 §7.6.1), or that the proxy sets itself.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding" | "upgrade" | "content-length"
    )
}

/// What every listener shares.
pub(crate) struct Shared {
    pub(crate) map: OriginMap,
    pub(crate) journal: Journal,
    pub(crate) secrets: Secrets,
    /// To the upstream with the user's certificate (presented where the upstream asks).
    pub(crate) with_cert: reqwest::Client,
    /// To the upstream with no certificate.
    pub(crate) without_cert: reqwest::Client,
    /// `x5t#S256` of the user's certificate.
    pub(crate) thumbprint: String,
    /// The paths discovery is served under (rewritten on the way back).
    pub(crate) discovery_paths: Vec<String>,
    pub(crate) timeout: Duration,
}

/// One running listener; its accept loop stops when this is dropped.
pub struct Listener {
    /// Its name in the journal: the upstream origin it stands in for.
    pub name: String,
    /// Its base URL, `https://127.0.0.1:PORT`.
    pub local: String,
    /// Whether its handshake asks for a client certificate (as its upstream's does).
    pub request_cert: bool,
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener {
    /// Serve `socket` with `tls`, forwarding to `upstream` (an origin).
    pub(crate) fn spawn(
        socket: TcpListener,
        local: String,
        upstream: String,
        tls: Arc<rustls::ServerConfig>,
        request_cert: bool,
        shared: Arc<Shared>,
    ) -> Listener {
        let name = upstream.clone();
        let upstream = Arc::new(upstream);
        let task = mtls_mock::terminator::serve_tls(socket, tls, move |req, cert, _resumed| {
            let (shared, upstream) = (shared.clone(), upstream.clone());
            async move { forward(&shared, &upstream, request_cert, req, cert.as_ref()).await }
        });
        Listener { name, local, request_cert, task }
    }
}

/// Register every credential an answer carries: its JSON secret fields, a `code` in its
/// `Location` (RFC 6749 §4.1.2).
fn register_secrets(secrets: &Secrets, json: Option<&serde_json::Value>, location: Option<&str>) {
    if let Some(serde_json::Value::Object(o)) = json {
        for f in SECRET_FIELDS {
            if let Some(s) = o.get(*f).and_then(|v| v.as_str()) {
                secrets.register(s);
            }
        }
    }
    if let Some(u) = location.and_then(|l| url::Url::parse(l).ok()) {
        for (k, v) in u.query_pairs().chain(u.fragment().map(|f| url::form_urlencoded::parse(f.as_bytes())).into_iter().flatten()) {
            if matches!(k.as_ref(), "code" | "access_token" | "id_token") {
                secrets.register(&v);
            }
        }
    }
}

async fn forward(
    s: &Shared,
    upstream: &str,
    request_cert: bool,
    req: Request<Incoming>,
    cert: Option<&CertificateDer<'static>>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_REQUEST).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large or broken"),
    };
    let path = parts.uri.path().to_string();
    let path_q = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{upstream}{path_q}");
    let presented = cert.map(|c| x5t_s256(c));
    // Mutual TLS is re-originated only for the client's own certificate: a client that
    // presented none, or another, reaches the upstream with none (and the journal says so).
    let client = if presented.as_deref() == Some(s.thumbprint.as_str()) { &s.with_cert } else { &s.without_cert };
    let mut up = client.request(parts.method.clone(), &url).timeout(s.timeout);
    for (k, v) in parts.headers.iter() {
        // Identity encoding only: the proxy reads (and may rewrite) what it relays.
        if hop_by_hop(k.as_str()) || k.as_str() == "accept-encoding" {
            continue;
        }
        up = up.header(k, v);
    }
    if let Some(v) = parts.headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        if let Some((_, cred)) = v.split_once(' ') {
            s.secrets.register(cred);
        }
    }
    let is_form = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // A JWT client assertion is a credential: the entry keeps it redacted, the journal its
    // header and claims (and the sealed JWS, for a signature verification) — as the mock's does.
    let assertion = if is_form {
        url::form_urlencoded::parse(&body).find(|(k, _)| k == "client_assertion").and_then(|(_, v)| SeenAssertion::parse(&v))
    } else {
        None
    };
    let entry = Entry {
        listener: upstream.to_string(),
        cert_requested: request_cert,
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
        form: if is_form { redacted_form(&body, &s.secrets) } else { Vec::new() },
        authorization: parts.headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(auth_scheme),
        cert_x5t_s256: presented,
        status: 0,
        error: None,
        upstream: Some(format!("{upstream}{path}")),
        token_cnf: None,
    };
    let resp = match up.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = mtls_core::error_chain(&e);
            s.journal.record_with_assertion(Entry { status: 502, error: Some("upstream unreachable".into()), ..entry }, assertion);
            return plain(StatusCode::BAD_GATEWAY, &format!("mtls-harness observe: the upstream {url} could not be reached: {why}\n"));
        }
    };
    let status = resp.status();
    let mut headers = resp.headers().clone();
    let mut bytes = match crate::upstream::read_limited(resp, MAX_ANSWER).await {
        Ok(b) => b,
        Err(why) => {
            s.journal.record_with_assertion(Entry { status: 502, error: Some("upstream answer unreadable".into()), ..entry }, assertion);
            return plain(StatusCode::BAD_GATEWAY, &format!("mtls-harness observe: the answer of {url} could not be relayed: {why}\n"));
        }
    };
    let location = headers.get(hyper::header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    // The answer read once: its secrets, what the journal keeps, what the client sees.
    let json = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
    register_secrets(&s.secrets, json.as_ref(), location.as_deref());
    let (error, token_cnf) = json.as_ref().map(answer_facts).unwrap_or_default();
    s.journal.record_with_assertion(Entry { status: status.as_u16(), error, token_cnf, ..entry }, assertion);
    // What the client sees: local URLs and issuer.
    if let Some(mut v) = json {
        let changed = if s.discovery_paths.contains(&path) && status.is_success() {
            let before = v.clone();
            s.map.discovery(&mut v);
            v != before
        } else {
            s.map.answer(&mut v)
        };
        if changed {
            bytes = serde_json::to_vec(&v).unwrap_or(bytes);
        }
    }
    if let Some(l) = location {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&s.map.location(&l)) {
            headers.insert(hyper::header::LOCATION, v);
        }
    }
    let mut out = Response::new(Full::new(Bytes::from(bytes)));
    *out.status_mut() = status;
    for (k, v) in headers.iter() {
        if !hop_by_hop(k.as_str()) {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}
