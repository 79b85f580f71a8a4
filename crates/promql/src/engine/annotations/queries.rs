//! Each annotation the engine emits, raised by a real query: its kind, its
//! text and its position, as Prometheus 3.x renders them.

use model::Labels;
use storage::{Appendable, MemStorage};

use crate::engine::{AnnotationKind, Engine, EngineOptions, Value};

/// A test series: its labels, and its value at minute `i`.
type TestSeries = (&'static [(&'static str, &'static str)], fn(f64) -> f64);

/// Series sampled every minute from 0 to 10m: `value(i)` at minute `i`.
fn db() -> MemStorage {
    let db = MemStorage::new();
    let series: &[TestSeries] = &[
        (&[("__name__", "foo")], |i| i),
        (&[("__name__", "foo_total")], |i| 2.0 * i),
        (&[("__name__", "typed"), ("__type__", "gauge")], |i| i),
        (
            &[("__name__", "typed_total"), ("__type__", "counter")],
            |i| i,
        ),
        // A classic histogram whose counts decrease from le=2 to le=+Inf.
        (&[("__name__", "h_bucket"), ("le", "1")], |i| i),
        (&[("__name__", "h_bucket"), ("le", "2")], |i| 3.0 * i),
        (&[("__name__", "h_bucket"), ("le", "+Inf")], |i| 2.0 * i),
        // A well-formed one, and one with a broken bucket label.
        (&[("__name__", "ok_bucket"), ("le", "1")], |i| i),
        (&[("__name__", "ok_bucket"), ("le", "+Inf")], |i| 2.0 * i),
        (&[("__name__", "bad_bucket"), ("le", "Hello World")], |i| i),
    ];
    {
        let mut app = db.appender();
        for (pairs, value) in series {
            let l = Labels::from_pairs(pairs);
            for i in 0..=10 {
                app.append(None, &l, i * 60_000, value(i as f64))
                    .expect("append");
            }
        }
        app.commit().expect("commit");
    }
    db
}

/// The annotations of `q` at 10m, rendered, with their kinds.
fn instant_with(opts: EngineOptions, q: &str) -> Vec<(AnnotationKind, String)> {
    let e = crate::parse(q).expect("parse");
    let r = Engine::new(opts)
        .instant_query(&db(), &e, 600_000)
        .expect("query");
    let mut v: Vec<_> = r
        .annotations
        .iter()
        .map(|a| (a.kind, a.render(q)))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

fn instant(q: &str) -> Vec<(AnnotationKind, String)> {
    instant_with(EngineOptions::default(), q)
}

/// The annotations of `q` as a range query from 0 to 2m, step 1m.
fn range(q: &str, start: i64, end: i64) -> Vec<(AnnotationKind, String)> {
    let e = crate::parse(q).expect("parse");
    let r = Engine::default()
        .range_query(&db(), &e, start, end, 60_000)
        .expect("query");
    let mut v: Vec<_> = r
        .annotations
        .iter()
        .map(|a| (a.kind, a.render(q)))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

fn warning(s: &str) -> (AnnotationKind, String) {
    (AnnotationKind::Warning, format!("PromQL warning: {s}"))
}

fn info(s: &str) -> (AnnotationKind, String) {
    (AnnotationKind::Info, format!("PromQL info: {s}"))
}

#[test]
fn ordinary_queries_carry_none() {
    for q in [
        "rate(foo_total[5m])",
        "increase(foo_total[5m:1m])",
        "irate(foo[5m])",
        "delta(foo[5m])",
        "sum(foo) + foo_total",
        "quantile(0.5, foo)",
        "limit_ratio(-1, foo)",
        "quantile_over_time(1, foo[5m])",
        "histogram_quantile(0.9, ok_bucket)",
        "sort(foo)",
    ] {
        assert_eq!(instant(q), [], "{q}");
    }
    assert_eq!(range("rate(foo_total[5m])", 0, 120_000), []);
}

#[test]
fn rate_and_increase_of_a_non_counter_name() {
    let text =
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\"";
    assert_eq!(instant("rate(foo[5m])"), [info(&format!("{text} (1:6)"))]);
    assert_eq!(
        instant("1 + increase((foo[5m]))"),
        [info(&format!("{text} (1:15)"))]
    );
    // A subquery argument has no position of its own in Prometheus.
    assert_eq!(
        instant("sum(rate(foo[5m:1m]))"),
        [info(&format!("{text} (1:1)"))]
    );
    // Only series that gave a value count: one sample gives no rate.
    assert_eq!(instant("rate(foo[1m] offset 10m)"), []);
}

#[test]
fn range_queries_raise_the_non_counter_info_too() {
    // Range queries compute `rate` over a selector column-wise, not
    // through the per-step call: the info must come from there as well.
    let text =
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\"";
    assert_eq!(
        range("sum(rate(foo[5m]))", 300_000, 600_000),
        [info(&format!("{text} (1:10)"))]
    );
    assert_eq!(range("rate(foo_total[5m])", 300_000, 600_000), []);
}

#[test]
fn type_label_decides_with_type_and_unit_labels() {
    let opts = EngineOptions {
        type_and_unit_labels: true,
        ..EngineOptions::default()
    };
    assert_eq!(
        instant_with(opts.clone(), "rate(typed[5m])"),
        [info("metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got \"gauge\": \"typed\" (1:6)")]
    );
    assert_eq!(instant_with(opts.clone(), "rate(typed_total[5m])"), []);
    // Without the label, a name with a counter suffix is no excuse.
    assert_eq!(
        instant_with(opts, "rate(foo_total[5m])"),
        [info("metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got \"\": \"foo_total\" (1:6)")]
    );
    // Off (the default), the name's suffix decides.
    assert_eq!(instant("rate(typed_total[5m])"), []);
}

#[test]
fn sort_in_a_range_query() {
    let text = "sort is ineffective for range queries since results are always ordered by labels";
    assert_eq!(
        range("sort_desc(foo)", 0, 120_000),
        [warning(&format!("{text} (1:1)"))]
    );
    assert_eq!(
        range("-sort_by_label(foo, \"x\")", 0, 120_000),
        [warning(&format!("{text} (1:2)"))]
    );
    // One step is an instant; a pinned argument is evaluated once.
    assert_eq!(range("sort(foo)", 60_000, 60_000), []);
    assert_eq!(range("sort(foo @ 60)", 0, 120_000), []);
    // A subquery spans several instants even in an instant query.
    assert_eq!(
        instant("max_over_time(sort(foo)[2m:1m])"),
        [warning(&format!("{text} (1:15)"))]
    );
}

#[test]
fn quantile_parameter_out_of_range() {
    assert_eq!(
        instant("quantile(1.5, foo)"),
        [warning(
            "quantile value should be between 0 and 1, got 1.5 (1:10)"
        )]
    );
    assert_eq!(
        instant("quantile((-2), foo)"),
        [warning(
            "quantile value should be between 0 and 1, got -2 (1:11)"
        )]
    );
    assert_eq!(
        instant("quantile(NaN, foo)"),
        [warning(
            "quantile value should be between 0 and 1, got NaN (1:10)"
        )]
    );
    // Over a range, the largest and the smallest offending values:
    // time()/60 - 0.5 is -0.5, 0.5, 1.5, 2.5 at 0, 1m, 2m, 3m.
    assert_eq!(
        range("quantile(time() / 60 - 0.5, foo)", 0, 180_000),
        [
            warning("quantile value should be between 0 and 1, got -0.5 (1:10)"),
            warning("quantile value should be between 0 and 1, got 2.5 (1:10)"),
        ]
    );
}

#[test]
fn quantile_over_time_and_histogram_quantile_parameters() {
    assert_eq!(
        instant("quantile_over_time(-1, foo[5m])"),
        [warning(
            "quantile value should be between 0 and 1, got -1 (1:20)"
        )]
    );
    // No series with samples, nothing to say.
    assert_eq!(instant("quantile_over_time(-1, nothing[5m])"), []);
    assert_eq!(
        instant("histogram_quantile(1e+06, ok_bucket)"),
        [warning(
            "quantile value should be between 0 and 1, got 1e+06 (1:20)"
        )]
    );
    assert_eq!(
        instant("histogram_quantiles(ok_bucket, \"q\", 0.5, 2)"),
        [warning(
            "quantile value should be between 0 and 1, got 2 (1:42)"
        )]
    );
}

#[test]
fn limit_ratio_out_of_range() {
    assert_eq!(
        instant("limit_ratio(1.1, foo)"),
        [warning(
            "ratio value should be between -1 and 1, got 1.1, capping to 1 (1:13)"
        )]
    );
    assert_eq!(
        instant("limit_ratio(-1.1, foo)"),
        [warning(
            "ratio value should be between -1 and 1, got -1.1, capping to -1 (1:13)"
        )]
    );
}

#[test]
fn bad_bucket_label() {
    assert_eq!(
        instant("histogram_quantile(0.5, bad_bucket)"),
        [warning("bucket label \"le\" is missing or has a malformed value of \"Hello World\" for metric name \"bad_bucket\" (1:25)")]
    );
    // A missing `le` reads as empty; without a name there is none to say.
    assert_eq!(
        instant("histogram_fraction(0, 1, sum(foo))"),
        [warning(
            "bucket label \"le\" is missing or has a malformed value of \"\" (1:26)"
        )]
    );
}

#[test]
fn forced_monotonicity_is_summed_up() {
    // At 10m the buckets are 10, 30, 20: le=+Inf is raised by 10.
    let Value::Vector(v) = Engine::default()
        .instant_query(
            &db(),
            &crate::parse("histogram_quantile(0.5, h_bucket)").expect("parse"),
            600_000,
        )
        .expect("query")
        .value
    else {
        panic!("not a vector")
    };
    assert_eq!(v.len(), 1);
    assert_eq!(
        instant("histogram_quantile(0.5, h_bucket)"),
        [info("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"h_bucket\", from buckets +Inf to +Inf, with a max diff of 10, over 1 samples from 1970-01-01T00:10:00Z to 1970-01-01T00:10:00Z (1:25)")]
    );
    // Two calls over one metric: one info, at the first call's argument.
    let got = instant("histogram_quantile(0.5, h_bucket) + histogram_quantile(0.9, (h_bucket))");
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .1
            .ends_with("over 2 samples from 1970-01-01T00:10:00Z to 1970-01-01T00:10:00Z (1:25)"),
        "{got:?}"
    );
    // Over a range, one info for all steps (at 0 every count is 0).
    assert_eq!(
        range("histogram_quantile(0.5, h_bucket)", 0, 120_000),
        [info("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"h_bucket\", from buckets +Inf to +Inf, with a max diff of 2, over 2 samples from 1970-01-01T00:01:00Z to 1970-01-01T00:02:00Z (1:25)")]
    );
}

#[test]
fn trim_between_floats() {
    assert_eq!(
        instant("foo </ 1"),
        [info("incompatible sample types encountered for binary operator \"</\": float </ float (1:1)")]
    );
    assert_eq!(
        instant("(foo) >/ foo"),
        [info("incompatible sample types encountered for binary operator \">/\": float >/ float (1:1)")]
    );
    let e = crate::parse("foo </ 1").expect("parse");
    let r = Engine::default()
        .instant_query(&db(), &e, 600_000)
        .expect("query");
    assert_eq!(r.value, Value::Vector(Vec::new()));
    // Nothing met, nothing to say.
    assert_eq!(instant("nothing </ 1"), []);
    // Between scalars Prometheus has no answer at all.
    let e = crate::parse("1 >/ 2").expect("parse");
    let r = Engine::default().instant_query(&db(), &e, 0);
    assert!(
        matches!(&r, Err(crate::engine::EngineError::Query(m)) if m == "operator \">/\" not allowed for Scalar operations"),
        "{r:?}"
    );
}
