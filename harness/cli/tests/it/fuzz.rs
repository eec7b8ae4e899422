//! Property-based fuzzing (proptest) of everything that parses outside input: scenario and
//! target files, discovery documents and alias resolution, JWT payloads, distinguished names,
//! PEM/DER certificates, form bodies. The property is always the same: no panic, and errors are
//! values. CI runs the default number of cases; for a long run:
//!   PROPTEST_CASES=200000 cargo test --release --test it fuzz::
//! Failing inputs proptest finds are persisted under harness/cli/tests/proptest-regressions/
//! (proptest's default: beside the directory of this binary's main.rs) and are replayed first
//! on every run.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use mtls_harness::discovery::{https_url, Metadata};
use mtls_harness::live::TargetFile;
use mtls_harness::scenario::Scenario;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("https://as.example/token"),
            Just("http://as.example/token"),
            Just("/token"),
            Just("https://"),
            Just("https://[::1]:99999/x"),
            Just("token_endpoint"),
            Just("mtls_endpoint_aliases"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let keys = prop_oneof![
            Just("issuer".to_string()),
            Just("token_endpoint".to_string()),
            Just("mtls_endpoint_aliases".to_string()),
            Just("authorization_endpoint".to_string()),
            Just("pushed_authorization_request_endpoint".to_string()),
            Just("introspection_endpoint".to_string()),
            Just("userinfo_endpoint".to_string()),
            "[a-z_]{1,20}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Near-valid YAML: real keys and values in random combinations and nestings.
fn yamlish() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("id"),
        Just("title"),
        Just("mode"),
        Just("discovery"),
        Just("shape"),
        Just("aliased"),
        Just("malformed"),
        Just("mock"),
        Just("defects"),
        Just("checks"),
        Just("expect"),
        Just("fail"),
        Just("warn"),
        Just("clients"),
        Just("client"),
        Just("command"),
        Just("steps"),
        Just("issuer"),
        Just("ca_bundle"),
        Just("tls_client_auth"),
        Just("client_id"),
        Just("cert"),
        Just("key"),
        Just("timeouts"),
        Just("request_ms"),
        Just("secret_env"),
    ];
    let value = prop_oneof![
        Just("as"),
        Just("client"),
        Just("identical"),
        Just("split"),
        Just("malformed"),
        Just("[\"*\"]"),
        Just("[auth.*, bind.*]"),
        Just("[no_cnf]"),
        Just("~"),
        Just("0"),
        Just("-1"),
        Just("18446744073709551616"),
        Just("{}"),
        Just("[]"),
        Just("\"\\u0000\""),
        Just("https://as.example"),
        Just("&a [*a]"),
        Just("!!binary AAAA"),
    ];
    prop::collection::vec((key, value, 0usize..3), 0..16)
        .prop_map(|entries| entries.into_iter().map(|(k, v, indent)| format!("{}{k}: {v}\n", "  ".repeat(indent))).collect())
}

proptest! {
    #[test]
    fn scenario_loader_never_panics(text in "\\PC{0,400}") {
        let _ = Scenario::parse(&text, Path::new("fuzz.yaml"));
    }

    #[test]
    fn scenario_loader_never_panics_on_near_valid_yaml(text in yamlish()) {
        let _ = Scenario::parse(&text, Path::new("fuzz.yaml"));
    }

    #[test]
    fn target_loader_never_panics(text in yamlish()) {
        if let Ok(t) = TargetFile::parse(&text, Path::new("/nonexistent/fuzz.yaml")) {
            // Building the target reads files that do not exist: an error, not a panic.
            prop_assert!(t.parts(false, &Default::default()).is_err());
        }
    }

    #[test]
    fn discovery_resolution_never_panics_and_only_yields_https(doc in json()) {
        if let Ok(m) = Metadata::from_json(doc) {
            let r = m.resolve();
            for e in &r.endpoints {
                prop_assert_eq!(e.url.scheme(), "https");
                prop_assert!(https_url(&Value::String(e.url.to_string())).is_ok());
            }
        }
    }

    #[test]
    fn jwt_payload_reader_never_panics(token in "[A-Za-z0-9_.=+/-]{0,300}", payload in json()) {
        let _ = mtls_harness::checks::cnf::jwt_claims(&token);
        use base64::Engine;
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
        let parsed = mtls_harness::checks::cnf::jwt_claims(&format!("eyJhbGciOiJub25lIn0.{p}.sig"));
        prop_assert_eq!(parsed.is_some(), payload.is_object());
    }

    #[test]
    fn dn_parser_never_panics(text in "\\PC{0,120}", other in "(CN|O|OU|C|L|ST|DC|UID|2\\.5\\.4\\.3)=[ -~]{0,12}(,(CN|O|C)=[ -~]{0,12}){0,3}") {
        let _ = mtls_harness::dn::parse(&text);
        let _ = mtls_harness::dn::same_name(&text, &other);
        if let Ok(true) = mtls_harness::dn::same_name(&other, &other) {} else if mtls_harness::dn::parse(&other).is_ok() {
            prop_assert!(false, "a parseable name must equal itself: {other}");
        }
    }

    #[test]
    fn certificate_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), text in "\\PC{0,300}") {
        let _ = mtls_harness::pki::subject_rfc4514(&bytes);
        let _ = mtls_harness::pki::cert_from_pem(&bytes);
        let _ = mtls_harness::pki::cert_from_pem(format!("-----BEGIN CERTIFICATE-----\n{text}\n-----END CERTIFICATE-----\n").as_bytes());
        let _ = mtls_harness::pki::x5t_s256(&bytes);
    }

    #[test]
    fn form_redaction_never_panics_and_never_keeps_a_secret(bytes in prop::collection::vec(any::<u8>(), 0..300), secret in "[a-zA-Z0-9]{8,20}") {
        let _ = mtls_harness::redact::redacted_form(&bytes, &Default::default());
        let body = format!("grant_type=refresh_token&refresh_token={secret}&client_secret={secret}");
        let form = mtls_harness::redact::redacted_form(body.as_bytes(), &Default::default());
        prop_assert!(form.iter().all(|(_, v)| v != &secret));
    }
}
