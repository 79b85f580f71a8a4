//! Label matchers: `=`, `!=`, `=~`, `!~`.
//!
//! Regular expressions are Go's (RE2 syntax, ASCII `\d \w \s \b`, `\Q…\E`,
//! …) and fully anchored, with `.` matching newlines, as Prometheus compiles
//! them: see [`crate::regex`]. Common shapes (a literal, an alternation of
//! literals, `.*`, `.+`, `prefix.*`, `.*part.*`) skip the regex engine, the
//! way Prometheus's `FastRegexMatcher` does.

use std::fmt;

use crate::regex::{GoRegex, GoRegexError, Shape};

/// Which comparison a matcher makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchType {
    /// The operator as PromQL writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regex => "=~",
            MatchType::NotRegex => "!~",
        }
    }
}

/// A matcher's regular expression did not compile.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid regular expression {pattern:?} for label {name:?}: {source}")]
pub struct MatcherError {
    /// The label name.
    pub name: String,
    /// The pattern as given.
    pub pattern: String,
    /// Why it did not compile; displays as Go's message
    /// (``error parsing regexp: missing closing ): `(a` ``), which is what
    /// PromQL reports.
    #[source]
    pub source: GoRegexError,
}

/// Matches a label value against a fixed value or a regular expression.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The comparison.
    pub match_type: MatchType,
    /// The label name the matcher looks at.
    pub name: String,
    /// The value or pattern as written.
    pub value: String,
    re: Option<GoRegex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.match_type == other.match_type && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// A matcher of `name <op> value`; regex patterns are compiled here.
    pub fn new(
        match_type: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, MatcherError> {
        let name = name.into();
        let value = value.into();
        let re = match match_type {
            MatchType::Regex | MatchType::NotRegex => {
                Some(GoRegex::for_matcher(&value).map_err(|source| MatcherError {
                    name: name.clone(),
                    pattern: value.clone(),
                    source,
                })?)
            }
            _ => None,
        };
        Ok(Matcher {
            match_type,
            name,
            value,
            re,
        })
    }

    /// `name = value`; cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher {
            match_type: MatchType::Equal,
            name: name.into(),
            value: value.into(),
            re: None,
        }
    }

    /// Whether `value` satisfies the matcher. An absent label is matched as
    /// the empty string, as in Prometheus.
    #[inline]
    pub fn matches(&self, value: &str) -> bool {
        match self.match_type {
            MatchType::Equal => self.value == value,
            MatchType::NotEqual => self.value != value,
            MatchType::Regex => self.regex_matches(value),
            MatchType::NotRegex => !self.regex_matches(value),
        }
    }

    /// Whether the matcher accepts the empty string, i.e. also selects series
    /// that lack the label. Storage uses this to decide between postings
    /// intersection and subtraction.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` matchers that are a finite set of literals (`a|b|c` or a
    /// plain literal), those literals; lets the index look up postings
    /// directly instead of scanning every value. A set with an empty
    /// alternative (`a|`) is not offered: the empty value also selects
    /// series without the label, which a postings lookup cannot find.
    pub fn set_matches(&self) -> Option<Vec<&str>> {
        match (&self.match_type, self.shape()) {
            (MatchType::Equal, _) => Some(vec![self.value.as_str()]),
            (MatchType::Regex, Some(Shape::Literals(set)))
                if set.len() == 1 || set.iter().all(|l| !l.is_empty()) =>
            {
                Some(set.iter().map(|l| &**l).collect())
            }
            _ => None,
        }
    }

    /// For `=~` and `!~` matchers, a literal every matching value starts
    /// with, if the pattern shows a non-empty one (`prefix.*`, `prefix\d+`,
    /// a literal); the index scans only the values with that prefix and
    /// still checks each with [`Matcher::matches`].
    pub fn literal_prefix(&self) -> Option<&str> {
        let prefix = match self.shape()? {
            Shape::Wrapped { prefix, .. } | Shape::Prefix(prefix) => prefix,
            Shape::Literals(set) if set.len() == 1 => &set[0],
            _ => return None,
        };
        (!prefix.is_empty()).then_some(&**prefix)
    }

    fn shape(&self) -> Option<&Shape> {
        self.re.as_ref().map(GoRegex::shape)
    }

    #[inline]
    fn regex_matches(&self, value: &str) -> bool {
        match &self.re {
            Some(re) => re.is_match(value),
            None => unreachable!("BUG: regex matcher without a compiled regex"),
        }
    }
}

