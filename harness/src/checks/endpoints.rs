//! `endpoints.resolve`: the effective endpoint per operation (RFC 8705 §5) and the shape.

use serde_json::json;

use super::{Ctx, Outcome};
use crate::discovery::{https_url, Operation, Source};

/// RFC 8705 §5: per operation the alias when published, else the top-level endpoint; the token
/// endpoint must resolve to an absolute https URL.
pub async fn resolve(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovery().await {
        Ok(d) => d,
        Err((why, ev)) => return Outcome::error(format!("cannot judge: discovery failed: {why}")).with_all(ev),
    };
    let r = &d.resolution;
    let table: Vec<_> = r
        .endpoints
        .iter()
        .map(|e| json!({"endpoint": e.key, "effective": e.url.as_str(), "source": e.source, "top_level": e.top_level}))
        .collect();
    let details = json!({"shape": r.shape.name(), "endpoints": table, "ignored_aliases": r.ignored});
    let bad_top: Vec<String> = Operation::ALL
        .iter()
        .filter_map(|op| {
            let v = d.metadata.raw.get(op.key())?;
            https_url(v).err().map(|why| format!("{}: {why}", op.key()))
        })
        .collect();
    if !bad_top.is_empty() {
        return Outcome::fail(format!("top-level endpoint(s) are not absolute https URLs: {}", bad_top.join("; ")))
            .details(details);
    }
    let Some(token) = r.get(Operation::Token) else {
        return Outcome::fail("no token endpoint resolves: neither mtls_endpoint_aliases nor the top level publish a usable token_endpoint (RFC 8414 §2)")
            .details(details);
    };
    let summary = r
        .endpoints
        .iter()
        .map(|e| format!("{} → {}", e.key, if e.source == Source::Alias { "alias" } else { "top level" }))
        .collect::<Vec<_>>()
        .join(", ");
    if !r.ignored.is_empty() {
        let why: Vec<String> = r.ignored.iter().map(|i| format!("{}: {}", i.key, i.reason)).collect();
        return Outcome::warn(format!(
            "shape {}: unusable alias(es) ignored, top level used instead ({}); token endpoint {}",
            r.shape.name(),
            why.join("; "),
            token.url
        ))
        .details(details);
    }
    Outcome::pass(format!("shape {}: {summary}", r.shape.name())).details(details)
}
