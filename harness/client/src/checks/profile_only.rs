//! The behaviour checks that are not RFC 8705 rules but an ecosystem's (FAPI 2.0, UAE, the
//! Australian CDR): each runs only where a selected profile names it (`required:` or `levels:`)
//! or the run names it by its id in `checks:`, and skips otherwise — before its needs are looked
//! at, so a rule nobody applies is never `blocked`.

use std::collections::BTreeMap;

use super::{Ctx, Outcome};

/// The checks that run only where a selected profile (or the run's `checks:`, by id) asks for them.
pub const PROFILE_ONLY: &[&str] = &[
    "par.fapi.response-type",
    "par.fapi.pkce-missing",
    "par.fapi.pkce-plain",
    "par.fapi.redirect-missing",
    "par.fapi.no-client-auth",
    "par.fapi.signed-request-object",
    "auth.jwt.alg-rs256",
    "auth.jwt.iat-future",
    "auth.jwt.aud-endpoint-accepted",
    "introspect.access-token-refused",
];

/// A built-in profile that asks for check `id` of [`PROFILE_ONLY`].
fn asked_by(id: &str) -> &'static str {
    match id {
        "auth.jwt.aud-endpoint-accepted" | "introspect.access-token-refused" => "au-cdr",
        "par.fapi.signed-request-object" => "uae-openfinance",
        _ => "fapi2-sp-mtls",
    }
}

/// The `skip` of a check of [`PROFILE_ONLY`] nobody asked for, naming a profile that does.
fn not_asked(id: &str) -> Outcome {
    Outcome::skip(format!("no selected profile requires it ({} does)", asked_by(id)))
}

/// Who asks for each of [`PROFILE_ONLY`]: check id → the `profiles` naming it in `required:` or
/// `levels:` (not `off`), and "checks:" where `patterns` (a scenario's `checks:`, `--checks`)
/// names it by its id rather than by a glob.
pub fn demand(profiles: &[mtls_core::profile::Profile], patterns: &[String]) -> BTreeMap<&'static str, Vec<String>> {
    let mut by: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut add = |id: &str, who: &str| {
        if let Some(id) = PROFILE_ONLY.iter().find(|p| **p == mtls_core::catalogue::canonical(id)) {
            let list = by.entry(id).or_default();
            if !list.iter().any(|w| w == who) {
                list.push(who.to_string());
            }
        }
    };
    for p in profiles {
        let required = p.required.iter().flat_map(|r| r.checks.iter().map(|c| c.0));
        let levels = p.levels.iter().filter(|l| l.level != mtls_core::profile::RuleLevel::Off).map(|l| l.check.0);
        for id in required.chain(levels) {
            add(id, &p.id.0);
        }
    }
    for id in patterns {
        add(id, "checks:");
    }
    by
}

/// The `skip` a check of [`PROFILE_ONLY`] ends with, before its needs are even looked at, when
/// neither `profiles` nor `patterns` ask for it: a rule nobody applies is not blocked.
pub fn unasked(id: &str, profiles: &[mtls_core::profile::Profile], patterns: &[String]) -> Option<Outcome> {
    (PROFILE_ONLY.contains(&id) && !demand(profiles, patterns).contains_key(id)).then(|| not_asked(id))
}

/// `Err(skip)` unless a selected profile or the run's `checks:` asks for `id`.
pub(super) fn demanded(ctx: &Ctx, id: &str) -> Result<(), Outcome> {
    match ctx.demanded.get(id) {
        Some(who) if !who.is_empty() => Ok(()),
        _ => Err(not_asked(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> mtls_core::profile::Profile {
        let head = "id: p\ntitle: P\nversion: '1'\nsources: [{ name: S, url: 'https://example.com/s' }]\n";
        mtls_core::profile::Profile::parse(&format!("{head}{text}"), std::path::Path::new("p.yaml")).unwrap()
    }

    #[test]
    fn a_check_runs_where_a_profile_names_it_or_checks_names_its_id_and_not_by_glob() {
        let required = profile("required:\n  - check: par.fapi.pkce-plain\n    citation: X\n");
        let levels = profile("levels:\n  - check: auth.jwt.iat-future\n    level: warn\n    citation: X\n");
        let off = profile("levels:\n  - check: auth.jwt.alg-rs256\n    level: off\n    citation: X\n");
        let profiles = [required, levels, off];
        let by = demand(&profiles, &["*".into(), "par.fapi.*".into(), "par.fapi.no-client-auth".into()]);
        assert_eq!(by.keys().copied().collect::<Vec<_>>(), ["auth.jwt.iat-future", "par.fapi.no-client-auth", "par.fapi.pkce-plain"]);
        assert_eq!(by["par.fapi.pkce-plain"], ["p"]);
        assert_eq!(by["par.fapi.no-client-auth"], ["checks:"]);
        assert!(unasked("par.fapi.pkce-plain", &profiles, &[]).is_none());
        let skip = unasked("auth.jwt.alg-rs256", &profiles, &["*".into()]).expect("`off` and a glob do not ask for it");
        assert_eq!(
            (skip.status, skip.reason.as_str()),
            (mtls_core::results::Status::Skip, "no selected profile requires it (fapi2-sp-mtls does)")
        );
        assert!(unasked("par.alias", &[], &[]).is_none(), "RFC 8705 checks are never held back");
    }

    #[test]
    fn every_profile_only_check_names_a_built_in_profile_that_asks_for_it() {
        let builtin = mtls_core::profile::builtin().unwrap();
        for id in PROFILE_ONLY {
            let p = builtin.iter().find(|p| p.id.0 == asked_by(id)).unwrap_or_else(|| panic!("{id}: no profile {}", asked_by(id)));
            assert!(demand(std::slice::from_ref(p), &[]).contains_key(id), "{id}: {} does not ask for it", p.id.0);
        }
    }
}
