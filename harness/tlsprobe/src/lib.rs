//! A TLS prober that asks a server what rustls will not: hand-written ClientHellos offering any
//! protocol version and any cipher-suite list (TLS 1.0/1.1, CBC, DHE, static RSA), sent on a
//! plain TCP socket, with the server's first flight read up to ServerHello (or TLS 1.2's
//! ServerHelloDone, for the CertificateRequest) or the alert that refused it. Nothing past that
//! is needed to learn a version, a suite or an extension, so no key is ever computed.
//!
//! `tls-parser` reads the records; the writer is [`hello`].

pub mod flight;
pub mod hello;
pub mod keys;
pub mod probe;
pub mod renegotiate;
pub mod suites;
mod tls12_record;

pub use flight::{Answer, CertificateRequest, Flight, ServerHello, ServerKeys, Until};
pub use hello::ClientHello;
pub use probe::{probe, probe_recorded, Timeouts};
pub use renegotiate::{renegotiate, ClientAuth, Renegotiation};

/// A protocol version on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// SSL 3.0 (RFC 6101), only ever seen in a server's answer.
    Ssl30,
    /// TLS 1.0 (RFC 2246).
    Tls10,
    /// TLS 1.1 (RFC 4346).
    Tls11,
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl Version {
    /// The code point.
    pub fn wire(self) -> u16 {
        match self {
            Version::Ssl30 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    /// The version of a code point, if it is one.
    pub fn from_wire(v: u16) -> Option<Version> {
        Some(match v {
            0x0300 => Version::Ssl30,
            0x0301 => Version::Tls10,
            0x0302 => Version::Tls11,
            0x0303 => Version::Tls12,
            0x0304 => Version::Tls13,
            _ => return None,
        })
    }

    /// `TLS 1.2`.
    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl30 => "SSL 3.0",
            Version::Tls10 => "TLS 1.0",
            Version::Tls11 => "TLS 1.1",
            Version::Tls12 => "TLS 1.2",
            Version::Tls13 => "TLS 1.3",
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of an AlertDescription (RFC 8446 §6, RFC 5246 §7.2).
pub fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("alert {code}"),
    };
    name.to_string()
}

/// Why a probe could not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No TCP connection.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// host:port.
        addr: String,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// Connecting or reading took too long.
    #[error("{0}")]
    Timeout(String),
    /// The connection failed mid-way.
    #[error("reading from {addr}: {source}")]
    Io {
        /// host:port.
        addr: String,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// The server's bytes are not the TLS the probe expects.
    #[error("{0}")]
    Protocol(String),
}
