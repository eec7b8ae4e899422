//! Requests written byte for byte. hyper (under reqwest) sends every header name in lower case;
//! origins that look a forwarded-certificate header up case-sensitively (`SSL_CLIENT_CERT` in a
//! C or Java map) never see such a name. The `edge.*` checks' requests therefore go out here:
//! TLS over the identity's own client configuration, an HTTP/1.1 head with every field name
//! exactly as the caller spells it, and an answer read with `httparse` — bounded in time and size
//! like every other exchange. A client that presents no certificate keeps its connections alive
//! in a [`Pool`] (nothing about a TLS identity is judged on them, and a spoof sweep of a hundred
//! requests then costs one round trip each, not three); any other sends `Connection: close`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use url::{Host, Url};

use super::classify::tls_failure;
use super::{Failure, Limits};

/// The longest response head read (status line and fields).
const MAX_HEAD: usize = 64 * 1024;

/// An answer as read off the wire.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

/// A request head and body, ready to write.
pub(crate) struct Request {
    bytes: Vec<u8>,
    head_len: usize,
    keep_alive: bool,
}

impl Request {
    /// `method url`, the harness's own fields (Host, User-Agent, Accept, `fields`), then `extra`
    /// exactly as spelled, `Connection: close` unless `keep_alive`, and `body` (a form, with its
    /// Content-Type and Content-Length). A name that is not an RFC 9110 token or a value with CR,
    /// LF or NUL is refused, never written.
    pub(crate) fn new(
        method: &str,
        url: &Url,
        fields: &[(&str, String)],
        extra: &[(String, String)],
        body: Option<&[u8]>,
        keep_alive: bool,
    ) -> Result<Request, Failure> {
        let mut target = url.path().to_string();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
        let mut push = |name: &str, value: &str| -> Result<(), Failure> {
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(Failure::Other(format!("the header name {name:?} is not an HTTP field name (RFC 9110 §5.1)")));
            }
            if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                return Err(Failure::Other(format!("the value of {name} holds a line break or NUL (RFC 9110 §5.5)")));
            }
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
            Ok(())
        };
        push("User-Agent", concat!("mtls-harness/", env!("CARGO_PKG_VERSION")))?;
        push("Accept", "*/*")?;
        for (name, value) in fields {
            push(name, value)?;
        }
        if let Some(b) = body {
            push("Content-Type", "application/x-www-form-urlencoded")?;
            push("Content-Length", &b.len().to_string())?;
        }
        for (name, value) in extra {
            push(name, value)?;
        }
        if !keep_alive {
            push("Connection", "close")?;
        }
        head.push_str("\r\n");
        let head_len = head.len();
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.unwrap_or_default());
        Ok(Request { bytes, head_len, keep_alive })
    }
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Where to open the TCP connection: the origin, or an HTTP proxy that tunnels to it.
enum Route {
    Direct,
    Tunnel(Url),
}

/// The proxy reqwest would use for `url` from the environment (`HTTPS_PROXY`, `ALL_PROXY`, and
/// `NO_PROXY`), unless `no_proxy`.
fn route(url: &Url, no_proxy: bool) -> Route {
    if no_proxy || url.scheme() != "https" {
        return Route::Direct;
    }
    let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
    let Some(proxy) = var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) else { return Route::Direct };
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_ascii_lowercase();
    let excluded = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let skip = excluded
        .split(',')
        .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
        .any(|e| !e.is_empty() && (e == "*" || host == e || host.ends_with(&format!(".{e}"))));
    let parsed = Url::parse(&proxy).or_else(|_| Url::parse(&format!("http://{proxy}")));
    match parsed {
        Ok(p) if !skip && p.scheme() == "http" => Route::Tunnel(p),
        _ => Route::Direct,
    }
}

/// A TLS connection to an origin.
type Conn = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// Idle kept-alive connections of one certificate-less client, per origin (at most
/// [`Pool::IDLE`] each).
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<String, Vec<Conn>>>,
}

impl Pool {
    const IDLE: usize = 16;

    fn take(&self, origin: &str) -> Option<Conn> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).get_mut(origin).and_then(Vec::pop)
    }

    fn give(&self, origin: String, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(origin).or_default();
        if list.len() < Pool::IDLE {
            list.push(conn);
        }
    }
}

