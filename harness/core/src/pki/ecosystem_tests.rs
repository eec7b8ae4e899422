//! Tests of the ecosystem-shaped PKI: sizes, key sizes, chains (verified by rustls's webpki
//! against the root alone), every extension present and parsed, subjects, what each role means,
//! minting with the issuing CA as `client_ca`, and the files it writes.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, UnixTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::public_key::PublicKey;

use super::ecosystem_profile::{
    OID_BUSINESS_CATEGORY, OID_JURISDICTION_C, OID_ORGANIZATION_IDENTIFIER, OID_PSD2_STATEMENT, OID_QC_STATEMENTS, OID_QC_TYPE,
    OID_SERIAL_NUMBER, OID_UID,
};
use super::*;

fn pki() -> Arc<TestPki> {
    TestPki::shared_with(PkiStyle::Ecosystem).expect("the ecosystem PKI generates")
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    x509_parser::parse_x509_certificate(der).expect("valid X.509").1
}

fn rsa_bits(der: &[u8]) -> usize {
    match parse(der).public_key().parsed().expect("parsable SPKI") {
        PublicKey::RSA(k) => k.key_size(),
        other => panic!("not an RSA key: {other:?}"),
    }
}

fn dotted(arcs: &[u64]) -> String {
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// What rustls's webpki says of a client chain against the root alone.
fn verify(leaf: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>], root: &CertificateDer<'static>) -> Result<(), rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("root parses");
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), crate::tls::provider())
        .build()
        .expect("verifier builds");
    verifier.verify_client_cert(leaf, intermediates, UnixTime::now()).map(|_| ())
}

#[test]
fn leaves_are_rsa_2048_of_1_8_to_2_2_kb_under_rsa_4096_cas() {
    let pki = pki();
    assert_eq!(pki.style, PkiStyle::Ecosystem);
    for id in pki.identities().iter().chain(std::iter::once(&pki.server)) {
        let len = id.cert_der.len();
        eprintln!("{:?}: {len} bytes DER", id.role);
        // A self-signed certificate is signed with its own 2048-bit key (a 256-byte signature
        // where the issuing CA's is 512) and names no issuer's CRL, AIA or key identifier.
        let want = if id.intermediates.is_empty() { 1600..=2200 } else { 1800..=2200 };
        assert!(want.contains(&len), "{:?}: {len} bytes DER", id.role);
        assert_eq!(rsa_bits(&id.cert_der), LEAF_KEY_BITS, "{:?}", id.role);
        for ca in &id.intermediates {
            assert_eq!(rsa_bits(ca), CA_KEY_BITS, "{:?}: its CAs", id.role);
        }
    }
    assert_eq!(rsa_bits(&pki.ca_cert_der), CA_KEY_BITS, "root");
    let root = parse(&pki.ca_cert_der);
    assert_eq!(root.subject().as_raw(), root.issuer().as_raw(), "ca.pem is the self-signed root");
}

#[test]
fn chains_are_leaf_issuing_intermediate_and_verify_to_the_root_alone() {
    let pki = pki();
    let root = &pki.ca_cert_der;
    for id in [pki.identity(Role::Registered), pki.identity(Role::OtherSubject), &pki.server] {
        assert_eq!(id.intermediates.len(), 2, "{:?}: issuing and intermediate, not the root", id.role);
        let chain = id.chain();
        for pair in chain.windows(2) {
            assert_eq!(parse(&pair[0]).issuer().as_raw(), parse(&pair[1]).subject().as_raw(), "{:?}: chain order", id.role);
        }
        assert_eq!(parse(&chain[2]).issuer().as_raw(), parse(root).subject().as_raw(), "the intermediate is the root's");
        assert!(!chain.contains(root), "{:?}: the root is not sent", id.role);
    }
    let reg = pki.identity(Role::Registered);
    verify(&reg.cert_der, &reg.intermediates, root).expect("registered chains to the root");
    verify(&reg.cert_der, &[], root).expect_err("the leaf alone does not: the intermediates are needed");
    let other = pki.identity(Role::OtherSubject);
    verify(&other.cert_der, &other.intermediates, root).expect("other-subject chains to the root");
    let expired = pki.identity(Role::Expired);
    let e = verify(&expired.cert_der, &expired.intermediates, root).expect_err("expired");
    assert!(format!("{e:?}").contains("Expired"), "{e:?}");
    let rogue = pki.identity(Role::RogueCa);
    assert_eq!(rogue.intermediates.len(), 1, "the rogue issuing CA is sent");
    assert_eq!(rsa_bits(&rogue.intermediates[0]), CA_KEY_BITS);
    let e = verify(&rogue.cert_der, &rogue.intermediates, root).expect_err("rogue");
    assert!(format!("{e:?}").contains("UnknownIssuer"), "{e:?}");
    for role in [Role::SelfSigned, Role::SelfSignedOther] {
        let id = pki.identity(role);
        assert!(id.intermediates.is_empty());
        let c = parse(&id.cert_der);
        assert_eq!(c.subject().as_raw(), c.issuer().as_raw(), "{role:?} is self-signed");
    }
}

