//! A serde deserializer over the positioned YAML tree, with the strictness
//! and the zero-value habits of Go's `yaml.UnmarshalStrict` (gopkg.in/yaml.v2),
//! which Prometheus uses:
//!
//! * a null where a string, number, list, map or struct is expected gives
//!   that type's empty value (so `job_name:` is an empty job name, and a
//!   bare `global:` keeps every default);
//! * unknown struct fields and repeated keys are errors, worded as Go words
//!   them (`field x not found in type config.plain`);
//! * every error carries the line, column and field path where it arose.
//!
//! Go's inline structs (`yaml:",inline"`, e.g. the HTTP client settings that
//! sit directly in a scrape config) are fields whose serde name starts with
//! `$inline`: they receive the keys of the enclosing mapping that the
//! enclosing struct does not claim itself, and a key that no struct claims
//! is an unknown field.

mod access;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::rc::Rc;

use serde::de::{self, IntoDeserializer, Visitor};

use access::{MapAccess, SeqAccess};

use super::{Mark, Node, Value};
use crate::validate::Seg;

/// Prefix of the serde name of a field that is inlined, as Go's `,inline`.
pub(crate) const INLINE: &str = "$inline";

/// An error met while decoding the tree into Rust types.
#[derive(Debug, Clone)]
pub(crate) struct DeError {
    pub(crate) message: String,
    pub(crate) mark: Option<Mark>,
    pub(crate) path: Vec<Seg>,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Other,
    UnknownField(String),
    DuplicateField(&'static str),
}

impl DeError {
    fn new(message: String) -> Self {
        DeError {
            message,
            mark: None,
            path: Vec::new(),
            kind: Kind::Other,
        }
    }

    fn at(mut self, mark: Mark) -> Self {
        self.mark.get_or_insert(mark);
        self
    }

    fn under(mut self, seg: Seg) -> Self {
        self.path.insert(0, seg);
        self
    }

    /// Words an unknown or repeated field as Go does, now that the type is
    /// known.
    fn in_type(mut self, rust_name: &str) -> Self {
        let ty = go_type_name(rust_name);
        match std::mem::replace(&mut self.kind, Kind::Other) {
            Kind::UnknownField(f) => self.message = format!("field {f} not found in type {ty}"),
            Kind::DuplicateField(f) => self.message = format!("field {f} already set in type {ty}"),
            Kind::Other => {}
        }
        self
    }

    fn type_error(node: &Node, expected: &str) -> Self {
        let shown = match &node.value {
            Value::Scalar { text, .. } => {
                format!(" `{}`", text.chars().take(40).collect::<String>())
            }
            _ => String::new(),
        };
        DeError::new(format!(
            "unmarshal errors: cannot unmarshal {}{shown} into {expected}",
            node.kind_name()
        ))
        .at(node.mark)
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string())
    }

    // Type and range errors read as Go's ("cannot unmarshal !!int `-1`
    // into uint"), which tools and people grep for.
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "unmarshal errors: cannot unmarshal {unexp} into {exp}"
        ))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "unmarshal errors: cannot unmarshal {unexp} into {exp}"
        ))
    }

    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("field {field} not found"));
        e.kind = Kind::UnknownField(field.to_owned());
        e
    }

    fn duplicate_field(field: &'static str) -> Self {
        let mut e = DeError::new(format!("field {field} already set"));
        e.kind = Kind::DuplicateField(field);
        e
    }
}

/// The Go type Prometheus's error would name for one of our structs: the
/// `plain` alias its `UnmarshalYAML` decodes into, in the Go package the
/// struct mirrors.
fn go_type_name(rust_name: &str) -> String {
    if rust_name.starts_with("Kubernetes") {
        return "kubernetes.plain".to_owned();
    }
    if let Some(go) = crate::web::go_type_name(rust_name) {
        return go.to_owned();
    }
    if rust_name == "RelabelConfig" {
        return "relabel.plain".to_owned();
    }
    if let Some(kind) = rust_name.strip_suffix("SdConfig") {
        return format!("{}.plain", kind.to_ascii_lowercase());
    }
    "config.plain".to_owned()
}

/// Decodes `T` from a tree node.
pub(crate) fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDe { node })
}

/// Deserializer for one node.
#[derive(Clone, Copy)]
pub(crate) struct NodeDe<'a> {
    pub(crate) node: &'a Node,
}

fn parse_bool(text: &str) -> Option<bool> {
    // YAML 1.1 booleans, as gopkg.in/yaml.v2 resolves them.
    match text {
        "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let v = if let Some(h) = digits.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = digits.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()?
    } else if let Some(b) = digits.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ => {
            let t: String = text.chars().filter(|&c| c != '_').collect();
            if t.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
                && t.bytes().any(|b| b.is_ascii_digit())
            {
                t.parse().ok()
            } else {
                None
            }
        }
    }
}

