//! The Prometheus text exposition format 0.0.4.
//!
//! The body is a sequence of lines, each ended by `\n` (the last one may
//! lack it). Blanks (spaces and tabs) may stand between any two tokens and
//! at the start of a line. A line is one of:
//!
//! ```text
//! <blank line>
//! # HELP <name> <text>          text runs to the end of the line; \\ and \n are escapes
//! # TYPE <name> <type>          counter | gauge | histogram | summary | untyped
//! # <anything else>             a comment
//! #<anything else>              a comment
//! <name> [{<labels>}] <value> [<timestamp>]
//! {<labels with a quoted name>} <value> [<timestamp>]
//! ```
//!
//! `<name>` is `[a-zA-Z_:][a-zA-Z0-9_:]*` or, since Prometheus 3, a quoted
//! string. `<labels>` is a list of `name="value"` separated by commas (a
//! trailing comma is allowed and, as in Prometheus, so is a missing one);
//! label names are `[a-zA-Z_][a-zA-Z0-9_]*` or quoted; values are quoted,
//! may hold raw newlines, and escape `\\`, `\"` and `\n`. A quoted string in
//! the label list not followed by `=` is the metric name (at most one, and
//! only if the name did not precede the brace). `<value>` is a Go float (see
//! `float.rs`), `<timestamp>` decimal digits of milliseconds.
//!
//! As in Prometheus, a NUL byte where a line should start ends the input.

use std::borrow::Cow;

use model::MetricType;

use crate::entry::{Entry, Series};
use crate::error::{excerpt, ErrorKind, ParseError};
use crate::float;
use crate::scan;

