//! Function calls: dispatch by name, instant-vector and scalar functions,
//! label functions and `histogram_quantile` over classic buckets.

use std::collections::HashMap;

use model::{Labels, MatchType};

use super::annotations::{self, AnnotationKind};
use super::eval::{qerr, Evaluator};
use super::extended::{check_modifier, plain_change};
use super::rangefn::{over_time, range_fn_value};
use super::value::{Elem, IVal, RangeSeries};
use super::EngineError;
use crate::ast::{Call, Expr};

mod histogram;
mod labels;

/// Strips parentheses.
pub(crate) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// A string literal's bytes as Go quotes them, when they are not UTF-8
/// (such a string can never be a label name).
pub(crate) fn invalid_utf8(e: &Expr) -> Option<String> {
    match unparen(e) {
        Expr::String(s) => s.invalid_utf8.as_deref().map(crate::error::go_quote_bytes),
        _ => None,
    }
}

pub(crate) fn arg(c: &Call, i: usize) -> Result<&Expr, EngineError> {
    c.args
        .get(i)
        .ok_or_else(|| qerr(format!("missing argument {i} of {}", c.func.name)))
}

/// Functions that keep `__name__`.
pub(crate) fn keeps_name(name: &str) -> bool {
    matches!(
        name,
        "last_over_time"
            | "first_over_time"
            | "sort"
            | "sort_desc"
            | "sort_by_label"
            | "sort_by_label_desc"
            | "label_replace"
            | "label_join"
    )
}

fn math(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sqrt" => f64::sqrt,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => f64::to_degrees,
        "rad" => f64::to_radians,
        "sgn" => |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

/// (year, month 1-12, day 1-31, hour, minute, weekday 0=Sunday, day of
/// year 1-366, days in month) of a Unix time in seconds, UTC.
pub(crate) fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy_mar = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy_mar + 2) / 153;
    let d = doy_mar - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let doy = cum[(m - 1) as usize % 12] + d + i64::from(leap && m > 2);
    let dim = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let wd = (days + 4).rem_euclid(7);
    (y, m, d, sod / 3600, (sod % 3600) / 60, wd, doy, dim)
}

