//! Planted defects: each switches off exactly one behaviour of the mock AS, so that a self-test
//! can prove the check that guards that behaviour is able to fail. `caught_by` names those
//! checks; the self-test scenarios, the README table and `tests/self_test.rs` all follow it.

use serde::{Deserialize, Serialize};

/// A defect a self-test plants in the mock AS (`mock.defects`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum), value(rename_all = "snake_case"))]
pub enum Defect {
    /// Discovery publishes an `issuer` other than the one it was fetched from.
    WrongIssuer,
    /// Discovery omits `token_endpoint`, top level and alias.
    NoTokenEndpoint,
    /// `tls_client_certificate_bound_access_tokens` is the string \"true\", not a boolean.
    BoundFlagString,
    /// `token_endpoint_auth_methods_supported` omits the mTLS methods.
    AuthMethodsMissingTls,
    /// The listener serving the aliases never asks for a client certificate.
    AliasNoClientCert,
    /// The PAR alias points at a listener that never asks for a client certificate.
    ParOnPlainListener,
    /// The AS compares the registered DN with the subject as raw strings in DER order, so a correctly registered RFC 4514 DN never matches.
    DnStringCompare,
    /// tls_client_auth issues a token when no certificate was presented.
    AcceptNoCert,
    /// tls_client_auth accepts any certificate at all.
    AcceptAnyCert,
    /// tls_client_auth matches the DN but never validates the chain (issuer or validity period).
    AcceptRogueCa,
    /// tls_client_auth accepts any certificate from the trusted CA, whatever its subject.
    AcceptAnyTrustedCert,
    /// tls_client_auth ignores the certificate's validity period.
    AcceptExpired,
    /// self_signed_tls_client_auth accepts any certificate, registered or not.
    SelfSignedAny,
    /// self_signed_tls_client_auth also demands a chain to the trusted CA, so no self-signed certificate is ever accepted.
    SelfSignedChainCheck,
    /// JWT access tokens carry no `cnf` claim (the AS still records the binding, and introspection reports it).
    NoCnf,
    /// `cnf.x5t#S256` is hex instead of base64url.
    CnfHex,
    /// `cnf.x5t#S256` keeps base64 `=` padding.
    CnfPadded,
    /// `cnf.x5t#S256` holds a SHA-1 digest.
    CnfSha1,
    /// Tokens are bound only when the client authenticated with mTLS, not for secret-authenticated clients presenting a certificate.
    BindOnlyMtlsAuth,
    /// Introspection omits `cnf` for bound tokens.
    IntrospectionNoCnf,
    /// A public client's refresh token is not bound to its certificate.
    RefreshUnbound,
    /// Revocation answers 200 but revokes nothing.
    RevocationNoop,
    /// Introspection answers `active: false` for every token.
    IntrospectionAlwaysInactive,
    /// The resource server accepts a bound token with any certificate from the trusted CA,
    /// ignoring the binding (it still refuses untrusted or missing certificates).
    RsTrustedAnyCert,
    /// The resource server never compares the presented certificate with the binding.
    RsIgnoresCert,
    /// The resource server skips the binding check when no certificate is presented.
    RsAcceptsMissingCert,
    /// The resource server hashes the PEM text instead of the DER, so no certificate ever matches.
    RsThumbprintPem,
    /// private_key_jwt assertions are accepted without verifying their signature.
    JwtSignatureNotVerified,
    /// private_key_jwt assertions are accepted whatever their `aud`.
    JwtAudNotChecked,
    /// Tokens issued to private_key_jwt clients are not bound to the certificate they present.
    JwtUnbound,
    /// A private_key_jwt client that presents no certificate gets an unbound token.
    JwtNoCertUnbound,
    /// private_key_jwt assertions are accepted only with `aud` = the token endpoint URL, never the issuer.
    JwtAudTokenEndpointOnly,
    /// A client assertion is accepted again with the same `jti`.
    JwtReplayAccepted,
    /// private_key_jwt assertions are compared with the issuer plus a trailing slash, a URL the AS
    /// never publishes: every assertion is refused, whatever its `aud`.
    JwtAudNeverMatches,
    /// Every listener also accepts the TLS 1.2 ChaCha20-Poly1305 suites, outside RFC 9325 §4.2.
    Tls12Chacha20,
    /// Every listener picks TLS 1.2 whenever a client offers it, though it supports TLS 1.3.
    PrefersTls12,
    /// The edge passes a client's own `x-ssl-client-cert` header through when the client presented no certificate at TLS.
    EdgePassesClientCertHeader,
    /// Client authentication also takes the certificate from an Envoy `X-Forwarded-Client-Cert` header when TLS presented none.
    AsTrustsXfcc,
    /// The resource server also takes the certificate from an RFC 9440 `Client-Cert` header when TLS presented none.
    RsTrustsClientCertHeader,
    /// With a certificate at TLS and another in a client's `X-Forwarded-Client-Cert`, the AS binds the token to the header's.
    AsPrefersHeaderOverTls,
    /// The edge appends its `x-ssl-client-cert` after a client's own instead of replacing it, and the origin reads the first.
    EdgeAppendsCertHeader,
    /// Revocation revokes any client's token, not only the requesting client's.
    RevocationIgnoresClient,
    /// The edge keeps one TLS session cache for every listener and, on a resumed session, forwards the certificate the requesting client last succeeded with, wherever that was.
    SessionCacheKeepsIdentity,
    /// On a resumed session the edge forwards no certificate but says the client was verified, and the AS then issues bound-token clients unbound tokens.
    EdgeDropsCertOnResumption,
    /// The PAR endpoint accepts `response_type=code id_token` (FAPI 2.0 SP allows only `code`).
    ParAcceptsHybrid,
    /// The PAR endpoint accepts a pushed request without PKCE.
    ParPkceOptional,
    /// The PAR endpoint accepts `code_challenge_method=plain`.
    ParPkcePlain,
    /// The PAR endpoint accepts a pushed request without `redirect_uri`.
    ParRedirectOptional,
    /// The PAR endpoint accepts a pushed request carrying only a registered `client_id`, no client authentication.
    ParUnauthenticated,
    /// private_key_jwt assertions signed RS256 with the registered RSA key are accepted.
    JwtRs256Accepted,
    /// private_key_jwt assertions are accepted whatever their `iat`/`nbf`, even minutes in the future.
    JwtFutureIatAccepted,
    /// private_key_jwt assertions whose `iat` or `nbf` is in the future at all are refused (no clock-offset leeway).
    JwtIatNoLeeway,
}

