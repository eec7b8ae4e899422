//! Judging a profile's rules (`mtls_core::profile`) against a target, after its check graph
//! ran: required checks from the results, metadata and alias rules from discovery, lifetimes
//! from the primary client's token and the PAR response, certificate requests from handshakes.
//! Each rule becomes one result row, `profile.<profile>.<rule>`, citing the profile.

use serde_json::{json, Value};

use crate::checks::{Ctx, Outcome, Status};
use mtls_core::discovery::Operation;
use mtls_core::profile::{intern, AliasTest, Assertion, MetadataTest, Profile, Rfc9325Statement, RuleLevel, Seconds};
use mtls_core::results::{CheckResult, Level};

/// One judged rule of a profile.
pub struct RuleRow {
    /// `profile.<profile>.<rule>` (or `profile.<profile>.requires.<check>`).
    pub id: &'static str,
    /// What is checked.
    pub title: &'static str,
    /// Where the profile says so.
    pub citation: &'static str,
    /// `fail` rules are MUST, `warn` rules SHOULD.
    pub level: Level,
    /// The outcome.
    pub outcome: Outcome,
}

/// The catalogue checks a run must perform for these profiles' rules: their required checks,
/// PAR for a `par_expires_in` rule, the primary client's token for a `token_lifetime` rule.
pub fn needed_checks(profiles: &[Profile], primary: mtls_core::catalogue::Primary) -> Vec<&'static str> {
    let mut out = Vec::new();
    for p in profiles {
        out.extend(p.required.iter().flat_map(|r| r.checks.iter().map(|c| c.0)));
        for r in &p.rules {
            match r.assert {
                Assertion::ParExpiresIn(_) => out.push("par.alias"),
                Assertion::TokenLifetime(_) => out.push(primary.accept_check()),
                _ => {}
            }
        }
    }
    out
}

/// Judge every rule of `profiles` against `ctx` and the scenario's `results`, on `today`; each
/// rule within `timeout`, like a check.
pub async fn judge(
    ctx: &Ctx,
    profiles: &[Profile],
    results: &[CheckResult],
    today: time::Date,
    timeout: std::time::Duration,
) -> Vec<RuleRow> {
    let mut rows = Vec::new();
    for p in profiles {
        let pid = &p.id.0;
        for r in &p.required {
            let name = r.name();
            let outcome = match r.checks.as_slice() {
                [one] => required(results, one.0, &r.citation.0, r.hint.as_deref()),
                any => required_any(results, any, &r.citation.0, r.hint.as_deref()),
            };
            let what = if r.checks.len() == 1 {
                name.clone()
            } else {
                format!("one of {}", r.checks.iter().map(|c| c.0).collect::<Vec<_>>().join(", "))
            };
            rows.push(RuleRow {
                id: intern(&format!("profile.{pid}.requires.{name}")),
                title: intern(&format!("{} requires {what}", p.title)),
                citation: intern(&r.citation.0),
                level: Level::Must,
                outcome,
            });
        }
        for rule in &p.rules {
            let outcome = match rule.not_in_force(today) {
                Some(why) => Outcome::skip(format!("{why} ({})", rule.citation.0)),
                None => match tokio::time::timeout(timeout, assertion(ctx, &rule.assert, &rule.citation.0)).await {
                    Ok(o) => o,
                    Err(_) => Outcome::error(format!("cannot judge: the rule did not finish within {timeout:?}")),
                },
            };
            let outcome = informational(rule.level, &rule.citation.0, outcome);
            rows.push(RuleRow {
                id: intern(&format!("profile.{pid}.{}", rule.id.0)),
                title: intern(&rule.title),
                citation: intern(&rule.citation.0),
                level: rule.level.level(),
                outcome,
            });
        }
    }
    rows
}

/// An `info` rule never fails or warns: what it found is recorded in a passing row, its clause
/// named (a catalogue check at an informational level reads the same way).
fn informational(level: RuleLevel, citation: &str, mut o: Outcome) -> Outcome {
    if level == RuleLevel::Info && matches!(o.status, Status::Fail | Status::Warn) {
        o.reason = format!("informational ({citation}): {}", o.reason);
        o.status = Status::Pass;
    }
    o
}

/// A required check: judged and passed (or warned) passes; failed fails the profile. One that
/// could not run against this target — skipped for an input the target file lacks — is no
/// failure of the AS: the profile cannot be judged (`error`), the check's own reason naming the
/// input it lacks; one blocked by a failed prerequisite is `blocked`, naming it.
fn required(results: &[CheckResult], check: &str, citation: &str, hint: Option<&str>) -> Outcome {
    let Some(c) = results.iter().find(|c| c.id == check) else {
        let hint = hint.map(|h| format!(": {h}")).unwrap_or_default();
        return Outcome::error(format!("cannot judge: required by {citation}, but {check} did not run{hint}"));
    };
    match c.status {
        Status::Pass => Outcome::pass(format!("{check} passed")),
        Status::Warn => Outcome::pass(format!("{check} passed with a warning: {}", c.reason)),
        Status::Fail => Outcome::fail(format!("required by {citation}: {check} failed — {}", c.reason)),
        Status::Error => Outcome::error(format!("required by {citation}: {check} could not be judged — {}", c.reason)),
        Status::Skip => {
            Outcome::error(format!("cannot judge: required by {citation}, and {check} is not testable with this target — {}", c.reason))
        }
        Status::Blocked => Outcome::blocked(format!("blocked: required by {citation}, and {check} was blocked — {}", c.reason)),
    }
}

