//! `session.*`: TLS session resumption and the client's identity. A resumed handshake carries no
//! certificate — in TLS 1.3 a server resuming with a PSK sends no CertificateRequest (RFC 8446
//! §4.3.2), in TLS 1.2 the abbreviated handshake has none (RFC 5246 §7.3) — so the identity on
//! a resumed connection is the original session's. A server, or an edge in front of it, that
//! resumes a session set up without the certificate (or with another one, or at another virtual
//! host), or that loses the certificate on resumption, authenticates or binds the wrong party.
//!
//! The harness shares one session store between identities and origins on purpose
//! ([`mtls_core::tls::SharedSessions`]) and tells a resumed handshake from a full one by whether
//! a server certificate was verified on it. Each attempt uses TLS 1.3 and TLS 1.2 in turn.

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use serde_json::json;

use super::cnf::jwt_claims;
use super::refusal::{expect_invalid_client, TlsRefusal};
use super::{access_token_of, Ctx, Outcome, Status};
use crate::http::{Exchange, Failure, Http};
use mtls_core::discovery::Operation;
use mtls_core::pki::Role;
use mtls_core::tls::{CertSwitch, SharedSessions};

/// The protocol versions each attempt is made with, separately: resumption differs between them
/// (TLS 1.3 PSK tickets, TLS 1.2 session IDs and RFC 5077 tickets).
const VERSIONS: [(&str, &rustls::SupportedProtocolVersion); 2] =
    [("TLS 1.3", &rustls::version::TLS13), ("TLS 1.2", &rustls::version::TLS12)];

/// Where a session is set up before it is offered at the mTLS endpoint: a URL, the certificate
/// presented there (none, or another client's), and whether the request setting it up is the
/// token request itself (at the token endpoint: its refusal on the full handshake is the
/// control the resumed request is compared with) or a plain GET (at another origin).
struct Donor {
    label: String,
    url: String,
    role: Option<Role>,
    token_request: bool,
}

/// What came of one attempt: no session to offer, a full handshake (the session was not
/// resumed), or a resumed one with the judgement of the request made on it.
enum Attempt {
    NoSession(String),
    /// The request that set the session up, on a full handshake, was accepted already: that is
    /// another check's finding (`auth.pki.other-subject`), and resumption cannot make it worse.
    Open(String),
    Full(Outcome),
    Resumed(Outcome),
}

impl Attempt {
    fn describe(&self) -> (&'static str, String) {
        match self {
            Attempt::NoSession(why) => ("no session", why.clone()),
            Attempt::Open(why) => ("not judged", why.clone()),
            Attempt::Full(o) => ("full handshake", o.reason.clone()),
            Attempt::Resumed(o) => ("resumed", format!("{}: {}", o.status.name(), o.reason)),
        }
    }
}

/// `role`'s chain and key, or a `skip` when the target has no such certificate.
fn identity_of(
    ctx: &Ctx,
    role: Role,
) -> Result<(Vec<rustls::pki_types::CertificateDer<'static>>, rustls::pki_types::PrivateKeyDer<'static>), Outcome> {
    ctx.target.identity(role).map(|i| (i.chain(), i.key_der())).ok_or_else(|| Outcome::skip(format!("no `{}` certificate", role.name())))
}

/// A client holding `role`'s certificate (or none) that offers only `version` and keeps its TLS
/// sessions in `sessions`, named for the evidence, and the switch of the certificate it
/// presents (rustls offers a session only under the configuration that set it up).
fn resuming_client(
    ctx: &Ctx,
    who: &str,
    role: Option<Role>,
    version: &'static rustls::SupportedProtocolVersion,
    sessions: &Arc<SharedSessions>,
) -> Result<(Http, CertSwitch), Outcome> {
    let t = &ctx.target;
    let identity = role.map(|r| identity_of(ctx, r)).transpose()?;
    t.no_cert()
        .resuming(who, &t.roots, identity, t.insecure, &[version], sessions.clone())
        .map_err(|e| Outcome::error(format!("cannot judge: building a resuming client: {e}")))
}

