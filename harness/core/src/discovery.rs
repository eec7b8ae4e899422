//! Authorization server metadata (RFC 8414) and `mtls_endpoint_aliases` (RFC 8705 §5): which
//! URL a conformant client uses for each operation, and which discovery shape the AS publishes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

/// The discovery shapes of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum), value(rename_all = "lowercase"))]
pub enum Shape {
    /// Aliases published with the same URLs as the top level.
    Identical,
    /// Aliases on a different listener/host from the top level.
    Split,
    /// Aliases for some mTLS endpoints only.
    Partial,
    /// No `mtls_endpoint_aliases`.
    Missing,
    /// Aliases present but not a usable object of absolute https URLs.
    Malformed,
}

impl Shape {
    /// The name scenarios and reports use (`split`).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Operations a client performs against an AS with its certificate, by metadata key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `token_endpoint` (RFC 6749).
    Token,
    /// `pushed_authorization_request_endpoint` (RFC 9126).
    PushedAuthorizationRequest,
    /// `introspection_endpoint` (RFC 7662).
    Introspection,
    /// `revocation_endpoint` (RFC 7009).
    Revocation,
    /// `userinfo_endpoint` (OpenID Connect Core).
    Userinfo,
    /// `device_authorization_endpoint` (RFC 8628).
    DeviceAuthorization,
    /// `backchannel_authentication_endpoint` (OpenID Connect CIBA).
    BackchannelAuthentication,
}

impl Operation {
    /// Every operation, in the order resolution and reports list them.
    pub const ALL: [Operation; 7] = [
        Operation::Token,
        Operation::PushedAuthorizationRequest,
        Operation::Introspection,
        Operation::Revocation,
        Operation::Userinfo,
        Operation::DeviceAuthorization,
        Operation::BackchannelAuthentication,
    ];

    /// The metadata key of the operation's endpoint, top level and in `mtls_endpoint_aliases`.
    pub fn key(self) -> &'static str {
        match self {
            Operation::Token => "token_endpoint",
            Operation::PushedAuthorizationRequest => "pushed_authorization_request_endpoint",
            Operation::Introspection => "introspection_endpoint",
            Operation::Revocation => "revocation_endpoint",
            Operation::Userinfo => "userinfo_endpoint",
            Operation::DeviceAuthorization => "device_authorization_endpoint",
            Operation::BackchannelAuthentication => "backchannel_authentication_endpoint",
        }
    }
}

/// Where an effective endpoint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A usable entry of `mtls_endpoint_aliases` (RFC 8705 §5).
    Alias,
    /// The top-level metadata endpoint: no alias, or one that had to be ignored.
    TopLevel,
}

/// The URL a conformant client uses for one operation (RFC 8705 §5).
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    /// The operation this endpoint serves.
    pub operation: Operation,
    /// Its metadata key (`token_endpoint`).
    pub key: &'static str,
    /// The URL to call: the alias when usable, else the top-level endpoint.
    pub url: Url,
    /// Whether `url` came from the alias or the top level.
    pub source: Source,
    /// The top-level URL, when the AS publishes one.
    pub top_level: Option<String>,
}

/// Fetched metadata: the raw JSON object and the typed view the checks use.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The discovery document's JSON object, as fetched.
    pub raw: Map<String, Value>,
}

/// An alias entry the resolver had to ignore, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Ignored {
    /// The alias key (`token_endpoint`).
    pub key: String,
    /// Why its value is unusable (not a string, not absolute, not https, no host).
    pub reason: String,
}

/// The outcome of resolving metadata: the effective endpoints and the discovery shape they show.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    /// One entry per operation that has an alias or a usable top-level endpoint.
    pub endpoints: Vec<Effective>,
    /// Alias entries that were present but unusable.
    pub ignored: Vec<Ignored>,
    /// The shape the published aliases have.
    pub shape: Shape,
}

