//! Reading the server's first flight (RFC 5246 §7.3, RFC 8446 §4.1.3–§4.1.4): records
//! reassembled into handshake messages up to ServerHello — or, in TLS 1.2, up to
//! ServerHelloDone to see a CertificateRequest — or the Alert that refused the hello.

use tls_parser::{parse_tls_message_handshake, TlsMessage, TlsMessageHandshake};

use crate::hello::ext;
use crate::{ProbeError, Version};

/// RFC 8446 §4.1.3: the `random` of a ServerHello that is a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The largest record a server may send (RFC 5246 §6.2.3: 2^14 + 2048).
const MAX_RECORD: usize = (1 << 14) + 2048;
/// The most handshake bytes read before ServerHelloDone (a long certificate chain fits).
const MAX_FLIGHT: usize = 256 * 1024;

/// What the server chose in its ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version: `supported_versions` if present (RFC 8446 §4.2.1), else
    /// `server_version`.
    pub version: Version,
    /// The chosen cipher suite.
    pub suite: u16,
    /// The ServerHello is a HelloRetryRequest (RFC 8446 §4.1.4).
    pub retry: bool,
    /// Extension types in the ServerHello, in order.
    pub extensions: Vec<u16>,
    /// The `renegotiation_info` payload, when present (RFC 5746 §3.6: empty, one zero byte).
    pub renegotiation_info: Option<Vec<u8>>,
}

impl ServerHello {
    /// The secure renegotiation indication (RFC 5746 §3.6) is present and empty.
    pub fn secure_renegotiation(&self) -> bool {
        self.renegotiation_info.as_deref() == Some(&[0])
    }

    /// The server agreed to the extended master secret (RFC 7627 §5.2).
    pub fn extended_master_secret(&self) -> bool {
        self.extensions.contains(&ext::EXTENDED_MASTER_SECRET)
    }
}

/// A TLS 1.2 CertificateRequest (RFC 5246 §7.4.4), as far as a probe cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// `certificate_authorities`: DER-encoded distinguished names the server trusts.
    pub authorities: Vec<Vec<u8>>,
}

/// What a TLS ≤ 1.2 flight shows of the server's keys (RFC 5246 §7.4.2, §7.4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerKeys {
    /// The end-entity certificate (DER), the first of the Certificate message.
    pub certificate: Option<Vec<u8>>,
    /// The ServerKeyExchange body, when one came (ephemeral key exchange).
    pub key_exchange: Option<Vec<u8>>,
}

/// How the server answered a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello (and, read on in TLS 1.2, whether a CertificateRequest followed).
    Hello {
        /// The ServerHello.
        hello: ServerHello,
        /// The CertificateRequest of a TLS ≤ 1.2 flight read up to ServerHelloDone; `None`
        /// when none came or the flight was not read that far.
        cert_request: Option<CertificateRequest>,
        /// The flight was read up to ServerHelloDone.
        complete: bool,
        /// The TLS ≤ 1.2 flight's server key material, in clear there: its certificate and its
        /// ServerKeyExchange (empty when the flight was not read that far).
        keys: ServerKeys,
    },
    /// An Alert record (RFC 5246 §7.2).
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// The AlertDescription code.
        description: u8,
    },
    /// The server closed the connection (or reset it) without a ServerHello or an alert.
    Closed,
}

impl Answer {
    /// The ServerHello, if the server sent one.
    pub fn hello(&self) -> Option<&ServerHello> {
        match self {
            Answer::Hello { hello, .. } => Some(hello),
            _ => None,
        }
    }

    /// The server refused the hello: an alert, or a close before any ServerHello.
    pub fn refused(&self) -> bool {
        !matches!(self, Answer::Hello { .. })
    }
}

/// How far to read the flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Stop at the ServerHello.
    ServerHello,
    /// In TLS ≤ 1.2, read on to ServerHelloDone (the CertificateRequest is in clear there).
    ServerHelloDone,
}

/// An incremental reader of the server's first flight: feed it bytes as they arrive.
#[derive(Debug)]
pub struct Flight {
    until: Until,
    buf: Vec<u8>,
    handshake: Vec<u8>,
    hello: Option<ServerHello>,
    cert_request: Option<CertificateRequest>,
    keys: ServerKeys,
    read: usize,
}

