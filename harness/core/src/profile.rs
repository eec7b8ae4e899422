//! Profiles: named, versioned, cited rule sets (`profiles/*.yaml`, one per profile) — FAPI 2.0
//! SP, FAPI 1 Advanced, the Open Finance ecosystems. A profile names the catalogue checks it
//! requires, the levels it raises, and rules checkable from outside (discovery metadata, token
//! and PAR lifetimes, aliases, which endpoints ask for a client certificate). This module is the
//! model and its loading; `mtls-client` judges the rules against a target.
//!
//! The profiles in the repository's `profiles/` directory are built into the binary (see
//! `build.rs`); more can be loaded from a directory at run time. A new profile is one YAML file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::results::Level;
use crate::scenario::{syntax_error, Mode, ScenarioError};

include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));

/// The profile a run judges when none is selected: RFC 8705 as written.
pub const DEFAULT_PROFILE: &str = "rfc8705";

/// A catalogue check id (AS mode), validated while parsing so an unknown id is refused at its
/// line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckId(pub &'static str);

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let id = crate::catalogue::canonical(&s);
        crate::catalogue::CATALOGUE
            .iter()
            .find(|c| c.id == id && c.mode == Mode::As)
            .map(|c| CheckId(c.id))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown check id `{s}` (see `mtls-harness list`)")))
    }
}

/// Where a requirement is written (`FAPI 2.0 SP §5.3.2.1-5`): never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation(pub String);

impl<'de> Deserialize<'de> for Citation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom("citation is empty: name the specification and section the rule comes from"));
        }
        Ok(Citation(s))
    }
}

/// A rule id: lowercase letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleId(pub String);

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(serde::de::Error::custom(format!("id `{s}` must be non-empty lowercase letters, digits and '-'")));
        }
        Ok(RuleId(s))
    }
}

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub time::Date);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bad = || serde::de::Error::custom(format!("`{s}` is not a date YYYY-MM-DD"));
        let mut parts = s.splitn(3, '-').map(str::parse::<i32>);
        let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day))) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        let month = u8::try_from(m).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(bad)?;
        let day = u8::try_from(day).map_err(|_| bad())?;
        time::Date::from_calendar_date(y, month, day).map(Day).map_err(|_| bad())
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.0.year(), u8::from(self.0.month()), self.0.day())
    }
}

/// `fail`, `warn` or `info`: what breaking the rule makes of it; `off` (in `levels` only): the
/// check does not apply under the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// A MUST/SHALL of the profile.
    Fail,
    /// A SHOULD, or informational.
    Warn,
    /// Informational: recorded, never failing or warning.
    Info,
    /// Not applicable under this profile (e.g. CDR forbids access-token introspection).
    Off,
}

impl RuleLevel {
    /// As a check level (`off` has none).
    pub fn level(self) -> Level {
        match self {
            RuleLevel::Fail => Level::Must,
            RuleLevel::Warn | RuleLevel::Off => Level::Should,
            RuleLevel::Info => Level::Info,
        }
    }
}

/// A document the profile encodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Its name.
    pub name: String,
    /// Where to read it.
    pub url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequired {
    #[serde(default)]
    check: Option<CheckId>,
    #[serde(default)]
    any: Option<Vec<CheckId>>,
    #[serde(default)]
    id: Option<RuleId>,
    citation: Citation,
    #[serde(default)]
    hint: Option<String>,
}

/// A catalogue check the profile requires to be judged and to pass — or, with `any:`, one of
/// several (FAPI 2.0 accepts any of three client authentication methods).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawRequired")]
pub struct Required {
    /// The check, or the alternatives of which one must pass.
    pub checks: Vec<CheckId>,
    /// The name of an `any` requirement (`client-authentication`).
    pub id: Option<RuleId>,
    /// Where the profile requires it.
    pub citation: Citation,
    /// What makes it testable when it is not (`add a private_key_jwt client`).
    pub hint: Option<String>,
}

impl Required {
    /// Its name in result ids: the check, or the `id` of an `any` requirement.
    pub fn name(&self) -> String {
        match &self.id {
            Some(id) => id.0.clone(),
            None => self.checks.iter().map(|c| c.0).collect::<Vec<_>>().join(", "),
        }
    }
}

