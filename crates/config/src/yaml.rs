//! A YAML document as a tree whose every node remembers its line and
//! column, so that any error — from the YAML syntax, from decoding into a
//! Rust type or from a later validation pass — can name where it happened.
//!
//! Why not a serde YAML crate directly: `serde_yaml` is archived, and its
//! maintained forks (`serde_norway`, `serde_yaml_ng`) drop the tag of a
//! `!!binary` scalar, which Prometheus's test vectors use to smuggle
//! non-UTF-8 bytes into label names. `yaml-rust2` (a maintained, pure-Rust,
//! YAML 1.2 parser) reports every event with its position and tag; the tree
//! built here and the deserializer in [`de`] on top of it give strictness as
//! Go's `yaml.UnmarshalStrict` has it (unknown and duplicate keys rejected)
//! and positions on every error.

pub(crate) mod de;
pub(crate) mod ser;

use std::collections::HashMap;

use base64::Engine as _;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts in its file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Mark {
    pub(crate) line: usize,
    pub(crate) col: usize,
}

impl From<Marker> for Mark {
    fn from(m: Marker) -> Self {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Mark {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// One node of a YAML document.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) mark: Mark,
}

/// The content of a node.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// An explicit or implicit null (`~`, `null`, or nothing at all).
    Null,
    /// A scalar; `plain` is false for quoted and block scalars, which never
    /// resolve to booleans, numbers or null.
    Scalar {
        text: String,
        plain: bool,
    },
    /// A `!!binary` scalar, already base64-decoded.
    Binary(Vec<u8>),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node's kind as Go's YAML library names it in type errors.
    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "!!null",
            Value::Scalar { .. } => "!!str",
            Value::Binary(_) => "!!binary",
            Value::Seq(_) => "!!seq",
            Value::Map(_) => "!!map",
        }
    }

    /// The node reached by following `path` (map keys and sequence
    /// indexes) from this one, as far as it goes: a validation error names
    /// a path, and the deepest node found gives its line.
    pub(crate) fn find<'a>(&'a self, path: &[crate::validate::Seg]) -> &'a Node {
        let mut node = self;
        for seg in path {
            let next = match (&node.value, seg) {
                (Value::Map(entries), crate::validate::Seg::Key(k)) => entries
                    .iter()
                    .find(|(key, _)| matches!(&key.value, Value::Scalar { text, .. } if text == k))
                    .map(|(_, v)| v),
                (Value::Seq(items), crate::validate::Seg::Index(i)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }
}

/// A document that is not well-formed YAML.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub(crate) mark: Mark,
    pub(crate) message: String,
}

/// Parses the first document of `text` into a tree. An empty text is a
/// null node, as Go's YAML library treats it.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut events = Events::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut events, false).map_err(|e| SyntaxError {
        mark: Mark::from(*e.marker()),
        message: e.info().to_owned(),
    })?;
    let mut builder = Builder {
        events: events.list.into_iter(),
        anchors: HashMap::new(),
    };
    builder.document()
}

#[derive(Default)]
struct Events {
    list: Vec<(Event, Mark)>,
}

impl MarkedEventReceiver for Events {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.list.push((ev, Mark::from(mark)));
    }
}

struct Builder {
    events: std::vec::IntoIter<(Event, Mark)>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn document(&mut self) -> Result<Node, SyntaxError> {
        loop {
            match self.events.next() {
                None | Some((Event::StreamEnd, _)) => {
                    return Ok(Node {
                        value: Value::Null,
                        mark: Mark { line: 1, col: 1 },
                    })
                }
                Some((Event::StreamStart | Event::DocumentStart | Event::Nothing, _)) => {}
                Some((ev, mark)) => return self.node(ev, mark),
            }
        }
    }

