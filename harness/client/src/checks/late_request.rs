//! A client certificate asked for after the handshake. A server can leave the handshake without
//! a CertificateRequest and ask for the certificate only when a request reaches a protected path
//! (Apache httpd: `SSLVerifyClient require` inside `<Location>`): by renegotiating under TLS 1.2
//! (a HelloRequest, RFC 5246 §7.4.1.1) or by post-handshake authentication under TLS 1.3
//! (RFC 8446 §4.6.2, only if the client offered the `post_handshake_auth` extension). rustls, the
//! harness's TLS stack, does neither: it answers a HelloRequest with a `no_renegotiation` warning
//! and never offers `post_handshake_auth`. So a positive control there cannot present its
//! certificate at all, and its refusal is no verdict on the server: it is `error`, naming the
//! mechanism and what to configure instead.
//!
//! What the harness sees (Apache 2.4 on OpenSSL 3, `harness/cli/tests/it/apache.rs`): the
//! handshake with the token endpoint's origin asks for no certificate (the per-origin probe,
//! `Ctx::cert_requested`); then, under TLS 1.2, the request ends with a fatal
//! `handshake_failure` alert (Apache's answer to the refused renegotiation, AH02261 "Re-negotiation
//! handshake failed"); under TLS 1.3 it gets `403 Forbidden`, an HTML page ("Reason: Cannot perform
//! Post-Handshake Authentication", AH10158), no OAuth error.

use rustls::AlertDescription;

use super::{Ctx, Outcome, Status};
use crate::http::{alert_name, Exchange, Failure, Response};
use mtls_core::discovery::Operation;

/// How a server asked for the client certificate after the handshake, as an exchange shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LateRequest {
    /// A fatal TLS alert (this one) on a connection whose handshake asked for no certificate:
    /// the server tried to renegotiate (TLS 1.2) and the harness refused.
    Renegotiation(AlertDescription),
    /// 403 without an OAuth error after a handshake that asked for no certificate: the server
    /// wanted one it never asked for in the handshake — TLS 1.3 post-handshake authentication
    /// (`confirmed`: the answer says so) or a renegotiation it gave up on.
    PostHandshake {
        /// The body names post-handshake authentication (Apache's 403 page does).
        confirmed: bool,
    },
}

/// What to configure instead, for every reason below.
const INSTEAD: &str = "configure client authentication in the TLS handshake for the whole virtual host (e.g. Apache `SSLVerifyClient optional_no_ca` at server or virtual-host level, not `SSLVerifyClient require` inside `<Location>`), or serve the mTLS endpoints on a host of their own that asks in the handshake (RFC 8705 §5 `mtls_endpoint_aliases`)";

impl LateRequest {
    /// The `error` reason, for a request at the token endpoint.
    pub(crate) fn reason(self) -> String {
        let start = "cannot judge: the token endpoint's server sent no CertificateRequest in the TLS handshake";
        match self {
            LateRequest::Renegotiation(alert) => format!(
                "{start}, then ended the connection with alert {} once the request arrived: it asks for the client certificate mid-connection by TLS 1.2 renegotiation (a HelloRequest, RFC 5246 §7.4.1.1), which the harness's TLS stack (rustls) refuses (no_renegotiation), as many OAuth clients do — the certificate could not be presented; {INSTEAD}",
                alert_name(alert)
            ),
            LateRequest::PostHandshake { confirmed } => format!(
                "{start}, then answered the request 403 without an OAuth error{}: it asks for the client certificate after the handshake, by TLS 1.3 post-handshake authentication (RFC 8446 §4.6.2){}, which the harness's TLS stack (rustls) does not support (it never offers the post_handshake_auth extension) — the certificate could not be presented; {INSTEAD}",
                if confirmed { " (its page: \"Cannot perform Post-Handshake Authentication\")" } else { "" },
                if confirmed { "" } else { " or TLS 1.2 renegotiation" },
            ),
        }
    }
}

