//! `load_with_nhcb`: classic histogram series of a block (`*_bucket{le=…}`,
//! `*_sum`, `*_count`) become native histograms with custom buckets (schema
//! −53) under the base name, one per timestamp at which any member has a
//! float sample. Conversion as upstream's `convertnhcb`: cumulative `le`
//! counts are de-cumulated, a missing `_count` is the largest bucket's count,
//! a missing `+Inf` bucket is added with the total count, and negative,
//! decreasing or mismatching counts fail the load.

use std::collections::BTreeMap;

use model::{Labels, METRIC_NAME};

use crate::runner::render::Series;
use crate::script::Load;
use crate::values::{Histogram, Value, CUSTOM_BUCKETS_SCHEMA};

/// A synthesised series: base labels and its histograms in time order.
pub type NhcbSeries = (Labels, Vec<(i64, Histogram)>);

/// The classic histogram of one base label set at one timestamp.
#[derive(Default)]
struct Classic {
    /// (upper bound, cumulative count), sorted by bound, distinct bounds.
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
    err: Option<String>,
}

impl Classic {
    fn set_bucket(&mut self, le: f64, count: f64) {
        if self.err.is_some() {
            return;
        }
        if count < 0.0 {
            self.err = Some(format!(
                "bucket count must be non-negative: le={le}, count={count}"
            ));
            return;
        }
        // A bound written twice (`0.2`, `2e-1`) counts once, as upstream.
        match self.buckets.binary_search_by(|(b, _)| b.total_cmp(&le)) {
            Ok(_) => {}
            Err(i) => self.buckets.insert(i, (le, count)),
        }
    }

    fn convert(mut self) -> Result<Histogram, String> {
        if let Some(e) = self.err {
            return Err(e);
        }
        if let Some(w) = self.buckets.windows(2).find(|w| w[1].1 < w[0].1) {
            return Err(format!("count is not cumulative: {} < {}", w[1].1, w[0].1));
        }
        let count = match (self.count, self.buckets.last()) {
            (Some(c), _) => c,
            (None, Some((_, c))) => *c,
            (None, None) => 0.0,
        };
        if self
            .buckets
            .last()
            .is_none_or(|(le, _)| *le != f64::INFINITY)
        {
            self.buckets.push((f64::INFINITY, count));
        }
        let (last_le, last_count) = self.buckets[self.buckets.len() - 1];
        if count != last_count {
            return Err(format!(
                "count mismatch: count={count} != le={last_le} count={last_count}"
            ));
        }
        let mut prev = 0.0;
        let mut counts = Vec::with_capacity(self.buckets.len());
        for (_, c) in &self.buckets {
            counts.push(c - prev);
            prev = *c;
        }
        let custom_values = self.buckets[..self.buckets.len() - 1]
            .iter()
            .map(|(le, _)| *le)
            .collect();
        let mut h = Histogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum: self.sum,
            custom_values,
            ..Histogram::default()
        };
        h.positive.counts = counts;
        Ok(h)
    }
}

enum Part {
    Bucket(f64),
    Count,
    Sum,
}

