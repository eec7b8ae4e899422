//! `tls.renegotiation` and `tls.ems`: what each TLS 1.2 origin's ServerHello agrees to when
//! offered the secure renegotiation indication (RFC 5746) and the extended master secret
//! (RFC 7627), as RFC 9325 §3.5 requires; and, where a profile says so (Open Finance Brasil),
//! that a client-initiated renegotiation is refused.

use serde_json::json;

use super::tls::{control, per_origin, Verdict};
use super::{Ctx, Outcome};
use crate::tls_survey::{describe, Site};
use mtls_tlsprobe::{Answer, ServerHello, Version};

/// The origin's TLS 1.2 ServerHello, or the verdict when it has none: a TLS 1.3-only origin
/// passes with `tls13_only` (the rule is about TLS 1.2).
async fn tls12_hello(ctx: &Ctx, site: &Site, tls13_only: &str) -> Result<ServerHello, (Verdict, serde_json::Value)> {
    if let Err(v) = control(ctx, site).await {
        return Err((v, json!(null)));
    }
    match ctx.survey.tls12(site).await {
        Ok(Answer::Hello { hello, .. }) if hello.version == Version::Tls12 => Ok(hello),
        Ok(a) => Err((Verdict::Pass(format!("TLS 1.3 only (a TLS 1.2 hello got {}): {tls13_only}", describe(&a))), json!(null))),
        Err(e) => Err((Verdict::Error(format!("offering TLS 1.2: {e}")), json!(null))),
    }
}

/// RFC 9325 §3.5 / RFC 5746 §3.6 (MUST): a TLS 1.2 server answers the renegotiation indication
/// with an empty `renegotiation_info`; where a profile says so, renegotiation is refused.
pub async fn renegotiation(ctx: &Ctx) -> Outcome {
    let refuse: Vec<String> = ctx.tls_rules.renegotiation.iter().filter(|r| r.rule.refused).map(|r| r.source(&r.rule.citation)).collect();
    per_origin(ctx, "secure renegotiation indicated", |ctx, site| {
        let refuse = refuse.clone();
        async move {
            let hello = match tls12_hello(ctx, &site, "TLS 1.3 has no renegotiation (RFC 8446 §4.1.2)").await {
                Ok(h) => h,
                Err(v) => return v,
            };
            let detail = json!({ "renegotiation_info": hello.renegotiation_info });
            if !hello.secure_renegotiation() {
                let what = match &hello.renegotiation_info {
                    None => "no renegotiation_info in its TLS 1.2 ServerHello".to_string(),
                    Some(v) => format!("a non-empty renegotiation_info ({} bytes) in an initial handshake", v.len()),
                };
                return (Verdict::Fail(format!("{what}: RFC 5746 §3.6 / RFC 9325 §3.5 require the empty indication")), detail);
            }
            if refuse.is_empty() {
                return (Verdict::Pass("sends the secure renegotiation indication".into()), detail);
            }
            match ctx.survey.renegotiation(&site).await {
                Ok(r) if r.refused() => (
                    Verdict::Pass(format!("sends the secure renegotiation indication and refuses renegotiation ({})", r.describe())),
                    json!({ "renegotiation_info": hello.renegotiation_info, "renegotiation": r.describe() }),
                ),
                Ok(r) => (
                    Verdict::Fail(format!(
                        "accepts a client-initiated renegotiation ({}); {} require it disabled",
                        r.describe(),
                        refuse.join("; ")
                    )),
                    json!({ "renegotiation": r.describe() }),
                ),
                Err(e) => (Verdict::Error(format!("could not try a renegotiation: {e}")), detail),
            }
        }
    })
    .await
}

/// RFC 9325 §3.5 (MUST support) / RFC 7627 §5.2 (MUST echo): a TLS 1.2 server agrees to the
/// extended master secret when offered.
pub async fn ems(ctx: &Ctx) -> Outcome {
    per_origin(ctx, "extended master secret agreed", |ctx, site| async move {
        let hello = match tls12_hello(ctx, &site, "TLS 1.3's key schedule binds the handshake transcript (RFC 8446 §7.1)").await {
            Ok(h) => h,
            Err(v) => return v,
        };
        let detail = json!({ "extensions": hello.extensions });
        if hello.extended_master_secret() {
            (Verdict::Pass("agrees to the extended master secret".into()), detail)
        } else {
            (
                Verdict::Fail("no extended_master_secret in its TLS 1.2 ServerHello though offered (RFC 7627 §5.2: MUST echo it)".into()),
                detail,
            )
        }
    })
    .await
}