/// A streaming parser of the text format over a whole scrape body.
///
/// Yields one [`Entry`] per non-blank line and stops after the first error.
///
/// ```
/// use expfmt::{Entry, TextParser};
///
/// let body = b"# TYPE up gauge\nup{job=\"node\"} 1 1700000000000\n";
/// let mut samples = 0;
/// for entry in TextParser::new(body) {
///     if let Entry::Series(s) = entry? {
///         assert_eq!(s.raw(), "up{job=\"node\"}");
///         assert_eq!(s.timestamp(), Some(1_700_000_000_000));
///         samples += 1;
///     }
/// }
/// assert_eq!(samples, 1);
/// # Ok::<(), expfmt::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TextParser<'a> {
    b: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> TextParser<'a> {
    /// A parser over `body`.
    pub fn new(body: &'a [u8]) -> TextParser<'a> {
        TextParser {
            b: body,
            pos: 0,
            done: false,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    fn skip_blanks(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn unexpected(&self, line_start: usize, expected: &'static str) -> ParseError {
        ParseError::unexpected(self.b, line_start, self.pos, expected)
    }

    fn entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        loop {
            self.skip_blanks();
            let line_start = self.pos;
            match self.peek() {
                None | Some(0) => return Ok(None),
                Some(b'\n') => self.pos += 1,
                Some(b'#') => return self.comment_line(line_start).map(Some),
                Some(c) if c == b'{' || scan::is_metric_start(c) => {
                    return self.series_line(line_start).map(|s| Some(Entry::Series(s)));
                }
                Some(_) => return Err(self.unexpected(line_start, "a valid start token")),
            }
        }
    }

    /// Consumes the rest of the line after its content: blanks, then `\n`
    /// or the end of the input.
    fn end_of_line(&mut self, line_start: usize, expected: &'static str) -> Result<(), ParseError> {
        self.skip_blanks();
        match self.peek() {
            None => Ok(()),
            Some(b'\n') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.unexpected(line_start, expected)),
        }
    }

    fn comment_line(&mut self, line_start: usize) -> Result<Entry<'a>, ParseError> {
        let b = self.b;
        let eol = memchr::memchr(b'\n', &b[self.pos..]).map_or(b.len(), |i| self.pos + i);
        let comment = Entry::Comment(&b[line_start..eol]);
        let after_hash = &b[line_start + 1..eol];
        let is_blank = |c: &u8| *c == b' ' || *c == b'\t';
        let blanks = after_hash.iter().take_while(|c| is_blank(c)).count();
        let keyword = &after_hash[blanks..];
        let is_help = keyword.starts_with(b"HELP");
        let meta = blanks > 0
            && (is_help || keyword.starts_with(b"TYPE"))
            && keyword.get(4).is_some_and(is_blank);
        if !meta {
            self.pos = (eol + 1).min(b.len());
            return Ok(comment);
        }
        let what = if is_help { "HELP" } else { "TYPE" };
        self.pos = line_start + 1 + blanks + 4;
        self.skip_blanks();
        let name = self.meta_name(line_start, what)?;
        // One blank separates name and text; more belong to the text, as in
        // Prometheus.
        match self.peek() {
            Some(b' ' | b'\t') => self.pos += 1,
            None | Some(b'\n') => {}
            Some(_) => return Err(self.unexpected(line_start, "text after the metric name")),
        }
        let text = &b[self.pos.min(eol)..eol];
        let text_pos = self.pos;
        self.pos = (eol + 1).min(b.len());
        if is_help {
            let help = std::str::from_utf8(text)
                .map_err(|e| utf8_error(b, text_pos, text, e, "help text"))?;
            Ok(Entry::Help {
                name,
                help: scan::unescape_text_help(help),
            })
        } else {
            let metric_type = match text {
                b"counter" => MetricType::Counter,
                b"gauge" => MetricType::Gauge,
                b"histogram" => MetricType::Histogram,
                b"summary" => MetricType::Summary,
                b"untyped" => MetricType::Unknown,
                _ => {
                    return Err(ParseError::at(
                        b,
                        text_pos,
                        ErrorKind::InvalidMetricType(excerpt(text)),
                    ))
                }
            };
            Ok(Entry::Type { name, metric_type })
        }
    }

    /// The metric name of a HELP or TYPE line, bare or quoted.
    fn meta_name(
        &mut self,
        line_start: usize,
        what: &'static str,
    ) -> Result<Cow<'a, str>, ParseError> {
        let b = self.b;
        let start = self.pos;
        let expected = if what == "HELP" {
            "metric name after HELP"
        } else {
            "metric name after TYPE"
        };
        match self.peek() {
            Some(b'"') => {
                let q = scan::scan_quoted(b, start, true)
                    .map_err(|_| self.unexpected(line_start, expected))?;
                self.pos = q.end;
                quoted_str(b, start, q, "metric name")
            }
            Some(c) if scan::is_metric_start(c) => {
                self.pos = scan::metric_name_end(b, start);
                Ok(Cow::Borrowed(ascii_str(&b[start..self.pos])))
            }
            _ => Err(self.unexpected(line_start, expected)),
        }
    }

    fn series_line(&mut self, line_start: usize) -> Result<Series<'a>, ParseError> {
        let b = self.b;
        // Name as a range of the input plus whether it needs unescaping.
        let mut name: Option<(usize, usize, bool)> = None;
        if self.peek() != Some(b'{') {
            let end = scan::metric_name_end(b, self.pos);
            name = Some((self.pos, end, false));
            self.pos = end;
            self.skip_blanks();
        }
        let mut series_end = name.map_or(self.pos, |n| n.1);
        let mut labels = (0, 0);
        let mut non_ascii = false;
        if self.peek() == Some(b'{') {
            self.pos += 1;
            let block_start = self.pos;
            non_ascii = self.label_block(line_start, &mut name)?;
            labels = (block_start, self.pos - 1);
            series_end = self.pos;
        }
        let Some((name_start, name_end, name_escaped)) = name else {
            return Err(ParseError::at(
                b,
                line_start,
                ErrorKind::MetricNameNotSet(excerpt(&b[line_start..self.pos])),
            ));
        };
        self.skip_blanks();
        let value_start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'\t' | b'\n' | b'{') {
                break;
            }
            self.pos += 1;
        }
        if self.pos == value_start {
            return Err(self.unexpected(line_start, "value after metric"));
        }
        let value_text = &b[value_start..self.pos];
        let value = float::parse_value(value_text).map_err(|e| {
            ParseError::at(
                b,
                value_start,
                ErrorKind::InvalidFloat {
                    text: excerpt(value_text),
                    reason: e.reason(),
                },
            )
        })?;
        self.skip_blanks();
        let mut timestamp = None;
        match self.peek() {
            None | Some(b'\n') => {}
            Some(c) if c.is_ascii_digit() => {
                let ts_start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                timestamp = Some(parse_millis(b, ts_start, self.pos)?);
            }
            Some(_) => return Err(self.unexpected(line_start, "timestamp or new record")),
        }
        self.end_of_line(line_start, "next entry after timestamp")?;

        // One UTF-8 check covers name and labels: every byte of the series
        // outside quoted strings is ASCII by construction.
        let series_start = if b[line_start] == b'{' {
            line_start
        } else {
            name_start
        };
        let raw_bytes = &b[series_start..series_end];
        let raw = if non_ascii {
            std::str::from_utf8(raw_bytes)
                .map_err(|e| utf8_error(b, series_start, raw_bytes, e, "series"))?
        } else {
            // SAFETY: outside quoted strings the scanner accepted only ASCII
            // bytes, and no quoted string reported a byte above 0x7f.
            unsafe { scan::ascii_str_unchecked(raw_bytes) }
        };
        let rel = |i: usize| i - series_start;
        let name_text = raw.get(rel(name_start)..rel(name_end)).unwrap_or_default();
        let name = if name_escaped {
            scan::unescape_label(name_text)
        } else {
            Cow::Borrowed(name_text)
        };
        let labels = raw.get(rel(labels.0.max(series_start))..rel(labels.1.max(series_start)));
        Ok(Series {
            raw,
            name,
            labels: labels.unwrap_or_default(),
            value,
            timestamp,
            exemplar: None,
        })
    }

    /// Checks a label block; the cursor is just past `{` and ends just past
    /// `}`. A quoted metric name found inside is stored in `name`.
    fn label_block(
        &mut self,
        line_start: usize,
        name: &mut Option<(usize, usize, bool)>,
    ) -> Result<bool, ParseError> {
        let b = self.b;
        let mut non_ascii = false;
        loop {
            self.skip_blanks();
            let start = self.pos;
            let quoted = match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(non_ascii);
                }
                Some(b'"') => {
                    let q = scan::scan_quoted(b, start, true)
                        .map_err(|_| self.unexpected(line_start, "label name"))?;
                    self.pos = q.end;
                    non_ascii |= q.maybe_non_ascii;
                    Some(q)
                }
                Some(c) if scan::is_label_start(c) => {
                    self.pos = scan::label_name_end(b, start);
                    None
                }
                _ => return Err(self.unexpected(line_start, "label name")),
            };
            self.skip_blanks();
            if let Some(q) = quoted {
                if let Some(c @ (b',' | b'}')) = self.peek() {
                    if name.is_some() {
                        return Err(ParseError::at(
                            b,
                            start,
                            ErrorKind::MetricNameAlreadySet(excerpt(&b[line_start..self.pos])),
                        ));
                    }
                    *name = Some((start + 1, q.end - 1, q.escaped));
                    self.pos += 1;
                    if c == b'}' {
                        return Ok(non_ascii);
                    }
                    continue;
                }
            }
            if self.peek() != Some(b'=') {
                return Err(self.unexpected(line_start, "equal"));
            }
            self.pos += 1;
            self.skip_blanks();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected(line_start, "label value"));
            }
            let q = scan::scan_quoted(b, self.pos, true).map_err(|at| {
                ParseError::unexpected(b, line_start, at.min(b.len()), "label value")
            })?;
            self.pos = q.end;
            non_ascii |= q.maybe_non_ascii;
            self.skip_blanks();
            if self.peek() == Some(b',') {
                self.pos += 1;
            }
        }
    }
}

