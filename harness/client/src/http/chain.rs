//! Why a server's certificate does not verify against a CA bundle. One handshake whose verifier
//! records the chain the server sent and then refuses it (a probe: nothing is trusted, no
//! application data is ever sent), then that chain verified offline against the bundle, and the
//! failure put in words: the chain sent, which CA the bundle lacks, a missing intermediate, dates
//! and names.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::Limits;

/// At most so many of the bundle's subjects are listed.
const BUNDLE_SHOWN: usize = 5;
/// At most so many of the certificates the server sent are described.
const SENT_SHOWN: usize = 5;
/// A name (a DN, a SAN) is quoted up to so many characters.
const NAME_MAX: usize = 160;

/// Why a server's certificate does not verify against `roots`: the chain it sent (subject and issuer of each certificate, validity), and what the bundle lacks. `None` when it verifies, or nothing could be learnt (no TLS answer at all).
pub async fn explain_untrusted(url: &url::Url, roots: &[CertificateDer<'static>], limits: crate::http::Limits) -> Option<String> {
    let host = url.host_str()?.trim_matches(|c| c == '[' || c == ']').to_string();
    let sent = sent_chain(url, limits).await?;
    diagnose(&sent, roots, &host, UnixTime::now())
}

/// The certificates the TLS server at `url` sends (end entity first), from one handshake that
/// refuses them once recorded; `None` when no certificate arrived within `limits.connect`.
async fn sent_chain(url: &url::Url, limits: Limits) -> Option<Vec<CertificateDer<'static>>> {
    let host = url.host_str()?;
    let port = url.port_or_known_default().unwrap_or(443);
    let name = ServerName::try_from(host.trim_matches(|c| c == '[' || c == ']').to_string()).ok()?;
    let provider = mtls_core::tls::provider();
    let recorder = Arc::new(Recorder { sent: Mutex::new(None), schemes: provider.signature_verification_algorithms.supported_schemes() });
    let builder = rustls::ClientConfig::builder_with_provider(provider).with_protocol_versions(rustls::DEFAULT_VERSIONS).ok()?;
    let mut config = builder.dangerous().with_custom_certificate_verifier(recorder.clone()).with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    let addr = format!("{host}:{port}");
    let tcp = tokio::time::timeout(limits.connect, tokio::net::TcpStream::connect(&addr)).await.ok()?.ok()?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    // Always refused by the recorder: the result says nothing the recording does not.
    let _ = tokio::time::timeout(limits.connect, connector.connect(name, tcp)).await;
    let sent = recorder.sent.lock().unwrap_or_else(|p| p.into_inner()).take();
    sent
}

/// A verifier that keeps the chain it is shown and refuses it, and every signature: a handshake
/// with it never completes.
#[derive(Debug)]
struct Recorder {
    sent: Mutex<Option<Vec<CertificateDer<'static>>>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity).chain(intermediates).map(|c| c.clone().into_owned()).collect();
        *self.sent.lock().unwrap_or_else(|p| p.into_inner()) = Some(chain);
        Err(rustls::Error::General("the server's chain is recorded for a diagnosis, never trusted".into()))
    }
    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("a diagnosis handshake trusts nothing".into()))
    }
    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("a diagnosis handshake trusts nothing".into()))
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// What a certificate says of itself, as the diagnosis quotes it.
struct Facts {
    subject: String,
    issuer: String,
    subject_raw: Vec<u8>,
    issuer_raw: Vec<u8>,
    not_before: i64,
    not_after: i64,
    names: Vec<String>,
}

/// The facts of `der`, or `None` when it does not parse as X.509.
fn facts(der: &[u8]) -> Option<Facts> {
    let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(Facts {
        subject: name(c.subject()),
        issuer: name(c.issuer()),
        subject_raw: c.subject().as_raw().to_vec(),
        issuer_raw: c.issuer().as_raw().to_vec(),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        names: san_names(&c),
    })
}