/// The token endpoint's own URL without a certificate and with another client's, then one URL
/// of every other origin the AS publishes (discovery, the other endpoints, the resource): the
/// places a session can come from before it is offered at `token_url`.
fn donors(ctx: &Ctx, d: &super::Discovered, token_url: &str) -> Vec<Donor> {
    let origin = |u: &str| url::Url::parse(u).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
    let mut out = vec![Donor {
        label: "the token endpoint, without a certificate".into(),
        url: token_url.to_string(),
        role: None,
        token_request: true,
    }];
    if ctx.target.identity(Role::OtherSubject).is_some() && ctx.target.other_subject_trusted {
        out.push(Donor {
            label: "the token endpoint, with another client's certificate (other-subject)".into(),
            url: token_url.to_string(),
            role: Some(Role::OtherSubject),
            token_request: true,
        });
    }
    let mut seen = vec![origin(token_url)];
    let mut urls = vec![d.url.clone()];
    for e in &d.resolution.endpoints {
        urls.push(e.url.to_string());
        urls.extend(e.top_level.clone());
    }
    urls.extend(ctx.target.resource_url.clone());
    for u in urls {
        let o = origin(&u);
        if o.is_empty() || seen.contains(&o) {
            continue;
        }
        seen.push(o.clone());
        out.push(Donor { label: format!("{o}, without a certificate"), url: u, role: None, token_request: false });
    }
    out
}

/// The request on a connection that offered a session: resumed when it got an HTTP answer
/// without a full handshake; a TLS failure before any server certificate is the server
/// refusing the resumption (an alert on the offer), not a resumed session.
fn resumed(http: &Http, before: usize, ex: &Exchange) -> bool {
    http.full_handshakes() == before && ex.outcome.is_ok()
}

