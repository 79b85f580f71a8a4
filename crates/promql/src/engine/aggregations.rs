//! Aggregation operators over an instant vector, grouped `by`/`without`.

use std::collections::HashMap;

use model::Labels;

use super::annotations::ParamCheck;
use super::eval::{qerr, Evaluator};
use super::value::{Elem, IVal};
use super::EngineError;
use crate::ast::{AggregateExpr, AggregateOp};

/// Kahan–Babuška (Neumaier) summation step: adds `inc` to `sum`, carrying
/// the lost low-order bits in `c`.
pub(crate) fn kahan_add(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The Kahan-compensated sum of `vals`.
pub(crate) fn kahan_sum(vals: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0, 0.0);
    for v in vals {
        (s, c) = kahan_add(v, s, c);
    }
    s + c
}

/// The mean, switching to an incremental mean if the plain sum overflows.
pub(crate) fn mean(vals: &[f64]) -> f64 {
    let n = vals.len() as f64;
    let s = kahan_sum(vals.iter().copied());
    if s.is_finite() || vals.iter().any(|v| !v.is_finite()) {
        return s / n;
    }
    let mut m = 0.0;
    for (i, v) in vals.iter().enumerate() {
        m += v / (i + 1) as f64 - m / (i + 1) as f64;
    }
    m
}

/// Population variance (Welford).
pub(crate) fn variance(vals: &[f64]) -> f64 {
    let (mut n, mut m, mut m2) = (0.0, 0.0, 0.0);
    for &v in vals {
        n += 1.0;
        let d = v - m;
        m += d / n;
        m2 += d * (v - m);
    }
    m2 / n
}

