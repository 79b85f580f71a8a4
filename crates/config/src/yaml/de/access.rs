//! The access types of the deserializer: sequences, mappings, and the
//! inline fields that draw their keys from the enclosing mapping.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, Visitor};

use super::{DeError, NodeDe, INLINE};
use crate::validate::Seg;
use crate::yaml::{Mark, Node, Value};

pub(super) struct SeqAccess<'a> {
    pub(super) items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(NodeDe { node })
                .map(Some)
                .map_err(|e| e.at(node.mark).under(Seg::Index(i))),
        }
    }
}

pub(super) type Rest<'a> = Rc<RefCell<Vec<(&'a Node, &'a Node)>>>;

/// Entries of a mapping, then (for a struct with inline fields) one entry
/// per inline field whose value is drawn from the unclaimed keys.
pub(super) struct MapAccess<'a> {
    entries: std::vec::IntoIter<(&'a Node, &'a Node)>,
    inline: std::vec::IntoIter<&'static str>,
    rest: Option<Rest<'a>>,
    current: Option<(&'a Node, &'a Node)>,
    in_inline: bool,
    mark: Mark,
}

impl<'a> MapAccess<'a> {
    pub(super) fn new(
        entries: Vec<(&'a Node, &'a Node)>,
        inline: Vec<&'static str>,
        rest: Option<Rest<'a>>,
        mark: Mark,
    ) -> Self {
        MapAccess {
            entries: entries.into_iter(),
            inline: inline.into_iter(),
            rest,
            current: None,
            in_inline: false,
            mark,
        }
    }

    /// Places an error raised by the visitor itself (a repeated field, a
    /// failed conversion) at the key being read.
    pub(super) fn locate(&self, e: DeError) -> DeError {
        if e.mark.is_some() {
            return e;
        }
        match self.current {
            Some((k, _)) => {
                let e = e.at(k.mark);
                match &k.value {
                    Value::Scalar { text, .. } => e.under(Seg::Key(text.clone())),
                    _ => e,
                }
            }
            None => e.at(self.mark),
        }
    }
}

impl<'a> de::MapAccess<'a> for MapAccess<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if let Some((k, v)) = self.entries.next() {
            self.current = Some((k, v));
            let key_seg = match &k.value {
                Value::Scalar { text, .. } => Some(Seg::Key(text.clone())),
                _ => None,
            };
            return seed.deserialize(NodeDe { node: k }).map(Some).map_err(|e| {
                let e = e.at(k.mark);
                match key_seg {
                    Some(s) => e.under(s),
                    None => e,
                }
            });
        }
        match self.inline.next() {
            Some(name) => {
                self.in_inline = true;
                seed.deserialize(de::value::BorrowedStrDeserializer::new(name))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        if self.in_inline {
            let rest = self.rest.clone().ok_or_else(|| {
                DeError::new("BUG: inline field without enclosing mapping".into())
            })?;
            return seed.deserialize(InlineDe {
                rest,
                mark: self.mark,
            });
        }
        let (k, v) = self
            .current
            .ok_or_else(|| DeError::new("BUG: value requested before key".into()))?;
        seed.deserialize(NodeDe { node: v }).map_err(|e| {
            let e = e.at(v.mark);
            match &k.value {
                Value::Scalar { text, .. } => e.under(Seg::Key(text.clone())),
                _ => e,
            }
        })
    }
}

/// The value of an inline field: the enclosing mapping's unclaimed keys.
pub(super) struct InlineDe<'a> {
    rest: Rest<'a>,
    mark: Mark,
}

impl<'de> de::Deserializer<'de> for InlineDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
        Err(DeError::new("BUG: an inline field must be a struct".into()).at(self.mark))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let inline: Vec<&'static str> = fields
            .iter()
            .copied()
            .filter(|f| f.starts_with(INLINE))
            .collect();
        let own: Vec<_> = {
            let mut rest = self.rest.borrow_mut();
            let (own, left): (Vec<_>, Vec<_>) = rest.drain(..).partition(|(k, _)| {
                matches!(&k.value, Value::Scalar { text, .. } if fields.contains(&text.as_str()))
            });
            *rest = left;
            own
        };
        let mut access = MapAccess::new(own, inline, Some(self.rest.clone()), self.mark);
        let r = visitor.visit_map(&mut access);
        r.map_err(|e| access.locate(e).in_type(name))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}
