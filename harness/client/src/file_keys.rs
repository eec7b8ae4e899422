//! Where a key of the user's target file is written, by line — so a failure that a wrong value
//! there explains as well as the server could names what to check: "`clients.tls_client_auth.
//! client_id` (target.yaml:21)". Block mappings by indentation and one-line flow mappings
//! (`tls_client_auth: { client_id: …, cert: … }`), as `init` and the README write them.

use std::sync::Arc;

/// A target file's name and text.
#[derive(Clone, Debug)]
pub struct FileKeys {
    name: String,
    text: Arc<str>,
}

impl FileKeys {
    /// The file `name` (as the user gave it) with its `text`.
    pub fn new(name: impl Into<String>, text: &str) -> FileKeys {
        FileKeys { name: name.into(), text: Arc::from(text) }
    }

    /// The 1-based line where the dotted `path` (`clients.tls_client_auth.client_id`) is set.
    pub fn line(&self, path: &str) -> Option<usize> {
        line_of(&self.text, &path.split('.').collect::<Vec<_>>())
    }

    /// "`path` (file:line)", or "`path` (not set in file)".
    pub fn at(&self, path: &str) -> String {
        match self.line(path) {
            Some(n) => format!("`{path}` ({}:{n})", self.name),
            None => format!("`{path}` (not set in {})", self.name),
        }
    }
}

/// The text of a line before a `#` comment outside quotes.
fn uncommented(line: &str) -> &str {
    let (mut single, mut double) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (i == 0 || line[..i].ends_with([' ', '\t'])) => return &line[..i],
            _ => {}
        }
    }
    line
}

/// A plain mapping key at the start of `s` (`key: …` or `key:` at the end), and the rest.
fn key_of(s: &str) -> Option<(&str, &str)> {
    let end = s.find(':')?;
    let key = s[..end].trim().trim_matches(['"', '\'']);
    let rest = &s[end + 1..];
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    (plain && (rest.is_empty() || rest.starts_with([' ', '\t']))).then_some((key, rest))
}

fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = uncommented(raw);
        if line.trim().is_empty() {
            continue;
        }
        let mut indent = line.len() - line.trim_start().len();
        let mut body = line.trim_start();
        if let Some(item) = body.strip_prefix("- ") {
            indent += 2;
            body = item;
        }
        let Some((key, rest)) = key_of(body) else { continue };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let here: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).chain([key]).collect();
        if here == path {
            return Some(n + 1);
        }
        // A one-line flow mapping: its keys are on this line.
        if let Some(flow) = rest.trim_start().strip_prefix('{') {
            for part in flow.trim_end().trim_end_matches('}').split(',') {
                if let Some((inner, _)) = key_of(part.trim_start()) {
                    if here.len() + 1 == path.len() && path[..here.len()] == here[..] && path[here.len()] == inner {
                        return Some(n + 1);
                    }
                }
            }
        }
        stack.push((indent, key.to_string()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_block_and_flow_mappings() {
        let text = "id: t\nissuer: https://as.example # the AS\nclients:\n  # the tls client\n  tls_client_auth:\n    client_id: tpp-1\n    cert: a.pem\n  self_signed: { client_id: ss-1, cert: ss.pem, key: ss.key }\n  redirect_uri: \"https://x/cb#frag\"\nresource: https://rs.example\n";
        let k = FileKeys::new("target.yaml", text);
        assert_eq!(k.line("issuer"), Some(2));
        assert_eq!(k.line("clients.tls_client_auth.client_id"), Some(6));
        assert_eq!(k.line("clients.tls_client_auth.cert"), Some(7));
        assert_eq!(k.line("clients.self_signed.cert"), Some(8));
        assert_eq!(k.line("clients.redirect_uri"), Some(9));
        assert_eq!(k.line("resource"), Some(10));
        assert_eq!(k.line("clients.tls_client_auth.key"), None);
        assert_eq!(k.line("client_id"), None, "only the full path");
        assert_eq!(k.at("clients.tls_client_auth.client_id"), "`clients.tls_client_auth.client_id` (target.yaml:6)");
        assert_eq!(k.at("scope"), "`scope` (not set in target.yaml)");
    }
}
