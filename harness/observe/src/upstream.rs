//! The real AS behind the proxy: its discovery document (RFC 8414 §3, OpenID Connect Discovery
//! §4), the distinct origins it publishes (top level and `mtls_endpoint_aliases`, RFC 8705 §5),
//! and whether each one's TLS server asks for a client certificate (§5, §6).

use std::time::Duration;

use rustls::pki_types::CertificateDer;
use serde_json::Value;
use url::Url;

use crate::ObserveError;

/// The most of a discovery document read.
const MAX_DISCOVERY: usize = 1 << 20;
/// The most upstream origins observe stands a listener up for (each is probed at start).
pub const MAX_ORIGINS: usize = 16;

/// One origin of the upstream, in the order first published (the issuer's first).
#[derive(Debug, Clone)]
pub struct Origin {
    /// `https://host:port` (RFC 6454 serialisation).
    pub origin: String,
    /// Its host, as in the URL.
    pub host: String,
    /// Whether its TLS server sends a CertificateRequest.
    pub requests_cert: bool,
}

/// The discovery document's URL for `issuer`: OpenID Connect's (`{issuer}/.well-known/openid-configuration`)
/// and RFC 8414 §3's (`/.well-known/oauth-authorization-server{path}`).
pub fn discovery_urls(issuer: &Url) -> Vec<String> {
    let base = issuer.as_str().trim_end_matches('/');
    let path = issuer.path().trim_end_matches('/');
    let origin = issuer.origin().ascii_serialization();
    vec![format!("{base}/.well-known/openid-configuration"), format!("{origin}/.well-known/oauth-authorization-server{path}")]
}

/// Fetch the upstream's discovery document with `client` (bounded by `timeout`): the first of
/// [`discovery_urls`] that answers 200 with a JSON object. Every failure names the URL.
pub async fn discover(issuer: &Url, client: &reqwest::Client, timeout: Duration) -> Result<(String, Value), ObserveError> {
    let mut last = None;
    for url in discovery_urls(issuer) {
        let failed = |reason: String| ObserveError::Upstream { url: url.clone(), reason };
        let resp = match tokio::time::timeout(timeout, client.get(&url).header("accept", "application/json").send()).await {
            Err(_) => return Err(failed(format!("no answer within {timeout:?}"))),
            Ok(Err(e)) if e.is_timeout() => return Err(failed(format!("no answer within {timeout:?}"))),
            Ok(Err(e)) => return Err(failed(without_url(&mtls_core::error_chain(&e)))),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        let body = match tokio::time::timeout(timeout, read_limited(resp, MAX_DISCOVERY)).await {
            Err(_) => return Err(failed(format!("the body did not arrive within {timeout:?}"))),
            Ok(Err(why)) => return Err(failed(why)),
            Ok(Ok(b)) => b,
        };
        if status != 200 {
            last = Some(failed(format!("answered {status}")));
            continue;
        }
        return match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v.is_object() => Ok((url, v)),
            Ok(_) => Err(failed("the discovery document is JSON but not an object".into())),
            Err(e) => {
                let head: String = String::from_utf8_lossy(&body[..body.len().min(60)]).chars().filter(|c| !c.is_control()).collect();
                Err(failed(format!("the discovery document is not JSON ({e}; it begins `{head}`)")))
            }
        };
    }
    Err(last.unwrap_or_else(|| ObserveError::Upstream { url: issuer.to_string(), reason: "no discovery URL".into() }))
}

/// reqwest's error chain without its "error sending request for url (…)" head: the error
/// already names the URL.
pub(crate) fn without_url(chain: &str) -> String {
    match chain.strip_prefix("error sending request for url (").and_then(|rest| rest.split_once("): ")) {
        Some((_, tail)) => tail.to_string(),
        None => chain.to_string(),
    }
}