/// The NHCB series `load` synthesises (none unless it is `load_with_nhcb`);
/// an error fails the load. Series defined twice count once (the last).
pub fn nhcb_series(load: &Load) -> Result<Vec<NhcbSeries>, String> {
    if !load.with_nhcb {
        return Ok(Vec::new());
    }
    let mut last: BTreeMap<&Labels, usize> = BTreeMap::new();
    for (i, s) in load.series.iter().enumerate() {
        last.insert(&s.labels, i);
    }
    let mut groups: BTreeMap<Labels, BTreeMap<i64, Classic>> = BTreeMap::new();
    for &i in last.values() {
        let s = &load.series[i];
        let name = s.labels.metric_name().unwrap_or("");
        let (base, part) = if let Some(b) = name.strip_suffix("_bucket") {
            let le = s.labels.get("le").ok_or_else(|| {
                format!(
                    "line {}: bucket series {} has no le label",
                    s.line,
                    Series(&s.labels)
                )
            })?;
            // An unparsable or NaN bound makes the series ignored, as upstream.
            match parse_le(le) {
                Some(le) => (b, Part::Bucket(le)),
                None => continue,
            }
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, Part::Sum)
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, Part::Count)
        } else {
            continue;
        };
        let mut lb = s.labels.to_builder();
        lb.set(METRIC_NAME, base);
        lb.del("le");
        let by_ts = groups.entry(lb.build()).or_default();
        for (k, v) in (0_i64..).zip(&s.values) {
            let Some(Value::Float(f)) = v else { continue };
            let t = k
                .checked_mul(load.interval_ms)
                .ok_or_else(|| format!("line {}: timestamp overflows", s.line))?;
            let c = by_ts.entry(t).or_default();
            match part {
                Part::Bucket(le) => c.set_bucket(le, *f),
                Part::Count if *f < 0.0 => {
                    c.err = Some(format!("count must be non-negative: count={f}"))
                }
                Part::Count => c.count = Some(*f),
                Part::Sum => c.sum = *f,
            }
        }
    }
    groups
        .into_iter()
        .map(|(labels, by_ts)| {
            let hs = by_ts
                .into_iter()
                .map(|(t, c)| c.convert().map(|h| (t, h)))
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| {
                    format!(
                        "cannot convert {} to a native histogram: {e}",
                        Series(&labels)
                    )
                })?;
            Ok((labels, hs))
        })
        .collect()
}

/// An `le` value as Go's `ParseFloat` reads it; `None` for NaN or junk.
fn parse_le(s: &str) -> Option<f64> {
    let v = match s.to_ascii_lowercase().trim_start_matches('+') {
        "inf" | "infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    (!v.is_nan()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::render::fmt_histogram;
    use crate::script::{Command, Script};

    fn check(body: &str, want: &str) {
        let text = format!("load_with_nhcb 5m\n{body}");
        let s = Script::parse("t.test", &text).unwrap();
        let Some(Command::Load(l)) = s.commands.first() else {
            panic!("want a load")
        };
        let got = match nhcb_series(l) {
            Ok(series) => series
                .iter()
                .map(|(labels, hs)| {
                    let hs: Vec<String> = hs
                        .iter()
                        .map(|(t, h)| format!("{}@{t}", fmt_histogram(h)))
                        .collect();
                    format!("{} {}", Series(labels), hs.join(" "))
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, want, "{body}");
    }

    #[test]
    fn conversions() {
        check(
            "foo_bucket{le=\"1\"} 0+1x1\nfoo_bucket{le=\"+Inf\"} 0+2x1",
            "foo {{schema:-53 sum:0 count:0 buckets:[0 0] custom_values:[1]}}@0 {{schema:-53 sum:0 count:2 buckets:[1 1] custom_values:[1]}}@300000",
        );
        check(
            "x_bucket{le=\"0.2\",a=\"b\"} 1\nx_bucket{le=\"2e-1\",a=\"b\"} 1\nx_bucket{le=\"5\",a=\"b\"} 3\nx_count{a=\"b\"} 4\nx_sum{a=\"b\"} 9",
            "x{a=\"b\"} {{schema:-53 sum:9 count:4 buckets:[1 2 1] custom_values:[0.2 5]}}@0",
        );
        check("lone_count 7 _ 8", "lone {{schema:-53 sum:0 count:7 buckets:[7]}}@0 {{schema:-53 sum:0 count:8 buckets:[8]}}@600000");
        check("plain 1\nbad_bucket{le=\"x\"} 1", "");
        check(
            "h_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 3",
            "error: cannot convert h to a native histogram: count is not cumulative: 3 < 5",
        );
        check("h_bucket{le=\"1\"} -1", "error: cannot convert h to a native histogram: bucket count must be non-negative: le=1, count=-1");
        check("h_bucket{le=\"+Inf\"} 3\nh_count 4", "error: cannot convert h to a native histogram: count mismatch: count=4 != le=inf count=3");
        check(
            "h_bucket 1",
            "error: line 2: bucket series h_bucket has no le label",
        );
    }
}
