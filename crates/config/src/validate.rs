//! The validation pass that runs after decoding: Prometheus's checks, each
//! failing with Prometheus's message and the field path where it failed, so
//! the loader can look the line up in the YAML tree.

use std::fmt;

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A list index, from 0.
    Index(usize),
}

/// A field path such as `scrape_configs[0].relabel_configs[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<Seg>);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            let plain = |k: &str| {
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            };
            match seg {
                Seg::Key(k) if !plain(k) => write!(f, "[{k:?}]")?,
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A failed check: Prometheus's message and where it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) path: Vec<Seg>,
    pub(crate) message: String,
}

/// The result of a check.
pub(crate) type Check = Result<(), Invalid>;

/// A failed check at the current level.
pub(crate) fn invalid(message: impl Into<String>) -> Invalid {
    Invalid {
        path: Vec::new(),
        message: message.into(),
    }
}

impl Invalid {
    /// Places the error under the mapping key `key`.
    pub(crate) fn at(mut self, key: &str) -> Self {
        self.path.insert(0, Seg::Key(key.to_owned()));
        self
    }

    /// Places the error under list index `i`.
    pub(crate) fn at_index(mut self, i: usize) -> Self {
        self.path.insert(0, Seg::Index(i));
        self
    }

    /// Appends to the message, as Go's `fmt.Errorf("%w for ...")` does.
    pub(crate) fn context_suffix(mut self, suffix: impl fmt::Display) -> Self {
        self.message = format!("{}{suffix}", self.message);
        self
    }

    /// Prefixes the message, as Go's `fmt.Errorf("...: %w")` does.
    pub(crate) fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

/// How many of `flags` are set: Prometheus's "at most one of" checks.
pub(crate) fn count(flags: &[bool]) -> usize {
    flags.iter().filter(|&&b| b).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_field_accesses() {
        let e = invalid("x")
            .at("regex")
            .at_index(2)
            .at("relabel_configs")
            .at_index(0)
            .at("scrape_configs");
        assert_eq!(
            FieldPath(e.path).to_string(),
            "scrape_configs[0].relabel_configs[2].regex"
        );
    }

    #[test]
    fn odd_keys_are_quoted() {
        let e = invalid("x").at("").at("labels").at("http_headers");
        assert_eq!(FieldPath(e.path).to_string(), r#"http_headers.labels[""]"#);
        let p = FieldPath(vec![Seg::Key("a".into()), Seg::Key("x-y".into())]);
        assert_eq!(p.to_string(), r#"a["x-y"]"#);
    }

    #[test]
    fn counts_flags() {
        assert_eq!(count(&[true, false, true]), 2);
    }
}
