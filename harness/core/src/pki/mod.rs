//! Test PKI (rcgen): a CA, the mock AS's server certificate, and one client identity per role
//! the checks need. Also the two facts every check compares against: the `x5t#S256` thumbprint
//! (RFC 8705 §3.1) and the RFC 4514 subject string (RFC 8705 §2.1.2).

mod assertion;
mod der;
mod ecosystem;
mod ecosystem_profile;
#[cfg(test)]
mod ecosystem_tests;
mod files;
mod identity;
mod mint;
mod public_jwk;
mod test_pki;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

pub use assertion::{rsa_test_assertion_key, AssertionKey, JwsAlg, KeyError};
pub use ecosystem::{CA_KEY_BITS, LEAF_KEY_BITS};
pub use files::{write_file, write_new_file};
pub use identity::Identity;
pub use mint::{mint_rogue, mint_self_signed_like, same_issuer, ClientCa, ProxyCa};
pub use public_jwk::public_jwk;
pub use test_pki::TestPki;

/// Why a certificate or key could not be made, read or used. Each variant names the file and
/// keeps the error underneath.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen could not generate or sign a certificate.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A PEM file holds no usable block of the kind needed.
    #[error("{}: {what}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was looked for.
        what: &'static str,
        /// The PEM parser's error.
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate file holds no CERTIFICATE block.
    #[error("{}: no CERTIFICATE block in the file", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key does not belong to the certificate.
    #[error("{}: this key does not belong to the certificate in {}", key.display(), cert.display())]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
        /// rustls's finding.
        source: rustls::Error,
    },
    /// A key or CA certificate rcgen cannot use.
    #[error("{}: {what}", path.display())]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
        /// rcgen's finding.
        source: rcgen::Error,
    },
    /// The private key is encrypted: the harness needs it in the clear.
    #[error("{}: the private key is encrypted; decrypt it first, e.g. `openssl pkcs8 -in {} -out plain.key` (keep the result mode 0600)", path.display(), path.display())]
    Encrypted {
        /// The key file.
        path: PathBuf,
    },
    /// The certificate file does not start with the certificate the key belongs to.
    #[error("{}: the certificate of the key in {} is number {position} in the file; put the client's own (leaf) certificate first, then its intermediates", cert.display(), key.display())]
    LeafNotFirst {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// 1-based position of the matching certificate.
        position: usize,
    },
    /// A key file is not UTF-8 text.
    #[error("{}: not UTF-8 PEM", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// DER that is not a valid X.509 certificate.
    #[error("certificate is not valid X.509: {0}")]
    Parse(String),
    /// A client-assertion key could not be generated or loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An RSA key could not be generated.
    #[error("RSA key generation failed")]
    Rsa(#[from] rsa::Error),
    /// A generated RSA key could not be encoded as PKCS#8.
    #[error("RSA key encoding (PKCS#8) failed")]
    Pkcs8(#[from] rsa::pkcs8::Error),
    /// The process-wide PKI failed to generate earlier in this process.
    #[error("the shared test PKI could not be generated: {0}")]
    Shared(String),
}

impl PkiError {
    /// The file at fault, when one is: the key for a key that does not belong to its
    /// certificate, the certificate file for a leaf that is not first.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            PkiError::Io { path, .. }
            | PkiError::Pem { path, .. }
            | PkiError::NoCertificate { path }
            | PkiError::Unusable { path, .. }
            | PkiError::Encrypted { path }
            | PkiError::NotUtf8 { path } => Some(path),
            PkiError::KeyMismatch { key, .. } => Some(key),
            PkiError::LeafNotFirst { cert, .. } => Some(cert),
            PkiError::Key(KeyError::Io { path, .. } | KeyError::Unusable { path, .. }) => Some(path),
            _ => None,
        }
    }
}

/// The registered client's subject, as an RFC 4514 string (most specific RDN first).
pub const REGISTERED_DN: &str = "CN=tpp-client-001,OU=Payments,O=Example Fintech Ltd,C=AE";
/// The subject of the `other-subject` certificate: same CA, a client that is not registered.
pub const OTHER_DN: &str = "CN=tpp-client-002,OU=Payments,O=Other Fintech Ltd,C=AE";
/// The subject of both self-signed certificates (`self-signed` and `self-signed-other`).
pub const SELF_SIGNED_DN: &str = "CN=self-signed-client-001,O=Example Fintech Ltd,C=AE";
pub(crate) const REGISTERED_SAN_DNS: &str = "tpp-client-001.example.com";
pub(crate) const REGISTERED_SAN_URI: &str = "https://tpp.example.com/clients/001";
pub(crate) const REGISTERED_SAN_EMAIL: &str = "mtls-client-001@example.com";
pub(crate) const REGISTERED_SAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));

