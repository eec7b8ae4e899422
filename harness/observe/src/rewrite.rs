//! What the proxy changes in the answers it relays, and nothing else: URLs of the upstream's
//! origins become the local listeners' (in discovery, in `Location`), and the issuer the client
//! sees is the local one — in discovery's `issuer`, a JSON answer's `iss` and an authorization
//! response's `iss` parameter (RFC 9207 §2) — unless `--preserve-issuer` keeps every URL as the
//! upstream publishes it (for clients pointed at the proxy by a resolver or `--connect-to`).

use serde_json::Value;
use url::Url;

/// Upstream origins and the local listeners standing in for them.
#[derive(Debug, Clone)]
pub struct OriginMap {
    /// (upstream origin, local base URL), the issuer's first.
    pub pairs: Vec<(String, String)>,
    /// The upstream's issuer, as its discovery says.
    pub upstream_issuer: String,
    /// Keep every URL and the issuer as the upstream publishes them.
    pub preserve_issuer: bool,
}

impl OriginMap {
    /// `url` with its origin replaced by its listener's, when an upstream origin of the map.
    pub fn to_local(&self, url: &str) -> Option<String> {
        let u = Url::parse(url).ok()?;
        let origin = u.origin().ascii_serialization();
        let (_, local) = self.pairs.iter().find(|(up, _)| *up == origin)?;
        let rest = &url[url.find("://").map(|i| i + 3).unwrap_or(0)..];
        let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
        Some(format!("{local}{tail}"))
    }

    /// The issuer the client sees.
    pub fn local_issuer(&self) -> String {
        if self.preserve_issuer {
            return self.upstream_issuer.clone();
        }
        self.to_local(&self.upstream_issuer).unwrap_or_else(|| self.upstream_issuer.clone())
    }

    /// Discovery as the client sees it: every string that is a URL of a mapped origin made
    /// local (`issuer` included), recursively.
    pub fn discovery(&self, v: &mut Value) {
        if self.preserve_issuer {
            return;
        }
        match v {
            Value::String(s) => {
                if let Some(local) = self.to_local(s) {
                    *s = local;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.discovery(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.discovery(x)),
            _ => {}
        }
    }

    /// A JSON answer as the client sees it: a top-level `iss` naming the upstream issuer names
    /// the local one (introspection, RFC 7662 §2.2; JWT-secured responses are signed and stay).
    pub fn answer(&self, v: &mut Value) -> bool {
        if self.preserve_issuer {
            return false;
        }
        let local = self.local_issuer();
        match v.get_mut("iss") {
            Some(Value::String(s)) if *s == self.upstream_issuer => {
                *s = local;
                true
            }
            _ => false,
        }
    }

    /// A `Location` as the client sees it: a mapped origin made local, an `iss` parameter naming
    /// the upstream issuer naming the local one (RFC 9207 §2).
    pub fn location(&self, loc: &str) -> String {
        if self.preserve_issuer {
            return loc.to_string();
        }
        let moved = self.to_local(loc).unwrap_or_else(|| loc.to_string());
        let Ok(mut u) = Url::parse(&moved) else { return moved };
        if !u.query_pairs().any(|(k, v)| k == "iss" && v == self.upstream_issuer.as_str()) {
            return moved;
        }
        let local = self.local_issuer();
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| if k == "iss" { (k.into_owned(), local.clone()) } else { (k.into_owned(), v.into_owned()) })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(preserve: bool) -> OriginMap {
        OriginMap {
            pairs: vec![
                ("https://as.example".into(), "https://127.0.0.1:4000".into()),
                ("https://mtls.as.example:8443".into(), "https://127.0.0.1:4001".into()),
            ],
            upstream_issuer: "https://as.example".into(),
            preserve_issuer: preserve,
        }
    }

    #[test]
    fn discovery_urls_and_the_issuer_become_local_and_nothing_else_changes() {
        let mut d = json!({
            "issuer": "https://as.example",
            "token_endpoint": "https://as.example/token?x=1",
            "jwks_uri": "https://keys.example/jwks",
            "mtls_endpoint_aliases": { "token_endpoint": "https://mtls.as.example:8443/oauth/token" },
            "scopes_supported": ["openid", "https://as.example"]
        });
        map(false).discovery(&mut d);
        assert_eq!(d["issuer"], "https://127.0.0.1:4000");
        assert_eq!(d["token_endpoint"], "https://127.0.0.1:4000/token?x=1");
        assert_eq!(d["mtls_endpoint_aliases"]["token_endpoint"], "https://127.0.0.1:4001/oauth/token");
        assert_eq!(d["jwks_uri"], "https://keys.example/jwks", "an origin without a listener stays");
        let before = d.clone();
        map(true).discovery(&mut d);
        assert_eq!(d, before, "--preserve-issuer changes nothing");
    }

    #[test]
    fn an_authorization_response_names_the_local_issuer() {
        let m = map(false);
        assert_eq!(
            m.location("https://client.example/cb?code=abc&iss=https%3A%2F%2Fas.example"),
            "https://client.example/cb?code=abc&iss=https%3A%2F%2F127.0.0.1%3A4000"
        );
        assert_eq!(m.location("https://as.example/login?x=1"), "https://127.0.0.1:4000/login?x=1");
        assert_eq!(m.location("/relative"), "/relative");
        let mut intro = json!({"active": true, "iss": "https://as.example"});
        assert!(m.answer(&mut intro));
        assert_eq!(intro["iss"], "https://127.0.0.1:4000");
    }
}