impl TryFrom<RawRequired> for Required {
    type Error = &'static str;
    fn try_from(r: RawRequired) -> Result<Self, &'static str> {
        let checks = match (r.check, r.any, &r.id) {
            (Some(c), None, None) => vec![c],
            (None, Some(any), Some(_)) if !any.is_empty() => any,
            (None, Some(_), None) => return Err("required: an `any:` requirement needs an `id:` naming it (e.g. client-authentication)"),
            (Some(_), None, Some(_)) => return Err("required: `id:` only names an `any:` requirement; a `check:` is named by its check"),
            _ => return Err("required: give `check: <id>` or `any: [<id>, ...]` with an `id:`, not both"),
        };
        Ok(Required { checks, id: r.id, citation: r.citation, hint: r.hint })
    }
}

/// A catalogue check whose level the profile sets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelOverride {
    /// The check.
    pub check: CheckId,
    /// Its level under this profile.
    pub level: RuleLevel,
    /// Where the profile says so.
    pub citation: Citation,
}

/// An inclusive range of seconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seconds {
    /// At least this many.
    #[serde(default)]
    pub min: Option<u64>,
    /// At most this many.
    #[serde(default)]
    pub max: Option<u64>,
}

/// What a `metadata` rule asserts of one discovery member.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataTest {
    /// Equals the value.
    Equals(Value),
    /// An array containing every value.
    Contains(Vec<Value>),
    /// An array containing at least one of these values (what a clause allows: the AS offers one
    /// of them; listing others besides is a separate, `lists_outside`, question).
    ContainsAny(Vec<Value>),
    /// Reports the values an array lists besides these (absent: nothing listed). Used at `info`
    /// or `warn` next to a `contains_any` rule: a clause on what FAPI clients use, or on what
    /// the AS does with FAPI requests, does not forbid metadata from listing other values.
    ListsOutside(Vec<Value>),
    /// A non-empty array of only these values.
    Only(Vec<Value>),
    /// Absent, or an array containing none of these.
    Excludes(Vec<Value>),
    /// Published and not null.
    Present,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetadata {
    key: String,
    #[serde(default)]
    equals: Option<Value>,
    #[serde(default)]
    contains: Option<Vec<Value>>,
    #[serde(default)]
    contains_any: Option<Vec<Value>>,
    #[serde(default)]
    lists_outside: Option<Vec<Value>>,
    #[serde(default)]
    only: Option<Vec<Value>>,
    #[serde(default)]
    excludes: Option<Vec<Value>>,
    #[serde(default)]
    present: Option<bool>,
    #[serde(default)]
    if_present: bool,
}

/// A discovery member and what it must be.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawMetadata")]
pub struct MetadataAssert {
    /// The member (`require_pushed_authorization_requests`).
    pub key: String,
    /// What it must be.
    pub test: MetadataTest,
    /// Judge only when the member is published (absent → skip), e.g. assertion algorithms of an
    /// AS that offers only mTLS client authentication.
    pub if_present: bool,
}

impl TryFrom<RawMetadata> for MetadataAssert {
    type Error = String;
    fn try_from(r: RawMetadata) -> Result<Self, String> {
        let mut tests = Vec::new();
        if let Some(v) = r.equals {
            tests.push(MetadataTest::Equals(v));
        }
        if let Some(v) = r.contains {
            tests.push(MetadataTest::Contains(v));
        }
        if let Some(v) = r.contains_any {
            if v.is_empty() {
                return Err(format!("metadata `{}`: `contains_any` needs at least one value", r.key));
            }
            tests.push(MetadataTest::ContainsAny(v));
        }
        if let Some(v) = r.lists_outside {
            if v.is_empty() {
                return Err(format!("metadata `{}`: `lists_outside` needs at least one value", r.key));
            }
            tests.push(MetadataTest::ListsOutside(v));
        }
        if let Some(v) = r.only {
            tests.push(MetadataTest::Only(v));
        }
        if let Some(v) = r.excludes {
            tests.push(MetadataTest::Excludes(v));
        }
        match r.present {
            Some(true) => tests.push(MetadataTest::Present),
            Some(false) => return Err("`present: false` is not a test: use `excludes` or leave the member out".into()),
            None => {}
        }
        match (tests.pop(), tests.is_empty()) {
            (Some(MetadataTest::Present), true) if r.if_present => Err("`if_present` with `present` tests nothing".into()),
            (Some(test), true) => Ok(MetadataAssert { key: r.key, test, if_present: r.if_present }),
            _ => Err(format!(
                "metadata `{}`: give exactly one of equals, contains, contains_any, lists_outside, only, excludes, present",
                r.key
            )),
        }
    }
}

