//! Shortcuts for patterns whose matches are known from their text.

/// What a pattern is known to match from its text alone. Label filters,
/// keep/drop rules and dashboard selectors are mostly literals, alternations
/// of literals, `prefix.*` or `.*part.*`; `replace` rules mostly `(.*)`,
/// `(.+)` or `prefix_(.*)_suffix`. Only the text is looked at, so a pattern
/// written any other way (`(?:a|b)`, `a{1}`) is simply [`Shape::General`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `prefix(.*)suffix`, `prefix(.+)suffix`, or the same without the
    /// group, with literal ends (`.*` and `(.*)` themselves included).
    Wrapped {
        /// Literal text before the `.*`/`.+`.
        prefix: Box<str>,
        /// Literal text after the `.*`/`.+`.
        suffix: Box<str>,
        /// Whether it is `.+`.
        non_empty: bool,
        /// Whether the `.*`/`.+` is capture group 1 (the pattern has no
        /// other group).
        grouped: bool,
    },
    /// `.*part.*` with a literal part: the values containing it; no groups.
    Contains(Box<str>),
    /// Literal alternatives (`a`, `Pending|Failed`, ``): exactly these
    /// values; no groups.
    Literals(Box<[Box<str>]>),
    /// Every match starts with this literal; the engine decides the rest.
    Prefix(Box<str>),
    /// Nothing known: ask the engine.
    General,
}

/// Characters with a meaning in RE2 syntax; any other stands for itself.
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

/// Whether `t` is literal text in RE2 syntax.
fn plain(t: &str) -> bool {
    !t.chars().any(is_meta)
}

impl Shape {
    /// What `pattern` (Go syntax, valid, unanchored) is known to match.
    pub(super) fn of(pattern: &str) -> Shape {
        if let Some(wrapped) = Shape::wrapped(pattern) {
            return wrapped;
        }
        if let Some(part) = pattern
            .strip_prefix(".*")
            .and_then(|p| p.strip_suffix(".*"))
            .filter(|p| plain(p))
        {
            return Shape::Contains(part.into());
        }
        if pattern.split('|').all(plain) {
            return Shape::Literals(pattern.split('|').map(Box::from).collect());
        }
        if pattern.contains('|') {
            return Shape::General;
        }
        let end = pattern.find(is_meta).unwrap_or(pattern.len());
        let mut prefix = &pattern[..end];
        // A quantifier after the literal run applies to its last character.
        if pattern[end..].starts_with(['?', '*', '{']) {
            let last = prefix.chars().next_back().map_or(0, char::len_utf8);
            prefix = &prefix[..prefix.len() - last];
        }
        if prefix.is_empty() {
            Shape::General
        } else {
            Shape::Prefix(prefix.into())
        }
    }

    fn wrapped(pattern: &str) -> Option<Shape> {
        // The first metacharacter must start the `.*`/`.+` (grouped or not)
        // and everything after it must be literal.
        let open = pattern.find(is_meta)?;
        let (prefix, rest) = pattern.split_at(open);
        let (grouped, non_empty, suffix) = [
            ("(.*)", true, false),
            ("(.+)", true, true),
            (".*", false, false),
            (".+", false, true),
        ]
        .into_iter()
        .find_map(|(wrap, grouped, non_empty)| {
            rest.strip_prefix(wrap).map(|s| (grouped, non_empty, s))
        })?;
        plain(suffix).then(|| Shape::Wrapped {
            prefix: prefix.into(),
            suffix: suffix.into(),
            non_empty,
            grouped,
        })
    }

    /// Whether `value` matches as a whole, if the shape tells; `None` when
    /// the engine must decide.
    #[inline]
    pub fn matches(&self, value: &str) -> Option<bool> {
        match self {
            Shape::Wrapped {
                prefix,
                suffix,
                non_empty,
                ..
            } => Some(Shape::wrapped_group(prefix, suffix, *non_empty, value).is_some()),
            Shape::Contains(part) => {
                Some(memchr::memmem::find(value.as_bytes(), part.as_bytes()).is_some())
            }
            Shape::Literals(set) => Some(set.iter().any(|l| **l == *value)),
            Shape::Prefix(p) if !value.starts_with(&**p) => Some(false),
            Shape::Prefix(_) | Shape::General => None,
        }
    }

