//! Label matchers: `=`, `!=`, `=~`, `!~`.
//!
//! Regular expressions use RE2 syntax (the `regex` crate implements the same
//! language and linear-time guarantee) and are fully anchored, with `.`
//! matching newlines, as Prometheus compiles them (`^(?s:<re>)$`).
//!
//! Common shapes skip the regex engine entirely, the way Prometheus's
//! `FastRegexMatcher` does: a literal, an alternation of literals
//! (`a|b|c`), `.*` and `.+`, and a literal prefix followed by `.*`.

use std::fmt;

use regex::Regex;

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
    /// Why it did not compile.
    #[source]
    pub source: regex::Error,
}

/// How a regex matcher decides, cheapest form first.
#[derive(Clone, Debug)]
enum RegexKind {
    /// `.*`: every value.
    Any,
    /// `.+`: every non-empty value.
    NonEmpty,
    /// A pattern with no metacharacters.
    Literal(String),
    /// `a|b|c` of literals.
    Set(Vec<String>),
    /// `prefix.*`
    Prefix(String),
    /// Everything else.
    Full(Regex),
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
    re: Option<RegexKind>,
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
                Some(compile(&value).map_err(|source| MatcherError {
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
    /// directly instead of scanning every value.
    pub fn set_matches(&self) -> Option<Vec<&str>> {
        match (&self.match_type, &self.re) {
            (MatchType::Equal, _) => Some(vec![self.value.as_str()]),
            (MatchType::Regex, Some(RegexKind::Literal(l))) => Some(vec![l.as_str()]),
            (MatchType::Regex, Some(RegexKind::Set(s))) => {
                Some(s.iter().map(String::as_str).collect())
            }
            _ => None,
        }
    }

    /// For `=~` matchers of the form `prefix.*`, the literal prefix.
    pub fn literal_prefix(&self) -> Option<&str> {
        match &self.re {
            Some(RegexKind::Prefix(p)) => Some(p),
            Some(RegexKind::Literal(p)) => Some(p),
            _ => None,
        }
    }

    fn regex_matches(&self, value: &str) -> bool {
        match self
            .re
            .as_ref()
            .expect("BUG: regex matcher without a compiled regex")
        {
            RegexKind::Any => true,
            RegexKind::NonEmpty => !value.is_empty(),
            RegexKind::Literal(l) => l == value,
            RegexKind::Set(s) => s.iter().any(|l| l == value),
            RegexKind::Prefix(p) => value.starts_with(p.as_str()),
            RegexKind::Full(re) => re.is_match(value),
        }
    }
}

fn compile(pattern: &str) -> Result<RegexKind, regex::Error> {
    // Compile first even for the shortcuts, so invalid patterns are refused
    // exactly as the full engine would refuse them.
    let re = Regex::new(&format!("^(?s:{pattern})$"))?;
    Ok(match pattern {
        ".*" => RegexKind::Any,
        ".+" => RegexKind::NonEmpty,
        p if is_literal(p) => RegexKind::Literal(p.to_owned()),
        p if p.len() > 2 && p.ends_with(".*") && is_literal(&p[..p.len() - 2]) => {
            RegexKind::Prefix(p[..p.len() - 2].to_owned())
        }
        p if p.contains('|') && p.split('|').all(|a| !a.is_empty() && is_literal(a)) => {
            RegexKind::Set(p.split('|').map(str::to_owned).collect())
        }
        _ => RegexKind::Full(re),
    })
}

fn is_literal(s: &str) -> bool {
    !s.bytes().any(|b| b"\\.+*?()|[]{}^$".contains(&b))
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
    }

    proptest! {
        /// The shortcuts agree with the full regex engine.
        #[test]
        fn shortcuts_agree_with_regex(
            pattern in prop_oneof![
                Just(".*".to_owned()), Just(".+".to_owned()),
                "[a-c]{0,3}", "[a-c]{1,3}\\.\\*".prop_map(|s| s.replace("\\.\\*", ".*")),
                "[a-c]{1,2}(\\|[a-c]{1,2}){1,3}".prop_map(|s| s.replace("\\|", "|")),
            ],
            value in "[a-c]{0,4}",
        ) {
            let full = Regex::new(&format!("^(?s:{pattern})$")).unwrap();
            prop_assert_eq!(m(MatchType::Regex, &pattern).matches(&value), full.is_match(&value));
        }
    }
}
