//! The anchored regular expression of a relabel rule.
//!
//! Prometheus compiles a rule's `regex` as `^(?s:<regex>)$` with Go's RE2
//! engine: the whole value must match and `.` matches newlines. The YAML form
//! is the text the user wrote, without the anchors.
//!
//! Patterns are written in Go's syntax and run on the `regex` crate, whose
//! syntax is close but not equal. Each pattern is rewritten first so that it
//! means what it means in Prometheus, and refused where Go refuses it:
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
//! What stays different: `--` inside a class is a range in Go and a set
//! difference here; Unicode tables may be of different Unicode versions;
//! compiled-size limits differ.

mod go_syntax;
mod shape;

use std::fmt;
use std::sync::LazyLock;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

pub(crate) use shape::Shape;

/// The pattern Prometheus uses when a rule has no `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";

/// Prometheus's RE2 refuses larger repetition counts; so do we.
const MAX_REPEAT: u32 = 1000;

/// Compiled once: every rule without a `regex` shares it.
static DEFAULT_COMPILED: LazyLock<regex::Regex> = LazyLock::new(|| {
    compile(DEFAULT_REGEX)
        .unwrap_or_else(|e| panic!("BUG: default regex does not compile: {e}"))
        .0
});

/// Why a relabel `regex` does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error parsing regexp: {reason}")]
pub struct RegexError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it, in Go's words where Go's check is mirrored
    /// (`invalid escape sequence: `\u``), else the `regex` crate's.
    pub reason: String,
}

/// A relabel rule's regular expression: anchored at both ends, `.` matching
/// newlines, compiled once; it prints and serializes as the text it was
/// built from.
#[derive(Clone)]
pub struct Regex {
    source: String,
    compiled: regex::Regex,
    /// Go's name of each capture group by number; the compiled regex has
    /// unnamed groups only (see [`go_syntax`]).
    group_names: Box<[Option<Box<str>>]>,
    /// What the pattern is known to match without running the engine.
    shape: Shape,
    /// Whether this is the default a rule gets when it has no `regex` field.
    /// Prometheus tells that default apart from an explicit `(.*)`: only the
    /// default is left out when the rule is written back, only the default
    /// passes `keepequal`/`dropequal` validation, and only the default takes
    /// the `replace` fast path for an empty source value.
    implicit: bool,
}

impl Regex {
    /// Compiles `pattern` as Prometheus does (`^(?s:<pattern>)$`, RE2 syntax).
    pub fn new(pattern: &str) -> Result<Regex, RegexError> {
        let (compiled, group_names) = compile(pattern)?;
        Ok(Regex {
            source: pattern.to_owned(),
            compiled,
            group_names,
            shape: Shape::of(pattern),
            implicit: false,
        })
    }

    /// The text the regex was built from, without the anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `value` matches as a whole.
    pub fn is_match(&self, value: &str) -> bool {
        match &self.shape {
            Shape::Wrapped {
                prefix,
                suffix,
                non_empty,
            } => Shape::wrapped_group(prefix, suffix, *non_empty, value).is_some(),
            Shape::Literals(set) => set.iter().any(|l| **l == *value),
            Shape::Prefix(p) => value.starts_with(&**p) && self.compiled.is_match(value),
            Shape::General => self.compiled.is_match(value),
        }
    }

    /// Whether this is the default regex of a rule that names none (as
    /// opposed to an explicit `regex: (.*)`).
    pub fn is_implicit_default(&self) -> bool {
        self.implicit
    }

    /// What the pattern is known to match without running the engine.
    pub(crate) fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The compiled, anchored regex.
    pub(crate) fn compiled(&self) -> &regex::Regex {
        &self.compiled
    }

    /// Go's name of each capture group, by group number.
    pub(crate) fn group_names(&self) -> &[Option<Box<str>>] {
        &self.group_names
    }
}