impl Evaluator<'_> {
    /// The range-vector argument `e` at `t` with its `(lo, hi]` window.
    fn matrix_arg(
        &mut self,
        e: &Expr,
        t: i64,
    ) -> Result<(Vec<RangeSeries>, i64, i64), EngineError> {
        let (lo, hi) = match unparen(e) {
            Expr::MatrixSelector(ms) => self.matrix_window(ms, t)?,
            Expr::Subquery(sq) => self.subquery_window(sq, t)?,
            _ => return Err(qerr("expected a range vector")),
        };
        match self.eval(e, t)? {
            IVal::Matrix(m) => Ok((m, lo, hi)),
            _ => Err(qerr("expected a range vector")),
        }
    }

    pub(crate) fn call(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let name = c.func.name;
        let secs = t as f64 / 1000.0;
        if name.starts_with("sort") && self.annotations.sort_is_ineffective(c.span) {
            self.annotate(
                AnnotationKind::Warning,
                annotations::SORT_IN_RANGE_QUERY.to_owned(),
                c.span,
            );
        }
        match name {
            "time" => return Ok(IVal::Scalar(secs)),
            "pi" => return Ok(IVal::Scalar(std::f64::consts::PI)),
            "step" => return Ok(IVal::Scalar(self.step as f64 / 1000.0)),
            "range" => return Ok(IVal::Scalar((self.end - self.start) as f64 / 1000.0)),
            "start" => return Ok(IVal::Scalar(self.start as f64 / 1000.0)),
            "end" => return Ok(IVal::Scalar(self.end as f64 / 1000.0)),
            "min_of" | "max_of" => {
                let a = self.eval_scalar(arg(c, 0)?, t)?;
                let b = self.eval_scalar(arg(c, 1)?, t)?;
                let v = if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else if name == "min_of" {
                    a.min(b)
                } else {
                    a.max(b)
                };
                return Ok(IVal::Scalar(v));
            }
            "vector" => {
                let v = self.eval_scalar(arg(c, 0)?, t)?;
                return Ok(IVal::Vector(vec![Elem {
                    labels: Labels::empty(),
                    v,
                    ts: t,
                    drop_name: false,
                }]));
            }
            "scalar" => {
                let v = self.eval_vector(arg(c, 0)?, t)?;
                return Ok(IVal::Scalar(match v.as_slice() {
                    [one] => one.v,
                    _ => f64::NAN,
                }));
            }
            "timestamp" => {
                let a = unparen(arg(c, 0)?);
                let from_sample = matches!(a, Expr::VectorSelector(_));
                let mut v = self.eval_vector(a, t)?;
                for el in &mut v {
                    el.v = if from_sample { el.ts } else { t } as f64 / 1000.0;
                    el.drop_name = true;
                }
                return Ok(IVal::Vector(v));
            }
            "absent" | "absent_over_time" => return self.absent(c, t),
            "info" => return self.info(c, t),
            "label_replace" => return self.label_replace(c, t),
            "label_join" => return self.label_join(c, t),
            "histogram_quantile" | "histogram_fraction" | "histogram_quantiles" => {
                return self.histogram_quantile(c, t)
            }
            // Native histograms are not stored yet: over float samples these
            // functions select nothing.
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => {
                self.eval_vector(arg(c, 0)?, t)?;
                return Ok(IVal::Vector(Vec::new()));
            }
            "sort" | "sort_desc" => {
                let mut v = self.eval_vector(arg(c, 0)?, t)?;
                v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ if name == "sort" => a.v.total_cmp(&b.v),
                    _ => b.v.total_cmp(&a.v),
                });
                return Ok(IVal::Vector(v));
            }
            "sort_by_label" | "sort_by_label_desc" => {
                let mut v = self.eval_vector(arg(c, 0)?, t)?;
                let mut keys = Vec::new();
                for a in c.args.iter().skip(1) {
                    match self.eval(a, t)? {
                        IVal::Str(s) => keys.push(s),
                        _ => return Err(qerr("sort_by_label needs string labels")),
                    }
                }
                v.sort_by(|a, b| {
                    let mut o = std::cmp::Ordering::Equal;
                    for k in &keys {
                        o = labels::natural_cmp(a.labels.get_or_empty(k), b.labels.get_or_empty(k));
                        if o.is_ne() {
                            break;
                        }
                    }
                    if o.is_eq() {
                        o = a.labels.cmp(&b.labels);
                    }
                    if name == "sort_by_label_desc" {
                        o.reverse()
                    } else {
                        o
                    }
                });
                return Ok(IVal::Vector(v));
            }
            _ => {}
        }
        if let Some(f) = math(name) {
            let mut v = self.eval_vector(arg(c, 0)?, t)?;
            for el in &mut v {
                el.v = f(el.v);
                el.drop_name = true;
            }
            return Ok(IVal::Vector(v));
        }
        match name {
            "clamp" | "clamp_min" | "clamp_max" | "round" => {
                let mut v = self.eval_vector(arg(c, 0)?, t)?;
                let p1 = match c.args.get(1) {
                    Some(e) => self.eval_scalar(e, t)?,
                    None => 1.0,
                };
                let p2 = match c.args.get(2) {
                    Some(e) => self.eval_scalar(e, t)?,
                    None => f64::NAN,
                };
                if name == "clamp" && p2 < p1 {
                    return Ok(IVal::Vector(Vec::new()));
                }
                for el in &mut v {
                    el.v = match name {
                        "clamp" => go_min(go_max(el.v, p1), p2),
                        "clamp_min" => go_max(el.v, p1),
                        "clamp_max" => go_min(el.v, p1),
                        _ => {
                            let inv = 1.0 / p1;
                            (el.v * inv + 0.5).floor() / inv
                        }
                    };
                    if name.starts_with("clamp")
                        && (p1.is_nan() || (name == "clamp" && p2.is_nan()))
                    {
                        el.v = f64::NAN;
                    }
                    el.drop_name = true;
                }
                return Ok(IVal::Vector(v));
            }
            "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour"
            | "minute" | "month" | "year" => {
                let mut v = match c.args.first() {
                    Some(e) => self.eval_vector(e, t)?,
                    None => vec![Elem {
                        labels: Labels::empty(),
                        v: secs,
                        ts: t,
                        drop_name: false,
                    }],
                };
                for el in &mut v {
                    if !el.v.is_finite() {
                        el.v = f64::NAN;
                        el.drop_name = true;
                        continue;
                    }
                    let (y, m, d, h, mi, wd, doy, dim) = civil(el.v.floor() as i64);
                    el.v = match name {
                        "day_of_month" => d,
                        "day_of_week" => wd,
                        "day_of_year" => doy,
                        "days_in_month" => dim,
                        "hour" => h,
                        "minute" => mi,
                        "month" => m,
                        _ => y,
                    } as f64;
                    el.drop_name = true;
                }
                return Ok(IVal::Vector(v));
            }
            _ => {}
        }
        // Range-vector functions.
        if name == "double_exponential_smoothing" {
            return self.holt_winters(c, t);
        }
        let (margs, scalar_arg) = match name {
            "quantile_over_time" => (1, Some(self.eval_scalar(arg(c, 0)?, t)?)),
            "predict_linear" => (0, Some(self.eval_scalar(arg(c, 1)?, t)?)),
            _ => (0, None),
        };
        let marg = arg(c, margs)?;
        if let Expr::MatrixSelector(ms) = unparen(marg) {
            if ms.selector.smoothed || ms.selector.anchored {
                check_modifier(ms, name)?;
                return self.extended_call(ms, name, t);
            }
        }
        let (m, lo, hi) = self.matrix_arg(marg, t)?;
        let keep = keeps_name(name);
        // A subquery argument has no position in Prometheus (it is replaced
        // by a selector built without one), so annotations on it say 1:1.
        let marg_span = match unparen(marg) {
            Expr::Subquery(_) => crate::Span::new(0, 0),
            e => e.span(),
        };
        if name == "quantile_over_time" && m.iter().any(|s| !s.points.is_empty()) {
            let q = scalar_arg.unwrap_or(f64::NAN);
            if !(0.0..=1.0).contains(&q) {
                let span = unparen(arg(c, 0)?).span();
                self.annotate(
                    AnnotationKind::Warning,
                    annotations::invalid_quantile(q),
                    span,
                );
            }
        }
        let mut out = Vec::with_capacity(m.len());
        for s in m {
            let v = match range_fn_value(name, &s.points, lo, hi, t, scalar_arg) {
                Some(v) => v,
                None => return Err(qerr(format!("function {name:?} is not supported yet"))),
            };
            if let Some(v) = v {
                self.check_counter(name, &s.labels, marg_span);
                out.push(Elem {
                    labels: s.labels,
                    v,
                    ts: t,
                    drop_name: if keep { s.drop_name } else { true },
                });
            }
        }
        Ok(IVal::Vector(out))
    }

    /// `rate` and `increase` tell when a series they gave a value for does
    /// not look like a counter: by name suffix, or by `__type__` with
    /// type-and-unit labels on. `span` is the range argument's.
    pub(crate) fn check_counter(&mut self, name: &str, labels: &Labels, span: crate::Span) {
        if name != "rate" && name != "increase" {
            return;
        }
        let metric = labels.get_or_empty("__name__");
        if metric.is_empty() {
            return;
        }
        let typ = if self.opts.type_and_unit_labels {
            let typ = labels.get_or_empty("__type__");
            if typ == "counter" || typ == "histogram" {
                return;
            }
            Some(typ)
        } else {
            if ["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|s| metric.ends_with(s))
            {
                return;
            }
            None
        };
        self.annotations.possible_non_counter(metric, typ, span);
    }

    /// `rate`, `increase`, `delta`, `changes`, `resets` over an `anchored`
    /// or `smoothed` selector: no extrapolation.
    fn extended_call(
        &mut self,
        ms: &crate::ast::MatrixSelector,
        name: &str,
        t: i64,
    ) -> Result<IVal, EngineError> {
        let counter = name != "delta";
        let m = self.extended_points(ms, t, counter)?;
        let (lo, hi) = self.matrix_window(ms, t)?;
        let secs = (hi - lo) as f64 / 1000.0;
        let mut out = Vec::with_capacity(m.len());
        for s in m {
            let v = match name {
                "rate" => plain_change(&s.points, true).map(|d| d / secs),
                "increase" => plain_change(&s.points, true),
                "delta" => plain_change(&s.points, false),
                _ => over_time(name, &s.points).flatten(),
            };
            if let Some(v) = v {
                self.check_counter(name, &s.labels, ms.span);
                out.push(Elem {
                    labels: s.labels,
                    v,
                    ts: t,
                    drop_name: true,
                });
            }
        }
        Ok(IVal::Vector(out))
    }

    /// `double_exponential_smoothing(m, sf, tf)`: Holt's linear smoothing,
    /// the last smoothed value.
    fn holt_winters(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let sf = self.eval_scalar(arg(c, 1)?, t)?;
        let tf = self.eval_scalar(arg(c, 2)?, t)?;
        if !(sf > 0.0 && sf < 1.0) {
            return Err(qerr(format!(
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
            )));
        }
        if !(tf > 0.0 && tf < 1.0) {
            return Err(qerr(format!(
                "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
            )));
        }
        let (m, _, _) = self.matrix_arg(arg(c, 0)?, t)?;
        let mut out = Vec::with_capacity(m.len());
        for s in m {
            let v: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            let [first, second, ..] = v.as_slice() else {
                continue;
            };
            let (mut s0, mut s1, mut b) = (0.0, *first, second - first);
            for (i, &x) in v.iter().enumerate().skip(1) {
                if i > 1 {
                    b = tf * (s1 - s0) + (1.0 - tf) * b;
                }
                let next = sf * x + (1.0 - sf) * (s1 + b);
                s0 = s1;
                s1 = next;
            }
            out.push(Elem {
                labels: s.labels,
                v: s1,
                ts: t,
                drop_name: true,
            });
        }
        Ok(IVal::Vector(out))
    }

    fn absent(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let a = arg(c, 0)?;
        let present = match self.eval(a, t)? {
            IVal::Vector(v) => !v.is_empty(),
            IVal::Matrix(m) => !m.is_empty(),
            _ => true,
        };
        if present {
            return Ok(IVal::Vector(Vec::new()));
        }
        let matchers = match unparen(a) {
            Expr::VectorSelector(vs) => vs.matchers.as_slice(),
            Expr::MatrixSelector(ms) => ms.selector.matchers.as_slice(),
            _ => &[],
        };
        let mut count: HashMap<&str, usize> = HashMap::new();
        for m in matchers {
            *count.entry(m.name.as_str()).or_default() += 1;
        }
        let pairs: Vec<(&str, &str)> = matchers
            .iter()
            .filter(|m| {
                m.match_type == MatchType::Equal
                    && m.name != "__name__"
                    && count.get(m.name.as_str()) == Some(&1)
            })
            .map(|m| (m.name.as_str(), m.value.as_str()))
            .collect();
        Ok(IVal::Vector(vec![Elem {
            labels: Labels::from_pairs(&pairs),
            v: 1.0,
            ts: t,
            drop_name: false,
        }]))
    }
}

/// `max` as Go's `math.Max` computes it: NaN wins (Rust's `f64::max`
/// returns the other operand), so `clamp` keeps a NaN sample NaN.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// `min` as Go's `math.Min` computes it (see [`go_max`]).
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        // 2000-03-01 00:00:00 UTC was a Wednesday in a leap year.
        let (y, m, d, h, mi, wd, doy, dim) = civil(951_868_800);
        assert_eq!(
            (y, m, d, h, mi, wd, doy, dim),
            (2000, 3, 1, 0, 0, 3, 61, 31)
        );
        assert_eq!(civil(-1).0, 1969);
    }
}