    /// The span of the `.*`/`.+` when a `Wrapped` pattern matches `value`
    /// whole. The ends are literal and `.` matches anything, so that part
    /// is exactly what lies between them.
    #[inline]
    pub fn wrapped_group(
        prefix: &str,
        suffix: &str,
        non_empty: bool,
        value: &str,
    ) -> Option<(usize, usize)> {
        let min = prefix.len() + suffix.len() + usize::from(non_empty);
        (value.len() >= min && value.starts_with(prefix) && value.ends_with(suffix))
            .then(|| (prefix.len(), value.len() - suffix.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;
    use crate::regex::GoRegex;

    fn wrapped(prefix: &str, suffix: &str, non_empty: bool) -> Shape {
        Shape::Wrapped {
            prefix: prefix.into(),
            suffix: suffix.into(),
            non_empty,
            grouped: true,
        }
    }

    fn bare(prefix: &str, suffix: &str, non_empty: bool) -> Shape {
        Shape::Wrapped {
            prefix: prefix.into(),
            suffix: suffix.into(),
            non_empty,
            grouped: false,
        }
    }

    #[test]
    fn shapes_agree_with_the_engine() {
        let cases = [
            ("(.*)", wrapped("", "", false)),
            ("(.+)", wrapped("", "", true)),
            ("node_(.*)_total", wrapped("node_", "_total", false)),
            ("ab(.+)b", wrapped("ab", "b", true)),
            ("(.*)é", wrapped("", "é", false)),
            ("(.*)(.*)", Shape::General),
            ("", Shape::Literals(["".into()].into())),
            (
                "Pending|Failed|",
                Shape::Literals(["Pending".into(), "Failed".into(), "".into()].into()),
            ),
            ("__meta_x_(.+)", wrapped("__meta_x_", "", true)),
            (r"__meta_x_(.+)\d", Shape::Prefix("__meta_x_".into())),
            ("abc?", Shape::Prefix("ab".into())),
            ("é*x", Shape::General),
            ("a(b)|c", Shape::General),
            (".*x", bare("", "x", false)),
            (".*", bare("", "", false)),
            (".+", bare("", "", true)),
            ("ab.*", bare("ab", "", false)),
            ("a.+b", bare("a", "b", true)),
            (".*b.*", Shape::Contains("b".into())),
            ("a.*b.*", Shape::Prefix("a".into())),
            (".*é.*", Shape::Contains("é".into())),
            (".*.*", Shape::Contains("".into())),
            ("a.*.*", Shape::Prefix("a".into())),
            ("é?x", Shape::General),
            ("x{2}", Shape::General),
        ];
        let values = [
            "",
            "Pending",
            "Failed",
            "Pend",
            "__meta_x_",
            "__meta_x_a",
            "ab",
            "abc",
            "abcc",
            "x",
            "éx",
            "c",
            "é",
            "node__total",
            "node_a_total",
            "node_total",
            "abb",
            "abcb",
        ];
        for (pattern, shape) in cases {
            let r = GoRegex::new(pattern).unwrap();
            assert_eq!(r.shape(), &shape, "{pattern}");
            for v in values {
                assert_eq!(r.is_match(v), r.compiled().is_match(v), "{pattern} on {v}");
                if let Shape::Wrapped {
                    prefix,
                    suffix,
                    non_empty,
                    grouped: true,
                } = &shape
                {
                    let engine = r.compiled().captures(v).and_then(|c| c.get(1));
                    let ours = Shape::wrapped_group(prefix, suffix, *non_empty, v);
                    assert_eq!(
                        ours,
                        engine.map(|m| (m.start(), m.end())),
                        "{pattern} on {v}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// Whatever shape a pattern built from shortcut-prone pieces gets,
        /// the shortcut answers as the engine does, and a grouped wrap
        /// finds the engine's group 1.
        #[test]
        fn shortcuts_agree_with_the_engine_on_random_patterns(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "b", "é", "_", ".*", ".+", "(.*)", "(.+)", "|", "?", r"\d", ".",
                ]),
                0..6,
            ),
            values in proptest::collection::vec("[abé_1]{0,5}", 1..8),
        ) {
            let pattern = pieces.concat();
            let Ok(r) = GoRegex::new(&pattern) else {
                return Ok(());
            };
            for v in &values {
                proptest::prop_assert_eq!(
                    r.is_match(v),
                    r.compiled().is_match(v),
                    "{} on {}", pattern, v
                );
                if let Shape::Wrapped { prefix, suffix, non_empty, grouped: true } = r.shape() {
                    let engine = r.compiled().captures(v).and_then(|c| c.get(1));
                    proptest::prop_assert_eq!(
                        Shape::wrapped_group(prefix, suffix, *non_empty, v),
                        engine.map(|m| (m.start(), m.end())),
                        "{} on {}", pattern, v
                    );
                }
            }
        }
    }
}
