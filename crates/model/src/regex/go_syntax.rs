//! Rewrites a Go (RE2) pattern into one the `regex` crate reads the same way,
//! and refuses what Go refuses, with Go's messages. The differences, and what
//! this does about each, are listed in the parent module's documentation.

use super::Wrapping;

/// The ASCII class names of `[[:name:]]` that Go knows.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// A pattern ready for the `regex` crate, with its capture group names.
pub(super) struct Translated {
    /// The rewritten pattern; its groups are all unnamed.
    pub(super) pattern: String,
    /// The Go name of each capture group by number (`[0]`, the whole match,
    /// has none).
    pub(super) group_names: Vec<Option<Box<str>>>,
}

/// What precedes the current position, for Go's repetition rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Start of the pattern or of a group, or after `|`.
    Nothing,
    /// Something a repetition can apply to.
    Atom,
    /// A repetition operator, which may take one `?` (non-greedy).
    Repeat,
    /// A non-greedy `?` after a repetition; nothing may follow it.
    Lazy,
}

struct Translator<'a> {
    src: &'a str,
    pos: usize,
    out: String,
    names: Vec<Option<Box<str>>>,
    max_repeat: u32,
    wrapping: Wrapping,
    /// Open groups minus closed ones so far.
    depth: i32,
    prev: Prev,
    /// Where the last repetition operator started, for error messages.
    last_op: usize,
}

/// Returns the pattern rewritten for the `regex` crate, or why Go would
/// refuse it (in Go's words).
pub(super) fn translate(
    pattern: &str,
    max_repeat: u32,
    wrapping: Wrapping,
) -> Result<Translated, String> {
    let mut t = Translator {
        src: pattern,
        pos: 0,
        out: String::with_capacity(pattern.len() + 8),
        names: vec![None],
        max_repeat,
        wrapping,
        depth: 0,
        prev: Prev::Nothing,
        last_op: 0,
    };
    t.run()?;
    t.check_balance()?;
    Ok(Translated {
        pattern: t.out,
        group_names: t.names,
    })
}

