//! Test PKI (rcgen): a CA, the mock AS's server certificate, and one client identity per role
//! the checks need. Also the two facts every check compares against: the `x5t#S256` thumbprint
//! (RFC 8705 §3.1) and the RFC 4514 subject string (RFC 8705 §2.1.2).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {msg}")]
    File { path: String, msg: String },
    #[error("certificate is not valid X.509: {0}")]
    Parse(String),
}

/// The registered client's subject, as an RFC 4514 string (most specific RDN first).
pub const REGISTERED_DN: &str = "CN=tpp-client-001,OU=Payments,O=Example Fintech Ltd,C=AE";
pub const OTHER_DN: &str = "CN=tpp-client-002,OU=Payments,O=Other Fintech Ltd,C=AE";
pub const SELF_SIGNED_DN: &str = "CN=self-signed-client-001,O=Example Fintech Ltd,C=AE";
pub const REGISTERED_SAN_DNS: &str = "tpp-client-001.example.com";
pub const REGISTERED_SAN_URI: &str = "https://tpp.example.com/clients/001";
pub const REGISTERED_SAN_EMAIL: &str = "mtls-client-001@example.com";
pub const REGISTERED_SAN_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));

/// Which certificate an identity holds, from the point of view of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    pub const ALL: [Role; 6] =
        [Role::Registered, Role::OtherSubject, Role::RogueCa, Role::Expired, Role::SelfSigned, Role::SelfSignedOther];

    pub fn name(self) -> &'static str {
        match self {
            Role::Registered => "registered",
            Role::OtherSubject => "other-subject",
            Role::RogueCa => "rogue-ca",
            Role::Expired => "expired",
            Role::SelfSigned => "self-signed",
            Role::SelfSignedOther => "self-signed-other",
        }
    }
}

/// A certificate with its private key and the derived facts the checks compare.
pub struct Identity {
    pub role: Role,
    pub cert_der: CertificateDer<'static>,
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
    fn new(role: Role, cert_der: CertificateDer<'static>, key: &KeyPair) -> Result<Self, PkiError> {
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Identity::from_parts(role, cert_der, Vec::new(), key_der, key.serialize_pem())
    }

    fn from_parts(
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
        let read = |p: &Path| std::fs::read(p).map_err(|e| PkiError::File { path: p.display().to_string(), msg: e.to_string() });
        let bad = |p: &Path, msg: String| PkiError::File { path: p.display().to_string(), msg };
        let cert_pem = read(cert_path)?;
        let mut chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| bad(cert_path, format!("not a PEM certificate file: {e}")))?;
        if chain.is_empty() {
            return Err(bad(cert_path, "no CERTIFICATE block in the file".into()));
        }
        let leaf = chain.remove(0);
        let key_pem = read(key_path)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| bad(key_path, format!("no private key (PKCS#8, SEC1 or PKCS#1 PEM) in the file: {e}")))?;
        let provider = crate::tls::provider();
        let mut full = vec![leaf.clone()];
        full.extend(chain.iter().cloned());
        rustls::sign::CertifiedKey::from_der(full, key.clone_key(), &provider)
            .map_err(|e| bad(key_path, format!("this key does not belong to the certificate in {} ({e})", cert_path.display())))?;
        let key_pem = String::from_utf8(key_pem).map_err(|_| bad(key_path, "not UTF-8 PEM".into()))?;
        Identity::from_parts(role, leaf, chain, key, key_pem)
    }

    fn with_intermediates(mut self, chain: Vec<CertificateDer<'static>>) -> Identity {
        self.intermediates = chain;
        self
    }

    /// The chain to present: the leaf, then the intermediates.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        let mut v = vec![self.cert_der.clone()];
        v.extend(self.intermediates.iter().cloned());
        v
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        self.key_der.clone_key()
    }

    /// The private key in PEM. Only for writing key files (mode 0600); never log it.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

/// The whole test PKI of a run. Generated once per process and shared by every scenario.
pub struct TestPki {
    pub ca_cert_der: CertificateDer<'static>,
    pub ca_cert_pem: String,
    /// The test CA's private key: written (0600) so a live AS configured with this PKI can be
    /// tested with minted expired/other-subject certificates. Never logged.
    ca_key_pem: String,
    pub rogue_ca_cert_pem: String,
    pub server: Identity,
    identities: Vec<Identity>,
    /// Ed25519 key the mock AS signs access tokens with (EdDSA; PKCS#8 PEM) and its public half.
    pub token_signing_key_pem: String,
    pub token_signing_public_pem: String,
    /// The raw 32-byte Ed25519 public key (the JWK's `x`).
    pub token_signing_public_raw: Vec<u8>,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").field("identities", &self.identities).finish_non_exhaustive()
    }
}

