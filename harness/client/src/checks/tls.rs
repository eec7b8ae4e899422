//! `tls.cert-request.*`: whether each origin's server asks for a client certificate in the
//! handshake where it must (RFC 8705 §5, §6, and the endpoints a profile puts under mTLS) and
//! does not where a profile forbids it — and the shared per-origin machinery of the `tls.*`
//! checks: every origin probed at once, each judged alone, the verdicts combined.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Ctx, Outcome};
use crate::tls_survey::{describe, sites, Site};
use mtls_tlsprobe::Answer;

/// One origin's verdict on one rule.
pub(crate) enum Verdict {
    Pass(String),
    Warn(String),
    Fail(String),
    /// Could not be judged.
    Error(String),
}

/// Judge every origin of discovery's endpoints with `judge` (origins concurrently), then
/// combine: any failure fails, naming each failing origin; else an error errors; else a warning
/// warns; else it passes. `what` says in a few words what passed.
pub(crate) async fn per_origin<'a, F, Fut>(ctx: &'a Ctx, what: &str, judge: F) -> Outcome
where
    F: Fn(&'a Ctx, Site) -> Fut,
    Fut: std::future::Future<Output = (Verdict, Value)>,
{
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let all = sites(d);
    if all.is_empty() {
        return Outcome::error("cannot judge: discovery names no https endpoint to probe");
    }
    let judged = futures_util::future::join_all(all.iter().cloned().map(|s| judge(ctx, s))).await;
    let mut by: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    let mut rows = Vec::new();
    for (site, (verdict, detail)) in all.iter().zip(judged) {
        let (rank, status, why) = match verdict {
            Verdict::Fail(w) => (0, "fail", w),
            Verdict::Error(w) => (1, "error", w),
            Verdict::Warn(w) => (2, "warn", w),
            Verdict::Pass(w) => (3, "pass", w),
        };
        by.entry(rank).or_default().push(format!("{} ({}): {why}", site.origin, site.short_labels()));
        rows.push(json!({ "origin": site.origin, "endpoints": site.labels(), "verdict": status, "finding": why, "probe": detail }));
    }
    let details = json!({ "origins": rows });
    let list = |rank: u8| by.get(&rank).map(|v| v.join("; ")).unwrap_or_default();
    let n = all.len();
    let o = if by.contains_key(&0) && by.contains_key(&1) {
        Outcome::fail(list(0)).unjudged(list(1))
    } else if by.contains_key(&0) {
        Outcome::fail(list(0))
    } else if by.contains_key(&1) {
        Outcome::error(format!("cannot judge: {}", list(1)))
    } else if by.contains_key(&2) {
        Outcome::warn(list(2))
    } else {
        Outcome::pass(format!("{what} ({n} origin(s): {})", list(3)))
    };
    o.details(details)
}

/// The positive control of every refusal an origin is judged on: it answered a ClientHello
/// offering TLS 1.3 and 1.2 with every suite. `Err` is the origin's error verdict.
pub(crate) async fn control(ctx: &Ctx, site: &Site) -> Result<Answer, Verdict> {
    match ctx.survey.both(site).await {
        Ok(a @ Answer::Hello { .. }) => Ok(a),
        Ok(refused) => Err(Verdict::Error(format!(
            "no positive control: it refused even a ClientHello offering TLS 1.3 and 1.2 with every registered suite ({}), so no refusal of it proves anything",
            describe(&refused)
        ))),
        Err(e) => Err(Verdict::Error(e)),
    }
}

/// RFC 8705 §5/§6 (MUST): a client can only authenticate or bind with its certificate where the
/// server sends a CertificateRequest; also every endpoint a profile's `tls.cert_request.required` names.
pub async fn cert_request_required(ctx: &Ctx) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut by_origin: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &d.resolution.endpoints {
        by_origin.entry(e.url.origin().ascii_serialization()).or_default().push(e.key.to_string());
    }
    for r in &ctx.tls_rules.cert_request {
        for key in &r.rule.required {
            if let Some(u) = crate::profile::endpoint_url(d, key, true) {
                let keys = by_origin.entry(u.origin().ascii_serialization()).or_default();
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
    }
    if by_origin.is_empty() {
        return Outcome::error("cannot judge: no effective endpoint to probe; see endpoints.resolve");
    }
    let probed = sites(d);
    let mut rows = Vec::new();
    let mut not_requested = Vec::new();
    let mut errors = Vec::new();
    let mut names = Vec::new();
    for (origin, keys) in &by_origin {
        let Ok(url) = url::Url::parse(origin) else { continue };
        match ctx.cert_requested(&url).await {
            Ok(asked) => {
                let cas = authorities(ctx, &probed, origin).await;
                if let Some(Some(n)) = cas.as_ref().map(|v| v.first()) {
                    names.push(format!("{origin} names {} CA(s), first {n}", cas.as_ref().map_or(0, Vec::len)));
                }
                rows.push(json!({"origin": origin, "endpoints": keys, "certificate_requested": asked, "certificate_authorities": cas}));
                if !asked {
                    not_requested.push(format!("{origin} ({})", keys.join(", ")));
                }
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
        let cas = if names.is_empty() { String::new() } else { format!("; {}", names.join("; ")) };
        Outcome::pass(format!("every mTLS endpoint's server asks for a client certificate ({} origin(s)){cas}", by_origin.len()))
            .details(details)
    }
}

/// The `certificate_authorities` of the origin's TLS 1.2 CertificateRequest (RFC 5246 §7.4.4),
/// as distinguished names; `None` where it has no TLS 1.2 (the TLS 1.3 request is encrypted) or
/// sent no request.
async fn authorities(ctx: &Ctx, probed: &[Site], origin: &str) -> Option<Vec<String>> {
    let site = probed.iter().find(|s| s.origin == origin)?;
    match ctx.survey.tls12(site).await {
        Ok(Answer::Hello { cert_request: Some(cr), .. }) => Some(cr.authorities.iter().map(|der| dn_text(der)).collect()),
        _ => None,
    }
}

fn dn_text(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::X509Name::from_der(der) {
        Ok((_, name)) => name.to_string(),
        Err(_) => format!("(unparsable name, {} bytes)", der.len()),
    }
}

/// A profile's `tls.cert_request.forbidden` (CDR: MUST): the endpoints it keeps off mTLS send no
/// CertificateRequest. The top-level URL is probed; one shared origin with an mTLS endpoint
/// cannot satisfy both.
pub async fn cert_request_forbidden(ctx: &Ctx) -> Outcome {
    let rules: Vec<_> = ctx.tls_rules.cert_request.iter().filter(|r| !r.rule.forbidden.is_empty()).collect();
    if rules.is_empty() {
        return Outcome::skip("no selected profile keeps an endpoint off mTLS (au-cdr does: discovery, authorisation, JWKS)");
    }
    let mut outcomes = Vec::new();
    for r in rules {
        let o = crate::profile::cert_requests(ctx, &r.rule.forbidden, false).await;
        outcomes.push((r.source(&r.rule.citation), o));
    }
    merge(outcomes)
}

/// The strictest of several profiles' outcomes on one check, each reason naming its profile.
pub(crate) fn merge(outcomes: Vec<(String, Outcome)>) -> Outcome {
    use mtls_core::results::Status;
    let rank = |s: Status| match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Blocked => 2,
        Status::Warn => 3,
        Status::Pass => 4,
        Status::Skip => 5,
    };
    let Some(worst) = outcomes.iter().map(|(_, o)| o.status).min_by_key(|s| rank(*s)) else {
        return Outcome::skip("no rule applies");
    };
    if outcomes.len() == 1 {
        return outcomes.into_iter().map(|(_, o)| o).next().unwrap_or_else(|| Outcome::skip("no rule applies"));
    }
    let reason = outcomes.iter().map(|(who, o)| format!("{who}: {} — {}", o.status.name(), o.reason)).collect::<Vec<_>>().join("; ");
    let details: Vec<Value> = outcomes.iter().map(|(who, o)| json!({"rule": who, "details": o.details})).collect();
    let mut o = Outcome::pass(reason).details(json!({ "rules": details }));
    o.status = worst;
    o
}
