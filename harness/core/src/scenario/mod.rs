//! Scenario YAML: the model, loading every `scenarios/**/*.yaml`, and validation. Every error
//! names the file and, where the YAML parser knows it, line and column.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod client;
mod defects;
mod registration;

pub use client::{ClientUnderTest, Misbehaviour, Step};
pub use defects::Defect;
pub use registration::{
    default_specs, AuthMethod, ClientSpec, TlsMatch, DEFAULT_REDIRECT_URI, JWT_CLIENT_ID, PUBLIC_CLIENT_ID, SECRET_CLIENT_ID,
    SECRET_POST_CLIENT_ID, SELF_SIGNED_CLIENT_ID, TLS_CLIENT_ID,
};

use crate::catalogue as checks;
use crate::discovery::{Malformed, Shape, MTLS_ENDPOINT_KEYS};

/// Why a scenario (or target) file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The YAML does not parse or does not fit the model, at a known place.
    #[error("{file}:{line}:{column}: {msg}")]
    Syntax {
        /// The file.
        file: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// What is wrong there.
        msg: String,
    },
    /// The file parses but breaks a rule of the model (or the parser gave no location).
    #[error("{file}: {msg}")]
    Invalid {
        /// The file.
        file: String,
        /// Which rule, and how to fix it.
        msg: String,
    },
    /// The file or directory could not be read.
    #[error("{path}: {msg}")]
    Io {
        /// The path that could not be read.
        path: String,
        /// The I/O error.
        msg: String,
    },
}

/// Which side the harness plays (defined with the catalogue, whose checks each play one side).
pub use crate::catalogue::Mode;

/// A scenario's `discovery:` section: what the mock AS publishes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySpec {
    /// What the mock AS publishes; a live target's own discovery decides its shape.
    pub shape: Shape,
    /// Endpoint names aliased in `mtls_endpoint_aliases` (default: every mTLS endpoint the mock serves).
    #[serde(default)]
    pub aliased: Option<Vec<String>>,
    /// For shape `malformed`: which way the aliases are broken.
    #[serde(default)]
    pub malformed: Option<Malformed>,
    /// `tls_client_certificate_bound_access_tokens` (RFC 8705 §3.3).
    #[serde(default = "yes")]
    pub bound_access_tokens: bool,
}

fn yes() -> bool {
    true
}

/// A scenario's `mock:` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    /// Planted defects: each switches off exactly one behaviour of the mock AS.
    #[serde(default)]
    pub defects: Vec<Defect>,
}

/// A scenario's `expect:` section: the outcomes a self-test plants.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Check ids that must end `fail` (self-tests). Every other selected check must not fail.
    #[serde(default)]
    pub fail: Vec<String>,
    /// Check ids that must end `warn` (self-tests of SHOULD-level findings).
    #[serde(default)]
    pub warn: Vec<String>,
    /// Check ids that must end `blocked`: the refusals whose positive control the planted defect
    /// breaks must not pass.
    #[serde(default)]
    pub blocked: Vec<String>,
}

/// One scenario file: what to stand up (or target), which checks to run, what to expect.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique id: letters, digits, `-` and `_`.
    pub id: String,
    /// One line for reports.
    pub title: String,
    /// Which side the harness plays.
    pub mode: Mode,
    /// What the mock AS publishes in discovery.
    pub discovery: DiscoverySpec,
    /// Defects planted in the mock AS.
    #[serde(default)]
    pub mock: MockSpec,
    /// Client registrations of the mock AS (default: one client per authentication method).
    #[serde(default)]
    pub clients: Option<Vec<ClientSpec>>,
    /// The client the binding, introspection, PAR and revocation checks act as.
    #[serde(default)]
    pub primary: crate::catalogue::Primary,
    /// Profiles (`profiles/*.yaml` ids) whose rules this scenario also judges.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Client mode: the client under test and what it should do.
    #[serde(default)]
    pub client: Option<ClientUnderTest>,
    /// Check ids or globs (`auth.*`); the run keeps catalogue order.
    pub checks: Vec<String>,
    /// Outcomes the scenario plants (self-tests); empty: every check must not fail.
    #[serde(default)]
    pub expect: Expect,
    /// The file this scenario came from (set by the loader).
    #[serde(skip)]
    pub file: PathBuf,
    /// Built from a live target file: the target's discovery decides the shape.
    #[serde(skip)]
    pub live: bool,
}

impl Scenario {
    /// The scenario `serve --judge` judges: the client checks against whatever client came.
    pub fn for_judging(shape: crate::discovery::Shape) -> Scenario {
        let mut sc = Scenario::client_checks("serve-judge", "A client run by hand against `mtls-harness serve`", "serve");
        sc.live = false;
        sc.discovery.shape = shape;
        sc
    }

    /// The scenario of `mtls-harness observe`: the client checks of a real client against a real
    /// AS, judged from the proxy's journal.
    pub fn for_observing() -> Scenario {
        Scenario::client_checks("observe", "A real client against a real AS, through the observe proxy", "observe")
    }