/// One of several checks must pass: the first that passed says so; else, when one failed, the
/// profile fails with every one's status; else none could be judged (`error`).
fn required_any(results: &[CheckResult], any: &[mtls_core::profile::CheckId], citation: &str, hint: Option<&str>) -> Outcome {
    let mut seen = Vec::new();
    let mut failed = false;
    for id in any.iter().map(|c| c.0) {
        match results.iter().find(|c| c.id == id) {
            Some(c) if matches!(c.status, Status::Pass | Status::Warn) => return Outcome::pass(format!("{id} passed")),
            Some(c) => {
                failed |= c.status == Status::Fail;
                seen.push(format!("{id}: {} ({})", c.status.name(), c.reason));
            }
            None => seen.push(format!("{id}: did not run")),
        }
    }
    let hint = hint.map(|h| format!(": {h}")).unwrap_or_default();
    if failed {
        Outcome::fail(format!("required by {citation}: none of these passed{hint} — {}", seen.join("; ")))
    } else {
        Outcome::error(format!(
            "cannot judge: required by {citation}, and none of these could be judged with this target{hint} — {}",
            seen.join("; ")
        ))
    }
}

async fn assertion(ctx: &Ctx, a: &Assertion, citation: &str) -> Outcome {
    match a {
        Assertion::Metadata(m) => match ctx.discovered().await {
            Ok(d) => metadata_rule(m, &d.metadata.raw, citation),
            Err(o) => o,
        },
        Assertion::TokenLifetime(range) => token_lifetime(ctx, *range).await,
        Assertion::ParExpiresIn(range) => match ctx.par_seen() {
            Some((Some(e), _)) => within(e, *range, "the PAR response's expires_in"),
            Some((None, status)) if (200..300).contains(&status) => {
                Outcome::fail(format!("the PAR response ({status}) carries no expires_in (RFC 9126 §2.2 requires it)"))
            }
            // An error answer has no expires_in to judge: that is par.alias's finding.
            Some((None, status)) => {
                Outcome::blocked(format!("blocked: par.alias got {status}, not a PAR response: no expires_in to judge"))
            }
            None => Outcome::skip("par.alias made no pushed authorization request (no PAR endpoint, or it could not run)"),
        },
        Assertion::Aliases(t) => match ctx.discovered().await {
            Ok(d) => aliases(&d.metadata.raw, &t.0),
            Err(o) => o,
        },
        Assertion::CertRequest(c) => cert_requests(ctx, &c.endpoints, c.requested).await,
        Assertion::Tls12Suites(t) => tls12_rfc9325(ctx, t.rfc9325).await,
    }
}

/// The suites of RFC 9325 §4.1/§4.2 that `statement` covers among those a suite's concern names.
fn rfc9325_hits(accepted: &[u16], statement: Rfc9325Statement) -> Vec<String> {
    let prefix = match statement {
        Rfc9325Statement::MustNot => "MUST NOT",
        Rfc9325Statement::ShouldNot => "SHOULD NOT",
    };
    accepted
        .iter()
        .filter_map(|s| {
            mtls_tlsprobe::suites::rfc9325_concern(*s)
                .filter(|c| c.starts_with(prefix))
                .map(|c| format!("{} — {c}", mtls_tlsprobe::suites::name(*s)))
        })
        .collect()
}

/// Every origin's accepted TLS 1.2 suites (the enumeration `tls.ciphers.tls12` shares), none of
/// which RFC 9325 says `statement` of.
async fn tls12_rfc9325(ctx: &Ctx, statement: Rfc9325Statement) -> Outcome {
    use crate::checks::tls::{control, per_origin, Verdict};
    let what = match statement {
        Rfc9325Statement::MustNot => "no accepted TLS 1.2 suite is one RFC 9325 §4.1 forbids",
        Rfc9325Statement::ShouldNot => "no accepted TLS 1.2 suite is one RFC 9325 advises against",
    };
    per_origin(ctx, what, |ctx, site| async move {
        if let Err(v) = control(ctx, &site).await {
            return (v, Value::Null);
        }
        match ctx.survey.suites(&site).await {
            Err(why) => (Verdict::Error(why), Value::Null),
            Ok(e) => {
                let hits = rfc9325_hits(&e.accepted, statement);
                let detail =
                    json!({ "accepted": e.accepted.iter().map(|s| mtls_tlsprobe::suites::name(*s)).collect::<Vec<_>>(), "rfc9325": hits });
                if hits.is_empty() {
                    (Verdict::Pass(format!("{} TLS 1.2 suite(s) accepted, none of them", e.accepted.len())), detail)
                } else {
                    (Verdict::Fail(format!("accepts {}", hits.join(", "))), detail)
                }
            }
        }
    })
    .await
}

