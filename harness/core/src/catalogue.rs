//! The check catalogue as data: every check by stable id, with its mode, the RFC section and
//! keyword it judges, and the checks whose facts it needs — and the graph over it: what a run
//! must perform for a selection ([`plan`]) and whether a check may run ([`gate`]). The checks'
//! implementations live with the side that performs them (`mtls-client` for AS mode,
//! `mtls-clientmode` for client mode); the runner joins them by id.

use std::collections::HashMap;

use crate::results::{Level, Outcome, Status};
use serde::{Deserialize, Serialize};

/// Which side the harness plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The harness is the client; the target is an AS (RFC 8705 §2, §3, §5 server side).
    As,
    /// The harness is the AS; a client under test is judged from the mock's request journal.
    Client,
}

/// A prerequisite: the check that establishes a fact, and what is missing without it.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub(crate) check: &'static str,
    pub(crate) why: &'static str,
}

/// Stands, in a need, for the accept check of the target's primary client ([`Primary`]).
const PRIMARY: &str = "@primary";

/// The client the binding, introspection, PAR and revocation checks act as: the one whose
/// token they test. Its accept check is their positive control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Primary {
    /// The `tls_client_auth` client (RFC 8705 §2.1).
    #[default]
    TlsClientAuth,
    /// The `self_signed_tls_client_auth` client (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// The `private_key_jwt` client (RFC 7523 §2.2), presenting its transport certificate.
    PrivateKeyJwt,
}

impl Primary {
    /// The check that proves the primary client gets a token: the control of its dependents.
    pub fn accept_check(self) -> &'static str {
        match self {
            Primary::TlsClientAuth => "auth.pki.accept",
            Primary::SelfSignedTlsClientAuth => "auth.self.accept",
            Primary::PrivateKeyJwt => "auth.jwt.accept",
        }
    }

    /// The method name (`private_key_jwt`).
    pub fn name(self) -> &'static str {
        match self {
            Primary::TlsClientAuth => "tls_client_auth",
            Primary::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            Primary::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

impl Need {
    /// The check this need names, with `@primary` resolved to the primary client's accept check.
    pub fn resolve(&self, primary: Primary) -> &'static str {
        if self.check == PRIMARY {
            primary.accept_check()
        } else {
            self.check
        }
    }
}

/// One check of the catalogue.
pub struct CheckInfo {
    /// Stable id (`auth.pki.accept`), used in selections, expectations and reports.
    pub id: &'static str,
    /// AS mode (the harness is the client) or client mode (the harness is the AS).
    pub mode: Mode,
    /// The expected behaviour, one line for reports.
    pub title: &'static str,
    /// Section of RFC 8705 unless another RFC is named.
    pub rfc: &'static str,
    /// The keyword of the requirement judged (MUST → fail, SHOULD/MAY → warn).
    pub level: Level,
    /// The checks whose facts this one needs; a failed, errored or blocked need blocks it.
    pub needs: &'static [Need],
}

macro_rules! check {
    ($mode:ident, $id:literal, $rfc:literal, $level:ident, $title:literal $(, $need:expr => $why:expr)*) => {
        CheckInfo {
            id: $id,
            mode: Mode::$mode,
            title: $title,
            rfc: $rfc,
            level: Level::$level,
            needs: &[$(Need { check: $need, why: $why }),*],
        }
    };
}

const NO_DISCOVERY: &str = "no discovery document to judge";
const NO_ENDPOINTS: &str = "no effective endpoints";
const NO_TOKEN: &str = "no token to test binding with";
const NO_PRIMARY_TOKEN: &str = "the primary client got no token to test binding with";
const NO_JWT_CONTROL: &str =
    "no positive control: the private_key_jwt client's assertion was not accepted at this URL, so a refusal proves nothing";
const NO_PAR_CONTROL: &str =
    "no positive control: the PAR endpoint did not accept the conformant pushed request, so a refusal proves nothing";
const NO_CONTROL: &str = "no positive control: the registered client was not accepted at this URL, so a refusal proves nothing";

