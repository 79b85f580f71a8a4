//! `_created` samples: which families have them and finding the one that
//! belongs to a series.
//!
//! OpenMetrics exposes a counter's, histogram's or summary's creation time
//! as one more sample, `<family>_created`, with the series' labels (minus
//! `le`/`quantile`), usually after the series' other samples. Prometheus
//! reads it by looking ahead from each sample to the `_created` line of the
//! same family and label set; so does this.

use model::MetricType;

use super::{family_suffixes, OpenMetricsParser};
use crate::entry::{Entry, LabelPair, Series};

impl OpenMetricsParser<'_> {
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
}

/// Whether `_created` samples of a family of type `t` hold created
/// timestamps (Prometheus's list: counters, histograms, summaries).
pub(super) fn has_created_series(t: MetricType) -> bool {
    matches!(
        t,
        MetricType::Counter | MetricType::Histogram | MetricType::Summary
    )
}

/// The family name of a sample name under type `t`.
pub(super) fn strip_family_suffix(name: &str, t: MetricType) -> &str {
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
    let keep = |l: &LabelPair<'_>| l.name != ignored;
    a.labels().filter(keep).eq(b.labels().filter(keep))
}
