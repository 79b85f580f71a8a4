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

use crate::entry::Entry;
use crate::error::{excerpt, utf8_error, ErrorKind, ParseError};
use crate::scan::{self, ascii_str, quoted_str};

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
    /// The last created-timestamp look-up: identity hash and answer. All
    /// buckets of a histogram series share one `_created` sample, so the
    /// look-ahead runs once per series rather than once per bucket.
    created_cache: Option<(u64, Option<i64>)>,
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

use created::has_created_series;

impl<'a> OpenMetricsParser<'a> {
    /// A parser over `body`.
    pub fn new(body: &'a [u8]) -> OpenMetricsParser<'a> {
        OpenMetricsParser {
            b: body,
            pos: 0,
            done: false,
            metric_type: MetricType::Unknown,
            skip_created: false,
            created_cache: None,
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

    /// The next entry, built in place in the iterator's return type (see
    /// the text parser for why).
    fn entry(&mut self) -> Option<Result<Entry<'a>, ParseError>> {
        loop {
            let line_start = self.pos;
            match self.peek() {
                None => return Some(Err(self.missing_eof())),
                Some(b'#') => return Some(self.meta_line(line_start)),
                Some(c) if c == b'{' || scan::is_metric_start(c) => {
                    let r = self.series_line(line_start);
                    if let Ok(Entry::Series(s)) = &r {
                        if self.skip_created
                            && has_created_series(self.metric_type)
                            && s.name().ends_with("_created")
                        {
                            continue;
                        }
                    }
                    return Some(r);
                }
                Some(_) => {
                    return Some(Err(self.unexpected(line_start, "a valid start token")));
                }
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
                self.created_cache = None;
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
}

fn text_expected(what: &str) -> &'static str {
    match what {
        "HELP" => "text in HELP",
        "TYPE" => "text in TYPE",
        _ => "text in UNIT",
    }
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
            Some(Ok(Entry::Series(_)
                | Entry::Help { .. }
                | Entry::Type { .. }
                | Entry::Unit { .. }))
        ) {
            self.done = true;
        }
        r
    }
}

impl std::iter::FusedIterator for OpenMetricsParser<'_> {}

mod created;
mod series;

#[cfg(test)]
mod tests;