#[test]
fn every_role_means_what_it_means_in_the_compact_pki() {
    let pki = pki();
    let subject = |r| pki.identity(r).subject.clone();
    assert_eq!(subject(Role::RogueCa), subject(Role::Registered));
    assert_eq!(subject(Role::Expired), subject(Role::Registered));
    assert_ne!(subject(Role::OtherSubject), subject(Role::Registered));
    assert_eq!(subject(Role::SelfSigned), subject(Role::SelfSignedOther));
    assert_ne!(pki.identity(Role::SelfSigned).x5t_s256, pki.identity(Role::SelfSignedOther).x5t_s256);
    assert!(same_issuer(pki.identity(Role::Registered), pki.identity(Role::OtherSubject)));
    assert!(!same_issuer(pki.identity(Role::Registered), pki.identity(Role::RogueCa)));
    assert!(
        parse(&pki.identity(Role::Expired).cert_der).validity().not_after.timestamp() < time::OffsetDateTime::now_utc().unix_timestamp()
    );
    let server = parse(&pki.server.cert_der);
    let san = format!("{:?}", server.subject_alternative_name().expect("SAN parses").expect("SAN present").value.general_names);
    assert!(san.contains("DNSName(\"localhost\")") && san.contains("[127, 0, 0, 1]"), "{san}");
    assert!(format!("{:?}", server.extended_key_usage().expect("EKU parses").expect("EKU").value).contains("server_auth: true"));
}

#[test]
fn subjects_are_long_with_the_directory_attributes() {
    let pki = pki();
    let reg = parse(&pki.identity(Role::Registered).cert_der);
    let attrs: Vec<(String, String)> =
        reg.subject().iter_attributes().map(|a| (a.attr_type().to_id_string(), a.as_str().expect("string value").to_string())).collect();
    let value = |arcs: &[u64]| attrs.iter().find(|(o, _)| *o == dotted(arcs)).map(|(_, v)| v.clone());
    assert_eq!(value(OID_UID).as_deref(), Some(super::ecosystem::REGISTERED_ORG.software_id));
    assert_eq!(value(OID_SERIAL_NUMBER).as_deref(), Some("12345678000199"));
    assert_eq!(value(OID_BUSINESS_CATEGORY).as_deref(), Some("Private Organization"));
    assert_eq!(value(OID_JURISDICTION_C).as_deref(), Some("BR"));
    assert!(value(OID_ORGANIZATION_IDENTIFIER).is_some_and(|v| v.starts_with("OFBBR-")));
    for short in ["2.5.4.7", "2.5.4.8", "2.5.4.11", "2.5.4.10", "2.5.4.6", "2.5.4.3"] {
        assert!(value(&short.split('.').map(|a| a.parse().expect("arc")).collect::<Vec<u64>>()).is_some(), "{short} in {attrs:?}");
    }
    assert_eq!(attrs.len(), 11);
    let rfc4514 = &pki.identity(Role::Registered).subject;
    assert!(rfc4514.starts_with("UID=") && rfc4514.ends_with(",C=BR"), "{rfc4514}");
    assert!(crate::dn::same_name(rfc4514, rfc4514).expect("the RFC 4514 string parses back"), "{rfc4514}");
}