impl Defect {
    /// Every defect, in declaration order.
    pub const ALL: &'static [Defect] = <Defect as strum::VariantArray>::VARIANTS;

    /// The name scenarios use (`no_cnf`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// What the mock AS does wrong.
    pub fn description(self) -> &'static str {
        match self {
            Defect::WrongIssuer => "Discovery publishes an `issuer` other than the one it was fetched from.",
            Defect::NoTokenEndpoint => "Discovery omits `token_endpoint`, top level and alias.",
            Defect::BoundFlagString => "`tls_client_certificate_bound_access_tokens` is the string \"true\", not a boolean.",
            Defect::AuthMethodsMissingTls => "`token_endpoint_auth_methods_supported` omits the mTLS methods.",
            Defect::AliasNoClientCert => "The listener serving the aliases never asks for a client certificate.",
            Defect::ParOnPlainListener => "The PAR alias points at a listener that never asks for a client certificate.",
            Defect::DnStringCompare => "The AS compares the registered DN with the subject as raw strings in DER order, so a correctly registered RFC 4514 DN never matches.",
            Defect::AcceptNoCert => "tls_client_auth issues a token when no certificate was presented.",
            Defect::AcceptAnyCert => "tls_client_auth accepts any certificate at all.",
            Defect::AcceptRogueCa => "tls_client_auth matches the DN but never validates the chain (issuer or validity period).",
            Defect::AcceptAnyTrustedCert => "tls_client_auth accepts any certificate from the trusted CA, whatever its subject.",
            Defect::AcceptExpired => "tls_client_auth ignores the certificate's validity period.",
            Defect::SelfSignedAny => "self_signed_tls_client_auth accepts any certificate, registered or not.",
            Defect::SelfSignedChainCheck => "self_signed_tls_client_auth also demands a chain to the trusted CA, so no self-signed certificate is ever accepted.",
            Defect::NoCnf => "JWT access tokens carry no `cnf` claim (the AS still records the binding, and introspection reports it).",
            Defect::CnfHex => "`cnf.x5t#S256` is hex instead of base64url.",
            Defect::CnfPadded => "`cnf.x5t#S256` keeps base64 `=` padding.",
            Defect::CnfSha1 => "`cnf.x5t#S256` holds a SHA-1 digest.",
            Defect::BindOnlyMtlsAuth => "Tokens are bound only when the client authenticated with mTLS, not for secret-authenticated clients presenting a certificate.",
            Defect::IntrospectionNoCnf => "Introspection omits `cnf` for bound tokens.",
            Defect::RefreshUnbound => "A public client's refresh token is not bound to its certificate.",
            Defect::RevocationNoop => "Revocation answers 200 but revokes nothing.",
            Defect::IntrospectionAlwaysInactive => "Introspection answers `active: false` for every token.",
            Defect::RsTrustedAnyCert => "The resource server accepts a bound token with any certificate from the trusted CA, ignoring the binding (untrusted or missing certificates are still refused).",
            Defect::RsIgnoresCert => "The resource server never compares the presented certificate with the binding.",
            Defect::RsAcceptsMissingCert => "The resource server skips the binding check when no certificate is presented.",
            Defect::RsThumbprintPem => "The resource server hashes the PEM text instead of the DER, so no certificate ever matches.",
            Defect::JwtSignatureNotVerified => "private_key_jwt assertions are accepted without verifying their signature.",
            Defect::JwtAudNotChecked => "private_key_jwt assertions are accepted whatever their `aud` (another server, the token endpoint URL, an array).",
            Defect::JwtUnbound => "Tokens issued to private_key_jwt clients are not bound to the certificate they present.",
            Defect::JwtNoCertUnbound => "A private_key_jwt client registered for bound tokens that presents no certificate gets an unbound token.",
            Defect::JwtAudTokenEndpointOnly => "private_key_jwt assertions are accepted only with `aud` = the token endpoint URL, never the issuer (FAPI 2.0 SP requires the issuer).",
            Defect::JwtReplayAccepted => "A client assertion is accepted again with the same `jti` (no replay detection).",
            Defect::JwtAudNeverMatches => "private_key_jwt assertions are compared with the issuer plus a trailing slash, which the AS never publishes: every assertion is refused, whatever its `aud`.",
            Defect::Tls12Chacha20 => "Every listener also accepts the TLS 1.2 ChaCha20-Poly1305 suites, outside RFC 9325 §4.2's recommended four — a negative control: no RFC 9325 statement advises against them, so under bcp195 they are recorded, not failed.",
            Defect::PrefersTls12 => "Every listener picks TLS 1.2 whenever a client offers it, though it supports TLS 1.3.",
            Defect::EdgePassesClientCertHeader => "The edge passes a client's own `x-ssl-client-cert` header through when the client presented no certificate at TLS (it overwrites it only when it has a certificate to forward).",
            Defect::AsTrustsXfcc => "Client authentication also takes the certificate from an Envoy `X-Forwarded-Client-Cert` header when TLS presented none.",
            Defect::RsTrustsClientCertHeader => "The resource server also takes the certificate from an RFC 9440 `Client-Cert` header when TLS presented none.",
            Defect::AsPrefersHeaderOverTls => "With a certificate at TLS and another in a client's `X-Forwarded-Client-Cert`, the AS binds the token to the header's.",
            Defect::EdgeAppendsCertHeader => "The edge appends its `x-ssl-client-cert` after a client's own instead of replacing it, and the origin reads the first.",
            Defect::RevocationIgnoresClient => "Revocation revokes any client's token, not only the requesting client's (RFC 7009 §2.1).",
            Defect::SessionCacheKeepsIdentity => "The edge keeps one TLS session cache for all its listeners (virtual hosts) and, on a resumed session, forwards the certificate the requesting `client_id` last obtained a 2xx with — wherever that was — instead of the session's own: a session set up without a certificate authenticates as a client that presented its certificate earlier.",
            Defect::EdgeDropsCertOnResumption => "On a resumed TLS session the edge forwards no certificate (its TLS stack does not keep it) but `x-ssl-client-verify: SUCCESS`, and the AS, trusting the flag, issues a private_key_jwt client registered for bound tokens an unbound token.",
            Defect::ParAcceptsHybrid => "The PAR endpoint accepts `response_type=code id_token`, where FAPI 2.0 SP §5.3.2.2 allows only `code`.",
            Defect::ParPkceOptional => "The PAR endpoint accepts a pushed request without `code_challenge` (FAPI 2.0 SP §5.3.2.2 requires PKCE).",
            Defect::ParPkcePlain => "The PAR endpoint accepts `code_challenge_method=plain` (FAPI 2.0 SP §5.3.2.2: S256 only).",
            Defect::ParRedirectOptional => "The PAR endpoint accepts a pushed request without `redirect_uri` (FAPI 2.0 SP §5.3.2.2 requires it).",
            Defect::ParUnauthenticated => "The PAR endpoint accepts a pushed request that carries only a registered `client_id`, with no certificate and no other client authentication.",
            Defect::JwtRs256Accepted => "private_key_jwt assertions signed RS256 with the registered RSA key are accepted (FAPI 2.0 SP §5.4.1: PS256, ES256, EdDSA only).",
            Defect::JwtFutureIatAccepted => "private_key_jwt assertions are accepted whatever their `iat` and `nbf`, even minutes in the future (FAPI 2.0 SP §5.3.2.1: reject more than 60 s).",
            Defect::JwtIatNoLeeway => "private_key_jwt assertions whose `iat` or `nbf` is in the future at all are refused (FAPI 2.0 SP §5.3.2.1: accept up to 10 s).",
        }
    }

    /// The checks that must fail when this defect is planted, and no others.
    pub fn caught_by(self) -> &'static [&'static str] {
        match self {
            Defect::WrongIssuer => &["disc.fetch"],
            Defect::NoTokenEndpoint => &["endpoints.resolve"],
            Defect::BoundFlagString => &["disc.bound-flag"],
            Defect::AuthMethodsMissingTls => &["disc.auth-methods"],
            Defect::AliasNoClientCert => &["tls.cert-request.required", "auth.pki.accept", "auth.self.accept"],
            Defect::ParOnPlainListener => &["tls.cert-request.required", "par.alias"],
            Defect::DnStringCompare => &["auth.pki.accept"],
            Defect::AcceptNoCert => &["auth.pki.no-cert"],
            Defect::AcceptAnyCert => &["auth.pki.other-subject", "auth.pki.rogue-ca", "auth.pki.expired"],
            Defect::AcceptRogueCa => &["auth.pki.rogue-ca", "auth.pki.expired"],
            Defect::AcceptAnyTrustedCert => &["auth.pki.other-subject"],
            Defect::AcceptExpired => &["auth.pki.expired"],
            Defect::SelfSignedAny => &["auth.self.other"],
            Defect::SelfSignedChainCheck => &["auth.self.accept"],
            Defect::NoCnf => &["bind.token-cnf", "bind.other-auth", "bind.jwt-client"],
            Defect::CnfHex => &["bind.token-cnf", "bind.other-auth", "bind.jwt-client"],
            Defect::CnfPadded => &["bind.token-cnf", "bind.other-auth", "bind.jwt-client"],
            Defect::CnfSha1 => &["bind.token-cnf", "bind.other-auth", "bind.jwt-client"],
            Defect::BindOnlyMtlsAuth => &["bind.other-auth"],
            Defect::IntrospectionNoCnf => &["bind.introspection-cnf"],
            Defect::RefreshUnbound => &["bind.refresh-public"],
            Defect::RevocationNoop => &["revoke.alias"],
            Defect::IntrospectionAlwaysInactive => &["introspect.active"],
            Defect::RsTrustedAnyCert => &["bind.rs.other-cert"],
            Defect::RsIgnoresCert => &["bind.rs.other-cert", "bind.rs.no-cert"],
            Defect::RsAcceptsMissingCert => &["bind.rs.no-cert"],
            Defect::RsThumbprintPem => &["bind.rs.same-cert"],
            Defect::JwtSignatureNotVerified => &["auth.jwt.bad-signature"],
            Defect::JwtAudNotChecked => &["auth.jwt.aud-wrong", "auth.jwt.aud-endpoint", "auth.jwt.aud-array"],
            Defect::JwtUnbound => &["bind.jwt-client"],
            Defect::JwtNoCertUnbound => &["auth.jwt.no-cert"],
            // RFC 7523 §3 lets the token endpoint URL identify the AS: accepted (the accept
            // control falls back to it); FAPI 2.0 SP §5.3.2.1's issuer-only rule is what breaks.
            Defect::JwtAudTokenEndpointOnly => &["auth.jwt.aud-endpoint"],
            Defect::JwtReplayAccepted => &["auth.jwt.replay"],
            Defect::JwtAudNeverMatches => &["auth.jwt.accept"],
            // Not a defect under RFC 9325 (§4.2 recommends four suites, advises against none of
            // these): tls.ciphers.tls12 records them at info under bcp195.
            Defect::Tls12Chacha20 => &[],
            Defect::PrefersTls12 => &["tls.version.prefers-13"],
            Defect::EdgePassesClientCertHeader => &["edge.client-auth-header-spoof", "edge.rs-header-spoof"],
            Defect::AsTrustsXfcc => &["edge.client-auth-header-spoof"],
            Defect::RsTrustsClientCertHeader => &["edge.rs-header-spoof"],
            Defect::AsPrefersHeaderOverTls => &["edge.binding-follows-tls"],
            Defect::EdgeAppendsCertHeader => &["edge.client-auth-header-spoof", "edge.rs-header-spoof", "edge.binding-follows-tls"],
            Defect::RevocationIgnoresClient => &["abuse.revoke-other-client"],
            Defect::SessionCacheKeepsIdentity => &["session.resume-other-identity"],
            Defect::EdgeDropsCertOnResumption => &["session.resumed-token-bound"],
            Defect::ParAcceptsHybrid => &["par.fapi.response-type"],
            Defect::ParPkceOptional => &["par.fapi.pkce-missing"],
            Defect::ParPkcePlain => &["par.fapi.pkce-plain"],
            Defect::ParRedirectOptional => &["par.fapi.redirect-missing"],
            Defect::ParUnauthenticated => &["par.fapi.no-client-auth"],
            Defect::JwtRs256Accepted => &["auth.jwt.alg-rs256"],
            Defect::JwtFutureIatAccepted => &["auth.jwt.iat-future"],
            Defect::JwtIatNoLeeway => &["auth.jwt.iat-future"],
        }
    }
}