impl<'a> NodeDe<'a> {
    fn int<V: Visitor<'a>>(self, visitor: V, what: &str) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_i64(0),
            Value::Scalar { text, plain: true } => match parse_int(text) {
                Some(v) if v < 0 => match i64::try_from(v) {
                    Ok(v) => visitor.visit_i64(v),
                    Err(_) => Err(DeError::type_error(self.node, what)),
                },
                Some(v) => match u64::try_from(v) {
                    Ok(v) => visitor.visit_u64(v),
                    Err(_) => Err(DeError::type_error(self.node, what)),
                },
                None => Err(DeError::type_error(self.node, what)),
            },
            _ => Err(DeError::type_error(self.node, what)),
        }
        .map_err(|e| e.at(self.node.mark))
    }

    fn float<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_f64(0.0),
            Value::Scalar { text, plain: true } => match parse_float(text) {
                Some(v) => visitor.visit_f64(v),
                None => Err(DeError::type_error(self.node, "float64")),
            },
            _ => Err(DeError::type_error(self.node, "float64")),
        }
        .map_err(|e| e.at(self.node.mark))
    }

    fn entries(&self) -> Vec<(&'a Node, &'a Node)> {
        match &self.node.value {
            Value::Map(entries) => entries.iter().map(|(k, v)| (k, v)).collect(),
            _ => Vec::new(),
        }
    }
}

macro_rules! forward_int {
    ($($method:ident => $go:literal),*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.int(visitor, $go)
        }
    )*};
}

impl<'a> de::Deserializer<'a> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        match &node.value {
            Value::Null => visitor.visit_unit(),
            Value::Scalar { text, plain: true } => {
                if let Some(b) = parse_bool(text) {
                    visitor.visit_bool(b)
                } else if let Some(i) = parse_int(text) {
                    match i64::try_from(i) {
                        Ok(i) => visitor.visit_i64(i),
                        Err(_) => visitor.visit_borrowed_str(text),
                    }
                } else if let Some(f) = parse_float(text) {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_borrowed_str(text)
                }
            }
            Value::Scalar { text, .. } => visitor.visit_borrowed_str(text),
            Value::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(bytes),
            },
            Value::Seq(_) => self.deserialize_seq(visitor),
            Value::Map(_) => self.deserialize_map(visitor),
        }
        .map_err(|e| e.at(node.mark))
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_bool(false),
            Value::Scalar { text, plain: true } => match parse_bool(text) {
                Some(b) => visitor.visit_bool(b),
                None => Err(DeError::type_error(self.node, "bool")),
            },
            _ => Err(DeError::type_error(self.node, "bool")),
        }
        .map_err(|e| e.at(self.node.mark))
    }

    forward_int!(
        deserialize_i8 => "int8", deserialize_i16 => "int16", deserialize_i32 => "int",
        deserialize_i64 => "int64", deserialize_u8 => "uint8", deserialize_u16 => "uint16",
        deserialize_u32 => "uint32", deserialize_u64 => "uint64"
    );

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.float(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.float(visitor)
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_borrowed_str(""),
            Value::Scalar { text, .. } => visitor.visit_borrowed_str(text),
            Value::Binary(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(bytes),
            },
            _ => Err(DeError::type_error(self.node, "string")),
        }
        .map_err(|e| e.at(self.node.mark))
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Binary(bytes) => visitor
                .visit_borrowed_bytes(bytes)
                .map_err(|e: DeError| e.at(self.node.mark)),
            _ => self.deserialize_str(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.at(self.node.mark))
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: &[Node] = match &self.node.value {
            Value::Null => &[],
            Value::Seq(items) => items,
            _ => return Err(DeError::type_error(self.node, "a list")),
        };
        visitor
            .visit_seq(SeqAccess {
                items: items.iter().enumerate(),
            })
            .map_err(|e| e.at(self.node.mark))
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Null | Value::Map(_)) {
            return Err(DeError::type_error(self.node, "a map"));
        }
        let mut seen = HashSet::new();
        for (k, _) in self.entries() {
            if let Value::Scalar { text, .. } = &k.value {
                if !seen.insert(text.as_str()) {
                    return Err(DeError::new(format!("key {text:?} already set in map")).at(k.mark));
                }
            }
        }
        let mut access = MapAccess::new(self.entries(), Vec::new(), None, self.node.mark);
        let r = visitor.visit_map(&mut access);
        r.map_err(|e| access.locate(e))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Null | Value::Map(_)) {
            return Err(DeError::type_error(self.node, &format!("a {name} map")));
        }
        let inline: Vec<&'static str> = fields
            .iter()
            .copied()
            .filter(|f| f.starts_with(INLINE))
            .collect();
        if inline.is_empty() {
            let mut access = MapAccess::new(self.entries(), Vec::new(), None, self.node.mark);
            let r = visitor.visit_map(&mut access);
            return r.map_err(|e| access.locate(e).in_type(name));
        }
        let (own, rest): (Vec<_>, Vec<_>) = self.entries().into_iter().partition(|(k, _)| {
            matches!(&k.value, Value::Scalar { text, .. } if fields.contains(&text.as_str()))
        });
        let rest = Rc::new(RefCell::new(rest));
        let mut access = MapAccess::new(own, inline, Some(rest.clone()), self.node.mark);
        let value = visitor
            .visit_map(&mut access)
            .map_err(|e| access.locate(e).in_type(name))?;
        let left = rest.borrow();
        if let Some((k, _)) = left.first() {
            let key = match &k.value {
                Value::Scalar { text, .. } => text.clone(),
                _ => format!("{:?}", k.value),
            };
            return Err(DeError::unknown_field_in(&key, name).at(k.mark));
        }
        Ok(value)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar { text, .. } => visitor.visit_enum(text.as_str().into_deserializer()),
            Value::Null => visitor.visit_enum("".into_deserializer()),
            _ => Err(DeError::type_error(self.node, "a string")),
        }
        .map_err(|e: DeError| e.at(self.node.mark))
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

