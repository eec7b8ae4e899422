//! `disc.*`: the discovery document (RFC 8414) and its `mtls_endpoint_aliases` (RFC 8705 §5).

use serde_json::Value;

use super::{Ctx, Discovered, Outcome};
use crate::http::Evidence;
use mtls_core::discovery::{https_url, kind, Metadata};

/// Fetch the metadata: OpenID Connect discovery first, RFC 8414 §3.1 well-known URI second.
pub(crate) async fn fetch_metadata(ctx: &Ctx) -> Result<Discovered, (String, Option<Evidence>)> {
    let issuer = ctx.target.issuer.trim_end_matches('/');
    let mut candidates = vec![format!("{issuer}/.well-known/openid-configuration")];
    if let Ok(u) = url::Url::parse(issuer) {
        let path = u.path().trim_end_matches('/');
        let origin = u.origin().ascii_serialization();
        candidates.push(format!("{origin}/.well-known/oauth-authorization-server{path}"));
    }
    let http = ctx.target.no_cert();
    let mut last = None;
    for url in candidates {
        let ex = http.get(&url, None).await;
        let ev = ex.evidence.clone();
        let resp = match ex.outcome {
            Ok(r) => r,
            Err(f) => return Err((format!("GET {url}: {f}{}", untrusted(ctx, &url, &f).await), Some(ev))),
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
            let cause = if resp.body.starts_with(&[0xEF, 0xBB, 0xBF]) {
                ": it starts with a UTF-8 byte-order mark, which JSON texts must not carry (RFC 8259 §8.1)"
            } else if resp.body.starts_with(&[0x1F, 0x8B]) {
                ": it is gzip-compressed without a Content-Encoding saying so (RFC 9110 §8.4)"
            } else {
                ""
            };
            return Err((format!("GET {url}: the response is not JSON ({ct}, {} bytes){cause}", resp.body.len()), Some(ev)));
        };
        let metadata = Metadata::from_json(json).map_err(|e| (format!("GET {url}: {e}"), Some(ev.clone())))?;
        let resolution = metadata.resolve();
        let duplicate_keys = mtls_core::discovery::duplicate_keys(&resp.body);
        return Ok(Discovered { url, metadata, resolution, evidence: ev, duplicate_keys });
    }
    Err(last.unwrap_or_else(|| ("no discovery URL could be formed from the issuer".into(), None)))
}

/// The longest explanation of an untrusted server certificate a reason carries, in characters.
const MAX_EXPLANATION: usize = 1500;

/// When `f` is our refusal of the server's certificate at `url` (and it is verified at all): why,
/// from the chain the server sends (`http::chain`), as one bounded sentence; else nothing.
async fn untrusted(ctx: &Ctx, url: &str, f: &crate::http::Failure) -> String {
    if ctx.target.insecure || !f.is_untrusted_server_cert() {
        return String::new();
    }
    let Ok(u) = url::Url::parse(url) else { return String::new() };
    match crate::http::explain_untrusted(&u, &ctx.target.roots, ctx.target.limits).await {
        Some(why) => {
            let why = why.replace('\n', "; ");
            let cut: String = why.chars().take(MAX_EXPLANATION).collect();
            format!(" — {cut}{}", if cut.len() < why.len() { "…" } else { "" })
        }
        None => String::new(),
    }
}

/// RFC 8414 §3 (MUST): discovery answers 200 with a JSON object whose `issuer` is the issuer fetched.
pub async fn fetch(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovery().await {
        Ok(d) => d,
        Err((why, ev)) => return Outcome::error(format!("discovery could not be read: {why}")).with_all(ev),
    };
    let expected = ctx.target.issuer.as_str();
    let ev = d.evidence.clone();
    match d.metadata.issuer() {
        Some(i) if i == expected && !d.duplicate_keys.is_empty() => Outcome::warn(format!(
            "{} is JSON and its issuer is {expected}, but its object names {} more than once: names SHOULD be unique (RFC 8259 §4), and parsers differ on which value they keep (the harness kept the last)",
            d.url,
            mtls_core::text::list(&d.duplicate_keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>(), ", ", 5)
        ))
        .with(ev),
        Some(i) if i == expected => Outcome::pass(format!("{} is JSON and its issuer is {expected}", d.url)).with(ev),
        Some(i) => {
            let o = Outcome::fail(format!(
                "issuer in the document is `{i}`, not the issuer it was fetched for (`{expected}`): RFC 8414 §3.3 requires them identical"
            ))
            .with(ev);
            issuer_near_miss(ctx, i, expected, o)
        }
        None => Outcome::fail("the document has no string `issuer` (RFC 8414 §2 REQUIRED)").with(ev),
    }
}