impl Default for Regex {
    /// The regex of a rule with no `regex` field: `(.*)`.
    fn default() -> Regex {
        Regex {
            source: DEFAULT_REGEX.to_owned(),
            compiled: DEFAULT_COMPILED.clone(),
            group_names: Box::new([None, None]),
            shape: Shape::Wrapped {
                prefix: "".into(),
                suffix: "".into(),
                non_empty: false,
            },
            implicit: true,
        }
    }
}

/// Equal when built from the same text and both (or neither) are the implicit default.
impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.source == other.source && self.implicit == other.implicit
    }
}

impl Eq for Regex {}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regex({:?})", self.source)
    }
}

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Regex {
    type Err = RegexError;
    fn from_str(s: &str) -> Result<Regex, RegexError> {
        Regex::new(s)
    }
}

/// A compiled regex with unnamed groups, and Go's names of those groups.
type Compiled = (regex::Regex, Box<[Option<Box<str>>]>);

fn compile(pattern: &str) -> Result<Compiled, RegexError> {
    let err = |reason: String| RegexError {
        pattern: pattern.to_owned(),
        reason,
    };
    let translated = go_syntax::translate(pattern, MAX_REPEAT).map_err(err)?;
    // Concatenated as text, like Prometheus: a pattern with an unbalanced `)`
    // such as `a)|(b` compiles there, with its odd anchoring, and so here.
    let compiled = regex::RegexBuilder::new(&format!("^(?s:{})$", translated.pattern))
        // RE2 reads `\123` as an octal escape.
        .octal(true)
        .build()
        .map_err(|e| err(format!("{}: `{pattern}`", one_line(&e.to_string()))))?;
    // The translation counts groups to keep their Go names; a miscount is a
    // bug, reported as an error so that a config reload cannot crash.
    if compiled.captures_len() != translated.group_names.len() {
        return Err(err(format!(
            "BUG: the regex has {} groups, the translation counted {}",
            compiled.captures_len(),
            translated.group_names.len()
        )));
    }
    Ok((compiled, translated.group_names.into()))
}

/// The `regex` crate's messages span several lines with a caret diagram; a
/// config error wants one line.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("regex parse error") && !l.contains('^'))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Serialize for Regex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Regex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Regex, D::Error> {
        d.deserialize_any(RegexVisitor)
    }
}

struct RegexVisitor;

impl Visitor<'_> for RegexVisitor {
    type Value = Regex;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a regular expression")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Regex, E> {
        Regex::new(v).map_err(E::custom)
    }

    // A YAML scalar that looks like a number or boolean is still a pattern to
    // Prometheus (its YAML decoder keeps the scalar's text for a string).
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Regex, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Regex, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Regex, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Regex, E> {
        self.visit_str(if v { "true" } else { "false" })
    }

    // `regex:` with no value: Prometheus ends up with the empty pattern, which
    // matches only the empty string.
    fn visit_unit<E: de::Error>(self) -> Result<Regex, E> {
        self.visit_str("")
    }

    fn visit_none<E: de::Error>(self) -> Result<Regex, E> {
        self.visit_str("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        Regex::new(pattern).unwrap().is_match(value)
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
    fn unbalanced_parenthesis_compiles_as_in_prometheus() {
        // `^(?s:a)|(b)$`: "a" anchored at the start only, "b" at the end only.
        assert!(matches("a)|(b", "axx"));
        assert!(matches("a)|(b", "xxb"));
        assert!(!matches("a)|(b", "xx"));
    }

    #[test]
    fn prints_as_written() {
        let r = Regex::new(r"foo\d+").unwrap();
        assert_eq!(r.to_string(), r"foo\d+");
        assert!(!r.is_implicit_default());
        assert!(Regex::default().is_implicit_default());
        assert_ne!(Regex::default(), Regex::new("(.*)").unwrap());
    }

    #[test]
    fn errors_name_the_pattern() {
        let e = Regex::new("(abc").unwrap_err();
        assert_eq!(e.pattern, "(abc");
        assert!(e.to_string().starts_with("error parsing regexp: "), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }
}
