//! Sample lines of OpenMetrics: name, label block, value, timestamp and
//! exemplar.

use std::borrow::Cow;

use super::{OpenMetricsParser, EXEMPLAR_MAX_RUNES};
use crate::entry::{Entry, Exemplar, LabelIter, Series};
use crate::error::{excerpt, utf8_error, ErrorKind, ParseError};
use crate::float;
use crate::scan;

impl<'a> OpenMetricsParser<'a> {
    pub(super) fn series_line(&mut self, line_start: usize) -> Result<Entry<'a>, ParseError> {
        let b = self.b;
        let mut name: Option<(usize, usize, bool)> = None;
        if self.peek() != Some(b'{') {
            let end = scan::metric_name_end(b, self.pos);
            name = Some((self.pos, end, false));
            self.pos = end;
        }
        let mut labels = (self.pos, self.pos);
        let mut non_ascii = false;
        if self.peek() == Some(b'{') {
            self.pos += 1;
            let block_start = self.pos;
            non_ascii = self.label_block(line_start, Some(&mut name))?;
            labels = (block_start, self.pos - 1);
        }
        let series_end = self.pos;
        let Some((name_start, name_end, name_escaped)) = name else {
            return Err(ParseError::at(
                b,
                line_start,
                ErrorKind::MetricNameNotSet(excerpt(&b[line_start..self.pos])),
            ));
        };
        let value = self.value(line_start, "value after metric")?;
        let mut timestamp = None;
        let mut exemplar = None;
        if self.exemplar_follows() {
            exemplar = Some(self.exemplar(line_start)?);
        } else if self.peek() == Some(b' ') {
            let ts = self.token(line_start, "timestamp")?;
            timestamp = Some(self.timestamp(ts)?);
            if self.exemplar_follows() {
                exemplar = Some(self.exemplar(line_start)?);
            }
        }
        self.line_end(line_start, "next entry after timestamp")?;

        let raw_bytes = &b[line_start..series_end];
        let raw = if non_ascii {
            std::str::from_utf8(raw_bytes)
                .map_err(|e| utf8_error(b, line_start, raw_bytes, e, "series"))?
        } else {
            // SAFETY: outside quoted strings the scanner accepted only ASCII
            // bytes, and no quoted string reported a byte above 0x7f.
            unsafe { scan::ascii_str_unchecked(raw_bytes) }
        };
        let sub = |from: usize, to: usize| raw.get(from - line_start..to - line_start);
        let name_text = sub(name_start, name_end).unwrap_or_default();
        let name = if name_escaped {
            scan::unescape_label(name_text)
        } else {
            Cow::Borrowed(name_text)
        };
        Ok(Entry::Series(Series {
            raw,
            name,
            labels: sub(labels.0, labels.1).unwrap_or_default(),
            value,
            timestamp,
            exemplar,
        }))
    }

    /// ` <token>` where the token runs to the next space or newline.
    fn token(
        &mut self,
        line_start: usize,
        expected: &'static str,
    ) -> Result<(usize, usize), ParseError> {
        if self.peek() != Some(b' ') {
            return Err(self.unexpected(line_start, expected));
        }
        let start = self.pos + 1;
        let len = self.b[start..]
            .iter()
            .position(|&c| c == b' ' || c == b'\n')
            .unwrap_or(self.b.len() - start);
        if len == 0 {
            return Err(self.unexpected(line_start, expected));
        }
        self.pos = start + len;
        Ok((start, start + len))
    }

    fn value(&mut self, line_start: usize, expected: &'static str) -> Result<f64, ParseError> {
        let (start, end) = self.token(line_start, expected)?;
        let text = &self.b[start..end];
        float::parse_value(text).map_err(|e| {
            ParseError::at(
                self.b,
                start,
                ErrorKind::InvalidFloat {
                    text: excerpt(text),
                    reason: e.reason(),
                },
            )
        })
    }

    fn timestamp(&self, (start, end): (usize, usize)) -> Result<i64, ParseError> {
        let text = &self.b[start..end];
        float::parse_om_timestamp(text).map_err(|e| {
            ParseError::at(
                self.b,
                start,
                ErrorKind::InvalidTimestamp {
                    text: excerpt(text),
                    reason: e.reason(),
                },
            )
        })
    }

    fn exemplar_follows(&self) -> bool {
        self.b[self.pos..].starts_with(b" # {")
    }

    fn exemplar(&mut self, line_start: usize) -> Result<Exemplar<'a>, ParseError> {
        let b = self.b;
        self.pos += 4;
        let block_start = self.pos;
        self.label_block(line_start, None)?;
        let block_end = self.pos - 1;
        let value = self.value(line_start, "value after exemplar labels")?;
        let mut timestamp = None;
        if self.peek() == Some(b' ') {
            let ts = self.token(line_start, "exemplar timestamp")?;
            timestamp = Some(self.timestamp(ts)?);
        }
        let block = &b[block_start..block_end];
        let labels = std::str::from_utf8(block)
            .map_err(|e| utf8_error(b, block_start, block, e, "exemplar"))?;
        // Escapes make the written form longer than the value, so count
        // exactly only when the quick count is over the limit.
        if labels.chars().count() > EXEMPLAR_MAX_RUNES {
            let runes: usize = LabelIter::new(labels)
                .map(|l| l.name.chars().count() + l.value.chars().count())
                .sum();
            if runes > EXEMPLAR_MAX_RUNES {
                return Err(ParseError::at(
                    b,
                    block_start,
                    ErrorKind::ExemplarTooLong { runes },
                ));
            }
        }
        Ok(Exemplar {
            labels,
            value,
            timestamp,
        })
    }

    fn line_end(&mut self, line_start: usize, expected: &'static str) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                Ok(())
            }
            None => Err(self.missing_eof()),
            Some(_) => Err(self.unexpected(line_start, expected)),
        }
    }

    /// Checks a label block; the cursor is just past `{` and ends just past
    /// `}`. `name` is `None` in exemplars, where a quoted metric name is not
    /// allowed.
    fn label_block(
        &mut self,
        line_start: usize,
        mut name: Option<&mut Option<(usize, usize, bool)>>,
    ) -> Result<bool, ParseError> {
        let b = self.b;
        let mut non_ascii = false;
        loop {
            let start = self.pos;
            let quoted = match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(non_ascii);
                }
                Some(b'"') => {
                    let q = scan::scan_quoted(b, start, false)
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
            if let (Some(q), Some(c @ (b',' | b'}'))) = (quoted, self.peek()) {
                let Some(name) = name.as_deref_mut() else {
                    return Err(self.unexpected(line_start, "equal"));
                };
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
            if self.peek() != Some(b'=') {
                return Err(self.unexpected(line_start, "equal"));
            }
            self.pos += 1;
            if self.peek() != Some(b'"') {
                return Err(self.unexpected(line_start, "label value"));
            }
            let q = scan::scan_quoted(b, self.pos, false).map_err(|at| {
                ParseError::unexpected(b, line_start, at.min(b.len()), "label value")
            })?;
            self.pos = q.end;
            non_ascii |= q.maybe_non_ascii;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.unexpected(line_start, "comma or brace close")),
            }
        }
    }
}
