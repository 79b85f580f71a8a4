//! One form for both engines' answers, and the comparison of two.
//!
//! Values agree when both are NaN, when they are the same infinity, or
//! when they differ by at most 1e-9 relative to the larger magnitude. Below
//! 1e-12 in absolute difference they agree too: sums and variances that
//! cancel to about zero are left with rounding noise whose size depends on
//! summation order (3.x adds with Kahan compensation, 2.42 does not), and
//! relative to zero any noise is "100 % off".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use promql::engine::Value;

/// Labels as a sorted map printed `{a="b", …}`, the key of a series.
type Key = String;

/// A query answer in a form both engines' outputs convert to.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Scalar(f64),
    String(String),
    /// Elements in the order given.
    Vector(Vec<(Key, f64)>),
    /// Series in the order given.
    Matrix(Vec<(Key, Vec<(i64, f64)>)>),
    Error(String),
}

impl Answer {
    /// Whether the answer carries any value.
    pub(crate) fn has_data(&self) -> bool {
        match self {
            Answer::Scalar(_) | Answer::String(_) => true,
            Answer::Vector(v) => !v.is_empty(),
            Answer::Matrix(m) => !m.is_empty(),
            Answer::Error(_) => false,
        }
    }
}

fn key<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Key {
    let map: BTreeMap<&str, &str> = pairs.collect();
    let mut s = String::from("{");
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{k}={v:?}");
    }
    s.push('}');
    s
}

/// Converts pharos's answer.
pub(crate) fn from_pharos(r: Result<Value, String>) -> Answer {
    match r {
        Err(e) => Answer::Error(e),
        Ok(Value::Scalar(v)) => Answer::Scalar(v),
        Ok(Value::String(s)) => Answer::String(s),
        Ok(Value::Vector(v)) => Answer::Vector(
            v.iter()
                .map(|s| (key(s.labels.iter().map(|l| (l.name, l.value))), s.value))
                .collect(),
        ),
        Ok(Value::Matrix(m)) => Answer::Matrix(
            m.iter()
                .map(|s| {
                    (
                        key(s.labels.iter().map(|l| (l.name, l.value))),
                        s.points.clone(),
                    )
                })
                .collect(),
        ),
    }
}

fn parse_value(v: &serde_json::Value) -> f64 {
    match v.as_str() {
        Some("NaN") => f64::NAN,
        Some("+Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        Some(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("prometheus value {s:?}: {e}")),
        None => panic!("prometheus value {v} is not a string"),
    }
}

fn parse_point(p: &serde_json::Value) -> (i64, f64) {
    let t = p[0]
        .as_f64()
        .unwrap_or_else(|| panic!("prometheus timestamp in {p}"));
    ((t * 1000.0).round() as i64, parse_value(&p[1]))
}

fn metric_key(m: &serde_json::Value) -> Key {
    let obj = m
        .as_object()
        .unwrap_or_else(|| panic!("prometheus metric {m} is not an object"));
    key(obj
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))))
}

/// Converts Prometheus's `data` object (`resultType`, `result`).
pub(crate) fn from_prometheus(r: Result<serde_json::Value, String>) -> Answer {
    let data = match r {
        Err(e) => return Answer::Error(e),
        Ok(d) => d,
    };
    let result = &data["result"];
    let empty = Vec::new();
    let items = result.as_array().unwrap_or(&empty);
    match data["resultType"].as_str() {
        Some("scalar") => Answer::Scalar(parse_point(result).1),
        Some("string") => Answer::String(result[1].as_str().unwrap_or_default().to_owned()),
        Some("vector") => Answer::Vector(
            items
                .iter()
                .map(|e| (metric_key(&e["metric"]), parse_point(&e["value"]).1))
                .collect(),
        ),
        Some("matrix") => Answer::Matrix(
            items
                .iter()
                .map(|e| {
                    let pts = e["values"].as_array().unwrap_or(&empty);
                    (
                        metric_key(&e["metric"]),
                        pts.iter().map(parse_point).collect(),
                    )
                })
                .collect(),
        ),
        other => panic!("prometheus resultType {other:?} in {data}"),
    }
}

/// Whether two values agree (see the module doc).
pub(crate) fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    let d = (a - b).abs();
    d <= 1e-12 || d <= 1e-9 * a.abs().max(b.abs())
}

/// Why two answers differ, or `None` if they agree. `ordered`: the order
/// of vector elements matters (`sort`, `sort_desc`).
pub(crate) fn diff(pharos: &Answer, prom: &Answer, ordered: bool) -> Option<String> {
    match (pharos, prom) {
        (Answer::Error(_), Answer::Error(_)) => None,
        (Answer::Scalar(a), Answer::Scalar(b)) => {
            (!close(*a, *b)).then(|| format!("scalar {a} vs {b}"))
        }
        (Answer::String(a), Answer::String(b)) => {
            (a != b).then(|| format!("string {a:?} vs {b:?}"))
        }
        (Answer::Vector(a), Answer::Vector(b)) => {
            let (mut a, mut b) = (a.clone(), b.clone());
            if !ordered {
                a.sort_by(|x, y| x.0.cmp(&y.0));
                b.sort_by(|x, y| x.0.cmp(&y.0));
            }
            let keys = |v: &[(Key, f64)]| v.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
            if keys(&a) != keys(&b) {
                return Some(format!(
                    "vector series differ:\n      pharos:     {a:?}\n      prometheus: {b:?}"
                ));
            }
            let bad: Vec<String> = a
                .iter()
                .zip(&b)
                .filter(|(x, y)| !close(x.1, y.1))
                .map(|(x, y)| format!("{} {} vs {}", x.0, x.1, y.1))
                .collect();
            (!bad.is_empty()).then(|| format!("values differ: {}", bad.join("; ")))
        }
        (Answer::Matrix(a), Answer::Matrix(b)) => {
            let (mut a, mut b) = (a.clone(), b.clone());
            a.sort_by(|x, y| x.0.cmp(&y.0));
            b.sort_by(|x, y| x.0.cmp(&y.0));
            let keys =
                |v: &[(Key, Vec<(i64, f64)>)]| v.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
            if keys(&a) != keys(&b) {
                return Some(format!(
                    "matrix series differ:\n      pharos:     {:?}\n      prometheus: {:?}",
                    keys(&a),
                    keys(&b)
                ));
            }
            let mut bad = Vec::new();
            for ((k, pa), (_, pb)) in a.iter().zip(&b) {
                let same = pa.len() == pb.len()
                    && pa
                        .iter()
                        .zip(pb)
                        .all(|(x, y)| x.0 == y.0 && close(x.1, y.1));
                if !same {
                    bad.push(format!("{k}: {}", first_point_diff(pa, pb)));
                }
            }
            (!bad.is_empty()).then(|| format!("points differ: {}", bad.join("; ")))
        }
        (a, b) => Some(format!("{} vs {}", short(a), short(b))),
    }
}

fn first_point_diff(a: &[(i64, f64)], b: &[(i64, f64)]) -> String {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x.0 != y.0 || !close(x.1, y.1) {
            return format!(
                "point {i}: {x:?} vs {y:?} ({} vs {} points)",
                a.len(),
                b.len()
            );
        }
    }
    format!("{} vs {} points", a.len(), b.len())
}

fn short(a: &Answer) -> String {
    match a {
        Answer::Error(e) => format!("error {e:?}"),
        Answer::Scalar(v) => format!("scalar {v}"),
        Answer::String(s) => format!("string {s:?}"),
        Answer::Vector(v) => format!("vector of {}", v.len()),
        Answer::Matrix(m) => format!("matrix of {}", m.len()),
    }
}
