//! Regular expressions in Go's syntax, anchored as Prometheus anchors them.
//!
//! Prometheus compiles label-matcher regexes (`=~`, `!~`) and relabel
//! regexes with Go's RE2 engine as `^(?s:<regex>)$`: the whole value must
//! match and `.` matches newlines. [`GoRegex`] does the same on the `regex`
//! crate, whose syntax is close but not equal. Each pattern is rewritten
//! first so that it means what it means in Prometheus, and refused where Go
//! refuses it:
//!
//! | construct | Go | `regex` crate | rewrite |
//! |---|---|---|---|
//! | `\d \w \s` and negations | ASCII only | Unicode | explicit ASCII classes |
//! | `\b \B` | ASCII word boundary | Unicode | `(?-u:\b)` |
//! | `\Q…\E` | literal text | error | escaped literal |
//! | `{` not starting `{n}`, `{n,}`, `{n,m}` | literal `{` | error (or `{,m}`) | `\{` |
//! | `{n,m}` above 1000, or `m < n` | error | allowed | error, as Go |
//! | `[` inside a class | literal | nested class | `\[` |
//! | `&&`, `~~` inside a class | literal | set operations | escaped |
//! | `\<`, `\>`, `\_`, other escaped ASCII punctuation | the character | word boundaries, or an error | the character, escaped |
//! | other escapes (`\u`, `\e`, `\Z`, `\C`, `\1`) | error | some allowed | error, as Go |
//! | flags other than `imsU` (`(?x)`) | error | allowed | error, as Go |
//! | `a**`, `a{2}{3}` | error | allowed | error, as Go |
//! | unknown `[[:name:]]` | error | a plain class | error, as Go |
//! | group names: `(?P<1a>…)`, a name used twice | allowed | refused | names kept aside, groups left unnamed |
//!
//! The two users wrap the pattern differently, and Go's checks see the
//! difference ([`Wrapping`]): relabeling pastes the text into the anchors,
//! so `a)|(b` compiles (with odd anchoring); a matcher's pattern is parsed
//! on its own first, so `a)|(b` is an error and a `\Q` without `\E` runs to
//! the end of the pattern.
//!
//! Common shapes skip the engine ([`Shape`]): literals and alternations of
//! literals, `.*`, `.+`, `prefix.*suffix`, `.*part.*`, `prefix(.*)suffix`.
//!
//! What stays different: `--` inside a class is a range in Go and a set
//! difference here; Unicode tables may be of different Unicode versions;
//! compiled-size limits differ.

mod go_syntax;
mod shape;

use std::fmt;

pub use shape::Shape;

/// Prometheus's RE2 refuses larger repetition counts; so do we.
const MAX_REPEAT: u32 = 1000;

/// How Prometheus puts a pattern between its anchors `^(?s:` and `)$`,
/// which decides what Go's parser accepts and how its messages quote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrapping {
    /// Pasted in as text (relabel rules): the pattern may close the
    /// wrapper's group early, and messages quote `^(?s:<pattern>)$`.
    Text,
    /// Parsed alone, then wrapped (label matchers): the pattern must be
    /// balanced on its own, and messages quote the pattern.
    Parsed,
}

/// Why a pattern does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error parsing regexp: {reason}")]
pub struct GoRegexError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it, in Go's words where Go's check is mirrored
    /// (``invalid escape sequence: `\u` ``), else the `regex` crate's.
    pub reason: String,
}

/// A regular expression in Go's syntax, anchored at both ends with `.`
/// matching newlines, compiled once; it prints as the text it was built
/// from.
#[derive(Clone)]
pub struct GoRegex {
    source: Box<str>,
    compiled: regex::Regex,
    /// Go's name of each capture group by number; the compiled regex has
    /// unnamed groups only (Go allows names the `regex` crate refuses).
    group_names: Box<[Option<Box<str>>]>,
    /// What the pattern is known to match without running the engine.
    shape: Shape,
}

impl GoRegex {
    /// Compiles `pattern` as Prometheus compiles a relabel regex
    /// ([`Wrapping::Text`]).
    pub fn new(pattern: &str) -> Result<GoRegex, GoRegexError> {
        GoRegex::with_wrapping(pattern, Wrapping::Text)
    }

