//! Planted defects: each switches off exactly one behaviour of the mock AS, so that a self-test
//! can prove the check that guards that behaviour is able to fail.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Defect {
    /// Discovery publishes an `issuer` other than the one it was fetched from. Caught by `disc.fetch`.
    WrongIssuer,
    /// The token alias in `mtls_endpoint_aliases` uses `http:`. Caught by `disc.aliases.object`.
    AliasNotHttps,
    /// Discovery omits `token_endpoint` (top level and alias). Caught by `endpoints.resolve`.
    NoTokenEndpoint,
    /// The AS compares the registered DN to the certificate subject as raw strings in DER order,
    /// so a correctly registered RFC 4514 DN never matches. Caught by `auth.pki.accept`.
    DnStringCompare,
    /// tls_client_auth issues a token when no certificate was presented. Caught by `auth.pki.no-cert`.
    AcceptNoCert,
    /// tls_client_auth accepts any certificate at all. Caught by `auth.pki.other-subject` and `auth.pki.rogue-ca`.
    AcceptAnyCert,
    /// tls_client_auth matches the DN but never validates the chain. Caught by `auth.pki.rogue-ca`.
    AcceptRogueCa,
    /// tls_client_auth accepts any certificate from the trusted CA, whatever its subject.
    /// Caught by `auth.pki.other-subject`.
    AcceptAnyTrustedCert,
    /// Access tokens carry no `cnf` claim. Caught by `bind.token-cnf`.
    NoCnf,
    /// `cnf.x5t#S256` is hex instead of base64url. Caught by `bind.token-cnf`.
    CnfHex,
    /// `cnf.x5t#S256` keeps base64 `=` padding. Caught by `bind.token-cnf`.
    CnfPadded,
    /// The resource server never compares the presented certificate with `cnf`.
    /// Caught by `bind.rs.other-cert` and `bind.rs.no-cert`.
    RsIgnoresCert,
    /// The resource server skips the binding check when no certificate is presented.
    /// Caught by `bind.rs.no-cert`.
    RsAcceptsMissingCert,
    /// The resource server hashes the PEM text instead of the DER, so no certificate ever
    /// matches. Caught by `bind.rs.same-cert`.
    RsThumbprintPem,
}

impl Defect {
    pub const ALL: [Defect; 14] = [
        Defect::WrongIssuer,
        Defect::AliasNotHttps,
        Defect::NoTokenEndpoint,
        Defect::DnStringCompare,
        Defect::AcceptNoCert,
        Defect::AcceptAnyCert,
        Defect::AcceptRogueCa,
        Defect::AcceptAnyTrustedCert,
        Defect::NoCnf,
        Defect::CnfHex,
        Defect::CnfPadded,
        Defect::RsIgnoresCert,
        Defect::RsAcceptsMissingCert,
        Defect::RsThumbprintPem,
    ];

    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// The set of defects one mock instance plants.
#[derive(Debug, Clone, Default)]
pub struct Defects(Vec<Defect>);

impl Defects {
    pub fn new(list: &[Defect]) -> Self {
        Defects(list.to_vec())
    }

    pub fn has(&self, d: Defect) -> bool {
        self.0.contains(&d)
    }

    pub fn list(&self) -> &[Defect] {
        &self.0
    }
}
