//! What makes a certificate of the ecosystem PKI look like an Open Finance transport
//! certificate, as rcgen parameters: the long subjects (UID, serialNumber, businessCategory,
//! jurisdictionCountryName, organizationIdentifier, L, ST, OU, O, C, CN), certificate policies,
//! CRL distribution points, authority information access (OCSP and caIssuers) and the ETSI
//! qcStatements with PSD2 roles (ETSI EN 319 412-5, ETSI TS 119 495). rcgen writes the CRL
//! distribution points itself; the other three are [`CustomExtension`]s written with
//! [`super::der`].

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SanType,
};

use super::der::{ia5, oid, seq, uri_name, utf8};
use super::PkiError;

/// `UID` (userId), RFC 4519.
pub(super) const OID_UID: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];
/// `serialNumber`, X.520.
pub(super) const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// `businessCategory`, X.520.
pub(super) const OID_BUSINESS_CATEGORY: &[u64] = &[2, 5, 4, 15];
/// `jurisdictionCountryName` (CA/Browser Forum EV Guidelines §9.2.4).
pub(super) const OID_JURISDICTION_C: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3];
/// `organizationIdentifier`, X.520 (ETSI EN 319 412-1 §5.1.4: `PSDBR-…`, `OFBBR-…`).
pub(super) const OID_ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
/// `id-pe-authorityInfoAccess`, RFC 5280 §4.2.2.1.
pub(super) const OID_AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
/// `id-ce-certificatePolicies`, RFC 5280 §4.2.1.4.
pub(super) const OID_CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
/// `id-pe-qcStatements`, RFC 3739 §3.2.6.
pub(super) const OID_QC_STATEMENTS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 3];
/// `esi4-qcStatement-6` (QcType), ETSI EN 319 412-5 §4.2.3.
pub(super) const OID_QC_TYPE: &[u64] = &[0, 4, 0, 1862, 1, 6];
/// `id-etsi-qct-web`: the certificate is for website (TLS) authentication.
const OID_QCT_WEB: &[u64] = &[0, 4, 0, 1862, 1, 6, 3];
/// `id-etsi-psd2-qcStatement`, ETSI TS 119 495 §5.1.
pub(super) const OID_PSD2_STATEMENT: &[u64] = &[0, 4, 0, 19495, 2];
/// The base of the PSD2 role OIDs (`id-psd2-role`), ETSI TS 119 495 §5.1.
const OID_PSD2_ROLE: [u64; 6] = [0, 4, 0, 19495, 1, 0];
/// ETSI EN 319 411-2 QCP-w (qualified website certificate policy).
const OID_POLICY_QCP_W: &[u64] = &[0, 4, 0, 194112, 1, 4];
/// CA/Browser Forum organisation-validated TLS certificate.
const OID_POLICY_CABF_OV: &[u64] = &[2, 23, 140, 1, 2, 2];

/// Where the test PKI says its CRLs, OCSP responder and CA certificates are (never served).
const PKI_BASE: &str = "http://pki.mtls-harness.example";

/// A PSD2 role of a payment service provider (ETSI TS 119 495 §5.1, `RoleOfPSP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PspRole {
    /// Account servicing (`PSP_AS`, `id-psd2-role-psp-as`).
    AccountServicing,
    /// Payment initiation (`PSP_PI`, `id-psd2-role-psp-pi`).
    PaymentInitiation,
    /// Account information (`PSP_AI`, `id-psd2-role-psp-ai`).
    AccountInformation,
}

impl PspRole {
    /// The role's OID arc under `id-psd2-role` and its name.
    fn arc_and_name(self) -> (u64, &'static str) {
        match self {
            PspRole::AccountServicing => (1, "PSP_AS"),
            PspRole::PaymentInitiation => (2, "PSP_PI"),
            PspRole::AccountInformation => (3, "PSP_AI"),
        }
    }
}

/// The organisation a certificate names: a participant of the (fictional) directory.
#[derive(Debug, Clone, Copy)]
pub(super) struct Org {
    /// The software statement's id (`UID`).
    pub(super) software_id: &'static str,
    /// The organisation's directory id (`OU`, and the `organizationIdentifier` `OFBBR-<id>`).
    pub(super) org_id: &'static str,
    /// The company registration number (`serialNumber`, a CNPJ).
    pub(super) registration: &'static str,
    /// The common name (a host name of the organisation).
    pub(super) common_name: &'static str,
    /// The legal name (`O`).
    pub(super) legal_name: &'static str,
}

/// An ecosystem-shaped subject for `org`, in DER order (least specific first):
/// `C, ST, L, O, OU, CN, serialNumber, businessCategory, jurisdictionCountryName,
/// organizationIdentifier, UID`. Country codes and the registration number are
/// PrintableStrings (X.520), the rest UTF8Strings.
pub(super) fn subject(org: &Org) -> Result<DistinguishedName, PkiError> {
    let printable = |s: &str| -> Result<DnValue, PkiError> { Ok(DnValue::PrintableString(s.try_into()?)) };
    let custom = |arcs: &[u64]| DnType::CustomDnType(arcs.to_vec());
    let mut name = DistinguishedName::new();
    name.push(DnType::CountryName, printable("BR")?);
    name.push(DnType::StateOrProvinceName, "SP");
    name.push(DnType::LocalityName, "Sao Paulo");
    name.push(DnType::OrganizationName, org.legal_name);
    name.push(DnType::OrganizationalUnitName, org.org_id);
    name.push(DnType::CommonName, org.common_name);
    name.push(custom(OID_SERIAL_NUMBER), printable(org.registration)?);
    name.push(custom(OID_BUSINESS_CATEGORY), "Private Organization");
    name.push(custom(OID_JURISDICTION_C), printable("BR")?);
    name.push(custom(OID_ORGANIZATION_IDENTIFIER), format!("OFBBR-{}", org.org_id));
    name.push(custom(OID_UID), org.software_id);
    Ok(name)
}

