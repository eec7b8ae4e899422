//! The harness's own test PKI: a CA, a server certificate, and a client identity per role, in
//! one of two styles ([`PkiStyle`]).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::CertificateDer;

use super::{
    write_file, Identity, PkiError, PkiStyle, Role, REGISTERED_SAN_DNS, REGISTERED_SAN_EMAIL, REGISTERED_SAN_IP, REGISTERED_SAN_URI,
};

/// The whole test PKI of a run. Generated once per process and shared by every scenario.
pub struct TestPki {
    /// How its certificates look.
    pub style: PkiStyle,
    /// The trusted test CA's certificate, DER: the trust anchor for `tls_client_auth` (the
    /// root, in the ecosystem style).
    pub ca_cert_der: CertificateDer<'static>,
    /// The same certificate, PEM (`ca.pem`).
    pub ca_cert_pem: String,
    /// The trust anchor's private key (`ca.key`): written (0600) so a live AS configured with
    /// this PKI can be tested with minted expired/other-subject certificates. Never logged.
    ca_key_pem: String,
    pub(crate) rogue_ca_cert_pem: String,
    /// The CAs' other files (name, body, secret): the ecosystem style's intermediate and
    /// issuing CAs; none in the compact style.
    pub(super) ca_files: Vec<(String, String, bool)>,
    /// The mock AS's server certificate (`localhost`, `127.0.0.1`), issued by the test CA (the
    /// issuing CA, with its chain, in the ecosystem style).
    pub server: Identity,
    identities: Vec<Identity>,
    /// Ed25519 key the mock AS signs access tokens with (EdDSA; PKCS#8 PEM) and its public half.
    pub token_signing_key_pem: String,
    /// The public half of the token-signing key, SPKI PEM.
    pub token_signing_public_pem: String,
    /// The raw 32-byte Ed25519 public key (the JWK's `x`).
    pub token_signing_public_raw: Vec<u8>,
    /// The `private_key_jwt` client's assertion-signing key (EdDSA: cheap to sign and verify); the mock registers its
    /// public JWK (RFC 7523 §3, OIDC Core §9).
    pub assertion_key: super::AssertionKey,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").field("identities", &self.identities).finish_non_exhaustive()
    }
}