    /// Compiles `pattern` as Prometheus compiles a label matcher's regex
    /// ([`Wrapping::Parsed`]).
    pub fn for_matcher(pattern: &str) -> Result<GoRegex, GoRegexError> {
        GoRegex::with_wrapping(pattern, Wrapping::Parsed)
    }

    /// Compiles `pattern` (Go syntax) anchored as `^(?s:<pattern>)$`.
    pub fn with_wrapping(pattern: &str, wrapping: Wrapping) -> Result<GoRegex, GoRegexError> {
        let err = |reason: String| GoRegexError {
            pattern: pattern.to_owned(),
            reason,
        };
        let translated = go_syntax::translate(pattern, MAX_REPEAT, wrapping).map_err(err)?;
        let compiled = regex::RegexBuilder::new(&format!("^(?s:{})$", translated.pattern))
            // RE2 reads `\123` as an octal escape.
            .octal(true)
            .build()
            .map_err(|e| err(format!("{}: `{pattern}`", one_line(&e.to_string()))))?;
        // The translation counts groups to keep their Go names; a miscount
        // is a bug, reported as an error so that a reload cannot crash.
        if compiled.captures_len() != translated.group_names.len() {
            return Err(err(format!(
                "BUG: the regex has {} groups, the translation counted {}",
                compiled.captures_len(),
                translated.group_names.len()
            )));
        }
        Ok(GoRegex {
            source: pattern.into(),
            compiled,
            group_names: translated.group_names.into(),
            shape: Shape::of(pattern),
        })
    }

    /// The text the regex was built from, without the anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `value` matches as a whole.
    #[inline]
    pub fn is_match(&self, value: &str) -> bool {
        match self.shape.matches(value) {
            Some(known) => known,
            None => self.compiled.is_match(value),
        }
    }

    /// What the pattern is known to match without running the engine.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The compiled, anchored regex, for capture positions. Its groups are
    /// unnamed: see [`GoRegex::group_names`].
    pub fn compiled(&self) -> &regex::Regex {
        &self.compiled
    }

    /// Go's name of each capture group, by group number (`[0]`, the whole
    /// match, has none).
    pub fn group_names(&self) -> &[Option<Box<str>>] {
        &self.group_names
    }
}

impl fmt::Debug for GoRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GoRegex({:?})", self.source)
    }
}

impl fmt::Display for GoRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// The `regex` crate's messages span several lines with a caret diagram; a
/// config or query error wants one line.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("regex parse error") && !l.contains('^'))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        GoRegex::new(pattern).unwrap().is_match(value)
    }

    #[test]
    fn anchored_and_dot_matches_newline() {
        assert!(matches("a.c", "a\nc"));
        assert!(!matches("b", "abc"));
        assert!(matches("b|abc", "abc"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn unbalanced_parenthesis_compiles_only_as_text() {
        // `^(?s:a)|(b)$`: "a" anchored at the start only, "b" at the end only.
        assert!(matches("a)|(b", "axx"));
        assert!(matches("a)|(b", "xxb"));
        assert!(!matches("a)|(b", "xx"));
        let e = GoRegex::for_matcher("a)|(b").unwrap_err();
        assert_eq!(e.to_string(), "error parsing regexp: unexpected ): `a)|(b`");
    }

    #[test]
    fn errors_name_the_pattern_on_one_line() {
        let e = GoRegex::new("(abc").unwrap_err();
        assert_eq!(e.pattern, "(abc");
        assert_eq!(
            e.to_string(),
            "error parsing regexp: missing closing ): `^(?s:(abc)$`"
        );
        // Left to the `regex` crate: still one line, naming the pattern.
        let e = GoRegex::new(r"\p{NoSuchClass}").unwrap_err();
        assert!(e.to_string().starts_with("error parsing regexp: "), "{e}");
        assert!(e.to_string().contains(r"`\p{NoSuchClass}`"), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    #[test]
    fn prints_as_written() {
        let r = GoRegex::new(r"foo\d+").unwrap();
        assert_eq!(r.to_string(), r"foo\d+");
        assert_eq!(r.as_str(), r"foo\d+");
    }
}