impl Translator<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    /// The text Go's parser saw, as its messages quote it whole.
    fn whole(&self) -> String {
        match self.wrapping {
            Wrapping::Parsed => self.src.to_owned(),
            Wrapping::Text => format!("^(?s:{})$", self.src),
        }
    }

    /// Go's checks of parentheses. Wrapped as text, the pattern may close
    /// the wrapper's `(?s:` early (`a)|(b`) as long as it reopens a group
    /// for the wrapper's `)`.
    fn check_balance(&self) -> Result<(), String> {
        if self.depth > 0 {
            return Err(format!("missing closing ): `{}`", self.whole()));
        }
        if self.depth < 0 {
            // Wrapped as text: the wrapper's `)` has nothing left to close.
            return Err(format!("unexpected ): `{}`", self.whole()));
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.bump() {
            let start = self.pos - c.len_utf8();
            match c {
                '\\' => {
                    self.escape(false)?;
                    self.prev = Prev::Atom;
                }
                '[' => {
                    self.class(start)?;
                    self.prev = Prev::Atom;
                }
                '(' => self.group(start)?,
                ')' => {
                    self.depth -= 1;
                    let lowest = match self.wrapping {
                        Wrapping::Parsed => 0,
                        Wrapping::Text => -1,
                    };
                    if self.depth < lowest {
                        return Err(format!("unexpected ): `{}`", self.whole()));
                    }
                    self.out.push(')');
                    self.prev = Prev::Atom;
                }
                '|' => {
                    self.out.push('|');
                    self.prev = Prev::Nothing;
                }
                '*' | '+' | '?' => self.repeat(start, self.pos)?,
                '{' => match repetition(&self.src[start..]) {
                    Some((len, [lo, hi])) => {
                        let text = &self.src[start..start + len];
                        let too_big = lo.max(hi).is_some_and(|n| n > self.max_repeat);
                        if too_big || hi.is_some_and(|h| Some(h) < lo) {
                            return Err(format!("invalid repeat count: `{text}`"));
                        }
                        self.pos = start + len;
                        self.repeat(start, self.pos)?;
                    }
                    None => {
                        self.out.push_str("\\{");
                        self.prev = Prev::Atom;
                    }
                },
                _ => {
                    self.out.push(c);
                    self.prev = Prev::Atom;
                }
            }
        }
        Ok(())
    }

    /// A repetition operator at `start..end`, already consumed.
    fn repeat(&mut self, start: usize, end: usize) -> Result<(), String> {
        let op = &self.src[start..end];
        match self.prev {
            Prev::Repeat if op == "?" => self.prev = Prev::Lazy,
            Prev::Repeat | Prev::Lazy => {
                let text = &self.src[self.last_op..end];
                return Err(format!("invalid nested repetition operator: `{text}`"));
            }
            // Checked here rather than left to the `regex` crate: after a
            // named group, whose name this strips, `(?P<n>?i)` would read as
            // a flag group there.
            Prev::Nothing => {
                return Err(format!("missing argument to repetition operator: `{op}`"));
            }
            Prev::Atom => {
                self.prev = Prev::Repeat;
                self.last_op = start;
            }
        }
        self.out.push_str(op);
        Ok(())
    }

    /// After `(`: a capture group (named or not), a non-capturing group or
    /// a flag setting.
    fn group(&mut self, start: usize) -> Result<(), String> {
        self.prev = Prev::Nothing;
        if !self.rest().starts_with('?') {
            self.depth += 1;
            self.out.push('(');
            self.names.push(None);
            return Ok(());
        }
        let after_q = &self.rest()[1..];
        let name_start = if after_q.starts_with("P<") {
            Some(3)
        } else if after_q.starts_with('<')
            && !after_q.starts_with("<=")
            && !after_q.starts_with("<!")
        {
            Some(2)
        } else {
            None
        };
        if let Some(skip) = name_start {
            let body = &self.rest()[skip..];
            let Some(end) = body.find('>') else {
                return Err(format!("invalid named capture: `{}`", &self.src[start..]));
            };
            let name = &body[..end];
            let text = &self.src[start..self.pos + skip + end + 1];
            if name.is_empty() || !name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()) {
                return Err(format!("invalid named capture: `{text}`"));
            }
            self.names.push(Some(name.into()));
            self.pos += skip + end + 1;
            self.depth += 1;
            self.out.push('(');
            return Ok(());
        }
        // `(?flags)` or `(?flags:`: Go knows i, m, s, U and `-`.
        let body = &self.rest()[1..];
        let end = body.find([')', ':']).unwrap_or(body.len());
        let flags = &body[..end];
        if end == body.len() || flags.chars().any(|f| !"imsU-".contains(f)) {
            let bad = flags
                .char_indices()
                .find(|&(_, f)| !"imsU-".contains(f))
                .map_or(body.len(), |(i, f)| i + f.len_utf8());
            let upto = (self.pos + 1 + bad).min(self.src.len());
            return Err(format!(
                "invalid or unsupported Perl syntax: `{}`",
                &self.src[start..upto]
            ));
        }
        // `(?flags:` opens a group; `(?flags)` is complete.
        if body[end..].starts_with(':') {
            self.depth += 1;
        }
        self.out.push('(');
        let src = self.src;
        self.out.push_str(&src[self.pos..self.pos + 1 + end + 1]);
        self.pos += 1 + end + 1;
        Ok(())
    }

    /// After `\`; `in_class` selects the escapes Go allows inside `[…]`.
    fn escape(&mut self, in_class: bool) -> Result<(), String> {
        let Some(e) = self.bump() else {
            return Err("trailing backslash at end of expression: ``".to_owned());
        };
        let invalid = |e: char| Err(format!("invalid escape sequence: `\\{e}`"));
        match e {
            'Q' if !in_class => {
                // Without `\E` the literal runs to the end of what Go
                // parses: through the wrapper's `)$` when wrapped as text.
                let (end, skip) = match (self.rest().find("\\E"), self.wrapping) {
                    (Some(end), _) => (end, 2),
                    (None, Wrapping::Parsed) => (self.rest().len(), 0),
                    (None, Wrapping::Text) => {
                        return Err(format!("missing closing ): `{}`", self.whole()));
                    }
                };
                let lit = &self.src[self.pos..self.pos + end];
                for l in lit.chars() {
                    push_literal(&mut self.out, l);
                }
                self.pos += end + skip;
            }
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                let class = match e.to_ascii_lowercase() {
                    'd' => "0-9",
                    'w' => "0-9A-Za-z_",
                    _ => r"\t\n\x0C\r ",
                };
                let neg = if e.is_ascii_uppercase() { "^" } else { "" };
                self.out.push('[');
                self.out.push_str(neg);
                self.out.push_str(class);
                self.out.push(']');
            }
            'b' | 'B' if !in_class => {
                self.out.push_str("(?-u:\\");
                self.out.push(e);
                self.out.push(')');
            }
            'A' | 'z' if !in_class => {
                self.out.push('\\');
                self.out.push(e);
            }
            'a' | 'f' | 'n' | 'r' | 't' | 'v' => {
                self.out.push('\\');
                self.out.push(e);
            }
            // Octal: `\0` and up to two more digits, or `\1`–`\7` with at
            // least one more (a lone `\1` would be a backreference).
            '0'..='7' => {
                let more = self
                    .rest()
                    .bytes()
                    .take(2)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .count();
                if e != '0' && more == 0 {
                    return invalid(e);
                }
                self.out.push('\\');
                self.out.push(e);
                self.out.push_str(&self.src[self.pos..self.pos + more]);
                self.pos += more;
            }
            'p' | 'P' | 'x' => {
                self.out.push('\\');
                self.out.push(e);
                // Copy a braced argument whole, so its `{` is not taken
                // for a repetition.
                if self.peek() == Some('{') {
                    while let Some(n) = self.bump() {
                        self.out.push(n);
                        if n == '}' {
                            break;
                        }
                    }
                }
            }
            // Go reads `\` before any ASCII punctuation as that character;
            // the `regex` crate gives some of them a meaning (`\<`, `\>`).
            _ if e.is_ascii() && !e.is_ascii_alphanumeric() => push_literal(&mut self.out, e),
            _ => return invalid(e),
        }
        Ok(())
    }

    /// After the `[` at `start`: the class up to its `]`.
    fn class(&mut self, start: usize) -> Result<(), String> {
        self.out.push('[');
        if self.peek() == Some('^') {
            self.bump();
            self.out.push('^');
        }
        // A `]` right after the opening is a literal.
        if self.peek() == Some(']') {
            self.bump();
            self.out.push_str("\\]");
        }
        while let Some(c) = self.bump() {
            match c {
                ']' => {
                    self.out.push(']');
                    return Ok(());
                }
                '\\' => self.escape(true)?,
                '[' => {
                    // `[:alpha:]` names an ASCII class in both syntaxes.
                    let named = self.rest().strip_prefix(':').and_then(|r| r.find(":]"));
                    match named {
                        Some(end) => {
                            let name = &self.rest()[1..1 + end];
                            let known = name.strip_prefix('^').unwrap_or(name);
                            if !POSIX_CLASSES.contains(&known) {
                                return Err(format!("invalid character class range: `[:{name}:]`"));
                            }
                            self.out.push('[');
                            let src = self.src;
                            self.out.push_str(&src[self.pos..self.pos + 1 + end + 2]);
                            self.pos += 1 + end + 2;
                        }
                        None => self.out.push_str("\\["),
                    }
                }
                '&' | '~' => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                _ => self.out.push(c),
            }
        }
        // Go quotes from the `[` to the end of what it parses.
        let tail = match self.wrapping {
            Wrapping::Parsed => "",
            Wrapping::Text => ")$",
        };
        Err(format!("missing closing ]: `{}{tail}`", &self.src[start..]))
    }
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
    use super::{translate, Wrapping};

    fn go_matches(pattern: &str, value: &str) -> bool {
        let t = translate(pattern, 1000, Wrapping::Text).unwrap().pattern;
        regex::RegexBuilder::new(&format!("^(?s:{t})$"))
            .octal(true)
            .build()
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
        // Without `\E` the literal swallows the wrapper's `)`.
        assert!(translate(r"\Q(x", 1000, Wrapping::Text).is_err());
        assert!(go_matches(r"\p{Greek}+", "αβ"));
        assert!(go_matches(r"\x{41}", "A"));
        assert!(translate("a{1001}", 1000, Wrapping::Text).is_err());
        assert!(translate("a{2,1001}", 1000, Wrapping::Text).is_err());
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
    fn refuses_what_go_refuses() {
        for (pattern, want) in [
            (r"\u0041", r"invalid escape sequence: `\u`"),
            (r"\Z", r"invalid escape sequence: `\Z`"),
            (r"\C", r"invalid escape sequence: `\C`"),
            (r"\1", r"invalid escape sequence: `\1`"),
            (r"\8", r"invalid escape sequence: `\8`"),
            (r"[\b]", r"invalid escape sequence: `\b`"),
            ("(?x)a", "invalid or unsupported Perl syntax: `(?x`"),
            ("(?i", "invalid or unsupported Perl syntax: `(?i`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("a+?*", "invalid nested repetition operator: `+?*`"),
            ("x{2}{3}", "invalid nested repetition operator: `{2}{3}`"),
            ("a{2,1}", "invalid repeat count: `{2,1}`"),
            ("(?P<é>x)", "invalid named capture: `(?P<é>`"),
            ("(?P<>x)", "invalid named capture: `(?P<>`"),
            ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
            ("(?P<n>?i)", "missing argument to repetition operator: `?`"),
            ("(?i)*", "missing argument to repetition operator: `*`"),
            ("a|+", "missing argument to repetition operator: `+`"),
            ("{2}", "missing argument to repetition operator: `{2}`"),
            ("a[b", "missing closing ]: `[b)$`"),
            (r"\Qab", r"missing closing ): `^(?s:\Qab)$`"),
        ] {
            assert_eq!(
                translate(pattern, 1000, Wrapping::Text).err().as_deref(),
                Some(want),
                "{pattern}"
            );
        }
    }

    #[test]
    fn accepts_what_go_accepts() {
        assert!(go_matches("(?P<n>a)(?P<n>b)", "ab"));
        assert!(go_matches("(?P<1a>x)(?<y>z)", "xz"));
        assert!(go_matches(r"\01\0", "\u{1}\u{0}"));
        assert!(go_matches(r"\101", "A"));
        assert!(go_matches("a*?b{2}?", "abb"));
        assert!(go_matches("(?i-s:A.)", "ab"));
        assert!(go_matches(r"\A\z", ""));
        let t = translate("(a)(?:b)(?P<n>c)(?i)(d)", 1000, Wrapping::Text).unwrap();
        assert_eq!(t.group_names, [None, None, Some("n".into()), None]);
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

    #[test]
    fn parentheses_as_go_checks_them() {
        let text = |p: &str| translate(p, 1000, Wrapping::Text).err();
        let parsed = |p: &str| translate(p, 1000, Wrapping::Parsed).err();
        // Wrapped as text, the pattern may close the wrapper early.
        assert_eq!(text("a)|(b"), None);
        assert_eq!(parsed("a)|(b").as_deref(), Some("unexpected ): `a)|(b`"));
        assert_eq!(text("a)b").as_deref(), Some("unexpected ): `^(?s:a)b)$`"));
        assert_eq!(
            text("a))|((b").as_deref(),
            Some("unexpected ): `^(?s:a))|((b)$`")
        );
        assert_eq!(
            text("(a").as_deref(),
            Some("missing closing ): `^(?s:(a)$`")
        );
        assert_eq!(parsed("(a").as_deref(), Some("missing closing ): `(a`"));
        assert_eq!(
            parsed("(?i:a").as_deref(),
            Some("missing closing ): `(?i:a`")
        );
        assert_eq!(parsed("(?i)a"), None);
        assert_eq!(parsed("[(]"), None);
        assert_eq!(parsed(r"\Q(\E"), None);
        // Parsed alone, `\Q` runs to the end and `[` is quoted to the end.
        assert_eq!(parsed(r"\Q(x"), None);
        assert_eq!(parsed("a[b").as_deref(), Some("missing closing ]: `[b`"));
    }
}
