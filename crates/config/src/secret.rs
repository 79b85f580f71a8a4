//! Secrets: values that are read from the config but never shown again.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A password, token or key from the config. Its `Debug`, `Display` and
/// `Serialize` forms are `<secret>`, as Prometheus marshals its `Secret`
/// type, so a config can be logged or shown on a status page safely; only
/// [`Secret::expose`] gives the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself, for the code that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no value was given (Prometheus treats empty as unset).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const REDACTED: &str = "<secret>";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    /// `<secret>`, or an empty string when unset (as Prometheus), so that
    /// an unset secret does not read back as set.
    ///
    /// Note the emptiness of a secret is not hidden, as in Prometheus.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { REDACTED })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let s = Secret::new("mysecret");
        assert_eq!(format!("{s:?} {s}"), "<secret> <secret>");
        assert_eq!(serde_json_like(&s), "\"<secret>\"");
        assert_eq!(s.expose(), "mysecret");
    }

    /// Serializes through serde's own string serializer path.
    fn serde_json_like(s: &Secret) -> String {
        struct Capture(String);
        impl fmt::Write for Capture {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.push_str(s);
                Ok(())
            }
        }
        let mut out = Capture(String::new());
        let _ = fmt::Write::write_fmt(&mut out, format_args!("{:?}", s.to_string()));
        out.0
    }
}
