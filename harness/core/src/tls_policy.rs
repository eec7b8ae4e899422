//! A profile's TLS-layer rules (the `tls:` section of `profiles/*.yaml`): the TLS 1.2 suite
//! allow-list, the suites a server must accept, and the endpoints exempt from both, TLS 1.3
//! preference, the secure renegotiation indication or renegotiation refused, the extended master
//! secret, the smallest server key and DHE group, and which endpoints must or must not ask for
//! a client certificate. The `tls.*` checks judge them; where no selected
//! profile sets a rule, they judge BCP 195 (RFC 9325) at the catalogue's informational level.

use serde::Deserialize;

/// RFC 9325 §4.2: the four RECOMMENDED TLS 1.2 suites.
pub const BCP195_SUITES: [&str; 4] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

/// A rule that only needs its source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cited {
    /// Specification and section.
    pub citation: String,
}

/// The TLS 1.2 suites a server may accept, and those it must.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteRule {
    /// IANA names of the only TLS 1.2 suites allowed (empty: no allow-list).
    #[serde(default)]
    pub only: Vec<String>,
    /// IANA names of TLS 1.2 suites every non-exempt origin must accept ("shall support").
    #[serde(default)]
    pub accepts: Vec<String>,
    /// Endpoints (discovery metadata keys, or `discovery`) exempt from the list: browser-facing
    /// ones, where only RFC 9325 §4.1's MUST NOTs apply.
    #[serde(default)]
    pub except: Vec<String>,
    /// Specification and section.
    pub citation: String,
}

/// The smallest keys a server may use in its handshake, in bits (RFC 9325 §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySizeRule {
    /// RSA server certificates: the modulus.
    #[serde(default)]
    pub rsa: Option<u32>,
    /// Elliptic-curve server certificates: the curve's order.
    #[serde(default)]
    pub ec: Option<u32>,
    /// Ephemeral finite-field Diffie-Hellman (`TLS_DHE_*`): the prime.
    #[serde(default)]
    pub dhe: Option<u32>,
    /// Specification and section.
    pub citation: String,
}

/// What a server must do about renegotiation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenegotiationRule {
    /// `true`: a client-initiated renegotiation must be refused, besides the RFC 5746 indication.
    #[serde(default)]
    pub refused: bool,
    /// Specification and section.
    pub citation: String,
}

/// Which endpoints must, and which must not, send a CertificateRequest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertRequestRule {
    /// Endpoints (metadata keys; the effective, aliased URL is probed) that must ask.
    #[serde(default)]
    pub required: Vec<String>,
    /// Endpoints (`discovery` or metadata keys; the top-level URL is probed) that must not ask.
    #[serde(default)]
    pub forbidden: Vec<String>,
    /// Specification and section.
    pub citation: String,
}

/// A profile's `tls:` section; every member optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsPolicy {
    /// A server that supports TLS 1.3 must pick it over TLS 1.2 (RFC 9325 §3.1.1).
    #[serde(default)]
    pub prefer_tls13: Option<Cited>,
    /// The TLS 1.2 suite allow-list.
    #[serde(default)]
    pub tls12_suites: Option<SuiteRule>,
    /// Renegotiation.
    #[serde(default)]
    pub renegotiation: Option<RenegotiationRule>,
    /// The extended master secret must be agreed (RFC 7627 §5.2).
    #[serde(default)]
    pub extended_master_secret: Option<Cited>,
    /// Certificate requests per endpoint.
    #[serde(default)]
    pub cert_request: Option<CertRequestRule>,
    /// The smallest server certificate keys and DHE groups.
    #[serde(default)]
    pub key_sizes: Option<KeySizeRule>,
}

impl TlsPolicy {
    /// Errors in the section: unknown suite names (checked by `known_suite`), empty lists.
    pub fn validate(&self, known_suite: impl Fn(&str) -> bool) -> Result<(), String> {
        if let Some(s) = &self.tls12_suites {
            if s.only.is_empty() && s.accepts.is_empty() {
                return Err("tls.tls12_suites: name at least one suite in `only` or `accepts`".into());
            }
            for (field, list) in [("only", &s.only), ("accepts", &s.accepts)] {
                if let Some(bad) = list.iter().find(|n| !known_suite(n)) {
                    return Err(format!("tls.tls12_suites.{field}: `{bad}` is not an IANA TLS cipher suite name"));
                }
            }
            if let Some(bad) = s.accepts.iter().find(|n| !s.only.is_empty() && !s.only.contains(n)) {
                return Err(format!("tls.tls12_suites.accepts: `{bad}` is not in `only`: no server could meet both"));
            }
        }
        if let Some(c) = &self.cert_request {
            if c.required.is_empty() && c.forbidden.is_empty() {
                return Err("tls.cert_request: give `required`, `forbidden` or both".into());
            }
        }
        if let Some(k) = &self.key_sizes {
            if k.rsa.is_none() && k.ec.is_none() && k.dhe.is_none() {
                return Err("tls.key_sizes: give `rsa`, `ec`, `dhe` or several".into());
            }
        }
        Ok(())
    }
}