/// Which certificate an identity holds, from the point of view of the checks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Role {
    /// Issued by the trusted CA to the registered subject (tls_client_auth, RFC 8705 §2.1).
    Registered,
    /// Issued by the trusted CA to another subject.
    OtherSubject,
    /// Same subject DN as `Registered`, issued by a CA the AS does not trust.
    RogueCa,
    /// Registered subject, trusted CA, validity period over.
    Expired,
    /// Self-signed certificate registered for self_signed_tls_client_auth (RFC 8705 §2.2).
    SelfSigned,
    /// Another self-signed certificate, registered nowhere.
    SelfSignedOther,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: &'static [Role] = <Role as strum::VariantArray>::VARIANTS;

    /// The name files and evidence use (`other-subject`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// How the test PKI's certificates look.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum), value(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum PkiStyle {
    /// ECDSA P-256 throughout, one CA that is also the trust anchor, short subjects: fast, and
    /// small on the wire.
    #[default]
    Compact,
    /// Open Finance transport certificates: RSA-2048 leaves under RSA-4096 CAs (root →
    /// intermediate → issuing; the root alone is the trust anchor, the chain is sent), long
    /// subjects, certificate policies, CRL distribution points, AIA and ETSI PSD2
    /// qcStatements: 1.8–2.2 KB DER per leaf.
    Ecosystem,
}

impl PkiStyle {
    /// Every style, in declaration order.
    pub const ALL: &'static [PkiStyle] = <PkiStyle as strum::VariantArray>::VARIANTS;

    /// The name the command line and file names use (`ecosystem`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// `x5t#S256`: base64url without padding of SHA-256 over the certificate DER (RFC 8705 §3.1).
pub fn x5t_s256(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// PEM armour around DER: base64 in 64-character lines between `BEGIN`/`END {label}`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The subject DN of a DER certificate as an RFC 4514 string.
pub fn subject_rfc4514(der: &[u8]) -> Result<String, PkiError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Parse(e.to_string()))?;
    Ok(crate::dn::to_rfc4514(cert.subject()))
}