/// One exchange: over an idle connection of `pool` when there is one (a connection the server
/// closed meanwhile is replaced by a fresh one, once), else connect (through the environment's
/// proxy unless `no_proxy`) and handshake with `config`; write `req`, read the answer, and give
/// the connection back to `pool` when the server keeps it open. The connect and handshake are
/// bounded by `limits.connect`, the whole exchange by `limits.request`, the body by
/// `limits.max_body`.
pub(super) async fn exchange(
    config: Arc<rustls::ClientConfig>,
    url: &Url,
    req: &Request,
    limits: Limits,
    no_proxy: bool,
    pool: Option<&Pool>,
) -> Result<Answer, Failure> {
    let origin = url.origin().ascii_serialization();
    let run = async {
        if let Some(conn) = pool.and_then(|p| p.take(&origin)) {
            match converse(conn, req, limits.max_body).await {
                Ok((answer, kept)) => {
                    if let (Some(p), Some(c)) = (pool, kept) {
                        p.give(origin.clone(), c);
                    }
                    return Ok(answer);
                }
                // Closed while idle (its keep-alive timeout): a fresh connection below.
                Err(Failure::NoAnswer { .. }) => {}
                Err(f) => return Err(f),
            }
        }
        let tcp = tokio::time::timeout(limits.connect, connect(url, no_proxy))
            .await
            .map_err(|_| Failure::Timeout(format!("no connection to {url} within {:?}", limits.connect)))??;
        let name = server_name(url)?;
        let tls = tokio_rustls::TlsConnector::from(config);
        let stream = tokio::time::timeout(limits.connect, tls.connect(name, tcp))
            .await
            .map_err(|_| Failure::Timeout(format!("no TLS handshake with {url} within {:?}", limits.connect)))?
            .map_err(|e| io_failure(&e, "TLS handshake"))?;
        let (answer, kept) = converse(stream, req, limits.max_body).await?;
        if let (Some(p), Some(c)) = (pool, kept) {
            p.give(origin.clone(), c);
        }
        Ok(answer)
    };
    match tokio::time::timeout(limits.request, run).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(format!("no complete answer from {url} within {:?}", limits.request))),
    }
}

async fn connect(url: &Url, no_proxy: bool) -> Result<tokio::net::TcpStream, Failure> {
    let port = url.port_or_known_default().unwrap_or(443);
    let host = url.host().ok_or_else(|| Failure::Connect(format!("{url} names no host")))?;
    let Route::Tunnel(proxy) = route(url, no_proxy) else { return tcp(host, port).await };
    let p_host = proxy.host().ok_or_else(|| Failure::Connect(format!("the proxy {proxy} names no host")))?;
    let mut s = tcp(p_host, proxy.port_or_known_default().unwrap_or(80)).await?;
    let authority = format!("{}:{port}", url.host_str().unwrap_or_default());
    let connect = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    s.write_all(connect.as_bytes()).await.map_err(|e| Failure::Connect(format!("proxy {proxy}: {e}")))?;
    let (answer, _) = read_head(&mut s).await.map_err(|e| Failure::Connect(format!("proxy {proxy}: {e}")))?;
    if !(200..300).contains(&answer.status) {
        return Err(Failure::Connect(format!("the proxy {proxy} answered CONNECT {authority} with {}", answer.status)));
    }
    Ok(s)
}

/// A TCP connection to `host`:`port`.
async fn tcp(host: Host<&str>, port: u16) -> Result<tokio::net::TcpStream, Failure> {
    let r = match host {
        Host::Domain(d) => tokio::net::TcpStream::connect((d, port)).await,
        Host::Ipv4(a) => tokio::net::TcpStream::connect((a, port)).await,
        Host::Ipv6(a) => tokio::net::TcpStream::connect((a, port)).await,
    };
    r.map_err(|e| Failure::Connect(format!("{host}:{port}: {e}")))
}

fn server_name(url: &Url) -> Result<rustls::pki_types::ServerName<'static>, Failure> {
    let name = match url.host() {
        Some(Host::Domain(d)) => rustls::pki_types::ServerName::try_from(d.to_string()),
        Some(Host::Ipv4(a)) => Ok(rustls::pki_types::ServerName::from(std::net::IpAddr::V4(a))),
        Some(Host::Ipv6(a)) => Ok(rustls::pki_types::ServerName::from(std::net::IpAddr::V6(a))),
        None => return Err(Failure::Connect(format!("{url} names no host"))),
    };
    name.map_err(|e| Failure::Tls(format!("{url}: not a TLS server name: {e}")))
}

