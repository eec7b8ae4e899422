//! Text from outside (a server's fields, a file's contents) made inert for a terminal or a CI
//! log: control characters (C0, DEL, C1) and bidirectional overrides escaped visibly, so nothing
//! can clear the screen, forge a line, or start a GitHub Actions workflow command (`::` at the
//! start of a line); and long texts cut with a count of what was left out.

/// `s` with every control character and bidi override written as a visible escape (`\x1b`, `\n`,
/// `\u{202e}`): printed, it stays on one line and does nothing.
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (0x80..0xa0).contains(&(c as u32)) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `s` cut to at most `max` characters, saying how many were left out.
pub fn cap(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({} more characters; the full text is in the reports)", n - max)
}

/// Items joined with `sep`, at most `max` of them, then "… and N more".
pub fn list<S: AsRef<str>>(items: &[S], sep: &str, max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let mut out = shown.join(sep);
    if items.len() > max {
        out.push_str(&format!("{sep}… and {} more", items.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_or_ci_log_would_act_on() {
        let hostile = "x\u{1b}[2J\n[ 99/99] pass forged\r\n::error::pwned\u{7}\u{9b}31m\u{202e}txt.exe";
        let safe = inert(hostile);
        assert!(!safe.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)), "{safe}");
        assert!(!safe.contains('\n') && safe.contains("\\x1b[2J") && safe.contains("\\n::error::pwned"), "{safe}");
        assert_eq!(inert("plain text: é ✓"), "plain text: é ✓");
    }

    #[test]
    fn caps_and_lists_say_what_was_left_out() {
        assert_eq!(cap("abcdef", 3), "abc… (3 more characters; the full text is in the reports)");
        assert_eq!(cap("abc", 3), "abc");
        let keys: Vec<String> = (0..10_000).map(|i| format!("k{i}")).collect();
        assert_eq!(list(&keys, ", ", 3), "k0, k1, k2, … and 9997 more");
        assert_eq!(list(&["a", "b"], "; ", 3), "a; b");
    }
}
