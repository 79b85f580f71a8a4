//! `histogram_quantile` and `histogram_fraction` over classic (`le`
//! labelled) buckets.

use std::collections::HashMap;

use model::Labels;

use super::{arg, unparen};
use crate::ast::{Call, Expr};
use crate::engine::aggregations::format_float;
use crate::engine::annotations::{
    bad_bucket_label, invalid_quantile, AnnotationKind, ForcedMonotonicity,
};
use crate::engine::eval::{qerr, Evaluator};
use crate::engine::value::{Elem, IVal};
use crate::engine::EngineError;

impl Evaluator<'_> {
    /// `histogram_quantile(q, v)`, `histogram_fraction(lo, hi, v)` and
    /// `histogram_quantiles(v, "label", q...)` over classic buckets.
    pub(super) fn histogram_quantile(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let name = c.func.name;
        // (vector argument, scalar arguments, output label of `quantiles`)
        let (vec_arg, scalars, label): (&Expr, Vec<&Expr>, Option<String>) = match name {
            "histogram_fraction" => (arg(c, 2)?, vec![arg(c, 0)?, arg(c, 1)?], None),
            "histogram_quantiles" => {
                let label = match self.eval(arg(c, 1)?, t)? {
                    IVal::Str(s) => s,
                    _ => return Err(qerr("histogram_quantiles needs a label name")),
                };
                (arg(c, 0)?, c.args.iter().skip(2).collect(), Some(label))
            }
            _ => (arg(c, 1)?, vec![arg(c, 0)?], None),
        };
        let mut params = Vec::with_capacity(scalars.len());
        for e in scalars {
            let q = self.eval_scalar(e, t)?;
            if name != "histogram_fraction" && !(0.0..=1.0).contains(&q) {
                let span = unparen(e).span();
                self.annotate(AnnotationKind::Warning, invalid_quantile(q), span);
            }
            params.push(q);
        }
        let v = self.eval_vector(vec_arg, t)?;
        let vec_span = unparen(vec_arg).span();
        // Grouped with the name still in: two metrics' buckets never mix,
        // and their results collide once the names go, as in Prometheus.
        let mut order: Vec<Labels> = Vec::new();
        let mut groups: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
        for el in v {
            let le = el.labels.get_or_empty("le");
            let Ok(le) = le.parse::<f64>() else {
                let name = el.labels.get_or_empty("__name__");
                self.annotate(
                    AnnotationKind::Warning,
                    bad_bucket_label(name, le),
                    vec_span,
                );
                continue;
            };
            let k = el.labels.without(&["le"]);
            if !groups.contains_key(&k) {
                order.push(k.clone());
            }
            groups.entry(k).or_default().push((le, el.v));
        }
        let mut out = Vec::new();
        for k in order {
            let Some(b) = groups.remove(&k) else { continue };
            let mut push = |labels: Labels, v: f64| {
                out.push(Elem {
                    labels,
                    v,
                    ts: t,
                    drop_name: true,
                })
            };
            let metric = k.get_or_empty("__name__");
            match (name, &label) {
                ("histogram_fraction", _) => {
                    let at = |i: usize| params.get(i).copied().unwrap_or(f64::NAN);
                    let (lo, hi) = (at(0), at(1));
                    push(k, bucket_fraction(lo, hi, b));
                }
                (_, Some(label)) => {
                    for &q in &params {
                        let mut lb = k.to_builder();
                        lb.set(label, &quantile_label(q));
                        let (v, forced) = bucket_quantile(q, b.clone());
                        if let Some(f) = forced {
                            self.annotations.forced_monotonicity(metric, t, f, vec_span);
                        }
                        push(lb.build(), v);
                    }
                }
                _ => {
                    let q = params.first().copied().unwrap_or(f64::NAN);
                    let (v, forced) = bucket_quantile(q, b);
                    if let Some(f) = forced {
                        self.annotations.forced_monotonicity(metric, t, f, vec_span);
                    }
                    push(k, v);
                }
            }
        }
        Ok(IVal::Vector(out))
    }
}

/// A quantile as `histogram_quantiles` labels it: Go's shortest form, with
/// a `.0` on whole numbers ("0.0", "0.25", "1.0").
fn quantile_label(q: f64) -> String {
    let s = format_float(q);
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        s + ".0"
    } else {
        s
    }
}

/// Classic buckets sorted, merged by bound and made monotonic; `None`
/// when they cannot describe a distribution (no `+Inf` bucket, fewer than
/// two buckets, no observations). Also says where monotonicity had to be
/// forced, which is reported even when there is no distribution.
fn normalise(mut b: Vec<(f64, f64)>) -> (Option<Vec<(f64, f64)>>, Option<ForcedMonotonicity>) {
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.last().map(|x| x.0) != Some(f64::INFINITY) {
        return (None, None);
    }
    let mut m: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for (u, c) in b {
        match m.last_mut() {
            Some(last) if last.0 == u => last.1 += c,
            _ => m.push((u, c)),
        }
    }
    let forced = make_monotonic(&mut m);
    let total = m.last().map_or(0.0, |x| x.1);
    if m.len() < 2 || total == 0.0 || total.is_nan() {
        return (None, forced);
    }
    (Some(m), forced)
}

