//! The anchored regular expression of a relabel rule.
//!
//! Prometheus compiles a rule's `regex` as `^(?s:<regex>)$` with Go's RE2
//! engine, pasting the text between the anchors: the whole value must match
//! and `.` matches newlines. The YAML form is the text the user wrote,
//! without the anchors. Go's syntax and its differences from the `regex`
//! crate are handled by [`model::regex`].

use std::fmt;
use std::sync::LazyLock;

use model::regex::{GoRegex, Shape};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The pattern Prometheus uses when a rule has no `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";

/// Why a relabel `regex` does not compile.
pub type RegexError = model::GoRegexError;

/// Compiled once: every rule without a `regex` shares it.
static DEFAULT_COMPILED: LazyLock<GoRegex> = LazyLock::new(|| {
    GoRegex::new(DEFAULT_REGEX)
        .unwrap_or_else(|e| panic!("BUG: default regex does not compile: {e}"))
});

/// A relabel rule's regular expression: anchored at both ends, `.` matching
/// newlines, compiled once; it prints and serializes as the text it was
/// built from.
#[derive(Clone)]
pub struct Regex {
    re: GoRegex,
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
        Ok(Regex {
            re: GoRegex::new(pattern)?,
            implicit: false,
        })
    }

    /// The text the regex was built from, without the anchors.
    pub fn as_str(&self) -> &str {
        self.re.as_str()
    }

    /// Whether `value` matches as a whole.
    pub fn is_match(&self, value: &str) -> bool {
        self.re.is_match(value)
    }

    /// Whether this is the default regex of a rule that names none (as
    /// opposed to an explicit `regex: (.*)`).
    pub fn is_implicit_default(&self) -> bool {
        self.implicit
    }

    /// What the pattern is known to match without running the engine.
    pub(crate) fn shape(&self) -> &Shape {
        self.re.shape()
    }

    /// The compiled, anchored regex.
    pub(crate) fn compiled(&self) -> &regex::Regex {
        self.re.compiled()
    }

    /// Go's name of each capture group, by group number.
    pub(crate) fn group_names(&self) -> &[Option<Box<str>>] {
        self.re.group_names()
    }
}

impl Default for Regex {
    /// The regex of a rule with no `regex` field: `(.*)`.
    fn default() -> Regex {
        Regex {
            re: DEFAULT_COMPILED.clone(),
            implicit: true,
        }
    }
}

/// Equal when built from the same text and both (or neither) are the implicit default.
impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.as_str() == other.as_str() && self.implicit == other.implicit
    }
}

impl Eq for Regex {}

impl fmt::Debug for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regex({:?})", self.as_str())
    }
}

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Regex {
    type Err = RegexError;
    fn from_str(s: &str) -> Result<Regex, RegexError> {
        Regex::new(s)
    }
}

impl Serialize for Regex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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

    // Matching itself (anchoring, `(?s)`, Go syntax) is `model::regex`'s and
    // tested there; these tests cover what this wrapper adds.
    #[test]
    fn wraps_the_relabel_form_of_go_regex() {
        // The relabel form pastes the text into `^(?s:…)$`, so an
        // unbalanced `)` still compiles, as in Prometheus.
        assert!(matches("a)|(b", "axx"));
        assert!(matches("a.c", "a\nc"));
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
