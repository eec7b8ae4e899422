//! `tls.version.*`: which protocol versions each origin negotiates (RFC 9325 §3.1.1): TLS 1.0
//! and 1.1 refused, TLS 1.3 preferred where supported.

use serde_json::json;

use super::tls::{control, per_origin, Verdict};
use super::{Ctx, Outcome};
use crate::tls_survey::{describe, Site};
use mtls_tlsprobe::{Answer, Version};

/// RFC 9325 §3.1.1 (MUST NOT; FAPI 2.0 SP §5.2.1-2, FAPI 1 Part 1 §7.1-1): TLS 1.0 and TLS 1.1
/// are refused — an alert or a close — by every origin that answers TLS 1.2/1.3.
pub async fn floor(ctx: &Ctx) -> Outcome {
    per_origin(ctx, "TLS 1.0 and TLS 1.1 refused", floor_of).await
}

async fn floor_of(ctx: &Ctx, site: Site) -> (Verdict, serde_json::Value) {
    let both = match control(ctx, &site).await {
        Ok(a) => a,
        Err(v) => return (v, json!(null)),
    };
    let mut accepted = Vec::new();
    let mut seen = Vec::new();
    for v in [Version::Tls10, Version::Tls11] {
        match ctx.survey.legacy(&site, v).await {
            Ok(Answer::Hello { hello, .. }) if hello.version <= Version::Tls11 => {
                accepted.push(format!("{} ({})", hello.version, mtls_tlsprobe::suites::name(hello.suite)));
                seen.push(
                    json!({"offered": v.name(), "answer": format!("{} {}", hello.version, mtls_tlsprobe::suites::name(hello.suite))}),
                );
            }
            // A ServerHello for a version not offered is no agreement to the one offered.
            Ok(a) => seen.push(json!({"offered": v.name(), "answer": describe(&a)})),
            Err(e) => return (Verdict::Error(format!("offering only {v}: {e}")), json!(seen)),
        }
    }
    let detail = json!({ "control": describe(&both), "legacy": seen });
    if accepted.is_empty() {
        (Verdict::Pass("refuses TLS 1.0 and 1.1".into()), detail)
    } else {
        (Verdict::Fail(format!("accepts {}", accepted.join(" and "))), detail)
    }
}

/// RFC 9325 §3.1.1 (MUST prefer TLS 1.3 where implemented; SHOULD implement it): offered TLS 1.2
/// and 1.3, an origin that supports TLS 1.3 picks it.
pub async fn prefers_13(ctx: &Ctx) -> Outcome {
    let citation = ctx.tls_rules.prefer_tls13.iter().map(|r| r.source(&r.rule.citation)).collect::<Vec<_>>().join("; ");
    per_origin(ctx, "TLS 1.3 picked when offered with TLS 1.2", |ctx, site| {
        let citation = citation.clone();
        async move {
            let both = match control(ctx, &site).await {
                Ok(a) => a,
                Err(v) => return (v, json!(null)),
            };
            let picked = both.hello().map(|h| h.version);
            if picked == Some(Version::Tls13) {
                return (Verdict::Pass("picks TLS 1.3".into()), json!({ "offered_1_2_and_1_3": describe(&both) }));
            }
            let only13 = ctx.survey.tls13(&site).await;
            let detail = json!({ "offered_1_2_and_1_3": describe(&both), "offered_1_3_only": only13.as_ref().map(describe).unwrap_or_else(|e| e.clone()) });
            match only13 {
                Ok(Answer::Hello { hello, .. }) if hello.version == Version::Tls13 => (
                    Verdict::Fail(format!(
                        "supports TLS 1.3 but picks {} when offered both ({citation})",
                        picked.map_or("an older version", Version::name)
                    )),
                    detail,
                ),
                Ok(_) => (Verdict::Warn(format!("does not support TLS 1.3 (RFC 9325 §3.1.1: SHOULD); picks {}", picked.map_or("?", Version::name))), detail),
                Err(e) => (Verdict::Error(format!("offering only TLS 1.3: {e}")), detail),
            }
        }
    })
    .await
}