/// Whether `outcome`, the answer to a request presenting a client certificate, shows that the
/// server asked for the certificate only after the handshake. `handshake_asked`: whether a
/// handshake with the same origin carried a CertificateRequest (`None`: unknown — then never).
pub(crate) fn late_request(handshake_asked: Option<bool>, outcome: &Result<Response, Failure>) -> Option<LateRequest> {
    if handshake_asked != Some(false) {
        return None;
    }
    match outcome {
        // The handshake completed without asking (the probe's did): an alert now is the server
        // acting on the connection mid-way, and the only way it had to ask is renegotiation.
        Err(Failure::TlsRejected(a @ (AlertDescription::HandshakeFailure | AlertDescription::NoRenegotiation))) => {
            Some(LateRequest::Renegotiation(*a))
        }
        Ok(r) if r.status == 403 && r.str_field("error").is_none() => {
            let text = String::from_utf8_lossy(&r.body).to_ascii_lowercase();
            Some(LateRequest::PostHandshake { confirmed: text.contains("post-handshake authentication") })
        }
        _ => None,
    }
}

/// `judged`, the outcome of a positive control that presented a certificate at the token
/// endpoint with exchange `ex` — unless it is not a pass and the exchange shows the server asked
/// for the certificate after the handshake ([`late_request`]): then `error`, saying so.
pub(crate) async fn unless_asked_late(ctx: &Ctx, ex: &Exchange, judged: Outcome) -> Outcome {
    if judged.status == Status::Pass || judged.status == Status::Warn {
        return judged;
    }
    let Ok(url) = ctx.endpoint(Operation::Token).await else { return judged };
    let Ok(url) = url::Url::parse(&url) else { return judged };
    let asked = ctx.cert_requested(&url).await.ok();
    match late_request(asked, &ex.outcome) {
        Some(late) => Outcome::error(late.reason()).with(ex.evidence.clone()),
        None => judged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, content_type: &str, body: &str) -> Response {
        Response {
            status,
            content_type: content_type.into(),
            body: body.as_bytes().to_vec(),
            json: serde_json::from_str(body).ok(),
            retry_after: None,
        }
    }

    const APACHE_403: &str = "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>You don't have permission to access this resource.Reason: Cannot perform Post-Handshake Authentication.<br /></p></body></html>";

    #[test]
    fn a_refusal_after_a_handshake_that_asked_for_nothing_is_the_certificate_asked_for_late() {
        let tls12 = Err(Failure::TlsRejected(AlertDescription::HandshakeFailure));
        assert_eq!(late_request(Some(false), &tls12), Some(LateRequest::Renegotiation(AlertDescription::HandshakeFailure)));
        let tls13 = Ok(resp(403, "text/html; charset=iso-8859-1", APACHE_403));
        assert_eq!(late_request(Some(false), &tls13), Some(LateRequest::PostHandshake { confirmed: true }));
        let other_403 = Ok(resp(403, "text/html", "<h1>Forbidden</h1>"));
        assert_eq!(late_request(Some(false), &other_403), Some(LateRequest::PostHandshake { confirmed: false }));
        for late in [LateRequest::Renegotiation(AlertDescription::HandshakeFailure), LateRequest::PostHandshake { confirmed: true }] {
            let r = late.reason();
            assert!(r.starts_with("cannot judge:") && r.contains("rustls") && r.contains("SSLVerifyClient optional_no_ca"), "{r}");
        }
        assert!(LateRequest::Renegotiation(AlertDescription::HandshakeFailure).reason().contains("TLS 1.2 renegotiation"));
        assert!(LateRequest::PostHandshake { confirmed: true }.reason().contains("post_handshake_auth"));
    }

    #[test]
    fn a_judgement_or_a_handshake_that_asked_is_no_late_request() {
        let tls12 = Err(Failure::TlsRejected(AlertDescription::HandshakeFailure));
        let tls13 = Ok(resp(403, "text/html", APACHE_403));
        // The handshake asked (or whether it did is unknown): the refusal stands as it is.
        for asked in [Some(true), None] {
            assert_eq!(late_request(asked, &tls12), None);
            assert_eq!(late_request(asked, &tls13), None);
        }
        // The server judged the request: an OAuth error, another status, another alert.
        for judged in [
            Ok(resp(401, "application/json", r#"{"error":"invalid_client"}"#)),
            Ok(resp(403, "application/json", r#"{"error":"access_denied"}"#)),
            Ok(resp(200, "application/json", r#"{"access_token":"x","token_type":"Bearer"}"#)),
            Err(Failure::TlsRejected(AlertDescription::UnknownCA)),
            Err(Failure::Timeout("slow".into())),
        ] {
            assert_eq!(late_request(Some(false), &judged), None, "{judged:?}");
        }
    }
}