pub(super) fn dn(rfc4514_most_specific_first: &[(DnType, &str)]) -> DistinguishedName {
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

pub(super) fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&[(DnType::CommonName, cn), (DnType::OrganizationName, "mtls-harness test PKI")]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

pub(super) fn client_params(name: DistinguishedName, sans: Vec<SanType>) -> CertificateParams {
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
    /// Generate a fresh PKI in the compact style (ECDSA P-256 throughout, one CA).
    pub fn generate() -> Result<Self, PkiError> {
        Self::generate_with(PkiStyle::Compact)
    }

    /// Generate a fresh PKI in `style`. The ecosystem style takes seconds (RSA-4096 CA keys).
    pub fn generate_with(style: PkiStyle) -> Result<Self, PkiError> {
        match style {
            PkiStyle::Compact => Self::generate_compact(),
            PkiStyle::Ecosystem => super::ecosystem::generate(),
        }
    }

    /// A PKI around generated certificates, with fresh token-signing and assertion keys and no
    /// other CA files.
    pub(super) fn assemble(
        style: PkiStyle,
        ca: &CertifiedIssuer<'_, KeyPair>,
        ca_key_pem: String,
        rogue_ca_cert_pem: String,
        server: Identity,
        identities: Vec<Identity>,
    ) -> Result<Self, PkiError> {
        let signing = KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
        Ok(TestPki {
            style,
            ca_cert_der: ca.der().clone(),
            ca_cert_pem: ca.pem(),
            ca_key_pem,
            rogue_ca_cert_pem,
            ca_files: Vec::new(),
            server,
            identities,
            token_signing_key_pem: signing.serialize_pem(),
            token_signing_public_pem: signing.public_key_pem(),
            token_signing_public_raw: signing.public_key_raw().to_vec(),
            assertion_key: super::AssertionKey::generate(super::JwsAlg::EdDSA, "tpp-jwt-001-eddsa")?,
        })
    }

    fn generate_compact() -> Result<Self, PkiError> {
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

        Self::assemble(PkiStyle::Compact, &ca, ca_key_pem, rogue_ca.pem(), server, identities)
    }

    /// The process-wide compact PKI, generated on first use.
    pub fn shared() -> Result<Arc<TestPki>, PkiError> {
        Self::shared_with(PkiStyle::Compact)
    }

    /// The process-wide PKI of `style`, generated on first use (once per style and process;
    /// callers asking at once wait for the one generation).
    pub fn shared_with(style: PkiStyle) -> Result<Arc<TestPki>, PkiError> {
        static COMPACT: OnceLock<Result<Arc<TestPki>, String>> = OnceLock::new();
        static ECOSYSTEM: OnceLock<Result<Arc<TestPki>, String>> = OnceLock::new();
        let cell = match style {
            PkiStyle::Compact => &COMPACT,
            PkiStyle::Ecosystem => &ECOSYSTEM,
        };
        cell.get_or_init(|| TestPki::generate_with(style).map(Arc::new).map_err(|e| crate::error_chain(&e)))
            .clone()
            .map_err(PkiError::Shared)
    }

    /// Every identity, one per role.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// The client identity of `role`.
    pub fn identity(&self, role: Role) -> &Identity {
        // Every role is generated in `generate`; the lookup cannot miss.
        self.identities.iter().find(|i| i.role == role).unwrap_or_else(|| unreachable!("role {role:?} is always generated"))
    }

    /// Write the PKI as PEM files (certificates 0644, private keys 0600), replacing files of
    /// the same names; a symlink planted at one of them is replaced, never followed.
    ///
    /// Every style writes `ca.pem` (the trust anchor alone: the root) and `ca.key` (its key),
    /// `rogue-root-ca.pem`, `server.pem`/`.key`, `<role>.pem`/`.key` per role — each `.pem` the
    /// leaf followed by its intermediates — `token-signing.key`, `jwt-client.key` and
    /// `jwt-client.jwks.json`. The ecosystem style adds `intermediate-ca.pem`, `issuing-ca.pem`
    /// (the issuing CA, then the intermediate: a target's `client_ca.cert`), `issuing-ca.key`
    /// (`client_ca.key`) and `rogue-issuing-ca.pem`.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<std::path::PathBuf>, PkiError> {
        self.write(dir, true)
    }

    /// [`TestPki::write_to`], refusing any file (or symlink) already at one of the names.
    pub fn write_new_to(&self, dir: &Path) -> Result<Vec<std::path::PathBuf>, PkiError> {
        self.write(dir, false)
    }

    fn write(&self, dir: &Path, replace: bool) -> Result<Vec<std::path::PathBuf>, PkiError> {
        let err = |path: &Path, source: std::io::Error| PkiError::Io { path: path.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        let jwks = self.assertion_key.public_jwks().map(|j| j.to_string());
        let chains: Vec<String> = self.identities.iter().map(Identity::chain_pem).collect();
        let server_chain = self.server.chain_pem();
        let mut files: Vec<(String, &str, bool)> = vec![
            ("ca.pem".into(), &self.ca_cert_pem, false),
            ("ca.key".into(), &self.ca_key_pem, true),
            // The untrusted CA itself; `rogue-ca.pem` is the identity it issues (registered subject).
            ("rogue-root-ca.pem".into(), &self.rogue_ca_cert_pem, false),
            ("server.pem".into(), &server_chain, false),
            ("server.key".into(), self.server.key_pem(), true),
        ];
        files.extend(self.ca_files.iter().map(|(name, body, secret)| (name.clone(), body.as_str(), *secret)));
        for (id, chain) in self.identities.iter().zip(&chains) {
            files.push((format!("{}.pem", id.role.name()), chain, false));
            files.push((format!("{}.key", id.role.name()), id.key_pem(), true));
        }
        files.push(("token-signing.key".into(), &self.token_signing_key_pem, true));
        if let (Some(key), Some(jwks)) = (self.assertion_key.private_pem(), jwks.as_deref()) {
            files.push(("jwt-client.key".into(), key, true));
            files.push(("jwt-client.jwks.json".into(), jwks, false));
        }
        // Without `replace`, refuse before writing anything: no half-written PKI.
        if !replace {
            if let Some((name, ..)) = files.iter().find(|(name, ..)| std::fs::symlink_metadata(dir.join(name)).is_ok()) {
                let path = dir.join(name);
                return Err(err(
                    &path,
                    std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists (give --force to replace it)"),
                ));
            }
        }
        let mut written = Vec::new();
        for (name, body, secret) in files {
            let path = dir.join(name);
            let result =
                if replace { write_file(&path, body.as_bytes(), secret) } else { super::write_new_file(&path, body.as_bytes(), secret) };
            result.map_err(|e| err(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}