/// The φ-quantile of `vals` with linear interpolation, as Prometheus's
/// `quantile` computes it.
pub(crate) fn quantile(q: f64, vals: &mut [f64]) -> f64 {
    if vals.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as in Prometheus.
    vals.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = vals.len() as f64;
    let rank = q * (n - 1.0);
    let lo = rank.floor().max(0.0) as usize;
    let hi = (lo + 1).min(vals.len() - 1);
    let w = rank - rank.floor();
    let (a, b) = (vals.get(lo).copied(), vals.get(hi).copied());
    match (a, b) {
        (Some(a), Some(b)) => a * (1.0 - w) + b * w,
        _ => f64::NAN,
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// The value of a parameterless aggregation over one group's values (in
/// input order); `None` for the operators that select or need a parameter.
pub(crate) fn reduce(op: AggregateOp, vals: &[f64]) -> Option<f64> {
    let min = |m: f64, v: f64| if m.is_nan() || v < m { v } else { m };
    let max = |m: f64, v: f64| if m.is_nan() || v > m { v } else { m };
    Some(match op {
        AggregateOp::Sum => kahan_sum(vals.iter().copied()),
        AggregateOp::Avg => mean(vals),
        AggregateOp::Count => vals.len() as f64,
        AggregateOp::Group => 1.0,
        AggregateOp::Min => vals.iter().copied().fold(f64::NAN, min),
        AggregateOp::Max => vals.iter().copied().fold(f64::NAN, max),
        AggregateOp::Stdvar => variance(vals),
        AggregateOp::Stddev => variance(vals).sqrt(),
        _ => return None,
    })
}

impl Evaluator<'_> {
    pub(crate) fn aggregate(
        &mut self,
        a: &AggregateExpr,
        t: i64,
    ) -> Result<Vec<Elem>, EngineError> {
        let param = match &a.param {
            Some(p) => Some(self.eval(p, t)?),
            None => None,
        };
        if a.op == AggregateOp::CountValues {
            if let Some(bad) = a.param.as_deref().and_then(super::functions::invalid_utf8) {
                return Err(qerr(format!("invalid label name {bad}")));
            }
        }
        let input = self.eval_vector(&a.expr, t)?;
        if let Some(IVal::Scalar(p)) = &param {
            if p.is_nan() {
                match a.op {
                    AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
                        return Err(qerr("Parameter value is NaN"))
                    }
                    AggregateOp::LimitRatio => return Err(qerr("Ratio value is NaN")),
                    _ => {}
                }
            }
        }
        // Prometheus checks the extremes of the parameter over all steps,
        // so the values are gathered and judged when the query ends.
        let check = match a.op {
            AggregateOp::LimitRatio => Some(ParamCheck::Ratio),
            AggregateOp::Quantile => Some(ParamCheck::Quantile),
            _ => None,
        };
        if let (Some(check), Some(IVal::Scalar(p)), Some(pe)) = (check, &param, &a.param) {
            self.annotations
                .param(check, *p, super::functions::unparen(pe).span());
        }
        let names: Vec<&str> = a.grouping.iter().map(String::as_str).collect();
        // `by ()` (or no grouping): one group, its key built once.
        let single = (!a.without && names.is_empty()).then(Labels::empty);
        let key_of = |l: &Labels| -> Labels {
            if a.without {
                let mut n = names.clone();
                n.push("__name__");
                l.without(&n)
            } else {
                l.keep_only(&names)
            }
        };
        // Groups in order of first appearance.
        let mut order: Vec<Labels> = Vec::new();
        let mut groups: HashMap<Labels, Vec<Elem>> = HashMap::new();
        if a.op == AggregateOp::CountValues {
            let Some(IVal::Str(label)) = param else {
                return Err(qerr("count_values needs a string parameter"));
            };
            if !model::labels::is_valid_utf8_name(&label) || label.is_empty() {
                return Err(qerr(format!("invalid label name {label:?}")));
            }
            for mut el in input {
                let mut b = key_of(&el.labels).to_builder();
                b.set(&label, &format_float(el.v));
                let k = b.build();
                el.labels = k.clone();
                if !groups.contains_key(&k) {
                    order.push(k.clone());
                }
                groups.entry(k).or_default().push(el);
            }
            return Ok(order
                .into_iter()
                .filter_map(|k| {
                    let n = groups.get(&k)?.len();
                    Some(Elem {
                        labels: k,
                        v: n as f64,
                        ts: t,
                        drop_name: false,
                    })
                })
                .collect());
        }
        match &single {
            Some(k) if !input.is_empty() => {
                order.push(k.clone());
                groups.insert(k.clone(), input);
            }
            Some(_) => {}
            None => {
                for el in input {
                    let k = key_of(&el.labels);
                    if !groups.contains_key(&k) {
                        order.push(k.clone());
                    }
                    groups.entry(k).or_default().push(el);
                }
            }
        }
        let scalar_param = match param {
            Some(IVal::Scalar(x)) => x,
            _ => f64::NAN,
        };
        let mut out = Vec::new();
        for k in order {
            let Some(g) = groups.remove(&k) else { continue };
            // Grouping by `__name__` keeps the name in the key; the group's
            // result still loses it at the end if any member was marked (a
            // side effect of delayed name removal Prometheus's tests pin).
            let drop_name = k.has("__name__") && g.iter().any(|e| e.drop_name);
            let vals: Vec<f64> = g.iter().map(|e| e.v).collect();
            let v = match a.op {
                AggregateOp::Quantile => {
                    let mut vals = vals;
                    quantile(scalar_param, &mut vals)
                }
                AggregateOp::Topk | AggregateOp::Bottomk | AggregateOp::Limitk => {
                    out.extend(select_k(a.op, scalar_param, g)?);
                    continue;
                }
                AggregateOp::LimitRatio => {
                    let r = scalar_param.clamp(-1.0, 1.0);
                    out.extend(g.into_iter().filter(|e| {
                        let off = ratio_offset(&e.labels);
                        (r >= 0.0 && off < r) || (r < 0.0 && off >= 1.0 + r)
                    }));
                    continue;
                }
                AggregateOp::CountValues => {
                    return Err(qerr("BUG: count_values reached the generic aggregation"))
                }
                op => match reduce(op, &vals) {
                    Some(v) => v,
                    None => return Err(qerr(format!("BUG: no reduction for {op:?}"))),
                },
            };
            out.push(Elem {
                labels: k,
                v,
                ts: t,
                drop_name,
            });
        }
        Ok(out)
    }
}

