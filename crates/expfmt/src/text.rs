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
//! Two deliberate differences, both on input no exposer writes: a quoted
//! name in `# HELP`/`# TYPE` may not span lines, and the name must be
//! followed by a blank or the line end (Prometheus drops whatever single
//! byte follows it).

use std::borrow::Cow;

use model::MetricType;

use crate::entry::Entry;
use crate::error::{excerpt, utf8_error, ErrorKind, ParseError};
use crate::scan::{self, ascii_str, quoted_str};

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

    /// The next entry, in the iterator's own return type: the entry is
    /// built in place instead of being moved through `Result::map`s, which
    /// cost a tenth of the parse time in store-forwarding stalls.
    fn entry(&mut self) -> Option<Result<Entry<'a>, ParseError>> {
        loop {
            self.skip_blanks();
            let line_start = self.pos;
            match self.peek() {
                None | Some(0) => return None,
                Some(b'\n') => self.pos += 1,
                Some(b'#') => return Some(self.comment_line(line_start)),
                Some(c) if c == b'{' || scan::is_metric_start(c) => {
                    return Some(self.series_line(line_start));
                }
                Some(_) => return Some(Err(self.unexpected(line_start, "a valid start token"))),
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
                // Unlike label values, a name here may not span lines: the
                // text that follows it runs to the end of *this* line.
                let q = scan::scan_quoted(b, start, false)
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
}

impl<'a> Iterator for TextParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.entry();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

impl std::iter::FusedIterator for TextParser<'_> {}

mod series;

#[cfg(test)]
mod tests;
