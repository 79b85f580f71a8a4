//! `histogram_quantile` and `histogram_fraction` over classic (`le`
//! labelled) buckets.

use std::collections::HashMap;

use model::Labels;

use super::arg;
use crate::ast::Call;
use crate::engine::eval::Evaluator;
use crate::engine::value::{Elem, IVal};
use crate::engine::EngineError;

impl Evaluator<'_> {
    pub(super) fn histogram_quantile(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let fraction = c.func.name == "histogram_fraction";
        let q = self.eval_scalar(arg(c, 0)?, t)?;
        let upper = if fraction {
            self.eval_scalar(arg(c, 1)?, t)?
        } else {
            f64::NAN
        };
        let v = self.eval_vector(arg(c, if fraction { 2 } else { 1 })?, t)?;
        let mut order: Vec<Labels> = Vec::new();
        let mut groups: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
        for el in v {
            let Some(le) = el.labels.get("le").and_then(|s| s.parse::<f64>().ok()) else {
                continue;
            };
            let k = el.labels.without(&["le", "__name__"]);
            if !groups.contains_key(&k) {
                order.push(k.clone());
            }
            groups.entry(k).or_default().push((le, el.v));
        }
        let mut out = Vec::new();
        for k in order {
            let Some(b) = groups.remove(&k) else { continue };
            out.push(Elem {
                labels: k,
                v: if fraction {
                    bucket_fraction(q, upper, b)
                } else {
                    bucket_quantile(q, b)
                },
                ts: t,
                drop_name: true,
            });
        }
        Ok(IVal::Vector(out))
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

/// The share of observations in `[lo, hi]` from classic buckets, assuming
/// observations spread evenly within each bucket.
fn bucket_fraction(lo: f64, hi: f64, b: Vec<(f64, f64)>) -> f64 {
    let Some(m) = normalise(b) else {
        return f64::NAN;
    };
    let total = m[m.len() - 1].1;
    // Observations at or below x.
    let rank = |x: f64| -> f64 {
        let i = m.partition_point(|b| b.0 < x);
        let Some(&(ub, count)) = m.get(i) else {
            return total;
        };
        let (lb, prev) = match i.checked_sub(1).and_then(|j| m.get(j)) {
            Some(&(u, c)) => (u, c),
            None if ub > 0.0 => (0.0, 0.0),
            None => (f64::NEG_INFINITY, 0.0),
        };
        if ub.is_infinite() || lb.is_infinite() {
            return if x >= ub { count } else { prev };
        }
        if x <= lb {
            return prev;
        }
        prev + (count - prev) * (x - lb) / (ub - lb)
    };
    if hi <= lo || lo.is_nan() || hi.is_nan() {
        return 0.0;
    }
    (rank(hi) - rank(lo)) / total
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
