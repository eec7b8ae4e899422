//! The ClientHello writer (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2): any protocol version, any
//! cipher-suite list, with the extensions a probe's question needs.

use crate::Version;

/// Extension code points (IANA "TLS ExtensionType Values").
pub(crate) mod ext {
    pub(crate) const SERVER_NAME: u16 = 0;
    pub(crate) const SUPPORTED_GROUPS: u16 = 10;
    pub(crate) const EC_POINT_FORMATS: u16 = 11;
    pub(crate) const SIGNATURE_ALGORITHMS: u16 = 13;
    pub(crate) const ALPN: u16 = 16;
    pub(crate) const PADDING: u16 = 21;
    pub(crate) const EXTENDED_MASTER_SECRET: u16 = 23;
    pub(crate) const SUPPORTED_VERSIONS: u16 = 43;
    pub(crate) const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub(crate) const KEY_SHARE: u16 = 51;
    pub(crate) const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Named groups offered (RFC 8422 §5.1.1, RFC 7919 §2, RFC 8446 §4.2.7): the elliptic curves
/// and finite-field groups a server may pick for (EC)DHE.
pub const GROUPS: [u16; 8] = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101, 0x0102];

/// Signature schemes offered (RFC 8446 §4.2.3, RFC 5246 §7.4.1.4.1): every scheme a server
/// certificate in use may need, SHA-1 and SHA-224 included so that old servers can answer.
const SIGNATURE_SCHEMES: [u16; 20] = [
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302,
    0x0203, 0x0201, 0x0202,
];

/// The X25519 group (RFC 8446 §4.2.7).
const X25519: u16 = 0x001d;

/// What a ClientHello offers.
#[derive(Debug, Clone)]
pub struct ClientHello {
    /// The protocol versions offered, highest first. TLS 1.3 in the list adds
    /// `supported_versions` and a `key_share` (RFC 8446 §4.2.1, §4.2.8).
    pub versions: Vec<Version>,
    /// Cipher suites, in the client's order of preference.
    pub suites: Vec<u16>,
    /// SNI host name (RFC 6066 §3); never an IP address.
    pub server_name: Option<String>,
    /// Offer the secure renegotiation indication (RFC 5746 §3.4: an empty `renegotiation_info`).
    pub renegotiation_info: bool,
    /// Offer the extended master secret (RFC 7627 §5.1).
    pub extended_master_secret: bool,
    /// Named groups offered (`supported_groups`).
    pub groups: Vec<u16>,
    /// The `renegotiated_connection` of `renegotiation_info`: empty in an initial handshake,
    /// the client's last Finished verify_data in a renegotiation (RFC 5746 §3.5).
    pub renegotiated_connection: Vec<u8>,
    /// The X25519 key share sent when TLS 1.3 is offered; `false` sends an empty
    /// `client_shares`, which asks the server to pick a group in a HelloRetryRequest (RFC 8446
    /// §4.2.8, §4.1.4).
    pub key_share: bool,
}

impl ClientHello {
    /// A hello offering `versions` and `suites`, with SNI when `host` is a name, the RFC 5746 and
    /// RFC 7627 extensions, and an X25519 key share when TLS 1.3 is offered.
    pub fn new(versions: &[Version], suites: Vec<u16>, host: &str) -> ClientHello {
        ClientHello {
            versions: versions.to_vec(),
            suites,
            server_name: sni(host),
            renegotiation_info: true,
            extended_master_secret: true,
            groups: GROUPS.to_vec(),
            renegotiated_connection: Vec::new(),
            key_share: true,
        }
    }

    /// The highest version offered (TLS 1.2 if none).
    pub fn max_version(&self) -> Version {
        self.versions.iter().copied().max().unwrap_or(Version::Tls12)
    }

    /// The record bytes of this hello: one handshake record, `random` as ClientHello.random and,
    /// when TLS 1.3 is offered, `random` again as the legacy session id (RFC 8446 §4.1.2 allows
    /// any 32 bytes there) and a key share of `random` (any 32 bytes are an X25519 public key).
    pub fn encode(&self, random: [u8; 32]) -> Vec<u8> {
        record(22, Version::Tls10, &self.handshake(random))
    }

