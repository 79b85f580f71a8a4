//! Template expansion as Go's `Regexp.ExpandString` does it.
//!
//! Prometheus expands `target_label` and `replacement` with Go's rules,
//! which differ from `regex::Captures::expand` in ways a config can notice:
//! - `$name` takes the longest run of Unicode letters, digits and `_`, so
//!   `$1x` names a group `1x` (usually absent, so empty), not group 1 then `x`;
//! - a number with a leading zero (`$01`) is a name, not group 1;
//! - a number of 10^8 or more is a name;
//! - a named reference picks the first group of that name that took part
//!   in the match; an absent group expands to nothing;
//! - `$$` is `$`; a `$` not followed by a valid reference is kept as is.

/// Capture positions of one match: `(start, end)` per group, `None` for a
/// group that did not take part.
pub(crate) trait Groups {
    /// Position of group `i`, if it exists and took part.
    fn group(&self, i: usize) -> Option<(usize, usize)>;
    /// Index of the first participating group named `name`.
    fn named(&self, name: &str) -> Option<usize>;
}

/// Appends the expansion of `template` against `src` to `dst`.
pub(crate) fn expand(dst: &mut String, template: &str, src: &str, groups: &impl Groups) {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        dst.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            dst.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = reference(rest) else {
            dst.push('$');
            continue;
        };
        rest = after;
        let idx = match group_number(name) {
            Some(n) => Some(n),
            None => groups.named(name),
        };
        if let Some((s, e)) = idx.and_then(|i| groups.group(i)) {
            dst.push_str(&src[s..e]);
        }
    }
    dst.push_str(rest);
}

/// Splits `$`-less text after a `$` into a reference name and what follows:
/// `name` or `{name}` where name is letters, digits and `_`.
fn reference(s: &str) -> Option<(&str, &str)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    if braced {
        let after = body[end..].strip_prefix('}')?;
        return Some((name, after));
    }
    Some((name, &body[end..]))
}

/// The group number `name` denotes, if it is one in Go's sense: ASCII
/// digits, no leading zero, below 10^8.
fn group_number(name: &str) -> Option<usize> {
    if name.len() > 1 && name.starts_with('0') {
        return None;
    }
    let mut n: usize = 0;
    for b in name.bytes() {
        if !b.is_ascii_digit() || n >= 100_000_000 {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

/// Groups of a `regex` crate match, with the groups' Go names.
pub(crate) struct Locations<'a> {
    pub(crate) names: &'a [Option<Box<str>>],
    pub(crate) locs: &'a regex::CaptureLocations,
}

impl Groups for Locations<'_> {
    fn group(&self, i: usize) -> Option<(usize, usize)> {
        self.locs.get(i)
    }

    fn named(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .enumerate()
            .find(|&(i, n)| n.as_deref() == Some(name) && self.locs.get(i).is_some())
            .map(|(i, _)| i)
    }
}

/// The groups of a pattern known to match a whole value: group 0 is the
/// value; group 1, if the pattern has it, is known from the pattern's shape.
pub(crate) struct WholeValue {
    /// Length of the value.
    pub(crate) len: usize,
    /// Span of group 1, for patterns with one group.
    pub(crate) group_1: Option<(usize, usize)>,
}

impl Groups for WholeValue {
    fn group(&self, i: usize) -> Option<(usize, usize)> {
        match i {
            0 => Some((0, self.len)),
            1 => self.group_1,
            _ => None,
        }
    }

    fn named(&self, _: &str) -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, value: &str, template: &str, want: &str) {
        let re = crate::Regex::new(pattern).unwrap();
        let compiled = re.compiled();
        let mut locs = compiled.capture_locations();
        let found = compiled.captures_read(&mut locs, value);
        assert!(found.is_some(), "{pattern} !~ {value}");
        let mut got = String::new();
        let groups = Locations {
            names: re.group_names(),
            locs: &locs,
        };
        expand(&mut got, template, value, &groups);
        assert_eq!(got, want, "{pattern:?} {value:?} {template:?}");
    }

    #[test]
    fn go_expansion_rules() {
        let (p, v) = ("(a)(b)?(?P<n>c)(x)?", "ac");
        check(p, v, "$1", "a");
        check(p, v, "${1}", "a");
        check(p, v, "$1x", ""); // group "1x" does not exist
        check(p, v, "${1}x", "ax");
        check(p, v, "$2", ""); // did not take part
        check(p, v, "$n-${n}", "c-c");
        check(p, v, "$01", ""); // leading zero: a name
        check(p, v, "$0", "ac");
        check(p, v, "$99", "");
        check(p, v, "$$1", "$1");
        check(p, v, "a$", "a$");
        check(p, v, "${1", "${1");
        check(p, v, "${}", "${}");
        check(p, v, "$-", "$-");
        check(p, v, "$1.$3", "a.c");
        check(p, v, "$1é", ""); // é is a letter, so part of the name
        check(p, v, "$100000000", "");
        // Go allows a name twice and takes the first group that took part.
        check("(?P<d>x)?(?P<d>a)(?P<1a>c)", "ac", "$d-${1a}", "a-c");
    }

    #[test]
    fn whole_value_groups() {
        let mut got = String::new();
        let groups = WholeValue {
            len: 3,
            group_1: Some((0, 3)),
        };
        expand(&mut got, "x${1}y$0$2", "val", &groups);
        assert_eq!(got, "xvalyval");
        got.clear();
        let groups = WholeValue {
            len: 3,
            group_1: None,
        };
        expand(&mut got, "x${1}y$0", "val", &groups);
        assert_eq!(got, "xyval");
    }
}
