//! Rewrites a Go (RE2) pattern into one the `regex` crate reads the same way.
//!
//! The two syntaxes are close; the differences that change what a pattern
//! matches, and what this rewrite does about each:
//!
//! | construct | Go | `regex` crate | rewrite |
//! |---|---|---|---|
//! | `\d \w \s` and negations | ASCII only | Unicode | explicit ASCII classes |
//! | `\b \B` | ASCII word boundary | Unicode | `(?-u:\b)` |
//! | `\Q…\E` | literal text | error | escaped literal |
//! | `{` not starting `{n}`, `{n,}`, `{n,m}` | literal `{` | error (or `{,m}`) | `\{` |
//! | `{n,m}` above 1000 | error | allowed | error, as Go |
//! | `[` inside a class | literal | nested class | `\[` |
//! | `&&`, `~~` inside a class | literal | set operations | escaped |
//! | `\<`, `\>`, `\_`, other escaped ASCII punctuation | the character | word boundaries, or an error | the character, escaped |
//!
//! What stays different: flags Go lacks (`x`, `u`, `R`) and the escapes
//! `\u…`, `\U…` compile here but not in Go; `--` inside a class is a range
//! in Go and a set difference here; Unicode tables may be of different
//! Unicode versions.

/// Returns the pattern rewritten for the `regex` crate, or why Go would
/// refuse it.
pub(super) fn translate(pattern: &str, max_repeat: u32) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.char_indices().peekable();
    let mut in_class = false;
    // Position just after a class's opening `[` or `[^`, where `]` is literal.
    let mut class_start = false;
    while let Some((i, c)) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err("trailing backslash at end of expression".to_owned());
                };
                match e {
                    'Q' => {
                        let rest = &pattern[i + 2..];
                        let (lit, consumed) = match rest.find("\\E") {
                            Some(end) => (&rest[..end], end + 2),
                            None => (rest, rest.len()),
                        };
                        for l in lit.chars() {
                            push_literal(&mut out, l);
                        }
                        let stop = i + 2 + consumed;
                        while chars.peek().is_some_and(|&(j, _)| j < stop) {
                            chars.next();
                        }
                    }
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                        let class = match e.to_ascii_lowercase() {
                            'd' => "0-9",
                            'w' => "0-9A-Za-z_",
                            _ => r"\t\n\x0C\r ",
                        };
                        let neg = if e.is_ascii_uppercase() { "^" } else { "" };
                        out.push('[');
                        out.push_str(neg);
                        out.push_str(class);
                        out.push(']');
                    }
                    'b' | 'B' if !in_class => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    'p' | 'P' | 'x' => {
                        out.push('\\');
                        out.push(e);
                        // Copy a braced argument whole, so its `{` is not
                        // taken for a repetition below.
                        if chars.peek().is_some_and(|&(_, n)| n == '{') {
                            for (_, n) in chars.by_ref() {
                                out.push(n);
                                if n == '}' {
                                    break;
                                }
                            }
                        }
                    }
                    // Go reads `\` before any ASCII punctuation as that
                    // character; the `regex` crate gives some of them a
                    // meaning (`\<`, `\>` are word boundaries there).
                    _ if e.is_ascii() && !e.is_ascii_alphanumeric() => push_literal(&mut out, e),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek().is_some_and(|&(_, n)| n == '^') {
                    chars.next();
                    out.push('^');
                }
            }
            '[' => {
                // `[:alpha:]` names an ASCII class in both syntaxes.
                if pattern[i..].starts_with("[:") {
                    if let Some(end) = pattern[i + 2..].find(":]") {
                        let stop = i + 2 + end + 2;
                        out.push_str(&pattern[i..stop]);
                        while chars.peek().is_some_and(|&(j, _)| j < stop) {
                            chars.next();
                        }
                        continue;
                    }
                }
                out.push_str("\\[");
            }
            ']' if in_class && at_class_start => out.push_str("\\]"),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '{' if !in_class => match repetition(&pattern[i..]) {
                Some((len, counts)) => {
                    if counts.iter().flatten().any(|&n| n > max_repeat) {
                        return Err(format!("invalid repeat count: `{}`", &pattern[i..i + len]));
                    }
                    out.push_str(&pattern[i..i + len]);
                    while chars.peek().is_some_and(|&(j, _)| j < i + len) {
                        chars.next();
                    }
                }
                None => out.push_str("\\{"),
            },
            _ => out.push(c),
        }
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// If `s` starts with a Go repetition `{n}`, `{n,}` or `{n,m}`, its length
/// and counts. Counts too large for `u32` are reported as `u32::MAX`.
fn repetition(s: &str) -> Option<(usize, [Option<u32>; 2])> {
    let body = s.strip_prefix('{')?;
    let close = body.find('}')?;
    let inner = &body[..close];
    let number = |t: &str| -> Option<u32> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(t.parse().unwrap_or(u32::MAX))
    };
    let counts = match inner.split_once(',') {
        None => [Some(number(inner)?), None],
        Some((lo, "")) => [Some(number(lo)?), None],
        Some((lo, hi)) => [Some(number(lo)?), Some(number(hi)?)],
    };
    Some((close + 2, counts))
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn go_matches(pattern: &str, value: &str) -> bool {
        let t = translate(pattern, 1000).unwrap();
        regex::Regex::new(&format!("^(?s:{t})$"))
            .unwrap_or_else(|e| panic!("{pattern:?} -> {t:?}: {e}"))
            .is_match(value)
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(go_matches(r"\d+", "123"));
        assert!(!go_matches(r"\d", "٣")); // ARABIC-INDIC DIGIT THREE
        assert!(!go_matches(r"\w", "é"));
        assert!(go_matches(r"\W", "é"));
        assert!(!go_matches(r"\s", "\u{a0}"));
        assert!(go_matches(r"[\d\s]+", "1 2"));
        assert!(go_matches(r"[^\d]", "x"));
        assert!(!go_matches(r"[^\d]", "1"));
        assert!(go_matches(r"[\D]", "é"));
        // é is no word character to Go: no boundary after it, one before it.
        assert!(!go_matches(r"é\b", "é"));
        assert!(go_matches(r"x\bé", "xé"));
    }

    #[test]
    fn literal_braces_and_quoting() {
        assert!(go_matches(r"a{b}", "a{b}"));
        assert!(go_matches(r"a{,3}", "a{,3}"));
        assert!(go_matches(r"a{2}", "aa"));
        assert!(go_matches(r"a{2,}", "aaa"));
        assert!(go_matches(r"\Qa.b*\E+", "a.b**"));
        assert!(go_matches(r"\Q(x", "(x"));
        assert!(go_matches(r"\p{Greek}+", "αβ"));
        assert!(go_matches(r"\x{41}", "A"));
        assert!(translate("a{1001}", 1000).is_err());
        assert!(translate("a{2,1001}", 1000).is_err());
    }

    #[test]
    fn escaped_punctuation_is_literal() {
        for c in (0x20u8..0x7f)
            .map(char::from)
            .filter(|c| !c.is_ascii_alphanumeric())
        {
            let p = format!("\\{c}");
            assert!(go_matches(&p, &c.to_string()), "{p:?}");
            let class = format!("[\\{c}]");
            assert!(go_matches(&class, &c.to_string()), "{class:?}");
        }
        assert!(go_matches(r"\<a\>", "<a>"));
        assert!(go_matches(r"a\b{start}", "a{start}"));
    }

    #[test]
    fn classes_keep_go_meaning() {
        assert!(go_matches(r"[[]", "["));
        assert!(go_matches(r"[]a]+", "]a"));
        assert!(go_matches(r"[a&&b]+", "a&b"));
        assert!(go_matches(r"[~~]", "~"));
        assert!(go_matches(r"[[:alpha:]]+", "ab"));
        assert!(go_matches(r"[^[:alpha:]]", "1"));
        assert!(go_matches(r"[a-z]+", "abc"));
    }
}
