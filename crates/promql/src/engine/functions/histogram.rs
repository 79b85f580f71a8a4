//! `histogram_quantile` and `histogram_fraction` over classic (`le`
//! labelled) buckets.

use std::collections::HashMap;

use model::Labels;

use super::arg;
use crate::ast::{Call, Expr};
use crate::engine::aggregations::format_float;
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
                self.warn(
                    format!(
                        "quantile value should be between 0 and 1, got {}",
                        format_float(q)
                    ),
                    e.span(),
                );
            }
            params.push(q);
        }
        let v = self.eval_vector(vec_arg, t)?;
        // Grouped with the name still in: two metrics' buckets never mix,
        // and their results collide once the names go, as in Prometheus.
        let mut order: Vec<Labels> = Vec::new();
        let mut groups: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
        for el in v {
            let Some(le) = el.labels.get("le").and_then(|s| s.parse::<f64>().ok()) else {
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
                        push(lb.build(), bucket_quantile(q, b.clone()));
                    }
                }
                _ => {
                    let q = params.first().copied().unwrap_or(f64::NAN);
                    push(k, bucket_quantile(q, b));
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
/// two buckets, no observations).
fn normalise(mut b: Vec<(f64, f64)>) -> Option<Vec<(f64, f64)>> {
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.last().map(|x| x.0) != Some(f64::INFINITY) {
        return None;
    }
    let mut m: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for (u, c) in b {
        match m.last_mut() {
            Some(last) if last.0 == u => last.1 += c,
            _ => m.push((u, c)),
        }
    }
    let mut max = f64::NEG_INFINITY;
    for x in &mut m {
        if x.1 > max {
            max = x.1;
        } else {
            x.1 = max;
        }
    }
    let total = m.last()?.1;
    if m.len() < 2 || total == 0.0 || total.is_nan() {
        return None;
    }
    Some(m)
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
        _ => normalise(b),
    }
}

/// The φ-quantile from classic cumulative buckets (upper bound, count).
fn bucket_quantile(q: f64, b: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let Some(m) = normalise(b) else {
        return f64::NAN;
    };
    let n = m.len();
    let total = m[n - 1].1;
    let mut rank = q * total;
    let i = m.partition_point(|x| x.1 < rank);
    if i >= n - 1 {
        return m[n - 2].0;
    }
    if i == 0 && m[0].0 <= 0.0 {
        return m[0].0;
    }
    let (mut start, end, mut count) = (0.0, m[i].0, m[i].1);
    if i > 0 {
        start = m[i - 1].0;
        count -= m[i - 1].1;
        rank -= m[i - 1].1;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_bucket_quantile() {
        let b = vec![(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)];
        assert_eq!(bucket_quantile(0.5, b.clone()), 1.0);
        assert_eq!(bucket_quantile(0.75, b.clone()), 1.5);
        assert_eq!(bucket_quantile(1.0, b.clone()), 2.0);
        assert!(bucket_quantile(0.5, vec![(1.0, 1.0)]).is_nan());
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
