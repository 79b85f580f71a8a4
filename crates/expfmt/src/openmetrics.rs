//! OpenMetrics 1.0 text format.
//!
//! Stricter than the Prometheus text format: single spaces only, no blank
//! lines, no free-form comments, every line ends with `\n`, and the body
//! ends with `# EOF` (an optional `\n` after it, nothing else). Lines:
//!
//! ```text
//! # HELP <name> <text>       \\, \" and \n are escapes in the text
//! # TYPE <name> <type>       counter | gauge | histogram | gaugehistogram |
//!                            summary | info | stateset | unknown
//! # UNIT <name> <unit>       the unit must be a `_`-separated suffix of <name>
//! <name>[{<labels>}] <value>[ <timestamp>][ # {<labels>} <value>[ <timestamp>]]
//! {<labels with a quoted name>} <value>...
//! # EOF
//! ```
//!
//! Label lists are `name="value"` joined by `,` (a trailing comma allowed);
//! values may not hold raw newlines. Timestamps are float seconds, converted
//! to milliseconds. The trailing `# {…} v [t]` is an exemplar, whose label
//! names and values together may not exceed 128 code points.
//!
//! Which sample names belong to a family (`_total` and `_created` for
//! counters; `_bucket`, `_count`, `_sum`, `_created` for histograms; `_gcount`
//! and `_gsum` for gauge histograms; `_count`, `_sum`, `_created` and the bare
//! name for summaries; `_info` for info) is not checked, as Prometheus does
//! not check it; [`family_suffixes`] lists them for callers that do.
//!
//! `_created` samples of counters, histograms and summaries carry the
//! creation time of their series. By default they are passed through as
//! ordinary series; [`OpenMetricsParser::skip_created_series`] drops them,
//! and [`OpenMetricsParser::created_timestamp`] finds the one belonging to a
//! series by looking ahead, as Prometheus does when it ingests created
//! timestamps.

use std::borrow::Cow;

use model::MetricType;

use crate::entry::{Entry, Exemplar, LabelIter, Series};
use crate::error::{excerpt, ErrorKind, ParseError};
use crate::float;
use crate::scan;
use crate::text::{ascii_str, quoted_str, utf8_error};

/// The most code points an exemplar's label names and values may hold.
pub const EXEMPLAR_MAX_RUNES: usize = 128;

/// A streaming parser of OpenMetrics 1.0 over a whole scrape body.
///
/// ```
/// use expfmt::{Entry, OpenMetricsParser};
///
/// let body = b"# TYPE rpc counter\nrpc_total 7.0 1.5 # {trace_id=\"ab\"} 1.0\n# EOF\n";
/// let entries: Vec<Entry> = OpenMetricsParser::new(body).collect::<Result<_, _>>()?;
/// let Entry::Series(s) = &entries[1] else { panic!() };
/// assert_eq!((s.name(), s.value(), s.timestamp()), ("rpc_total", 7.0, Some(1500)));
/// assert_eq!(s.exemplar().unwrap().labels().next().unwrap().value, "ab");
/// assert_eq!(entries[2], Entry::Eof);
/// # Ok::<(), expfmt::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OpenMetricsParser<'a> {
    b: &'a [u8],
    pos: usize,
    done: bool,
    metric_type: MetricType,
    skip_created: bool,
}

/// The sample-name suffixes OpenMetrics allows for a family of type `t`;
/// `""` stands for the bare family name.
pub fn family_suffixes(t: MetricType) -> &'static [&'static str] {
    match t {
        MetricType::Counter => &["_total", "_created"],
        MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
        MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
        MetricType::Summary => &["", "_count", "_sum", "_created"],
        MetricType::Info => &["_info"],
    }
}

/// Whether `_created` samples of a family of type `t` hold created
/// timestamps (Prometheus's list: counters, histograms, summaries).
fn has_created_series(t: MetricType) -> bool {
    matches!(
        t,
        MetricType::Counter | MetricType::Histogram | MetricType::Summary
    )
}