impl Resolution {
    /// The effective endpoint of `op`, if the AS has one.
    pub fn get(&self, op: Operation) -> Option<&Effective> {
        self.endpoints.iter().find(|e| e.operation == op)
    }
}

/// Whether a string is an absolute https URL (RFC 8705 §5 aliases; RFC 8414 §2 endpoints).
pub fn https_url(v: &Value) -> Result<Url, String> {
    let s = v.as_str().ok_or_else(|| format!("not a string: {v}"))?;
    let url = Url::parse(s).map_err(|e| format!("`{s}` is not an absolute URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("`{s}` does not use https"));
    }
    if url.host().is_none() {
        return Err(format!("`{s}` has no host"));
    }
    Ok(url)
}

impl Metadata {
    /// The metadata of a parsed discovery document; an error naming what was found when it is
    /// not a JSON object.
    pub fn from_json(v: Value) -> Result<Metadata, String> {
        match v {
            Value::Object(raw) => Ok(Metadata { raw }),
            other => Err(format!("discovery document is JSON but not an object (found {})", kind(&other))),
        }
    }

    /// The `issuer` value, when it is a string.
    pub fn issuer(&self) -> Option<&str> {
        self.raw.get("issuer").and_then(Value::as_str)
    }

    /// The raw `mtls_endpoint_aliases` value, whatever its JSON type.
    pub fn aliases(&self) -> Option<&Value> {
        self.raw.get("mtls_endpoint_aliases")
    }

    /// Effective endpoint per operation: the alias when it is a usable absolute https URL,
    /// else the top-level endpoint (RFC 8705 §5).
    pub fn resolve(&self) -> Resolution {
        let aliases = self.aliases().and_then(Value::as_object);
        let mut endpoints = Vec::new();
        let mut ignored = Vec::new();
        for op in Operation::ALL {
            let key = op.key();
            let top_raw = self.raw.get(key);
            let top = top_raw.and_then(|v| https_url(v).ok());
            let alias = aliases.and_then(|a| a.get(key));
            let chosen = match alias.map(https_url) {
                Some(Ok(url)) => Some((url, Source::Alias)),
                Some(Err(reason)) => {
                    ignored.push(Ignored { key: key.to_string(), reason });
                    top.clone().map(|u| (u, Source::TopLevel))
                }
                None => top.clone().map(|u| (u, Source::TopLevel)),
            };
            if let Some((url, source)) = chosen {
                endpoints.push(Effective {
                    operation: op,
                    key,
                    url,
                    source,
                    top_level: top_raw.and_then(Value::as_str).map(str::to_string),
                });
            }
        }
        let shape = self.classify(&endpoints, &ignored);
        Resolution { endpoints, ignored, shape }
    }

    fn classify(&self, endpoints: &[Effective], ignored: &[Ignored]) -> Shape {
        let Some(aliases) = self.aliases() else { return Shape::Missing };
        if !aliases.is_object() || !ignored.is_empty() {
            return Shape::Malformed;
        }
        if aliases.get("authorization_endpoint").is_some() {
            return Shape::Malformed;
        }
        let with_top: Vec<&Effective> = endpoints.iter().filter(|e| e.top_level.is_some()).collect();
        if with_top.iter().any(|e| e.source == Source::TopLevel) {
            return Shape::Partial;
        }
        if with_top.iter().all(|e| e.top_level.as_deref() == Some(e.url.as_str())) {
            Shape::Identical
        } else {
            Shape::Split
        }
    }
}

/// The names a JSON text's top-level object carries more than once, in order of their second
/// appearance (RFC 8259 §4: names SHOULD be unique). Empty for anything but an object.
pub fn duplicate_keys(body: &[u8]) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'de> serde::de::Visitor<'de> for Names {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                if !seen.insert(k.clone()) && !self.0.contains(&k) {
                    self.0.push(k);
                }
            }
            Ok(self.0)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde::Deserializer::deserialize_map(&mut de, Names(Vec::new())).unwrap_or_default()
}

