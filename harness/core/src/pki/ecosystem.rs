//! The ecosystem-shaped test PKI ([`super::PkiStyle::Ecosystem`]): Open Finance transport
//! certificates — RSA-2048 leaves under RSA-4096 CAs, root → intermediate → issuing, long
//! subjects and the extensions real directories issue ([`super::ecosystem_profile`]).
//!
//! The trust anchor is the root alone (`ca.pem`); every identity and the server carry their
//! chain (leaf, issuing CA, intermediate CA — never the root), as deployed clients and servers
//! send it. The rogue-CA identity comes from a second, untrusted RSA hierarchy (root → issuing).
//!
//! rcgen (ring backend) cannot generate RSA keys: the `rsa` crate does, in parallel threads (a
//! 4096-bit key takes seconds), and rcgen loads them as PKCS#8 with `PKCS_RSA_SHA256`.

use std::net::{IpAddr, Ipv4Addr};

use rcgen::{CertifiedIssuer, KeyPair, SanType};
use rsa::pkcs8::EncodePrivateKey;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use super::ecosystem_profile::{ca_params, leaf_params, subject, Org};
use super::{Identity, PkiError, PkiStyle, Role, TestPki, REGISTERED_SAN_DNS, REGISTERED_SAN_EMAIL, REGISTERED_SAN_IP, REGISTERED_SAN_URI};

/// Bits of every CA key.
pub const CA_KEY_BITS: usize = 4096;
/// Bits of every end-entity key (clients and the server).
pub const LEAF_KEY_BITS: usize = 2048;

/// The registered client's organisation: its subject is the one a target registers.
pub(super) const REGISTERED_ORG: Org = Org {
    software_id: "c1b7e2a4-5d3f-4e8a-9b61-0f2d7c8e1a01",
    org_id: "5f0d8c3e-7a21-4b9c-8e4f-2d6a1b3c9e01",
    registration: "12345678000199",
    common_name: "tpp-client-001.example.com",
    legal_name: "Example Fintech Ltda",
};

/// Another participant of the same directory, issued by the same CA, registered nowhere.
const OTHER_ORG: Org = Org {
    software_id: "8a4e1f60-2b9d-4c37-a5e8-71c0d3f92b02",
    org_id: "9e2b4d71-3c58-4f0a-b6d2-84e1f5a07c02",
    registration: "98765432000155",
    common_name: "tpp-client-002.example.org",
    legal_name: "Other Fintech Ltda",
};

/// The subject of both self-signed certificates.
const SELF_SIGNED_ORG: Org = Org {
    software_id: "e3d9a7b2-6f41-4a8c-9d05-c2b8e4f61a03",
    org_id: "5f0d8c3e-7a21-4b9c-8e4f-2d6a1b3c9e01",
    registration: "12345678000199",
    common_name: "self-signed-client-001.example.com",
    legal_name: "Example Fintech Ltda",
};

/// The authorization server's organisation (its certificate's CN is `localhost`).
const SERVER_ORG: Org = Org {
    software_id: "0b6f2c9d-4e1a-4d7b-8c3f-a5e9d2b71c04",
    org_id: "3a7c5e2f-9b14-4e6d-a8c1-f2d4b6e93d04",
    registration: "11222333000181",
    common_name: "localhost",
    legal_name: "Example Bank S.A.",
};

/// File-name stems (and AIA/CRL slugs) of the trusted hierarchy's CAs.
pub(super) const INTERMEDIATE_SLUG: &str = "intermediate-ca";
/// The issuing CA's stem.
pub(super) const ISSUING_SLUG: &str = "issuing-ca";

/// A fresh RSA key of `bits`, as an rcgen key pair signing with RSASSA-PKCS1-v1_5 SHA-256.
fn rsa_key(bits: usize) -> Result<KeyPair, PkiError> {
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)?;
    let der = key.to_pkcs8_der()?;
    let pkcs8 = PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
    Ok(KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)?)
}

/// Every key of the PKI.
struct Keys {
    root: KeyPair,
    intermediate: KeyPair,
    issuing: KeyPair,
    rogue_root: KeyPair,
    rogue_issuing: KeyPair,
    server: KeyPair,
    /// One per role, in [`Role::ALL`] order.
    leaves: Vec<(Role, KeyPair)>,
}

/// A scoped thread's result; its panic, if it panicked, goes on in this thread.
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Every key of the PKI, each generated on a thread of its own: RSA generation is CPU-bound and
/// its time varies widely from key to key, so starting them all at once balances best.
fn keys() -> Result<Keys, PkiError> {
    std::thread::scope(|s| {
        let spawn = |bits: usize| s.spawn(move || rsa_key(bits));
        let cas = [(); 5].map(|()| spawn(CA_KEY_BITS));
        let server = spawn(LEAF_KEY_BITS);
        let leaves: Vec<_> = Role::ALL.iter().map(|&role| (role, spawn(LEAF_KEY_BITS))).collect();
        let [root, intermediate, issuing, rogue_root, rogue_issuing] = cas.map(join);
        Ok(Keys {
            root: root?,
            intermediate: intermediate?,
            issuing: issuing?,
            rogue_root: rogue_root?,
            rogue_issuing: rogue_issuing?,
            server: join(server)?,
            leaves: leaves.into_iter().map(|(role, h)| Ok((role, join(h)?))).collect::<Result<_, PkiError>>()?,
        })
    })
}

