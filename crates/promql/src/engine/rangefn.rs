//! Functions over range vectors: `rate` and friends, `*_over_time`,
//! `changes`, `resets`, `deriv`, `predict_linear`.

use super::aggregations::{kahan_add, kahan_sum, mean, quantile};

/// `rate`, `increase`, `delta`: the change over `(lo, hi]` extrapolated to
/// the window's edges as Prometheus does it.
pub(crate) fn extrapolated(
    pts: &[(i64, f64)],
    lo: i64,
    hi: i64,
    counter: bool,
    per_second: bool,
) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (ft, fv) = *pts.first()?;
    let (lt, lv) = *pts.last()?;
    let mut result = lv - fv;
    if counter {
        let mut prev = fv;
        for &(_, v) in pts.iter().skip(1) {
            if v < prev {
                result += prev;
            }
            prev = v;
        }
    }
    let sampled = (lt - ft) as f64 / 1000.0;
    let avg = sampled / (pts.len() - 1) as f64;
    let threshold = avg * 1.1;
    let mut to_start = (ft - lo) as f64 / 1000.0;
    let mut to_end = (hi - lt) as f64 / 1000.0;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if counter && result > 0.0 && fv >= 0.0 {
        let to_zero = sampled * (fv / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if per_second {
        factor /= (hi - lo) as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (`rate` true) and `idelta`: from the last two samples.
pub(crate) fn instant_delta(pts: &[(i64, f64)], rate: bool) -> Option<f64> {
    let n = pts.len();
    if n < 2 {
        return None;
    }
    let (pt, pv) = *pts.get(n - 2)?;
    let (lt, lv) = *pts.get(n - 1)?;
    let mut d = lv - pv;
    if rate && lv < pv {
        d = lv;
    }
    if !rate {
        return Some(d);
    }
    let dt = (lt - pt) as f64 / 1000.0;
    if dt == 0.0 {
        return None;
    }
    Some(d / dt)
}

/// Least-squares slope and intercept at `at` (ms) of the points.
pub(crate) fn linear_regression(pts: &[(i64, f64)], at: i64) -> (f64, f64) {
    let first = pts.first().map_or(0.0, |p| p.1);
    if pts.iter().all(|p| p.1 == first) {
        // A constant series has slope 0, unless it is constantly
        // infinite, where no line is defined (Prometheus gives NaN).
        if first.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first);
    }
    let n = pts.len() as f64;
    let (mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    for &(t, v) in pts {
        let x = (t - at) as f64 / 1000.0;
        (sx, cx) = kahan_add(x, sx, cx);
        (sy, cy) = kahan_add(v, sy, cy);
        (sxy, cxy) = kahan_add(x * v, sxy, cxy);
        (sx2, cx2) = kahan_add(x * x, sx2, cx2);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

/// Population variance with Kahan-compensated running mean and sum of
/// squares, as `stdvar_over_time` computes it in Prometheus (the
/// `stdvar` aggregation uses plain Welford, see `aggregations::variance`):
/// on values like Unix timestamps the two differ in the ninth digit.
fn compensated_variance(vals: &[f64]) -> f64 {
    let (mut n, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &v in vals {
        n += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_add(delta / n, mean, c_mean);
        (aux, c_aux) = kahan_add(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / n
}

/// The value of range function `name` over the points of one window
/// `(lo, hi]` evaluated at `t`, with its scalar argument if it has one;
/// `None` for functions that are not plain functions of the window.
pub(crate) fn range_fn_value(
    name: &str,
    p: &[(i64, f64)],
    lo: i64,
    hi: i64,
    t: i64,
    scalar_arg: Option<f64>,
) -> Option<Option<f64>> {
    Some(match name {
        "predict_linear" if p.len() >= 2 => {
            let (slope, icpt) = linear_regression(p, t);
            Some(icpt + slope * scalar_arg.unwrap_or(0.0))
        }
        "predict_linear" => None,
        "quantile_over_time" => {
            let mut vals: Vec<f64> = p.iter().map(|x| x.1).collect();
            Some(quantile(scalar_arg.unwrap_or(f64::NAN), &mut vals))
        }
        _ => window_fn(name)?.call(p, lo, hi, t),
    })
}

/// One window's points, `(ms, value)` in time order.
type Points<'a> = &'a [(i64, f64)];

/// A range function whose value depends on nothing but its window, found
/// by name once and then called per series and step.
#[derive(Clone, Copy)]
pub(crate) enum WindowFn {
    /// Uses the window's bounds `(lo, hi]` and the evaluation time.
    Full(fn(Points<'_>, i64, i64, i64) -> Option<f64>),
    /// Uses the points alone.
    Points(fn(Points<'_>) -> Option<f64>),
}

impl WindowFn {
    pub(crate) fn call(self, p: &[(i64, f64)], lo: i64, hi: i64, t: i64) -> Option<f64> {
        match self {
            WindowFn::Full(f) => f(p, lo, hi, t),
            WindowFn::Points(f) => f(p),
        }
    }
}

/// The range functions without a scalar argument; `None` for the others.
pub(crate) fn window_fn(name: &str) -> Option<WindowFn> {
    Some(WindowFn::Full(match name {
        "rate" => |p, lo, hi, _| extrapolated(p, lo, hi, true, true),
        "increase" => |p, lo, hi, _| extrapolated(p, lo, hi, true, false),
        "delta" => |p, lo, hi, _| extrapolated(p, lo, hi, false, false),
        "irate" => |p, _, _, _| instant_delta(p, true),
        "idelta" => |p, _, _, _| instant_delta(p, false),
        // Prometheus fits the line around the first sample (not the
        // evaluation time) to keep the x values small.
        "deriv" => |p, _, _, _| (p.len() >= 2).then(|| linear_regression(p, p[0].0).0),
        _ => return over_time_fn(name).map(WindowFn::Points),
    }))
}

/// The simple `<agg>_over_time` functions; `None` for unknown names.
pub(crate) fn over_time(name: &str, pts: &[(i64, f64)]) -> Option<Option<f64>> {
    over_time_fn(name).map(|f| f(pts))
}

/// The simple `<agg>_over_time` functions by name.
// Only the functions that need the values as a slice copy them: these run
// once per series and step.
fn over_time_fn(name: &str) -> Option<fn(Points<'_>) -> Option<f64>> {
    fn vals(pts: &[(i64, f64)]) -> impl Iterator<Item = f64> + '_ {
        pts.iter().map(|p| p.1)
    }
    Some(match name {
        "avg_over_time" => |p| Some(mean(&vals(p).collect::<Vec<f64>>())),
        "sum_over_time" => |p| Some(kahan_sum(vals(p))),
        "count_over_time" => |p| Some(p.len() as f64),
        "min_over_time" => |p| vals(p).reduce(|m, v| if m.is_nan() || v < m { v } else { m }),
        "max_over_time" => |p| vals(p).reduce(|m, v| if m.is_nan() || v > m { v } else { m }),
        "last_over_time" => |p| p.last().map(|x| x.1),
        "first_over_time" => |p| p.first().map(|x| x.1),
        "present_over_time" => |_| Some(1.0),
        "stdvar_over_time" => |p| Some(compensated_variance(&vals(p).collect::<Vec<f64>>())),
        "stddev_over_time" => |p| Some(compensated_variance(&vals(p).collect::<Vec<f64>>()).sqrt()),
        "mad_over_time" => |p| {
            if vals(p).any(|v| v.is_nan()) {
                return Some(f64::NAN);
            }
            let vals: Vec<f64> = vals(p).collect();
            let mut v = vals.clone();
            let med = quantile(0.5, &mut v);
            let mut dev: Vec<f64> = vals.iter().map(|x| (x - med).abs()).collect();
            Some(quantile(0.5, &mut dev))
        },
        "ts_of_last_over_time" => |p| p.last().map(|x| x.0 as f64 / 1000.0),
        "ts_of_first_over_time" => |p| p.first().map(|x| x.0 as f64 / 1000.0),
        "ts_of_max_over_time" => |p| {
            p.iter()
                .copied()
                .reduce(|m, x| if m.1.is_nan() || x.1 >= m.1 { x } else { m })
                .map(|x| x.0 as f64 / 1000.0)
        },
        "ts_of_min_over_time" => |p| {
            p.iter()
                .copied()
                .reduce(|m, x| if m.1.is_nan() || x.1 <= m.1 { x } else { m })
                .map(|x| x.0 as f64 / 1000.0)
        },
        "changes" => |p| {
            Some(
                p.windows(2)
                    .filter(|w| w[0].1 != w[1].1 && !(w[0].1.is_nan() && w[1].1.is_nan()))
                    .count() as f64,
            )
        },
        "resets" => |p| Some(p.windows(2).filter(|w| w[1].1 < w[0].1).count() as f64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_extrapolates_to_window_edges() {
        // Samples every 15s across a 60s window, 1 per sample: the change of
        // 3 over 45s is extrapolated by half an interval on both sides.
        let pts = [(15_000, 1.0), (30_000, 2.0), (45_000, 3.0), (60_000, 4.0)];
        let inc = extrapolated(&pts, 0, 60_000, true, false).unwrap_or(f64::NAN);
        assert!((inc - 4.0).abs() < 1e-9, "{inc}");
        let rate = extrapolated(&pts, 0, 60_000, true, true).unwrap_or(f64::NAN);
        assert!((rate - 4.0 / 60.0).abs() < 1e-12);
        assert_eq!(extrapolated(&pts[..1], 0, 60_000, true, true), None);
    }

    #[test]
    fn counter_resets_add_the_value_before_the_reset() {
        let pts = [(0, 5.0), (10_000, 1.0), (20_000, 3.0)];
        // 5 → 1 is a reset: the increase is 5 + (3 - 5) = 3, unextrapolated here
        // since the samples cover the window.
        let inc = extrapolated(&pts, 0, 20_000, true, false).unwrap_or(f64::NAN);
        assert!((inc - 3.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn irate_uses_the_last_two_samples() {
        assert_eq!(
            instant_delta(&[(0, 1.0), (10_000, 3.0), (20_000, 8.0)], true),
            Some(0.5)
        );
        assert_eq!(instant_delta(&[(0, 9.0), (10_000, 3.0)], true), Some(0.3));
        assert_eq!(instant_delta(&[(0, 9.0), (10_000, 3.0)], false), Some(-6.0));
    }

    #[test]
    fn regression_of_a_line() {
        let pts = [(0, 1.0), (10_000, 3.0), (20_000, 5.0)];
        let (slope, icpt) = linear_regression(&pts, 20_000);
        assert!((slope - 0.2).abs() < 1e-12);
        assert!((icpt - 5.0).abs() < 1e-12);
    }

    #[test]
    fn over_time_aggregates() {
        let pts = [(0, 1.0), (1, 3.0), (2, 1.0)];
        assert_eq!(over_time("changes", &pts), Some(Some(2.0)));
        assert_eq!(over_time("resets", &pts), Some(Some(1.0)));
        assert_eq!(over_time("max_over_time", &pts), Some(Some(3.0)));
        assert_eq!(over_time("nope", &pts), None);
    }
}
