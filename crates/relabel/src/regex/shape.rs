//! Shortcuts for patterns whose matches are known from their text.

/// Patterns common in relabel rules whose matches are known from the text:
/// label filters and keep/drop rules are mostly literals, alternations of
/// literals or `prefix_(.+)`, and `replace` rules mostly `(.*)` or `(.+)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `(.*)`: every value; group 1 is the whole value.
    All,
    /// `(.+)`: every non-empty value; group 1 is the whole value.
    NonEmpty,
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
        match pattern {
            "(.*)" => return Shape::All,
            "(.+)" => return Shape::NonEmpty,
            _ => {}
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
}

#[cfg(test)]
mod tests {
    use super::Shape;
    use crate::Regex;

    #[test]
    fn shapes_agree_with_the_engine() {
        let cases = [
            ("(.*)", Shape::All),
            ("(.+)", Shape::NonEmpty),
            ("", Shape::Literals(["".into()].into())),
            (
                "Pending|Failed|",
                Shape::Literals(["Pending".into(), "Failed".into(), "".into()].into()),
            ),
            ("__meta_x_(.+)", Shape::Prefix("__meta_x_".into())),
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
        ];
        for (pattern, shape) in cases {
            let r = Regex::new(pattern).unwrap();
            assert_eq!(r.shape(), &shape, "{pattern}");
            for v in values {
                assert_eq!(r.is_match(v), r.compiled().is_match(v), "{pattern} on {v}");
            }
        }
    }
}