    /// The ClientHello handshake message itself (type, length, body), as a transcript holds it.
    pub fn handshake(&self, random: [u8; 32]) -> Vec<u8> {
        let offers13 = self.versions.contains(&Version::Tls13);
        let legacy = self.max_version().min(Version::Tls12);
        let mut body = Vec::with_capacity(1024);
        body.extend_from_slice(&legacy.wire().to_be_bytes());
        body.extend_from_slice(&random);
        if offers13 {
            body.push(32);
            body.extend_from_slice(&random);
        } else {
            body.push(0);
        }
        let mut suites = Vec::with_capacity(self.suites.len() * 2);
        for s in &self.suites {
            suites.extend_from_slice(&s.to_be_bytes());
        }
        put_u16_vec(&mut body, &suites);
        body.extend_from_slice(&[1, 0]); // compression_methods: null only
        let exts = self.extensions(offers13, &random, body.len());
        put_u16_vec(&mut body, &exts);
        let mut handshake = Vec::with_capacity(body.len() + 4);
        handshake.push(1); // client_hello
        handshake.extend_from_slice(&u24(body.len()));
        handshake.extend_from_slice(&body);
        // Record version (in `encode`): TLS 1.0 for every hello, as deployed clients do (RFC 8446
        // §5.1 allows 0x0301 for an initial ClientHello); servers that reject other values exist.
        handshake
    }

    fn extensions(&self, offers13: bool, random: &[u8; 32], body_so_far: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        if let Some(name) = &self.server_name {
            let mut list = vec![0u8]; // host_name
            put_u16_vec(&mut list, name.as_bytes());
            let mut sn = Vec::new();
            put_u16_vec(&mut sn, &list);
            put_ext(&mut out, ext::SERVER_NAME, &sn);
        }
        put_ext(&mut out, ext::SUPPORTED_GROUPS, &u16_list(&self.groups));
        put_ext(&mut out, ext::EC_POINT_FORMATS, &[1, 0]);
        if self.max_version() >= Version::Tls12 {
            put_ext(&mut out, ext::SIGNATURE_ALGORITHMS, &u16_list(&SIGNATURE_SCHEMES));
        }
        let mut alpn = Vec::new();
        let mut proto = vec![8u8];
        proto.extend_from_slice(b"http/1.1");
        put_u16_vec(&mut alpn, &proto);
        put_ext(&mut out, ext::ALPN, &alpn);
        if self.extended_master_secret {
            put_ext(&mut out, ext::EXTENDED_MASTER_SECRET, &[]);
        }
        if self.renegotiation_info {
            let mut ri = vec![self.renegotiated_connection.len() as u8];
            ri.extend_from_slice(&self.renegotiated_connection);
            put_ext(&mut out, ext::RENEGOTIATION_INFO, &ri);
        }
        if offers13 {
            let mut versions: Vec<u16> = self.versions.iter().map(|v| v.wire()).collect();
            versions.sort_unstable_by(|a, b| b.cmp(a));
            let mut sv = Vec::new();
            let list: Vec<u8> = versions.iter().flat_map(|v| v.to_be_bytes()).collect();
            sv.push(list.len() as u8);
            sv.extend_from_slice(&list);
            put_ext(&mut out, ext::SUPPORTED_VERSIONS, &sv);
            put_ext(&mut out, ext::PSK_KEY_EXCHANGE_MODES, &[1, 1]); // psk_dhe_ke
            let mut entry = Vec::new();
            if self.key_share {
                entry.extend_from_slice(&X25519.to_be_bytes());
                put_u16_vec(&mut entry, random);
            }
            let mut ks = Vec::new();
            put_u16_vec(&mut ks, &entry);
            put_ext(&mut out, ext::KEY_SHARE, &ks);
        }
        // RFC 7685 §4: pad a hello whose handshake message would be 256–511 bytes to 512, a size
        // some TLS terminators are known to mishandle.
        let len = 4 + body_so_far + 2 + out.len();
        if (256..512).contains(&len) {
            let pad = (512 - len).saturating_sub(4);
            put_ext(&mut out, ext::PADDING, &vec![0u8; pad]);
        }
        out
    }
}