    fn node(&mut self, ev: Event, mark: Mark) -> Result<Node, SyntaxError> {
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => (scalar(text, style, tag, mark)?, anchor),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next(mark)? {
                        (Event::SequenceEnd, _) => break,
                        (ev, m) => items.push(self.node(ev, m)?),
                    }
                }
                (
                    Node {
                        value: Value::Seq(items),
                        mark,
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _) => {
                let mut entries = Vec::new();
                loop {
                    match self.next(mark)? {
                        (Event::MappingEnd, _) => break,
                        (ev, m) => {
                            let key = self.node(ev, m)?;
                            let (ev, m) = self.next(mark)?;
                            let value = self.node(ev, m)?;
                            entries.push((key, value));
                        }
                    }
                }
                let entries = merge_keys(entries)?;
                // The parser marks a block mapping where it has already read
                // its first key; that key's own mark is the better place.
                let mark = match entries.first() {
                    Some((k, _)) if (k.mark.line, k.mark.col) < (mark.line, mark.col) => k.mark,
                    _ => mark,
                };
                (
                    Node {
                        value: Value::Map(entries),
                        mark,
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let target = self.anchors.get(&id).ok_or_else(|| SyntaxError {
                    mark,
                    message: format!("unknown anchor {id}"),
                })?;
                let mut n = target.clone();
                n.mark = mark;
                (n, 0)
            }
            other => {
                return Err(SyntaxError {
                    mark,
                    message: format!("unexpected YAML event {other:?}"),
                })
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn next(&mut self, open: Mark) -> Result<(Event, Mark), SyntaxError> {
        self.events.next().ok_or(SyntaxError {
            mark: open,
            message: "unexpected end of document".to_owned(),
        })
    }
}

/// Applies YAML merge keys (`<<: *defaults`), which Go's YAML library
/// supports and configs use to share settings between jobs: the merged
/// mappings' keys are added unless the mapping sets them itself (or an
/// earlier merged mapping did).
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, SyntaxError> {
    let is_merge =
        |k: &Node| matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return Ok(entries);
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut merged = Vec::new();
    for (k, v) in entries {
        if !is_merge(&k) {
            own.push((k, v));
            continue;
        }
        let sources = match v.value {
            Value::Map(e) => vec![e],
            Value::Seq(items) => items
                .into_iter()
                .map(|item| match item.value {
                    Value::Map(e) => Ok(e),
                    _ => Err(item.mark),
                })
                .collect::<Result<Vec<_>, Mark>>()
                .map_err(|m| SyntaxError {
                    mark: m,
                    message: "map merge requires map or sequence of maps as the value".to_owned(),
                })?,
            _ => {
                return Err(SyntaxError {
                    mark: v.mark,
                    message: "map merge requires map or sequence of maps as the value".to_owned(),
                })
            }
        };
        merged.extend(sources.into_iter().flatten());
    }
    let key_text = |n: &Node| match &n.value {
        Value::Scalar { text, .. } => Some(text.clone()),
        _ => None,
    };
    for (k, v) in merged {
        let name = key_text(&k);
        if name.is_none() || !own.iter().any(|(o, _)| key_text(o) == name) {
            own.push((k, v));
        }
    }
    Ok(own)
}

const CORE_TAG: &str = "tag:yaml.org,2002:";

fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<Tag>,
    mark: Mark,
) -> Result<Node, SyntaxError> {
    let plain = style == TScalarStyle::Plain;
    let tag = tag.map(|t| {
        if t.handle == "!!" {
            format!("{CORE_TAG}{}", t.suffix)
        } else {
            format!("{}{}", t.handle, t.suffix)
        }
    });
    let value = match tag.as_deref().and_then(|t| t.strip_prefix(CORE_TAG)) {
        Some("binary") => {
            // Go's YAML library ignores whitespace inside base64 text.
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|_| SyntaxError {
                    mark,
                    message: "!!binary value contains invalid base64 data".to_owned(),
                })?;
            Value::Binary(bytes)
        }
        Some("str") => Value::Scalar { text, plain: false },
        Some("null") => Value::Null,
        _ if plain && is_null(&text) => Value::Null,
        _ => Value::Scalar { text, plain },
    };
    Ok(Node { value, mark })
}

/// The plain scalars YAML resolves to null.
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_one_based() {
        let doc = parse("a:\n  b: 1\n").unwrap();
        let Value::Map(entries) = &doc.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.mark, Mark { line: 1, col: 1 });
        let Value::Map(inner) = &entries[0].1.value else {
            panic!("not a map")
        };
        assert_eq!(inner[0].1.mark, Mark { line: 2, col: 6 });
    }

    #[test]
    fn binary_scalars_decode_to_bytes() {
        let doc = parse("k: !!binary \"/w==\"\n").unwrap();
        let Value::Map(entries) = &doc.value else {
            panic!("not a map")
        };
        assert!(matches!(&entries[0].1.value, Value::Binary(b) if b == &[0xff]));
        let err = parse("k: !!binary \"/w==$1\"\n").unwrap_err();
        assert!(err.message.contains("invalid base64"), "{}", err.message);
    }

    #[test]
    fn nulls_and_quoted_text() {
        let doc = parse("a:\nb: ~\nc: 'null'\n").unwrap();
        let Value::Map(e) = &doc.value else {
            panic!("not a map")
        };
        assert!(matches!(e[0].1.value, Value::Null));
        assert!(matches!(e[1].1.value, Value::Null));
        assert!(matches!(&e[2].1.value, Value::Scalar { text, plain: false } if text == "null"));
        assert!(matches!(parse("").unwrap().value, Value::Null));
    }

    #[test]
    fn aliases_copy_their_anchor() {
        let doc = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        let Value::Map(e) = &doc.value else {
            panic!("not a map")
        };
        assert!(matches!(&e[1].1.value, Value::Seq(items) if items.len() == 2));
    }

    #[test]
    fn merge_keys_fill_unset_keys() {
        let doc = parse("d: &d {a: 1, b: 2}\nx:\n  <<: *d\n  b: 3\n").unwrap();
        let Value::Map(e) = &doc.value else {
            panic!("not a map")
        };
        let Value::Map(x) = &e[1].1.value else {
            panic!("not a map")
        };
        let got: Vec<(String, String)> = x
            .iter()
            .map(|(k, v)| match (&k.value, &v.value) {
                (Value::Scalar { text: k, .. }, Value::Scalar { text: v, .. }) => {
                    (k.clone(), v.clone())
                }
                _ => panic!("not scalars"),
            })
            .collect();
        assert_eq!(got, [("b".into(), "3".into()), ("a".into(), "1".into())]);
        assert!(parse("x:\n  <<: 1\n").is_err());
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let err = parse("a: [1\nb: 2\n").unwrap_err();
        assert!(err.mark.line >= 1);
    }
}