/// Parse the first certificate of a PEM text into DER.
pub fn cert_from_pem(pem: &[u8]) -> Result<CertificateDer<'static>, PkiError> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem).map_err(|e| PkiError::Parse(format!("no PEM certificate: {e}")))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::mint::copy_name_and_sans;
    use super::*;

    #[test]
    fn thumbprint_matches_openssl_for_fixed_der() {
        // fixtures/pki/fixed-client.pem and its thumbprint were made with openssl, independently:
        //   openssl x509 -in fixed-client.pem -outform der | openssl dgst -sha256 -binary \
        //     | basenc --base64url | tr -d '='
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pki");
        let pem = std::fs::read(dir.join("fixed-client.pem")).expect("fixture present");
        let expected = std::fs::read_to_string(dir.join("fixed-client.x5t-s256")).expect("fixture present");
        let der = cert_from_pem(&pem).expect("fixture parses");
        assert_eq!(x5t_s256(&der), expected.trim());
        assert!(!x5t_s256(&der).contains('='), "no padding");
    }

    #[test]
    fn fixed_der_subject_reads_back_in_rfc4514_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pki");
        let der = cert_from_pem(&std::fs::read(dir.join("fixed-client.pem")).unwrap()).unwrap();
        let expected = std::fs::read_to_string(dir.join("fixed-client.subject")).unwrap();
        assert_eq!(subject_rfc4514(&der).unwrap(), expected.trim());
    }

    #[test]
    fn generated_pki_has_every_role_with_distinct_thumbprints() {
        let pki = TestPki::generate().unwrap();
        let mut seen = std::collections::HashSet::new();
        for &role in Role::ALL {
            let id = pki.identity(role);
            assert_eq!(id.x5t_s256.len(), 43, "{role:?}: 32 bytes base64url unpadded");
            assert!(seen.insert(id.x5t_s256.clone()));
        }
        assert_eq!(pki.identity(Role::Registered).subject, REGISTERED_DN);
        assert_eq!(pki.identity(Role::RogueCa).subject, REGISTERED_DN, "rogue cert copies the DN");
        assert_eq!(pki.identity(Role::OtherSubject).subject, OTHER_DN);
        assert_eq!(pki.identity(Role::SelfSigned).subject, SELF_SIGNED_DN);
    }

    #[test]
    fn registered_cert_carries_every_san_kind() {
        let pki = TestPki::generate().unwrap();
        let der = &pki.identity(Role::Registered).cert_der;
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap().value;
        let text = format!("{:?}", san.general_names);
        for needle in [REGISTERED_SAN_DNS, REGISTERED_SAN_URI, REGISTERED_SAN_EMAIL] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        assert!(text.contains("[192, 0, 2, 10]"), "IP SAN in {text}");
    }

    #[test]
    fn minted_impostors_copy_the_subject_and_sans() {
        let pki = TestPki::generate().unwrap();
        let reg = pki.identity(Role::Registered);
        let rogue = mint_rogue(reg).unwrap();
        assert_eq!(rogue.subject, reg.subject);
        assert_ne!(rogue.x5t_s256, reg.x5t_s256);
        let (_, a) = copy_name_and_sans(&reg.cert_der).unwrap();
        let (_, b) = copy_name_and_sans(&rogue.cert_der).unwrap();
        assert_eq!(a, b, "same SANs");
        let ss = mint_self_signed_like(pki.identity(Role::SelfSigned), Role::SelfSignedOther).unwrap();
        assert_eq!(ss.subject, SELF_SIGNED_DN);
    }

    /// Impostors present as many certificates after the leaf as the registered client does (a
    /// server choosing tls_client_auth or self-signed by chain length meets them on the same path):
    /// a leaf alone stays alone; a leaf sent with its root or two intermediates gets a rogue
    /// hierarchy as deep, and the client CA's minted certificates carry the root (compact) or the
    /// CA's own chain.
    #[test]
    fn impostors_present_chains_shaped_like_the_registered_one() {
        let pki = TestPki::generate().unwrap();
        let reg = pki.identity(Role::Registered).clone();
        assert!(mint_rogue(&reg).unwrap().intermediates.is_empty(), "a leaf alone, like the registered one");
        let with_root = reg.clone().with_intermediates(vec![pki.ca_cert_der.clone()]);
        let rogue = mint_rogue(&with_root).unwrap();
        assert_eq!(rogue.intermediates.len(), 1);
        assert_ne!(rogue.intermediates[0], pki.ca_cert_der, "a rogue CA, not the trusted one");
        let deep = reg.clone().with_intermediates(vec![pki.ca_cert_der.clone(), pki.ca_cert_der.clone()]);
        let rogue = mint_rogue(&deep).unwrap();
        assert_eq!(rogue.intermediates.len(), 2);
        let (_, leaf) = x509_parser::parse_x509_certificate(&rogue.cert_der).unwrap();
        let (_, first) = x509_parser::parse_x509_certificate(&rogue.intermediates[0]).unwrap();
        let (_, root) = x509_parser::parse_x509_certificate(&rogue.intermediates[1]).unwrap();
        assert_eq!(leaf.issuer(), first.subject(), "nearest CA first");
        assert_eq!(first.issuer(), root.subject());
        assert_eq!(root.issuer(), root.subject(), "the rogue root last");
        let dir = tempfile::tempdir().unwrap();
        pki.write_to(dir.path()).unwrap();
        let ca = ClientCa::load(&dir.path().join("ca.pem"), &dir.path().join("ca.key")).unwrap();
        assert!(ca.mint_other_subject(Some(&reg)).unwrap().intermediates.is_empty());
        assert!(ca.mint_expired(&reg).unwrap().intermediates.is_empty());
        assert_eq!(ca.mint_other_subject(Some(&with_root)).unwrap().intermediates, vec![pki.ca_cert_der.clone()]);
        assert_eq!(ca.mint_expired(&with_root).unwrap().intermediates, vec![pki.ca_cert_der.clone()]);
        assert!(ca.mint_other_subject(None).unwrap().intermediates.is_empty());
    }

    #[test]
    fn loads_identities_from_files_and_refuses_a_key_of_another_cert() {
        let pki = TestPki::generate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        pki.write_to(dir.path()).unwrap();
        let id = Identity::load(Role::Registered, &dir.path().join("registered.pem"), &dir.path().join("registered.key")).unwrap();
        assert_eq!(id.x5t_s256, pki.identity(Role::Registered).x5t_s256);
        let err = Identity::load(Role::Registered, &dir.path().join("registered.pem"), &dir.path().join("other-subject.key"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("other-subject.key") && err.contains("does not belong"), "{err}");
        let err = Identity::load(Role::Registered, &dir.path().join("missing.pem"), &dir.path().join("registered.key")).unwrap_err();
        assert!(err.to_string().contains("missing.pem"), "{err}");
        // With the CA key, expired and other-subject certificates can be minted for a live CA.
        let ca = ClientCa::load(&dir.path().join("ca.pem"), &dir.path().join("ca.key")).unwrap();
        let expired = ca.mint_expired(&id).unwrap();
        assert_eq!(expired.subject, id.subject);
        assert!(ca.mint_other_subject(Some(&id)).unwrap().subject.starts_with("CN=mtls-harness-other-subject"));
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_written_0600() {
        use std::os::unix::fs::PermissionsExt;
        let pki = TestPki::generate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let written = pki.write_to(dir.path()).unwrap();
        for path in written {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            let is_key = path.extension().is_some_and(|e| e == "key");
            assert_eq!(mode, if is_key { 0o600 } else { 0o644 }, "{}", path.display());
        }
    }
}
