//! What counts as a refusal. A refusal check passes only on evidence that the server refused
//! the *credential*: a certificate-related TLS alert, an OAuth `invalid_client` (RFC 6749 §5.2),
//! or a Bearer `invalid_token` challenge (RFC 6750 §3.1). Anything else — a 404, a 429, a 5xx,
//! a redirect, an alert about something other than the certificate — is not a refusal.

use rustls::AlertDescription as A;

use super::Outcome;
use crate::http::{alert_name, Exchange, Failure, Response};

/// Which TLS alerts count as the server refusing what the harness presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsRefusal {
    /// A certificate the server should trust at TLS (subject matching, expiry, binding are the
    /// point): certificate alerts count; `unknown_ca` means the point was never reached (skip).
    TrustedCertificate,
    /// A certificate from an issuer the server must not trust (rogue CA, unregistered
    /// self-signed): `unknown_ca` counts too.
    UntrustedIssuer,
    /// No certificate at all: `certificate_required` (TLS 1.3) and, for TLS 1.2 servers,
    /// `handshake_failure` (RFC 5246 §7.4.6) count.
    NoCertificate,
}

/// Alerts that refuse a presented (or missing) certificate (RFC 8446 §6.2, RFC 5246 §7.2.2).
fn certificate_alert(a: A) -> bool {
    matches!(
        a,
        A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::CertificateRequired
            | A::AccessDenied
    )
}

/// Judge a TLS-level rejection against what the check presented.
pub fn judge_alert(alert: A, what: &str, kind: TlsRefusal) -> Outcome {
    let name = alert_name(alert);
    let counts = certificate_alert(alert)
        || (alert == A::UnknownCA && kind == TlsRefusal::UntrustedIssuer)
        || (alert == A::HandshakeFailure && kind == TlsRefusal::NoCertificate);
    if counts {
        return Outcome::pass(format!("{what}: refused at the TLS handshake with alert {name}"));
    }
    if alert == A::UnknownCA && kind == TlsRefusal::TrustedCertificate {
        return Outcome::skip(format!(
            "{what}: the server refused the certificate's issuer at TLS (unknown_ca), so what this check tests was never reached; \
             give the harness a certificate from the CA the server trusts, with its intermediates"
        ));
    }
    Outcome::error(format!(
        "cannot judge {what}: the server aborted the handshake with alert {name}, which is not a refusal of the certificate"
    ))
}

/// Judge a request that must be refused by an OAuth endpoint with 400/401 `invalid_client`
/// (RFC 6749 §5.2; RFC 8705 §2).
pub fn expect_invalid_client(ex: Exchange, what: &str, kind: TlsRefusal) -> Outcome {
    let ev = ex.evidence.clone();
    match ex.outcome {
        Err(Failure::TlsRejected(alert)) => judge_alert(alert, what, kind).with(ev),
        Err(f) => Outcome::error(format!("cannot judge {what}: {f}")).with(ev),
        Ok(r) => judge_refusal(&r, what, "invalid_client", &[400, 401], "RFC 6749 §5.2").with(ev),
    }
}

/// Judge an HTTP answer that must be a refusal with `code` in one of `statuses`: a success fails;
/// the right status and code pass; 400/401/403 with another or no code warn (a refusal that
/// does not say why, against `rfc`); everything else is not a refusal and cannot be judged.
pub fn judge_refusal(r: &Response, what: &str, code: &str, statuses: &[u16], rfc: &str) -> Outcome {
    let error = r.str_field("error");
    if (200..300).contains(&r.status) {
        if let Some(why) = r.unjudgeable() {
            return Outcome::error(why);
        }
        let token = if r.field("access_token").is_some() { " and issued an access token" } else { "" };
        return Outcome::fail(format!("{what}: the server answered {}{token}; it must refuse", r.status));
    }
    if statuses.contains(&r.status) && error == Some(code) {
        return Outcome::pass(format!("{what}: refused with {} error={code}", r.status));
    }
    if matches!(r.status, 400 | 401 | 403) {
        return Outcome::warn(format!(
            "{what}: refused with {} error={}, where {rfc} expects {} error={code}",
            r.status,
            error.unwrap_or("(none)"),
            statuses.iter().map(u16::to_string).collect::<Vec<_>>().join("/"),
        ));
    }
    let kind = r.not_a_judgement().unwrap_or_else(|| "an unexpected status".into());
    Outcome::error(format!("cannot judge {what}: the server answered {} ({kind}), which is not a refusal of the credential", r.status))
}

/// The `error` parameter of the Bearer challenge in a `WWW-Authenticate` value, parsed as an
/// RFC 9110 §11.6.1 challenge list (scheme and parameter names case-insensitive, token or
/// quoted-string values). `Some(None)`: a Bearer challenge without `error`; `None`: no Bearer
/// challenge (or an unparseable header).
pub fn bearer_error(www_authenticate: &str) -> Option<Option<String>> {
    for challenge in http_auth::ChallengeParser::new(www_authenticate) {
        let Ok(c) = challenge else { return None };
        if c.scheme.eq_ignore_ascii_case("bearer") {
            let error = c.params.iter().find(|(k, _)| k.eq_ignore_ascii_case("error")).map(|(_, v)| v.to_unescaped());
            return Some(error);
        }
    }
    None
}

