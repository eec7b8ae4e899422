//! The last line of defence against leaking credentials: every secret a run obtains or sends
//! (access, refresh and ID tokens, codes, verifiers, client secrets, assertions, cookies) is
//! registered in that run's [`Secrets`], and everything the run writes for people — reports,
//! terminal lines, logs — is scrubbed of all of them. Field-name redaction (`http::redact`)
//! catches the expected places; this catches a token echoed under any other name.
//!
//! The registry belongs to one run (or one `serve`), is dropped with it, and is bounded: at most
//! [`MAX_SECRETS`] secrets and [`MAX_BYTES`] bytes. Inserting is O(1) amortised plus an
//! automaton rebuild whose cost doubles as rarely as the registry does (binary-counter levels of
//! automata over each secret's last bytes, confirmed against the whole secret); scanning takes a
//! snapshot of the levels and runs without the lock.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The shortest secret scrubbed wherever it appears, even inside a longer word. A shorter one
/// (a server may issue a 6-character code) is scrubbed only as a whole token-shaped word, so it
/// cannot eat ordinary words, and the report says how many there were.
pub const MIN_SECRET_LEN: usize = 8;

/// At most this many distinct secrets per registry.
pub const MAX_SECRETS: usize = 20_000;

/// At most this many bytes of secrets per registry.
pub const MAX_BYTES: usize = 16 << 20;

/// Once a registry is full, every token-shaped word at least this long is scrubbed: a secret
/// that could not be registered must not reach a report either.
const FULL_WORD_LEN: usize = 16;

/// Characters of the words a short secret (and, when full, any long token) is matched as:
/// RFC 3986 unreserved, base64 (`+/=`) and percent-encoding.
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=' | '%')
}

/// How many trailing bytes of a secret its automaton searches for; a hit is then confirmed
/// against the whole secret. Tokens are long (a JWT is hundreds of bytes) and random at the end:
/// an automaton over whole tokens costs ~20 KB of memory per token, one over their tails a
/// fraction of that.
const ANCHOR: usize = 16;

fn anchor(secret: &str) -> &[u8] {
    &secret.as_bytes()[secret.len().saturating_sub(ANCHOR)..]
}

/// Secrets matched anywhere, in levels of 1, 2, 4, … secrets; two levels of one size merge.
struct Level {
    patterns: Vec<Arc<str>>,
    matcher: AhoCorasick,
}

impl Level {
    /// A contiguous NFA over the secrets' anchors: built in time linear in their bytes, scanned in
    /// time linear in the text.
    fn new(patterns: Vec<Arc<str>>) -> Option<Level> {
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(patterns.iter().map(|p| anchor(p)))
            .ok()?;
        Some(Level { patterns, matcher })
    }

    /// Where whole secrets of this level occur in `text` (overlaps included).
    fn spans<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (usize, usize)> + 'a {
        self.matcher.find_overlapping_iter(text).filter_map(move |m| {
            let secret = self.patterns[m.pattern().as_usize()].as_bytes();
            let start = m.end().checked_sub(secret.len())?;
            (text.as_bytes().get(start..m.end()) == Some(secret)).then_some((start, m.end()))
        })
    }
}

#[derive(Default)]
struct Registry {
    known: HashSet<Arc<str>>,
    levels: Vec<Arc<Level>>,
    words: Arc<HashSet<Arc<str>>>,
    bytes: usize,
    dropped: usize,
}

/// What a registry held, for the report: counts only, never a secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Distinct secrets registered.
    pub secrets: usize,
    /// Of those, how many were shorter than [`MIN_SECRET_LEN`] and scrubbed as whole words only.
    pub short: usize,
    /// Secrets not registered because the registry was full; when non-zero, every token-shaped
    /// word of 16 or more characters is scrubbed too.
    pub dropped: usize,
}

impl Tally {
    /// Nothing worth telling a reader: no short secret, none dropped.
    pub fn is_quiet(&self) -> bool {
        self.short == 0 && self.dropped == 0
    }

    /// What a reader of a report must know about how it was scrubbed: one sentence per
    /// limitation, none when there is none.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.short > 0 {
            notes.push(format!(
                "{} secret{} shorter than {MIN_SECRET_LEN} bytes (tokens or codes the server issued) {} scrubbed only where \
                 {} a whole word; RFC 6749 §10.10 expects tokens an attacker cannot guess",
                self.short,
                if self.short == 1 { "" } else { "s" },
                if self.short == 1 { "is" } else { "are" },
                if self.short == 1 { "it stands as" } else { "they stand as" },
            ));
        }
        if self.dropped > 0 {
            notes.push(format!(
                "{} secret{} could not be registered (a run holds at most {MAX_SECRETS} secrets, {} MiB); every \
                 token-shaped word of {FULL_WORD_LEN} or more characters is scrubbed instead",
                self.dropped,
                if self.dropped == 1 { "" } else { "s" },
                MAX_BYTES >> 20,
            ));
        }
        notes
    }
}