/// What an `aliases` rule asserts of `mtls_endpoint_aliases` (RFC 8705 §5).
#[derive(Debug, Clone, PartialEq)]
pub enum AliasTest {
    /// Every alias equals its top-level endpoint.
    Identical,
    /// These keys are aliased.
    Required(Vec<String>),
    /// These keys are not aliased.
    Forbidden(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAliases {
    #[serde(default)]
    identical: Option<bool>,
    #[serde(default)]
    required: Option<Vec<String>>,
    #[serde(default)]
    forbidden: Option<Vec<String>>,
}

/// An `aliases` rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawAliases")]
pub struct AliasAssert(pub AliasTest);

impl TryFrom<RawAliases> for AliasAssert {
    type Error = String;
    fn try_from(r: RawAliases) -> Result<Self, String> {
        match (r.identical, r.required, r.forbidden) {
            (Some(true), None, None) => Ok(AliasAssert(AliasTest::Identical)),
            (None, Some(k), None) if !k.is_empty() => Ok(AliasAssert(AliasTest::Required(k))),
            (None, None, Some(k)) if !k.is_empty() => Ok(AliasAssert(AliasTest::Forbidden(k))),
            _ => Err("aliases: give exactly one of `identical: true`, `required: [...]`, `forbidden: [...]`".into()),
        }
    }
}

/// Which endpoints must (or must not) send a CertificateRequest in the TLS handshake.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertRequestAssert {
    /// `discovery`, or discovery metadata keys (`jwks_uri`, `token_endpoint`).
    pub endpoints: Vec<String>,
    /// Whether they must ask for a client certificate.
    pub requested: bool,
}

/// Which of RFC 9325's TLS 1.2 cipher suite statements a `tls12_suites` rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rfc9325Statement {
    /// §4.1 MUST NOT: NULL encryption, RC4, under 112 bits (export, DES).
    MustNot,
    /// §4.1 SHOULD NOT (static RSA/DH/ECDH, TLS 1.2 DHE, under 128 bits) and §4.2 (CBC unless
    /// encrypt_then_mac).
    ShouldNot,
}

/// The TLS 1.2 suites every origin accepts, judged against one level of RFC 9325's statements
/// (the enumeration `tls.ciphers.tls12` makes; what a profile's allow-list does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls12SuitesAssert {
    /// The statements whose suites are reported.
    pub rfc9325: Rfc9325Statement,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssertion {
    #[serde(default)]
    metadata: Option<MetadataAssert>,
    #[serde(default)]
    token_lifetime: Option<Seconds>,
    #[serde(default)]
    par_expires_in: Option<Seconds>,
    #[serde(default)]
    aliases: Option<AliasAssert>,
    #[serde(default)]
    cert_request: Option<CertRequestAssert>,
    #[serde(default)]
    tls12_suites: Option<Tls12SuitesAssert>,
}

impl TryFrom<RawAssertion> for Assertion {
    type Error = &'static str;
    fn try_from(r: RawAssertion) -> Result<Self, &'static str> {
        let all = [
            r.metadata.map(Assertion::Metadata),
            r.token_lifetime.map(Assertion::TokenLifetime),
            r.par_expires_in.map(Assertion::ParExpiresIn),
            r.aliases.map(Assertion::Aliases),
            r.cert_request.map(Assertion::CertRequest),
            r.tls12_suites.map(Assertion::Tls12Suites),
        ];
        let mut given = all.into_iter().flatten();
        match (given.next(), given.next()) {
            (Some(a), None) => Ok(a),
            _ => Err("assert: give exactly one of metadata, token_lifetime, par_expires_in, aliases, cert_request, tls12_suites"),
        }
    }
}

/// What a rule asserts: exactly one of these.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawAssertion")]
pub enum Assertion {
    /// A discovery member.
    Metadata(MetadataAssert),
    /// `expires_in` of the primary client's token response, seconds.
    TokenLifetime(Seconds),
    /// `expires_in` of the PAR response (RFC 9126 §2.2), seconds.
    ParExpiresIn(Seconds),
    /// `mtls_endpoint_aliases` (RFC 8705 §5).
    Aliases(AliasAssert),
    /// Certificate requests in the handshake of endpoints.
    CertRequest(CertRequestAssert),
    /// TLS 1.2 suites accepted that RFC 9325 forbids or advises against.
    Tls12Suites(Tls12SuitesAssert),
}