/// Relative difference below which two successive bucket counts are taken
/// as equal (floating-point noise, not a decrease), as in Prometheus.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// Prometheus's `almost.Equal`: relative difference below `epsilon`.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Removes decreases between successive counts (each is raised to the
/// last count kept) and evens out differences that are only floating-point
/// noise; reports where a real decrease was removed.
fn make_monotonic(m: &mut [(f64, f64)]) -> Option<ForcedMonotonicity> {
    let mut forced: Option<ForcedMonotonicity> = None;
    let &(_, mut prev) = m.first()?;
    for (upper, count) in m.iter_mut().skip(1) {
        let curr = *count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            *count = prev;
            continue;
        }
        if curr < prev {
            *count = prev;
            let f = forced.get_or_insert(ForcedMonotonicity {
                min_bucket: f64::INFINITY,
                max_bucket: f64::NEG_INFINITY,
                max_diff: 0.0,
            });
            f.min_bucket = f.min_bucket.min(*upper);
            f.max_bucket = f.max_bucket.max(*upper);
            f.max_diff = f.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    forced
}

/// The share of observations in `[lo, hi]` from classic buckets: each
/// bucket contributes the part of its count its overlap with the interval
/// covers, assuming an even spread; a bucket of infinite width counts only
/// when the interval covers it whole (there is no spread to assume). The
/// first bucket starts at 0 when its upper bound is positive, else at -Inf.
fn bucket_fraction(lo: f64, hi: f64, b: Vec<(f64, f64)>) -> f64 {
    if lo.is_nan() || hi.is_nan() {
        return f64::NAN;
    }
    let Some(m) = normalise_loose(b) else {
        return f64::NAN;
    };
    let total = m.last().map_or(0.0, |x| x.1);
    if hi <= lo {
        return 0.0;
    }
    let mut sum = 0.0;
    let mut prev: Option<(f64, f64)> = None;
    for &(ub, count) in &m {
        let (lb, before) = match prev {
            Some((u, c)) => (u, c),
            None if ub > 0.0 => (0.0, 0.0),
            None => (f64::NEG_INFINITY, 0.0),
        };
        prev = Some((ub, count));
        let n = count - before;
        if lb.is_infinite() || ub.is_infinite() {
            // Only an interval reaching the infinite end takes it all.
            let reaches = (ub.is_infinite() && hi == ub && lo < ub)
                || (lb.is_infinite() && lo == lb && hi > lb);
            if reaches {
                sum += n;
            }
            continue;
        }
        let width = hi.min(ub) - lo.max(lb);
        if width > 0.0 && ub > lb {
            sum += n * width / (ub - lb);
        }
    }
    sum / total
}

/// Like `normalise`, but a lone `+Inf` bucket is a distribution too.
fn normalise_loose(b: Vec<(f64, f64)>) -> Option<Vec<(f64, f64)>> {
    match b.as_slice() {
        [(ub, count)] if *ub == f64::INFINITY && *count > 0.0 => Some(b),
        _ => normalise(b).0,
    }
}

/// The φ-quantile from classic cumulative buckets (upper bound, count),
/// and where the buckets had to be made monotonic for it.
fn bucket_quantile(q: f64, b: Vec<(f64, f64)>) -> (f64, Option<ForcedMonotonicity>) {
    if q.is_nan() {
        return (f64::NAN, None);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, None);
    }
    if q > 1.0 {
        return (f64::INFINITY, None);
    }
    let (m, forced) = normalise(b);
    let Some(m) = m else {
        return (f64::NAN, forced);
    };
    let n = m.len();
    let total = m[n - 1].1;
    let mut rank = q * total;
    let i = m.partition_point(|x| x.1 < rank);
    if i >= n - 1 {
        return (m[n - 2].0, forced);
    }
    if i == 0 && m[0].0 <= 0.0 {
        return (m[0].0, forced);
    }
    let (mut start, end, mut count) = (0.0, m[i].0, m[i].1);
    if i > 0 {
        start = m[i - 1].0;
        count -= m[i - 1].1;
        rank -= m[i - 1].1;
    }
    (start + (end - start) * (rank / count), forced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_bucket_quantile() {
        let b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, b.clone()), (1.0, None));
        assert_eq!(bucket_quantile(0.75, b.clone()), (1.5, None));
        assert_eq!(bucket_quantile(1.0, b.clone()), (2.0, None));
        assert!(bucket_quantile(0.5, vec![(1.0, 1.0)]).0.is_nan());
    }

    #[test]
    fn classic_bucket_fraction() {
        let b = vec![
            (0.0, 0.0),
            (2.0, 1.0),
            (4.0, 2.0),
            (6.0, 3.0),
            (f64::INFINITY, 3.0),
        ];
        assert!((bucket_fraction(0.0, 4.0, b.clone()) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(bucket_fraction(3.0, 2.0, b), 0.0);
    }
}
