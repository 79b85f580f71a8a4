//! Scalar types of `prometheus.yml` and their decoding: durations, byte
//! sizes, URLs, label names and values, and lists whose null entries
//! Prometheus rejects with a message of their own.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::{Serialize, Serializer};

pub(crate) use model::format_duration;

/// `model.Duration` fields: a Prometheus duration string; null or empty is
/// zero, which Prometheus reads as "unset, use the default".
pub(crate) mod duration {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(Duration::ZERO);
        }
        model::parse_duration(&s).map_err(de::Error::custom)
    }

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&model::format_duration(*d))
    }
}

/// `units.Base2Bytes` fields (`body_size_limit`, retention size): `512MB`,
/// `1GiB`, powers of 1024, possibly negative so validation can reject it
/// with Prometheus's message.
pub(crate) mod byte_size {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(de::Error::custom)
    }

    pub(crate) fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*v))
    }

    /// Formats as Go's `Base2Bytes.String` does: the largest power-of-1024
    /// unit that divides the size exactly (`100MiB`), else bytes.
    pub(crate) fn format(v: i64) -> String {
        const UNITS: [(&str, u32); 6] = [
            ("EiB", 60),
            ("PiB", 50),
            ("TiB", 40),
            ("GiB", 30),
            ("MiB", 20),
            ("KiB", 10),
        ];
        if v == 0 {
            return "0B".to_owned();
        }
        for (unit, shift) in UNITS {
            let size = 1i64 << shift;
            if v % size == 0 {
                return format!("{}{unit}", v / size);
            }
        }
        format!("{v}B")
    }

    /// Parses as Go's `units.ParseBase2Bytes`, with its error wording.
    pub(crate) fn parse(s: &str) -> Result<i64, String> {
        if s.is_empty() || s == "0" {
            return Ok(0);
        }
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let v = model::parse_byte_size(body).map_err(|_| {
            let unit: String = body
                .chars()
                .skip_while(|c| c.is_ascii_digit() || *c == '.')
                .take_while(|c| !c.is_ascii_digit())
                .collect();
            format!("units: unknown unit {unit} in {s}")
        })?;
        let v = i64::try_from(v).map_err(|_| format!("units: overflow in {s}"))?;
        Ok(if neg { -v } else { v })
    }
}

/// A URL split as Go's `net/url.Parse` splits it, with its errors: enough
/// to apply Prometheus's checks (scheme, host) and to keep the text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoUrl {
    /// The URL as written.
    pub raw: String,
    /// The scheme, lower-cased; empty when there is none.
    pub scheme: String,
    /// `host[:port]`, empty when the URL has no authority.
    pub host: String,
}

impl GoUrl {
    /// Parses `s`; the error reads as Go's (`parse "…": missing protocol scheme`).
    pub fn parse(s: &str) -> Result<GoUrl, String> {
        let fail = |why: &str| Err(format!("parse {s:?}: {why}"));
        if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return fail("net/url: invalid control character in URL");
        }
        let no_frag = s.split('#').next().unwrap_or("");
        let mut scheme = "";
        let mut rest = no_frag;
        for (i, c) in no_frag.char_indices() {
            match c {
                'a'..='z' | 'A'..='Z' => {}
                '0'..='9' | '+' | '-' | '.' if i > 0 => {}
                ':' => {
                    if i == 0 {
                        return fail("missing protocol scheme");
                    }
                    scheme = &no_frag[..i];
                    rest = &no_frag[i + 1..];
                    break;
                }
                _ => break,
            }
        }
        let rest = rest.split('?').next().unwrap_or("");
        let mut host = "";
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            host = authority.rsplit('@').next().unwrap_or("");
            let port_start = match host.rfind(']') {
                Some(b) => host[b..].find(':').map(|p| p + b),
                None => host.find(':'),
            };
            if let Some(p) = port_start {
                let port = &host[p + 1..];
                if !port.bytes().all(|b| b.is_ascii_digit()) {
                    return fail(&format!("invalid port {:?} after host", &host[p..]));
                }
            }
        } else if scheme.is_empty() {
            let first = rest.split('/').next().unwrap_or("");
            if first.contains(':') {
                return fail("first path segment in URL cannot contain colon");
            }
        }
        Ok(GoUrl {
            raw: s.to_owned(),
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_owned(),
        })
    }
}