/// A `metadata` rule against a discovery document: an `if_present` rule skips an absent member.
fn metadata_rule(m: &mtls_core::profile::MetadataAssert, raw: &serde_json::Map<String, Value>, citation: &str) -> Outcome {
    match raw.get(&m.key) {
        None | Some(Value::Null) if m.if_present => Outcome::skip(format!("{} is not published; the rule applies only where it is", m.key)),
        v => metadata(v, &m.key, &m.test, citation),
    }
}

/// Judge one discovery member against a rule citing `citation`.
fn metadata(v: Option<&Value>, key: &str, test: &MetadataTest, citation: &str) -> Outcome {
    let shown = v.map(Value::to_string).unwrap_or_else(|| "absent".into());
    let details = json!({ "member": key, "published": v });
    let array = v.and_then(Value::as_array);
    let o = match test {
        MetadataTest::Equals(want) if v == Some(want) => Outcome::pass(format!("{key} is {want}")),
        MetadataTest::Equals(want) => Outcome::fail(format!("{key} is {shown}; the profile requires {want}")),
        MetadataTest::Present if v.is_some_and(|v| !v.is_null()) => Outcome::pass(format!("{key} is published")),
        MetadataTest::Present => Outcome::fail(format!("{key} is not published")),
        MetadataTest::Contains(want) => match array {
            Some(list) => {
                let missing: Vec<String> = want.iter().filter(|w| !list.contains(w)).map(Value::to_string).collect();
                if missing.is_empty() {
                    Outcome::pass(format!("{key} lists {}", want.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")))
                } else {
                    Outcome::fail(format!("{key} lacks {}", missing.join(", ")))
                }
            }
            None => Outcome::fail(format!("{key} is {shown}, not an array")),
        },
        MetadataTest::ContainsAny(allowed) => match array {
            Some(list) => {
                let found: Vec<String> = list.iter().filter(|x| allowed.contains(x)).map(Value::to_string).collect();
                if found.is_empty() {
                    Outcome::fail(format!("{key} lists none of {}", shown_list(allowed)))
                } else {
                    Outcome::pass(format!("{key} lists {} (the profile needs one of {})", found.join(", "), shown_list(allowed)))
                }
            }
            None => Outcome::fail(format!("{key} is {shown}; the profile requires an array listing one of {}", shown_list(allowed))),
        },
        MetadataTest::ListsOutside(allowed) => match (v, array) {
            (None, _) | (Some(Value::Null), _) => Outcome::pass(format!("{key} is not published: it lists nothing")),
            (_, Some(list)) => {
                let extra: Vec<String> = list.iter().filter(|x| !allowed.contains(x)).map(Value::to_string).collect();
                if extra.is_empty() {
                    Outcome::pass(format!("{key} lists nothing besides {}", shown_list(allowed)))
                } else {
                    Outcome::fail(format!("{key} also lists {} besides {} ({citation})", extra.join(", "), shown_list(allowed)))
                }
            }
            (Some(_), None) => Outcome::fail(format!("{key} is {shown}, not an array")),
        },
        MetadataTest::Only(allowed) => match array {
            Some(list) if !list.is_empty() => {
                let extra: Vec<String> = list.iter().filter(|x| !allowed.contains(x)).map(Value::to_string).collect();
                if extra.is_empty() {
                    Outcome::pass(format!("{key} lists only allowed values ({})", list.len()))
                } else {
                    Outcome::fail(format!("{key} also lists {}, which the profile does not allow", extra.join(", ")))
                }
            }
            _ => Outcome::fail(format!("{key} is {shown}; the profile requires a non-empty array of allowed values")),
        },
        MetadataTest::Excludes(banned) => match (v, array) {
            (None, _) => Outcome::pass(format!("{key} is not published")),
            (_, Some(list)) => {
                let found: Vec<String> = list.iter().filter(|x| banned.contains(x)).map(Value::to_string).collect();
                if found.is_empty() {
                    Outcome::pass(format!("{key} lists none of the excluded values"))
                } else {
                    Outcome::fail(format!("{key} lists {}, which the profile forbids", found.join(", ")))
                }
            }
            (Some(_), None) => Outcome::fail(format!("{key} is {shown}, not an array")),
        },
    };
    o.details(details)
}

fn shown_list(values: &[Value]) -> String {
    values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
}

fn within(v: u64, r: Seconds, what: &str) -> Outcome {
    let range = match (r.min, r.max) {
        (Some(a), Some(b)) => format!("{a}–{b} s"),
        (Some(a), None) => format!("at least {a} s"),
        (None, Some(b)) => format!("at most {b} s"),
        (None, None) => "any".into(),
    };
    if r.min.is_some_and(|m| v < m) || r.max.is_some_and(|m| v > m) {
        Outcome::fail(format!("{what} is {v} s; the profile requires {range}"))
    } else {
        Outcome::pass(format!("{what} is {v} s, within {range}"))
    }
}

/// The primary client's access-token lifetime: `expires_in` (RFC 6749 §5.1), else a JWT's
/// `exp - iat`.
async fn token_lifetime(ctx: &Ctx, r: Seconds) -> Outcome {
    let ex = match ctx.primary_grant().await {
        Ok(ex) => ex,
        Err(o) => return o,
    };
    let ev = ex.evidence.clone();
    // No token: the primary client's accept check says why; there is no lifetime to judge.
    let accept = ctx.target.clients.primary.accept_check();
    let Ok(resp) = &ex.outcome else {
        return Outcome::blocked(format!("blocked: the primary client got no token response (see {accept})")).with(ev);
    };
    if resp.status != 200 {
        return Outcome::blocked(format!("blocked: the primary client got no token ({}; see {accept})", resp.status)).with(ev);
    }
    if let Some(e) = resp.field("expires_in").and_then(Value::as_u64) {
        return within(e, r, "the access token's expires_in").with(ev);
    }
    let claims = resp.str_field("access_token").and_then(crate::checks::cnf::jwt_claims);
    match claims.as_ref().and_then(|c| Some(c.get("exp")?.as_u64()? - c.get("iat")?.as_u64()?)) {
        Some(l) => within(l, r, "the JWT access token's exp - iat").with(ev),
        None => Outcome::error("cannot judge: the token response has no expires_in and the token is not a JWT with exp and iat").with(ev),
    }
}

fn aliases(raw: &serde_json::Map<String, Value>, t: &AliasTest) -> Outcome {
    let map = raw.get("mtls_endpoint_aliases").and_then(Value::as_object);
    match t {
        AliasTest::Identical => {
            let Some(map) = map else { return Outcome::pass("no mtls_endpoint_aliases: every client uses the top-level endpoints") };
            let differ: Vec<String> = map
                .iter()
                .filter(|(k, v)| raw.get(k.as_str()) != Some(v))
                .map(|(k, v)| {
                    format!("{k}: alias {v} ≠ top level {}", raw.get(k.as_str()).map(Value::to_string).unwrap_or("absent".into()))
                })
                .collect();
            if differ.is_empty() {
                Outcome::pass(format!("all {} aliases equal their top-level endpoints", map.len()))
            } else {
                Outcome::fail(format!("aliases diverge from the top level, so clients must use them: {}", differ.join("; ")))
            }
        }
        AliasTest::Required(keys) => {
            let missing: Vec<&str> = keys.iter().filter(|k| !map.is_some_and(|m| m.contains_key(k.as_str()))).map(String::as_str).collect();
            if missing.is_empty() {
                Outcome::pass(format!("mtls_endpoint_aliases carries {}", keys.join(", ")))
            } else {
                Outcome::fail(format!("mtls_endpoint_aliases lacks {}", missing.join(", ")))
            }
        }
        AliasTest::Forbidden(keys) => {
            let found: Vec<&str> = keys.iter().filter(|k| map.is_some_and(|m| m.contains_key(k.as_str()))).map(String::as_str).collect();
            if found.is_empty() {
                Outcome::pass(format!("mtls_endpoint_aliases carries none of {}", keys.join(", ")))
            } else {
                Outcome::fail(format!("mtls_endpoint_aliases carries {}, which the profile forbids", found.join(", ")))
            }
        }
    }
}

/// The URL a profile means by an endpoint name: `discovery`, else the metadata key's effective
/// (aliased) URL when `effective`, else its top-level one.
pub(crate) fn endpoint_url(d: &crate::checks::Discovered, name: &str, effective: bool) -> Option<url::Url> {
    let url = if name == "discovery" {
        Some(d.url.clone())
    } else if effective {
        Operation::ALL.iter().find(|op| op.key() == name).and_then(|op| d.resolution.get(*op)).map(|e| e.url.to_string())
    } else {
        None
    };
    let url = url.or_else(|| d.metadata.raw.get(name).and_then(Value::as_str).map(str::to_string));
    url.as_deref().and_then(|u| url::Url::parse(u).ok())
}

/// Whether each endpoint's TLS server sends a CertificateRequest, against `requested`.
/// `requested: true` probes the effective (alias) endpoint; `false` the top-level one.
pub(crate) async fn cert_requests(ctx: &Ctx, endpoints: &[String], requested: bool) -> Outcome {
    let d = match ctx.discovered().await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut wrong = Vec::new();
    let mut right = Vec::new();
    let mut absent = Vec::new();
    let mut seen = Vec::new();
    for name in endpoints {
        let Some(parsed) = endpoint_url(d, name, requested) else {
            absent.push(name.as_str());
            continue;
        };
        match ctx.cert_requested(&parsed).await {
            Ok(asked) if asked == requested => right.push(name.as_str()),
            Ok(asked) => {
                wrong.push(format!("{name} ({}) {}", parsed.origin().ascii_serialization(), if asked { "asks" } else { "does not ask" }))
            }
            Err(f) => return Outcome::error(format!("cannot judge: the handshake with {name} failed: {f}")),
        }
        seen.push(json!({"endpoint": name, "url": parsed.as_str()}));
    }
    let should = if requested { "must ask for a client certificate" } else { "must not ask for a client certificate" };
    let note = if absent.is_empty() { String::new() } else { format!(" ({} not published)", absent.join(", ")) };
    let o = if !wrong.is_empty() {
        Outcome::fail(format!("{}: {should}{note}", wrong.join("; ")))
    } else if right.is_empty() {
        Outcome::skip(format!("none of {} is published", endpoints.join(", ")))
    } else {
        Outcome::pass(format!(
            "{} {}{note}",
            right.join(", "),
            if requested { "ask for a client certificate" } else { "do not ask for a client certificate" }
        ))
    };
    o.details(json!({ "probed": seen }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn metadata_tests_fail_what_they_must_and_only_that() {
        let methods = json!(["private_key_jwt", "client_secret_basic"]);
        let only = MetadataTest::Only(vec![json!("private_key_jwt")]);
        assert_eq!(metadata(Some(&methods), "m", &only, "X").status, Status::Fail);
        assert_eq!(metadata(Some(&json!(["private_key_jwt"])), "m", &only, "X").status, Status::Pass);
        assert_eq!(metadata(None, "m", &only, "X").status, Status::Fail, "absent is not a non-empty array");
        assert_eq!(metadata(Some(&json!([])), "m", &only, "X").status, Status::Fail);
        let excludes = MetadataTest::Excludes(vec![json!("tls_client_auth")]);
        assert_eq!(metadata(None, "m", &excludes, "X").status, Status::Pass);
        assert_eq!(metadata(Some(&json!(["tls_client_auth"])), "m", &excludes, "X").status, Status::Fail);
        assert_eq!(metadata(Some(&json!("tls_client_auth")), "m", &excludes, "X").status, Status::Fail, "not an array");
        let contains = MetadataTest::Contains(vec![json!("S256")]);
        assert_eq!(metadata(Some(&json!(["plain"])), "m", &contains, "X").status, Status::Fail);
        assert_eq!(metadata(Some(&json!(["plain", "S256"])), "m", &contains, "X").status, Status::Pass);
        let equals = MetadataTest::Equals(json!(true));
        assert_eq!(metadata(Some(&json!("true")), "m", &equals, "X").status, Status::Fail, "the string \"true\" is not true");
        assert_eq!(metadata(Some(&Value::Null), "m", &MetadataTest::Present, "X").status, Status::Fail);
    }

    #[test]
    fn contains_any_passes_on_one_allowed_value_and_lists_outside_names_the_others() {
        let any = MetadataTest::ContainsAny(vec![json!("PS256"), json!("ES256")]);
        assert_eq!(metadata(Some(&json!(["RS256", "ES256"])), "m", &any, "X").status, Status::Pass);
        let o = metadata(Some(&json!(["RS256"])), "m", &any, "X");
        assert!(o.status == Status::Fail && o.reason.contains("none of \"PS256\", \"ES256\""), "{}", o.reason);
        assert_eq!(metadata(None, "m", &any, "X").status, Status::Fail, "absent and not if_present: nothing offered");
        assert_eq!(metadata(Some(&json!("PS256")), "m", &any, "X").status, Status::Fail, "not an array");
        let outside = MetadataTest::ListsOutside(vec![json!("PS256")]);
        let o = metadata(Some(&json!(["PS256", "RS256"])), "m", &outside, "Spec §1");
        assert!(o.status == Status::Fail && o.reason.contains("also lists \"RS256\"") && o.reason.contains("Spec §1"), "{}", o.reason);
        assert_eq!(metadata(Some(&json!(["PS256"])), "m", &outside, "X").status, Status::Pass);
        assert_eq!(metadata(None, "m", &outside, "X").status, Status::Pass, "absent lists nothing");
        // An info rule records what it found and passes; a warn or fail rule keeps its finding.
        let o = informational(RuleLevel::Info, "Spec §1", metadata(Some(&json!(["PS256", "RS256"])), "m", &outside, "Spec §1"));
        assert!(
            o.status == Status::Pass && o.reason.starts_with("informational (Spec §1): ") && o.reason.contains("RS256"),
            "{}",
            o.reason
        );
        assert_eq!(informational(RuleLevel::Warn, "X", Outcome::fail("f")).status, Status::Fail);
        assert_eq!(informational(RuleLevel::Info, "X", Outcome::error("e")).status, Status::Error, "an error stays one");
    }

    /// Every metadata rule whose form issue #31 changed, judged against a discovery document
    /// that lists one allowed value and one extra: the `contains_any` rule passes, its companion
    /// reports the extra (at `info`, as a passing row naming it; at `warn` where the clause
    /// makes listing matter), and an absent OPTIONAL member does not fail.
    #[test]
    fn changed_builtin_rules_pass_on_an_allowed_value_and_report_the_extra() {
        let today = time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap();
        // (profile, contains rule, companion, key, allowed value, extra value, companion level)
        let cases: &[(&str, &str, &str, &str, &str, &str, RuleLevel)] = &[
            (
                "fapi2-sp-mtls",
                "auth-methods",
                "auth-methods-others",
                "token_endpoint_auth_methods_supported",
                "private_key_jwt",
                "client_secret_basic",
                RuleLevel::Info,
            ),
            (
                "fapi2-sp-mtls",
                "response-type-code",
                "response-types-others",
                "response_types_supported",
                "code",
                "code id_token",
                RuleLevel::Info,
            ),
            (
                "fapi2-sp-mtls",
                "client-assertion-algs",
                "client-assertion-algs-others",
                "token_endpoint_auth_signing_alg_values_supported",
                "PS256",
                "RS256",
                RuleLevel::Info,
            ),
            (
                "fapi1-advanced",
                "auth-methods",
                "auth-methods-others",
                "token_endpoint_auth_methods_supported",
                "tls_client_auth",
                "client_secret_post",
                RuleLevel::Info,
            ),
            (
                "fapi1-advanced",
                "response-types",
                "response-types-others",
                "response_types_supported",
                "code id_token",
                "token",
                RuleLevel::Info,
            ),
            (
                "fapi1-advanced",
                "request-object-algs",
                "request-object-algs-others",
                "request_object_signing_alg_values_supported",
                "ES256",
                "RS256",
                RuleLevel::Info,
            ),
            (
                "fapi1-advanced",
                "client-assertion-algs",
                "client-assertion-algs-others",
                "token_endpoint_auth_signing_alg_values_supported",
                "PS256",
                "HS256",
                RuleLevel::Info,
            ),
            (
                "uk-openbanking",
                "auth-methods",
                "auth-methods-others",
                "token_endpoint_auth_methods_supported",
                "private_key_jwt",
                "client_secret_basic",
                RuleLevel::Info,
            ),
            (
                "uk-openbanking",
                "response-types",
                "response-types-others",
                "response_types_supported",
                "code id_token",
                "id_token",
                RuleLevel::Info,
            ),
            (
                "uk-openbanking",
                "request-object-algs",
                "request-object-algs-others",
                "request_object_signing_alg_values_supported",
                "PS256",
                "RS256",
                RuleLevel::Info,
            ),
            (
                "uk-openbanking",
                "client-assertion-algs",
                "client-assertion-algs-others",
                "token_endpoint_auth_signing_alg_values_supported",
                "ES256",
                "RS256",
                RuleLevel::Info,
            ),
            (
                "br-openfinance",
                "private-key-jwt-offered",
                "auth-methods-others",
                "token_endpoint_auth_methods_supported",
                "private_key_jwt",
                "tls_client_auth",
                RuleLevel::Info,
            ),
            (
                "br-openfinance",
                "client-assertion-ps256",
                "client-assertion-algs-others",
                "token_endpoint_auth_signing_alg_values_supported",
                "PS256",
                "ES256",
                RuleLevel::Info,
            ),
            (
                "br-openfinance",
                "request-object-ps256",
                "request-object-algs-others",
                "request_object_signing_alg_values_supported",
                "PS256",
                "RS256",
                RuleLevel::Info,
            ),
            (
                "uae-openfinance",
                "private-key-jwt-offered",
                "auth-methods-others",
                "token_endpoint_auth_methods_supported",
                "private_key_jwt",
                "client_secret_basic",
                RuleLevel::Info,
            ),
            (
                "uae-openfinance",
                "response-type-code",
                "response-types-others",
                "response_types_supported",
                "code",
                "code id_token",
                RuleLevel::Info,
            ),
            (
                "uae-openfinance",
                "client-assertion-ps256",
                "client-assertion-algs-others",
                "token_endpoint_auth_signing_alg_values_supported",
                "PS256",
                "ES256",
                RuleLevel::Info,
            ),
            (
                "uae-openfinance",
                "request-object-ps256",
                "request-object-algs-others",
                "request_object_signing_alg_values_supported",
                "PS256",
                "RS256",
                RuleLevel::Info,
            ),
            ("au-cdr", "response-types", "response-types-others", "response_types_supported", "code", "code id_token", RuleLevel::Warn),
            (
                "au-cdr",
                "client-assertion-algs",
                "client-assertion-algs-others",
                "token_endpoint_auth_signing_alg_values_supported",
                "PS256",
                "RS256",
                RuleLevel::Info,
            ),
            (
                "au-cdr",
                "request-object-algs",
                "request-object-algs-others",
                "request_object_signing_alg_values_supported",
                "ES256",
                "RS256",
                RuleLevel::Info,
            ),
        ];
        let all = mtls_core::profile::builtin().unwrap();
        let rule = |p: &str, r: &str| {
            let profile = all.iter().find(|x| x.id.0 == p).unwrap_or_else(|| panic!("no profile {p}"));
            profile.rules.iter().find(|x| x.id.0 == r).unwrap_or_else(|| panic!("{p} has no rule {r}")).clone()
        };
        let judge = |rule: &mtls_core::profile::Rule, doc: &serde_json::Map<String, Value>| {
            assert!(rule.not_in_force(today).is_none(), "{} is in force", rule.id.0);
            let Assertion::Metadata(m) = &rule.assert else { panic!("{} is a metadata rule", rule.id.0) };
            informational(rule.level, &rule.citation.0, metadata_rule(m, doc, &rule.citation.0))
        };
        for &(p, main, others, key, allowed, extra, level) in cases {
            let (main, others) = (rule(p, main), rule(p, others));
            assert_eq!(main.level, RuleLevel::Fail, "{p}/{}", main.id.0);
            assert_eq!(others.level, level, "{p}/{}", others.id.0);
            let doc = raw(json!({ key: [allowed, extra] }));
            let o = judge(&main, &doc);
            assert_eq!(o.status, Status::Pass, "{p}/{}: {}", main.id.0, o.reason);
            let o = judge(&others, &doc);
            let want = if level == RuleLevel::Info { Status::Pass } else { Status::Fail };
            assert_eq!(o.status, want, "{p}/{}: {}", others.id.0, o.reason);
            assert!(
                o.reason.contains(&format!("also lists \"{extra}\"")) && o.reason.contains(&others.citation.0),
                "{p}/{}: {}",
                others.id.0,
                o.reason
            );
            if level == RuleLevel::Info {
                assert!(o.reason.starts_with("informational ("), "{p}/{}: {}", others.id.0, o.reason);
            }
            let only_extra = raw(json!({ key: [extra] }));
            assert_eq!(judge(&main, &only_extra).status, Status::Fail, "{p}/{}: no allowed value offered", main.id.0);
            let absent = raw(json!({}));
            let o = judge(&main, &absent);
            let optional = key != "token_endpoint_auth_methods_supported" && key != "response_types_supported";
            assert_eq!(o.status, if optional { Status::Skip } else { Status::Fail }, "{p}/{}: absent {key}: {}", main.id.0, o.reason);
            assert_eq!(judge(&others, &absent).status, Status::Pass, "{p}/{}: absent lists nothing", others.id.0);
        }
    }

    /// Issue #31: an aliased authorization endpoint is a warning under fapi2-sp-mtls and
    /// br-openfinance (no clause forbids it), and a split alias layout is only recorded under
    /// uae-openfinance (no UAE clause asks for identical aliases).
    #[test]
    fn alias_rules_are_as_strong_as_their_clauses() {
        let all = mtls_core::profile::builtin().unwrap();
        let rule = |p: &str, r: &str| {
            all.iter()
                .find(|x| x.id.0 == p)
                .and_then(|x| x.rules.iter().find(|y| y.id.0 == r))
                .cloned()
                .unwrap_or_else(|| panic!("{p}/{r}"))
        };
        let split = raw(json!({"token_endpoint": "https://as.example/token", "authorization_endpoint": "https://as.example/authorize",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token", "authorization_endpoint": "https://mtls.as.example/authorize"}}));
        for p in ["fapi2-sp-mtls", "br-openfinance"] {
            let r = rule(p, "no-authorization-alias");
            assert_eq!(r.level, RuleLevel::Warn, "{p}");
            let Assertion::Aliases(t) = &r.assert else { panic!("{p}: an aliases rule") };
            let o = informational(r.level, &r.citation.0, aliases(&split, &t.0));
            // Level::Should: the run reports this failed outcome as a warning.
            assert!(o.status == Status::Fail && o.reason.contains("authorization_endpoint"), "{p}: {}", o.reason);
            assert_eq!(r.level.level(), Level::Should, "{p}");
        }
        let r = rule("uae-openfinance", "aliases-identical");
        assert_eq!(r.level, RuleLevel::Info);
        let Assertion::Aliases(t) = &r.assert else { panic!("an aliases rule") };
        let o = informational(r.level, &r.citation.0, aliases(&split, &t.0));
        assert!(o.status == Status::Pass && o.reason.starts_with("informational (") && o.reason.contains("diverge"), "{}", o.reason);
    }

    /// RFC 9325: only §4.1's MUST NOTs are the fail-level statement; ChaCha20 (not among §4.2's
    /// four RECOMMENDED, but advised against nowhere) is in neither list.
    #[test]
    fn rfc9325_statements_split_must_not_from_should_not() {
        let by = |n: &str| mtls_tlsprobe::suites::by_name(n).unwrap_or_else(|| panic!("{n}"));
        let accepted = [
            by("TLS_RSA_WITH_NULL_SHA256"),
            by("TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
            by("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
            by("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
            by("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
            by("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ];
        let must = rfc9325_hits(&accepted, Rfc9325Statement::MustNot);
        assert!(
            must.len() == 2 && must[0].starts_with("TLS_RSA_WITH_NULL_SHA256") && must[1].starts_with("TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
            "{must:?}"
        );
        let should = rfc9325_hits(&accepted, Rfc9325Statement::ShouldNot);
        assert!(should.len() == 2 && should[0].contains("CBC") && should[1].starts_with("TLS_DHE_RSA"), "{should:?}");
        assert!(!must.iter().chain(&should).any(|h| h.contains("CHACHA20")), "ChaCha20 is neither");
        let all = mtls_core::profile::builtin().unwrap();
        let bcp = all.iter().find(|p| p.id.0 == "bcp195").unwrap();
        let level_of = |r: &str| bcp.rules.iter().find(|x| x.id.0 == r).map(|x| x.level);
        assert_eq!(level_of("tls12-must-not"), Some(RuleLevel::Fail));
        assert_eq!(level_of("tls12-should-not"), Some(RuleLevel::Warn));
        assert_eq!(bcp.level_of("tls.ciphers.tls12").map(|l| l.level), Some(RuleLevel::Info), "outside §4.2's four: informational");
        assert!(!bcp.required.iter().any(|r| r.name() == "tls.ciphers.tls12"), "not required to pass");
    }

    #[test]
    fn lifetimes_are_inclusive_ranges() {
        let r = Seconds { min: Some(120), max: Some(600) };
        assert_eq!(within(600, r, "x").status, Status::Pass);
        assert_eq!(within(601, r, "x").status, Status::Fail);
        assert_eq!(within(119, r, "x").status, Status::Fail);
        assert_eq!(within(5, Seconds { min: None, max: None }, "x").status, Status::Pass);
    }

    #[test]
    fn alias_rules_read_mtls_endpoint_aliases() {
        let top = "https://as.example/token";
        let same = raw(json!({"token_endpoint": top, "mtls_endpoint_aliases": {"token_endpoint": top}}));
        let split = raw(json!({"token_endpoint": top, "authorization_endpoint": "https://as.example/authorize",
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token", "authorization_endpoint": "https://mtls.as.example/authorize"}}));
        assert_eq!(aliases(&same, &AliasTest::Identical).status, Status::Pass);
        assert_eq!(aliases(&split, &AliasTest::Identical).status, Status::Fail);
        assert_eq!(aliases(&raw(json!({})), &AliasTest::Identical).status, Status::Pass, "no aliases: the top level is used");
        let required = AliasTest::Required(vec!["token_endpoint".into(), "registration_endpoint".into()]);
        let o = aliases(&same, &required);
        assert!(o.status == Status::Fail && o.reason.contains("registration_endpoint"), "{}", o.reason);
        assert_eq!(aliases(&raw(json!({})), &required).status, Status::Fail);
        let forbidden = AliasTest::Forbidden(vec!["authorization_endpoint".into()]);
        assert_eq!(aliases(&split, &forbidden).status, Status::Fail);
        assert_eq!(aliases(&same, &forbidden).status, Status::Pass);
    }

    #[test]
    fn required_checks_fail_the_profile_only_when_they_fail() {
        let row = |id: &'static str, status: Status| CheckResult {
            id,
            title: "",
            rfc: "",
            rfc_url: String::new(),
            level: Level::Must,
            status,
            reason: "why".into(),
            expected_fail: false,
            expected_warn: false,
            expected_blocked: false,
            duration_ms: 0.0,
            evidence: vec![],
            details: None,
            check_file: None,
        };
        let results = [row("auth.pki.accept", Status::Skip), row("auth.jwt.accept", Status::Pass), row("par.alias", Status::Blocked)];
        assert_eq!(required(&results, "auth.jwt.accept", "X", None).status, Status::Pass);
        // Not testable with this target (a skip): no failure of the AS, the profile cannot be judged.
        let o = required(&results, "auth.pki.accept", "X §1", Some("add a tls_client_auth client"));
        assert!(o.status == Status::Error && o.reason.contains("not testable") && o.reason.contains("why"), "{}", o.reason);
        let o = required(&results, "par.alias", "X §1", Some("add a PAR endpoint"));
        assert!(o.status == Status::Blocked && o.reason.contains("par.alias was blocked"), "{}", o.reason);
        let o = required(&results, "bind.rs.same-cert", "X", Some("set a resource"));
        assert!(o.status == Status::Error && o.reason.contains("did not run: set a resource"), "{}", o.reason);
        assert_eq!(required(&[row("par.alias", Status::Fail)], "par.alias", "X", None).status, Status::Fail);
        let any = [mtls_core::profile::CheckId("auth.pki.accept"), mtls_core::profile::CheckId("auth.jwt.accept")];
        assert_eq!(required_any(&results, &any, "X", None).status, Status::Pass);
        assert_eq!(required_any(&results, &any[..1], "X", None).status, Status::Error, "skipped: cannot judge");
        assert_eq!(required_any(&[row("auth.pki.accept", Status::Fail)], &any[..1], "X", None).status, Status::Fail);
    }
}
