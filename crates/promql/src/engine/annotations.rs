//! Annotations: the warnings and infos a query returns beside its result,
//! worded as Prometheus 3.x words them (clients and the conformance scripts
//! compare the text).
//!
//! Prometheus's API renders each as `PromQL warning: <text> (<line>:<col>)`
//! or `PromQL info: <text> (<line>:<col>)`, the position being the start of
//! the expression node the annotation is about ([`Annotation::render`]).
//! Annotations are a set keyed by their text without position: the same
//! text raised twice is reported once, with the position of the last one
//! raised (as Prometheus's map overwrites), except for the forced-monotonicity
//! info, which sums up every occurrence at the first one's position.
//!
//! Emitted (everything that concerns float samples and classic histograms):
//! - warning `quantile value should be between 0 and 1, got <q>`: the
//!   `quantile` aggregation (over a range query, once for the largest and
//!   once for the smallest offending value, or once for NaN), and per value
//!   for `quantile_over_time`, `histogram_quantile`, `histogram_quantiles`;
//! - warning `ratio value should be between -1 and 1, got <r>, capping to <±1>`
//!   (`limit_ratio`, largest and smallest offending value);
//! - warning `bucket label "le" is missing or has a malformed value of …`
//!   (`histogram_quantile`, `histogram_quantiles`, `histogram_fraction`);
//! - info `input to histogram_quantile needed to be fixed for monotonicity …`,
//!   merged over the query into bucket range, largest decrease, number of
//!   occurrences and time range;
//! - warning `sort is ineffective for range queries …` (`sort`, `sort_desc`,
//!   `sort_by_label`, `sort_by_label_desc` evaluated over several instants:
//!   in a range query or a subquery, unless step-invariant; see
//!   `annotations/sorts.rs`);
//! - info `metric might not be a counter, name does not end in
//!   _total/_sum/_count/_bucket: "<name>"` (`rate`, `increase`), or, with
//!   [`EngineOptions::type_and_unit_labels`](super::EngineOptions), `metric
//!   might not be a counter, __type__ label is not set to "counter" or
//!   "histogram", got "<type>": "<name>"`;
//! - info `incompatible sample types encountered for binary operator "</":
//!   float </ float` (the histogram trims `</` `>/` between floats).
//!
//! Not emitted yet, because they need native histograms (the storage
//! traits carry floats only) or start timestamps: `encountered a mix of
//! histograms and floats …`, `vector contains a mix of classic and native
//! histograms …`, `this native histogram metric is not a counter/gauge …`,
//! `vector contains a mix of histograms with exponential and custom buckets
//! schemas …`, `incompatible bucket layout encountered for binary operator
//! …`, `conflicting counter resets during histogram …`, `mismatched custom
//! buckets were reconciled during …`, `ignored histogram in … aggregation`,
//! `ignored histograms in a range containing both floats and histograms …`,
//! the histogram-typed `incompatible sample types …` infos, `input to
//! histogram_quantile has NaN observations …`, `input to histogram_fraction
//! has NaN observations …` and `sample has start time that overlaps with
//! previous sample timestamp …`.

use std::collections::HashMap;
use std::fmt;

use crate::Span;
use format::{go_g, rfc3339};

mod format;
#[cfg(test)]
mod queries;
mod sorts;

/// Whether an annotation warns or informs (Prometheus's `PromQLWarning`
/// and `PromQLInfo`; the API returns them in separate lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnnotationKind {
    /// Something is likely wrong with the query or the data.
    Warning,
    /// The result may not mean what the query author thinks.
    Info,
}

impl AnnotationKind {
    /// The prefix Prometheus puts before the text.
    pub fn prefix(self) -> &'static str {
        match self {
            AnnotationKind::Warning => "PromQL warning",
            AnnotationKind::Info => "PromQL info",
        }
    }
}

/// A warning or info raised while evaluating, with the part of the query it
/// is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Warning or info.
    pub kind: AnnotationKind,
    /// The text, without prefix and position.
    pub message: String,
    /// The expression node concerned; its start is the reported position.
    pub span: Span,
}

impl Annotation {
    /// The text as Prometheus's API returns it for `query`:
    /// `PromQL warning: <message> (<line>:<col>)` (1-based line and byte
    /// column of the node's start).
    pub fn render(&self, query: &str) -> String {
        format!("{self} ({})", line_col(query, self.span.start))
    }
}

/// Without position, as Prometheus keys annotations.
impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.prefix(), self.message)
    }
}

