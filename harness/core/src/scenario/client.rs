//! The `client:` section of a client-mode scenario: the client under test, what it should do
//! (steps), and — for the built-in reference client — how it misbehaves in self-tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AuthMethod;

/// One thing a client under test is asked to do (`MTLS_STEPS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, strum::IntoStaticStr, strum::VariantArray, strum::EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Step {
    /// Get an access token at the token endpoint with mTLS client authentication.
    Token,
    /// Push an authorization request (RFC 9126).
    Par,
    /// The authorization code flow: the top-level authorization endpoint (RFC 8705 §5), then the
    /// code exchanged at the token endpoint.
    Authorize,
    /// Introspect the access token.
    Introspect,
    /// Call the userinfo endpoint with the access token.
    Userinfo,
    /// Call the protected resource with the access token and the certificate it is bound to.
    Resource,
    /// Revoke the access token.
    Revoke,
}

impl Step {
    /// Every step, in the order a client performs them.
    pub const ALL: &'static [Step] = <Step as strum::VariantArray>::VARIANTS;

    /// The name `MTLS_STEPS` uses (`introspect`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// A step by its name.
    pub fn parse(s: &str) -> Option<Step> {
        s.parse().ok()
    }
}

/// Ways the reference client can misbehave, each caught by exactly one group of client checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum), value(rename_all = "snake_case"))]
pub enum Misbehaviour {
    /// Use the top-level endpoints even where aliases are published. Caught by `client.alias.*`.
    IgnoreAliases,
    /// Use `mtls_endpoint_aliases.authorization_endpoint` when present. Caught by `client.authz.top-level`.
    AliasAuthz,
    /// Call the resource without the certificate. Caught by `client.rs.same-cert`.
    NoCertResource,
    /// Leave `client_id` out of token requests. Caught by `client.client-id`.
    OmitClientId,
    /// Present another certificate to the introspection endpoint. Caught by `client.cert.presented`.
    SwitchCert,
    /// Never read discovery; use hard-coded endpoint paths under the issuer. Caught by `client.discovery`.
    NoDiscovery,
    /// For endpoints without an alias, guess one on the token alias's host. Caught by `client.alias.fallback`.
    GuessAliases,
    /// Read discovery, then do nothing else and exit 0. Caught by every check of an asked step.
    OnlyDiscovery,
    /// private_key_jwt: `aud` = the token endpoint URL, not the issuer. Caught by
    /// `client.auth.assertion.aud` under a FAPI 2.0 profile (plain RFC 7523 §3 allows it).
    AssertionAudTokenEndpoint,
    /// private_key_jwt: sign one assertion and send it again (same `jti`). Caught by `client.auth.assertion.jti`.
    AssertionReuseJti,
    /// private_key_jwt: sign with RS256 (a registered RSA key). Caught by `client.auth.assertion.alg`
    /// under a FAPI 2.0 profile (plain RFC 7523 allows it).
    AssertionRs256,
    /// private_key_jwt: an assertion whose `exp` has passed. Caught by `client.auth.assertion.lifetime`.
    AssertionExpired,
    /// private_key_jwt: sign with a key the client never registered. Caught by `client.auth.assertion.signature`.
    AssertionUnregisteredKey,
    /// private_key_jwt: `iss` is the client's own URL, not its client_id. Caught by `client.auth.assertion.claims`.
    AssertionIssNotClientId,
    /// private_key_jwt: call the token endpoint without the transport certificate. Caught by
    /// `client.cert.presented`.
    NoCertToken,
}

impl Misbehaviour {
    /// Every misbehaviour.
    pub const ALL: &'static [Misbehaviour] = <Misbehaviour as strum::VariantArray>::VARIANTS;

    /// The client checks that must fail when the reference client misbehaves this way.
    pub fn caught_by(self) -> &'static [&'static str] {
        match self {
            Misbehaviour::IgnoreAliases => &[
                "client.alias.token",
                "client.alias.par",
                "client.alias.introspection",
                "client.alias.revocation",
                "client.alias.userinfo",
            ],
            Misbehaviour::AliasAuthz => &["client.authz.top-level"],
            Misbehaviour::NoCertResource => &["client.rs.same-cert"],
            Misbehaviour::OmitClientId => &["client.client-id"],
            Misbehaviour::SwitchCert => &["client.cert.presented"],
            Misbehaviour::NoDiscovery => &["client.discovery"],
            Misbehaviour::GuessAliases => &["client.alias.fallback"],
            Misbehaviour::OnlyDiscovery => &[
                "client.alias.token",
                "client.alias.par",
                "client.alias.introspection",
                "client.alias.revocation",
                "client.alias.userinfo",
                "client.authz.top-level",
                "client.rs.same-cert",
            ],
            Misbehaviour::AssertionAudTokenEndpoint => &["client.auth.assertion.aud"],
            Misbehaviour::AssertionReuseJti => &["client.auth.assertion.jti"],
            Misbehaviour::AssertionRs256 => &["client.auth.assertion.alg"],
            Misbehaviour::AssertionExpired => &["client.auth.assertion.lifetime"],
            Misbehaviour::AssertionUnregisteredKey => &["client.auth.assertion.signature"],
            Misbehaviour::AssertionIssNotClientId => &["client.auth.assertion.claims"],
            Misbehaviour::NoCertToken => &["client.cert.presented"],
        }
    }

    /// Whether the misbehaviour is one of a `private_key_jwt` client.
    pub fn needs_private_key_jwt(self) -> bool {
        matches!(
            self,
            Misbehaviour::AssertionAudTokenEndpoint
                | Misbehaviour::AssertionReuseJti
                | Misbehaviour::AssertionRs256
                | Misbehaviour::AssertionExpired
                | Misbehaviour::AssertionUnregisteredKey
                | Misbehaviour::AssertionIssNotClientId
                | Misbehaviour::NoCertToken
        )
    }
}