impl fmt::Display for Matcher {
    /// PromQL form: `name="value"` with the value Go-quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        f.write_str(self.match_type.as_str())?;
        crate::labels::write_go_quoted(f, &self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(t: MatchType, v: &str) -> Matcher {
        Matcher::new(t, "l", v).unwrap()
    }

    #[test]
    fn match_table() {
        use MatchType::*;
        for (t, pattern, value, want) in [
            (Equal, "a", "a", true),
            (Equal, "a", "", false),
            (Equal, "", "", true),
            (NotEqual, "a", "b", true),
            (NotEqual, "", "", false),
            (Regex, "a.*", "abc", true),
            (Regex, "a.*", "ba", false),
            (Regex, "b", "abc", false), // fully anchored
            (Regex, ".*", "", true),
            (Regex, ".+", "", false),
            (Regex, ".+", "x", true),
            (Regex, "a|b", "b", true),
            (Regex, "a|b", "ab", false),
            (Regex, "a.", "a\n", true), // (?s): dot matches newline
            (Regex, "(?i)FOO", "foo", true),
            (Regex, "", "", true),
            (Regex, "", "a", false),
            (NotRegex, "a.*", "abc", false),
            (NotRegex, "a.*", "", true),
            (Regex, "foo|bar|.*baz", "xbaz", true),
        ] {
            assert_eq!(
                m(t, pattern).matches(value),
                want,
                "{t:?} {pattern:?} {value:?}"
            );
        }
    }

    #[test]
    fn bad_regex_is_an_error() {
        let err = Matcher::new(MatchType::Regex, "job", "a(").unwrap_err();
        assert!(err.to_string().contains("job"), "{err}");
        // PromQL reports the source: Go's message, quoting the pattern alone.
        assert_eq!(
            err.source.to_string(),
            "error parsing regexp: missing closing ): `a(`"
        );
    }

    #[test]
    fn go_syntax() {
        use MatchType::Regex;
        for (pattern, value, want) in [
            (r"\d", "3", true),
            (r"\d", "\u{663}", false), // ARABIC-INDIC DIGIT THREE: Go's \d is ASCII
            (r"\w+", "é", false),
            (r"\s", "\u{a0}", false),
            (r"\Q.\E", ".", true),
            (r"\Q.\E", "x", false),
            (r"\Qa.b", "a.b", true), // alone, `\Q` runs to the end
            (r"a{b}", "a{b}", true),
            (r"\<a\>", "<a>", true),
            (r"[[]", "[", true),
            (r"[a&&b]+", "&&", true),
            (r"x{1000}", &"x".repeat(1000), true),
        ] {
            assert_eq!(
                m(Regex, pattern).matches(value),
                want,
                "{pattern:?} on {value:?}"
            );
        }
    }

    #[test]
    fn refuses_what_go_refuses_in_go_words() {
        for (pattern, want) in [
            ("x{1001}", "invalid repeat count: `{1001}`"),
            ("x{2,1}", "invalid repeat count: `{2,1}`"),
            ("(?x)a", "invalid or unsupported Perl syntax: `(?x`"),
            (r"\1", r"invalid escape sequence: `\1`"),
            ("a**", "invalid nested repetition operator: `**`"),
            ("*", "missing argument to repetition operator: `*`"),
            ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
            ("a)|(b", "unexpected ): `a)|(b`"),
            ("[a", "missing closing ]: `[a`"),
        ] {
            let err = Matcher::new(MatchType::Regex, "l", pattern).unwrap_err();
            assert_eq!(
                err.source.to_string(),
                format!("error parsing regexp: {want}"),
                "{pattern}"
            );
        }
    }

    #[test]
    fn display_like_promql() {
        assert_eq!(m(MatchType::NotRegex, "a\"b").to_string(), r#"l!~"a\"b""#);
    }

    #[test]
    fn shortcuts_exposed() {
        assert_eq!(
            m(MatchType::Regex, "a|b").set_matches(),
            Some(vec!["a", "b"])
        );
        assert_eq!(m(MatchType::Regex, "ab.*").literal_prefix(), Some("ab"));
        assert_eq!(m(MatchType::Regex, "a+").set_matches(), None);
        assert_eq!(m(MatchType::Regex, "a|").set_matches(), None);
        assert_eq!(m(MatchType::Regex, "").set_matches(), Some(vec![""]));
        assert_eq!(m(MatchType::Regex, r"ab\d+").literal_prefix(), Some("ab"));
        assert_eq!(m(MatchType::Regex, ".*ab").literal_prefix(), None);
    }

    proptest! {
        /// The shortcuts agree with the full regex engine.
        #[test]
        fn shortcuts_agree_with_regex(
            pattern in prop_oneof![
                Just(".*".to_owned()), Just(".+".to_owned()),
                "[a-c]{0,3}", "[a-c]{1,3}\\.\\*".prop_map(|s| s.replace("\\.\\*", ".*")),
                "[a-c]{1,2}(\\|[a-c]{1,2}){1,3}".prop_map(|s| s.replace("\\|", "|")),
                "[a-c]{0,2}\\.[*+][a-c]{0,2}".prop_map(|s| s.replace("\\.", ".")),
                "[a-c]{0,2}".prop_map(|s| format!(".*{s}.*")),
                "[a-c]{0,2}(\\|[a-c]{0,2}){0,2}".prop_map(|s| s.replace("\\|", "|")),
            ],
            value in "[a-c]{0,4}",
        ) {
            let full = ::regex::Regex::new(&format!("^(?s:{pattern})$")).unwrap();
            prop_assert_eq!(m(MatchType::Regex, &pattern).matches(&value), full.is_match(&value));
        }
    }
}
