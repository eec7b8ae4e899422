//! Does a server accept a client-initiated renegotiation? One full TLS 1.2 handshake (ECDHE,
//! AES-GCM, RFC 5246 §7.3 and RFC 5288), then a second ClientHello inside the encrypted
//! connection carrying the RFC 5746 §3.5 `renegotiation_info`, and the server's answer: a
//! ServerHello (accepted), or an alert, a close or silence (refused).
//!
//! This is a probe, not a TLS client: it authenticates nothing (the server's signature is not
//! checked) and sends nothing of value — a Finished, a ClientHello, and, if asked, the client
//! certificate it is given (with its CertificateVerify: servers that require one abort
//! without it) or an empty Certificate. Only what a renegotiation answer needs is implemented.

use ring::aead::{self, LessSafeKey, UnboundKey};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::digest;
use ring::rand::SystemRandom;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::hello::{record, u24};
use crate::tls12_record::{prf, Session};
use crate::{alert_name, ClientHello, ProbeError, Timeouts, Version};

/// The suites offered: ECDHE with AES-GCM (RFC 5289), the ones Open Finance servers accept.
const SUITES: [u16; 4] = [0xc02f, 0xc02b, 0xc030, 0xc02c];
/// Groups ring can agree on: X25519, P-256, P-384.
const GROUPS: [u16; 3] = [0x001d, 0x0017, 0x0018];

/// A client certificate to present when the server asks for one: the chain (leaf first, DER)
/// and its key, which signs the CertificateVerify (RFC 5246 §7.4.8).
#[derive(Clone)]
pub struct ClientAuth {
    /// Leaf first, DER.
    pub chain: Vec<Vec<u8>>,
    /// The leaf's key.
    pub key: std::sync::Arc<dyn rustls::sign::SigningKey>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth").field("chain", &self.chain.len()).finish_non_exhaustive()
    }
}

/// How the server answered the renegotiation ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renegotiation {
    /// It answered with a ServerHello: renegotiation goes ahead.
    Accepted,
    /// It refused: the alert, close or silence that said so.
    Refused(String),
}

impl Renegotiation {
    /// Whether it refused.
    pub fn refused(&self) -> bool {
        matches!(self, Renegotiation::Refused(_))
    }

    /// One line for a report.
    pub fn describe(&self) -> String {
        match self {
            Renegotiation::Accepted => "answered the renegotiation ClientHello with a ServerHello".into(),
            Renegotiation::Refused(how) => format!("refused: {how}"),
        }
    }
}

/// Complete a TLS 1.2 handshake with `host:port` (presenting `client` if asked), then try to
/// renegotiate.
pub async fn renegotiate(host: &str, port: u16, t: Timeouts, client: Option<&ClientAuth>) -> Result<Renegotiation, ProbeError> {
    let (tcp, addr) = crate::probe::connect(host, port, t).await?;
    let mut c = Conn { tcp, addr: addr.clone(), buf: Vec::new(), hs: Vec::new() };
    let session = match tokio::time::timeout(t.read, handshake(&mut c, host, client)).await {
        Ok(r) => r?,
        Err(_) => return Err(ProbeError::Timeout(format!("the TLS 1.2 handshake with {addr} took longer than {:?}", t.read))),
    };
    let mut s = session;
    let mut hello = ClientHello::new(&[Version::Tls12], SUITES.to_vec(), host);
    hello.groups = GROUPS.to_vec();
    hello.renegotiated_connection = s.client_verify.clone();
    let msg = hello.handshake(random()?);
    let rec = s.seal(22, &msg)?;
    c.tcp.write_all(&rec).await.map_err(|source| ProbeError::Io { addr: addr.clone(), source })?;
    // A server that ignores the request sends nothing: wait at most the read bound, then call it
    // a refusal — renegotiation did not happen.
    match tokio::time::timeout(t.read, answer(&mut c, &mut s)).await {
        Ok(r) => r,
        Err(_) => Ok(Renegotiation::Refused(format!("no answer within {:?}", t.read))),
    }
}

fn random() -> Result<[u8; 32], ProbeError> {
    let mut r = [0u8; 32];
    getrandom::fill(&mut r).map_err(|e| ProbeError::Protocol(format!("no randomness: {e}")))?;
    Ok(r)
}

struct Conn {
    tcp: TcpStream,
    addr: String,
    buf: Vec<u8>,
    /// Handshake bytes received and not yet split into messages.
    hs: Vec<u8>,
}

