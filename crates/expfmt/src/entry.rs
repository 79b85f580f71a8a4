//! What the parsers yield: one [`Entry`] per line, borrowing from the input.

use std::borrow::Cow;

use model::{MetricType, Timestamp};

use crate::scan;

/// One line of an exposition body.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text`, the text unescaped (borrowed unless it held
    /// escapes).
    Help {
        /// The metric family name.
        name: Cow<'a, str>,
        /// The help text.
        help: Cow<'a, str>,
    },
    /// `# TYPE name type`.
    Type {
        /// The metric family name.
        name: Cow<'a, str>,
        /// The type.
        metric_type: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        /// The metric family name.
        name: Cow<'a, str>,
        /// The unit, a suffix of the name (or empty).
        unit: &'a str,
    },
    /// Any other `#` line of the text format, as written (from the `#` to
    /// the end of the line). Not necessarily UTF-8: Prometheus does not
    /// check comments, so neither do we.
    Comment(&'a [u8]),
    /// A sample line.
    Series(Series<'a>),
    /// `# EOF` (OpenMetrics only); always the last entry.
    Eof,
}

/// A sample line: series, value, optional timestamp and exemplar.
///
/// Labels are kept as the raw text between the braces and unescaped only
/// when iterated, so a scraper that finds [`Series::raw`] in its cache never
/// pays for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    pub(crate) raw: &'a str,
    pub(crate) name: Cow<'a, str>,
    pub(crate) labels: &'a str,
    pub(crate) value: f64,
    pub(crate) timestamp: Option<Timestamp>,
    pub(crate) exemplar: Option<Exemplar<'a>>,
}

impl<'a> Series<'a> {
    /// The series exactly as written: metric name and label block, without
    /// value or timestamp. Equal text means equal series, so scrapers key
    /// their caches on it, as Prometheus's scrape cache does.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The metric name, unescaped if it was quoted with escapes.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The labels in input order, without the metric name. Names and values
    /// are unescaped; duplicates are passed on as written.
    pub fn labels(&self) -> LabelIter<'a> {
        LabelIter::new(self.labels)
    }

    /// The text between the braces, as written (empty without braces).
    pub fn raw_labels(&self) -> &'a str {
        self.labels
    }

    /// The value. Any NaN is Prometheus's normal NaN, never the stale marker.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The timestamp in milliseconds, if the line has one. OpenMetrics
    /// seconds are converted.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The exemplar (OpenMetrics only).
    pub fn exemplar(&self) -> Option<&Exemplar<'a>> {
        self.exemplar.as_ref()
    }
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]` after a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    pub(crate) labels: &'a str,
    pub(crate) value: f64,
    pub(crate) timestamp: Option<Timestamp>,
}

impl<'a> Exemplar<'a> {
    /// The exemplar's labels in input order, unescaped.
    pub fn labels(&self) -> LabelIter<'a> {
        LabelIter::new(self.labels)
    }

    /// The text between the exemplar's braces, as written.
    pub fn raw_labels(&self) -> &'a str {
        self.labels
    }

    /// The exemplar's value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The exemplar's timestamp in milliseconds, if given.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }
}

/// One label of a parsed line, borrowed unless it held escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelPair<'a> {
    /// The label name.
    pub name: Cow<'a, str>,
    /// The label value.
    pub value: Cow<'a, str>,
}

/// Iterates the labels of a label block that a parser has already checked.
///
/// Because the block was checked, the iteration cannot fail; should the
/// block be malformed anyway (a bug), iteration stops rather than panics.
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    block: &'a str,
    pos: usize,
}

impl<'a> LabelIter<'a> {
    pub(crate) fn new(block: &'a str) -> LabelIter<'a> {
        LabelIter { block, pos: 0 }
    }

    fn skip(&mut self, also_comma: bool) {
        let b = self.block.as_bytes();
        while let Some(&c) = b.get(self.pos) {
            if c == b' ' || c == b'\t' || (also_comma && c == b',') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Reads a bare or quoted name at the cursor.
    fn name(&mut self) -> Option<Cow<'a, str>> {
        let b = self.block.as_bytes();
        let start = self.pos;
        if *b.get(start)? == b'"' {
            let q = scan::scan_quoted(b, start, true).ok()?;
            self.pos = q.end;
            let inner = self.block.get(start + 1..q.end - 1)?;
            Some(if q.escaped {
                scan::unescape_label(inner)
            } else {
                Cow::Borrowed(inner)
            })
        } else {
            let end = scan::label_name_end(b, start);
            self.pos = end;
            self.block.get(start..end).map(Cow::Borrowed)
        }
    }
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = LabelPair<'a>;

    fn next(&mut self) -> Option<LabelPair<'a>> {
        let b = self.block.as_bytes();
        loop {
            self.skip(true);
            if self.pos >= b.len() {
                return None;
            }
            let name = self.name()?;
            self.skip(false);
            if b.get(self.pos) != Some(&b'=') {
                // A quoted metric name among the labels: not a label.
                continue;
            }
            self.pos += 1;
            self.skip(false);
            let start = self.pos;
            let q = scan::scan_quoted(b, start, true).ok()?;
            self.pos = q.end;
            let inner = self.block.get(start + 1..q.end - 1)?;
            let value = if q.escaped {
                scan::unescape_label(inner)
            } else {
                Cow::Borrowed(inner)
            };
            return Some(LabelPair { name, value });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(block: &str) -> Vec<(String, String)> {
        LabelIter::new(block)
            .map(|l| (l.name.into_owned(), l.value.into_owned()))
            .collect()
    }

    #[test]
    fn iterates_checked_blocks() {
        assert_eq!(pairs(""), vec![]);
        assert_eq!(
            pairs(r#"a="1", b = "x\"y" ,"c.d"="\\""#),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x\"y".into()),
                ("c.d".into(), "\\".into())
            ]
        );
        assert_eq!(
            pairs(r#""my.metric", a="1","#),
            vec![("a".into(), "1".into())]
        );
    }

    #[test]
    fn stops_on_malformed_blocks_without_panicking() {
        assert_eq!(pairs(r#"a="1"#), vec![]);
        assert_eq!(pairs("\"a"), vec![]);
        assert_eq!(pairs("a=b"), vec![]);
    }
}
