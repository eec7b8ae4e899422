//! Impostor certificates minted for a target: the registered subject from a rogue CA, another
//! self-signed certificate, and — where the harness holds the client CA — expired and
//! other-subject certificates. Each impostor presents a chain shaped like the registered
//! client's (as many certificates after the leaf): a server that tells `tls_client_auth` from
//! `self_signed_tls_client_auth` by the length of the presented chain (Spring Authorization
//! Server does) must meet the impostor on the same path as the registered client, or a refusal
//! would judge the path, not the subject or issuer under test.

use std::net::IpAddr;
use std::path::Path;

use rcgen::{CertifiedIssuer, DistinguishedName, DnType, KeyPair, SanType};
use rustls::pki_types::CertificateDer;

use super::test_pki::{ca_params, client_params, dn};
use rustls::pki_types::pem::PemObject;

use super::{Identity, PkiError, Role};

/// The subject and SANs of a certificate, as rcgen parameters (DER order, string types kept).
pub(super) fn copy_name_and_sans(der: &[u8]) -> Result<(DistinguishedName, Vec<SanType>), PkiError> {
    use x509_parser::der_parser::asn1_rs::Tag;
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Parse(e.to_string()))?;
    let mut name = DistinguishedName::new();
    for rdn in cert.subject().iter() {
        for atv in rdn.iter() {
            let arcs: Vec<u64> = atv.attr_type().iter().map(|i| i.collect()).unwrap_or_default();
            let ty = DnType::from_oid(&arcs);
            let text = atv.as_str().map_err(|e| PkiError::Parse(format!("subject attribute is not a string: {e}")))?;
            let value = if atv.attr_value().tag() == Tag::PrintableString {
                rcgen::DnValue::PrintableString(text.try_into()?)
            } else {
                rcgen::DnValue::Utf8String(text.to_string())
            };
            name.push(ty, value);
        }
    }
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for gn in &ext.value.general_names {
            match gn {
                GeneralName::DNSName(d) => sans.push(SanType::DnsName((*d).try_into()?)),
                GeneralName::URI(u) => sans.push(SanType::URI((*u).try_into()?)),
                GeneralName::RFC822Name(e) => sans.push(SanType::Rfc822Name((*e).try_into()?)),
                GeneralName::IPAddress(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                        sans.push(SanType::IpAddress(IpAddr::from(v4)));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                        sans.push(SanType::IpAddress(IpAddr::from(v6)));
                    }
                }
                _ => {}
            }
        }
    }
    Ok((name, sans))
}

/// A certificate with the same subject DN and SANs as `like`, issued by a fresh CA hierarchy
/// nobody trusts (for `auth.pki.rogue-ca` against any AS), as deep as `like`'s presented chain:
/// one rogue CA certificate after the leaf for each certificate `like` presents after its own.
pub fn mint_rogue(like: &Identity) -> Result<Identity, PkiError> {
    let depth = like.intermediates.len();
    let mut cas = vec![CertifiedIssuer::self_signed(ca_params("mtls-harness Rogue CA"), KeyPair::generate()?)?];
    for i in 1..depth {
        let parent = &cas[i - 1];
        cas.push(CertifiedIssuer::signed_by(ca_params(&format!("mtls-harness Rogue CA {i}")), KeyPair::generate()?, parent)?);
    }
    let (name, sans) = copy_name_and_sans(&like.cert_der)?;
    let key = KeyPair::generate()?;
    let issuer = cas.last().unwrap_or_else(|| unreachable!("the rogue root is always made"));
    let cert = client_params(name, sans).signed_by(&key, issuer)?;
    // Presented after the leaf: the rogue CAs, nearest first (none when `like` presents its leaf alone).
    let chain: Vec<CertificateDer<'static>> = if depth == 0 { Vec::new() } else { cas.iter().rev().map(|c| c.der().clone()).collect() };
    Ok(Identity::new(Role::RogueCa, cert.der().clone(), &key)?.with_intermediates(chain))
}

/// A self-signed certificate with the same subject as `like` but another key.
pub fn mint_self_signed_like(like: &Identity, role: Role) -> Result<Identity, PkiError> {
    let (name, sans) = copy_name_and_sans(&like.cert_der)?;
    let key = KeyPair::generate()?;
    let cert = client_params(name, sans).self_signed(&key)?;
    Identity::new(role, cert.der().clone(), &key)
}

/// The CA that issues a live target's client certificates, when the harness is given its key.
pub struct ClientCa {
    issuer: rcgen::Issuer<'static, KeyPair>,
    /// What a minted certificate presents after its leaf: the CA certificate (and the rest of
    /// its file) when the CA is an intermediate, so a server that trusts only the root can build
    /// the path; nothing for a self-issued root.
    chain: Vec<CertificateDer<'static>>,
    /// The CA certificate itself.
    ca_der: CertificateDer<'static>,
}