/// The JSON type of `v` with its article (`an object`), for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: Value) -> Metadata {
        Metadata::from_json(v).unwrap()
    }

    #[test]
    fn duplicate_top_level_names_are_found() {
        let body = br#"{"issuer":"https://a","x":{"issuer":1,"issuer":2},"issuer":"https://b","token_endpoint":1,"issuer":3}"#;
        assert_eq!(duplicate_keys(body), ["issuer"], "top level only, once each");
        assert!(duplicate_keys(br#"{"a":1,"b":2}"#).is_empty());
        assert!(duplicate_keys(b"[1,2]").is_empty() && duplicate_keys(b"not json").is_empty());
    }

    #[test]
    fn missing_uses_top_level() {
        let m = meta(json!({"issuer": "https://as", "token_endpoint": "https://as/token"}));
        let r = m.resolve();
        assert_eq!(r.shape, Shape::Missing);
        let t = r.get(Operation::Token).unwrap();
        assert_eq!((t.url.as_str(), t.source), ("https://as/token", Source::TopLevel));
    }

    #[test]
    fn identical_split_partial() {
        let m = meta(json!({"token_endpoint": "https://as/token", "revocation_endpoint": "https://as/rev",
            "mtls_endpoint_aliases": {"token_endpoint": "https://as/token", "revocation_endpoint": "https://as/rev"}}));
        assert_eq!(m.resolve().shape, Shape::Identical);
        let m = meta(json!({"token_endpoint": "https://as/token", "revocation_endpoint": "https://as/rev",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as/token", "revocation_endpoint": "https://mtls.as/rev"}}));
        let r = m.resolve();
        assert_eq!(r.shape, Shape::Split);
        assert_eq!(r.get(Operation::Token).unwrap().url.as_str(), "https://mtls.as/token");
        let m = meta(json!({"token_endpoint": "https://as/token", "pushed_authorization_request_endpoint": "https://as/par",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as/token"}}));
        let r = m.resolve();
        assert_eq!(r.shape, Shape::Partial);
        assert_eq!(r.get(Operation::PushedAuthorizationRequest).unwrap().source, Source::TopLevel);
    }

    #[test]
    fn unusable_alias_is_ignored_with_reason_and_shape_malformed() {
        let m = meta(json!({"token_endpoint": "https://as/token",
            "mtls_endpoint_aliases": {"token_endpoint": "http://as/token"}}));
        let r = m.resolve();
        assert_eq!(r.shape, Shape::Malformed);
        assert_eq!(r.get(Operation::Token).unwrap().source, Source::TopLevel);
        assert!(r.ignored[0].reason.contains("does not use https"));
        let m = meta(json!({"token_endpoint": "https://as/token", "mtls_endpoint_aliases": ["x"]}));
        assert_eq!(m.resolve().shape, Shape::Malformed);
    }
}

/// For shape `malformed`: which way the mock breaks its aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum), value(rename_all = "snake_case"))]
pub enum Malformed {
    /// The aliases are a JSON array, not an object.
    NotObject,
    /// The token alias is a relative URL.
    RelativeUrl,
    /// The token alias uses `http:`.
    HttpUrl,
    /// `authorization_endpoint` is aliased (it has no meaning there, RFC 8705 §5).
    AuthorizationEndpoint,
    /// A key that is not an endpoint (`jwks_uri`) is aliased.
    NonEndpointKey,
}

/// The endpoints a client calls with its certificate and an AS can alias (RFC 8705 §5).
pub const MTLS_ENDPOINT_KEYS: [&str; 5] =
    ["token_endpoint", "pushed_authorization_request_endpoint", "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint"];

/// The endpoints a scenario's mock aliases when the scenario does not say.
pub fn default_aliased(shape: Shape) -> Vec<String> {
    match shape {
        Shape::Missing => vec![],
        Shape::Partial => vec!["token_endpoint".into()],
        _ => MTLS_ENDPOINT_KEYS.iter().map(|s| s.to_string()).collect(),
    }
}