impl<'a> Iterator for TextParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for TextParser<'_> {}

/// Decimal digits as a millisecond timestamp.
fn parse_millis(b: &[u8], start: usize, end: usize) -> Result<i64, ParseError> {
    let mut v: i64 = 0;
    for &c in &b[start..end] {
        v = match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(c - b'0')))
        {
            Some(v) => v,
            None => {
                return Err(ParseError::at(
                    b,
                    start,
                    ErrorKind::InvalidTimestamp {
                        text: excerpt(&b[start..end]),
                        reason: "value out of range",
                    },
                ))
            }
        };
    }
    Ok(v)
}

/// Bytes the scanner has seen to be ASCII name characters.
pub(crate) fn ascii_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// The content of a quoted string at `start`, checked for UTF-8 and
/// unescaped when needed.
pub(crate) fn quoted_str<'a>(
    b: &'a [u8],
    start: usize,
    q: scan::Quoted,
    what: &'static str,
) -> Result<Cow<'a, str>, ParseError> {
    let inner = &b[start + 1..q.end - 1];
    let s = std::str::from_utf8(inner).map_err(|e| utf8_error(b, start + 1, inner, e, what))?;
    Ok(if q.escaped {
        scan::unescape_label(s)
    } else {
        Cow::Borrowed(s)
    })
}

/// An invalid-UTF-8 error pointing at the first bad byte of `part`, which
/// starts at `offset` in `b`.
pub(crate) fn utf8_error(
    b: &[u8],
    offset: usize,
    part: &[u8],
    e: std::str::Utf8Error,
    what: &'static str,
) -> ParseError {
    ParseError::at(
        b,
        offset + e.valid_up_to(),
        ErrorKind::InvalidUtf8 {
            what,
            bytes: part[e.valid_up_to()..]
                .iter()
                .take(e.error_len().unwrap_or(4))
                .copied()
                .flat_map(std::ascii::escape_default)
                .map(char::from)
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests;