impl ClientCa {
    /// Read the CA certificate (and any chain after it) and its private key from PEM files.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<ClientCa, PkiError> {
        let cert_pem = std::fs::read(cert_path).map_err(|source| PkiError::Io { path: cert_path.to_path_buf(), source })?;
        let der = CertificateDer::from_pem_slice(&cert_pem).map_err(|source| PkiError::Pem {
            path: cert_path.to_path_buf(),
            what: "no PEM certificate",
            source,
        })?;
        let key_pem = std::fs::read_to_string(key_path).map_err(|source| PkiError::Io { path: key_path.to_path_buf(), source })?;
        let key = KeyPair::from_pem(&key_pem).map_err(|source| PkiError::Unusable {
            path: key_path.to_path_buf(),
            what: "not a usable CA private key",
            source,
        })?;
        let chain = {
            use rustls::pki_types::pem::PemObject;
            let all: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
            if self_issued(&der) {
                Vec::new()
            } else {
                all
            }
        };
        let issuer = rcgen::Issuer::from_ca_cert_der(&der, key).map_err(|source| PkiError::Unusable {
            path: cert_path.to_path_buf(),
            what: "not a usable CA certificate",
            source,
        })?;
        Ok(ClientCa { issuer, chain, ca_der: der })
    }

    /// What a certificate this CA mints presents after its leaf, shaped like `like`'s chain: the
    /// CA's chain when it is an intermediate; for a root, the root itself when `like` presents
    /// certificates after its leaf (a registered file of leaf and root), else nothing.
    fn chain_like(&self, like: Option<&Identity>) -> Vec<CertificateDer<'static>> {
        match (self.chain.is_empty(), like.is_none_or(|l| l.intermediates.is_empty())) {
            (false, _) => self.chain.clone(),
            (true, false) => vec![self.ca_der.clone()],
            (true, true) => Vec::new(),
        }
    }

    /// Same subject and SANs as `like`, this CA, validity ended yesterday.
    pub fn mint_expired(&self, like: &Identity) -> Result<Identity, PkiError> {
        let (name, sans) = copy_name_and_sans(&like.cert_der)?;
        let mut p = client_params(name, sans);
        p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.issuer)?;
        Ok(Identity::new(Role::Expired, cert.der().clone(), &key)?.with_intermediates(self.chain_like(Some(like))))
    }

    /// A certificate from this CA with a subject no client is registered with, its presented chain
    /// shaped like `like`'s (the registered client's, if there is one).
    pub fn mint_other_subject(&self, like: Option<&Identity>) -> Result<Identity, PkiError> {
        let name = dn(&[(DnType::CommonName, "mtls-harness-other-subject"), (DnType::OrganizationName, "mtls-harness")]);
        let key = KeyPair::generate()?;
        let cert =
            client_params(name, vec![SanType::DnsName("other-subject.mtls-harness.invalid".try_into()?)]).signed_by(&key, &self.issuer)?;
        Ok(Identity::new(Role::OtherSubject, cert.der().clone(), &key)?.with_intermediates(self.chain_like(like)))
    }
}

/// Whether a certificate's issuer and subject are the same name (a root or a self-signed leaf).
fn self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der).map(|(_, c)| c.issuer().as_raw() == c.subject().as_raw()).unwrap_or(false)
}

/// Whether two certificates name the same issuer (byte-equal issuer DN) and neither is
/// self-issued: the harness's evidence that a certificate it did not mint comes from the CA
/// that issues the registered one.
pub fn same_issuer(a: &Identity, b: &Identity) -> bool {
    let issuer = |der: &[u8]| x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c.issuer().as_raw().to_vec());
    !self_issued(&a.cert_der) && !self_issued(&b.cert_der) && issuer(&a.cert_der).is_some_and(|i| Some(i) == issuer(&b.cert_der))
}

/// A CA made for one observe session, and the server certificate its local listeners present:
/// valid for `localhost`, `127.0.0.1` and every name in `names` (the upstream's host names, for
/// clients that keep the real issuer and resolve it to the proxy). Its key never leaves memory.
pub struct ProxyCa {
    /// The CA certificate, PEM: what the client under test must trust.
    pub ca_pem: String,
    /// The listeners' certificate and key.
    pub server: Identity,
}

impl ProxyCa {
    /// A fresh CA (ECDSA P-256) and its server certificate for `names`.
    pub fn generate(names: &[String]) -> Result<ProxyCa, PkiError> {
        let ca = CertifiedIssuer::self_signed(ca_params("mtls-harness observe proxy CA"), KeyPair::generate()?)?;
        let mut sans = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        for n in names {
            if !sans.contains(n) {
                sans.push(n.clone());
            }
        }
        let key = KeyPair::generate()?;
        let mut sp = rcgen::CertificateParams::new(sans)?;
        sp.distinguished_name = dn(&[(DnType::CommonName, "mtls-harness observe proxy")]);
        sp.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        sp.use_authority_key_identifier_extension = true;
        let server = Identity::new(Role::Registered, sp.signed_by(&key, &ca)?.der().clone(), &key)?;
        Ok(ProxyCa { ca_pem: ca.pem(), server })
    }
}