impl PartialEq for Seconds {
    fn eq(&self, o: &Self) -> bool {
        self.min == o.min && self.max == o.max
    }
}

/// One rule of a profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique within the profile; reports name it `profile.<profile>.<rule>`.
    pub id: RuleId,
    /// What is checked, one line.
    pub title: String,
    /// `fail`, `warn` or `info`.
    pub level: RuleLevel,
    /// Specification and section.
    pub citation: Citation,
    /// Not in force before this day.
    #[serde(default)]
    pub effective_from: Option<Day>,
    /// Superseded after this day.
    #[serde(default)]
    pub effective_until: Option<Day>,
    /// What it asserts.
    pub assert: Assertion,
}

impl Rule {
    /// `Some(reason)` when the rule is not in force on `today`.
    pub fn not_in_force(&self, today: time::Date) -> Option<String> {
        if let Some(from) = self.effective_from.filter(|f| today < f.0) {
            return Some(format!("not in force until {from}"));
        }
        if let Some(until) = self.effective_until.filter(|u| today > u.0) {
            return Some(format!("superseded after {until}"));
        }
        None
    }
}

/// A profile: a versioned, cited rule set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Its id, the file's stem (`fapi2-sp-mtls`).
    pub id: RuleId,
    /// Its name for reports.
    pub title: String,
    /// The version of the specification it encodes.
    pub version: String,
    /// The documents it encodes.
    pub sources: Vec<Source>,
    /// It requires certificate-bound access tokens (drives `disc.bound-flag`).
    #[serde(default)]
    pub bound_tokens: bool,
    /// Checks that must be judged and pass.
    #[serde(default)]
    pub required: Vec<Required>,
    /// Checks whose level it sets.
    #[serde(default)]
    pub levels: Vec<LevelOverride>,
    /// Rules checkable from outside.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// TLS-layer rules the `tls.*` checks judge.
    #[serde(default)]
    pub tls: Option<crate::tls_policy::TlsPolicy>,
    /// Where it was loaded from (`builtin:` for built-in profiles).
    #[serde(skip)]
    pub file: PathBuf,
}

impl Profile {
    /// Parse a profile; errors name `file` and, where the parser knows them, line and column.
    pub fn parse(text: &str, file: &Path) -> Result<Profile, ScenarioError> {
        let name = file.display().to_string();
        let mut p: Profile = serde_yaml::from_str(text).map_err(|e| syntax_error(&name, &e))?;
        p.file = file.to_path_buf();
        p.validate().map_err(|msg| ScenarioError::Invalid { file: name, msg })?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), String> {
        let stem = self.file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if stem != self.id.0 {
            return Err(format!("id `{}` must equal the file name's stem `{stem}`", self.id.0));
        }
        if self.sources.is_empty() {
            return Err("sources: name at least one document the profile encodes".into());
        }
        for s in &self.sources {
            url::Url::parse(&s.url).map_err(|e| format!("sources: `{}` is not a URL ({e})", s.url))?;
        }
        if let Some(r) = self.rules.iter().find(|r| r.level == RuleLevel::Off) {
            return Err(format!("rule `{}`: level `off` only applies to `levels:` (a rule is fail, warn or info)", r.id.0));
        }
        if let Some(t) = &self.tls {
            t.validate(|n| mtls_tlsprobe::suites::by_name(n).is_some())?;
        }
        let mut seen = HashSet::new();
        if let Some(r) = self.rules.iter().find(|r| !seen.insert(r.id.0.as_str())) {
            return Err(format!("rule id `{}` is used twice", r.id.0));
        }
        for r in &self.rules {
            if let (Some(f), Some(u)) = (r.effective_from, r.effective_until) {
                if u < f {
                    return Err(format!("rule `{}`: effective_until {u} is before effective_from {f}", r.id.0));
                }
            }
        }
        Ok(())
    }

    /// What this profile sets for `check`, if anything.
    pub fn level_of(&self, check: &str) -> Option<&LevelOverride> {
        self.levels.iter().find(|l| l.check.0 == check)
    }
}