fn dn(rfc4514_most_specific_first: &[(DnType, &str)]) -> DistinguishedName {
    // DER order is least specific first; RFC 4514 strings list the most specific first.
    let mut name = DistinguishedName::new();
    for (ty, value) in rfc4514_most_specific_first.iter().rev() {
        // RFC 5280 Appendix A: countryName is a PrintableString (as real CAs issue it; a
        // UTF8String `C` renders as `C=#0c02...` in some stacks' RFC 4514 output, e.g. GnuTLS).
        if *ty == DnType::CountryName {
            if let Ok(p) = (*value).try_into() {
                name.push(ty.clone(), rcgen::DnValue::PrintableString(p));
                continue;
            }
        }
        name.push(ty.clone(), *value);
    }
    name
}

fn registered_dn() -> DistinguishedName {
    dn(&[
        (DnType::CommonName, "tpp-client-001"),
        (DnType::OrganizationalUnitName, "Payments"),
        (DnType::OrganizationName, "Example Fintech Ltd"),
        (DnType::CountryName, "AE"),
    ])
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&[(DnType::CommonName, cn), (DnType::OrganizationName, "mtls-harness test PKI")]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

fn client_params(name: DistinguishedName, sans: Vec<SanType>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name;
    p.subject_alt_names = sans;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    p
}

fn registered_sans() -> Result<Vec<SanType>, PkiError> {
    Ok(vec![
        SanType::DnsName(REGISTERED_SAN_DNS.try_into()?),
        SanType::URI(REGISTERED_SAN_URI.try_into()?),
        SanType::IpAddress(REGISTERED_SAN_IP),
        SanType::Rfc822Name(REGISTERED_SAN_EMAIL.try_into()?),
    ])
}

impl TestPki {
    /// Generate a fresh PKI (ECDSA P-256 throughout).
    pub fn generate() -> Result<Self, PkiError> {
        let ca_key = KeyPair::generate()?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params("mtls-harness Test CA"), ca_key)?;
        let rogue_ca = CertifiedIssuer::self_signed(ca_params("mtls-harness Rogue CA"), KeyPair::generate()?)?;

        let server_key = KeyPair::generate()?;
        let mut sp = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
        sp.distinguished_name = dn(&[(DnType::CommonName, "localhost")]);
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        sp.use_authority_key_identifier_extension = true;
        let server = Identity::new(Role::Registered, sp.signed_by(&server_key, &ca)?.der().clone(), &server_key)?;

        let mut identities = Vec::new();
        let issue = |role: Role, params: CertificateParams, issuer: Option<&CertifiedIssuer<'_, KeyPair>>| {
            let key = KeyPair::generate()?;
            let cert = match issuer {
                Some(ca) => params.signed_by(&key, ca)?,
                None => params.self_signed(&key)?,
            };
            Identity::new(role, cert.der().clone(), &key)
        };
        identities.push(issue(Role::Registered, client_params(registered_dn(), registered_sans()?), Some(&ca))?);
        identities.push(issue(
            Role::OtherSubject,
            client_params(
                dn(&[
                    (DnType::CommonName, "tpp-client-002"),
                    (DnType::OrganizationalUnitName, "Payments"),
                    (DnType::OrganizationName, "Other Fintech Ltd"),
                    (DnType::CountryName, "AE"),
                ]),
                vec![SanType::DnsName("tpp-client-002.example.com".try_into()?)],
            ),
            Some(&ca),
        )?);
        identities.push(issue(Role::RogueCa, client_params(registered_dn(), registered_sans()?), Some(&rogue_ca))?);
        let mut expired = client_params(registered_dn(), registered_sans()?);
        expired.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        expired.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        identities.push(issue(Role::Expired, expired, Some(&ca))?);
        let self_dn = dn(&[
            (DnType::CommonName, "self-signed-client-001"),
            (DnType::OrganizationName, "Example Fintech Ltd"),
            (DnType::CountryName, "AE"),
        ]);
        identities.push(issue(Role::SelfSigned, client_params(self_dn.clone(), vec![]), None)?);
        identities.push(issue(Role::SelfSignedOther, client_params(self_dn, vec![]), None)?);

        let signing = KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
        Ok(TestPki {
            ca_cert_der: ca.der().clone(),
            ca_cert_pem: ca.pem(),
            ca_key_pem,
            rogue_ca_cert_pem: rogue_ca.pem(),
            server,
            identities,
            token_signing_key_pem: signing.serialize_pem(),
            token_signing_public_pem: signing.public_key_pem(),
            token_signing_public_raw: signing.public_key_raw().to_vec(),
        })
    }

    /// The process-wide PKI, generated on first use.
    pub fn shared() -> Result<Arc<TestPki>, PkiError> {
        static PKI: OnceLock<Result<Arc<TestPki>, String>> = OnceLock::new();
        PKI.get_or_init(|| TestPki::generate().map(Arc::new).map_err(|e| e.to_string())).clone().map_err(PkiError::Parse)
    }

    /// Every identity, one per role.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    pub fn identity(&self, role: Role) -> &Identity {
        // Every role is generated in `generate`; the lookup cannot miss.
        self.identities.iter().find(|i| i.role == role).unwrap_or_else(|| unreachable!("role {role:?} is always generated"))
    }

    /// Write the PKI as PEM files: certificates 0644, private keys 0600.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<std::path::PathBuf>, PkiError> {
        let err = |path: &Path, e: std::io::Error| PkiError::File { path: path.display().to_string(), msg: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        let mut written = Vec::new();
        let mut put = |name: String, body: &str, secret: bool| -> Result<(), PkiError> {
            let path = dir.join(name);
            write_file(&path, body.as_bytes(), secret).map_err(|e| err(&path, e))?;
            written.push(path);
            Ok(())
        };
        put("ca.pem".into(), &self.ca_cert_pem, false)?;
        put("ca.key".into(), &self.ca_key_pem, true)?;
        put("rogue-ca.pem".into(), &self.rogue_ca_cert_pem, false)?;
        put("server.pem".into(), &self.server.cert_pem, false)?;
        put("server.key".into(), self.server.key_pem(), true)?;
        for id in &self.identities {
            put(format!("{}.pem", id.role.name()), &id.cert_pem, false)?;
            put(format!("{}.key", id.role.name()), id.key_pem(), true)?;
        }
        put("token-signing.key".into(), &self.token_signing_key_pem, true)?;
        Ok(written)
    }
}

