//! `edge.*`: forwarded-certificate spoofing (RFC 9440 §4). Edges that terminate TLS forward
//! the client certificate to the origin in a header; an origin that also believes such a header
//! from a client lets anyone holding the client's *public* certificate authenticate as it or use
//! its bound tokens. Each check sends the certificate in every header of the catalogue
//! (`mtls_core::forwarded`) — one at a time, then together — never at TLS, and expects a
//! refusal. The requests are written byte for byte (names as spelled: `http::wire`) and sized to
//! be delivered by real servers at their defaults ([`spoofs`]).

use futures_util::stream::{self, StreamExt};
use serde_json::json;

use super::refusal::{expect_invalid_client, expect_invalid_token, TlsRefusal};
use super::{Ctx, Outcome, Status};
use crate::http::Exchange;
use crate::target::Who;
use mtls_core::discovery::Operation;
use mtls_core::forwarded::Catalogue;
use mtls_core::pki::Role;

mod spoofs;

use spoofs::{budget, deliver, pack, refused_for_size, spoofs, Spoof, COMPANIONS_ALONE};

/// A spoof refused for its size was never delivered: refused (the evidence says so); otherwise
/// `judge` decides.
fn judged(ex: Exchange, judge: impl FnOnce(Exchange) -> Outcome) -> Outcome {
    match refused_for_size(&ex) {
        Some(why) => Outcome::pass(why).with(ex.evidence),
        None => judge(ex),
    }
}

/// How many spoofs are in flight at once: a pooled client sends them one after another over its
/// connection (a burst would open a TLS connection per request); a client that handshakes afresh
/// per request sends them side by side, the target's per-origin throttle bounding them.
fn width(http: &crate::http::Http) -> usize {
    match http.reuse() {
        crate::http::Reuse::Pooled => 1,
        crate::http::Reuse::Fresh => 16,
    }
}

/// Combine the outcomes of the spoofs: any accepted fails (naming them, with `consequence`);
/// else any error errors; else a refusal with the wrong code warns; else it passes.
fn combine(results: Vec<(String, Outcome)>, consequence: &str, what: &str) -> Outcome {
    let by = |s: Status| results.iter().filter(|(_, o)| o.status == s).map(|(l, _)| l.as_str()).collect::<Vec<_>>();
    let (failed, errors, warned) = (by(Status::Fail), by(Status::Error), by(Status::Warn));
    let details = json!({ "requests": results.iter().map(|(l, o)| json!({"headers": l, "verdict": o.status.name(), "reason": o.reason})).collect::<Vec<_>>() });
    let evidence: Vec<_> = results.iter().filter(|(_, o)| o.status != Status::Pass).flat_map(|(_, o)| o.evidence.clone()).take(5).collect();
    let o = if !failed.is_empty() {
        Outcome::fail(format!("{consequence} (RFC 9440 §4) — accepted with {}", failed.join("; ")))
    } else if !errors.is_empty() {
        let first = results.iter().find(|(_, o)| o.status == Status::Error).map(|(_, o)| o.reason.clone()).unwrap_or_default();
        Outcome::error(format!("cannot judge {} of {} requests ({}): {first}", errors.len(), results.len(), errors.join("; ")))
    } else if !warned.is_empty() {
        let first = results.iter().find(|(_, o)| o.status == Status::Warn).map(|(_, o)| o.reason.clone()).unwrap_or_default();
        Outcome::warn(format!(
            "{what} refused in all {} requests, {} of them without the expected error code: {first}",
            results.len(),
            warned.len()
        ))
    } else {
        let sized = results.iter().filter(|(_, o)| o.reason.starts_with("refused for its size")).count();
        let sized = if sized == 0 { String::new() } else { format!("; {sized} of them refused for their size, never delivered") };
        Outcome::pass(format!(
            "{what} refused in all {} requests (every header of the catalogue alone as spelled, in lower case, its other spellings and encodings, companions, all together in requests that fit real servers' header limits){sized}",
            results.len()
        ))
    };
    o.details(details).with_all(evidence)
}

