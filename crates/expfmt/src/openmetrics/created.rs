//! `_created` samples: which families have them and finding the one that
//! belongs to a series.
//!
//! OpenMetrics exposes a counter's, histogram's or summary's creation time
//! as one more sample, `<family>_created`, with the series' labels (minus
//! `le`/`quantile`), usually after the series' other samples. Prometheus
//! reads it by looking ahead from each sample to the `_created` line of the
//! same family and label set; so does this.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

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
    /// The look-ahead reads on to the `_created` sample; the answer is kept
    /// for the following samples of the same series (until the next
    /// `# TYPE`), so a histogram's buckets cost one look-ahead, not one each.
    pub fn created_timestamp(&mut self, series: &Series<'_>) -> Option<i64> {
        if !has_created_series(self.metric_type) {
            return None;
        }
        let family = strip_family_suffix(series.name(), self.metric_type);
        let key = identity_hash(family, series, self.metric_type);
        if let Some((cached, ct)) = self.created_cache {
            if cached == key {
                return ct;
            }
        }
        let ct = self.look_ahead(family, series);
        self.created_cache = Some((key, ct));
        ct
    }

    fn look_ahead(&self, family: &str, series: &Series<'_>) -> Option<i64> {
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
            // As Prometheus: float seconds times 1000, truncated.
            return Some((next.value() * 1000.0) as i64);
        }
    }
}

/// The label name a family's samples differ by within one series.
fn ignored_label(t: MetricType) -> &'static str {
    match t {
        MetricType::Histogram => "le",
        MetricType::Summary => "quantile",
        _ => "",
    }
}

/// A hash of the family name and the series' labels minus the ignored one.
fn identity_hash(family: &str, series: &Series<'_>, t: MetricType) -> u64 {
    let ignored = ignored_label(t);
    let mut h = DefaultHasher::new();
    family.hash(&mut h);
    for l in series.labels().filter(|l| l.name != ignored) {
        l.name.hash(&mut h);
        l.value.hash(&mut h);
    }
    h.finish()
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
    let ignored = ignored_label(t);
    let keep = |l: &LabelPair<'_>| l.name != ignored;
    a.labels().filter(keep).eq(b.labels().filter(keep))
}
