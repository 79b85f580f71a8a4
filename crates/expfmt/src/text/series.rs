//! Sample lines of the text format: name, label block, value, timestamp.

use std::borrow::Cow;

use super::TextParser;
use crate::entry::{Entry, Series};
use crate::error::{excerpt, utf8_error, ErrorKind, ParseError};
use crate::float;
use crate::scan;

impl<'a> TextParser<'a> {
    pub(super) fn series_line(&mut self, line_start: usize) -> Result<Entry<'a>, ParseError> {
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
        Ok(Entry::Series(Series {
            raw,
            name,
            labels: labels.unwrap_or_default(),
            value,
            timestamp,
            exemplar: None,
        }))
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
