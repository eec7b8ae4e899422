//! What went wrong with an exchange: the rustls error (and the TLS alert) or timeout behind a
//! reqwest error, named.

use super::Failure;

/// Walk an error's sources for the rustls error or timeout that explains it.
pub(super) fn classify(e: &reqwest::Error) -> Failure {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut timed_out = e.is_timeout();
    while let Some(s) = src {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return tls_failure(tls);
        }
        // io::Error::source() skips the error it wraps, so descend through get_ref() ourselves
        // (tokio-rustls wraps rustls::Error in io::Error, which hyper-util wraps again).
        let mut io_layer = s.downcast_ref::<std::io::Error>();
        while let Some(io) = io_layer {
            if io.kind() == std::io::ErrorKind::TimedOut {
                timed_out = true;
            }
            let inner = io.get_ref();
            if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return tls_failure(tls);
            }
            io_layer = inner.and_then(|i| i.downcast_ref::<std::io::Error>());
        }
        src = s.source();
    }
    let text = chain_text(e);
    if timed_out {
        Failure::Timeout(text)
    } else if e.is_connect() {
        Failure::Connect(text)
    } else {
        Failure::Other(text)
    }
}

pub(super) fn tls_failure(e: &rustls::Error) -> Failure {
    match e {
        rustls::Error::AlertReceived(alert) => Failure::TlsRejected(*alert),
        other => Failure::Tls(other.to_string()),
    }
}

/// The IANA name of a TLS alert (RFC 8446 §6, RFC 5246 §7.2), e.g. `unknown_ca`.
pub fn alert_name(a: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    let known = match a {
        A::CloseNotify => "close_notify",
        A::UnexpectedMessage => "unexpected_message",
        A::BadRecordMac => "bad_record_mac",
        A::HandshakeFailure => "handshake_failure",
        A::BadCertificate => "bad_certificate",
        A::UnsupportedCertificate => "unsupported_certificate",
        A::CertificateRevoked => "certificate_revoked",
        A::CertificateExpired => "certificate_expired",
        A::CertificateUnknown => "certificate_unknown",
        A::IllegalParameter => "illegal_parameter",
        A::UnknownCA => "unknown_ca",
        A::AccessDenied => "access_denied",
        A::DecodeError => "decode_error",
        A::DecryptError => "decrypt_error",
        A::ProtocolVersion => "protocol_version",
        A::InsufficientSecurity => "insufficient_security",
        A::InternalError => "internal_error",
        A::UserCanceled => "user_canceled",
        A::NoRenegotiation => "no_renegotiation",
        A::MissingExtension => "missing_extension",
        A::UnsupportedExtension => "unsupported_extension",
        A::UnrecognisedName => "unrecognized_name",
        A::CertificateRequired => "certificate_required",
        A::NoApplicationProtocol => "no_application_protocol",
        other => return format!("{other:?}"),
    };
    known.to_string()
}

fn chain_text(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}
