//! Comparing a query result with an eval's expectations, as the reference
//! runner does: exact label sets, floats within a relative 1e-6, histograms
//! field by field after dropping empty buckets, order only with
//! `expect ordered`, matrices label-sorted with exactly the expected points.
//! Every check returns the first mismatch as "expected …, got …".

use model::is_stale_nan;

use super::render::{fmt_float, fmt_value, Series};
use super::{MatrixSeries, QueryValue, VectorSample};
use crate::script::{AnnotationMatch, ExpectedSeries};
use crate::values::{Histogram, Value, CUSTOM_BUCKETS_SCHEMA};

/// Float equality of the reference runner: stale equals only stale, NaN
/// equals NaN, otherwise exact or within 1e-6 of |a|+|e|, with no absolute
/// tolerance around zero.
pub fn floats_equal(actual: f64, expected: f64) -> bool {
    const MIN_NORMAL: f64 = 2.2250738585072014e-308;
    if is_stale_nan(actual) || is_stale_nan(expected) {
        return is_stale_nan(actual) && is_stale_nan(expected);
    }
    if actual.is_nan() || expected.is_nan() {
        return actual.is_nan() && expected.is_nan();
    }
    if actual == expected {
        return true;
    }
    let sum = actual.abs() + expected.abs();
    let diff = (actual - expected).abs();
    if actual == 0.0 || expected == 0.0 || sum < MIN_NORMAL {
        return diff < 1e-6 * MIN_NORMAL;
    }
    diff / sum.min(f64::MAX) < 1e-6
}

/// Histogram equality: schema, zero threshold, custom bounds and the
/// non-empty bucket layout exactly; counts, sum and bucket values by
/// [`floats_equal`]; the counter-reset hint only if the expected literal
/// spelled it out.
pub fn histograms_equal(actual: &Histogram, expected: &Histogram) -> bool {
    let buckets_equal = |a: Vec<(i32, f64)>, e: Vec<(i32, f64)>| {
        a.len() == e.len()
            && a.iter()
                .zip(&e)
                .all(|((ai, av), (ei, ev))| ai == ei && floats_equal(*av, *ev))
    };
    actual.schema == expected.schema
        && actual.zero_threshold == expected.zero_threshold
        && floats_equal(actual.count, expected.count)
        && floats_equal(actual.sum, expected.sum)
        && floats_equal(actual.zero_count, expected.zero_count)
        && buckets_equal(actual.positive.non_empty(), expected.positive.non_empty())
        && buckets_equal(actual.negative.non_empty(), expected.negative.non_empty())
        && (expected.schema != CUSTOM_BUCKETS_SCHEMA
            || actual.custom_values == expected.custom_values)
        && (!expected.hint_specified || actual.hint == expected.hint)
}

/// Value equality; a float never equals a histogram.
pub fn values_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Float(a), Value::Float(e)) => floats_equal(*a, *e),
        (Value::Histogram(a), Value::Histogram(e)) => histograms_equal(a, e),
        _ => false,
    }
}

/// Short name of a result's type for messages.
pub(crate) fn type_name(v: &QueryValue) -> &'static str {
    match v {
        QueryValue::Scalar(_) => "scalar",
        QueryValue::String(_) => "string",
        QueryValue::Vector(_) => "vector",
        QueryValue::Matrix(_) => "matrix",
    }
}

/// Compares an instant vector. `_` in an expected line compares as 0, as
/// upstream.
pub(crate) fn check_vector(
    actual: &[VectorSample],
    expected: &[ExpectedSeries],
    ordered: bool,
) -> Result<(), String> {
    let zero = Value::Float(0.0);
    for (i, s) in actual.iter().enumerate() {
        let Some(pos) = expected.iter().position(|e| e.labels == s.labels) else {
            return Err(format!(
                "expected no series {}, got {} {}",
                Series(&s.labels),
                Series(&s.labels),
                fmt_value(&s.value)
            ));
        };
        let want = expected[pos]
            .values
            .first()
            .and_then(Option::as_ref)
            .unwrap_or(&zero);
        if !values_equal(&s.value, want) {
            return Err(format!(
                "expected {} {}, got {}",
                Series(&s.labels),
                fmt_value(want),
                fmt_value(&s.value)
            ));
        }
        if ordered && pos != i {
            return Err(format!(
                "expected {} at position {}, got it at position {}",
                Series(&s.labels),
                pos + 1,
                i + 1
            ));
        }
    }
    if let Some(e) = expected
        .iter()
        .find(|e| actual.iter().all(|s| s.labels != e.labels))
    {
        let want = e.values.first().and_then(Option::as_ref).unwrap_or(&zero);
        return Err(format!(
            "expected {} {}, got no such series",
            Series(&e.labels),
            fmt_value(want)
        ));
    }
    Ok(())
}

