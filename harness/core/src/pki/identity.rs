//! A certificate with its private key, and the facts the checks compare (thumbprint, subject).

use std::path::Path;

use rcgen::KeyPair;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{pem_encode, subject_rfc4514, x5t_s256, PkiError, Role};

/// A certificate with its private key and the derived facts the checks compare.
pub struct Identity {
    /// The role this certificate plays in the checks.
    pub role: Role,
    /// The leaf certificate, DER.
    pub cert_der: CertificateDer<'static>,
    /// The leaf certificate, PEM.
    pub cert_pem: String,
    /// Intermediates presented after the leaf (files may carry them).
    pub intermediates: Vec<CertificateDer<'static>>,
    key_der: PrivateKeyDer<'static>,
    key_pem: String,
    /// base64url(SHA-256(DER)), no padding (RFC 8705 §3.1).
    pub x5t_s256: String,
    /// Subject DN as RFC 4514 string, read back from the DER with x509-parser.
    pub subject: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("role", &self.role)
            .field("subject", &self.subject)
            .field("x5t_s256", &self.x5t_s256)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            role: self.role,
            cert_der: self.cert_der.clone(),
            cert_pem: self.cert_pem.clone(),
            intermediates: self.intermediates.clone(),
            key_der: self.key_der.clone_key(),
            key_pem: self.key_pem.clone(),
            x5t_s256: self.x5t_s256.clone(),
            subject: self.subject.clone(),
        }
    }
}

impl Identity {
    /// The leaf's validity period (notBefore, notAfter), read with x509-parser.
    pub fn validity(&self) -> Option<(time::OffsetDateTime, time::OffsetDateTime)> {
        let (_, c) = x509_parser::parse_x509_certificate(&self.cert_der).ok()?;
        Some((c.validity().not_before.to_datetime(), c.validity().not_after.to_datetime()))
    }

    /// The leaf's issuer DN (RFC 4514).
    pub fn issuer(&self) -> Option<String> {
        let (_, c) = x509_parser::parse_x509_certificate(&self.cert_der).ok()?;
        Some(crate::dn::to_rfc4514(c.issuer()))
    }

    /// The values of the leaf's subject attributes and of its SAN (DNS, URI, e-mail): what a
    /// client_id is often copied from.
    pub fn names(&self) -> Vec<String> {
        use x509_parser::extensions::GeneralName;
        let Ok((_, c)) = x509_parser::parse_x509_certificate(&self.cert_der) else { return Vec::new() };
        let mut out: Vec<String> = c.subject().iter_attributes().filter_map(|a| a.as_str().ok()).map(str::to_string).collect();
        if let Ok(Some(san)) = c.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(s) | GeneralName::URI(s) | GeneralName::RFC822Name(s) => out.push((*s).to_string()),
                    _ => {}
                }
            }
        }
        out
    }

    pub(super) fn new(role: Role, cert_der: CertificateDer<'static>, key: &KeyPair) -> Result<Self, PkiError> {
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Identity::from_parts(role, cert_der, Vec::new(), key_der, key.serialize_pem())
    }

    pub(super) fn from_parts(
        role: Role,
        cert_der: CertificateDer<'static>,
        intermediates: Vec<CertificateDer<'static>>,
        key_der: PrivateKeyDer<'static>,
        key_pem: String,
    ) -> Result<Self, PkiError> {
        Ok(Identity {
            role,
            x5t_s256: x5t_s256(&cert_der),
            subject: subject_rfc4514(&cert_der)?,
            cert_pem: pem_encode("CERTIFICATE", &cert_der),
            cert_der,
            intermediates,
            key_der,
            key_pem,
        })
    }

    /// Load a certificate (leaf first, then any intermediates) and its private key from PEM
    /// files, and check that the key belongs to the certificate.
    pub fn load(role: Role, cert_path: &Path, key_path: &Path) -> Result<Identity, PkiError> {
        use rustls::pki_types::pem::PemObject;
        let read = |p: &Path| std::fs::read(p).map_err(|source| PkiError::Io { path: p.to_path_buf(), source });
        let cert_pem = read(cert_path)?;
        let mut chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|source| PkiError::Pem { path: cert_path.to_path_buf(), what: "not a PEM certificate file", source })?;
        if chain.is_empty() {
            return Err(PkiError::NoCertificate { path: cert_path.to_path_buf() });
        }
        let leaf = chain.remove(0);
        let key_pem = read(key_path)?;
        let text = String::from_utf8_lossy(&key_pem);
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(PkiError::Encrypted { path: key_path.to_path_buf() });
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|source| PkiError::Pem {
            path: key_path.to_path_buf(),
            what: "no private key (PKCS#8, SEC1 or PKCS#1 PEM) in the file",
            source,
        })?;
        let provider = crate::tls::provider();
        let mut full = vec![leaf.clone()];
        full.extend(chain.iter().cloned());
        if let Err(source) = rustls::sign::CertifiedKey::from_der(full, key.clone_key(), &provider) {
            // The usual cause: the file lists an intermediate before the leaf.
            let matching =
                chain.iter().position(|c| rustls::sign::CertifiedKey::from_der(vec![c.clone()], key.clone_key(), &provider).is_ok());
            return Err(match matching {
                Some(i) => PkiError::LeafNotFirst { cert: cert_path.to_path_buf(), key: key_path.to_path_buf(), position: i + 2 },
                None => PkiError::KeyMismatch { key: key_path.to_path_buf(), cert: cert_path.to_path_buf(), source },
            });
        }
        let key_pem = String::from_utf8(key_pem).map_err(|_| PkiError::NotUtf8 { path: key_path.to_path_buf() })?;
        Identity::from_parts(role, leaf, chain, key, key_pem)
    }

    pub(super) fn with_intermediates(mut self, chain: Vec<CertificateDer<'static>>) -> Identity {
        self.intermediates = chain;
        self
    }

    /// The chain to present: the leaf, then the intermediates.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        let mut v = vec![self.cert_der.clone()];
        v.extend(self.intermediates.iter().cloned());
        v
    }

    /// The chain as PEM, as a certificate file holds it: the leaf, then the intermediates.
    pub fn chain_pem(&self) -> String {
        let mut pem = self.cert_pem.clone();
        for c in &self.intermediates {
            pem.push_str(&pem_encode("CERTIFICATE", c));
        }
        pem
    }

    /// The private key, DER, for a TLS configuration.
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        self.key_der.clone_key()
    }

    /// The private key in PEM. Only for writing key files (mode 0600); never log it.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}
