//! `bind.*`: certificate-bound access tokens (RFC 8705 §3).

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::{access_token_of, expect_invalid_token, judge_refusal, Ctx, Level, Outcome, TlsRefusal};
use crate::http::Exchange;
use crate::http::Failure;
use crate::target::Who;
use mtls_core::discovery::Operation;
use mtls_core::pki::Role;

/// The JWT payload, if the token is a JWS compact serialisation with a JSON object payload.
/// The signature is not needed to read `cnf`; the resource checks test what the AS enforces.
pub fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

/// RFC 8705 §3.1 (MUST): a JWT access token carries `cnf.x5t#S256`, the base64url (unpadded) SHA-256
/// of the DER of the certificate presented at the token request.
pub async fn token_cnf(ctx: &Ctx) -> Outcome {
    let (token, ev) = match ctx.registered_token().await {
        Ok(t) => t,
        Err(o) => return o,
    };
    let expected = ctx.target.registered_thumbprint();
    let Some(claims) = jwt_claims(&token) else {
        return Outcome::skip("the access token is not a JWT; its binding is judged through introspection (bind.introspection-cnf)")
            .with(ev);
    };
    cnf_matches(&claims, expected, "the presented certificate").with(ev)
}

/// Judge a `cnf` member (of JWT claims or an introspection response) against a thumbprint.
fn cnf_matches(obj: &Value, expected: &str, whose: &str) -> Outcome {
    let cnf = obj.get("cnf");
    let found = cnf.and_then(|c| c.get("x5t#S256"));
    let details = json!({"cnf": cnf, "expected_x5t#S256": expected});
    let o = match found {
        None if cnf.is_none() => Outcome::fail("no cnf claim: the token is not bound to the certificate"),
        None => Outcome::fail("the cnf claim has no x5t#S256 member"),
        Some(Value::String(s)) if s == expected => Outcome::pass(format!("cnf.x5t#S256 equals base64url(SHA-256(DER)) of {whose}")),
        Some(Value::String(s)) => Outcome::fail(diagnose(s, expected)),
        Some(other) => Outcome::fail(format!("cnf.x5t#S256 is not a string: {other}")),
    };
    o.details(details)
}

/// Say what is wrong with a thumbprint that does not match.
fn diagnose(found: &str, expected: &str) -> String {
    let head = format!("cnf.x5t#S256 is `{found}`, expected `{expected}`");
    if found.trim_end_matches('=') == expected {
        return format!("{head}: base64 padding must be omitted (RFC 8705 §3.1, RFC 7515 §2)");
    }
    if found.len() == 64 && found.chars().all(|c| c.is_ascii_hexdigit()) {
        if let Ok(bytes) = URL_SAFE_NO_PAD.decode(expected) {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            if hex.eq_ignore_ascii_case(found) {
                return format!("{head}: it is the right digest hex-encoded; base64url is required");
            }
        }
    }
    if found.contains('+') || found.contains('/') {
        return format!("{head}: standard base64 alphabet used where base64url is required");
    }
    match URL_SAFE_NO_PAD.decode(found.trim_end_matches('=')) {
        Ok(b) if b.len() == 20 => format!("{head}: a 20-byte digest (SHA-1, i.e. x5t) where SHA-256 is required"),
        Ok(b) if b.len() == 32 => format!("{head}: a SHA-256 digest of something other than the presented certificate's DER"),
        _ => format!("{head}: not a base64url SHA-256 digest"),
    }
}

async fn resource_with(ctx: &Ctx, who: Who) -> Result<(crate::http::Exchange, crate::http::Evidence), Outcome> {
    let Some(url) = ctx.target.resource_url.clone() else {
        return Err(Outcome::skip("the target configures no protected resource URL"));
    };
    let http = ctx.http(who)?;
    let (token, token_ev) = ctx.registered_token().await?;
    Ok((http.get(&url, Some(&token)).await, token_ev))
}