/// Checks that a matrix is sorted by label set, as upstream asserts.
pub(crate) fn check_sorted(actual: &[MatrixSeries]) -> Result<(), String> {
    match actual.windows(2).find(|w| w[0].labels > w[1].labels) {
        Some(w) => Err(format!(
            "expected a matrix sorted by labels, got {} before {}",
            Series(&w[0].labels),
            Series(&w[1].labels)
        )),
        None => Ok(()),
    }
}

/// Compares a matrix whose expected values lie on the grid `start + k×step`
/// up to `end`; `ordered` is refused, as a matrix is always label-sorted.
pub(crate) fn check_matrix(
    actual: &[MatrixSeries],
    expected: &[ExpectedSeries],
    (start, end, step): (i64, i64, i64),
    ordered: bool,
) -> Result<(), String> {
    if ordered {
        return Err("expected an ordered result, got a matrix".into());
    }
    check_sorted(actual)?;
    for s in actual {
        let Some(e) = expected.iter().find(|e| e.labels == s.labels) else {
            return Err(format!(
                "expected no series {}, got {} {}",
                Series(&s.labels),
                Series(&s.labels),
                fmt_points(&s.points)
            ));
        };
        // Upstream refuses expected positions past the end, even `_` ones.
        let steps = if step > 0 {
            (end - start) / step + 1
        } else {
            1
        };
        if i64::try_from(e.values.len()).is_ok_and(|n| n > steps) {
            return Err(format!(
                "expected {} points for {}, got a time range of only {steps} steps",
                e.values.len(),
                Series(&e.labels)
            ));
        }
        let want: Vec<(i64, Value)> = (0_i64..)
            .zip(&e.values)
            .filter_map(|(k, v)| Some((start + k * step, v.clone()?)))
            .collect();
        let ((af, ah), (ef, eh)) = (split(&s.points), split(&want));
        let same = af.len() == ef.len()
            && ah.len() == eh.len()
            && af
                .iter()
                .zip(&ef)
                .all(|(a, e)| a.0 == e.0 && floats_equal(a.1, e.1))
            && ah
                .iter()
                .zip(&eh)
                .all(|(a, e)| a.0 == e.0 && histograms_equal(a.1, e.1));
        if !same {
            return Err(format!(
                "expected {} {}, got {}",
                Series(&s.labels),
                fmt_points(&want),
                fmt_points(&s.points)
            ));
        }
    }
    if let Some(e) = expected
        .iter()
        .find(|e| actual.iter().all(|s| s.labels != e.labels))
    {
        return Err(format!(
            "expected series {}, got no such series",
            Series(&e.labels)
        ));
    }
    Ok(())
}

/// Float points and histogram points of a series, apart: upstream compares
/// the k-th float with the k-th float and likewise for histograms.
type SplitPoints<'a> = (Vec<(i64, f64)>, Vec<(i64, &'a Histogram)>);

fn split(pts: &[(i64, Value)]) -> SplitPoints<'_> {
    let mut floats = Vec::new();
    let mut hists = Vec::new();
    for (t, v) in pts {
        match v {
            Value::Float(f) => floats.push((*t, *f)),
            Value::Histogram(h) => hists.push((*t, &**h)),
        }
    }
    (floats, hists)
}

fn fmt_points(points: &[(i64, Value)]) -> String {
    let parts: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{}@{t}", fmt_value(v)))
        .collect();
    format!("[{}]", parts.join(" "))
}

/// Checks the annotations of one kind (`what` = "warning" or "info").
pub(crate) fn check_annotations(
    what: &str,
    expected: &[AnnotationMatch],
    forbidden: bool,
    actual: &[String],
) -> Result<(), String> {
    let mut actual: Vec<&String> = actual.iter().collect();
    actual.sort();
    actual.dedup();
    if forbidden && !actual.is_empty() {
        return Err(format!("expected no {what}s, got {actual:?}"));
    }
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected a {what}, got none"));
    }
    if let Some(m) = expected
        .iter()
        .find(|m| !actual.iter().any(|a| m.matches(a)))
    {
        return Err(format!("expected a {what} {}, got {actual:?}", describe(m)));
    }
    if let Some(a) = actual
        .iter()
        .find(|a| !expected.iter().any(|m| m.matches(a)))
    {
        return Err(format!("expected no other {what}, got {a:?}"));
    }
    Ok(())
}