/// RFC 9325 §4.5: RSA server certificates of 2048 bits or more (MUST), no curve under 224 bits
/// (MUST NOT), DHE groups of 2048 bits or more (REQUIRED).
pub fn bcp195_key_sizes() -> KeySizeRule {
    KeySizeRule { rsa: Some(2048), ec: Some(224), dhe: Some(2048), citation: "RFC 9325 §4.5".into() }
}

/// One rule in force for a run, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce<T> {
    /// The profile that sets it; `None` for the BCP 195 default.
    pub profile: Option<String>,
    /// The rule.
    pub rule: T,
}

impl<T> InForce<T> {
    /// `fapi2-sp-mtls (FAPI 2.0 SP §5.2.2-1)`, or the default's citation.
    pub fn source(&self, citation: &str) -> String {
        match &self.profile {
            Some(p) => format!("{p} ({citation})"),
            None => format!("BCP 195 ({citation})"),
        }
    }
}

/// The TLS rules of the selected profiles, each aspect from every profile that sets it; BCP 195
/// (RFC 9325) where none does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRules {
    /// TLS 1.2 suite allow-lists.
    pub suites: Vec<InForce<SuiteRule>>,
    /// Renegotiation rules.
    pub renegotiation: Vec<InForce<RenegotiationRule>>,
    /// Certificate-request rules (no default: only profiles forbid certificate requests).
    pub cert_request: Vec<InForce<CertRequestRule>>,
    /// TLS 1.3 preference rules.
    pub prefer_tls13: Vec<InForce<Cited>>,
    /// Extended master secret rules.
    pub extended_master_secret: Vec<InForce<Cited>>,
    /// Key size rules.
    pub key_sizes: Vec<InForce<KeySizeRule>>,
}

impl TlsRules {
    /// The rules of `policies` (each profile's id and its `tls:` section), with the BCP 195
    /// defaults where none sets an aspect. `mtls_core::profile::tls_rules` gives it the selected
    /// profiles.
    pub fn of(policies: &[(&str, &TlsPolicy)]) -> TlsRules {
        fn collect<T: Clone>(policies: &[(&str, &TlsPolicy)], get: impl Fn(&TlsPolicy) -> Option<&T>) -> Vec<InForce<T>> {
            policies.iter().filter_map(|(id, t)| get(t).map(|r| InForce { profile: Some(id.to_string()), rule: r.clone() })).collect()
        }
        fn or_default<T>(mut v: Vec<InForce<T>>, d: T) -> Vec<InForce<T>> {
            if v.is_empty() {
                v.push(InForce { profile: None, rule: d });
            }
            v
        }
        TlsRules {
            suites: or_default(
                collect(policies, |t| t.tls12_suites.as_ref()),
                SuiteRule {
                    only: BCP195_SUITES.iter().map(|s| s.to_string()).collect(),
                    accepts: Vec::new(),
                    except: vec!["authorization_endpoint".into()],
                    citation: "RFC 9325 §4.2; browser-facing endpoints: §4.1".into(),
                },
            ),
            renegotiation: or_default(
                collect(policies, |t| t.renegotiation.as_ref()),
                RenegotiationRule { refused: false, citation: "RFC 9325 §3.5; RFC 5746 §3.6".into() },
            ),
            cert_request: collect(policies, |t| t.cert_request.as_ref()),
            prefer_tls13: or_default(collect(policies, |t| t.prefer_tls13.as_ref()), Cited { citation: "RFC 9325 §3.1.1".into() }),
            extended_master_secret: or_default(
                collect(policies, |t| t.extended_master_secret.as_ref()),
                Cited { citation: "RFC 9325 §3.5; RFC 7627 §5.2".into() },
            ),
            key_sizes: or_default(collect(policies, |t| t.key_sizes.as_ref()), bcp195_key_sizes()),
        }
    }
}
