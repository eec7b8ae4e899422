//! `disc.*`: the discovery document (RFC 8414) and its `mtls_endpoint_aliases` (RFC 8705 §5).

use serde_json::Value;

use super::{Ctx, Discovered, Outcome};
use crate::discovery::{https_url, kind, Metadata};
use crate::http::Evidence;
use crate::target::Who;

/// Fetch the metadata: OpenID Connect discovery first, RFC 8414 §3.1 well-known URI second.
pub(crate) async fn fetch_metadata(ctx: &Ctx) -> Result<Discovered, (String, Option<Evidence>)> {
    let issuer = ctx.target.issuer.trim_end_matches('/');
    let mut candidates = vec![format!("{issuer}/.well-known/openid-configuration")];
    if let Ok(u) = url::Url::parse(issuer) {
        let path = u.path().trim_end_matches('/');
        let origin = u.origin().ascii_serialization();
        candidates.push(format!("{origin}/.well-known/oauth-authorization-server{path}"));
    }
    let http = ctx.target.http(Who::NoCert);
    let mut last = None;
    for url in candidates {
        let ex = http.get(&url, None).await;
        let ev = ex.evidence.clone();
        let resp = match ex.outcome {
            Ok(r) => r,
            Err(f) => return Err((format!("GET {url}: {f}"), Some(ev))),
        };
        if resp.status == 404 {
            last = Some((format!("GET {url}: 404"), Some(ev)));
            continue;
        }
        if resp.status != 200 {
            return Err((format!("GET {url}: HTTP {} (RFC 8414 §3.2 requires 200)", resp.status), Some(ev)));
        }
        let Some(json) = resp.json else {
            let ct = if resp.content_type.is_empty() { "no content-type".to_string() } else { resp.content_type };
            return Err((format!("GET {url}: the response is not JSON ({ct}, {} bytes)", resp.body.len()), Some(ev)));
        };
        let metadata = Metadata::from_json(json).map_err(|e| (format!("GET {url}: {e}"), Some(ev.clone())))?;
        let resolution = metadata.resolve();
        return Ok(Discovered { url, metadata, resolution, evidence: ev });
    }
    Err(last.unwrap_or_else(|| ("no discovery URL could be formed from the issuer".into(), None)))
}

/// RFC 8414 §3: discovery answers 200 with a JSON object whose `issuer` is the issuer fetched.
pub async fn fetch(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovery().await {
        Ok(d) => d,
        Err((why, ev)) => return Outcome::error(format!("discovery could not be read: {why}")).with_all(ev),
    };
    let expected = ctx.target.issuer.as_str();
    let ev = d.evidence.clone();
    match d.metadata.issuer() {
        Some(i) if i == expected => Outcome::pass(format!("{} is JSON and its issuer is {expected}", d.url)).with(ev),
        Some(i) => Outcome::fail(format!(
            "issuer in the document is `{i}`, not the issuer it was fetched for (`{expected}`): RFC 8414 §3.3 requires them identical"
        ))
        .with(ev),
        None => Outcome::fail("the document has no string `issuer` (RFC 8414 §2 REQUIRED)").with(ev),
    }
}

/// RFC 8705 §5: `mtls_endpoint_aliases`, when present, is a JSON object of absolute https URLs.
pub async fn aliases_object(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovery().await {
        Ok(d) => d,
        Err((why, ev)) => return Outcome::error(format!("cannot judge: discovery failed: {why}")).with_all(ev),
    };
    let Some(aliases) = d.metadata.aliases() else {
        return Outcome::pass("mtls_endpoint_aliases is not published; clients use the top-level endpoints (RFC 8705 §5)");
    };
    let Value::Object(map) = aliases else {
        return Outcome::fail(format!("mtls_endpoint_aliases is {}, not a JSON object", kind(aliases)))
            .details(aliases.clone());
    };
    let bad: Vec<String> = map
        .iter()
        .filter_map(|(k, v)| https_url(v).err().map(|why| format!("{k}: {why}")))
        .collect();
    if bad.is_empty() {
        Outcome::pass(format!("mtls_endpoint_aliases is an object of {} absolute https URL(s)", map.len()))
            .details(aliases.clone())
    } else {
        Outcome::fail(format!("alias value(s) are not absolute https URLs: {}", bad.join("; "))).details(aliases.clone())
    }
}
