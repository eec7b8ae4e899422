//! Forwarded client certificates (RFC 9440): the catalogue of HTTP headers in which
//! TLS-terminating edges pass a client certificate to the origin (`data/forwarded-cert-headers.yaml`,
//! extensible from a target file), and the encodings they use. The `edge.*` checks send a
//! certificate in them, never at TLS, and expect the origin to ignore them (RFC 9440 §4).

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// How a header carries the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, strum::VariantArray, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Encoding {
    /// RFC 9440 §2.1: a structured-field byte sequence, `:<base64 DER>:`.
    Rfc9440,
    /// The PEM, URL-encoded (nginx `$ssl_client_escaped_cert`, AWS ALB).
    UrlPem,
    /// The PEM with its line breaks as spaces (Apache `%{SSL_CLIENT_CERT}s`).
    PemSpaces,
    /// The PEM on one line, no breaks at all.
    OneLinePem,
    /// Base64 of the DER, no armour (HAProxy, Azure, Cloudflare, Traefik).
    Base64Der,
    /// Envoy XFCC: `Hash=<hex SHA-256>;Cert="<URL-encoded PEM>"`.
    Xfcc,
}

impl Encoding {
    /// `url_pem`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Every encoding.
    pub const ALL: &'static [Encoding] = <Encoding as strum::VariantArray>::VARIANTS;

    /// `der` as this encoding puts it in a header value.
    pub fn encode(self, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let pem = crate::pki::pem_encode("CERTIFICATE", der);
        let url = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        match self {
            Encoding::Rfc9440 => format!(":{b64}:"),
            Encoding::UrlPem => url(&pem),
            Encoding::PemSpaces => pem.trim_end().replace('\n', " "),
            Encoding::OneLinePem => pem.replace(['\n', '\r'], ""),
            Encoding::Base64Der => b64,
            Encoding::Xfcc => format!("Hash={};Cert=\"{}\"", hex(&sha2::Sha256::digest(der)), url(&pem)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One header of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CertHeader {
    /// The field name, as the product documents it.
    pub name: String,
    /// How the product encodes the certificate.
    pub encoding: Encoding,
    /// Also send it in every other encoding.
    #[serde(default)]
    pub every_encoding: bool,
    /// The product or specification (its documentation).
    pub source: String,
}

/// What a companion header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionValue {
    /// The literal `SUCCESS` a verifying edge sets.
    #[serde(rename = "SUCCESS")]
    Success,
    /// The certificate's subject DN.
    Subject,
    /// The hex SHA-256 of the certificate's DER.
    Sha256,
}

/// A header edges send beside the certificate (verification flag, subject, fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Companion {
    /// The field name.
    pub name: String,
    /// What it carries.
    pub value: CompanionValue,
    /// The product or specification.
    pub source: String,
}

impl Companion {
    /// The value for a certificate with `subject` and `der`.
    pub fn value_for(&self, subject: &str, der: &[u8]) -> String {
        match self.value {
            CompanionValue::Success => "SUCCESS".into(),
            CompanionValue::Subject => subject.into(),
            CompanionValue::Sha256 => hex(&sha2::Sha256::digest(der)),
        }
    }
}

/// The catalogue: headers and companions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Certificate headers.
    pub headers: Vec<CertHeader>,
    /// Companion headers.
    #[serde(default)]
    pub companions: Vec<Companion>,
}

const BUILTIN: &str = include_str!("../data/forwarded-cert-headers.yaml");

impl Catalogue {
    /// The built-in catalogue (`harness/core/data/forwarded-cert-headers.yaml`), parsed once.
    pub fn builtin() -> Catalogue {
        static PARSED: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
        // Checked by a unit test; an unparsable built-in file is a build defect, not input.
        PARSED.get_or_init(|| serde_yaml::from_str(BUILTIN).unwrap_or(Catalogue { headers: Vec::new(), companions: Vec::new() })).clone()
    }