/// The registered client's SANs: the compact PKI's four (so SAN-based registrations match
/// either style) and a second DNS name.
fn registered_sans() -> Result<Vec<SanType>, PkiError> {
    Ok(vec![
        SanType::DnsName(REGISTERED_SAN_DNS.try_into()?),
        SanType::DnsName("payments.tpp-client-001.example.com".try_into()?),
        SanType::URI(REGISTERED_SAN_URI.try_into()?),
        SanType::IpAddress(REGISTERED_SAN_IP),
        SanType::Rfc822Name(REGISTERED_SAN_EMAIL.try_into()?),
    ])
}

fn other_sans() -> Result<Vec<SanType>, PkiError> {
    Ok(vec![
        SanType::DnsName("tpp-client-002.example.com".try_into()?),
        SanType::DnsName("payments.tpp-client-002.example.org".try_into()?),
        SanType::URI("https://tpp.example.org/clients/002".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20))),
    ])
}

fn self_signed_sans() -> Result<Vec<SanType>, PkiError> {
    Ok(vec![
        SanType::DnsName("self-signed-client-001.example.com".try_into()?),
        SanType::URI("https://tpp.example.com/clients/self-signed-001".try_into()?),
    ])
}

/// Generate the ecosystem PKI. Takes seconds (five RSA-4096 keys); use
/// [`TestPki::shared_with`] where one per process will do.
pub(super) fn generate() -> Result<TestPki, PkiError> {
    let keys = keys()?;

    let root = CertifiedIssuer::self_signed(ca_params("mtls-harness Ecosystem Root CA", None, None)?, keys.root)?;
    let root_key_pem = root.key().serialize_pem();
    let intermediate = CertifiedIssuer::signed_by(
        ca_params("mtls-harness Ecosystem Intermediate CA", Some(1), Some("root-ca"))?,
        keys.intermediate,
        &root,
    )?;
    let issuing = CertifiedIssuer::signed_by(
        ca_params("mtls-harness Ecosystem Issuing CA", Some(0), Some(INTERMEDIATE_SLUG))?,
        keys.issuing,
        &intermediate,
    )?;
    let issuing_key_pem = issuing.key().serialize_pem();
    let rogue_root = CertifiedIssuer::self_signed(ca_params("mtls-harness Ecosystem Rogue Root CA", None, None)?, keys.rogue_root)?;
    let rogue_issuing = CertifiedIssuer::signed_by(
        ca_params("mtls-harness Ecosystem Rogue Issuing CA", Some(0), Some("rogue-root-ca"))?,
        keys.rogue_issuing,
        &rogue_root,
    )?;
    let chain = vec![issuing.der().clone(), intermediate.der().clone()];
    let rogue_chain = vec![rogue_issuing.der().clone()];

    let server_key = keys.server;
    let server_sans = vec![SanType::DnsName("localhost".try_into()?), SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST))];
    let server_params = leaf_params(subject(&SERVER_ORG)?, server_sans, Some(ISSUING_SLUG), true);
    let server = Identity::new(Role::Registered, server_params.signed_by(&server_key, &issuing)?.der().clone(), &server_key)?
        .with_intermediates(chain.clone());

    let mut identities = Vec::new();
    for (role, key) in keys.leaves {
        let (der, intermediates): (CertificateDer<'static>, _) = match role {
            Role::Registered => (
                leaf_params(subject(&REGISTERED_ORG)?, registered_sans()?, Some(ISSUING_SLUG), false)
                    .signed_by(&key, &issuing)?
                    .der()
                    .clone(),
                chain.clone(),
            ),
            Role::OtherSubject => (
                leaf_params(subject(&OTHER_ORG)?, other_sans()?, Some(ISSUING_SLUG), false).signed_by(&key, &issuing)?.der().clone(),
                chain.clone(),
            ),
            Role::RogueCa => (
                leaf_params(subject(&REGISTERED_ORG)?, registered_sans()?, Some("rogue-issuing-ca"), false)
                    .signed_by(&key, &rogue_issuing)?
                    .der()
                    .clone(),
                rogue_chain.clone(),
            ),
            Role::Expired => {
                let mut p = leaf_params(subject(&REGISTERED_ORG)?, registered_sans()?, Some(ISSUING_SLUG), false);
                p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(395);
                p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(30);
                (p.signed_by(&key, &issuing)?.der().clone(), chain.clone())
            }
            Role::SelfSigned | Role::SelfSignedOther => {
                (leaf_params(subject(&SELF_SIGNED_ORG)?, self_signed_sans()?, None, false).self_signed(&key)?.der().clone(), Vec::new())
            }
        };
        identities.push(Identity::new(role, der, &key)?.with_intermediates(intermediates));
    }

    let mut pki = TestPki::assemble(PkiStyle::Ecosystem, &root, root_key_pem, rogue_root.pem(), server, identities)?;
    pki.ca_files = vec![
        (format!("{INTERMEDIATE_SLUG}.pem"), intermediate.pem(), false),
        // The issuing CA followed by its intermediate: what a target's `client_ca.cert` names,
        // so that the certificates the harness mints with it carry the chain to the root.
        (format!("{ISSUING_SLUG}.pem"), format!("{}{}", issuing.pem(), intermediate.pem()), false),
        (format!("{ISSUING_SLUG}.key"), issuing_key_pem, true),
        ("rogue-issuing-ca.pem".into(), rogue_issuing.pem(), false),
    ];
    Ok(pki)
}