/// The failure an I/O error stands for: the TLS alert or rustls error inside it, else `what`.
fn io_failure(e: &std::io::Error, what: &str) -> Failure {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(tls) => tls_failure(tls),
        None if e.kind() == std::io::ErrorKind::TimedOut => Failure::Timeout(format!("{what}: {e}")),
        None => Failure::Other(format!("{what}: {e}")),
    }
}

/// Write the request and read the answer; the connection back when it stays open (a kept-alive
/// request whose answer has a length and no `Connection: close`). A server that stops reading (a
/// request too large for it, a refused certificate) may have answered or sent an alert before the
/// write failed: that is read first; with nothing to read, the server closed without an answer.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, req: &Request, max_body: usize) -> Result<(Answer, Option<S>), Failure> {
    let written = match s.write_all(&req.bytes).await {
        Ok(()) => s.flush().await,
        Err(e) => Err(e),
    };
    let (mut answer, rest) = match read_head(&mut s).await {
        Ok(a) => a,
        Err(Failure::NoAnswer { why, .. }) => {
            let why = match written {
                Err(e) => format!("{why}; writing the request failed: {e}"),
                Ok(()) => why,
            };
            return Err(Failure::NoAnswer { head: req.head_len, why });
        }
        Err(f) => return Err(f),
    };
    let (body, delimited) = read_body(&mut s, &answer.headers, answer.status, rest, max_body).await?;
    answer.body = body;
    let closing =
        answer.headers.get_all(reqwest::header::CONNECTION).iter().any(|v| v.to_str().is_ok_and(|v| v.eq_ignore_ascii_case("close")));
    let kept = (req.keep_alive && delimited && !closing && written.is_ok()).then_some(s);
    Ok((answer, kept))
}

/// Read up to the end of a final (non-1xx) response head; what was read past it is returned.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Result<(Answer, Vec<u8>), Failure> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let mut fields = [httparse::EMPTY_HEADER; 128];
        let mut r = httparse::Response::new(&mut fields);
        match r.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => {
                let status = r.code.unwrap_or(0);
                if (100..200).contains(&status) && status != 101 {
                    buf.drain(..n); // an interim answer (100 Continue): the final one follows
                    continue;
                }
                let mut headers = HeaderMap::new();
                for f in r.headers.iter() {
                    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(f.name.as_bytes()), HeaderValue::from_bytes(f.value)) {
                        headers.append(name, value);
                    }
                }
                return Ok((Answer { status, headers, body: Vec::new() }, buf.split_off(n)));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err(Failure::Other(format!("the answer's head exceeds {MAX_HEAD} bytes"))),
            Err(e) => return Err(Failure::Other(format!("not an HTTP/1.1 answer: {e}"))),
        }
        let mut chunk = [0u8; 8192];
        match s.read(&mut chunk).await {
            Ok(0) if buf.is_empty() => return Err(Failure::NoAnswer { head: 0, why: "the server closed the connection".into() }),
            Ok(0) => return Err(Failure::Other("the connection closed in the middle of the answer's head".into())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if buf.is_empty() => {
                return Err(match io_failure(&e, "reading the answer") {
                    Failure::Other(why) => Failure::NoAnswer { head: 0, why },
                    other => other,
                })
            }
            Err(e) => return Err(io_failure(&e, "reading the answer")),
        }
    }
}

/// The body of an answer: chunked, by Content-Length, or up to the close; at most `max` bytes.
/// Whether it had a length of its own (else the connection ended with it).
async fn read_body<S: AsyncRead + Unpin>(
    s: &mut S,
    h: &HeaderMap,
    status: u16,
    mut have: Vec<u8>,
    max: usize,
) -> Result<(Vec<u8>, bool), Failure> {
    if matches!(status, 204 | 304) {
        return Ok((Vec::new(), true));
    }
    let chunked =
        h.get_all(reqwest::header::TRANSFER_ENCODING).iter().any(|v| v.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("chunked")));
    let length = h.get(reqwest::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<usize>().ok());
    if chunked {
        return Ok((dechunk(s, have, max).await?, true));
    }
    let want = length.unwrap_or(usize::MAX);
    if length.is_some_and(|l| l > max) {
        return Err(Failure::TooLarge(max));
    }
    while have.len() < want {
        let mut chunk = [0u8; 16384];
        match s.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => have.extend_from_slice(&chunk[..n]),
            // A server closing after its answer without close_notify: the body ends there.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && length.is_none() => break,
            Err(e) => return Err(io_failure(&e, "reading the answer's body")),
        }
        if have.len() > max {
            return Err(Failure::TooLarge(max));
        }
    }
    if let Some(l) = length {
        if have.len() < l {
            return Err(Failure::Other(format!("the body ended after {} of its {l} bytes", have.len())));
        }
        have.truncate(l);
    }
    Ok((have, length.is_some()))
}