/// The TLS rules `profiles` set (each `tls:` section), with BCP 195's where none sets an aspect.
pub fn tls_rules(profiles: &[Profile]) -> crate::tls_policy::TlsRules {
    let policies: Vec<(&str, &crate::tls_policy::TlsPolicy)> =
        profiles.iter().filter_map(|p| p.tls.as_ref().map(|t| (p.id.0.as_str(), t))).collect();
    crate::tls_policy::TlsRules::of(&policies)
}

/// The profiles built into the binary, by id (parsed on each call; a broken one is an error
/// naming its file).
pub fn builtin() -> Result<Vec<Profile>, ScenarioError> {
    BUILTIN.iter().map(|(name, text)| Profile::parse(text, Path::new(&format!("profiles/{name}.yaml")))).collect()
}

/// Every profile: the built-in ones, then those of `extra_dir` (which may replace a built-in one
/// of the same id).
pub fn available(extra_dir: Option<&Path>) -> Result<Vec<Profile>, ScenarioError> {
    let mut all = builtin()?;
    if let Some(dir) = extra_dir {
        let rd = std::fs::read_dir(dir).map_err(|e| ScenarioError::Io { path: dir.display().to_string(), msg: e.to_string() })?;
        let mut files: Vec<PathBuf> =
            rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml")).collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| ScenarioError::Io { path: f.display().to_string(), msg: e.to_string() })?;
            let p = Profile::parse(&text, &f)?;
            all.retain(|q| q.id != p.id);
            all.push(p);
        }
    }
    Ok(all)
}

/// A profile name none of the available profiles has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{name}`; known: {}", known.join(", "))]
pub struct UnknownProfile {
    /// The name asked for.
    pub name: String,
    /// The ids of the available profiles.
    pub known: Vec<String>,
}

/// The profiles of `all` named by `names`, in the order named.
pub fn pick<S: AsRef<str>>(all: &[Profile], names: &[S]) -> Result<Vec<Profile>, UnknownProfile> {
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|p| p.id.0 == n.as_ref())
                .cloned()
                .ok_or_else(|| UnknownProfile { name: n.as_ref().to_string(), known: all.iter().map(|p| p.id.0.clone()).collect() })
        })
        .collect()
}

