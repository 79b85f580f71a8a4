//! Values in failure messages, written in the script notation so a message
//! can be pasted back into a script: `+Inf`, `NaN`, `stale`, `{{…}}`.

use std::fmt;

use model::labels::{is_valid_legacy_label_name, is_valid_legacy_metric_name, write_go_quoted};
use model::{is_stale_nan, Labels, METRIC_NAME};

use crate::values::{Buckets, CounterResetHint, Histogram, Value};

/// A label set as a series line writes it: `m{a="1"}`, `m`, `{a="1"}`,
/// `{"odd.name", a="1"}`.
pub(crate) struct Series<'a>(pub(crate) &'a Labels);

impl fmt::Display for Series<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.0.metric_name();
        let bare_name = name.filter(|n| is_valid_legacy_metric_name(n));
        let mut items = Vec::new();
        if let (Some(n), None) = (name, bare_name) {
            let mut q = String::new();
            write_go_quoted(&mut q, n)?;
            items.push(q);
        }
        for l in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            let mut item = String::new();
            if is_valid_legacy_label_name(l.name) {
                item.push_str(l.name);
            } else {
                write_go_quoted(&mut item, l.name)?;
            }
            item.push('=');
            write_go_quoted(&mut item, l.value)?;
            items.push(item);
        }
        if let Some(n) = bare_name {
            f.write_str(n)?;
            if items.is_empty() {
                return Ok(());
            }
        }
        write!(f, "{{{}}}", items.join(", "))
    }
}

/// A float as the notation writes it.
pub(crate) fn fmt_float(v: f64) -> String {
    if is_stale_nan(v) {
        "stale".into()
    } else if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-4) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A value as the notation writes it.
pub(crate) fn fmt_value(v: &Value) -> String {
    match v {
        Value::Float(f) => fmt_float(*f),
        Value::Histogram(h) => fmt_histogram(h),
    }
}