/// Where a series falls in [0, 1) for `limit_ratio`: its label hash
/// (Prometheus's `Labels.Hash`, xxHash64 over `name 0xff value 0xff …`)
/// scaled, so the same series are picked at every step.
fn ratio_offset(l: &Labels) -> f64 {
    let mut buf = Vec::with_capacity(l.as_bytes().len() + 2 * l.len());
    for lb in l.iter() {
        buf.extend_from_slice(lb.name.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(lb.value.as_bytes());
        buf.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&buf, 0) as f64 / u64::MAX as f64
}

/// Which of two values `topk` (or else `bottomk`) puts first: the larger
/// (smaller), NaN last.
pub(crate) fn rank_order(op: AggregateOp, a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if op == AggregateOp::Topk => b.total_cmp(&a),
        _ => a.total_cmp(&b),
    }
}

/// `topk`, `bottomk`, `limitk` on one group: the original elements.
fn select_k(op: AggregateOp, k: f64, mut g: Vec<Elem>) -> Result<Vec<Elem>, EngineError> {
    if k.is_nan() {
        return Err(qerr("Parameter value is NaN"));
    }
    if k < 1.0 {
        return Ok(Vec::new());
    }
    let k = if k >= g.len() as f64 {
        g.len()
    } else {
        k as usize
    };
    let order = |a: &Elem, b: &Elem| rank_order(op, a.v, b.v);
    let ranked = matches!(op, AggregateOp::Topk | AggregateOp::Bottomk);
    if !ranked || k == g.len() {
        if ranked {
            g.sort_by(order);
        }
        g.truncate(k);
        return Ok(g);
    }
    // The first k of a stable sort, without sorting the rest: selected by
    // value, ties by input position.
    let mut pos: Vec<usize> = (0..g.len()).collect();
    let by = |x: &usize, y: &usize| order(&g[*x], &g[*y]).then(x.cmp(y));
    pos.select_nth_unstable_by(k - 1, by);
    pos.truncate(k);
    pos.sort_by(by);
    Ok(pos.into_iter().map(|i| g[i].clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_keeps_small_addends() {
        // Plain summation loses the 1s next to 1e100.
        assert_eq!(kahan_sum([1e100, 1.0, -1e100, 1.0]), 2.0);
        assert_eq!(kahan_sum([f64::INFINITY, 1.0]), f64::INFINITY);
    }

    #[test]
    fn mean_survives_overflow() {
        assert_eq!(mean(&[f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
    }

    #[test]
    fn quantile_interpolates_and_sorts_nan_first() {
        assert_eq!(quantile(0.5, &mut [1.0, 3.0, 2.0]), 2.0);
        assert_eq!(quantile(0.25, &mut [0.0, 4.0]), 1.0);
        assert!(quantile(0.0, &mut [1.0, f64::NAN]).is_nan());
        assert_eq!(quantile(1.0, &mut [1.0, f64::NAN]), 1.0);
        assert_eq!(quantile(-1.0, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
    }

    #[test]
    fn variance_is_population_variance() {
        assert_eq!(variance(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]), 4.0);
    }

    #[test]
    fn floats_format_as_go() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(1e21), "1000000000000000000000");
        assert_eq!(format_float(f64::INFINITY), "+Inf");
        assert_eq!(format_float(f64::NAN), "NaN");
    }

    #[test]
    fn ratio_offset_is_stable_and_in_unit_range() {
        let l = Labels::from_pairs(&[("a", "b")]);
        let o = ratio_offset(&l);
        assert!((0.0..=1.0).contains(&o));
        assert_eq!(o, ratio_offset(&l.clone()));
    }
}