    /// A client-mode scenario `id` running every client check, named `file` in reports (no file).
    fn client_checks(id: &str, title: &str, file: &str) -> Scenario {
        let mut sc = Scenario::for_live_target(id, title, vec!["client.*".into()], Path::new(file));
        sc.mode = Mode::Client;
        sc
    }

    /// The scenario of a live run: the given checks against the target; no mock, no defects.
    pub fn for_live_target(id: &str, title: &str, checks: Vec<String>, file: &Path) -> Scenario {
        Scenario {
            id: id.to_string(),
            title: title.to_string(),
            mode: Mode::As,
            discovery: DiscoverySpec { shape: crate::discovery::Shape::Missing, aliased: None, malformed: None, bound_access_tokens: true },
            mock: MockSpec::default(),
            clients: None,
            primary: crate::catalogue::Primary::default(),
            profiles: Vec::new(),
            client: None,
            checks,
            expect: Expect::default(),
            file: file.to_path_buf(),
            live: true,
        }
    }

    /// The selected check ids, in catalogue order.
    pub fn selected_checks(&self) -> Vec<&'static str> {
        checks::select(&self.checks, self.mode)
    }

    /// Whether `expect.fail` names `check_id`.
    pub fn expects_fail(&self, check_id: &str) -> bool {
        self.expect.fail.iter().any(|f| f == check_id)
    }

    /// Whether `expect.warn` names `check_id`.
    pub fn expects_warn(&self, check_id: &str) -> bool {
        self.expect.warn.iter().any(|f| f == check_id)
    }

    /// Whether `expect.blocked` names `check_id`.
    pub fn expects_blocked(&self, check_id: &str) -> bool {
        self.expect.blocked.iter().any(|f| f == check_id)
    }

    /// Whether this is a self-test: it plants defects and names the checks that must catch them.
    pub fn is_self_test(&self) -> bool {
        let misbehaves = self.client.as_ref().is_some_and(|c| !c.misbehave.is_empty());
        !self.mock.defects.is_empty()
            || misbehaves
            || !self.expect.fail.is_empty()
            || !self.expect.warn.is_empty()
            || !self.expect.blocked.is_empty()
    }

    /// Parse one scenario from YAML text; `file` is only used in error messages.
    pub fn parse(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
        let name = file.display().to_string();
        let mut sc: Scenario = serde_yaml::from_str(text).map_err(|e| syntax_error(&name, &e))?;
        sc.file = file.to_path_buf();
        sc.canonicalise();
        sc.validate().map_err(|msg| ScenarioError::Invalid { file: name, msg })?;
        Ok(sc)
    }

    /// Read and parse one scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io { path: path.display().to_string(), msg: e.to_string() })?;
        Scenario::parse(&text, path)
    }

    /// Old check ids (`catalogue::RENAMED`) in `expect` replaced by their current ones.
    fn canonicalise(&mut self) {
        for list in [&mut self.expect.fail, &mut self.expect.warn, &mut self.expect.blocked] {
            for id in list.iter_mut() {
                *id = checks::canonical(id).to_string();
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("id `{}` must be non-empty and use only letters, digits, '-' and '_'", self.id));
        }
        match (self.mode, &self.client) {
            (Mode::As, Some(_)) => return Err("`client:` only applies to `mode: client`".into()),
            (Mode::Client, None) => return Err("`mode: client` needs a `client:` section (command, steps)".into()),
            (Mode::Client, Some(c)) => c.validate()?,
            _ => {}
        }
        if self.checks.is_empty() {
            return Err("`checks` is empty: name check ids or globs such as `auth.*` (see `mtls-harness list`)".into());
        }
        for pattern in &self.checks {
            if checks::select(std::slice::from_ref(pattern), self.mode).is_empty() {
                return Err(format!(
                    "check `{pattern}` matches no {} check in the catalogue (see `mtls-harness list`)",
                    if self.mode == Mode::As { "AS-mode" } else { "client-mode" }
                ));
            }
        }
        let planned: Vec<&str> = checks::plan(&self.selected_checks(), self.primary).iter().map(|c| c.id).collect();
        for id in self.expect.fail.iter().chain(&self.expect.warn).chain(&self.expect.blocked) {
            // A profile rule (`profile.<profile>.<rule>`) of a profile the scenario judges.
            let profile_rule =
                id.strip_prefix("profile.").and_then(|r| r.split_once('.')).is_some_and(|(p, _)| self.profiles.iter().any(|q| q == p));
            if !planned.contains(&id.as_str()) && !profile_rule {
                return Err(format!("expect names `{id}`, which is not among the selected checks or what they need"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(id) = self.expect.fail.iter().chain(&self.expect.warn).chain(&self.expect.blocked).find(|id| !seen.insert(id.as_str()))
        {
            return Err(format!("expect names `{id}` more than once (under fail, warn or blocked)"));
        }
        if let Some(aliased) = &self.discovery.aliased {
            for name in aliased {
                if !MTLS_ENDPOINT_KEYS.contains(&name.as_str()) {
                    return Err(format!(
                        "discovery.aliased: `{name}` is not an endpoint the mock can alias (token_endpoint, pushed_authorization_request_endpoint, introspection_endpoint, revocation_endpoint, userinfo_endpoint)"
                    ));
                }
            }
        }
        match (self.discovery.shape, self.discovery.malformed) {
            (crate::discovery::Shape::Malformed, None) => {
                return Err("discovery.shape `malformed` needs `discovery.malformed`: not_object, relative_url, http_url, authorization_endpoint or non_endpoint_key".into())
            }
            (shape, Some(_)) if shape != crate::discovery::Shape::Malformed => {
                return Err(format!("discovery.malformed only applies to shape `malformed`, not `{}`", shape.name()))
            }
            _ => {}
        }
        if let Some(clients) = &self.clients {
            for c in clients {
                c.validate()?;
            }
            let primary = self.primary.name();
            if !clients.iter().any(|c| c.auth.name() == primary) {
                return Err(format!(
                    "clients: register a {primary} client: it is the primary client (`primary: {primary}`) the binding, PAR, introspection and revocation checks act as"
                ));
            }
        }
        Ok(())
    }
}

/// A YAML error of `file` as a [`ScenarioError`], with its line and column in front when known.
pub fn syntax_error(file: &str, e: &serde_yaml::Error) -> ScenarioError {
    let msg = e.to_string();
    // serde_yaml appends " at line L column C"; we put the location in front instead.
    let msg = match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    match e.location() {
        Some(loc) => ScenarioError::Syntax { file: file.to_string(), line: loc.line(), column: loc.column(), msg },
        None => ScenarioError::Invalid { file: file.to_string(), msg },
    }
}

/// Load every `*.yaml` / `*.yml` under `dir` (recursively), sorted by path. Ids must be unique.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    if !dir.is_dir() {
        return Err(ScenarioError::Io { path: dir.display().to_string(), msg: "not a directory".into() });
    }
    let mut files = Vec::new();
    collect_yaml(dir, &mut files)?;
    files.sort();
    let mut out: Vec<Scenario> = Vec::new();
    for f in files {
        let sc = Scenario::load(&f)?;
        if let Some(prev) = out.iter().find(|s| s.id == sc.id) {
            return Err(ScenarioError::Invalid {
                file: f.display().to_string(),
                msg: format!("scenario id `{}` is already used by {}", sc.id, prev.file.display()),
            });
        }
        out.push(sc);
    }
    if out.is_empty() {
        return Err(ScenarioError::Io { path: dir.display().to_string(), msg: "no scenario files (*.yaml) found".into() });
    }
    Ok(out)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let io = |e: std::io::Error| ScenarioError::Io { path: dir.display().to_string(), msg: e.to_string() };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "id: t\ntitle: T\nmode: as\ndiscovery:\n  shape: identical\nchecks: [\"auth.*\"]\n";

    #[test]
    fn parses_minimal_scenario_with_defaults() {
        let sc = Scenario::parse(GOOD, Path::new("t.yaml")).unwrap();
        assert!(sc.discovery.bound_access_tokens);
        assert!(sc.mock.defects.is_empty());
        assert!(sc.selected_checks().contains(&"auth.pki.accept"));
        assert!(!sc.selected_checks().contains(&"bind.token-cnf"));
    }

    #[test]
    fn unknown_key_names_file_line_column() {
        let text = GOOD.replace("mode: as\n", "mode: as\nmodee: as\n");
        let err = Scenario::parse(&text, Path::new("scenarios/x.yaml")).unwrap_err().to_string();
        assert!(err.starts_with("scenarios/x.yaml:4:1: unknown field `modee`"), "{err}");
    }

    #[test]
    fn nested_unknown_key_and_unknown_defect_are_located() {
        let text = GOOD.replace("  shape: identical\n", "  shape: identical\n  shpae: split\n");
        let err = Scenario::parse(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(err.starts_with("x.yaml:6:3: discovery: unknown field `shpae`"), "{err}");
        let text = format!("{GOOD}mock:\n  defects: [no_such_defect]\n");
        let err = Scenario::parse(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(err.starts_with("x.yaml:8:13: mock.defects[0]: unknown variant `no_such_defect`"), "{err}");
    }

    #[test]
    fn check_globs_must_match_and_expectations_must_be_selected() {
        let text = GOOD.replace("auth.*", "nope.*");
        let err = Scenario::parse(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(err.contains("`nope.*` matches no AS-mode check"), "{err}");
        let text = format!("{GOOD}expect:\n  fail: [bind.token-cnf]\n");
        let err = Scenario::parse(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(err.contains("not among the selected checks"), "{err}");
        let text = GOOD.replace("identical", "malformed");
        let err = Scenario::parse(&text, Path::new("x.yaml")).unwrap_err().to_string();
        assert!(err.contains("needs `discovery.malformed`"), "{err}");
    }
}