/// Judge a resource request that must be refused: 401 with a Bearer challenge carrying
/// `error="invalid_token"` (RFC 6750 §3.1; RFC 8705 §3).
pub fn expect_invalid_token(ex: Exchange, what: &str, kind: TlsRefusal) -> Outcome {
    let ev = ex.evidence.clone();
    let r = match ex.outcome {
        Err(Failure::TlsRejected(alert)) => return judge_alert(alert, what, kind).with(ev),
        Err(f) => return Outcome::error(format!("cannot judge {what}: {f}")).with(ev),
        Ok(r) => r,
    };
    let challenge = ev.www_authenticate.clone().unwrap_or_default();
    let shown = if challenge.is_empty() { "(absent)".to_string() } else { challenge.clone() };
    let o = match (r.status, bearer_error(&challenge)) {
        (401, Some(Some(e))) if e == "invalid_token" => Outcome::pass(format!("{what}: 401 with a Bearer challenge, error=\"invalid_token\"")),
        (401, Some(e)) => Outcome::warn(format!(
            "{what}: refused with 401 and a Bearer challenge whose error is {}, where RFC 6750 §3.1 expects invalid_token",
            e.as_deref().unwrap_or("absent")
        )),
        (200..=299, _) => Outcome::fail(format!("{what}: the resource answered {}; it must refuse with 401 invalid_token", r.status)),
        (401 | 403, _) => Outcome::warn(format!(
            "{what}: refused with {} but without a Bearer challenge carrying error=\"invalid_token\" (RFC 6750 §3.1); WWW-Authenticate: {shown}",
            r.status
        )),
        _ => judge_refusal(&r, what, "invalid_token", &[401], "RFC 6750 §3.1"),
    };
    o.with(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "application/json".into(),
            body: body.as_bytes().to_vec(),
            json: serde_json::from_str(body).ok(),
            retry_after: None,
        }
    }

    #[test]
    fn bearer_challenges_are_parsed_not_matched() {
        assert_eq!(bearer_error(r#"Bearer error="invalid_token""#), Some(Some("invalid_token".into())));
        assert_eq!(bearer_error("bearer ERROR=invalid_token"), Some(Some("invalid_token".into())));
        assert_eq!(bearer_error(r#"Basic realm="x", error="invalid_token""#), None);
        assert_eq!(bearer_error(r#"Basic realm="x", Bearer realm="api", error="invalid_token""#), Some(Some("invalid_token".into())));
        assert_eq!(bearer_error(r#"Bearer realm="a\"b", error="insufficient_scope""#), Some(Some("insufficient_scope".into())));
        assert_eq!(bearer_error("Bearer"), Some(None));
        assert_eq!(bearer_error(""), None);
    }

    #[test]
    fn only_certificate_alerts_are_refusals() {
        use TlsRefusal::*;
        assert_eq!(judge_alert(A::BadCertificate, "x", TrustedCertificate).status, Status::Pass);
        assert_eq!(judge_alert(A::CertificateRequired, "x", NoCertificate).status, Status::Pass);
        assert_eq!(judge_alert(A::HandshakeFailure, "x", NoCertificate).status, Status::Pass);
        assert_eq!(judge_alert(A::HandshakeFailure, "x", TrustedCertificate).status, Status::Error);
        assert_eq!(judge_alert(A::UnknownCA, "x", UntrustedIssuer).status, Status::Pass);
        assert_eq!(judge_alert(A::UnknownCA, "x", TrustedCertificate).status, Status::Skip);
        assert_eq!(judge_alert(A::UnknownCA, "x", NoCertificate).status, Status::Error);
        assert_eq!(judge_alert(A::InternalError, "x", UntrustedIssuer).status, Status::Error);
        assert_eq!(judge_alert(A::ProtocolVersion, "x", TrustedCertificate).status, Status::Error);
    }

    #[test]
    fn statuses_that_are_not_refusals() {
        let j = |s, b| judge_refusal(&resp(s, b), "x", "invalid_client", &[400, 401], "RFC 6749 §5.2").status;
        assert_eq!(j(401, r#"{"error":"invalid_client"}"#), Status::Pass);
        assert_eq!(j(400, r#"{"error":"invalid_client"}"#), Status::Pass);
        assert_eq!(j(403, ""), Status::Warn);
        assert_eq!(j(400, r#"{"error":"invalid_request"}"#), Status::Warn);
        assert_eq!(j(200, r#"{"access_token":"t"}"#), Status::Fail);
        for s in [302, 404, 405, 408, 429, 500, 502, 503] {
            assert_eq!(j(s, r#"{"error":"invalid_client"}"#), Status::Error, "{s}");
        }
    }

    #[test]
    fn a_throttled_answer_is_an_error_that_says_rate_limited_with_its_retry_after() {
        for (status, kind) in [(429, "rate limited"), (503, "unavailable")] {
            let r = Response { retry_after: Some("7".into()), ..resp(status, r#"{"error":"invalid_client"}"#) };
            let o = judge_refusal(&r, "x", "invalid_client", &[400, 401], "RFC 6749 §5.2");
            assert_eq!(o.status, Status::Error);
            assert!(o.reason.contains(&format!("{status} ({kind}; Retry-After: 7)")), "{}", o.reason);
        }
        let r = Response { retry_after: Some("120".into()), ..resp(429, "") };
        let ex = crate::http::Exchange { evidence: Default::default(), location: None, set_cookies: Vec::new(), outcome: Ok(r) };
        let o = crate::checks::client_auth::accepted(&ex, "the registered client");
        assert_eq!(o.status, Status::Error, "a throttled positive control is not a failure: {}", o.reason);
        assert!(o.reason.contains("rate limited; Retry-After: 120"), "{}", o.reason);
    }
}