/// Prometheus's `line:col` of byte offset `at` in `query`.
fn line_col(query: &str, at: usize) -> String {
    if query.is_empty() {
        return "unknown position".to_owned();
    }
    let Some(before) = query.as_bytes().get(..at) else {
        return "invalid position".to_owned();
    };
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => at - nl,
        None => at + 1,
    };
    format!("{line}:{col}")
}

/// Which parameter check an aggregation site accumulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamCheck {
    /// `quantile`: φ in [0, 1].
    Quantile,
    /// `limit_ratio`: r in [-1, 1].
    Ratio,
}

/// The annotations of one query while it runs.
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    entries: Vec<Entry>,
    /// Where the `sort` calls that run over several instants are.
    ineffective_sorts: Vec<Span>,
    /// The metrics (and `__type__` values) already said not to look like
    /// counters, by the position of the `rate`/`increase` argument: those
    /// run for every series at every step, and the text is built once.
    non_counters: HashMap<(usize, usize), HashMap<String, Vec<String>>>,
}

#[derive(Debug)]
struct Entry {
    kind: AnnotationKind,
    span: Span,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Text(String),
    /// An aggregation parameter's values over the whole query: Prometheus
    /// checks the extremes of the parameter over all steps at once.
    Param {
        check: ParamCheck,
        min: f64,
        max: f64,
        any_nan: bool,
    },
    Monotonicity(Monotonicity),
}

/// What the forced-monotonicity info sums up over the query.
#[derive(Debug)]
struct Monotonicity {
    metric: String,
    min_ts: i64,
    max_ts: i64,
    min_bucket: f64,
    max_bucket: f64,
    max_diff: f64,
    count: u64,
}

/// Where `histogram_quantile` had to repair decreasing bucket counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ForcedMonotonicity {
    /// The smallest and largest upper bound of a bucket that was raised.
    pub(crate) min_bucket: f64,
    pub(crate) max_bucket: f64,
    /// The largest decrease removed.
    pub(crate) max_diff: f64,
}

impl Annotations {
    /// Finds, before evaluating `root`, the `sort` calls that will be
    /// ineffective; `range` says whether the query spans several instants.
    pub(crate) fn plan(&mut self, root: &crate::ast::Expr, range: bool) {
        self.ineffective_sorts = sorts::ineffective_sorts(root, range);
    }

    /// Whether the sort call at `span` runs over several instants.
    pub(crate) fn sort_is_ineffective(&self, span: Span) -> bool {
        self.ineffective_sorts.contains(&span)
    }

    /// Records an annotation; the same text again moves it to `span` (the
    /// last one raised wins, as in Prometheus).
    pub(crate) fn add(&mut self, kind: AnnotationKind, message: String, span: Span) {
        let found = self
            .entries
            .iter_mut()
            .find(|e| e.kind == kind && matches!(&e.body, Body::Text(m) if *m == message));
        match found {
            Some(e) => e.span = span,
            None => self.entries.push(Entry {
                kind,
                span,
                body: Body::Text(message),
            }),
        }
    }

    /// Records that `rate`/`increase` gave a value for `metric`, which does
    /// not look like a counter: by its name, or (`type_label` given, with
    /// type-and-unit labels on) by its `__type__`.
    pub(crate) fn possible_non_counter(
        &mut self,
        metric: &str,
        type_label: Option<&str>,
        span: Span,
    ) {
        let typ = type_label.unwrap_or_default();
        let seen = self.non_counters.entry((span.start, span.end)).or_default();
        match seen.get_mut(metric) {
            Some(types) if types.iter().any(|t| t == typ) => return,
            Some(types) => types.push(typ.to_owned()),
            None => {
                seen.insert(metric.to_owned(), vec![typ.to_owned()]);
            }
        }
        let message = match type_label {
            Some(t) => possible_non_counter_label(metric, t),
            None => possible_non_counter(metric),
        };
        self.add(AnnotationKind::Info, message, span);
    }

    /// Records one step's value of an aggregation parameter at `span`.
    pub(crate) fn param(&mut self, check: ParamCheck, value: f64, span: Span) {
        let found = self.entries.iter_mut().find_map(|e| match &mut e.body {
            Body::Param {
                check: c,
                min,
                max,
                any_nan,
            } if *c == check && e.span == span => Some((min, max, any_nan)),
            _ => None,
        });
        match found {
            Some((min, max, any_nan)) => {
                *min = min.min(value);
                *max = max.max(value);
                *any_nan |= value.is_nan();
            }
            None => self.entries.push(Entry {
                kind: AnnotationKind::Warning,
                span,
                body: Body::Param {
                    check,
                    min: value,
                    max: value,
                    any_nan: value.is_nan(),
                },
            }),
        }
    }