/// RFC 8705 §3 (MUST): the bound token presented with the same certificate is accepted.
pub async fn rs_same_cert(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match resource_with(ctx, Who::Cert(Role::Registered)).await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match ex.outcome {
        Ok(r) if (200..300).contains(&r.status) => Outcome::pass(format!("{} with the certificate the token is bound to", r.status)),
        Ok(r) if r.status >= 500 || matches!(r.status, 404 | 405 | 408 | 429) || (300..400).contains(&r.status) => {
            Outcome::error(format!("cannot judge: the resource answered {}, which is not a judgement of the token", r.status))
        }
        Ok(r) => Outcome::fail(format!(
            "the resource refused the bound token with its own certificate: {}{}",
            r.status,
            ev.www_authenticate.as_deref().map(|w| format!(" ({w})")).unwrap_or_default()
        )),
        Err(f @ Failure::TlsRejected(_)) => Outcome::fail(format!("the resource refused the certificate the token is bound to: {f}")),
        Err(f) => Outcome::error(format!("cannot judge: resource request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}

/// RFC 8705 §3 (MUST reject with 401 `invalid_token` when the certificate does not match): the
/// bound token with another certificate the resource trusts at TLS is refused. An untrusted
/// certificate would be refused for its issuer, which says nothing about the binding.
pub async fn rs_other_cert(ctx: &Ctx) -> Outcome {
    if let Some(skip) = super::client_auth::untrusted_other(ctx) {
        return skip;
    }
    match resource_with(ctx, Who::Cert(Role::OtherSubject)).await {
        Ok((ex, token_ev)) => {
            expect_invalid_token(ex, "bound token with another trusted certificate", TlsRefusal::TrustedCertificate).with(token_ev)
        }
        Err(o) => o,
    }
}

/// RFC 8705 §3 (MUST obtain the certificate and reject on mismatch): the bound token presented
/// without any certificate is refused with 401.
pub async fn rs_no_cert(ctx: &Ctx) -> Outcome {
    match resource_with(ctx, Who::NoCert).await {
        Ok((ex, token_ev)) => expect_invalid_token(ex, "bound token without a certificate", TlsRefusal::NoCertificate).with(token_ev),
        Err(o) => o,
    }
}

/// RFC 7662 §2.2 (MUST answer 200 with `active`; here a SHOULD, being another RFC's rule): the
/// client a token was issued to introspects it over mTLS and learns it is active.
pub async fn introspect_active(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match ctx.registered_introspection().await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match &ex.outcome {
        Ok(r) if r.status == 200 => match r.field("active") {
            Some(Value::Bool(true)) => Outcome::pass("200, active: true"),
            Some(Value::Bool(false)) => Outcome::warn(
                "the freshly issued access token is reported inactive to the client it was issued to (RFC 7662 §2.2)",
            ),
            Some(other) => Outcome::warn(format!("`active` is {other}, not a JSON boolean (RFC 7662 §2.2 REQUIRED boolean); read as unusable")),
            None if r.json.is_none() => Outcome::error("cannot judge: introspection answered 200 without a JSON body"),
            None => Outcome::warn("the introspection response has no `active` member (RFC 7662 §2.2 REQUIRED)"),
        },
        Ok(r) if r.status == 400 => Outcome::warn(format!(
            "introspection refused the access token: 400 error={}; RFC 7662 §2.2 requires 200 with active: false for a token the AS will not introspect",
            r.str_field("error").unwrap_or("(none)")
        )),
        Ok(r) if matches!(r.status, 401 | 403) => Outcome::warn(format!(
            "introspection refused the token's own client: {} error={} (RFC 7662 §2.1)",
            r.status,
            r.str_field("error").unwrap_or("(none)")
        )),
        Ok(r) => Outcome::error(format!("cannot judge: introspection answered {}", r.status)),
        Err(f) => Outcome::error(format!("cannot judge: introspection request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}

/// RFC 8705 §3.2 (MUST: the `cnf` member carries the `x5t#S256` of the bound certificate): an active
/// introspection response for the bound token has the same `cnf`. When no active response was
/// obtained (see `introspect.active`), there is nothing this section constrains: skip.
pub async fn introspection_cnf(ctx: &Ctx) -> Outcome {
    let (ex, token_ev) = match ctx.registered_introspection().await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    let o = match &ex.outcome {
        Ok(r) if r.status == 200 && r.field("active") == Some(&Value::Bool(true)) => {
            let body = r.json.clone().unwrap_or(Value::Null);
            cnf_matches(&body, ctx.target.registered_thumbprint(), "the certificate the token was issued to")
        }
        Ok(r) => Outcome::skip(format!(
            "no active introspection response for the bound token ({}; see introspect.active), so there is no cnf to judge",
            r.status
        )),
        Err(f) => Outcome::error(format!("cannot judge: introspection request failed: {f}")),
    };
    o.with(token_ev).with(ev)
}

/// The `cnf` of an opaque token, read through introspection (RFC 8705 §3.2) by the client the
/// token was issued to (`auth`): an AS may let a client introspect only its own tokens.
async fn introspected_binding(ctx: &Ctx, token: &str, whose: &str, auth: (&str, &str)) -> Outcome {
    let url = match ctx.optional_endpoint(Operation::Introspection, "reading an opaque token's binding").await {
        Ok(u) => u,
        Err(_) => return Outcome::skip("the access token is opaque and the AS publishes no introspection endpoint to read its binding"),
    };
    let form = [("token", token), ("token_type_hint", "access_token")];
    let ex = ctx.target.registered().post_form_basic(&url, &form, auth.0, auth.1).await;
    let ev = ex.evidence.clone();
    match ex.outcome {
        Ok(r) if r.status == 200 && r.field("active") == Some(&Value::Bool(true)) => {
            let body = r.json.unwrap_or(Value::Null);
            cnf_matches(&body, ctx.target.registered_thumbprint(), whose).with(ev)
        }
        Ok(r) => Outcome::skip(format!(
            "the opaque token's introspection by its own client answered {} without active: true, so its binding cannot be read (RFC 7662 §2.2)",
            r.status
        ))
        .with(ev),
        Err(f) => Outcome::error(format!("cannot judge: introspection failed: {f}")).with(ev),
    }
}

/// Introspect `token` as the registered tls_client_auth client over mTLS (RFC 7662 §2.1).
pub(crate) async fn introspect(ctx: &Ctx, url: &str, token: &str) -> Exchange {
    let form = [("token", token), ("token_type_hint", "access_token"), ("client_id", ctx.target.clients.tls.as_str())];
    ctx.target.registered().post_form(url, &form).await
}

/// RFC 8705 §3 and §3.4: binding is independent of client authentication — a
/// `client_secret_basic` client presenting a certificate gets a token bound to it. MUST where
/// the client is registered for bound tokens (§3.4) or the profile requires them; else SHOULD.
pub async fn other_auth(ctx: &Ctx) -> Outcome {
    let level = if ctx.target.secret_client_bound || ctx.target.require_bound_tokens { Level::Must } else { Level::Should };
    other_auth_judged(ctx).await.at_level(level)
}

async fn other_auth_judged(ctx: &Ctx) -> Outcome {
    let Some((id, secret)) = ctx.target.clients.secret.clone() else {
        return Outcome::skip("the target registers no client_secret_basic client");
    };
    if let Err(blocked) = ctx.token_endpoint_takes_certificates().await {
        return blocked;
    }

    let url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    // client_id in the body as well as in the Basic credentials: RFC 6749 §3.2.1 lets a client
    // identify itself so, and some ASes (glewlwyd at its mTLS aliases) need it.
    let form = ctx.token_form(&[("grant_type", "client_credentials"), ("client_id", id.as_str())]);
    let ex = ctx.target.registered().post_form_basic(&url, &form, &id, secret.expose()).await;
    let (token, ev) = match access_token_of(&ex) {
        Ok(t) => t,
        Err(why) => {
            return Outcome::error(format!("cannot judge: the client_secret_basic client got no access token ({why})"))
                .with(ex.evidence.clone());
        }
    };
    let whose = "the certificate the secret-authenticated client presented";
    match jwt_claims(&token) {
        Some(claims) => cnf_matches(&claims, ctx.target.registered_thumbprint(), whose).with(ev),
        None => introspected_binding(ctx, &token, whose, (&id, secret.expose())).await.with(ev),
    }
}

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
    if let Err(blocked) = ctx.token_endpoint_takes_certificates().await {
        return blocked;
    }

    let authz = match ctx.discovered().await {
        Ok(d) => match d.metadata.raw.get("authorization_endpoint").and_then(Value::as_str) {
            Some(a) => a.to_string(),
            None => return Outcome::skip("the AS publishes no authorization_endpoint"),
        },
        Err(o) => return o,
    };
    let token_url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let redirect = ctx.target.clients.redirect_uri.clone();
    let (verifier, challenge) = pkce_pair();
    let Ok(mut url) = url::Url::parse(&authz) else {
        return Outcome::error(format!("cannot judge: authorization_endpoint `{authz}` is not a URL"));
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
    let (code, mut evidence) = match authorize_headless(ctx, url, &redirect).await {
        Ok(x) => x,
        Err(o) => return o,
    };
    let other_http = match ctx.http(Who::Cert(Role::OtherSubject)) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let bound = ctx.target.registered();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_common_thumbprint_mistakes() {
        let der = b"not really a certificate";
        let right = mtls_core::pki::x5t_s256(der);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(der);
        let padded = base64::engine::general_purpose::URL_SAFE.encode(digest);
        assert!(diagnose(&padded, &right).contains("padding"));
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(diagnose(&hex, &right).contains("hex-encoded"));
        assert!(diagnose(&URL_SAFE_NO_PAD.encode([7u8; 20]), &right).contains("SHA-1"));
        assert!(diagnose(&mtls_core::pki::x5t_s256(b"other"), &right).contains("something other"));
    }

    #[test]
    fn reads_jwt_payload_only_for_three_part_json() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"cnf":{"x5t#S256":"abc"}}"#);
        assert_eq!(jwt_claims(&format!("h.{payload}.s")).unwrap()["cnf"]["x5t#S256"], "abc");
        assert!(jwt_claims("opaque-token").is_none());
        assert!(jwt_claims(&format!("h.{payload}.s.x")).is_none());
        assert!(jwt_claims("h.bm90IGpzb24.s").is_none());
    }
}