impl Conn {
    /// The next record, `None` at end of stream.
    async fn record(&mut self) -> Result<Option<(u8, Vec<u8>)>, ProbeError> {
        loop {
            if let Some(r) = crate::flight::take_record(&mut self.buf)? {
                return Ok(Some(r));
            }
            let mut chunk = [0u8; 8192];
            let n = crate::probe::read_some(&mut self.tcp, &mut chunk, &self.addr).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next plaintext handshake message (type, whole message with header) of the first
    /// handshake.
    async fn message(&mut self) -> Result<(u8, Vec<u8>), ProbeError> {
        loop {
            if self.hs.len() >= 4 {
                let len = (usize::from(self.hs[1]) << 16) | (usize::from(self.hs[2]) << 8) | usize::from(self.hs[3]);
                if self.hs.len() >= 4 + len {
                    let m: Vec<u8> = self.hs.drain(..4 + len).collect();
                    return Ok((m[0], m));
                }
            }
            match self.record().await? {
                Some((22, p)) => self.hs.extend_from_slice(&p),
                Some((21, p)) => return Err(alert_error("during the TLS 1.2 handshake", &p)),
                Some((k, _)) => return Err(ProbeError::Protocol(format!("unexpected record type {k} in the handshake"))),
                None => return Err(ProbeError::Protocol("the server closed the connection during the TLS 1.2 handshake".into())),
            }
        }
    }
}

fn alert_error(when: &str, p: &[u8]) -> ProbeError {
    ProbeError::Protocol(format!("alert {} {when}", p.get(1).map_or_else(|| "?".into(), |d| alert_name(*d))))
}

/// The first handshake, up to the server's Finished.
async fn handshake(c: &mut Conn, host: &str, client: Option<&ClientAuth>) -> Result<Session, ProbeError> {
    let client_random = random()?;
    let mut hello = ClientHello::new(&[Version::Tls12], SUITES.to_vec(), host);
    hello.groups = GROUPS.to_vec();
    let ch = hello.handshake(client_random);
    let mut transcript = ch.clone();
    c.tcp.write_all(&record(22, Version::Tls10, &ch)).await.map_err(|source| ProbeError::Io { addr: c.addr.clone(), source })?;
    let (mut server_random, mut suite, mut ems, mut point, mut group) = ([0u8; 32], 0u16, false, Vec::new(), 0u16);
    // The CertificateRequest's signature schemes, if one came.
    let mut asked: Option<Vec<u16>> = None;
    loop {
        let (kind, m) = c.message().await?;
        transcript.extend_from_slice(&m);
        let body = &m[4..];
        match kind {
            2 => {
                let sh = crate::flight::parse_server_hello(&m)?;
                if sh.version != Version::Tls12 {
                    return Err(ProbeError::Protocol(format!("the server answered {} to a TLS 1.2 ClientHello", sh.version)));
                }
                server_random.copy_from_slice(body.get(2..34).ok_or_else(|| ProbeError::Protocol("short ServerHello".into()))?);
                suite = sh.suite;
                ems = sh.extended_master_secret();
            }
            12 => {
                // ECParameters: curve_type 3 (named_curve), the group, then the point.
                let [3, g1, g2, n, rest @ ..] = body else {
                    return Err(ProbeError::Protocol("ServerKeyExchange is not named-curve ECDHE".into()));
                };
                group = u16::from_be_bytes([*g1, *g2]);
                point = rest.get(..usize::from(*n)).ok_or_else(|| ProbeError::Protocol("short ServerKeyExchange".into()))?.to_vec();
            }
            13 => {
                asked = Some(match tls_parser::parse_tls_message_handshake(&m) {
                    Ok((_, tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::CertificateRequest(cr)))) => {
                        cr.sig_hash_algs.unwrap_or_default()
                    }
                    _ => return Err(ProbeError::Protocol("malformed CertificateRequest".into())),
                })
            }
            14 => break,
            _ => {}
        }
    }
    let alg = match group {
        0x001d => &agreement::X25519,
        0x0017 => &agreement::ECDH_P256,
        0x0018 => &agreement::ECDH_P384,
        g => return Err(ProbeError::Protocol(format!("the server chose group {g:#06x}, which this probe cannot agree on"))),
    };
    let rng = SystemRandom::new();
    let private = EphemeralPrivateKey::generate(alg, &rng).map_err(|_| ProbeError::Protocol("key generation failed".into()))?;
    let public = private.compute_public_key().map_err(|_| ProbeError::Protocol("key generation failed".into()))?;
    let pms = agreement::agree_ephemeral(private, &UnparsedPublicKey::new(alg, &point), |k| k.to_vec())
        .map_err(|_| ProbeError::Protocol("the server's ECDHE public key is invalid".into()))?;
    let mut flight = Vec::new();
    // The key to sign the CertificateVerify with, when a certificate is presented.
    let mut signer = None;
    if let Some(schemes) = &asked {
        let offered: Vec<rustls::SignatureScheme> = schemes.iter().map(|s| rustls::SignatureScheme::from(*s)).collect();
        signer = client.and_then(|c| c.key.choose_scheme(&offered).map(|s| (c, s)));
        // The chain, or an empty Certificate (RFC 5246 §7.4.6) when there is none to present.
        let mut list = Vec::new();
        for der in signer.as_ref().map(|(c, _)| c.chain.as_slice()).unwrap_or_default() {
            list.extend_from_slice(&u24(der.len()));
            list.extend_from_slice(der);
        }
        let mut cert = vec![11];
        cert.extend_from_slice(&u24(list.len() + 3));
        cert.extend_from_slice(&u24(list.len()));
        cert.extend_from_slice(&list);
        transcript.extend_from_slice(&cert);
        flight.extend_from_slice(&record(22, Version::Tls12, &cert));
    }
    let mut cke = vec![16];
    cke.extend_from_slice(&u24(public.as_ref().len() + 1));
    cke.push(public.as_ref().len() as u8);
    cke.extend_from_slice(public.as_ref());
    transcript.extend_from_slice(&cke);
    flight.extend_from_slice(&record(22, Version::Tls12, &cke));
    let (hash, key_alg, key_len) = match suite {
        0xc02f | 0xc02b => (&digest::SHA256, &aead::AES_128_GCM, 16),
        0xc030 | 0xc02c => (&digest::SHA384, &aead::AES_256_GCM, 32),
        s => return Err(ProbeError::Protocol(format!("the server chose {s:#06x}, not offered"))),
    };
    let master = if ems {
        prf(hash, &pms, "extended master secret", digest::digest(hash, &transcript).as_ref(), 48)
    } else {
        prf(hash, &pms, "master secret", &[client_random, server_random].concat(), 48)
    };
    if let Some((_, sign)) = signer {
        // CertificateVerify over every handshake message so far (RFC 5246 §7.4.8), after the
        // EMS session hash was taken (RFC 7627 §3: up to ClientKeyExchange).
        let scheme = u16::from(sign.scheme());
        let signature = sign.sign(&transcript).map_err(|e| ProbeError::Protocol(format!("cannot sign the CertificateVerify: {e}")))?;
        let mut cv = vec![15];
        cv.extend_from_slice(&u24(signature.len() + 4));
        cv.extend_from_slice(&scheme.to_be_bytes());
        cv.extend_from_slice(&(signature.len() as u16).to_be_bytes());
        cv.extend_from_slice(&signature);
        transcript.extend_from_slice(&cv);
        flight.extend_from_slice(&record(22, Version::Tls12, &cv));
    }
    flight.extend_from_slice(&record(20, Version::Tls12, &[1]));
    let block = prf(hash, &master, "key expansion", &[server_random, client_random].concat(), 2 * key_len + 8);
    let key = |k: &[u8]| UnboundKey::new(key_alg, k).map(LessSafeKey::new).map_err(|_| ProbeError::Protocol("bad key".into()));
    let mut s = Session {
        client: key(&block[..key_len])?,
        server: key(&block[key_len..2 * key_len])?,
        client_iv: block[2 * key_len..2 * key_len + 4].try_into().unwrap_or_default(),
        server_iv: block[2 * key_len + 4..2 * key_len + 8].try_into().unwrap_or_default(),
        client_seq: 0,
        server_seq: 0,
        client_verify: prf(hash, &master, "client finished", digest::digest(hash, &transcript).as_ref(), 12),
    };
    let mut fin = vec![20, 0, 0, 12];
    fin.extend_from_slice(&s.client_verify);
    flight.extend_from_slice(&s.seal(22, &fin)?);
    c.tcp.write_all(&flight).await.map_err(|source| ProbeError::Io { addr: c.addr.clone(), source })?;
    // The server's ChangeCipherSpec and Finished (a NewSessionTicket may come first).
    let mut changed = false;
    loop {
        match c.record().await? {
            Some((20, _)) => changed = true,
            Some((22, p)) if changed => {
                let m = s.open(22, &p)?;
                if m.first() == Some(&20) {
                    return Ok(s);
                }
            }
            Some((22, _)) => {}
            Some((21, p)) if changed => return Err(alert_error("after the client Finished", &s.open(21, &p)?)),
            Some((21, p)) => return Err(alert_error("after the client Finished", &p)),
            Some((k, _)) => return Err(ProbeError::Protocol(format!("unexpected record type {k} before the server Finished"))),
            None => return Err(ProbeError::Protocol("the server closed the connection before its Finished".into())),
        }
    }
}

/// The server's answer to the renegotiation ClientHello.
async fn answer(c: &mut Conn, s: &mut Session) -> Result<Renegotiation, ProbeError> {
    loop {
        match c.record().await? {
            None => return Ok(Renegotiation::Refused("closed the connection".into())),
            Some((21, p)) => {
                let a = s.open(21, &p)?;
                let name = a.get(1).map_or_else(|| "?".into(), |d| alert_name(*d));
                let level = if a.first() == Some(&1) { "warning" } else { "fatal" };
                return Ok(Renegotiation::Refused(format!("alert {name} ({level})")));
            }
            Some((22, p)) => {
                let m = s.open(22, &p)?;
                match m.first() {
                    Some(2) => return Ok(Renegotiation::Accepted),
                    // A HelloRequest or a NewSessionTicket: keep reading.
                    _ => continue,
                }
            }
            Some((23, p)) => {
                // Application data (e.g. an HTTP 400 to bytes it took for a request): skip.
                s.open(23, &p)?;
            }
            Some((k, _)) => return Err(ProbeError::Protocol(format!("unexpected record type {k} after the renegotiation ClientHello"))),
        }
    }
}