/// RFC 9440 §4 (MUST accept the field only from a trusted proxy) and RFC 8705 §2: the registered
/// client's certificate in a forwarded-certificate header, none at TLS, authenticates it nowhere —
/// token, PAR, introspection and revocation endpoints, alias and top level.
pub async fn client_auth_header_spoof(ctx: &Ctx) -> Outcome {
    let Some(client_id) = ctx.target.clients.tls.clone() else {
        return Outcome::skip("no tls_client_auth client: nobody to impersonate by certificate");
    };
    let Some(id) = ctx.target.identity(Role::Registered) else {
        return Outcome::skip("no registered certificate");
    };
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let http = match ctx.http(Who::NoCertFresh) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let catalogue = Catalogue::with(&ctx.target.forwarded_cert_headers);
    let ops = [Operation::Token, Operation::PushedAuthorizationRequest, Operation::Introspection, Operation::Revocation];
    let longest = ops
        .iter()
        .filter_map(|op| d.resolution.get(*op))
        .flat_map(|e| [Some(e.url.to_string()), e.top_level.clone()])
        .flatten()
        .max_by_key(String::len)
        .unwrap_or_default();
    let all = spoofs(&catalogue, &id.cert_der, &id.subject, budget(&longest, 0));
    // The token endpoint gets the whole sweep; the other endpoints that authenticate clients
    // (usually the same code) the standard field, the two most common names and the groups.
    let brief: Vec<usize> = (0..all.len())
        .filter(|i| {
            let s = &all[*i];
            !s.label.starts_with(COMPANIONS_ALONE)
                && (s.headers.len() > 1
                    || ["Client-Cert", "X-SSL-Client-Cert", "X-Forwarded-Client-Cert"].contains(&s.headers[0].0.as_str()))
        })
        .collect();
    let token_form = ctx.token_form(&[("grant_type", "client_credentials"), ("client_id", client_id.as_str())]);
    let par_form: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", ctx.target.clients.redirect_uri.as_str()),
        ("state", "mtls-harness"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ];
    let token_form_of = vec![("token", "mtls-harness-not-a-token"), ("client_id", client_id.as_str())];
    let forms = [token_form, par_form, token_form_of.clone(), token_form_of];
    // (label, URL, form index, spoof index): owned, so the requests can run as a stream.
    let mut tries: Vec<(String, String, usize, usize)> = Vec::new();
    let mut open = Vec::new();
    for (f, op) in ops.into_iter().enumerate() {
        let Some(e) = d.resolution.get(op) else { continue };
        let mut urls = vec![e.url.to_string()];
        urls.extend(e.top_level.clone().filter(|t| *t != urls[0]));
        let set: Vec<usize> = if op == Operation::Token { (0..all.len()).collect() } else { brief.clone() };
        for u in urls {
            // The control: the same request with no certificate and no header must be refused
            // (auth.pki.no-cert is that control at the token endpoint); where it is not, a header
            // cannot make it worse, and that endpoint is not judged here.
            if op != Operation::Token {
                let bare = http.post_form(&u, &forms[f]).await;
                if bare.outcome.as_ref().is_ok_and(|r| (200..300).contains(&r.status)) {
                    open.push(format!("{} {u}", op.key()));
                    continue;
                }
            }
            for i in &set {
                tries.push((format!("{} at {} {u}", all[*i].label, op.key()), u.clone(), f, *i));
            }
        }
    }
    if tries.is_empty() {
        return Outcome::blocked("blocked: endpoints.resolve found no endpoint that authenticates clients");
    }
    let (forms, all) = (&forms, &all);
    let not_judged = if open.is_empty() {
        String::new()
    } else {
        format!("; not judged at {}: it accepts the request with no certificate at all", open.join(", "))
    };
    let results = stream::iter(tries)
        .map(|(label, u, f, i)| async move {
            let spoof = Spoof { label, headers: all[i].headers.clone() };
            let sent = deliver(&spoof, |headers| {
                let (u, form) = (u.clone(), &forms[f]);
                async move { http.post_form_with_headers(&u, form, &headers).await }
            })
            .await;
            let what = "no certificate at TLS, the registered one in a header";
            sent.into_iter()
                .map(|(l, ex)| (l, judged(ex, |ex| expect_invalid_client(ex, what, TlsRefusal::NoCertificate))))
                .collect::<Vec<_>>()
        })
        .buffered(width(http))
        .concat()
        .await;
    let mut o = combine(
        results,
        &format!(
            "the AS authenticated {client_id} from a request with no TLS client certificate and its certificate in a header a client can set: anyone holding that public certificate can obtain its tokens"
        ),
        "client authentication with no TLS certificate and the registered certificate in a forwarded-certificate header was",
    );
    o.reason.push_str(&not_judged);
    o
}

