//! `bind.refresh-public`: a public client's refresh token bound to its certificate (RFC 8705 §4).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::{access_token_of, judge_refusal, Ctx, Outcome, TlsRefusal};
use crate::target::Who;
use mtls_core::discovery::Operation;
use mtls_core::pki::Role;

/// Follow an authorization request like a browser that consents to everything: at most 10
/// redirects, only within the AS's origins, cookies kept, until the redirect back to
/// `redirect_uri`. The AS must complete it without a user (the mock does; node-oidc-provider
/// with an auto-approving interaction does); otherwise the check is skipped.
async fn authorize_headless(ctx: &Ctx, start: url::Url, redirect_uri: &str) -> Result<(String, Vec<crate::http::Evidence>), Outcome> {
    let as_origins: Vec<String> = {
        let mut o = vec![start.origin().ascii_serialization()];
        if let Ok(d) = ctx.discovery().await {
            o.extend(d.resolution.endpoints.iter().map(|e| e.url.origin().ascii_serialization()));
        }
        o
    };
    let mut cookies: BTreeMap<String, String> = BTreeMap::new();
    let mut evidence = Vec::new();
    let mut url = start;
    for _ in 0..10 {
        let jar = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let ex = ctx.target.no_cert().get_with_cookies(url.as_str(), &jar).await;
        evidence.push(ex.evidence.clone());
        for c in &ex.set_cookies {
            if let Some((k, v)) = c.split_once('=') {
                cookies.insert(k.to_string(), v.to_string());
            }
        }
        let redirected = ex.outcome.as_ref().ok().is_some_and(|r| (300..400).contains(&r.status));
        let next = ex.location.as_deref().filter(|_| redirected).and_then(|l| url.join(l).ok());
        let Some(next) = next else { break };
        if next.as_str().starts_with(redirect_uri) {
            return match next.query_pairs().find(|(k, _)| k == "code") {
                Some((_, code)) => Ok((code.into_owned(), evidence)),
                None => {
                    let err = next.query_pairs().find(|(k, _)| k == "error").map(|(_, v)| v.into_owned()).unwrap_or_default();
                    Err(Outcome::skip(format!("the authorization request came back without a code (error={err})")).with_all(evidence))
                }
            };
        }
        if !as_origins.contains(&next.origin().ascii_serialization()) {
            break;
        }
        url = next;
    }
    Err(Outcome::skip(
        "the authorization request did not come back with a code without a user; the harness cannot obtain a public client's refresh token headlessly",
    )
    .with_all(evidence))
}

fn pkce_pair() -> (String, String) {
    use sha2::Digest;
    let verifier = format!("{}{}", mtls_core::ids::random_id(), mtls_core::ids::random_id());
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// RFC 8705 §4 (SHOULD bind the refresh token to the certificate): a public client's refresh
/// token is refused with another certificate and works with the same one.
pub async fn refresh_public(ctx: &Ctx) -> Outcome {
    let Some(client_id) = ctx.target.clients.public.clone() else {
        return Outcome::skip("the target registers no public client");
    };
    let redirect = ctx.target.clients.redirect_uri.clone();
    let (verifier, challenge) = pkce_pair();
    // Whether the token endpoint can see a certificate at all is probed while the (browser-side,
    // certificate-less) authorization runs: neither needs the other, and at a distance each is
    // several round trips. Its answer still comes first.
    let authorization = async {
        let authz = match ctx.discovered().await {
            Ok(d) => match d.metadata.raw.get("authorization_endpoint").and_then(Value::as_str) {
                Some(a) => a.to_string(),
                None => return Err(Outcome::skip("the AS publishes no authorization_endpoint")),
            },
            Err(o) => return Err(o),
        };
        let token_url = ctx.endpoint(Operation::Token).await?;
        let Ok(mut url) = url::Url::parse(&authz) else {
            return Err(Outcome::error(format!("cannot judge: authorization_endpoint `{authz}` is not a URL")));
        };
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", &redirect)
            .append_pair("scope", "openid offline_access")
            .append_pair("state", "mtls-harness")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        // Authorization is browser-driven: no client certificate (RFC 8705 §5).
        let (code, evidence) = authorize_headless(ctx, url, &redirect).await?;
        Ok((token_url, code, evidence))
    };
    let (takes_certificates, authorized) = tokio::join!(ctx.token_endpoint_takes_certificates(), authorization);
    if let Err(blocked) = takes_certificates {
        return blocked;
    }
    let (token_url, code, mut evidence) = match authorized {
        Ok(x) => x,
        Err(o) => return o,
    };
    let other_http = match ctx.http(Who::Cert(Role::OtherSubject)) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let bound = ctx.target.primary();
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    // The target's token_params (resource, scope) select client_credentials tokens; a code or
    // refresh grant carries what the authorization request granted (RFC 8707 §2.2).
    let tx = bound.post_form(&token_url, &base).await;
    evidence.push(tx.evidence.clone());
    let refresh = match &tx.outcome {
        Ok(r) if r.status == 200 => match r.str_field("refresh_token") {
            Some(t) => t.to_string(),
            None => return Outcome::skip("the AS issued no refresh token to the public client").with_all(evidence),
        },
        Ok(r) => {
            return Outcome::error(format!(
                "cannot judge: code exchange refused with {} error={}",
                r.status,
                r.str_field("error").unwrap_or("(none)")
            ))
            .with_all(evidence)
        }
        Err(f) => return Outcome::error(format!("cannot judge: code exchange failed: {f}")).with_all(evidence),
    };
    let rform = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", client_id.as_str())];
    let other = other_http.post_form(&token_url, &rform).await;
    evidence.push(other.evidence.clone());
    let other_verdict = match &other.outcome {
        Ok(r) if r.unjudgeable().is_some() => return Outcome::error(r.unjudgeable().unwrap_or_default()).with_all(evidence),
        Ok(r) => judge_refusal(r, "refresh with another certificate", "invalid_grant", &[400], "RFC 6749 §5.2"),
        Err(crate::http::Failure::TlsRejected(alert)) => {
            super::refusal::judge_alert(*alert, "refresh with another certificate", TlsRefusal::TrustedCertificate)
        }
        Err(f) => return Outcome::error(format!("cannot judge: refresh request failed: {f}")).with_all(evidence),
    };
    if other_verdict.status != super::Status::Pass {
        return Outcome { evidence, ..other_verdict };
    }
    let same = bound.post_form(&token_url, &rform).await;
    evidence.push(same.evidence.clone());
    match access_token_of(&same) {
        Ok(_) => Outcome::pass(format!("{}; the same certificate refreshes", other_verdict.reason)).with_all(evidence),
        Err(why) => Outcome::fail(format!("{}, but the certificate it is bound to cannot refresh either ({why})", other_verdict.reason))
            .with_all(evidence),
    }
}