#[test]
fn every_extension_is_present_and_parses() {
    let pki = pki();
    let reg = parse(&pki.identity(Role::Registered).cert_der);
    let mut seen = Vec::new();
    for ext in reg.extensions() {
        assert!(!matches!(ext.parsed_extension(), ParsedExtension::ParseError { .. }), "{}: {:?}", ext.oid, ext.parsed_extension());
        match ext.parsed_extension() {
            ParsedExtension::CertificatePolicies(p) => assert_eq!(p.len(), 2, "QCP-w and OV"),
            ParsedExtension::AuthorityInfoAccess(aia) => {
                let methods: Vec<String> = aia.accessdescs.iter().map(|d| d.access_method.to_id_string()).collect();
                assert_eq!(methods, ["1.3.6.1.5.5.7.48.1", "1.3.6.1.5.5.7.48.2"], "OCSP and caIssuers");
            }
            ParsedExtension::CRLDistributionPoints(dps) => assert_eq!(dps.points.len(), 1),
            ParsedExtension::SubjectAlternativeName(san) => {
                let uris = san.general_names.iter().filter(|g| matches!(g, x509_parser::extensions::GeneralName::URI(_))).count();
                assert!(san.general_names.len() >= 4 && uris >= 1, "{:?}", san.general_names);
            }
            _ => {}
        }
        seen.push(ext.oid.to_id_string());
    }
    for want in ["2.5.29.17", "2.5.29.15", "2.5.29.37", "2.5.29.35", "2.5.29.31", "2.5.29.32", "1.3.6.1.5.5.7.1.1"] {
        assert!(seen.iter().any(|s| s == want), "{want} in {seen:?}");
    }
    // qcStatements: x509-parser has no model of it; read its DER.
    let qc = reg.extensions().iter().find(|e| e.oid.to_id_string() == dotted(OID_QC_STATEMENTS)).expect("qcStatements present");
    assert!(!qc.critical);
    let (rest, statements) = x509_parser::der_parser::parse_der(qc.value).expect("qcStatements is DER");
    assert!(rest.is_empty());
    let statements = statements.as_sequence().expect("SEQUENCE OF QCStatement");
    let ids: Vec<String> =
        statements.iter().map(|s| s.as_sequence().expect("QCStatement")[0].as_oid().expect("statementId").to_id_string()).collect();
    assert_eq!(ids, [dotted(OID_QC_TYPE), dotted(OID_PSD2_STATEMENT)]);
    let psd2 = &statements[1].as_sequence().expect("QCStatement")[1];
    let [roles, nca_name, nca_id] = &psd2.as_sequence().expect("PSD2QcType")[..] else { panic!("rolesOfPSP, nCAName, nCAId") };
    let roles: Vec<(String, &str)> = roles
        .as_sequence()
        .expect("RolesOfPSP")
        .iter()
        .map(|r| {
            let r = r.as_sequence().expect("RoleOfPSP");
            (r[0].as_oid().expect("roleOfPspOid").to_id_string(), r[1].as_str().expect("roleOfPspName"))
        })
        .collect();
    assert_eq!(
        roles,
        [("0.4.0.19495.1.1".to_string(), "PSP_AS"), ("0.4.0.19495.1.2".to_string(), "PSP_PI"), ("0.4.0.19495.1.3".to_string(), "PSP_AI")]
    );
    assert_eq!((nca_name.as_str().expect("nCAName"), nca_id.as_str().expect("nCAId")), ("Banco Central do Brasil", "BR-BCB"));
}

