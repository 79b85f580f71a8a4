//! Shortcuts for patterns whose matches are known from their text.

/// Patterns common in relabel rules whose matches are known from the text:
/// label filters and keep/drop rules are mostly literals, alternations of
/// literals or `prefix_(.+)`, and `replace` rules mostly `(.*)`, `(.+)` or
/// `prefix_(.*)_suffix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `prefix(.*)suffix` or `prefix(.+)suffix` with literal ends (`(.*)`
    /// itself included): group 1 is what lies between the ends.
    Wrapped {
        /// Literal text before the group.
        prefix: Box<str>,
        /// Literal text after the group.
        suffix: Box<str>,
        /// Whether the group is `(.+)`.
        non_empty: bool,
    },
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

impl Shape {
    /// What `pattern` (Go syntax, unanchored) is known to match.
    pub(super) fn of(pattern: &str) -> Shape {
        if let Some(wrapped) = Shape::wrapped(pattern) {
            return wrapped;
        }
        if pattern.split('|').all(|alt| !alt.chars().any(is_meta)) {
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
        let open = pattern.find('(')?;
        let (prefix, rest) = pattern.split_at(open);
        let (non_empty, suffix) = match (rest.strip_prefix("(.*)"), rest.strip_prefix("(.+)")) {
            (Some(s), _) => (false, s),
            (_, Some(s)) => (true, s),
            _ => return None,
        };
        let plain = |t: &str| !t.chars().any(is_meta);
        (plain(prefix) && plain(suffix)).then(|| Shape::Wrapped {
            prefix: prefix.into(),
            suffix: suffix.into(),
            non_empty,
        })
    }

    /// The span of group 1 when a `Wrapped` pattern matches `value` whole.
    /// The ends are literal and `.` matches anything, so the group is
    /// exactly what lies between them.
    pub(crate) fn wrapped_group(
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
    use crate::Regex;

    fn wrapped(prefix: &str, suffix: &str, non_empty: bool) -> Shape {
        Shape::Wrapped {
            prefix: prefix.into(),
            suffix: suffix.into(),
            non_empty,
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
            (".*x", Shape::General),
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
            let r = Regex::new(pattern).unwrap();
            assert_eq!(r.shape(), &shape, "{pattern}");
            for v in values {
                assert_eq!(r.is_match(v), r.compiled().is_match(v), "{pattern} on {v}");
                if let Shape::Wrapped {
                    prefix,
                    suffix,
                    non_empty,
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
}