impl fmt::Display for GoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for GoUrl {
    /// The URL with any password replaced by `xxxxx`, as Prometheus shows it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl GoUrl {
    /// The URL with any password replaced by `xxxxx`.
    pub fn redacted(&self) -> String {
        let Some(start) = self.raw.find("://").map(|i| i + 3) else {
            return self.raw.clone();
        };
        let rest = &self.raw[start..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let Some(at) = rest[..authority_end].rfind('@') else {
            return self.raw.clone();
        };
        match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:xxxxx{}",
                &self.raw[..start],
                &rest[..colon],
                &rest[at..]
            ),
            None => self.raw.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for GoUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GoUrl::parse(&s).map_err(de::Error::custom)
    }
}

/// Quotes bytes as Go's `%q` does: invalid UTF-8 as `\xff`.
pub(crate) fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

/// Label sets (`external_labels`, static target labels): names must be
/// non-empty UTF-8 and values UTF-8, checked while decoding so that a
/// `!!binary` name with invalid bytes gives Prometheus's message.
pub(crate) mod label_set {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        d.deserialize_map(LabelSetVisitor)
    }

    struct LabelSetVisitor;

    impl<'de> Visitor<'de> for LabelSetVisitor {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of label names to values")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<Text>()? {
                let value = map.next_value::<Text>()?;
                let name = match String::from_utf8(name.0) {
                    Ok(n) if !n.is_empty() => n,
                    Ok(n) => {
                        return Err(de::Error::custom(format!(
                            "{n:?} is not a valid label name"
                        )))
                    }
                    Err(e) => {
                        return Err(de::Error::custom(format!(
                            "{} is not a valid label name",
                            go_quote(e.as_bytes())
                        )))
                    }
                };
                let value = String::from_utf8(value.0).map_err(|e| {
                    de::Error::custom(format!(
                        "{} is not a valid label value",
                        go_quote(e.as_bytes())
                    ))
                })?;
                out.insert(name, value);
            }
            Ok(out)
        }
    }
}

/// Text that may not be UTF-8 (a `!!binary` scalar), checked by its user.
struct Text(Vec<u8>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.as_bytes().to_vec()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Text, E> {
                Ok(Text(v.to_vec()))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Defines a `deserialize_with` function for a list whose null entries are
/// an error with Prometheus's message for that list.
macro_rules! non_null_list {
    ($(#[$doc:meta])* $name:ident, $msg:literal) => {
        $(#[$doc])*
        pub(crate) fn $name<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
        where
            D: serde::Deserializer<'de>,
            T: serde::Deserialize<'de>,
        {
            let items: Vec<Option<T>> = serde::Deserialize::deserialize(d)?;
            items
                .into_iter()
                .map(|x| x.ok_or_else(|| <D::Error as serde::de::Error>::custom($msg)))
                .collect()
        }
    };
}
pub(crate) use non_null_list;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_as_go_units() {
        assert_eq!(byte_size::parse("100MB"), Ok(100 << 20));
        assert_eq!(byte_size::parse("-1GB"), Ok(-(1 << 30)));
        assert_eq!(byte_size::parse("0"), Ok(0));
        assert_eq!(
            byte_size::parse("100").unwrap_err(),
            "units: unknown unit  in 100"
        );
        assert_eq!(
            byte_size::parse("3XB").unwrap_err(),
            "units: unknown unit XB in 3XB"
        );
    }

    #[test]
    fn urls_as_go_parses_them() {
        let u = GoUrl::parse("https://user@host:9090/path?q=1").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str()), ("https", "host:9090"));
        let u = GoUrl::parse("invalid").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str()), ("", ""));
        let u = GoUrl::parse("kubernetes:443").unwrap();
        assert_eq!(u.scheme, "kubernetes");
        assert!(GoUrl::parse("://invalid")
            .unwrap_err()
            .ends_with("missing protocol scheme"));
        assert!(GoUrl::parse("http://h:port")
            .unwrap_err()
            .contains("invalid port"));
        assert_eq!(GoUrl::parse("http://").unwrap().host, "");
    }

    #[test]
    fn sizes_print_as_go() {
        assert_eq!(byte_size::format(100 << 20), "100MiB");
        assert_eq!(byte_size::format(1500), "1500B");
        assert_eq!(byte_size::format(0), "0B");
        assert_eq!(
            byte_size::parse(&byte_size::format(-(3 << 30))),
            Ok(-(3 << 30))
        );
        let u = GoUrl::parse("http://user:pw@h:1/p").unwrap();
        assert_eq!(u.redacted(), "http://user:xxxxx@h:1/p");
        assert_eq!(
            GoUrl::parse("http://user@h/p").unwrap().redacted(),
            "http://user@h/p"
        );
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote(&[0xff]), r#""\xff""#);
        assert_eq!(go_quote("a\"b".as_bytes()), r#""a\"b""#);
    }
}