/// RFC 8705 §2 (MUST authenticate by the certificate of the mutual-TLS handshake), RFC 6066 §3
/// (MUST NOT resume across server names): a TLS session set up without the registered
/// certificate — at the token endpoint, with another certificate, or at another origin of the
/// AS — and resumed at the token endpoint never authenticates the registered client.
pub async fn resume_other_identity(ctx: &Ctx) -> Outcome {
    let Some(client_id) = ctx.target.clients.tls.clone() else {
        return Outcome::skip("no tls_client_auth client: nobody to impersonate by certificate");
    };
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let token_url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let form = ctx.token_form(&[("grant_type", "client_credentials"), ("client_id", client_id.as_str())]);
    let donors = donors(ctx, d, &token_url);
    // (version, donor) indices: owned, so the attempts can run as a stream.
    let tries: Vec<(usize, usize)> = (0..VERSIONS.len()).flat_map(|v| (0..donors.len()).map(move |d| (v, d))).collect();
    let (form, token_url, donors) = (&form, &token_url, &donors);
    let results = stream::iter(tries)
        .map(|(v, d)| async move {
            let ((name, version), donor) = (VERSIONS[v], &donors[d]);
            let sessions = Arc::new(SharedSessions::default());
            let label = format!("{name} session from {}", donor.label);
            let who = donor.role.map_or("no-cert", Role::name);
            let (giver, cert) = match resuming_client(ctx, &format!("{who}, setting up a {name} session"), donor.role, version, &sessions) {
                Ok(h) => h,
                Err(o) => return (label, Attempt::NoSession(o.reason)),
            };
            let set_up = if donor.token_request { giver.post_form(&donor.url, form).await } else { giver.get(&donor.url, None).await };
            match &set_up.outcome {
                Err(f) => return (label, Attempt::NoSession(format!("no {name} connection: {f}"))),
                Ok(r) if donor.token_request && (200..300).contains(&r.status) => {
                    return (
                        label,
                        Attempt::Open(format!("the same request on a full {name} handshake was accepted already ({})", r.status)),
                    )
                }
                Ok(_) => {}
            }
            if sessions.stored() == 0 {
                return (label, Attempt::NoSession(format!("the server handed out no {name} session")));
            }
            // The same configuration (rustls resumes under no other), now presenting nothing.
            if let Err(e) = cert.present(None) {
                return (label, Attempt::NoSession(format!("cannot switch the certificate off: {e}")));
            }
            let taker = giver.named(&format!("no-cert, offering the {name} session of {}", donor.label));
            let before = taker.full_handshakes();
            let ex = taker.post_form(token_url, form).await;
            let was_resumed = resumed(&taker, before, &ex);
            let offer_refused = taker.full_handshakes() == before && matches!(ex.outcome, Err(Failure::TlsRejected(_) | Failure::Tls(_)));
            let judged =
                expect_invalid_client(ex.clone(), "a resumed session set up without the registered certificate", TlsRefusal::NoCertificate);
            let attempt = if was_resumed {
                Attempt::Resumed(judged)
            } else if offer_refused {
                let f = ex.outcome.err().map(|f| f.to_string()).unwrap_or_default();
                Attempt::Full(Outcome::pass(format!("the server refused the handshake that offered the session ({f})")).with(ex.evidence))
            } else {
                Attempt::Full(judged)
            };
            (label, attempt)
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await;
    judge_cross(&client_id, results)
}

/// The verdict over every attempt of [`resume_other_identity`].
fn judge_cross(client_id: &str, results: Vec<(String, Attempt)>) -> Outcome {
    let details = json!({ "attempts": results.iter().map(|(l, a)| { let (what, why) = a.describe(); json!({"session": l, "result": what, "detail": why}) }).collect::<Vec<_>>() });
    let resumed: Vec<(&String, &Outcome)> =
        results.iter().filter_map(|(l, a)| if let Attempt::Resumed(o) = a { Some((l, o)) } else { None }).collect();
    let full = results.iter().filter(|(_, a)| matches!(a, Attempt::Full(_))).count();
    let of = |s: Status| resumed.iter().filter(|(_, o)| o.status == s).collect::<Vec<_>>();
    let evidence = |v: &[&(&String, &Outcome)]| v.iter().flat_map(|(_, o)| o.evidence.clone()).take(4).collect::<Vec<_>>();
    let accepted = of(Status::Fail);
    if !accepted.is_empty() {
        let mut which = accepted.iter().take(3).map(|(l, _)| l.as_str()).collect::<Vec<_>>().join("; ");
        if accepted.len() > 3 {
            which.push_str(&format!("; and {} more", accepted.len() - 3));
        }
        return Outcome::fail(format!(
            "the AS issued {client_id} a token on a resumed TLS session that was set up without its certificate ({which}): whoever can open a session elsewhere on the AS and resume it at the token endpoint authenticates as any tls_client_auth client (RFC 8705 §2; RFC 6066 §3)"
        ))
        .details(details)
        .with_all(evidence(&accepted));
    }
    let errors = of(Status::Error);
    if !errors.is_empty() {
        return Outcome::error(format!("cannot judge {} resumed request(s): {}", errors.len(), errors[0].1.reason))
            .details(details)
            .with_all(evidence(&errors));
    }
    if resumed.is_empty() && full == 0 {
        let why = results.first().map(|(_, a)| a.describe().1).unwrap_or_default();
        return Outcome::skip(format!(
            "no session to offer: no origin of the AS handed out a TLS session the harness could resume (first: {why})"
        ))
        .details(details);
    }
    let warned = of(Status::Warn);
    if !warned.is_empty() {
        return Outcome::warn(format!(
            "every session set up without the registered certificate was refused, {} resumed one(s) without the expected error code: {}",
            warned.len(),
            warned[0].1.reason
        ))
        .details(details)
        .with_all(evidence(&warned));
    }
    Outcome::pass(format!(
        "{} session(s) set up without the registered certificate were resumed at the token endpoint and refused; {full} more were not resumed (full handshake)",
        resumed.len()
    ))
    .details(details)
}

/// A client whose tokens must be bound to the certificate it presents: the primary client, and
/// the private_key_jwt client where it is another (RFC 8705 §3 binding without mTLS client
/// authentication — the Open Finance configuration, where an edge losing the certificate on
/// resumption does not stop authentication and so yields an unbound token).
#[derive(Clone, Copy, PartialEq)]
enum Party {
    Primary,
    Jwt,
}

impl Party {
    fn auth(self, ctx: &Ctx) -> Result<super::Auth, Outcome> {
        match self {
            Party::Primary => ctx.primary_auth(),
            Party::Jwt => ctx.jwt_auth(serde_json::Value::String(ctx.target.issuer.clone())),
        }
    }

    fn role(self, ctx: &Ctx) -> Role {
        match self {
            Party::Primary => ctx.target.clients.primary_role(),
            Party::Jwt => Role::Registered,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Party::Primary => "the primary client",
            Party::Jwt => "the private_key_jwt client",
        }
    }
}

/// Whether `party`'s `token` is bound to `expected` (its JWT claims, else introspection as it).
async fn token_bound_to(ctx: &Ctx, party: Party, token: &str, expected: &str, whose: &str) -> Outcome {
    super::binding::token_bound_to(ctx, token, jwt_claims(token).as_ref(), expected, whose, || party.auth(ctx)).await
}

/// RFC 8705 §3 (MUST bind to the certificate of the mutual-TLS connection): a token requested on
/// a resumed session is bound to the certificate that session was set up with, or refused —
/// never issued unbound or bound to anything else. Judged for the primary client and the
/// private_key_jwt client.
pub async fn resumed_token_bound(ctx: &Ctx) -> Outcome {
    let token_url = match ctx.endpoint(Operation::Token).await {
        Ok(u) => u,
        Err(o) => return o,
    };
    let mut parties = vec![Party::Primary];
    if ctx.target.clients.jwt.is_some() && ctx.target.clients.primary != mtls_core::catalogue::Primary::PrivateKeyJwt {
        parties.push(Party::Jwt);
    }
    let mut attempts: Vec<(String, Attempt)> = Vec::new();
    for party in parties {
        match own_sessions(ctx, party, &token_url).await {
            Ok(a) => attempts.extend(a),
            Err(o) if party == Party::Primary => return o,
            // The private_key_jwt client's control failing is bind.jwt-client's finding.
            Err(o) => attempts.push((format!("sessions of {}", party.name()), Attempt::NoSession(o.reason))),
        }
    }
    judge_own(attempts)
}

/// [`resumed_token_bound`] for one client, TLS 1.3 and 1.2 in turn: `Err` when the token from a
/// full handshake is not shown bound (the control).
async fn own_sessions(ctx: &Ctx, party: Party, token_url: &str) -> Result<Vec<(String, Attempt)>, Outcome> {
    let role = party.role(ctx);
    let Some(expected) = ctx.target.identity(role).map(|i| i.x5t_s256.clone()) else {
        return Err(Outcome::skip(format!("no `{}` certificate", role.name())));
    };
    let form = ctx.token_form(&[("grant_type", "client_credentials")]);
    let mut attempts: Vec<(String, Attempt)> = Vec::new();
    for (name, version) in VERSIONS {
        let sessions = Arc::new(SharedSessions::default());
        let label = format!("{name} session of {}", party.name());
        let (http, _) = resuming_client(ctx, &format!("{}, resuming its own {name} session", role.name()), Some(role), version, &sessions)?;
        let first = party.auth(ctx)?.post(&http, token_url, &form).await;
        let control = match access_token_of(&first) {
            Ok((t, _)) => t,
            Err(why) => {
                attempts.push((label, Attempt::NoSession(format!("no {name} token on a full handshake ({why})"))));
                continue;
            }
        };
        let control_bound = token_bound_to(ctx, party, &control, &expected, "the certificate of the full handshake").await;
        if control_bound.status != Status::Pass {
            return Err(Outcome::blocked(format!(
                "blocked: the token {} got on a full {name} handshake is not shown bound either ({}); see bind.token-cnf, bind.introspection-cnf and bind.jwt-client",
                party.name(),
                control_bound.reason
            ))
            .with(first.evidence));
        }
        if sessions.stored() == 0 {
            attempts.push((label, Attempt::NoSession(format!("the server handed out no {name} session"))));
            continue;
        }
        let auth = party.auth(ctx)?;
        let before = http.full_handshakes();
        let ex = auth.post(&http, token_url, &form).await;
        if !resumed(&http, before, &ex) {
            attempts.push((label, Attempt::Full(Outcome::pass("the server did not resume the client's own session (full handshake)"))));
            continue;
        }
        let judged = match &ex.outcome {
            Ok(r) if (200..300).contains(&r.status) => match access_token_of(&ex) {
                Ok((token, ev)) => {
                    token_bound_to(ctx, party, &token, &expected, "the certificate the resumed session was set up with").await.with(ev)
                }
                Err(why) => Outcome::error(format!("cannot judge: {why}")).with(ex.evidence.clone()),
            },
            Ok(r) if r.not_a_judgement().is_some() => {
                Outcome::error(format!("cannot judge: the token endpoint answered {} on the resumed session", r.status))
                    .with(ex.evidence.clone())
            }
            Ok(r) => Outcome::pass(format!("refused on the resumed session ({}): never unbound", r.status)).with(ex.evidence.clone()),
            Err(f) => Outcome::error(format!("cannot judge: {f}")).with(ex.evidence.clone()),
        };
        attempts.push((label, Attempt::Resumed(judged)));
    }
    Ok(attempts)
}

/// The verdict over both versions of [`resumed_token_bound`].
fn judge_own(attempts: Vec<(String, Attempt)>) -> Outcome {
    let details = json!({ "attempts": attempts.iter().map(|(l, a)| { let (what, why) = a.describe(); json!({"session": l, "result": what, "detail": why}) }).collect::<Vec<_>>() });
    let resumed: Vec<(&String, &Outcome)> =
        attempts.iter().filter_map(|(l, a)| if let Attempt::Resumed(o) = a { Some((l, o)) } else { None }).collect();
    if let Some((l, o)) = resumed.iter().find(|(_, o)| o.status == Status::Fail) {
        return Outcome::fail(format!(
            "on a resumed {l}, the AS issued a token not bound to the certificate the session was set up with ({}): a resumed connection yields tokens a thief can use without the key (RFC 8705 §3)",
            o.reason
        ))
        .details(details)
        .with_all(o.evidence.clone());
    }
    if let Some((_, o)) = resumed.iter().find(|(_, o)| matches!(o.status, Status::Error | Status::Skip)) {
        let o = (*o).clone();
        return o.details(details);
    }
    if resumed.is_empty() {
        let why = attempts.iter().map(|(l, a)| format!("{l}: {}", a.describe().1)).collect::<Vec<_>>().join("; ");
        return Outcome::skip(format!(
            "the token endpoint resumed none of the clients' own sessions, so no token was issued on one ({why})"
        ))
        .details(details);
    }
    let names = resumed.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", ");
    Outcome::pass(format!("a token requested on each resumed session ({names}) was bound to the session's certificate or refused"))
        .details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resumed(status: Status) -> Attempt {
        Attempt::Resumed(Outcome { status, reason: status.name().into(), evidence: Vec::new(), details: None, level: None, beside: None })
    }

    #[test]
    fn a_token_on_any_resumed_session_fails_and_names_it() {
        let o = judge_cross("c", vec![("a".into(), Attempt::Full(Outcome::pass("x"))), ("b".into(), resumed(Status::Fail))]);
        assert_eq!(o.status, Status::Fail);
        assert!(o.reason.contains("(b)"), "{}", o.reason);
    }

    #[test]
    fn refusals_and_full_handshakes_pass_and_no_session_at_all_skips() {
        let o = judge_cross("c", vec![("a".into(), resumed(Status::Pass)), ("b".into(), Attempt::Full(Outcome::fail("x")))]);
        assert_eq!(o.status, Status::Pass, "{}", o.reason);
        let o = judge_cross("c", vec![("a".into(), Attempt::NoSession("none".into())), ("b".into(), Attempt::Open("open".into()))]);
        assert_eq!(o.status, Status::Skip, "{}", o.reason);
        let o = judge_cross("c", vec![("a".into(), resumed(Status::Warn))]);
        assert_eq!(o.status, Status::Warn, "{}", o.reason);
        let o = judge_cross("c", vec![("a".into(), resumed(Status::Error)), ("b".into(), resumed(Status::Pass))]);
        assert_eq!(o.status, Status::Error, "{}", o.reason);
    }

    #[test]
    fn own_sessions_unbound_fails_not_resumed_skips() {
        assert_eq!(judge_own(vec![("a".into(), resumed(Status::Pass)), ("b".into(), resumed(Status::Fail))]).status, Status::Fail);
        assert_eq!(judge_own(vec![("a".into(), Attempt::Full(Outcome::pass("x")))]).status, Status::Skip);
        assert_eq!(judge_own(vec![("a".into(), resumed(Status::Pass))]).status, Status::Pass);
    }
}