/// RFC 9440 §4 (MUST) and RFC 8705 §3: a bound token presented with no TLS certificate and the
/// certificate it is bound to in a forwarded-certificate header is refused by the resource.
pub async fn rs_header_spoof(ctx: &Ctx) -> Outcome {
    let Some(url) = ctx.target.resource_url.clone() else {
        return Outcome::skip("the target configures no protected resource URL");
    };
    let role = ctx.target.clients.primary_role();
    let Some(id) = ctx.target.identity(role) else {
        return Outcome::skip("the primary client has no certificate");
    };
    let http = match ctx.http(Who::NoCertFresh) {
        Ok(h) => h,
        Err(o) => return o,
    };
    let (token, token_ev) = match ctx.primary_token().await {
        Ok(t) => t,
        Err(o) => return o,
    };
    let catalogue = Catalogue::with(&ctx.target.forwarded_cert_headers);
    let sweep = spoofs(&catalogue, &id.cert_der, &id.subject, budget(&url, spoofs::bearer_allowance(&token)));
    let (url, token) = (&url, &token);
    let results = stream::iter(sweep)
        .map(|s: Spoof| async move {
            let sent = deliver(&s, |headers| async move { http.get_with_headers(url, token, &headers).await }).await;
            let what = "the bound token with its certificate only in a header";
            sent.into_iter()
                .map(|(l, ex)| (l, judged(ex, |ex| expect_invalid_token(ex, what, TlsRefusal::NoCertificate))))
                .collect::<Vec<_>>()
        })
        .buffered(width(http))
        .concat()
        .await;
    combine(
        results,
        "the resource served a stolen bound token to a request with no TLS certificate and the bound certificate in a header a client can set: binding protects nothing",
        "a bound token with no TLS certificate and its certificate in a forwarded-certificate header was",
    )
    .with(token_ev)
}