/// One run's secrets. Cloning shares the registry.
#[derive(Clone, Default)]
pub struct Secrets(Arc<RwLock<Registry>>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({:?})", self.tally())
    }
}

impl Secrets {
    /// An empty registry.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Remember a secret for scrubbing.
    pub fn register(&self, secret: &str) {
        let secret = secret.trim();
        if secret.is_empty() || secret == REDACTED {
            return;
        }
        // Most registrations repeat a known secret (a token sent with every request): a shared
        // lock answers those without queueing behind writers.
        if self.0.read().unwrap_or_else(|p| p.into_inner()).known.contains(secret) {
            return;
        }
        let mut reg = self.0.write().unwrap_or_else(|p| p.into_inner());
        if reg.known.contains(secret) {
            return;
        }
        if reg.known.len() >= MAX_SECRETS || reg.bytes + secret.len() > MAX_BYTES {
            reg.dropped += 1;
            return;
        }
        let secret: Arc<str> = Arc::from(secret);
        reg.known.insert(secret.clone());
        reg.bytes += secret.len();
        if secret.len() < MIN_SECRET_LEN && secret.chars().all(token_char) {
            Arc::make_mut(&mut reg.words).insert(secret);
            return;
        }
        // Merge the new secret with every trailing level of the same size (binary counter). The
        // merged level is built before the old ones are dropped: if it cannot be built (beyond
        // aho-corasick's limits), the old levels stay and only this secret counts as dropped.
        let mut patterns = vec![secret];
        let mut keep = reg.levels.len();
        while keep > 0 && reg.levels[keep - 1].patterns.len() == patterns.len() {
            keep -= 1;
            patterns.extend(reg.levels[keep].patterns.iter().cloned());
        }
        match Level::new(patterns) {
            Some(level) => {
                reg.levels.truncate(keep);
                reg.levels.push(Arc::new(level));
            }
            None => reg.dropped += 1,
        }
    }

    /// Remember a client secret in every form it may travel or be echoed in: raw, form-urlencoded
    /// and percent-encoded (RFC 6749 §2.3.1, Appendix B), inside the `Basic` credential
    /// (base64 of `id:secret`, encoded and not), JSON-escaped and HTML-escaped.
    pub fn register_credential(&self, client_id: &str, secret: &str) {
        use base64::Engine;
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let json = serde_json::to_string(secret).map(|j| j.trim_matches('"').to_string()).unwrap_or_default();
        let html = secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;")
            .replace('/', "&#x2f;");
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        for form_of in [
            secret.to_string(),
            form(secret),
            percent_encode_all(secret),
            json,
            html,
            b64(format!("{}:{}", form(client_id), form(secret))),
            b64(format!("{client_id}:{secret}")),
        ] {
            self.register(&form_of);
        }
    }

    /// How many secrets this registry holds, how many are short, how many it had to drop.
    pub fn tally(&self) -> Tally {
        let reg = self.0.read().unwrap_or_else(|p| p.into_inner());
        Tally { secrets: reg.known.len(), short: reg.words.len(), dropped: reg.dropped }
    }