/// The subject and SANs of a certificate, as rcgen parameters (DER order, string types kept).
fn copy_name_and_sans(der: &[u8]) -> Result<(DistinguishedName, Vec<SanType>), PkiError> {
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

/// A certificate with the same subject DN and SANs as `like`, issued by a fresh CA nobody
/// trusts (for `auth.pki.rogue-ca` against any AS).
pub fn mint_rogue(like: &Identity) -> Result<Identity, PkiError> {
    let rogue_ca = CertifiedIssuer::self_signed(ca_params("mtls-harness Rogue CA"), KeyPair::generate()?)?;
    let (name, sans) = copy_name_and_sans(&like.cert_der)?;
    let key = KeyPair::generate()?;
    let cert = client_params(name, sans).signed_by(&key, &rogue_ca)?;
    Identity::new(Role::RogueCa, cert.der().clone(), &key)
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
}

impl ClientCa {
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<ClientCa, PkiError> {
        let bad = |p: &Path, msg: String| PkiError::File { path: p.display().to_string(), msg };
        let cert_pem = std::fs::read(cert_path).map_err(|e| bad(cert_path, e.to_string()))?;
        let der = cert_from_pem(&cert_pem).map_err(|e| bad(cert_path, e.to_string()))?;
        let key_pem = std::fs::read_to_string(key_path).map_err(|e| bad(key_path, e.to_string()))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| bad(key_path, format!("not a usable CA private key: {e}")))?;
        let chain = {
            use rustls::pki_types::pem::PemObject;
            let all: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
            if self_issued(&der) {
                Vec::new()
            } else {
                all
            }
        };
        let issuer = rcgen::Issuer::from_ca_cert_der(&der, key).map_err(|e| bad(cert_path, format!("not a usable CA certificate: {e}")))?;
        Ok(ClientCa { issuer, chain })
    }

    /// Same subject and SANs as `like`, this CA, validity ended yesterday.
    pub fn mint_expired(&self, like: &Identity) -> Result<Identity, PkiError> {
        let (name, sans) = copy_name_and_sans(&like.cert_der)?;
        let mut p = client_params(name, sans);
        p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.issuer)?;
        Ok(Identity::new(Role::Expired, cert.der().clone(), &key)?.with_intermediates(self.chain.clone()))
    }

    /// A certificate from this CA with a subject no client is registered with.
    pub fn mint_other_subject(&self) -> Result<Identity, PkiError> {
        let name = dn(&[(DnType::CommonName, "mtls-harness-other-subject"), (DnType::OrganizationName, "mtls-harness")]);
        let key = KeyPair::generate()?;
        let cert =
            client_params(name, vec![SanType::DnsName("other-subject.mtls-harness.invalid".try_into()?)]).signed_by(&key, &self.issuer)?;
        Ok(Identity::new(Role::OtherSubject, cert.der().clone(), &key)?.with_intermediates(self.chain.clone()))
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

/// Write a file; `secret` files are created with mode 0600 before any byte is written.
pub fn write_file(path: &Path, body: &[u8], secret: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(if secret { 0o600 } else { 0o644 });
        let mut f = opts.open(path)?;
        // An existing file keeps its old mode through open(); force it.
        if secret {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(body)
    }
    #[cfg(not(unix))]
    {
        let _ = secret;
        opts.open(path)?.write_all(body)
    }
}

/// `x5t#S256`: base64url without padding of SHA-256 over the certificate DER (RFC 8705 §3.1).
pub fn x5t_s256(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

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
        for role in Role::ALL {
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
        assert!(ca.mint_other_subject().unwrap().subject.starts_with("CN=mtls-harness-other-subject"));
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
