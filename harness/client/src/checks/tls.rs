//! `tls.cert-requested`: whether each effective mTLS endpoint's server asks for a client
//! certificate in the TLS handshake (RFC 8705 §5, §6).

use std::collections::BTreeMap;

use serde_json::json;

use super::{Ctx, Outcome};

/// RFC 8705 §5/§6 (MUST): a client can only authenticate or bind with its certificate where the server
/// sends a CertificateRequest. One fresh handshake per distinct host:port of the effective endpoints.
pub async fn cert_requested(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut by_origin: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for e in &d.resolution.endpoints {
        by_origin.entry(e.url.origin().ascii_serialization()).or_default().push(e.key);
    }
    if by_origin.is_empty() {
        return Outcome::error("cannot judge: no effective endpoint to probe; see endpoints.resolve");
    }
    let mut rows = Vec::new();
    let mut not_requested = Vec::new();
    let mut errors = Vec::new();
    for (origin, keys) in &by_origin {
        let Ok(url) = url::Url::parse(origin) else { continue };
        match ctx.cert_requested(&url).await {
            Ok(true) => rows.push(json!({"origin": origin, "endpoints": keys, "certificate_requested": true})),
            Ok(false) => {
                rows.push(json!({"origin": origin, "endpoints": keys, "certificate_requested": false}));
                not_requested.push(format!("{origin} ({})", keys.join(", ")));
            }
            Err(f) => {
                rows.push(json!({"origin": origin, "endpoints": keys, "error": f.to_string()}));
                errors.push(format!("{origin}: {f}"));
            }
        }
    }
    let details = json!({ "probes": rows });
    if !not_requested.is_empty() {
        Outcome::fail(format!(
            "no CertificateRequest in the handshake of {}: a client cannot present its certificate there",
            not_requested.join("; ")
        ))
        .details(details)
    } else if !errors.is_empty() {
        Outcome::error(format!("cannot judge: handshake failed: {}", errors.join("; "))).details(details)
    } else {
        Outcome::pass(format!("every effective endpoint's server asks for a client certificate ({} origin(s))", by_origin.len()))
            .details(details)
    }
}