/// A DN per RFC 4514, made inert and bounded: it comes from the server.
fn name(n: &x509_parser::x509::X509Name<'_>) -> String {
    bounded(&mtls_core::dn::to_rfc4514(n))
}

/// Text from a certificate, made inert and cut to [`NAME_MAX`] characters.
fn bounded(s: &str) -> String {
    let s = mtls_core::text::inert(s);
    if s.chars().count() <= NAME_MAX {
        return s;
    }
    format!("{}…", s.chars().take(NAME_MAX).collect::<String>())
}

/// The DNS names and IP addresses of a certificate's subjectAltName (RFC 5280 §4.2.1.6).
fn san_names(c: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = c.subject_alternative_name() else { return Vec::new() };
    san.value
        .general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::DNSName(d) => Some(format!("DNS:{}", bounded(d))),
            GeneralName::IPAddress(b) => ip(b).map(|a| format!("IP:{a}")),
            _ => None,
        })
        .collect()
}

/// An IP address from its SAN octets (4 or 16).
fn ip(b: &[u8]) -> Option<std::net::IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC`.
fn date(secs: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()),
        Err(_) => format!("{secs} s after 1970"),
    }
}

/// Why the chain `sent` (end entity first, as the server sent it) does not verify for `host`
/// against `roots` at `now`, in lines: the chain, then what is wrong and what to do. `None` when
/// it verifies, or when nothing was sent.
pub fn diagnose(sent: &[CertificateDer<'_>], roots: &[CertificateDer<'static>], host: &str, now: UnixTime) -> Option<String> {
    let (ee, intermediates) = sent.split_first()?;
    let err = match verify(ee, intermediates, roots, host, now) {
        Ok(()) => return None,
        Err(e) => e,
    };
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let parsed: Vec<Option<Facts>> = sent.iter().map(|c| facts(c)).collect();
    let bundle: Vec<Facts> = roots.iter().filter_map(|c| facts(c)).collect();
    let mut lines = vec![describe(&parsed, now)];
    if bundle.is_empty() {
        lines.push("ca_bundle holds no parsable certificate: no chain can verify".into());
    } else {
        lines.extend(why(&err, &parsed, &bundle, host, now));
    }
    Some(lines.join("\n"))
}

/// Verify as the harness's clients do: rustls's WebPKI verifier over `roots`.
fn verify(
    ee: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: &[CertificateDer<'static>],
    host: &str,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let mut store = rustls::RootCertStore::empty();
    store.add_parsable_certificates(roots.iter().cloned());
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), mtls_core::tls::provider())
        .build()
        .map_err(|e| rustls::Error::General(format!("ca_bundle: {e}")))?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| rustls::Error::General(format!("{host}: {e}")))?;
    verifier.verify_server_cert(ee, intermediates, &name, &[], now).map(|_| ())
}

/// `the server sent N certificate(s): [1] … (issuer …, valid … to …)`.
fn describe(parsed: &[Option<Facts>], now: i64) -> String {
    let shown: Vec<String> = parsed
        .iter()
        .take(SENT_SHOWN)
        .enumerate()
        .map(|(i, f)| match f {
            Some(f) => {
                let state = if now > f.not_after {
                    ", EXPIRED"
                } else if now < f.not_before {
                    ", NOT YET VALID"
                } else {
                    ""
                };
                format!("[{}] {} (issuer {}, valid {} to {}{state})", i + 1, f.subject, f.issuer, date(f.not_before), date(f.not_after))
            }
            None => format!("[{}] (not a parsable X.509 certificate)", i + 1),
        })
        .collect();
    let more = parsed.len().saturating_sub(SENT_SHOWN);
    let more = if more > 0 { format!(" … and {more} more") } else { String::new() };
    format!("the server sent {} certificate(s): {}{more}", parsed.len(), shown.join("; "))
}

/// The lines that explain `err`.
fn why(err: &rustls::Error, parsed: &[Option<Facts>], bundle: &[Facts], host: &str, now: i64) -> Vec<String> {
    let leaf = parsed.first().and_then(Option::as_ref);
    let cert = match err {
        rustls::Error::InvalidCertificate(c) => c,
        other => return vec![format!("it does not verify against ca_bundle: {other}")],
    };
    match cert {
        CertificateError::UnknownIssuer => unknown_issuer(parsed, bundle),
        // WebPKI says so when a certificate of the bundle bears the issuer's name but its key did
        // not sign: said as such by `unknown_issuer`; else a signature inside the sent chain.
        CertificateError::BadSignature => {
            let mut lines = unknown_issuer(parsed, bundle);
            if !lines.first().is_some_and(|l| l.starts_with("ca_bundle holds a certificate named")) {
                lines = vec![
                    "a signature in the server's chain does not verify: a certificate was not signed by the CA it names as its issuer"
                        .into(),
                ];
            }
            lines
        }
        CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
            vec!["the server's certificate is a CA certificate (basicConstraints cA true), not an end-entity one (RFC 5280 §4.2.1.9)".into()]
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let expired: Vec<String> = parsed
                .iter()
                .flatten()
                .filter(|f| now > f.not_after)
                .map(|f| format!("{} expired on {} (it is now {})", f.subject, date(f.not_after), date(now)))
                .collect();
            if expired.is_empty() {
                vec!["a certificate of the chain (or of ca_bundle) has expired".into()]
            } else {
                vec![format!("the server's chain has expired: {}", expired.join("; "))]
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let early: Vec<String> = parsed
                .iter()
                .flatten()
                .filter(|f| now < f.not_before)
                .map(|f| format!("{} is valid only from {} (it is now {})", f.subject, date(f.not_before), date(now)))
                .collect();
            if early.is_empty() {
                vec!["a certificate of the chain (or of ca_bundle) is not yet valid".into()]
            } else {
                vec![format!("the server's chain is not yet valid: {} (check this machine's clock too)", early.join("; "))]
            }
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = leaf.map(|f| f.names.clone()).unwrap_or_default();
            let names = if names.is_empty() { "no DNS name or IP address".to_string() } else { mtls_core::text::list(&names, ", ", 10) };
            vec![format!(
                "the server's certificate is not valid for {host} (the URL's host): its subjectAltName holds {names} (RFC 6125 §6, RFC 9110 §4.3.4)"
            )]
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            vec!["the server's certificate is not for TLS servers: its extended key usage lacks serverAuth (RFC 5280 §4.2.1.12)".into()]
        }
        other => vec![format!("it does not verify against ca_bundle: {}", rustls::Error::InvalidCertificate(other.clone()))],
    }
}

/// Why no path leads from the sent chain to a certificate of the bundle: the chain followed from
/// the leaf by issuer name, and what its top's issuer is to the bundle.
fn unknown_issuer(parsed: &[Option<Facts>], bundle: &[Facts]) -> Vec<String> {
    let Some(Some(leaf)) = parsed.first() else {
        return vec!["its certificate does not parse: no issuer can be named".into()];
    };
    // Follow the chain by issuer name from the leaf (the server may send it out of order).
    let mut top = leaf;
    let mut used = vec![0usize];
    while let Some((i, next)) = parsed
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .find_map(|(i, f)| f.as_ref().filter(|f| f.subject_raw == top.issuer_raw && f.subject_raw != top.subject_raw).map(|f| (i, f)))
    {
        used.push(i);
        top = next;
    }
    let mut lines = Vec::new();
    let issuer = &top.issuer;
    if bundle.iter().any(|b| b.subject_raw == top.issuer_raw) {
        lines.push(format!(
            "ca_bundle holds a certificate named {issuer} (the issuer of {}), yet the chain does not verify to it: another CA under the same name (a different key), or one not usable as a CA",
            top.subject
        ));
    } else if top.subject_raw == top.issuer_raw {
        lines.push(format!(
            "the server's chain ends in the self-signed certificate {}, which ca_bundle does not hold: add it to ca_bundle if you trust it",
            top.subject
        ));
    } else if used.len() == 1 {
        lines.push(format!(
            "the server sends no intermediate: its leaf is issued by {issuer}, which is not in ca_bundle; either the server must send {issuer} (RFC 8446 §4.4.2 certificate_list) or add {issuer} to ca_bundle"
        ));
    } else {
        lines.push(format!(
            "ca_bundle has no certificate named {issuer} (the issuer of the last certificate the server sent): add that CA (or its root) to ca_bundle"
        ));
    }
    let subjects: Vec<&str> = bundle.iter().map(|b| b.subject.as_str()).collect();
    lines.push(if subjects.is_empty() {
        "ca_bundle holds no parsable certificate".into()
    } else {
        format!("ca_bundle holds {} certificate(s): {}", subjects.len(), mtls_core::text::list(&subjects, "; ", BUNDLE_SHOWN))
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

    type Ca = CertifiedIssuer<'static, KeyPair>;

    fn ca(cn: &str, parent: Option<&Ca>) -> Ca {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        match parent {
            Some(parent) => CertifiedIssuer::signed_by(p, key, parent),
            None => CertifiedIssuer::self_signed(p, key),
        }
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn leaf(issuer: &Ca, valid: Option<(i64, i64)>) -> CertificateDer<'static> {
        let mut p = CertificateParams::new(vec!["as.example".to_string()]).unwrap_or_else(|e| panic!("{e}"));
        p.distinguished_name.push(DnType::CommonName, "as.example");
        if let Some((from, to)) = valid {
            p.not_before = time::OffsetDateTime::from_unix_timestamp(from).unwrap_or_else(|e| panic!("{e}"));
            p.not_after = time::OffsetDateTime::from_unix_timestamp(to).unwrap_or_else(|e| panic!("{e}"));
        }
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        p.signed_by(&key, issuer).unwrap_or_else(|e| panic!("{e}")).der().clone()
    }

    /// 2026-12-07.
    const NOW: u64 = 1_796_601_600;

    fn now() -> UnixTime {
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(NOW))
    }

    struct Pki {
        root: Ca,
        issuing: Ca,
        leaf: CertificateDer<'static>,
    }

    fn pki() -> Pki {
        let root = ca("Root CA", None);
        let issuing = ca("Issuing CA", Some(&root));
        let leaf = leaf(&issuing, None);
        Pki { root, issuing, leaf }
    }

    #[test]
    fn a_chain_that_verifies_needs_no_explanation() {
        let p = pki();
        assert_eq!(diagnose(&[p.leaf.clone(), p.issuing.der().clone()], &[p.root.der().clone()], "as.example", now()), None);
        assert_eq!(diagnose(&[], &[p.root.der().clone()], "as.example", now()), None, "nothing sent: nothing learnt");
    }

    #[test]
    fn a_bundle_of_another_pki_names_the_issuer_it_lacks_and_what_it_holds() {
        let p = pki();
        let other = ca("Other Root", None);
        let why = diagnose(&[p.leaf.clone(), p.issuing.der().clone()], &[other.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(
            why.contains("the server sent 2 certificate(s): [1] CN=as.example (issuer CN=Issuing CA, valid 1975-01-01 00:00 UTC to"),
            "{why}"
        );
        assert!(why.contains("[2] CN=Issuing CA (issuer CN=Root CA"), "{why}");
        assert!(
            why.contains("ca_bundle has no certificate named CN=Root CA (the issuer of the last certificate the server sent): add that CA (or its root) to ca_bundle"),
            "{why}"
        );
        assert!(why.contains("ca_bundle holds 1 certificate(s): CN=Other Root"), "{why}");
    }

    #[test]
    fn a_leaf_sent_alone_under_a_bundled_root_names_the_missing_intermediate() {
        let p = pki();
        let why = diagnose(std::slice::from_ref(&p.leaf), &[p.root.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(
            why.contains("the server sends no intermediate: its leaf is issued by CN=Issuing CA, which is not in ca_bundle; either the server must send CN=Issuing CA (RFC 8446 §4.4.2 certificate_list) or add CN=Issuing CA to ca_bundle"),
            "{why}"
        );
        assert!(why.contains("ca_bundle holds 1 certificate(s): CN=Root CA"), "{why}");
    }

    #[test]
    fn a_chain_sent_out_of_order_is_followed_by_name() {
        let root = ca("Root CA", None);
        let mid = ca("Intermediate CA", Some(&root));
        let issuing = ca("Issuing CA", Some(&mid));
        let sent = [leaf(&issuing, None), mid.der().clone(), issuing.der().clone()];
        let why = diagnose(&sent, &[ca("Elsewhere", None).der().clone()], "as.example", now()).unwrap_or_default();
        assert!(why.contains("ca_bundle has no certificate named CN=Root CA"), "{why}");
    }

    #[test]
    fn a_ca_of_the_same_name_but_another_key_is_told_apart() {
        let p = pki();
        let impostor = ca("Root CA", None);
        let why = diagnose(&[p.leaf.clone(), p.issuing.der().clone()], &[impostor.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(
            why.contains(
                "ca_bundle holds a certificate named CN=Root CA (the issuer of CN=Issuing CA), yet the chain does not verify to it"
            ),
            "{why}"
        );
    }

    #[test]
    fn a_self_signed_server_certificate_is_named() {
        let mut p = CertificateParams::new(vec!["as.example".to_string()]).unwrap_or_else(|e| panic!("{e}"));
        p.distinguished_name.push(DnType::CommonName, "as.example self-signed");
        let own = p.self_signed(&KeyPair::generate().unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
        let why = diagnose(&[own.der().clone()], &[pki().root.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(why.contains("ends in the self-signed certificate CN=as.example self-signed"), "{why}");
        let own_ca = ca("as.example", None);
        let why = diagnose(&[own_ca.der().clone()], &[pki().root.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(why.contains("is a CA certificate"), "{why}");
    }

    #[test]
    fn dates_are_given_for_an_expired_or_early_certificate() {
        let p = pki();
        let day = 86_400;
        let old = leaf(&p.issuing, Some((NOW as i64 - 400 * day, NOW as i64 - 30 * day)));
        let why = diagnose(&[old, p.issuing.der().clone()], &[p.root.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(
            why.contains("EXPIRED") && why.contains("CN=as.example expired on 2026-11-07 00:00 UTC (it is now 2026-12-07 00:00 UTC)"),
            "{why}"
        );
        let early = leaf(&p.issuing, Some((NOW as i64 + day, NOW as i64 + 300 * day)));
        let why = diagnose(&[early, p.issuing.der().clone()], &[p.root.der().clone()], "as.example", now()).unwrap_or_default();
        assert!(why.contains("CN=as.example is valid only from 2026-12-08 00:00 UTC"), "{why}");
    }

    #[test]
    fn a_name_mismatch_quotes_the_names_and_the_host() {
        let p = pki();
        let why =
            diagnose(&[p.leaf.clone(), p.issuing.der().clone()], &[p.root.der().clone()], "mtls.as.example", now()).unwrap_or_default();
        assert!(why.contains("not valid for mtls.as.example (the URL's host): its subjectAltName holds DNS:as.example"), "{why}");
    }

    #[test]
    fn an_empty_bundle_is_said_to_be_one() {
        let p = pki();
        let why = diagnose(&[p.leaf.clone(), p.issuing.der().clone()], &[], "as.example", now()).unwrap_or_default();
        assert!(why.contains("ca_bundle holds no parsable certificate"), "{why}");
    }
}
