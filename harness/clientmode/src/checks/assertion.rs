//! `client.auth.assertion.*`: the JWT client assertions (RFC 7523 §2.2, §3) a `private_key_jwt`
//! client sends, judged from the journal: signature, algorithm, claims, audience, lifetime,
//! single use. Every request that carried an assertion is judged, wherever it went (token, PAR,
//! introspection, revocation).

use std::collections::HashMap;
use std::str::FromStr;

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::{evidence, ClientCtx};
use mtls_core::assertion_policy::FAPI2_ALGS;
use mtls_core::results::Outcome;
use mtls_mock::{Entry, SeenAssertion};

/// How far a client's clock may run ahead of the harness's, seconds.
pub const SKEW_S: u64 = 30;
/// An assertion living longer than this is "unreasonably far in the future" (RFC 7523 §3 ¶4): warn.
pub const FAR_EXP_S: u64 = 3600;

/// The requests that carried an assertion, with it; `Err` when there is nothing to judge.
fn judged(ctx: &ClientCtx) -> Result<Vec<(&Entry, &SeenAssertion)>, Outcome> {
    // A client that made no request at all is an error, as for every client check.
    super::view(ctx)?;
    if !ctx.auth.is_jwt() {
        let method = ctx.auth.method.map(|m| m.name()).unwrap_or("an mTLS method");
        return Err(Outcome::skip(format!("the client is registered for {method}, not private_key_jwt: no client assertion to judge")));
    }
    let seen: Vec<(&Entry, &SeenAssertion)> =
        ctx.entries.iter().enumerate().filter_map(|(i, e)| ctx.assertions.get(i).and_then(Option::as_ref).map(|a| (e, a))).collect();
    if seen.is_empty() {
        return Err(Outcome::skip("the client sent no client assertion (see client.client-id)"));
    }
    Ok(seen)
}

fn claim_str<'a>(a: &'a SeenAssertion, name: &str) -> Option<&'a str> {
    a.claims.get(name).and_then(Value::as_str)
}

fn claim_num(a: &SeenAssertion, name: &str) -> Option<u64> {
    a.claims.get(name).and_then(|v| v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)))
}

fn alg(a: &SeenAssertion) -> &str {
    a.header.get("alg").and_then(Value::as_str).unwrap_or("")
}

/// The verdict over every assertion: the first problem's reason (and how many had one), else `pass`.
fn verdict(seen: &[(&Entry, &SeenAssertion)], problems: Vec<String>, ok: String) -> Outcome {
    let ev = seen.iter().map(|(e, _)| evidence(e));
    match problems.first() {
        None => Outcome::pass(ok).with_all(ev),
        Some(first) if problems.len() == 1 => Outcome::fail(first.clone()).with_all(ev),
        Some(first) => Outcome::fail(format!("{first} (and {} more)", problems.len() - 1)).with_all(ev),
    }
}

/// RFC 7523 §3 ¶9 (MUST): the JWT is digitally signed; with `private_key_jwt`, by a key the
/// client registered (OIDC Core §9) — the assertion verifies with it.
pub async fn signature(ctx: &ClientCtx) -> Outcome {
    let seen = match judged(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(keys) = ctx.auth.jwks.as_ref() else {
        // Never `pass` unverified: a skip that says what to give, where the keys can be unknown.
        return match &ctx.auth.jwks_unknown {
            Some(how) => Outcome::skip(format!("the client's registered public keys are unknown, so no signature was verified: {how}")),
            None => Outcome::error("the client's registered JWKS is unknown"),
        };
    };
    let mut problems = Vec::new();
    for (e, a) in &seen {
        if let Err(why) = verify(a, keys) {
            problems.push(format!("the assertion sent to {} {why}", e.path));
        }
    }
    let n = seen.len();
    verdict(&seen, problems, format!("{n} client assertion(s) verify with a registered key"))
}

/// Whether the assertion verifies with a registered key: its `kid`'s, else any of the family.
fn verify(a: &SeenAssertion, keys: &jsonwebtoken::jwk::JwkSet) -> Result<(), String> {
    let name = alg(a);
    let alg = Algorithm::from_str(name).map_err(|_| format!("is signed with `{name}`, not a JWS signature algorithm"))?;
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err(format!("is MACed ({name}), not signed with the client's private key"));
    }
    let candidates: Vec<&jsonwebtoken::jwk::Jwk> = match a.header.get("kid").and_then(Value::as_str) {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err("names a kid no registered key has".into());
    }
    let mut v = jsonwebtoken::Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let verified = candidates.iter().filter_map(|k| jsonwebtoken::DecodingKey::from_jwk(k).ok()).any(|key| {
        // jsonwebtoken refuses a key of another family for the algorithm: that is a mismatch too.
        jsonwebtoken::decode::<Value>(a.jws(), &key, &v).is_ok()
    });
    if verified {
        Ok(())
    } else {
        Err(format!("does not verify ({name}) with any registered key"))
    }
}