/// How a matcher reads in a message.
pub(crate) fn describe(m: &AnnotationMatch) -> String {
    match m {
        AnnotationMatch::Any => "(any)".into(),
        AnnotationMatch::Exact(t) => format!("{t:?}"),
        AnnotationMatch::Regex(r) => format!("matching /{}/", r.as_str()),
    }
}

/// A scalar against an expected number.
pub(crate) fn check_scalar(actual: f64, expected: f64) -> Result<(), String> {
    if floats_equal(actual, expected) {
        Ok(())
    } else {
        Err(format!(
            "expected scalar {}, got {}",
            fmt_float(expected),
            fmt_float(actual)
        ))
    }
}

/// The vector of every series' point at `t`: how the range-mode check
/// turns its matrix back into an instant result.
pub(crate) fn points_at(matrix: &[MatrixSeries], t: i64) -> Vec<VectorSample> {
    matrix
        .iter()
        .filter_map(|s| {
            let (_, v) = s.points.iter().find(|(pt, _)| *pt == t)?;
            Some(VectorSample {
                labels: s.labels.clone(),
                value: v.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::STALE_NAN;

    #[test]
    fn float_rule() {
        for (a, e, want) in [
            (1.0, 1.0, true),
            (1.0, 1.000_000_5, true),
            (1.0, 1.000_01, false),
            (0.0, 1e-300, false),
            (-0.0, 0.0, true),
            (f64::NAN, f64::NAN, true),
            (STALE_NAN, f64::NAN, false),
            (STALE_NAN, STALE_NAN, true),
            (f64::INFINITY, f64::INFINITY, true),
            (f64::INFINITY, f64::MAX, false),
            (f64::MAX, -f64::MAX, false),
        ] {
            assert_eq!(floats_equal(a, e), want, "{a} vs {e}");
        }
    }

    #[test]
    fn histogram_rule() {
        let h = |s: &str| match crate::values::parse_values(s).unwrap().remove(0) {
            Some(Value::Histogram(h)) => *h,
            other => panic!("{other:?}"),
        };
        let base = h("{{sum:1 count:2 offset:2 buckets:[1]}}");
        assert!(histograms_equal(
            &base,
            &h("{{sum:1 count:2 buckets:[0 0 1]}}")
        ));
        assert!(histograms_equal(
            &base,
            &h("{{sum:1.0000001 count:2 offset:2 buckets:[1 0]}}")
        ));
        assert!(!histograms_equal(
            &base,
            &h("{{sum:1 count:2 offset:1 buckets:[1]}}")
        ));
        assert!(!histograms_equal(
            &base,
            &h("{{schema:1 sum:1 count:2 offset:2 buckets:[1]}}")
        ));
        assert!(!histograms_equal(
            &base,
            &h("{{sum:1 count:2 offset:2 buckets:[1] counter_reset_hint:gauge}}")
        ));
        let mut gauge = base.clone();
        gauge.hint = crate::values::CounterResetHint::Gauge;
        // The hint is compared only when the expectation spells it out.
        assert!(histograms_equal(&gauge, &base));
    }

    #[test]
    fn annotations() {
        let exact = AnnotationMatch::Exact("PromQL warning: a (1:1)".into());
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_annotations("warning", &[], false, &w(&["x"])).is_ok());
        assert!(check_annotations("warning", &[], true, &[]).is_ok());
        assert_eq!(
            check_annotations("warning", &[], true, &w(&["x"])).unwrap_err(),
            "expected no warnings, got [\"x\"]"
        );
        assert!(check_annotations("warning", &[AnnotationMatch::Any], false, &[]).is_err());
        assert!(check_annotations(
            "warning",
            std::slice::from_ref(&exact),
            false,
            &w(&["PromQL warning: a (1:1)"; 2])
        )
        .is_ok());
        assert_eq!(
            check_annotations(
                "warning",
                &[exact],
                false,
                &w(&["PromQL warning: a (1:1)", "y"])
            )
            .unwrap_err(),
            "expected no other warning, got \"y\""
        );
    }
}