impl Flight {
    /// A reader that stops at `until`.
    pub fn new(until: Until) -> Flight {
        Flight { until, buf: Vec::new(), handshake: Vec::new(), hello: None, cert_request: None, keys: ServerKeys::default(), read: 0 }
    }

    /// Add bytes read from the server; `Some(answer)` once the flight says enough.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Answer>, ProbeError> {
        self.buf.extend_from_slice(bytes);
        self.read += bytes.len();
        if self.read > MAX_FLIGHT {
            return Err(ProbeError::Protocol(format!("no ServerHelloDone within {MAX_FLIGHT} bytes")));
        }
        while let Some((kind, payload)) = take_record(&mut self.buf)? {
            match kind {
                21 => return self.alert(&payload).map(Some),
                22 => {
                    self.handshake.extend_from_slice(&payload);
                    if let Some(answer) = self.messages()? {
                        return Ok(Some(answer));
                    }
                }
                // ChangeCipherSpec (TLS 1.3 middlebox compatibility) or later records: past the
                // ServerHello nothing more is in clear.
                _ if self.hello.is_some() => return Ok(Some(self.answer(false))),
                _ => return Err(ProbeError::Protocol(format!("a record of content type {kind} before any ServerHello"))),
            }
        }
        Ok(None)
    }

    /// The connection ended: what it said, if anything.
    pub fn eof(&self) -> Answer {
        match &self.hello {
            Some(_) => self.answer(false),
            None => Answer::Closed,
        }
    }

    fn alert(&self, payload: &[u8]) -> Result<Answer, ProbeError> {
        match payload {
            [level, description, ..] if self.hello.is_none() => Ok(Answer::Alert { level: *level, description: *description }),
            // An alert after the ServerHello (e.g. the server's own abort while we stop reading)
            // does not undo what the hello chose.
            [_, _, ..] => Ok(self.answer(false)),
            _ => Err(ProbeError::Protocol("a truncated alert record".into())),
        }
    }

    /// Parse every complete handshake message buffered so far.
    fn messages(&mut self) -> Result<Option<Answer>, ProbeError> {
        while self.handshake.len() >= 4 {
            let len = (usize::from(self.handshake[1]) << 16) | (usize::from(self.handshake[2]) << 8) | usize::from(self.handshake[3]);
            if self.handshake.len() < 4 + len {
                break;
            }
            let raw: Vec<u8> = self.handshake.drain(..4 + len).collect();
            match raw[0] {
                2 => {
                    let hello = parse_server_hello(&raw)?;
                    let stop = hello.retry || hello.version >= Version::Tls13 || self.until == Until::ServerHello;
                    self.hello = Some(hello);
                    if stop {
                        return Ok(Some(self.answer(false)));
                    }
                }
                11 if self.hello.is_some() => self.keys.certificate = Some(leaf_certificate(&raw)?),
                12 if self.hello.is_some() => self.keys.key_exchange = Some(raw[4..].to_vec()),
                13 if self.hello.is_some() => self.cert_request = Some(certificate_request(&raw)?),
                14 if self.hello.is_some() => return Ok(Some(self.answer(true))),
                _ if self.hello.is_some() => {}
                t => return Err(ProbeError::Protocol(format!("handshake message type {t} before any ServerHello"))),
            }
        }
        Ok(None)
    }

    fn answer(&self, complete: bool) -> Answer {
        match &self.hello {
            Some(h) => Answer::Hello { hello: h.clone(), cert_request: self.cert_request.clone(), complete, keys: self.keys.clone() },
            None => Answer::Closed,
        }
    }
}