#[test]
fn the_issuing_ca_as_client_ca_mints_certificates_that_chain_to_the_root() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    pki.write_to(dir.path()).expect("written");
    let ca = ClientCa::load(&dir.path().join("issuing-ca.pem"), &dir.path().join("issuing-ca.key")).expect("issuing CA loads");
    let reg = pki.identity(Role::Registered);
    let other = ca.mint_other_subject(Some(reg)).expect("minted");
    assert_eq!(other.intermediates, reg.intermediates, "the minted identity carries issuing + intermediate");
    verify(&other.cert_der, &other.intermediates, &pki.ca_cert_der).expect("minted other-subject chains to the root");
    assert!(same_issuer(&other, reg));
    let expired = ca.mint_expired(reg).expect("minted");
    assert_eq!(expired.subject, reg.subject);
    let e = verify(&expired.cert_der, &expired.intermediates, &pki.ca_cert_der).expect_err("expired");
    assert!(format!("{e:?}").contains("Expired"), "expired, not unknown: {e:?}");
}

#[cfg(unix)]
#[test]
fn files_keep_the_compact_names_and_read_back_with_their_chains() {
    use std::os::unix::fs::PermissionsExt;
    let pki = pki();
    let compact = TestPki::shared().expect("compact PKI");
    let (dir, compact_dir) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let written = pki.write_to(dir.path()).expect("written");
    let names = |paths: &[std::path::PathBuf]| -> Vec<String> {
        paths.iter().map(|p| p.file_name().expect("name").to_string_lossy().into_owned()).collect()
    };
    let (got, compact_names) = (names(&written), names(&compact.write_to(compact_dir.path()).expect("written")));
    for name in &compact_names {
        assert!(got.contains(name), "{name} is written by both styles");
    }
    for name in ["intermediate-ca.pem", "issuing-ca.pem", "issuing-ca.key", "rogue-issuing-ca.pem"] {
        assert!(got.iter().any(|n| n == name), "{name} in {got:?}");
    }
    for path in &written {
        let mode = std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
        let is_key = path.extension().is_some_and(|e| e == "key");
        assert_eq!(mode, if is_key { 0o600 } else { 0o644 }, "{}", path.display());
    }
    let certs = |name: &str| -> Vec<CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        CertificateDer::pem_file_iter(dir.path().join(name)).expect("readable").collect::<Result<_, _>>().expect("PEM")
    };
    assert_eq!(certs("ca.pem"), std::slice::from_ref(&pki.ca_cert_der), "ca.pem is the root alone");
    assert_eq!(certs("issuing-ca.pem"), pki.identity(Role::Registered).intermediates);
    for role in Role::ALL.iter().copied() {
        let id = Identity::load(role, &dir.path().join(format!("{}.pem", role.name())), &dir.path().join(format!("{}.key", role.name())))
            .expect("loads");
        assert_eq!(id.x5t_s256, pki.identity(role).x5t_s256);
        assert_eq!(id.intermediates, pki.identity(role).intermediates, "{role:?}: the chain reads back");
    }
    let server = Identity::load(Role::Registered, &dir.path().join("server.pem"), &dir.path().join("server.key")).expect("loads");
    assert_eq!(server.chain(), pki.server.chain());
    // The root's key is `ca.key`: the pair mints too (directly under the root).
    let root_ca = ClientCa::load(&dir.path().join("ca.pem"), &dir.path().join("ca.key")).expect("root CA loads");
    let minted = root_ca.mint_other_subject(None).expect("minted");
    verify(&minted.cert_der, &minted.intermediates, &pki.ca_cert_der).expect("minted under the root");
}

/// How long an ecosystem PKI takes: `cargo test -p mtls-core ecosystem_generation_time -- --ignored --nocapture`
/// (with `MTLS_PKI_DUMP=DIR`, the PKI is also written there, to inspect with openssl).
#[test]
#[ignore = "a measurement, not a check"]
fn ecosystem_generation_time() {
    let t0 = std::time::Instant::now();
    let pki = TestPki::generate_with(PkiStyle::Ecosystem).expect("generates");
    eprintln!("ecosystem PKI generated in {:?}", t0.elapsed());
    if let Some(dir) = std::env::var_os("MTLS_PKI_DUMP") {
        pki.write_to(std::path::Path::new(&dir)).expect("written");
    }
}