/// A mismatched issuer that a wrong target file explains as well — the same URL but for a
/// trailing slash, the scheme or the host's case — with the file's `issuer` key named.
fn issuer_near_miss(ctx: &Ctx, stated: &str, expected: &str, o: Outcome) -> Outcome {
    let Some(file) = &ctx.target.file_keys else { return o };
    let (a, b) = (stated.trim_end_matches('/'), expected.trim_end_matches('/'));
    let how = if a == b {
        "only a trailing slash differs"
    } else if a.eq_ignore_ascii_case(b) {
        "only letter case differs"
    } else if a.strip_prefix("http://").is_some_and(|rest| b.strip_prefix("https://") == Some(rest)) {
        // Not the file's doing: the file's issuer is https (the loader refuses any other).
        let mut o = o;
        o.reason = format!(
            "{} — the AS states an http issuer (RFC 8414 §2 requires https): often an AS behind a TLS-terminating proxy that is not told the scheme",
            o.reason
        );
        return o;
    } else {
        return o;
    };
    let at = file.at("issuer");
    let mut o = o;
    o.reason = format!(
        "{} — a near miss ({how}): if the AS's issuer really is `{stated}`, write exactly that as {at}; otherwise the AS publishes the wrong issuer",
        o.reason
    );
    o.check_file(at)
}

/// RFC 8705 §5 (MUST): `mtls_endpoint_aliases`, when present, is a JSON object of absolute https URLs.
pub async fn aliases_object(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let Some(aliases) = d.metadata.aliases() else {
        return Outcome::pass("mtls_endpoint_aliases is not published; clients use the top-level endpoints (RFC 8705 §5)");
    };
    let Value::Object(map) = aliases else {
        return Outcome::fail(format!("mtls_endpoint_aliases is {}, not a JSON object", kind(aliases))).details(aliases.clone());
    };
    let bad: Vec<String> = map.iter().filter_map(|(k, v)| https_url(v).err().map(|why| format!("{k}: {why}"))).collect();
    if bad.is_empty() {
        Outcome::pass(format!("mtls_endpoint_aliases is an object of {} absolute https URL(s)", map.len())).details(aliases.clone())
    } else {
        Outcome::fail(format!("alias value(s) are not absolute https URLs: {}", mtls_core::text::list(&bad, "; ", 10)))
            .details(aliases.clone())
    }
}

/// Endpoint metadata names an alias may carry (RFC 8414 §2, RFC 7662, RFC 7009, RFC 9126,
/// RFC 8628, OpenID CIBA, OIDC Core), besides the browser-facing ones.
const KNOWN_ENDPOINTS: &[&str] = &[
    "token_endpoint",
    "pushed_authorization_request_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "userinfo_endpoint",
    "device_authorization_endpoint",
    "backchannel_authentication_endpoint",
    "registration_endpoint",
];
/// Endpoints a browser visits: an alias for them has no meaning (RFC 8705 §5).
const BROWSER_ENDPOINTS: &[&str] = &["authorization_endpoint", "end_session_endpoint"];