/// FAPI 2.0 SP §5.4.1 / FAPI 1.0 Advanced §8.6 (shall): the profile's algorithms only, never
/// RSASSA-PKCS1-v1_5 (RS256) — applied when such a profile is judged; plain RFC 7523 (with RFC
/// 7518) allows RS256, so without one RS256 passes. `none` and MACs fail always: a
/// private_key_jwt assertion is signed (RFC 7523 §3 ¶9, OIDC Core §9).
pub async fn alg_allowed(ctx: &ClientCtx) -> Outcome {
    let seen = match judged(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut problems = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    for (e, a) in &seen {
        let name = alg(a);
        if !used.contains(&name) {
            used.push(name);
        }
        let signed = Algorithm::from_str(name).is_ok_and(|x| !matches!(x, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512));
        if !signed {
            problems.push(format!("the assertion sent to {} uses `{name}`: private_key_jwt assertions are signed (OIDC Core §9)", e.path));
        } else if let Some(rule) = ctx.auth.policy.algs.filter(|r| !r.allowed.contains(&name)) {
            problems.push(format!(
                "the assertion sent to {} is signed with {name}: {} allows {} only",
                e.path,
                rule.cite,
                mtls_core::assertion_policy::AssertionPolicy::listed(&rule)
            ));
        }
    }
    let note = if ctx.auth.policy.algs.is_none() && used.iter().any(|a| !FAPI2_ALGS.contains(a)) {
        " (allowed by RFC 7523; a FAPI 2.0 profile would refuse it)"
    } else {
        ""
    };
    verdict(&seen, problems, format!("client assertions are signed with {}{note}", used.join(", ")))
}

/// RFC 7523 §3 ¶1–2 (MUST): `iss` and `sub` are the client_id (for client authentication, §2.2);
/// a `client_id` sent beside the assertion names the same client (RFC 7521 §4.2).
pub async fn claims(ctx: &ClientCtx) -> Outcome {
    let seen = match judged(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(cid) = ctx.auth.client_id.as_deref() else {
        return Outcome::skip("the client's client_id is unknown (observe: give --client-id), so iss and sub cannot be compared with it");
    };
    let mut problems = Vec::new();
    for (e, a) in &seen {
        for claim in ["iss", "sub"] {
            match claim_str(a, claim) {
                Some(v) if v == cid => {}
                Some(v) => problems.push(format!("the assertion sent to {} has {claim} `{v}`, not the client_id `{cid}`", e.path)),
                None => problems.push(format!("the assertion sent to {} has no {claim}", e.path)),
            }
        }
        if let Some((_, v)) = e.form.iter().find(|(k, _)| k == "client_id").filter(|(_, v)| v != cid) {
            problems.push(format!("a request to {} sends client_id `{v}` beside an assertion for `{cid}`", e.path));
        }
    }
    let n = seen.len();
    verdict(&seen, problems, format!("{n} client assertion(s) have iss = sub = {cid}"))
}

/// RFC 7523 §3 ¶3 (MUST): `aud` identifies the AS — its issuer, or its token endpoint URL (and a
/// PAR request may name the PAR endpoint, RFC 9126 §2). Under FAPI 2.0 SP §5.3.2.1 the client
/// shall send the issuer alone, as a string: a token endpoint URL or an array is then a fail.
pub async fn aud(ctx: &ClientCtx) -> Outcome {
    let seen = match judged(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let issuer = ctx.auth.issuer.as_str();
    let mut problems = Vec::new();
    for (e, a) in &seen {
        let aud = a.claims.get("aud");
        let values: Vec<&str> = match aud {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if values.is_empty() {
            problems.push(format!("the assertion sent to {} has no aud", e.path));
            continue;
        }
        if ctx.auth.policy.issuer_only_aud {
            if aud.and_then(Value::as_str) != Some(issuer) {
                problems.push(format!(
                    "the assertion sent to {} has aud {}: FAPI 2.0 SP §5.3.2.1 wants the issuer `{issuer}` as a single string",
                    e.path,
                    aud.map(Value::to_string).unwrap_or_default()
                ));
            }
            continue;
        }
        let is_par = ctx.site.paths("pushed_authorization_request_endpoint").contains(&e.path.as_str());
        let names_as = values.iter().any(|v| {
            *v == issuer || ctx.auth.token_endpoints.iter().any(|t| t == v) || (is_par && ctx.auth.par_endpoints.iter().any(|p| p == v))
        });
        if !names_as {
            problems.push(format!(
                "the assertion sent to {} has aud {} — neither the issuer `{issuer}` nor the token endpoint URL",
                e.path,
                aud.map(Value::to_string).unwrap_or_default()
            ));
        }
    }
    let n = seen.len();
    let rule =
        if ctx.auth.policy.issuer_only_aud { "the issuer as a single string (FAPI 2.0 SP §5.3.2.1)" } else { "the AS (RFC 7523 §3)" };
    verdict(&seen, problems, format!("{n} client assertion(s) name {rule} in aud"))
}

/// RFC 7523 §3 ¶4–6 (MUST): `exp` is present and had not passed when the assertion was sent;
/// `nbf` and `iat` are not in the future (beyond [`SKEW_S`]). An `exp` more than [`FAR_EXP_S`]
/// ahead is "unreasonably far in the future" (¶4, the AS MAY refuse it): warn.
pub async fn lifetime(ctx: &ClientCtx) -> Outcome {
    let seen = match judged(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    // When the client ran: its requests were sent in this window (unknown for a client run by
    // hand: then exp is judged against iat only).
    let window = ctx.window;
    let mut problems = Vec::new();
    let mut far = Vec::new();
    for (e, a) in &seen {
        let Some(exp) = claim_num(a, "exp") else {
            problems.push(format!("the assertion sent to {} has no exp", e.path));
            continue;
        };
        let iat = claim_num(a, "iat");
        if let Some((start, _)) = window {
            if exp + SKEW_S < start {
                problems.push(format!("the assertion sent to {} had expired {} s before the client started", e.path, start - exp));
            }
        }
        if let Some(i) = iat.filter(|i| exp <= *i) {
            problems.push(format!("the assertion sent to {} expires ({exp}) no later than it was issued ({i})", e.path));
        }
        for claim in ["iat", "nbf"] {
            if let (Some(t), Some((_, end))) = (claim_num(a, claim), window) {
                if t > end + SKEW_S {
                    problems.push(format!("the assertion sent to {} has {claim} {} s in the future", e.path, t - end));
                }
            }
        }
        let from = iat.or(window.map(|w| w.0)).unwrap_or(exp);
        if exp.saturating_sub(from) > FAR_EXP_S {
            far.push(format!("the assertion sent to {} lives {} s (more than {FAR_EXP_S} s)", e.path, exp - from));
        }
    }
    let n = seen.len();
    if problems.is_empty() && !far.is_empty() {
        let o = Outcome::warn(format!("{}: RFC 7523 §3 lets the AS refuse an exp unreasonably far in the future", far[0]));
        return o.with_all(seen.iter().map(|(e, _)| evidence(e)));
    }
    verdict(&seen, problems, format!("{n} client assertion(s) were unexpired when sent, with no iat or nbf in the future"))
}

/// OIDC Core §9 (REQUIRED, MUST): a `private_key_jwt` assertion carries a `jti` and is used once
/// — no two requests of the run carry the same `jti` (RFC 7523 §3 ¶7 lets the AS refuse a replay).
pub async fn jti(ctx: &ClientCtx) -> Outcome {
    let seen = match judged(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let mut problems = Vec::new();
    let mut first_seen: HashMap<&str, &str> = HashMap::new();
    for (e, a) in &seen {
        match claim_str(a, "jti").filter(|j| !j.is_empty()) {
            None => problems.push(format!("the assertion sent to {} has no jti", e.path)),
            Some(j) => {
                if let Some(first) = first_seen.insert(j, e.path.as_str()) {
                    problems.push(format!("the assertion sent to {} reuses the jti of one sent to {first}", e.path));
                }
            }
        }
    }
    let n = seen.len();
    verdict(&seen, problems, format!("{n} client assertion(s), each with its own jti"))
}

#[cfg(test)]
mod tests;