/// A response body, at most `max` bytes.
pub(crate) async fn read_limited(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| mtls_core::error_chain(&e))? {
        if body.len() + chunk.len() > max {
            return Err(format!("the body exceeds {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Every https URL the document publishes as an endpoint or alias (`*_endpoint`, `*_uri`,
/// `mtls_endpoint_aliases`), with the issuer's first, then `extra` (the resource).
pub fn published_urls(issuer: &Url, metadata: &Value, extra: &[Url]) -> Vec<Url> {
    let mut out = vec![issuer.clone()];
    let mut push = |v: &Value| {
        if let Some(u) = v.as_str().and_then(|s| Url::parse(s).ok()).filter(|u| u.scheme() == "https") {
            out.push(u);
        }
    };
    if let Some(obj) = metadata.as_object() {
        for (k, v) in obj {
            if k.ends_with("_endpoint") || k.ends_with("_uri") {
                push(v);
            }
        }
        if let Some(aliases) = obj.get("mtls_endpoint_aliases").and_then(Value::as_object) {
            aliases.values().for_each(&mut push);
        }
    }
    out.extend(extra.iter().cloned());
    out
}

/// The first URL of each distinct origin of `urls`, in order.
pub fn distinct_origins(urls: &[Url]) -> Vec<&Url> {
    let mut out: Vec<&Url> = Vec::new();
    for u in urls {
        if !out.iter().any(|o| o.origin() == u.origin()) {
            out.push(u);
        }
    }
    out
}

/// The distinct origins of `urls`, in order, each probed once for a CertificateRequest.
pub async fn origins(
    urls: &[Url],
    roots: &[CertificateDer<'static>],
    limits: mtls_client::http::Limits,
) -> Result<Vec<Origin>, ObserveError> {
    let distinct = distinct_origins(urls);
    if distinct.len() > MAX_ORIGINS {
        return Err(ObserveError::Upstream {
            url: urls[0].to_string(),
            reason: format!("its discovery publishes more than {MAX_ORIGINS} origins; observe stands up at most {MAX_ORIGINS} listeners"),
        });
    }
    let mut out = Vec::new();
    for u in distinct {
        let origin = u.origin().ascii_serialization();
        let requests_cert = mtls_client::http::cert_request_probe(u, roots, limits, false)
            .await
            .map_err(|f| ObserveError::Upstream { url: origin.clone(), reason: format!("probing its TLS handshake: {f}") })?;
        out.push(Origin {
            origin,
            host: u.host_str().unwrap_or_default().trim_matches(|c| c == '[' || c == ']').to_string(),
            requests_cert,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls_follow_oidc_and_rfc8414_for_issuers_with_paths() {
        let u = Url::parse("https://as.example/tenant/a").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            discovery_urls(&u),
            [
                "https://as.example/tenant/a/.well-known/openid-configuration",
                "https://as.example/.well-known/oauth-authorization-server/tenant/a"
            ]
        );
    }

    #[test]
    fn published_urls_take_endpoints_aliases_and_the_resource_not_other_strings() {
        let issuer = Url::parse("https://as.example").unwrap_or_else(|e| panic!("{e}"));
        let md = serde_json::json!({
            "issuer": "https://as.example",
            "token_endpoint": "https://as.example/token",
            "jwks_uri": "https://keys.example/jwks",
            "service_documentation": "https://docs.example",
            "userinfo_endpoint": "http://plain.example/userinfo",
            "mtls_endpoint_aliases": { "token_endpoint": "https://mtls.as.example:8443/token" }
        });
        let rs = Url::parse("https://api.example/accounts").unwrap_or_else(|e| panic!("{e}"));
        let hosts: Vec<String> = published_urls(&issuer, &md, &[rs]).iter().map(|u| u.origin().ascii_serialization()).collect();
        assert!(hosts.contains(&"https://mtls.as.example:8443".to_string()) && hosts.contains(&"https://keys.example".to_string()));
        assert!(hosts.contains(&"https://api.example".to_string()));
        assert!(!hosts.iter().any(|h| h.contains("docs.example") || h.contains("plain.example")), "{hosts:?}");
    }
}
