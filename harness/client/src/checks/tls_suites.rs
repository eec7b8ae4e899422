//! `tls.ciphers.tls12`: every TLS 1.2 suite each origin accepts, enumerated exhaustively, judged
//! against the selected profiles' allow-lists (BCP 195's RFC 9325 §4.2 four where none sets one),
//! browser-facing origins against RFC 9325 §4.1 only; `tls.ciphers.required`: the same
//! enumeration holds every suite a profile says the server shall support (`accepts`).

use serde_json::json;

use super::tls::{control, per_origin, Verdict};
use super::{Ctx, Outcome};
use crate::tls_survey::Site;
use mtls_tlsprobe::suites;

/// RFC 9325 §4.2 / FAPI 2.0 SP §5.2.2-1 / FAPI 1 Adv §8.5-1 (SHALL): a non-browser origin
/// accepts only the profile's TLS 1.2 suites; a browser-facing one none that RFC 9325 §4.1 forbids.
pub async fn tls12(ctx: &Ctx) -> Outcome {
    per_origin(ctx, "every accepted TLS 1.2 suite allowed", suites_of).await
}

async fn suites_of(ctx: &Ctx, site: Site) -> (Verdict, serde_json::Value) {
    if let Err(v) = control(ctx, &site).await {
        return (v, json!(null));
    }
    let e = match ctx.survey.suites(&site).await {
        Ok(e) => e,
        Err(why) => return (Verdict::Error(why), json!(null)),
    };
    let names: Vec<String> = e.accepted.iter().map(|s| suites::name(*s)).collect();
    let concerns: serde_json::Map<String, serde_json::Value> =
        e.accepted.iter().filter_map(|s| suites::rfc9325_concern(*s).map(|c| (suites::name(*s), json!(c)))).collect();
    let detail = json!({ "accepted": names, "requests": e.requests, "refused_with": e.end, "rfc9325": concerns });
    if e.accepted.is_empty() {
        return (Verdict::Pass(format!("accepts no TLS 1.2 suite ({}): TLS 1.3 only, nothing outside any allow-list", e.end)), detail);
    }
    // Profiles with the same list and exemptions are one rule, named by all of them.
    let mut rules: Vec<(Vec<String>, &mtls_core::tls_policy::SuiteRule)> = Vec::new();
    for r in ctx.tls_rules.suites.iter().filter(|r| !r.rule.only.is_empty()) {
        let who = r.source(&r.rule.citation);
        match rules.iter_mut().find(|(_, s)| s.only == r.rule.only && s.except == r.rule.except) {
            Some((names, _)) => names.push(who),
            None => rules.push((vec![who], &r.rule)),
        }
    }
    let mut problems = Vec::new();
    for (who, rule) in rules {
        let who = who.join(", ");
        let outside: Vec<String> = if site.only(&rule.except) {
            // Browser-facing: only what BCP 195 forbids outright is out.
            e.accepted
                .iter()
                .filter(|s| suites::rfc9325_concern(**s).is_some_and(|c| c.starts_with("MUST NOT")))
                .map(|s| suites::name(*s))
                .collect()
        } else {
            names.iter().filter(|n| !rule.only.contains(n)).cloned().collect()
        };
        if !outside.is_empty() {
            let scope =
                if site.only(&rule.except) { "forbidden by RFC 9325 §4.1 on a browser-facing origin" } else { "outside the allow-list" };
            problems.push(format!("{who}: {} {scope}: {}", outside.len(), outside.join(", ")));
        }
    }
    let listed = if names.len() <= 6 { format!(": {}", names.join(", ")) } else { " (listed in the details)".into() };
    let found = format!("accepts {} TLS 1.2 suite(s), enumerated in {} ClientHellos{listed}", e.accepted.len(), e.requests);
    if problems.is_empty() {
        (Verdict::Pass(found), detail)
    } else {
        (Verdict::Fail(format!("{found} — {}", problems.join("; "))), detail)
    }
}

/// OFB FAPI SP §6.2.2-1, -2 (shall support): every origin used directly by the client (not one
/// a profile exempts as browser-facing) accepts each TLS 1.2 suite of the profile's `accepts`.
pub async fn required(ctx: &Ctx) -> Outcome {
    let rules: Vec<_> = ctx.tls_rules.suites.iter().filter(|r| !r.rule.accepts.is_empty()).cloned().collect();
    if rules.is_empty() {
        return Outcome::skip("no selected profile names TLS 1.2 suites a server shall support (br-openfinance does)");
    }
    per_origin(ctx, "every TLS 1.2 suite the profile requires accepted", |ctx, site| {
        let rules = rules.clone();
        async move {
            if let Err(v) = control(ctx, &site).await {
                return (v, json!(null));
            }
            let e = match ctx.survey.suites(&site).await {
                Ok(e) => e,
                Err(why) => return (Verdict::Error(why), json!(null)),
            };
            let accepted: Vec<String> = e.accepted.iter().map(|s| suites::name(*s)).collect();
            let mut problems = Vec::new();
            let mut exempt = Vec::new();
            for r in &rules {
                let who = r.source(&r.rule.citation);
                if site.only(&r.rule.except) {
                    exempt.push(who);
                    continue;
                }
                let missing: Vec<&str> = r.rule.accepts.iter().filter(|n| !accepted.contains(n)).map(String::as_str).collect();
                if !missing.is_empty() {
                    problems.push(format!("{who}: {} not accepted: {}", missing.len(), missing.join(", ")));
                }
            }
            let detail = json!({ "accepted": accepted, "requests": e.requests, "refused_with": e.end });
            if !problems.is_empty() {
                let rsa = |n: &String| suites::by_name(n).and_then(mtls_tlsprobe::keys::Auth::of) == Some(mtls_tlsprobe::keys::Auth::Rsa);
                let why = if accepted.is_empty() {
                    format!(" (it accepts no TLS 1.2 suite: {})", e.end)
                } else if rules.iter().any(|r| r.rule.accepts.iter().any(rsa)) && !accepted.iter().any(rsa) {
                    " (no suite it accepts authenticates with an RSA certificate: its certificate is not RSA, and an _RSA_ suite needs one)"
                        .to_string()
                } else {
                    String::new()
                };
                return (Verdict::Fail(format!("{}{why}", problems.join("; "))), detail);
            }
            if exempt.len() == rules.len() {
                return (Verdict::Pass(format!("browser-facing, exempt ({})", exempt.join("; "))), detail);
            }
            (Verdict::Pass("accepts every suite the profile requires".into()), detail)
        }
    })
    .await
}