    /// `text` with every registered secret replaced by `[redacted]`. Overlapping secrets are
    /// covered together, so no part of either survives.
    pub fn scrub(&self, text: &str) -> String {
        let (levels, words, full) = {
            let reg = self.0.read().unwrap_or_else(|p| p.into_inner());
            (reg.levels.clone(), reg.words.clone(), reg.dropped > 0)
        };
        if text.is_empty() || (levels.is_empty() && words.is_empty() && !full) {
            return text.to_string();
        }
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for level in &levels {
            spans.extend(level.spans(text));
        }
        if !words.is_empty() || full {
            let mut start = None;
            for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
                match (token_char(c), start) {
                    (true, None) => start = Some(i),
                    (false, Some(s)) => {
                        let w = &text[s..i];
                        if words.contains(w) || (full && w.len() >= FULL_WORD_LEN) {
                            spans.push((s, i));
                        }
                        start = None;
                    }
                    _ => {}
                }
            }
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < spans.len() {
            let (s, mut e) = spans[i];
            i += 1;
            while i < spans.len() && spans[i].0 <= e {
                e = e.max(spans[i].1);
                i += 1;
            }
            out.push_str(&text[at..s]);
            out.push_str(REDACTED);
            at = e;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// Every byte outside the RFC 3986 unreserved set percent-encoded.
fn percent_encode_all(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Form parameters whose values are credentials or tokens (RFC 6749, RFC 7009, RFC 7662, RFC 7523).
const SECRET_PARAMS: &[&str] =
    &["client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "token", "assertion", "password", "access_token"];

/// Whether a form or query parameter carries a credential.
pub fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.contains(&name)
}

/// Parse an `application/x-www-form-urlencoded` body with secret values redacted (and registered
/// in `secrets`).
pub fn redacted_form(body: &[u8], secrets: &Secrets) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                secrets.register(&v);
                REDACTED.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_secret_is_scrubbed_in_every_form_it_travels_in() {
        use base64::Engine;
        let secrets = Secrets::new();
        let secret = "CANARY\"s3cret/<&> +=";
        secrets.register_credential("tpp:one", secret);
        let basic = base64::engine::general_purpose::STANDARD.encode("tpp%3Aone:CANARY%22s3cret%2F%3C%26%3E+%2B%3D");
        for echoed in [
            secret.to_string(),
            "CANARY%22s3cret%2F%3C%26%3E+%2B%3D".to_string(),
            "CANARY%22s3cret%2F%3C%26%3E%20%2B%3D".to_string(),
            r#"CANARY\"s3cret/<&> +="#.to_string(),
            "CANARY&quot;s3cret&#x2f;&lt;&amp;&gt; +=".to_string(),
            basic,
        ] {
            let out = secrets.scrub(&format!("server said: {echoed}."));
            assert_eq!(out, "server said: [redacted].", "{echoed}");
        }
    }

    #[test]
    fn registered_secrets_are_scrubbed_wherever_they_appear_and_short_ones_as_words() {
        let secrets = Secrets::new();
        secrets.register("tok-ABCDEFGH-123");
        secrets.register("short");
        let s = secrets.scrub(r#"{"echo":"xtok-ABCDEFGH-123x","n":"short","w":"shortly"} tok-ABCDEFGH-123"#);
        assert_eq!(s, r#"{"echo":"x[redacted]x","n":"[redacted]","w":"shortly"} [redacted]"#);
        assert_eq!(secrets.tally(), Tally { secrets: 2, short: 1, dropped: 0 });
    }

    #[test]
    fn registries_are_per_run() {
        let (a, b) = (Secrets::new(), Secrets::new());
        a.register("only-in-run-a-0001");
        assert_eq!(b.scrub("only-in-run-a-0001"), "only-in-run-a-0001");
        assert_eq!(a.scrub("only-in-run-a-0001"), REDACTED);
        assert_eq!(a.clone().scrub("only-in-run-a-0001"), REDACTED, "clones share the registry");
    }

    #[test]
    fn secrets_sharing_their_last_bytes_are_each_confirmed_whole() {
        let secrets = Secrets::new();
        for p in ["AAAA", "BBBB", "CCCC"] {
            secrets.register(&format!("{p}-shared-tail-0123456789abcdef"));
        }
        let out =
            secrets.scrub("x BBBB-shared-tail-0123456789abcdef y CCCC-shared-tail-0123456789abcdef z DDDD-shared-tail-0123456789abcdef");
        assert_eq!(out, "x [redacted] y [redacted] z DDDD-shared-tail-0123456789abcdef");
        assert_eq!(secrets.scrub("0123456789abcdef"), "0123456789abcdef", "a tail alone is not the secret");
    }

    #[test]
    fn overlapping_secrets_leave_no_part_of_either() {
        let secrets = Secrets::new();
        secrets.register("AAAABBBB");
        secrets.register("BBBBCCCC");
        secrets.register("CCCCDDDD");
        assert_eq!(secrets.scrub("<AAAABBBBCCCCDDDD>"), "<[redacted]>");
    }

    #[test]
    fn every_secret_of_a_large_registry_is_found_and_text_without_them_is_unchanged() {
        let secrets = Secrets::new();
        let all: Vec<String> = (0..3000).map(|i| format!("secret-{i:05}-{}", "x".repeat(i % 40))).collect();
        for s in &all {
            secrets.register(s);
        }
        for s in all.iter().step_by(37) {
            assert_eq!(secrets.scrub(&format!("é {s} é")), "é [redacted] é", "{s}");
        }
        assert_eq!(secrets.scrub("nothing to see — ünïcode"), "nothing to see — ünïcode");
        assert_eq!(secrets.tally().secrets, 3000);
    }

    #[test]
    fn a_full_registry_says_so_and_scrubs_every_long_token() {
        let secrets = Secrets::new();
        for i in 0..MAX_SECRETS {
            secrets.register(&format!("k{i:09}"));
        }
        secrets.register("one-too-many-secret-value");
        assert_eq!(secrets.tally().dropped, 1);
        assert_eq!(secrets.scrub("x one-too-many-secret-value y ok"), "x [redacted] y ok");
        assert_eq!(secrets.scrub("k000000042"), REDACTED);
    }

    #[test]
    fn form_secrets_are_redacted_registered_and_the_rest_kept() {
        let secrets = Secrets::new();
        let form = redacted_form(b"grant_type=client_credentials&client_id=c1&client_secret=s3cr3t-value&refresh_token=rt", &secrets);
        assert_eq!(form[0], ("grant_type".into(), "client_credentials".into()));
        assert_eq!(form[1], ("client_id".into(), "c1".into()));
        assert_eq!(form[2].1, REDACTED);
        assert_eq!(form[3].1, REDACTED);
        assert_eq!(secrets.scrub("s3cr3t-value rt"), "[redacted] [redacted]");
    }
}