/// RFC 8705 §5 (MUST): alias keys are endpoint metadata names ("one or more endpoint parameters ...
/// conventionally defined for the top level"); browser endpoints, unknown endpoints and aliases
/// without a top-level counterpart have no meaning and warn.
pub async fn aliases_keys(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let Some(aliases) = d.metadata.aliases() else {
        return Outcome::skip("mtls_endpoint_aliases is not published");
    };
    let Value::Object(map) = aliases else {
        return Outcome::skip("mtls_endpoint_aliases is not an object; see disc.aliases.object");
    };
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    for key in map.keys() {
        if !key.ends_with("_endpoint") {
            fails.push(format!("`{key}` is not an endpoint parameter"));
        } else if BROWSER_ENDPOINTS.contains(&key.as_str()) {
            warns.push(format!("`{key}` is browser-facing: an mTLS alias for it has no meaning"));
        } else if !KNOWN_ENDPOINTS.contains(&key.as_str()) {
            warns.push(format!("`{key}` is not a known endpoint parameter"));
        } else if !d.metadata.raw.contains_key(key) {
            warns.push(format!("`{key}` has no top-level counterpart"));
        }
    }
    let details = serde_json::json!({ "keys": map.keys().collect::<Vec<_>>() });
    if !fails.is_empty() {
        let all: Vec<String> = fails.into_iter().chain(warns).collect();
        Outcome::fail(format!("mtls_endpoint_aliases keys: {}", mtls_core::text::list(&all, "; ", 10))).details(details)
    } else if !warns.is_empty() {
        Outcome::warn(format!("mtls_endpoint_aliases keys: {}", mtls_core::text::list(&warns, "; ", 10))).details(details)
    } else {
        Outcome::pass(format!("{} alias key(s), each a known endpoint with a top-level counterpart", map.len())).details(details)
    }
}

/// RFC 8705 §3.3 (MUST): `tls_client_certificate_bound_access_tokens` is a boolean (absent means
/// false) and true where the profile requires bound tokens.
pub async fn bound_flag(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let required = ctx.target.require_bound_tokens;
    match d.metadata.raw.get("tls_client_certificate_bound_access_tokens") {
        Some(Value::Bool(true)) => Outcome::pass("tls_client_certificate_bound_access_tokens is true"),
        Some(Value::Bool(false)) | None if required => Outcome::fail(
            "tls_client_certificate_bound_access_tokens is false or absent (absent means false), but the profile requires certificate-bound access tokens",
        ),
        Some(Value::Bool(false)) | None => Outcome::pass("tls_client_certificate_bound_access_tokens is false or absent; the profile does not require bound tokens"),
        Some(other) => Outcome::fail(format!("tls_client_certificate_bound_access_tokens is {} ({other}), not a JSON boolean", kind(other))),
    }
}

/// RFC 8705 §2.1.1, §2.2.1 (MUST): `token_endpoint_auth_methods_supported` lists the methods of
/// the clients under test: `tls_client_auth`, `self_signed_tls_client_auth`, `private_key_jwt`.
pub async fn auth_methods(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let c = &ctx.target.clients;
    let mut wanted = Vec::new();
    if c.tls.is_some() {
        wanted.push("tls_client_auth");
    }
    if c.self_signed.is_some() {
        wanted.push("self_signed_tls_client_auth");
    }
    if c.jwt.is_some() {
        wanted.push("private_key_jwt");
    }
    let published = d.metadata.raw.get("token_endpoint_auth_methods_supported");
    let Some(Value::Array(list)) = published else {
        return Outcome::fail(format!(
            "token_endpoint_auth_methods_supported is {}; absent it defaults to client_secret_basic (RFC 8414 §2), which excludes the methods under test",
            published.map(kind).unwrap_or("absent")
        ));
    };
    let missing: Vec<&str> = wanted.iter().copied().filter(|m| !list.iter().any(|v| v.as_str() == Some(m))).collect();
    let details = serde_json::json!({ "published": list, "under_test": wanted });
    if missing.is_empty() {
        Outcome::pass(format!("token_endpoint_auth_methods_supported lists {}", wanted.join(", "))).details(details)
    } else {
        Outcome::fail(format!("token_endpoint_auth_methods_supported lacks {}", missing.join(", "))).details(details)
    }
}