/// The first whole record of `buf` (content type, payload), removed from it; `None` until one
/// has arrived. Bytes that are no TLS record, or a record longer than TLS allows, are an error.
pub(crate) fn take_record(buf: &mut Vec<u8>) -> Result<Option<(u8, Vec<u8>)>, ProbeError> {
    let [kind, major, minor, hi, lo, ..] = buf[..] else { return Ok(None) };
    if !(20..=24).contains(&kind) || major != 3 {
        return Err(ProbeError::Protocol(format!("not a TLS record (content type {kind}, version {major:#04x}{minor:02x})")));
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len > MAX_RECORD {
        return Err(ProbeError::Protocol(format!("a record of {len} bytes (more than {MAX_RECORD})")));
    }
    if buf.len() < 5 + len {
        return Ok(None);
    }
    Ok(Some((kind, buf.drain(..5 + len).skip(5).collect())))
}

/// A ServerHello message (with its 4-byte header).
pub(crate) fn parse_server_hello(raw: &[u8]) -> Result<ServerHello, ProbeError> {
    let bad = |why: &str| ProbeError::Protocol(format!("malformed ServerHello: {why}"));
    let (_, msg) = parse_tls_message_handshake(raw).map_err(|e| bad(&e.to_string()))?;
    let TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)) = msg else {
        return Err(bad("not a ServerHello"));
    };
    let mut extensions = Vec::new();
    let mut version = sh.version.0;
    let mut renegotiation_info = None;
    let mut rest = sh.ext.unwrap_or_default();
    while !rest.is_empty() {
        let [a, b, c, d, tail @ ..] = rest else { return Err(bad("truncated extension header")) };
        let kind = u16::from_be_bytes([*a, *b]);
        let len = usize::from(u16::from_be_bytes([*c, *d]));
        let body = tail.get(..len).ok_or_else(|| bad("truncated extension"))?;
        match kind {
            ext::SUPPORTED_VERSIONS if len == 2 => version = u16::from_be_bytes([body[0], body[1]]),
            ext::RENEGOTIATION_INFO => renegotiation_info = Some(body.to_vec()),
            _ => {}
        }
        extensions.push(kind);
        rest = &tail[len..];
    }
    Ok(ServerHello {
        version: Version::from_wire(version).ok_or_else(|| bad(&format!("unknown version {version:#06x}")))?,
        suite: sh.cipher.0,
        retry: sh.random == HRR_RANDOM,
        extensions,
        renegotiation_info,
    })
}

/// The first certificate of a TLS 1.2 Certificate message (with its header; RFC 5246 §7.4.2:
/// a 3-byte list length, then each certificate with a 3-byte length, the sender's own first).
fn leaf_certificate(raw: &[u8]) -> Result<Vec<u8>, ProbeError> {
    let bad = || ProbeError::Protocol("malformed Certificate message".into());
    let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
    let list = raw.get(4..7).ok_or_else(bad)?;
    let body = raw.get(7..7 + u24(list)).ok_or_else(bad)?;
    let len = body.get(..3).map(u24).ok_or_else(bad)?;
    body.get(3..3 + len).filter(|c| !c.is_empty()).map(<[u8]>::to_vec).ok_or_else(bad)
}

/// A TLS 1.2 CertificateRequest message (with its header).
fn certificate_request(raw: &[u8]) -> Result<CertificateRequest, ProbeError> {
    match parse_tls_message_handshake(raw) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::CertificateRequest(cr)))) => {
            Ok(CertificateRequest { authorities: cr.unparsed_ca.iter().map(|d| d.to_vec()).collect() })
        }
        _ => Err(ProbeError::Protocol("malformed CertificateRequest".into())),
    }
}

#[cfg(test)]
mod tests {
    //! Against server flights recorded from OpenSSL 3.0 `s_server` and nginx 1.22 (fixtures/tls,
    //! made with `examples/record.rs`), whole and fed one byte at a time.
    use super::*;

    macro_rules! recorded {
        ($file:literal) => {
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/tls/", $file)).as_slice()
        };
    }

    fn read(bytes: &[u8], until: Until) -> Answer {
        let mut whole = Flight::new(until);
        let at_once = whole.push(bytes).expect("parses").unwrap_or_else(|| whole.eof());
        let mut slow = Flight::new(until);
        let mut one_by_one = None;
        for b in bytes {
            if let Some(a) = slow.push(std::slice::from_ref(b)).expect("parses byte by byte") {
                one_by_one = Some(a);
                break;
            }
        }
        assert_eq!(one_by_one.unwrap_or_else(|| slow.eof()), at_once, "record and message boundaries do not matter");
        at_once
    }