fn tls_client_auth() -> AuthMethod {
    AuthMethod::TlsClientAuth
}

fn all_steps() -> Vec<Step> {
    Step::ALL.to_vec()
}

fn default_timeout_ms() -> u64 {
    20_000
}

fn yes() -> bool {
    true
}

/// The `client:` section of a client-mode scenario.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientUnderTest {
    /// The command (argv) to run, from the scenario file's directory; `{harness}` stands for the
    /// mtls-harness binary. Absent: the built-in reference client, in process.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Reference client only: misbehaviours for self-tests.
    #[serde(default)]
    pub misbehave: Vec<Misbehaviour>,
    /// How the client authenticates (`MTLS_CLIENT_AUTH`): `tls_client_auth` (default),
    /// `self_signed_tls_client_auth` or `private_key_jwt` (with its transport certificate).
    #[serde(default = "tls_client_auth")]
    pub auth: AuthMethod,
    /// What the client should do (`MTLS_STEPS`).
    #[serde(default = "all_steps")]
    pub steps: Vec<Step>,
    /// `MTLS_USE_ALIASES` for clients with such a switch.
    #[serde(default = "yes")]
    pub use_aliases: bool,
    /// More environment variables for the command.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How long the client may run before it is killed, milliseconds (default 20 000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl ClientUnderTest {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.command.is_some() && !self.misbehave.is_empty() {
            return Err("client.misbehave only applies to the built-in reference client (no `command`)".into());
        }
        if self.command.as_ref().is_some_and(|c| c.is_empty()) {
            return Err("client.command is empty".into());
        }
        if !matches!(self.auth, AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::PrivateKeyJwt) {
            return Err(format!(
                "client.auth `{}`: client mode registers tls_client_auth, self_signed_tls_client_auth or private_key_jwt",
                self.auth.name()
            ));
        }
        if let Some(m) = self.misbehave.iter().find(|m| m.needs_private_key_jwt()) {
            if self.auth != AuthMethod::PrivateKeyJwt {
                return Err(format!("client.misbehave `{m:?}` is a private_key_jwt misbehaviour: set `auth: private_key_jwt`"));
            }
        }
        if self.timeout_ms == 0 {
            return Err("client.timeout_ms must be greater than zero".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Scenario;
    use super::*;

    fn parse(client: &str) -> Result<Scenario, String> {
        let text = format!("id: t\ntitle: T\nmode: client\ndiscovery:\n  shape: split\nclient:\n{client}checks: [\"*\"]\n");
        Scenario::parse(&text, std::path::Path::new("t.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_client_section_names_the_method_and_refuses_what_does_not_fit() {
        let sc = parse("  auth: private_key_jwt\n  misbehave: [assertion_reuse_jti]\n").unwrap();
        assert_eq!(sc.client.map(|c| c.auth), Some(AuthMethod::PrivateKeyJwt));
        assert_eq!(parse("  steps: [token]\n").unwrap().client.map(|c| c.auth), Some(AuthMethod::TlsClientAuth));
        let e = parse("  misbehave: [assertion_expired]\n").unwrap_err();
        assert!(e.contains("set `auth: private_key_jwt`"), "{e}");
        let e = parse("  auth: client_secret_basic\n").unwrap_err();
        assert!(e.contains("client mode registers"), "{e}");
        let e = parse("  auht: private_key_jwt\n").unwrap_err();
        assert!(e.contains("unknown field `auht`"), "{e}");
    }

    #[test]
    fn every_misbehaviour_is_caught_by_some_check() {
        for m in Misbehaviour::ALL {
            assert!(!m.caught_by().is_empty(), "{m:?}");
            assert!(m.caught_by().iter().all(|id| crate::catalogue::find(id).is_some()), "{m:?}");
        }
    }
}