impl DeError {
    fn unknown_field_in(field: &str, rust_name: &str) -> Self {
        let mut e = DeError::new(String::new());
        e.kind = Kind::UnknownField(field.to_owned());
        e.path.push(Seg::Key(field.to_owned()));
        e.in_type(rust_name)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::yaml::parse;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        a: u32,
        b: String,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Outer {
        name: String,
        flag: bool,
        #[serde(rename = "$inline")]
        inner: Inner,
        list: Vec<u32>,
    }

    fn load<T: for<'a> Deserialize<'a>>(text: &str) -> Result<T, DeError> {
        let doc = parse(text).map_err(|e| DeError::new(e.message))?;
        let v: T = from_node(&doc)?;
        Ok(v)
    }

    #[test]
    fn inline_fields_take_unclaimed_keys() {
        let got: Outer = load("name: x\na: 3\nflag: yes\nb: hi\nlist: [1, 2]\n").unwrap();
        assert_eq!(
            got,
            Outer {
                name: "x".into(),
                flag: true,
                inner: Inner {
                    a: 3,
                    b: "hi".into()
                },
                list: vec![1, 2],
            }
        );
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let e = load::<Outer>("name: x\nnope: 1\n").unwrap_err();
        assert_eq!(e.message, "field nope not found in type config.plain");
        assert_eq!(e.mark, Some(Mark { line: 2, col: 1 }));
        let e = load::<Inner>("a: 1\nzz: 2\n").unwrap_err();
        assert_eq!(e.message, "field zz not found in type config.plain");
    }

    #[test]
    fn repeated_keys_are_errors() {
        let e = load::<Outer>("name: x\nname: y\n").unwrap_err();
        assert_eq!(e.message, "field name already set in type config.plain");
        let e = load::<std::collections::BTreeMap<String, String>>("a: x\na: y\n").unwrap_err();
        assert_eq!(e.message, "key \"a\" already set in map");
    }

    #[test]
    fn nulls_give_zero_values() {
        let got: Outer = load("name:\nlist:\n").unwrap();
        assert_eq!(got, Outer::default());
        assert_eq!(load::<Option<u32>>("~").unwrap(), None);
    }

    #[test]
    fn type_errors_name_the_path() {
        let e = load::<Outer>("list: [1, {x: 1}]\n").unwrap_err();
        assert!(e.message.contains("unmarshal errors"), "{}", e.message);
        assert_eq!(e.path, vec![Seg::Key("list".into()), Seg::Index(1)]);
        assert_eq!(e.mark, Some(Mark { line: 1, col: 11 }), "the opening brace");
    }

    #[test]
    fn range_errors_read_as_go() {
        let e = load::<Inner>("a: -1\n").unwrap_err();
        assert_eq!(
            e.message,
            "unmarshal errors: cannot unmarshal integer `-1` into u32"
        );
    }

    #[test]
    fn numbers_in_go_syntax() {
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("-1_000"), Some(-1000));
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("abc"), None);
    }
}
