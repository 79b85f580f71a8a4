//! The experimental `anchored` and `smoothed` range modifiers (Prometheus
//! 3.x extended range selectors).
//!
//! * `anchored`: the range also holds the last sample at or before its
//!   start (within the lookback delta), and `rate`/`increase`/`delta` take
//!   the plain difference, without extrapolation.
//! * `smoothed`: values at the range's two edges are interpolated linearly
//!   between the neighbouring samples (taken from the one neighbour there
//!   is, at the edges of the data); the change is the difference between
//!   them. For counters, a reset between the neighbours interpolates from 0.

use model::{is_stale_nan, Sample};

use super::eval::{qerr, Evaluator};
use super::value::RangeSeries;
use super::EngineError;
use crate::ast::MatrixSelector;

/// Functions each modifier may be used with.
const SMOOTHED_FUNCS: &[&str] = &["delta", "increase", "rate"];
const ANCHORED_FUNCS: &[&str] = &["changes", "delta", "increase", "rate", "resets"];

/// The error Prometheus gives for a modifier on a function that cannot use it.
pub(crate) fn check_modifier(ms: &MatrixSelector, func: &str) -> Result<(), EngineError> {
    let (name, allowed) = if ms.selector.smoothed {
        ("smoothed", SMOOTHED_FUNCS)
    } else if ms.selector.anchored {
        ("anchored", ANCHORED_FUNCS)
    } else {
        return Ok(());
    };
    if allowed.contains(&func) {
        return Ok(());
    }
    Err(qerr(format!(
        "{name} modifier can only be used with: {} - not with {func}",
        allowed.join(", ")
    )))
}

/// The value at `b` interpolated from the samples around it.
pub(crate) fn interpolate(samples: &[Sample], b: i64, lookback: i64, counter: bool) -> Option<f64> {
    let live = |s: &&Sample| !is_stale_nan(s.v);
    let i = samples.partition_point(|s| s.t <= b);
    let prev = samples[..i]
        .iter()
        .rev()
        .find(live)
        .filter(|s| b - s.t < lookback);
    let next = samples[i..]
        .iter()
        .find(live)
        .filter(|s| s.t - b < lookback);
    match (prev, next) {
        (Some(p), Some(n)) => {
            if p.t == b {
                return Some(p.v);
            }
            let from = if counter && n.v < p.v { 0.0 } else { p.v };
            let f = (b - p.t) as f64 / (n.t - p.t) as f64;
            Some(from + (n.v - from) * f)
        }
        (Some(p), None) => Some(p.v),
        (None, Some(n)) => Some(n.v),
        (None, None) => None,
    }
}

/// The difference from the first to the last point, counter resets
/// accounted for when `counter`.
pub(crate) fn plain_change(points: &[(i64, f64)], counter: bool) -> Option<f64> {
    let first = points.first()?.1;
    let last = points.last()?.1;
    let mut d = last - first;
    if counter {
        for w in points.windows(2) {
            if w[1].1 < w[0].1 {
                d += w[0].1;
            }
        }
    }
    Some(d)
}

impl Evaluator<'_> {
    /// The points of a `smoothed` or `anchored` matrix selector at `t`:
    /// interpolated edges, or the anchor sample first.
    pub(crate) fn extended_points(
        &mut self,
        ms: &MatrixSelector,
        t: i64,
        counter: bool,
    ) -> Result<Vec<RangeSeries>, EngineError> {
        let (lo, hi) = self.matrix_window(ms, t)?;
        let lookback = self.opts.lookback_delta_ms;
        let data = self.series_for(&ms.selector)?;
        let mut out = Vec::new();
        for s in data.iter() {
            let a = s.samples.partition_point(|x| x.t <= lo);
            let b = s.samples.partition_point(|x| x.t <= hi);
            let inner = s
                .samples
                .get(a..b)
                .unwrap_or_default()
                .iter()
                .filter(|x| !is_stale_nan(x.v))
                .map(|x| (x.t, x.v));
            let mut points = Vec::new();
            if ms.selector.smoothed {
                // Data on both sides of the range is needed.
                let before = s.samples[..b].iter().any(|x| !is_stale_nan(x.v));
                let after = s.samples[a..].iter().any(|x| !is_stale_nan(x.v));
                if !before || !after {
                    continue;
                }
                let (Some(vs), Some(ve)) = (
                    interpolate(&s.samples, lo, lookback, counter),
                    interpolate(&s.samples, hi, lookback, counter),
                ) else {
                    continue;
                };
                points.push((lo, vs));
                points.extend(inner.filter(|p| p.0 != hi));
                points.push((hi, ve));
            } else {
                // The anchor only extends a range that has samples.
                if inner.clone().next().is_none() {
                    continue;
                }
                let anchor = s.samples[..a]
                    .last()
                    .filter(|x| !is_stale_nan(x.v) && lo.saturating_sub(x.t) < lookback);
                if let Some(x) = anchor {
                    points.push((lo, x.v));
                }
                points.extend(inner);
            }
            if !points.is_empty() {
                self.charge(points.len())?;
                out.push(RangeSeries {
                    labels: s.labels.clone(),
                    points,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, v: f64) -> Sample {
        Sample::new(t, v)
    }

    #[test]
    fn interpolation_between_and_beyond_samples() {
        let data = [s(0, 1.0), s(15_000, 2.0)];
        let v = interpolate(&data, 5_000, 300_000, false).unwrap_or(f64::NAN);
        assert!((v - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(interpolate(&data, -5_000, 300_000, false), Some(1.0));
        assert_eq!(interpolate(&data, 20_000, 300_000, false), Some(2.0));
        assert_eq!(interpolate(&data, 400_000, 300_000, false), None);
    }

    #[test]
    fn counter_interpolation_across_a_reset_starts_at_zero() {
        let data = [s(0, 100.0), s(15_000, 10.0)];
        let v = interpolate(&data, 3_000, 300_000, true).unwrap_or(f64::NAN);
        assert!((v - 2.0).abs() < 1e-12);
    }

    #[test]
    fn plain_change_counts_resets() {
        let pts = [(0, 9.0), (1, 8.0), (2, 5.0)];
        assert_eq!(plain_change(&pts, false), Some(-4.0));
        assert_eq!(plain_change(&pts, true), Some(5.0 + 9.0 + 8.0 - 9.0));
    }
}