    /// Records that `histogram_quantile` forced the buckets of `metric`
    /// (empty when unnamed) monotonic at step `ts`.
    pub(crate) fn forced_monotonicity(
        &mut self,
        metric: &str,
        ts: i64,
        f: ForcedMonotonicity,
        span: Span,
    ) {
        // Unlike other texts, this one keeps its first position: Prometheus
        // folds each later occurrence into the first.
        let found = self.entries.iter_mut().find_map(|e| match &mut e.body {
            Body::Monotonicity(m) if m.metric == metric => Some(m),
            _ => None,
        });
        match found {
            Some(m) => {
                m.min_ts = m.min_ts.min(ts);
                m.max_ts = m.max_ts.max(ts);
                m.min_bucket = m.min_bucket.min(f.min_bucket);
                m.max_bucket = m.max_bucket.max(f.max_bucket);
                m.max_diff = m.max_diff.max(f.max_diff);
                m.count += 1;
            }
            None => self.entries.push(Entry {
                kind: AnnotationKind::Info,
                span,
                body: Body::Monotonicity(Monotonicity {
                    metric: metric.to_owned(),
                    min_ts: ts,
                    max_ts: ts,
                    min_bucket: f.min_bucket,
                    max_bucket: f.max_bucket,
                    max_diff: f.max_diff,
                    count: 1,
                }),
            }),
        }
    }

    /// The annotations as the query reports them, one per text.
    pub(crate) fn finish(self) -> Vec<Annotation> {
        let mut out: Vec<Annotation> = Vec::with_capacity(self.entries.len());
        for e in self.entries {
            for message in e.body.messages() {
                let a = Annotation {
                    kind: e.kind,
                    message,
                    span: e.span,
                };
                match out
                    .iter_mut()
                    .find(|o| o.kind == a.kind && o.message == a.message)
                {
                    Some(o) => o.span = a.span,
                    None => out.push(a),
                }
            }
        }
        out
    }
}

impl Body {
    fn messages(self) -> Vec<String> {
        match self {
            Body::Text(m) => vec![m],
            Body::Param {
                check,
                min,
                max,
                any_nan,
            } => {
                let (lo, hi) = match check {
                    ParamCheck::Quantile => (0.0, 1.0),
                    ParamCheck::Ratio => (-1.0, 1.0),
                };
                let text = |v: f64, cap: f64| match check {
                    ParamCheck::Quantile => invalid_quantile(v),
                    ParamCheck::Ratio => invalid_ratio(v, cap),
                };
                // A NaN makes Prometheus's running min and max NaN too, so
                // only the NaN is reported (for ratios NaN is an error).
                if any_nan {
                    return match check {
                        ParamCheck::Quantile => vec![invalid_quantile(f64::NAN)],
                        ParamCheck::Ratio => Vec::new(),
                    };
                }
                let mut v = Vec::new();
                if max > hi {
                    v.push(text(max, hi));
                }
                if min < lo {
                    v.push(text(min, lo));
                }
                v
            }
            Body::Monotonicity(m) => vec![format!(
                "{}, from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}",
                with_metric_name(
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)",
                    &m.metric
                ),
                go_g(m.min_bucket, None),
                go_g(m.max_bucket, None),
                go_g(m.max_diff, Some(2)),
                m.count,
                rfc3339(m.min_ts),
                rfc3339(m.max_ts),
            )],
        }
    }
}

/// `text for metric name "<name>"`, or `text` when there is no name.
fn with_metric_name(text: &str, metric: &str) -> String {
    if metric.is_empty() {
        text.to_owned()
    } else {
        format!("{text} for metric name {}", crate::error::go_quote(metric))
    }
}

/// `quantile value should be between 0 and 1, got <q>`.
pub(crate) fn invalid_quantile(q: f64) -> String {
    format!(
        "quantile value should be between 0 and 1, got {}",
        go_g(q, None)
    )
}

/// `ratio value should be between -1 and 1, got <r>, capping to <cap>`.
fn invalid_ratio(r: f64, cap: f64) -> String {
    format!(
        "ratio value should be between -1 and 1, got {}, capping to {}",
        go_g(r, None),
        go_g(cap, None)
    )
}

/// The warning for a classic-histogram bucket whose `le` does not parse.
pub(crate) fn bad_bucket_label(metric: &str, le: &str) -> String {
    with_metric_name(
        &format!(
            "bucket label \"le\" is missing or has a malformed value of {}",
            crate::error::go_quote(le)
        ),
        metric,
    )
}

/// The info for `rate`/`increase` over a metric not named like a counter.
fn possible_non_counter(metric: &str) -> String {
    format!(
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
        crate::error::go_quote(metric)
    )
}