    #[test]
    fn a_tls13_server_hello() {
        let a = read(recorded!("openssl-tls13-serverhello.bin"), Until::ServerHelloDone);
        let h = a.hello().expect("a ServerHello");
        assert_eq!((h.version, h.suite, h.retry), (Version::Tls13, 0x1301, false), "supported_versions wins over server_version");
        assert!(
            matches!(a, Answer::Hello { cert_request: None, complete: false, .. }),
            "TLS 1.3 stops at ServerHello: the rest is encrypted"
        );
    }

    #[test]
    fn a_hello_retry_request() {
        let a = read(recorded!("openssl-tls13-hrr.bin"), Until::ServerHelloDone);
        let h = a.hello().expect("an HRR is a ServerHello");
        assert!(h.retry && h.version == Version::Tls13, "{h:?}");
    }

    #[test]
    fn a_tls12_flight_with_a_certificate_request() {
        let a = read(recorded!("openssl-tls12-certrequest.bin"), Until::ServerHelloDone);
        let Answer::Hello { hello, cert_request: Some(cr), complete: true, keys } = &a else { panic!("{a:?}") };
        assert!(keys.certificate.as_ref().is_some_and(|c| c.len() > 100), "the server's certificate is in clear in TLS 1.2");
        assert_eq!((hello.version, hello.suite), (Version::Tls12, 0x002f));
        assert!(hello.secure_renegotiation() && hello.extended_master_secret());
        assert_eq!(cr.authorities.len(), 1);
        assert!(String::from_utf8_lossy(&cr.authorities[0]).contains("Recording CA"));
        let early = read(recorded!("openssl-tls12-certrequest.bin"), Until::ServerHello);
        assert!(matches!(early, Answer::Hello { cert_request: None, complete: false, .. }), "stops at ServerHello when asked to");
    }

    #[test]
    fn a_tls10_server_hello() {
        let a = read(recorded!("openssl-tls10-serverhello.bin"), Until::ServerHelloDone);
        let h = a.hello().expect("a ServerHello");
        assert_eq!((h.version, h.suite), (Version::Tls10, 0x002f));
    }

    #[test]
    fn alerts_and_closes_are_refusals() {
        // Only RC4 offered to OpenSSL 3.0: no shared suite.
        assert_eq!(read(recorded!("openssl-alert-handshake-failure.bin"), Until::ServerHello), Answer::Alert { level: 2, description: 40 });
        // TLS 1.0 offered to nginx with `ssl_protocols TLSv1.2 TLSv1.3`.
        assert_eq!(read(recorded!("nginx-alert-protocol-version.bin"), Until::ServerHello), Answer::Alert { level: 2, description: 70 });
        // TLS 1.0 offered to `openssl s_server` at its default security level: a refusal too,
        // though not with the alert RFC 8446 §6.2 suggests.
        assert_eq!(read(recorded!("openssl-alert-internal-error.bin"), Until::ServerHello), Answer::Alert { level: 2, description: 80 });
        assert!(Answer::Alert { level: 2, description: 80 }.refused());
        assert_eq!(crate::alert_name(70), "protocol_version");
        assert_eq!(Flight::new(Until::ServerHello).eof(), Answer::Closed);
    }

    #[test]
    fn a_certificate_request_that_names_no_authority() {
        // nginx `ssl_verify_client optional_no_ca`: asks, names no CA.
        let a = read(recorded!("nginx-tls12-certrequest-no-cas.bin"), Until::ServerHelloDone);
        let Answer::Hello { cert_request: Some(cr), complete: true, .. } = &a else { panic!("{a:?}") };
        assert!(cr.authorities.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_hang_or_a_panic() {
        for bad in
            [b"HTTP/1.1 400 Bad Request\r\n\r\n".as_slice(), &[22, 3, 3, 0xff, 0xff], &[22, 3, 3, 0, 4, 2, 0, 0, 0], &[21, 3, 3, 0, 1, 2]]
        {
            let r = Flight::new(Until::ServerHello).push(bad);
            assert!(r.is_err() || matches!(r, Ok(None)), "{bad:?} gives {r:?}");
        }
        assert!(Flight::new(Until::ServerHello).push(b"HTTP/1.1 400 Bad Request\r\n").is_err(), "plain HTTP on a TLS port");
        assert!(Flight::new(Until::ServerHello).push(&[22, 3, 3, 0, 4, 2, 0, 0, 0]).is_err(), "an empty ServerHello");
    }
}