/// A histogram literal with every non-default field.
pub(crate) fn fmt_histogram(h: &Histogram) -> String {
    let mut parts = Vec::new();
    if h.schema != 0 {
        parts.push(format!("schema:{}", h.schema));
    }
    parts.push(format!("sum:{}", fmt_float(h.sum)));
    parts.push(format!("count:{}", fmt_float(h.count)));
    if h.zero_count != 0.0 {
        parts.push(format!("z_bucket:{}", fmt_float(h.zero_count)));
    }
    if h.zero_threshold != 0.0 {
        parts.push(format!("z_bucket_w:{}", fmt_float(h.zero_threshold)));
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|f| fmt_float(*f))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut buckets = |b: &Buckets, prefix: &str| {
        if !b.counts.is_empty() {
            if b.offset != 0 {
                parts.push(format!("{prefix}offset:{}", b.offset));
            }
            parts.push(format!("{prefix}buckets:[{}]", list(&b.counts)));
        }
    };
    buckets(&h.positive, "");
    buckets(&h.negative, "n_");
    if !h.custom_values.is_empty() {
        parts.push(format!("custom_values:[{}]", list(&h.custom_values)));
    }
    if h.hint_specified || h.hint != CounterResetHint::Unknown {
        let hint = match h.hint {
            CounterResetHint::Unknown => "unknown",
            CounterResetHint::Reset => "reset",
            CounterResetHint::NotReset => "not_reset",
            CounterResetHint::Gauge => "gauge",
        };
        parts.push(format!("counter_reset_hint:{hint}"));
    }
    format!("{{{{{}}}}}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_values;

    fn check(input: &str, want: &str) {
        let v = parse_values(input).unwrap();
        let got: Vec<String> = v
            .iter()
            .map(|v| v.as_ref().map_or("_".into(), fmt_value))
            .collect();
        assert_eq!(got.join(" "), want, "{input}");
    }

    #[test]
    fn series_names() {
        for (input, want) in [
            ("m{b=\"2\", a=\"1\"}", "m{a=\"1\", b=\"2\"}"),
            ("m", "m"),
            ("{a=\"x\\\"y\"}", "{a=\"x\\\"y\"}"),
            ("{}", "{}"),
            ("{\"a.b\", \"c.d\"=\"1\"}", "{\"a.b\", \"c.d\"=\"1\"}"),
        ] {
            let l = crate::values::parse_series_line(input).unwrap().labels;
            assert_eq!(Series(&l).to_string(), want, "{input}");
        }
    }

    #[test]
    fn notation() {
        check(
            "1 -2.5 Inf -Inf NaN stale 1e-7 1e22 0",
            "1 -2.5 +Inf -Inf NaN stale 1e-7 1e22 0",
        );
        check(
            "{{schema:-53 sum:1 count:2 custom_values:[1 2] buckets:[1 1]}}",
            "{{schema:-53 sum:1 count:2 buckets:[1 1] custom_values:[1 2]}}",
        );
        check(
            "{{z_bucket:1 z_bucket_w:0.5 offset:-1 buckets:[1] n_buckets:[2] counter_reset_hint:unknown}}",
            "{{sum:0 count:0 z_bucket:1 z_bucket_w:0.5 offset:-1 buckets:[1] n_buckets:[2] counter_reset_hint:unknown}}",
        );
    }

    mod roundtrip {
        use super::super::fmt_value;
        use crate::values::{parse_values, Buckets, CounterResetHint, Histogram, Value};
        use model::STALE_NAN;
        use proptest::prelude::*;

        fn float() -> impl Strategy<Value = f64> {
            prop_oneof![
                any::<f64>(),
                Just(STALE_NAN),
                Just(f64::INFINITY),
                Just(-0.0),
                (-1_000_000i64..1_000_000).prop_map(|i| i as f64 / 8.0),
            ]
        }

        fn finite() -> impl Strategy<Value = f64> {
            prop_oneof![(-1e6f64..1e6), (0i64..1000).prop_map(|i| i as f64)]
        }

        fn buckets() -> impl Strategy<Value = Buckets> {
            (-5i32..5, proptest::collection::vec(finite(), 0..4))
                .prop_map(|(offset, counts)| Buckets { offset, counts })
        }

        fn histogram() -> impl Strategy<Value = Histogram> {
            (
                (
                    prop_oneof![-4i32..9, Just(-53)],
                    finite(),
                    finite(),
                    finite(),
                    prop_oneof![Just(0.0), finite()],
                ),
                (
                    buckets(),
                    buckets(),
                    proptest::collection::vec(finite(), 0..3),
                ),
                (0u8..4, any::<bool>()),
            )
                .prop_map(
                    |(
                        (schema, sum, count, zero_count, zero_threshold),
                        (mut positive, mut negative, custom_values),
                        (hint, specified),
                    )| {
                        // An empty list carries no offset in the notation.
                        for b in [&mut positive, &mut negative] {
                            if b.counts.is_empty() {
                                b.offset = 0;
                            }
                        }
                        let hint = [
                            CounterResetHint::Unknown,
                            CounterResetHint::Reset,
                            CounterResetHint::NotReset,
                            CounterResetHint::Gauge,
                        ][hint as usize];
                        Histogram {
                            schema,
                            sum,
                            count,
                            zero_count,
                            zero_threshold,
                            positive,
                            negative,
                            custom_values,
                            hint,
                            // A hint other than unknown is always written out.
                            hint_specified: specified || hint != CounterResetHint::Unknown,
                        }
                    },
                )
        }

        proptest! {
            #[test]
            fn floats_round_trip(v in float()) {
                let text = fmt_value(&Value::Float(v));
                let back = parse_values(&text).map_err(TestCaseError::fail)?;
                let Some(Some(Value::Float(b))) = back.first() else {
                    return Err(TestCaseError::fail(format!("{text} did not give one float")));
                };
                prop_assert!(b.to_bits() == v.to_bits() || (v.is_nan() && b.is_nan() && !model::is_stale_nan(v)), "{v:?} -> {text} -> {b:?}");
            }

            #[test]
            fn histograms_round_trip(h in histogram()) {
                let v = Value::Histogram(Box::new(h));
                let text = fmt_value(&v);
                let back = parse_values(&text).map_err(TestCaseError::fail)?;
                prop_assert_eq!(back, vec![Some(v)], "{}", text);
            }
        }
    }
}