/// SNI is a DNS name only (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
fn sni(host: &str) -> Option<String> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    (h.parse::<std::net::IpAddr>().is_err() && !h.is_empty()).then(|| h.trim_end_matches('.').to_ascii_lowercase())
}

/// One TLS record (RFC 5246 §6.2.1).
pub(crate) fn record(content_type: u8, version: Version, payload: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(payload.len() + 5);
    r.push(content_type);
    r.extend_from_slice(&version.wire().to_be_bytes());
    r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    r.extend_from_slice(payload);
    r
}

pub(crate) fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

fn put_u16_vec(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn u16_list(items: &[u16]) -> Vec<u8> {
    let mut v = Vec::with_capacity(items.len() * 2 + 2);
    let raw: Vec<u8> = items.iter().flat_map(|i| i.to_be_bytes()).collect();
    put_u16_vec(&mut v, &raw);
    v
}

fn put_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    put_u16_vec(out, data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_parser::{parse_tls_plaintext, TlsMessage, TlsMessageHandshake};

    fn parsed(bytes: &[u8]) -> (u16, Vec<u16>, Vec<u16>) {
        let (rest, rec) = parse_tls_plaintext(bytes).expect("one record");
        assert!(rest.is_empty());
        let Some(TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch))) = rec.msg.first() else { panic!("a ClientHello") };
        let exts = tls_parser::parse_tls_client_hello_extensions(ch.ext.unwrap_or_default()).expect("extensions parse").1;
        let kinds = exts.iter().map(|e| u16::from(tls_parser::TlsExtensionType::from(e))).collect();
        (ch.version.0, ch.ciphers.iter().map(|c| c.0).collect(), kinds)
    }

    #[test]
    fn a_tls13_hello_carries_supported_versions_and_a_key_share_and_is_padded() {
        let suites = vec![0x1301, 0xc02f, 0xc02b, 0xc030, 0xc02c, 0x009e, 0x009f, 0x002f, 0x0035, 0x003c];
        let h = ClientHello::new(&[Version::Tls13, Version::Tls12], suites.clone(), "as.example");
        let bytes = h.encode([7; 32]);
        assert_eq!(&bytes[..3], &[22, 3, 1], "a handshake record at TLS 1.0 record version");
        let (legacy, offered, kinds) = parsed(&bytes);
        assert_eq!(legacy, 0x0303, "legacy_version is TLS 1.2 (RFC 8446 §4.1.2)");
        assert_eq!(offered, suites);
        for k in [ext::SERVER_NAME, ext::SUPPORTED_VERSIONS, ext::KEY_SHARE, ext::RENEGOTIATION_INFO, ext::EXTENDED_MASTER_SECRET] {
            assert!(kinds.contains(&k), "extension {k:#06x} in {kinds:x?}");
        }
        assert!(bytes.len() - 5 >= 512, "a 256–511-byte hello is padded to 512 (RFC 7685): {}", bytes.len() - 5);
        let short = ClientHello::new(&[Version::Tls12], vec![0xc02f], "a.example").encode([0; 32]);
        assert!(short.len() - 5 < 256, "a short hello stays short: {}", short.len() - 5);
    }

    #[test]
    fn a_tls10_hello_has_no_tls12_extensions_and_no_sni_for_an_ip() {
        let h = ClientHello::new(&[Version::Tls10], vec![0x002f], "127.0.0.1");
        let (legacy, _, kinds) = parsed(&h.encode([1; 32]));
        assert_eq!(legacy, 0x0301);
        assert!(!kinds.contains(&ext::SIGNATURE_ALGORITHMS), "signature_algorithms is TLS 1.2+ (RFC 5246 §7.4.1.4.1)");
        assert!(!kinds.contains(&ext::SERVER_NAME), "no SNI for an IP literal (RFC 6066 §3)");
        assert!(!kinds.contains(&ext::SUPPORTED_VERSIONS));
    }

    #[test]
    fn sni_is_a_lowercase_dns_name() {
        assert_eq!(sni("AS.Example.").as_deref(), Some("as.example"));
        assert_eq!(sni("[::1]"), None);
        assert_eq!(sni(""), None);
    }
}