/// Decode a chunked body (RFC 9112 §7.1), trailers skipped.
async fn dechunk<S: AsyncRead + Unpin>(s: &mut S, mut raw: Vec<u8>, max: usize) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        // The chunk-size line.
        let line_end = loop {
            if let Some(i) = raw[pos..].windows(2).position(|w| w == b"\r\n") {
                break pos + i;
            }
            fill(s, &mut raw, max).await?;
        };
        let line = String::from_utf8_lossy(&raw[pos..line_end]).to_string();
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| Failure::Other(format!("a malformed chunk size {line:?}")))?;
        pos = line_end + 2;
        if size == 0 {
            return Ok(body);
        }
        if body.len() + size > max {
            return Err(Failure::TooLarge(max));
        }
        while raw.len() < pos + size + 2 {
            fill(s, &mut raw, max).await?;
        }
        body.extend_from_slice(&raw[pos..pos + size]);
        pos += size + 2;
    }
}

async fn fill<S: AsyncRead + Unpin>(s: &mut S, raw: &mut Vec<u8>, max: usize) -> Result<(), Failure> {
    let mut chunk = [0u8; 16384];
    match s.read(&mut chunk).await {
        Ok(0) => Err(Failure::Other("the connection closed in the middle of a chunked body".into())),
        Ok(n) if raw.len() + n > max + 4096 => Err(Failure::TooLarge(max)),
        Ok(n) => {
            raw.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e) => Err(io_failure(&e, "reading a chunked body")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_carries_names_as_spelled_and_refuses_what_is_no_field() {
        let url = Url::parse("https://as.example:8443/token?x=1").unwrap();
        let extra = vec![("SSL_CLIENT_CERT".to_string(), "a b".to_string()), ("X-SSL-Client-Cert".to_string(), "c".to_string())];
        let r = Request::new("POST", &url, &[("Authorization", "Basic eA==".into())], &extra, Some(b"a=b"), false).unwrap();
        let text = String::from_utf8(r.bytes.clone()).unwrap();
        assert!(text.starts_with("POST /token?x=1 HTTP/1.1\r\nHost: as.example:8443\r\n"), "{text}");
        assert!(text.contains("\r\nSSL_CLIENT_CERT: a b\r\nX-SSL-Client-Cert: c\r\n"), "{text}");
        assert!(text.ends_with("Connection: close\r\n\r\na=b"), "{text}");
        assert_eq!(r.head_len, text.len() - 3);
        assert!(Request::new("GET", &url, &[], &[("Bad Name".into(), "v".into())], None, false).is_err());
        assert!(Request::new("GET", &url, &[], &[("X".into(), "a\r\nInjected: 1".into())], None, false).is_err());
        let kept = Request::new("GET", &url, &[], &[], None, true).unwrap();
        assert!(!String::from_utf8(kept.bytes).unwrap().contains("Connection:"), "HTTP/1.1 keeps the connection by default");
    }

    #[tokio::test]
    async fn answers_are_read_by_length_chunked_or_to_the_close() {
        let read = |bytes: &'static [u8]| async move {
            let (mut a, b) = tokio::io::duplex(1 << 16);
            a.write_all(bytes).await.unwrap();
            drop(a);
            let mut b = b;
            let (mut ans, rest) = read_head(&mut b).await?;
            ans.body = read_body(&mut b, &ans.headers, ans.status, rest, 1024).await?.0;
            Ok::<_, Failure>(ans)
        };
        let a = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 2\r\n\r\nok")
            .await
            .unwrap();
        assert_eq!((a.status, a.body.as_slice()), (431, b"ok".as_slice()));
        let a =
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n{\"a\r\n2\r\n\":\r\n2\r\n1}\r\n0\r\n\r\n").await.unwrap();
        assert_eq!(a.body, b"{\"a\":1}");
        let a = read(b"HTTP/1.1 400 Bad Request\r\nWWW-Authenticate: Bearer error=\"x\"\r\n\r\nto the close").await.unwrap();
        assert_eq!((a.status, a.body.as_slice()), (400, b"to the close".as_slice()));
        assert!(a.headers.contains_key("www-authenticate"));
        assert!(matches!(read(b"").await, Err(Failure::NoAnswer { .. })));
        assert!(matches!(read(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n").await, Err(Failure::TooLarge(1024))));
    }
}