/// RFC 8705 §3 (MUST bind to the certificate of the mutual-TLS connection) and RFC 9440 §4: a
/// client with one certificate at TLS and another in forwarded-certificate headers gets a token
/// bound to the TLS one — never to the header's.
pub async fn binding_follows_tls(ctx: &Ctx) -> Outcome {
    let first_auth = match ctx.secret_auth() {
        Ok(a) => a,
        Err(o) => return o,
    };
    let at_tls = ctx.target.clients.primary_role();
    let Some(header_id) =
        [Role::OtherSubject, Role::SelfSigned, Role::Registered].into_iter().filter(|r| *r != at_tls).find_map(|r| ctx.target.identity(r))
    else {
        return Outcome::skip("no second certificate to put in the headers");
    };
    let url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let http = match ctx.http(Who::Cert(at_tls)) {
        Ok(h) => h,
        Err(o) => return o,
    };
    // Every header as spelled, then the lower-case forms, the companions first: in as few token
    // requests as fit real servers' header limits.
    let catalogue = Catalogue::with(&ctx.target.forwarded_cert_headers);
    let mut headers: Vec<(String, String)> =
        catalogue.companions.iter().map(|k| (k.name.clone(), k.value_for(&header_id.subject, &header_id.cert_der))).collect();
    let singles: Vec<(String, String)> =
        catalogue.singles().into_iter().map(|(name, enc)| (name, enc.encode(&header_id.cert_der))).collect();
    let lower: Vec<(String, String)> =
        singles.iter().filter(|(n, _)| n.to_ascii_lowercase() != *n).map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
    headers.extend(singles);
    headers.extend(lower);
    let form = ctx.token_form(&[("grant_type", "client_credentials")]);
    let mut results = Vec::new();
    // An edge in front forwards the TLS certificate in a header of its own (URL-encoded PEM:
    // about 1.4 times the DER), and Basic credentials may ride along: keep room for both.
    let forwarded = ctx.target.identity(at_tls).map_or(0, |i| 2 * i.cert_der.len());
    for group in pack("the certificate headers", headers, budget(&url, 512 + forwarded)) {
        // A fresh authentication per request (a client assertion is single-use).
        let sent = deliver(&group, |headers| {
            let (url, form) = (&url, &form);
            let auth = ctx.secret_auth().unwrap_or_else(|_| first_auth.clone());
            async move { auth.post_with_headers(http, url, form, &headers).await }
        })
        .await;
        for (label, ex) in sent {
            results.push((label, follows_tls(ctx, &ex, header_id).await));
        }
    }
    let by = |s: Status| results.iter().find(|(_, o)| o.status == s);
    let first = [Status::Fail, Status::Error, Status::Blocked, Status::Warn, Status::Skip].into_iter().find_map(by).or(results.first());
    let Some((label, o)) = first.cloned() else { return Outcome::error("cannot judge: no request was made") };
    let details = json!({ "requests": results.iter().map(|(l, o)| json!({"headers": l, "verdict": o.status.name(), "reason": o.reason})).collect::<Vec<_>>() });
    let mut o = o.details(details);
    let n = results.len();
    if n > 1 && o.status == Status::Pass {
        o.reason = format!("in each of {n} token requests (the headers spread over them to fit real servers' limits): {}", o.reason);
    } else if n > 1 {
        o.reason = format!("{label}, one of {n} token requests (the headers spread over them to fit real servers' limits): {}", o.reason);
    }
    o
}

/// Judge one token request of [`binding_follows_tls`]: its token is bound to the TLS certificate,
/// not to `header_id`'s.
async fn follows_tls(ctx: &Ctx, ex: &Exchange, header_id: &mtls_core::pki::Identity) -> Outcome {
    let (token, ev) = match super::access_token_of(ex) {
        Ok(t) => t,
        Err(why) => {
            if let Some(size) = refused_for_size(ex) {
                return Outcome::error(format!("cannot judge: the secret client's token request was {size}")).with(ex.evidence.clone());
            }
            return Outcome::error(format!("cannot judge: the secret client got no access token ({why})")).with(ex.evidence.clone());
        }
    };
    let claims = super::cnf::jwt_claims(&token);
    match claims.as_ref().map(|c| c.get("cnf").and_then(|c| c.get("x5t#S256")).and_then(|v| v.as_str())) {
        Some(None) => {
            Outcome::blocked("blocked: the token carries no cnf at all, bound to no certificate (see bind.other-auth): nothing to compare").with(ev)
        }
        Some(Some(t)) if t == header_id.x5t_s256 => Outcome::fail(
            "the token is bound to the certificate in the forwarded-certificate headers, not to the one presented at TLS: whoever sets those headers chooses the binding (RFC 9440 §4; RFC 8705 §3)",
        )
        .with(ev),
        _ => super::binding::token_bound_to(
            ctx,
            &token,
            claims.as_ref(),
            ctx.target.primary_thumbprint(),
            "the certificate presented at TLS (another one was in the forwarded-certificate headers)",
            || ctx.secret_auth(),
        )
        .await
        .with(ev),
    }
}