/// A string that lives as long as the process, interned: profile rule ids and citations become
/// result ids like catalogue ids. Bounded by the distinct strings of the loaded profiles.
pub fn intern(s: &str) -> &'static str {
    static POOL: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
    let pool = pool.get_or_insert_with(HashSet::new);
    if let Some(found) = pool.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    pool.insert(leaked);
    leaked
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Parse a test profile as `profiles/t.yaml` (its id is `t`).
    pub(crate) fn parse(text: &str) -> Result<Profile, String> {
        Profile::parse(text, Path::new("profiles/t.yaml")).map_err(|e| e.to_string())
    }

    /// The members every test profile needs.
    pub(crate) const HEAD: &str = "id: t\ntitle: T\nversion: '1'\nsources: [{ name: S, url: 'https://example.com/s' }]\n";

    #[test]
    fn builtin_profiles_parse() {
        let all = builtin().unwrap();
        assert!(all.iter().any(|p| p.id.0 == DEFAULT_PROFILE), "the default profile is built in");
    }

    #[test]
    fn refuses_unknown_keys_checks_and_missing_citations_at_line_and_column() {
        let e = parse(&format!("{HEAD}colour: red\n")).unwrap_err();
        assert!(e.starts_with("profiles/t.yaml:5:1:") && e.contains("unknown field `colour`"), "{e}");
        let e = parse(&format!("{HEAD}required:\n  - check: auth.nope\n    citation: X §1\n")).unwrap_err();
        assert!(e.starts_with("profiles/t.yaml:6:") && e.contains("unknown check id `auth.nope`"), "{e}");
        let e = parse(&format!(
            "{HEAD}rules:\n  - id: r\n    title: R\n    level: fail\n    assert: {{ metadata: {{ key: k, present: true }} }}\n"
        ))
        .unwrap_err();
        assert!(e.starts_with("profiles/t.yaml:6:") && e.contains("missing field `citation`"), "{e}");
        let e = parse(&format!("{HEAD}rules:\n  - id: r\n    title: R\n    level: fail\n    citation: ''\n    assert: {{ metadata: {{ key: k, present: true }} }}\n"))
            .unwrap_err();
        assert!(e.contains("citation is empty"), "{e}");
        let e = parse(&format!("{HEAD}rules:\n  - id: r\n    title: R\n    level: fail\n    citation: X\n    assert: {{ metadata: {{ key: k, equals: 1, present: true }} }}\n"))
            .unwrap_err();
        assert!(e.contains("exactly one"), "{e}");
        let e = parse(&format!(
            "{HEAD}rules:\n  - {{ id: r, title: R, level: off, citation: X, assert: {{ metadata: {{ key: k, present: true }} }} }}\n"
        ))
        .unwrap_err();
        assert!(e.contains("only applies to `levels:`"), "{e}");
    }

    #[test]
    fn parses_every_assertion_form_and_dates() {
        let p = parse(&format!(
            "{HEAD}rules:\n  - {{ id: a, title: A, level: warn, citation: X, effective_from: 2025-03-17, assert: {{ aliases: {{ identical: true }} }} }}\n  - {{ id: b, title: B, level: fail, citation: X, assert: {{ token_lifetime: {{ max: 600 }} }} }}\n  - {{ id: c, title: C, level: fail, citation: X, assert: {{ cert_request: {{ endpoints: [discovery], requested: false }} }} }}\n  - {{ id: d, title: D, level: fail, citation: X, assert: {{ metadata: {{ key: k, only: [a] }} }} }}\n"
        ))
        .unwrap();
        assert_eq!(p.rules[0].assert, Assertion::Aliases(AliasAssert(AliasTest::Identical)));
        let before = time::Date::from_calendar_date(2025, time::Month::March, 16).unwrap();
        assert_eq!(p.rules[0].not_in_force(before).as_deref(), Some("not in force until 2025-03-17"));
        assert!(p.rules[0].not_in_force(before.next_day().unwrap()).is_none());
        assert!(matches!(p.rules[3].assert, Assertion::Metadata(MetadataAssert { test: MetadataTest::Only(_), if_present: false, .. })));
        let p = parse(&format!(
            "{HEAD}required:\n  - {{ id: client-auth, any: [auth.pki.accept, auth.jwt.accept], citation: X }}\nrules:\n  - {{ id: a, title: A, level: fail, citation: X, assert: {{ metadata: {{ key: k, only: [PS256], if_present: true }} }} }}\n"
        ))
        .unwrap();
        assert_eq!(p.required[0].name(), "client-auth");
        assert!(matches!(p.rules[0].assert, Assertion::Metadata(MetadataAssert { if_present: true, .. })));
        let e = parse(&format!("{HEAD}required:\n  - {{ check: disc.fetch, any: [disc.fetch], citation: X }}\n")).unwrap_err();
        assert!(e.contains("not both"), "{e}");
    }

    /// RFC 8705 §3.3 makes `tls_client_certificate_bound_access_tokens` OPTIONAL: the default
    /// profile and the TLS-only one do not require bound tokens; every ecosystem profile does.
    #[test]
    fn only_ecosystem_profiles_require_bound_tokens() {
        for p in builtin().unwrap() {
            let want = !matches!(p.id.0.as_str(), DEFAULT_PROFILE | "bcp195");
            assert_eq!(p.bound_tokens, want, "{}", p.id.0);
        }
    }

    #[test]
    fn contains_any_and_lists_outside_parse_and_info_rules_are_allowed() {
        let p = parse(&format!(
            "{HEAD}rules:\n  - {{ id: a, title: A, level: fail, citation: X, assert: {{ metadata: {{ key: k, contains_any: [PS256, ES256], if_present: true }} }} }}\n  - {{ id: b, title: B, level: info, citation: X, assert: {{ metadata: {{ key: k, lists_outside: [PS256, ES256] }} }} }}\n"
        ))
        .unwrap();
        assert!(
            matches!(&p.rules[0].assert, Assertion::Metadata(MetadataAssert { test: MetadataTest::ContainsAny(v), if_present: true, .. }) if v.len() == 2)
        );
        assert!(matches!(
            &p.rules[1].assert,
            Assertion::Metadata(MetadataAssert { test: MetadataTest::ListsOutside(_), if_present: false, .. })
        ));
        assert_eq!(p.rules[1].level, RuleLevel::Info);
        let e = parse(&format!(
            "{HEAD}rules:\n  - {{ id: a, title: A, level: fail, citation: X, assert: {{ metadata: {{ key: k, contains_any: [] }} }} }}\n"
        ))
        .unwrap_err();
        assert!(e.contains("`contains_any` needs at least one value"), "{e}");
        let e = parse(&format!("{HEAD}rules:\n  - {{ id: a, title: A, level: fail, citation: X, assert: {{ metadata: {{ key: k, contains_any: [a], lists_outside: [a] }} }} }}\n")).unwrap_err();
        assert!(e.contains("exactly one"), "{e}");
        let p = parse(&format!(
            "{HEAD}rules:\n  - {{ id: a, title: A, level: fail, citation: X, assert: {{ tls12_suites: {{ rfc9325: must_not }} }} }}\n"
        ))
        .unwrap();
        assert_eq!(p.rules[0].assert, Assertion::Tls12Suites(Tls12SuitesAssert { rfc9325: Rfc9325Statement::MustNot }));
        let e = parse(&format!(
            "{HEAD}rules:\n  - {{ id: a, title: A, level: fail, citation: X, assert: {{ tls12_suites: {{ rfc9325: may }} }} }}\n"
        ))
        .unwrap_err();
        assert!(e.contains("unknown variant `may`"), "{e}");
    }

    #[test]
    fn a_tls_section_is_validated_at_load() {
        let e = parse(&format!(
            "{HEAD}tls:\n  tls12_suites: {{ only: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_999], citation: X }}\n"
        ))
        .unwrap_err();
        assert!(e.contains("`TLS_RSA_WITH_AES_999` is not an IANA TLS cipher suite name"), "{e}");
        let e = parse(&format!("{HEAD}tls:\n  renegotiation: {{ refuse: true, citation: X }}\n")).unwrap_err();
        assert!(e.contains("unknown field `refuse`") && e.contains("profiles/t.yaml:"), "{e}");
        let e = parse(&format!("{HEAD}tls:\n  tls12_suites: {{ only: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], accepts: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384], citation: X }}\n")).unwrap_err();
        assert!(e.contains("`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384` is not in `only`"), "{e}");
        let e = parse(&format!("{HEAD}tls:\n  key_sizes: {{ citation: X }}\n")).unwrap_err();
        assert!(e.contains("give `rsa`, `ec`, `dhe` or several"), "{e}");
        let e = parse(&format!("{HEAD}tls:\n  cert_request: {{ citation: X }}\n")).unwrap_err();
        assert!(e.contains("give `required`, `forbidden` or both"), "{e}");
        let e = parse(&format!(
            "{HEAD}rules:\n  - {{ id: r, title: R, level: off, citation: X, assert: {{ metadata: {{ key: k, present: true }} }} }}\n"
        ))
        .unwrap_err();
        assert!(e.contains("only applies to `levels:`"), "{e}");
    }

    #[test]
    fn rules_come_from_every_profile_that_sets_them_else_bcp195() {
        let none = tls_rules(&[]);
        assert_eq!(none.suites.len(), 1);
        assert_eq!(none.suites[0].profile, None);
        assert_eq!(none.suites[0].rule.only, crate::tls_policy::BCP195_SUITES.map(str::to_string).to_vec());
        assert!(none.cert_request.is_empty(), "no default keeps endpoints off mTLS");
        assert!(!none.renegotiation[0].rule.refused);
        assert_eq!(
            (none.key_sizes[0].profile.as_deref(), none.key_sizes[0].rule.rsa, none.key_sizes[0].rule.dhe),
            (None, Some(2048), Some(2048))
        );
        let br = parse(&format!("{HEAD}tls:\n  renegotiation: {{ refused: true, citation: 'OFB §6.2.2-3' }}\n")).unwrap();
        let rules = tls_rules(&[br]);
        assert_eq!(rules.renegotiation.len(), 1);
        assert!(rules.renegotiation[0].rule.refused);
        assert_eq!(rules.renegotiation[0].source(&rules.renegotiation[0].rule.citation), "t (OFB §6.2.2-3)");
        assert_eq!(rules.suites[0].profile, None, "aspects the profile leaves out keep the default");
        let built_in = builtin().unwrap();
        let fapi: Vec<Profile> = built_in.into_iter().filter(|p| p.id.0 == "fapi2-sp-mtls" || p.id.0 == "fapi1-advanced").collect();
        let both = tls_rules(&fapi);
        assert_eq!(both.suites.len(), 2, "each profile's list is judged");
        assert!(both.suites.iter().all(|s| s.profile.is_some() && s.rule.except == ["authorization_endpoint"]));
    }
}