    /// The built-in catalogue with `extra` headers (a target file's) added, names not repeated.
    pub fn with(extra: &[CertHeader]) -> Catalogue {
        let mut c = Catalogue::builtin();
        for h in extra {
            if !c.headers.iter().any(|k| k.name.eq_ignore_ascii_case(&h.name) && k.encoding == h.encoding) {
                c.headers.push(h.clone());
            }
        }
        c
    }

    /// Every header in its own encoding, to send one at a time.
    pub fn singles(&self) -> Vec<(String, Encoding)> {
        let mut out: Vec<(String, Encoding)> = Vec::new();
        for h in &self.headers {
            if !out.iter().any(|(m, e)| m.eq_ignore_ascii_case(&h.name) && *e == h.encoding) {
                out.push((h.name.clone(), h.encoding));
            }
        }
        out
    }

    /// Groups to send one group per request: the underscore spelling of every hyphenated name
    /// (which some proxies pass and some origins normalise to the hyphenated one), and, for each
    /// other encoding, the `every_encoding` headers in it (origins decode what they are given).
    pub fn variants(&self) -> Vec<(String, Vec<(String, Encoding)>)> {
        let mut out = Vec::new();
        let underscores: Vec<(String, Encoding)> =
            self.headers.iter().filter(|h| h.name.contains('-')).map(|h| (h.name.replace('-', "_"), h.encoding)).collect();
        if !underscores.is_empty() {
            out.push(("the underscore spellings".to_string(), underscores));
        }
        for e in Encoding::ALL {
            let group: Vec<(String, Encoding)> =
                self.headers.iter().filter(|h| h.every_encoding && h.encoding != *e).map(|h| (h.name.clone(), *e)).collect();
            if !group.is_empty() {
                let names = group.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
                out.push((format!("{names} ({})", e.name()), group));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_and_names_the_standard_fields() {
        let c: Catalogue = serde_yaml::from_str(BUILTIN).expect("the built-in catalogue parses");
        assert!(c.headers.len() >= 15);
        for name in ["Client-Cert", "X-Forwarded-Client-Cert", "X-SSL-Client-Cert", "X-Amzn-Mtls-Clientcert", "client-certificate"] {
            assert!(c.headers.iter().any(|h| h.name == name), "{name}");
        }
        assert!(c.headers.iter().all(|h| !h.source.is_empty()), "every header is cited");
        assert_eq!(c.singles().len(), c.headers.len());
        let variants = c.variants();
        assert!(variants[0].1.contains(&("X_SSL_Client_Cert".into(), Encoding::UrlPem)), "underscore variants");
        assert!(
            variants.iter().any(|(_, g)| g.contains(&("X-SSL-Client-Cert".into(), Encoding::Rfc9440))),
            "every encoding of the common names"
        );
        assert_eq!(variants.len(), 1 + Encoding::ALL.len() - 1);
    }

    #[test]
    fn encodings_round_trip_to_the_der() {
        let der = b"\x30\x03\x02\x01\x05".to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        assert_eq!(Encoding::Rfc9440.encode(&der), format!(":{b64}:"));
        assert_eq!(Encoding::Base64Der.encode(&der), b64);
        let pem = percent_encoding::percent_decode_str(&Encoding::UrlPem.encode(&der)).decode_utf8().expect("utf-8").to_string();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n") && pem.contains(&b64));
        assert!(!Encoding::PemSpaces.encode(&der).contains('\n') && Encoding::PemSpaces.encode(&der).contains("----- "));
        assert_eq!(Encoding::OneLinePem.encode(&der), format!("-----BEGIN CERTIFICATE-----{b64}-----END CERTIFICATE-----"));
        let xfcc = Encoding::Xfcc.encode(&der);
        assert!(xfcc.starts_with("Hash=") && xfcc.contains(";Cert=\"%2D%2D"), "{xfcc}");
    }
}