/// The info for `rate`/`increase` over a metric whose `__type__` label
/// says it is not a counter (type-and-unit labels on).
fn possible_non_counter_label(metric: &str, type_label: &str) -> String {
    format!(
        "metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got {}: {}",
        crate::error::go_quote(type_label),
        crate::error::go_quote(metric)
    )
}

/// The info for an operator that has no meaning for the operand types.
pub(crate) fn incompatible_types_in_bin_op(lhs: &str, op: &str, rhs: &str) -> String {
    format!("incompatible sample types encountered for binary operator \"{op}\": {lhs} {op} {rhs}")
}

/// The warning for `sort` and friends in a range query.
pub(crate) const SORT_IN_RANGE_QUERY: &str =
    "sort is ineffective for range queries since results are always ordered by labels";

/// Records annotations on the query being evaluated.
impl super::eval::Evaluator<'_> {
    /// Records a warning or info about the node at `span`.
    pub(crate) fn annotate(&mut self, kind: AnnotationKind, message: String, span: Span) {
        self.annotations.add(kind, message, span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_prometheus() {
        let a = Annotation {
            kind: AnnotationKind::Info,
            message: "boom".into(),
            span: Span::new(5, 8),
        };
        assert_eq!(a.render("rate(foo[5m])"), "PromQL info: boom (1:6)");
        assert_eq!(a.render("a\nbcdefgh"), "PromQL info: boom (2:4)");
        assert_eq!(a.render("ab"), "PromQL info: boom (invalid position)");
        let w = Annotation {
            kind: AnnotationKind::Warning,
            ..a
        };
        assert_eq!(w.to_string(), "PromQL warning: boom");
    }

    #[test]
    fn same_text_is_one_annotation_at_the_last_position() {
        let mut a = Annotations::default();
        a.add(AnnotationKind::Info, "x".into(), Span::new(1, 2));
        a.add(AnnotationKind::Warning, "x".into(), Span::new(3, 4));
        a.add(AnnotationKind::Info, "x".into(), Span::new(5, 6));
        let got = a.finish();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].span, Span::new(5, 6));
        assert_eq!(got[1].kind, AnnotationKind::Warning);
    }

    #[test]
    fn parameter_checks_report_the_extremes() {
        let s = Span::new(9, 10);
        let mut a = Annotations::default();
        for v in [0.5, 1.5, 2.0, -0.5, -1.0] {
            a.param(ParamCheck::Quantile, v, s);
        }
        let mut got: Vec<String> = a.finish().into_iter().map(|a| a.message).collect();
        got.sort();
        assert_eq!(
            got,
            [
                "quantile value should be between 0 and 1, got -1",
                "quantile value should be between 0 and 1, got 2"
            ]
        );
        let mut a = Annotations::default();
        a.param(ParamCheck::Quantile, 2.0, s);
        a.param(ParamCheck::Quantile, f64::NAN, s);
        let got = a.finish();
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].message,
            "quantile value should be between 0 and 1, got NaN"
        );
        let mut a = Annotations::default();
        a.param(ParamCheck::Ratio, 0.5, s);
        assert!(a.finish().is_empty());
        let mut a = Annotations::default();
        a.param(ParamCheck::Ratio, -1.1, s);
        assert_eq!(
            a.finish()[0].message,
            "ratio value should be between -1 and 1, got -1.1, capping to -1"
        );
    }

    #[test]
    fn monotonicity_info_sums_up_occurrences() {
        let s = Span::new(0, 1);
        let mut a = Annotations::default();
        let f = |min, max, diff| ForcedMonotonicity {
            min_bucket: min,
            max_bucket: max,
            max_diff: diff,
        };
        // Occurrences on 2024-12-25, 2023-12-25 and 2024-12-01.
        a.forced_monotonicity("m", 1_735_084_800_000, f(5.0, 50.0, 5.5), s);
        a.forced_monotonicity("m", 1_703_462_400_000, f(10.0, 100.0, 10.0), s);
        a.forced_monotonicity("m", 1_733_011_200_000, f(2.5, 75.0, 7.5), s);
        a.forced_monotonicity("", 0, f(0.5, 1.0, 3.25), s);
        let got = a.finish();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].message,
            "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"m\", from buckets 2.5 to 100, with a max diff of 10, over 3 samples from 2023-12-25T00:00:00Z to 2024-12-25T00:00:00Z"
        );
        assert!(got[1].message.ends_with(
            "#histogram_quantile), from buckets 0.5 to 1, with a max diff of 3.2, over 1 samples from 1970-01-01T00:00:00Z to 1970-01-01T00:00:00Z"
        ));
    }
}
