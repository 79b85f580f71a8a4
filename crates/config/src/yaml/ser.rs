//! Writing a config back as YAML (for a status page, or to check that what
//! was loaded reads back the same): a serde serializer into `yaml-rust2`'s
//! tree, then its emitter.
//!
//! As Go's `omitempty` does for most fields, unset options and empty lists
//! and maps are left out (empty strings are kept: some fields default to a
//! non-empty value, e.g. a relabel rule's `regex`, and must read back
//! empty); fields named `$inline…` are spliced into the enclosing mapping,
//! as Go's `,inline`. Secrets print as `<secret>`.

use std::fmt;

use serde::ser::{self, Serialize};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

use super::de::INLINE;

/// A value that cannot be written as YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write YAML: {0}")]
pub struct SerError(String);

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError(msg.to_string())
    }
}

/// Serializes `value` as a YAML document (without the `---` header).
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, SerError> {
    let tree = value.serialize(ToYaml)?;
    let mut out = String::new();
    YamlEmitter::new(&mut out)
        .dump(&tree)
        .map_err(|e| SerError(format!("{e:?}")))?;
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    Ok(format!("{}\n", body.trim_end()))
}

/// Whether a field with this value is left out.
fn is_empty(v: &Yaml) -> bool {
    match v {
        Yaml::Null => true,
        Yaml::Array(a) => a.is_empty(),
        Yaml::Hash(h) => h.is_empty(),
        _ => false,
    }
}

struct ToYaml;

type R = Result<Yaml, SerError>;

impl ser::Serializer for ToYaml {
    type Ok = Yaml;
    type Error = SerError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Yaml::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Yaml::Integer(v))
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Yaml::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        i64::try_from(v)
            .map(Yaml::Integer)
            .or_else(|_| Ok(Yaml::Real(v.to_string())))
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Yaml::Real(if v.is_nan() {
            ".nan".to_owned()
        } else if v.is_infinite() {
            if v > 0.0 { ".inf" } else { "-.inf" }.to_owned()
        } else {
            format!("{v:?}")
        }))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Yaml::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Yaml::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(Yaml::String(String::from_utf8_lossy(v).into_owned()))
    }
    fn serialize_none(self) -> R {
        Ok(Yaml::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Yaml::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(Yaml::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        Ok(Yaml::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        let mut h = Hash::new();
        h.insert(Yaml::String(variant.to_owned()), v.serialize(ToYaml)?);
        Ok(Yaml::Hash(h))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq, SerError> {
        Ok(Seq(Vec::new()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Seq, SerError> {
        Ok(Seq(Vec::new()))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Seq, SerError> {
        Ok(Seq(Vec::new()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Seq, SerError> {
        Ok(Seq(Vec::new()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map, SerError> {
        Ok(Map::default())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map, SerError> {
        Ok(Map::default())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Map, SerError> {
        Ok(Map::default())
    }
}

struct Seq(Vec<Yaml>);

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        self.0.push(v.serialize(ToYaml)?);
        Ok(())
    }
}

impl ser::SerializeSeq for Seq {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        self.push(v)
    }
    fn end(self) -> R {
        Ok(Yaml::Array(self.0))
    }
}

impl ser::SerializeTuple for Seq {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        self.push(v)
    }
    fn end(self) -> R {
        Ok(Yaml::Array(self.0))
    }
}

impl ser::SerializeTupleStruct for Seq {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        self.push(v)
    }
    fn end(self) -> R {
        Ok(Yaml::Array(self.0))
    }
}

impl ser::SerializeTupleVariant for Seq {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        self.push(v)
    }
    fn end(self) -> R {
        Ok(Yaml::Array(self.0))
    }
}

#[derive(Default)]
struct Map {
    entries: Hash,
    key: Option<Yaml>,
}

impl Map {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), SerError> {
        let value = v.serialize(ToYaml)?;
        if key.starts_with(INLINE) {
            if let Yaml::Hash(h) = value {
                self.entries.extend(h);
            }
            return Ok(());
        }
        if !is_empty(&value) {
            self.entries.insert(Yaml::String(key.to_owned()), value);
        }
        Ok(())
    }
}

impl ser::SerializeMap for Map {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), SerError> {
        self.key = Some(k.serialize(ToYaml)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), SerError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerError("BUG: map value without key".to_owned()))?;
        // Map entries are data (labels, headers): kept even when empty.
        self.entries.insert(key, v.serialize(ToYaml)?);
        Ok(())
    }
    fn end(self) -> R {
        Ok(Yaml::Hash(self.entries))
    }
}

impl ser::SerializeStruct for Map {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        self.field(key, v)
    }
    fn end(self) -> R {
        Ok(Yaml::Hash(self.entries))
    }
}

impl ser::SerializeStructVariant for Map {
    type Ok = Yaml;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        self.field(key, v)
    }
    fn end(self) -> R {
        Ok(Yaml::Hash(self.entries))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Inner {
        a: u32,
        b: String,
    }

    #[derive(Serialize)]
    struct Outer {
        name: String,
        empty: String,
        none: Option<u32>,
        #[serde(rename = "$inline")]
        inner: Inner,
        labels: BTreeMap<String, String>,
        list: Vec<f64>,
    }

    #[test]
    fn inline_fields_are_spliced_and_unset_ones_left_out() {
        let v = Outer {
            name: "true".into(),
            empty: String::new(),
            none: None,
            inner: Inner {
                a: 1,
                b: "x".into(),
            },
            labels: BTreeMap::from([("k".to_owned(), String::new())]),
            list: vec![0.5],
        };
        assert_eq!(
            to_string(&v).unwrap(),
            "name: \"true\"\nempty: \"\"\na: 1\nb: x\nlabels:\n  k: \"\"\nlist:\n  - 0.5\n"
        );
    }
}