impl<'a> OpenMetricsParser<'a> {
    /// A parser over `body`.
    pub fn new(body: &'a [u8]) -> OpenMetricsParser<'a> {
        OpenMetricsParser {
            b: body,
            pos: 0,
            done: false,
            metric_type: MetricType::Unknown,
            skip_created: false,
        }
    }

    /// Drops `_created` samples of counters, histograms and summaries
    /// instead of yielding them (their value is reachable through
    /// [`created_timestamp`](Self::created_timestamp)).
    pub fn skip_created_series(mut self, skip: bool) -> Self {
        self.skip_created = skip;
        self
    }

    /// The type declared by the last `# TYPE` line (unknown before any).
    pub fn metric_type(&self) -> MetricType {
        self.metric_type
    }

    /// The created timestamp (ms) of `series`, the entry just returned:
    /// the value of the `_created` sample of the same family and labels
    /// (ignoring `le` of histograms and `quantile` of summaries) that
    /// follows it before the family ends. `None` for other types, or when
    /// the family has no such sample or the look-ahead meets an error.
    ///
    /// The look-ahead reads the rest of the family, so calling this for
    /// every sample of a large histogram costs O(n²); cache per series.
    pub fn created_timestamp(&self, series: &Series<'_>) -> Option<i64> {
        if !has_created_series(self.metric_type) {
            return None;
        }
        let family = strip_family_suffix(series.name(), self.metric_type);
        let mut ahead = self.clone().skip_created_series(false);
        loop {
            let Some(Ok(Entry::Series(next))) = ahead.next() else {
                return None;
            };
            let Some(base) = next.name().strip_suffix("_created") else {
                continue;
            };
            if base != family || !same_identity(series, &next, self.metric_type) {
                return None;
            }
            return Some((next.value() * 1000.0) as i64);
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn unexpected(&self, line_start: usize, expected: &'static str) -> ParseError {
        ParseError::unexpected(self.b, line_start, self.pos, expected)
    }

    fn missing_eof(&self) -> ParseError {
        ParseError::at(self.b, self.b.len(), ErrorKind::MissingEof)
    }

    fn entry(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        loop {
            let line_start = self.pos;
            match self.peek() {
                None => return Err(self.missing_eof()),
                Some(b'#') => return self.meta_line(line_start).map(Some),
                Some(c) if c == b'{' || scan::is_metric_start(c) => {
                    let s = self.series_line(line_start)?;
                    if self.skip_created
                        && has_created_series(self.metric_type)
                        && s.name().ends_with("_created")
                    {
                        continue;
                    }
                    return Ok(Some(Entry::Series(s)));
                }
                Some(_) => return Err(self.unexpected(line_start, "a valid start token")),
            }
        }
    }

    fn meta_line(&mut self, line_start: usize) -> Result<Entry<'a>, ParseError> {
        let b = self.b;
        let rest = &b[line_start..];
        if rest.starts_with(b"# EOF") {
            self.pos = line_start + 5;
            if self.peek() == Some(b'\n') {
                self.pos += 1;
            }
            if self.pos != b.len() {
                return Err(ParseError::at(b, self.pos, ErrorKind::DataAfterEof));
            }
            return Ok(Entry::Eof);
        }
        let (what, expected) = if rest.starts_with(b"# HELP ") {
            ("HELP", "metric name after HELP")
        } else if rest.starts_with(b"# TYPE ") {
            ("TYPE", "metric name after TYPE")
        } else if rest.starts_with(b"# UNIT ") {
            ("UNIT", "metric name after UNIT")
        } else {
            self.pos = line_start + 1;
            return Err(self.unexpected(line_start, "a valid start token"));
        };
        self.pos = line_start + 7;
        let start = self.pos;
        let name = match self.peek() {
            Some(b'"') => {
                let q = scan::scan_quoted(b, start, false)
                    .map_err(|_| self.unexpected(line_start, expected))?;
                self.pos = q.end;
                quoted_str(b, start, q, "metric name")?
            }
            Some(c) if scan::is_metric_start(c) => {
                self.pos = scan::metric_name_end(b, start);
                Cow::Borrowed(ascii_str(&b[start..self.pos]))
            }
            _ => return Err(self.unexpected(line_start, expected)),
        };
        let eol = memchr::memchr(b'\n', &b[self.pos..]).map(|i| self.pos + i);
        let (Some(b' '), Some(eol)) = (self.peek(), eol) else {
            return Err(self.unexpected(line_start, text_expected(what)));
        };
        let text_pos = self.pos + 1;
        let text = &b[text_pos..eol];
        self.pos = eol + 1;
        match what {
            "TYPE" => {
                self.metric_type = match text {
                    b"counter" => MetricType::Counter,
                    b"gauge" => MetricType::Gauge,
                    b"histogram" => MetricType::Histogram,
                    b"gaugehistogram" => MetricType::GaugeHistogram,
                    b"summary" => MetricType::Summary,
                    b"info" => MetricType::Info,
                    b"stateset" => MetricType::StateSet,
                    b"unknown" => MetricType::Unknown,
                    _ => {
                        return Err(ParseError::at(
                            b,
                            text_pos,
                            ErrorKind::InvalidMetricType(excerpt(text)),
                        ))
                    }
                };
                Ok(Entry::Type {
                    name,
                    metric_type: self.metric_type,
                })
            }
            "HELP" => {
                let help = std::str::from_utf8(text)
                    .map_err(|e| utf8_error(b, text_pos, text, e, "help text"))?;
                Ok(Entry::Help {
                    name,
                    help: scan::unescape_label(help),
                })
            }
            _ => {
                let unit = std::str::from_utf8(text)
                    .map_err(|e| utf8_error(b, text_pos, text, e, "unit"))?;
                let is_suffix = name
                    .strip_suffix(unit)
                    .is_some_and(|head| head.ends_with('_'));
                if !unit.is_empty() && !is_suffix {
                    return Err(ParseError::at(
                        b,
                        text_pos,
                        ErrorKind::UnitNotSuffix {
                            unit: unit.to_owned(),
                            metric: name.into_owned(),
                        },
                    ));
                }
                Ok(Entry::Unit { name, unit })
            }
        }
    }

    fn series_line(&mut self, line_start: usize) -> Result<Series<'a>, ParseError> {
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
        Ok(Series {
            raw,
            name,
            labels: sub(labels.0, labels.1).unwrap_or_default(),
            value,
            timestamp,
            exemplar,
        })
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

fn text_expected(what: &str) -> &'static str {
    match what {
        "HELP" => "text in HELP",
        "TYPE" => "text in TYPE",
        _ => "text in UNIT",
    }
}

/// The family name of a sample name under type `t`.
fn strip_family_suffix(name: &str, t: MetricType) -> &str {
    for suffix in family_suffixes(t) {
        if suffix.is_empty() {
            continue;
        }
        if let Some(base) = name.strip_suffix(suffix) {
            return base;
        }
    }
    name
}

/// Whether two samples belong to the same series of a family: equal labels
/// in the same order, ignoring the bucket and quantile labels.
fn same_identity(a: &Series<'_>, b: &Series<'_>, t: MetricType) -> bool {
    let ignored = match t {
        MetricType::Histogram => "le",
        MetricType::Summary => "quantile",
        _ => "",
    };
    let keep = |l: &crate::entry::LabelPair<'_>| l.name != ignored;
    a.labels().filter(keep).eq(b.labels().filter(keep))
}

impl<'a> Iterator for OpenMetricsParser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.entry();
        if !matches!(
            r,
            Ok(Some(
                Entry::Series(_) | Entry::Help { .. } | Entry::Type { .. } | Entry::Unit { .. }
            ))
        ) {
            self.done = true;
        }
        r.transpose()
    }
}

impl std::iter::FusedIterator for OpenMetricsParser<'_> {}

#[cfg(test)]
mod tests;
