//! What a `private_key_jwt` client assertion must be beyond RFC 7523 §3, per the profiles in
//! force. RFC 7523 alone lets `aud` be the issuer or the token endpoint URL (§3 ¶3) and allows any
//! JWS signature algorithm (RFC 7518 §3.1, RS256 included); FAPI 2.0 SP narrows `aud` to the
//! issuer alone (§5.3.2.1) and the algorithms to PS256, ES256, EdDSA (§5.4.1); FAPI 1.0 Advanced
//! to PS256 and ES256 (§8.6). One value, read from the selected profiles, drives both the client
//! checks and the mock AS a client-mode scenario stands up, so the two never disagree.

use crate::profile::Profile;

/// The algorithms FAPI 2.0 SP §5.4.1 allows.
pub const FAPI2_ALGS: &[&str] = &["PS256", "ES256", "EdDSA"];
/// The algorithms FAPI 1.0 Advanced §8.6 allows.
pub const FAPI1_ALGS: &[&str] = &["PS256", "ES256"];

/// A narrowing of the signature algorithms, and the rule that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgRule {
    /// The algorithms allowed.
    pub allowed: &'static [&'static str],
    /// The rule, for a reason: `FAPI 2.0 SP §5.4.1`.
    pub cite: &'static str,
}

/// What the selected profiles require of a client assertion (nothing: plain RFC 7523 §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssertionPolicy {
    /// `aud` is the issuer alone, as a single string (FAPI 2.0 SP §5.3.2.1).
    pub issuer_only_aud: bool,
    /// The signature algorithms allowed, where a profile narrows them.
    pub algs: Option<AlgRule>,
}

impl AssertionPolicy {
    /// Plain RFC 7523 §3: `aud` the issuer or the token endpoint URL, any signature algorithm.
    pub const RFC7523: AssertionPolicy = AssertionPolicy { issuer_only_aud: false, algs: None };

    /// FAPI 2.0 SP: issuer-only `aud` (§5.3.2.1), PS256, ES256 or EdDSA (§5.4.1).
    pub const FAPI2: AssertionPolicy =
        AssertionPolicy { issuer_only_aud: true, algs: Some(AlgRule { allowed: FAPI2_ALGS, cite: "FAPI 2.0 SP §5.4.1" }) };

    /// The policy of `profiles`: FAPI 2.0 SP's where one builds on it; FAPI 1.0 Advanced's
    /// algorithms where one builds on that (the narrower list wins when both are selected).
    pub fn of(profiles: &[Profile]) -> AssertionPolicy {
        let builds_on = |prefix: &str| profiles.iter().any(|p| p.sources.iter().any(|s| s.name.starts_with(prefix)));
        let mut policy = if builds_on("FAPI 2.0 Security Profile") { AssertionPolicy::FAPI2 } else { AssertionPolicy::RFC7523 };
        if builds_on("FAPI 1.0 — Part 2: Advanced") {
            policy.algs = Some(AlgRule { allowed: FAPI1_ALGS, cite: "FAPI 1.0 Advanced §8.6" });
        }
        policy
    }

    /// Whether an assertion signed with `alg` is acceptable: a profile's list, else any signature
    /// (never `none` or a MAC: a private_key_jwt assertion is signed, OIDC Core §9).
    pub fn allows_alg(&self, alg: &str) -> bool {
        let signature =
            ["RS", "PS", "ES"].iter().any(|f| alg.strip_prefix(f).is_some_and(|n| ["256", "384", "512"].contains(&n))) || alg == "EdDSA";
        signature && self.algs.is_none_or(|r| r.allowed.contains(&alg))
    }

    /// The allowed algorithms for a reason: `PS256, ES256 or EdDSA`.
    pub fn listed(rule: &AlgRule) -> String {
        match rule.allowed.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// Whether this narrows anything RFC 7523 allows.
    pub fn is_profiled(&self) -> bool {
        *self != AssertionPolicy::RFC7523
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(source: &str) -> Profile {
        let yaml = format!("id: t\ntitle: T\nversion: '1'\nsources: [{{ name: \"{source}\", url: 'https://example.com/s' }}]\n");
        serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rfc7523_alone_allows_rs256_and_fapi_profiles_narrow_it() {
        assert_eq!(AssertionPolicy::of(&[]), AssertionPolicy::RFC7523);
        assert!(AssertionPolicy::RFC7523.allows_alg("RS256") && AssertionPolicy::RFC7523.allows_alg("EdDSA"));
        assert!(!AssertionPolicy::RFC7523.allows_alg("HS256") && !AssertionPolicy::RFC7523.allows_alg("none"));
        let fapi2 = AssertionPolicy::of(&[profile("FAPI 2.0 Security Profile — Final")]);
        assert_eq!(fapi2, AssertionPolicy::FAPI2);
        assert!(!fapi2.allows_alg("RS256") && fapi2.allows_alg("EdDSA"));
        let fapi1 = AssertionPolicy::of(&[profile("FAPI 1.0 — Part 2: Advanced (Final)")]);
        assert!(!fapi1.issuer_only_aud && !fapi1.allows_alg("RS256") && !fapi1.allows_alg("EdDSA") && fapi1.allows_alg("PS256"));
        assert_eq!(fapi1.algs.map(|r| r.cite), Some("FAPI 1.0 Advanced §8.6"));
        let listed = |p: AssertionPolicy| p.algs.map(|r| AssertionPolicy::listed(&r)).unwrap_or_default();
        assert_eq!((listed(fapi2).as_str(), listed(fapi1).as_str()), ("PS256, ES256 or EdDSA", "PS256 or ES256"));
    }
}