/// Every check, in the order a run performs them (a check comes after everything it needs).
pub static CATALOGUE: &[CheckInfo] = &[
    check!(As, "disc.fetch", "RFC 8414 §3", Must, "Discovery is 200 JSON and its issuer matches"),
    check!(As, "disc.aliases.object", "§5", Must, "mtls_endpoint_aliases, when present, is an object of absolute https URLs", "disc.fetch" => NO_DISCOVERY),
    check!(As, "disc.aliases.keys", "§5", Must, "Alias keys are endpoint names with a top-level counterpart; never authorization_endpoint", "disc.fetch" => NO_DISCOVERY),
    check!(As, "disc.bound-flag", "§3.3", Must, "tls_client_certificate_bound_access_tokens is a boolean, true where the profile requires", "disc.fetch" => NO_DISCOVERY),
    check!(As, "disc.auth-methods", "§2.1.1, §2.2.1", Must, "token_endpoint_auth_methods_supported lists the mTLS methods under test", "disc.fetch" => NO_DISCOVERY),
    check!(As, "endpoints.resolve", "§5", Must, "Effective endpoint per operation resolves (alias, else top level)", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.cert-request.required", "§5, §6", Must, "Every effective mTLS endpoint (and every endpoint a profile puts under mTLS) asks for a client certificate in the handshake", "endpoints.resolve" => NO_ENDPOINTS),
    check!(As, "tls.cert-request.forbidden", "§5, §6", Must, "No endpoint a profile keeps off mTLS (CDR: discovery, authorisation, JWKS) asks for a client certificate", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.version.floor", "RFC 9325 §3.1.1", Should, "Every origin refuses TLS 1.0 and TLS 1.1", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.version.prefers-13", "RFC 9325 §3.1.1", Info, "Offered TLS 1.2 and 1.3, every origin that supports TLS 1.3 picks it", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.ciphers.tls12", "RFC 9325 §4.2, §4.1", Info, "Every TLS 1.2 suite each origin accepts, enumerated, is on the profile's allow-list", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.ciphers.required", "OFB FAPI SP §6.2.2-1, -2", Must, "Every non-browser origin accepts each TLS 1.2 suite a profile says it shall support", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.key-size.server", "RFC 9325 §4.5", Info, "Every origin's server certificate key, seen in its handshake, is at least the profile's size (RSA 2048 bits, EC 224 bits)", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.key-size.dhe", "RFC 9325 §4.5", Info, "Every origin that accepts a DHE suite uses a group of at least 2048 bits", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.renegotiation", "RFC 9325 §3.5; RFC 5746 §3.6", Info, "Every TLS 1.2 origin sends the secure renegotiation indication (and refuses renegotiation where the profile says so)", "disc.fetch" => NO_DISCOVERY),
    check!(As, "tls.ems", "RFC 9325 §3.5; RFC 7627 §5.2", Info, "Every TLS 1.2 origin agrees to the extended master secret", "disc.fetch" => NO_DISCOVERY),
    check!(As, "auth.pki.accept", "§2.1", Must, "Registered CA-issued certificate + client_id gets an access token", "endpoints.resolve" => "no token endpoint to call"),
    check!(As, "auth.pki.no-cert", "§2", Must, "No client certificate: invalid_client", "auth.pki.accept" => NO_CONTROL),
    check!(As, "auth.pki.other-subject", "§2.1", Must, "Trusted-CA certificate with another subject: invalid_client", "auth.pki.accept" => NO_CONTROL),
    check!(As, "auth.pki.rogue-ca", "§2.1", Must, "Registered subject from an untrusted CA: invalid_client", "auth.pki.accept" => NO_CONTROL),
    check!(As, "auth.pki.expired", "§2.1", Must, "Expired certificate with the registered subject: invalid_client", "auth.pki.accept" => NO_CONTROL),
    check!(As, "auth.self.accept", "§2.2", Must, "Registered self-signed certificate gets an access token", "endpoints.resolve" => "no token endpoint to call"),
    check!(As, "auth.self.other", "§2.2", Must, "Another self-signed certificate: invalid_client", "auth.self.accept" => "no positive control: the registered self-signed certificate was not accepted at this URL, so a refusal proves nothing"),
    check!(As, "auth.jwt.accept", "RFC 7523 §3", Must, "A private_key_jwt assertion sent over mTLS gets an access token (aud = issuer; refused so, the token endpoint URL unless a profile demands the issuer)", "endpoints.resolve" => "no token endpoint to call"),
    check!(As, "auth.jwt.bad-signature", "RFC 7523 §3", Must, "An assertion signed with an unregistered key: invalid_client", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.aud-wrong", "RFC 7523 §3", Must, "An assertion whose aud names another server: invalid_client", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.aud-endpoint", "FAPI 2.0 SP §5.3.2.1", Should, "An assertion whose aud is the token endpoint URL, not the issuer: refused", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.aud-array", "FAPI 2.0 SP §5.3.2.1", Should, "An assertion whose aud is an array, not the issuer string: refused", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.replay", "RFC 7523 §3", Should, "The same assertion (same jti) sent again: refused", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.no-cert", "§3, FAPI 2.0 SP §5.3.2.1", Should, "The same assertion without a transport certificate gets no unbound token", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.alg-rs256", "FAPI 2.0 SP §5.4.1-1; FAPI 1.0 Adv §8.6", Must, "An assertion signed RS256 with the registered RSA key: refused (PS256, ES256, EdDSA only)", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.aud-endpoint-accepted", "CDS SP › Client Authentication", Must, "Assertions whose aud is the issuer and whose aud is the token endpoint URL are each accepted", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "auth.jwt.iat-future", "FAPI 2.0 SP §5.3.2.1-13", Must, "An assertion with iat and nbf 8 s ahead is accepted; one 90 s ahead is refused", "auth.jwt.accept" => NO_JWT_CONTROL),
    check!(As, "bind.token-cnf", "§3.1", Must, "JWT access token carries cnf.x5t#S256 of the presented certificate", PRIMARY => NO_PRIMARY_TOKEN),
    check!(As, "introspect.active", "RFC 7662 §2.2", Should, "Introspection of a fresh token, by the client it was issued to, answers 200 active: true", PRIMARY => "no token to introspect"),
    check!(As, "introspect.access-token-refused", "CDS SP › Token Introspection End Point", Must, "Introspection of an access token, by the client it was issued to, is not supported: active: false or refused", PRIMARY => "no token to introspect"),
    check!(As, "bind.introspection-cnf", "§3.2", Must, "Introspection of a bound token returns active with the same cnf", PRIMARY => NO_PRIMARY_TOKEN, "introspect.active" => "no introspection response to read the binding from"),
    check!(As, "bind.rs.same-cert", "§3", Must, "Bound token with the same certificate is accepted by the resource", PRIMARY => NO_PRIMARY_TOKEN),
    check!(As, "bind.rs.other-cert", "§3", Must, "Bound token with another certificate: 401 invalid_token", "bind.rs.same-cert" => "no positive control: the resource did not accept the bound token with its own certificate, so a refusal proves nothing"),
    check!(As, "bind.rs.no-cert", "§3", Must, "Bound token without a certificate: 401", "bind.rs.same-cert" => "no positive control: the resource did not accept the bound token with its own certificate, so a refusal proves nothing"),
    check!(As, "bind.other-auth", "§3, §3.4", Should, "A secret-authenticated client presenting a certificate gets a bound token", "endpoints.resolve" => "no token endpoint to call"),
    check!(As, "bind.jwt-client", "§3", Must, "The private_key_jwt client's token is bound to the transport certificate it presented", "auth.jwt.accept" => NO_TOKEN),
    check!(As, "bind.refresh-public", "§4", Should, "A public client's refresh token is bound to its certificate", "endpoints.resolve" => "no token endpoint to call"),
    check!(As, "par.alias", "§5", Must, "PAR at the effective endpoint, authenticated as the primary client: 201 request_uri", PRIMARY => "the primary client was not accepted at the token endpoint"),
    check!(As, "par.fapi.response-type", "FAPI 2.0 SP §5.3.2.2-1", Must, "The accepted pushed request with response_type=code id_token: refused (400)", "par.alias" => NO_PAR_CONTROL),
    check!(As, "par.fapi.pkce-missing", "FAPI 2.0 SP §5.3.2.2-5; RFC 9126 §2.1", Must, "The accepted pushed request without code_challenge and code_challenge_method: refused (400)", "par.alias" => NO_PAR_CONTROL),
    check!(As, "par.fapi.pkce-plain", "FAPI 2.0 SP §5.3.2.2-5", Must, "The accepted pushed request with code_challenge_method=plain: refused (400)", "par.alias" => NO_PAR_CONTROL),
    check!(As, "par.fapi.redirect-missing", "FAPI 2.0 SP §5.3.2.2-6", Must, "The accepted pushed request without redirect_uri: refused (400)", "par.alias" => NO_PAR_CONTROL),
    check!(As, "par.fapi.signed-request-object", "UAE SP-FAPI §2.1-9; RFC 9101", Must, "The accepted pushed request as plain form parameters, and as an unsigned (alg none) request object: each refused (400)", "par.alias" => NO_PAR_CONTROL),
    check!(As, "par.fapi.no-client-auth", "FAPI 2.0 SP §5.3.2.2-4; RFC 9126 §2", Must, "The pushed request with only client_id, no certificate and no other client authentication: refused", "par.alias" => NO_PAR_CONTROL),
    check!(As, "revoke.alias", "§5", Must, "Revocation at the effective endpoint: 200, then the token is inactive", PRIMARY => "no token to revoke"),
    check!(As, "edge.client-auth-header-spoof", "RFC 9440 §4", Must, "No TLS certificate, the registered one in a forwarded-certificate header (each of the catalogue, then all): no token", "auth.pki.accept" => NO_CONTROL, "auth.pki.no-cert" => "the AS does not refuse a request with no certificate at all: a header cannot make it worse"),
    check!(As, "edge.binding-follows-tls", "§3; RFC 9440 §4", Must, "A certificate at TLS and another in forwarded-certificate headers: the token is bound to the TLS one", "bind.other-auth" => "the secret client's token is not bound to its TLS certificate even without headers"),
    check!(As, "abuse.revoke-other-client", "RFC 7009 §2.1", Must, "Another client's revocation request leaves the primary client's token active", "revoke.alias" => "no positive control: revocation by the token's own client was not shown to work"),
    check!(As, "edge.rs-header-spoof", "RFC 9440 §4", Must, "A bound token, no TLS certificate, the bound certificate in a forwarded-certificate header: 401 at the resource", "bind.rs.same-cert" => "no positive control: the resource did not accept the bound token with its own certificate", "bind.rs.no-cert" => "the resource does not refuse the token with no certificate at all: a header cannot make it worse"),
    check!(As, "session.resume-other-identity", "§2; RFC 6066 §3", Must, "A TLS session set up without the registered certificate (at the token endpoint, with another certificate, or at another origin), resumed at the token endpoint: no token", "auth.pki.accept" => NO_CONTROL, "auth.pki.no-cert" => "the AS does not refuse a request with no certificate at all: a resumed session cannot make it worse"),
    check!(As, "session.resumed-token-bound", "§3", Must, "A token requested on a resumed TLS session of the primary client is bound to the session's certificate, or refused", PRIMARY => NO_PRIMARY_TOKEN),
    check!(Client, "client.discovery", "§5", Must, "The client read the discovery document"),
    check!(Client, "client.alias.token", "§5", Must, "Token requests went to the alias when one is published"),
    check!(Client, "client.alias.par", "§5", Must, "PAR requests went to the alias when one is published"),
    check!(Client, "client.alias.introspection", "§5", Must, "Introspection requests went to the alias when one is published"),
    check!(Client, "client.alias.revocation", "§5", Must, "Revocation requests went to the alias when one is published"),
    check!(Client, "client.alias.userinfo", "§5", Must, "Userinfo requests went to the alias when one is published"),
    check!(Client, "client.alias.fallback", "§5", Must, "Endpoints without an alias were called at the top level"),
    check!(Client, "client.authz.top-level", "§5", Must, "Authorization requests used the top-level authorization_endpoint"),
    check!(
        Client,
        "client.cert.presented",
        "§2",
        Must,
        "Every request to an mTLS endpoint that asked carried the client certificate, the same one"
    ),
    check!(
        Client,
        "client.client-id",
        "§2, RFC 7523 §2.2",
        Must,
        "Requests authenticate the registered way: client_id and no other credential (mTLS methods), or a jwt-bearer client_assertion and no secret (private_key_jwt)"
    ),
    check!(Client, "client.auth.assertion.signature", "RFC 7523 §3", Must, "Each client assertion is a JWS that verifies with a key the client registered"),
    check!(
        Client,
        "client.auth.assertion.alg",
        "FAPI 2.0 SP §5.4.1",
        Must,
        "Client assertions are signed, never with none or a MAC; with PS256, ES256 or EdDSA under FAPI 2.0, PS256 or ES256 under FAPI 1.0 Advanced (RS256 only where no FAPI profile is judged)"
    ),
    check!(Client, "client.auth.assertion.claims", "RFC 7523 §3", Must, "Client assertions have iss and sub equal to the client_id"),
    check!(
        Client,
        "client.auth.assertion.aud",
        "RFC 7523 §3",
        Must,
        "Client assertions name the AS in aud: its issuer or token endpoint URL (under FAPI 2.0, the issuer as a single string)"
    ),
    check!(
        Client,
        "client.auth.assertion.lifetime",
        "RFC 7523 §3",
        Must,
        "Client assertions carry an exp in the near future, and no iat or nbf in the future"
    ),
    check!(Client, "client.auth.assertion.jti", "OIDC Core §9", Must, "Client assertions carry a jti, never used twice in the run"),
    check!(Client, "client.rs.same-cert", "§3", Must, "The resource call presents the certificate the token is bound to"),
];

/// Checks renamed since a release, old id first: scenario files, profiles and `--checks` that
/// name the old id keep working.
pub const RENAMED: &[(&str, &str)] = &[("tls.cert-requested", "tls.cert-request.required")];

/// The current id of `id` (itself unless renamed).
pub fn canonical(id: &str) -> &str {
    RENAMED.iter().find(|(old, _)| *old == id).map_or(id, |(_, new)| new)
}

pub(crate) fn find(id: &str) -> Option<&'static CheckInfo> {
    let id = canonical(id);
    CATALOGUE.iter().find(|c| c.id == id)
}

/// Ids of one mode selected by ids or globs (`*` matches any run of characters), in catalogue order.
pub fn select(patterns: &[String], mode: Mode) -> Vec<&'static str> {
    CATALOGUE.iter().filter(|c| c.mode == mode && patterns.iter().any(|p| glob_match(canonical(p), c.id))).map(|c| c.id).collect()
}

/// What a run performs for `selected`: those checks and, transitively, every check they need, in
/// catalogue order. A check is never judged without the checks that establish its facts.
pub fn plan(selected: &[&'static str], primary: Primary) -> Vec<&'static CheckInfo> {
    let mut wanted: std::collections::BTreeSet<&str> = selected.iter().copied().collect();
    let mut stack: Vec<&str> = selected.to_vec();
    while let Some(id) = stack.pop() {
        for n in find(id).map(|c| c.needs).unwrap_or_default() {
            let need = n.resolve(primary);
            if wanted.insert(need) {
                stack.push(need);
            }
        }
    }
    CATALOGUE.iter().filter(|c| wanted.contains(c.id)).collect()
}

/// Whether a check may run (needs on the primary client resolve to its accept check) given the outcomes of the checks it needs: `Some` outcome when a
/// need failed, errored or was blocked (→ `blocked`, naming it) or was skipped (→ `skip`).
pub fn gate(check: &CheckInfo, done: &HashMap<&str, (Status, String)>, primary: Primary) -> Option<Outcome> {
    for n in check.needs {
        let need = n.resolve(primary);
        match done.get(need) {
            Some((s @ (Status::Fail | Status::Error | Status::Blocked), _)) => {
                let verb = match s {
                    Status::Fail => "failed",
                    Status::Error => "could not be judged",
                    _ => "was blocked",
                };
                return Some(Outcome::blocked(format!("blocked: {need} {verb} — {}", n.why)));
            }
            Some((Status::Skip, why)) => return Some(Outcome::skip(format!("does not apply: {need} was skipped ({why})"))),
            _ => {}
        }
    }
    None
}

fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(after) = text.strip_prefix(head) else { return false };
            (0..=after.len()).filter(|i| after.is_char_boundary(*i)).any(|i| glob_match(rest, &after[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_globs_select() {
        let mut ids: Vec<_> = CATALOGUE.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        use Mode::{As, Client};
        assert_eq!(select(&["auth.pki.*".into()], As).len(), 5);
        assert_eq!(select(&["*".into()], As).len() + select(&["*".into()], Client).len(), CATALOGUE.len());
        assert_eq!(select(&["*".into()], Client).len(), 17);
        assert_eq!(select(&["auth.jwt.*".into()], As).len(), 10);
        assert!(select(&["client.*".into()], As).is_empty(), "client checks never run in AS mode");
        assert_eq!(
            select(&["bind.rs.*".into(), "disc.fetch".into()], As),
            vec!["disc.fetch", "bind.rs.same-cert", "bind.rs.other-cert", "bind.rs.no-cert"]
        );
        assert!(select(&["auth".into()], As).is_empty(), "a bare prefix is not a glob");
        assert_eq!(select(&["tls.*".into()], As).len(), 10);
    }

    #[test]
    fn a_renamed_check_is_still_found_by_its_old_id() {
        assert_eq!(select(&["tls.cert-requested".into()], Mode::As), vec!["tls.cert-request.required"]);
        assert_eq!(find("tls.cert-requested").map(|c| c.id), Some("tls.cert-request.required"));
        assert_eq!(canonical("disc.fetch"), "disc.fetch");
        for (old, new) in RENAMED {
            assert!(find(old).is_some_and(|c| c.id == *new) && !CATALOGUE.iter().any(|c| c.id == *old), "{old} → {new}");
        }
    }
}