/// A CA's subject: `C, O, OU, CN`.
fn ca_subject(common_name: &str) -> Result<DistinguishedName, PkiError> {
    let mut name = DistinguishedName::new();
    name.push(DnType::CountryName, DnValue::PrintableString("BR".try_into()?));
    name.push(DnType::OrganizationName, "mtls-harness test PKI");
    name.push(DnType::OrganizationalUnitName, "Open Finance ecosystem (test)");
    name.push(DnType::CommonName, common_name);
    Ok(name)
}

/// `certificatePolicies`: QCP-w with its CPS URI, and the CA/Browser Forum OV policy.
fn certificate_policies() -> CustomExtension {
    let id_qt_cps = oid(&[1, 3, 6, 1, 5, 5, 7, 2, 1]);
    let qcp_w = seq(&[oid(OID_POLICY_QCP_W), seq(&[seq(&[id_qt_cps, ia5(&format!("{PKI_BASE}/cps"))])])]);
    CustomExtension::from_oid_content(OID_CERTIFICATE_POLICIES, seq(&[qcp_w, seq(&[oid(OID_POLICY_CABF_OV)])]))
}

/// `authorityInfoAccess`: the OCSP responder and the issuer's certificate (`caIssuers`).
fn authority_info_access(issuer_slug: &str) -> CustomExtension {
    let ocsp = seq(&[oid(&[1, 3, 6, 1, 5, 5, 7, 48, 1]), uri_name(&format!("{PKI_BASE}/ocsp/{issuer_slug}"))]);
    let ca_issuers = seq(&[oid(&[1, 3, 6, 1, 5, 5, 7, 48, 2]), uri_name(&format!("{PKI_BASE}/{issuer_slug}.crt"))]);
    CustomExtension::from_oid_content(OID_AIA, seq(&[ocsp, ca_issuers]))
}

/// `qcStatements`: QcType web, and the PSD2 statement with `roles`, the NCA's name and id.
fn qc_statements(roles: &[PspRole]) -> CustomExtension {
    let qc_type = seq(&[oid(OID_QC_TYPE), seq(&[oid(OID_QCT_WEB)])]);
    let roles: Vec<Vec<u8>> = roles
        .iter()
        .map(|r| {
            let (arc, name) = r.arc_and_name();
            let mut role_oid = OID_PSD2_ROLE;
            role_oid[5] = arc;
            seq(&[oid(&role_oid), utf8(name)])
        })
        .collect();
    let psd2 = seq(&[oid(OID_PSD2_STATEMENT), seq(&[seq(&roles), utf8("Banco Central do Brasil"), utf8("BR-BCB")])]);
    CustomExtension::from_oid_content(OID_QC_STATEMENTS, seq(&[qc_type, psd2]))
}

/// The parameters every certificate of the hierarchy below the root shares: the issuer's CRL
/// distribution point and AIA, and the authority key identifier.
fn issued_by(p: &mut CertificateParams, issuer_slug: &str) {
    p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![format!("{PKI_BASE}/crl/{issuer_slug}.crl")] }];
    p.custom_extensions.push(authority_info_access(issuer_slug));
    p.use_authority_key_identifier_extension = true;
}

/// A CA certificate's parameters: `path_len` CAs may follow it (`None`: unconstrained, a root);
/// `issuer_slug` names its issuer (`None`: self-signed).
pub(super) fn ca_params(common_name: &str, path_len: Option<u8>, issuer_slug: Option<&str>) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    p.distinguished_name = ca_subject(common_name)?;
    p.is_ca = IsCa::Ca(path_len.map_or(BasicConstraints::Unconstrained, BasicConstraints::Constrained));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
    if let Some(slug) = issuer_slug {
        issued_by(&mut p, slug);
        p.custom_extensions.push(certificate_policies());
    }
    Ok(p)
}

/// An end-entity certificate's parameters (client, or server with `server`), issued by the CA
/// `issuer_slug` names (`None`: self-signed, which then names itself in no AIA or CRL).
pub(super) fn leaf_params(subject: DistinguishedName, sans: Vec<SanType>, issuer_slug: Option<&str>, server: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = subject;
    p.subject_alt_names = sans;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    p.extended_key_usages = vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
    p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    p.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(365);
    if let Some(slug) = issuer_slug {
        issued_by(&mut p, slug);
    }
    p.custom_extensions.push(certificate_policies());
    // A server (the account servicer's) holds PSP_AS; the clients all three roles.
    let roles: &[PspRole] = if server {
        &[PspRole::AccountServicing]
    } else {
        &[PspRole::AccountServicing, PspRole::PaymentInitiation, PspRole::AccountInformation]
    };
    p.custom_extensions.push(qc_statements(roles));
    p
}
