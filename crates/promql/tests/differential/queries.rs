//! The queries: templates over the generated metrics (see `data.rs`).
//!
//! Every duration is a multiple of 5 s (so no sample sits on a window
//! edge), and every subquery step, subquery range and offset a multiple of
//! 10 s, while evaluation times are 5 s past a multiple of 10 s: a subquery
//! step then never lands on the left edge of its range, which 2.42 would
//! include and 3.x excludes.
//!
//! Left out because 2.42 and 3.x define them differently (these are not
//! pharos bugs; the conformance scripts test them against 3.x):
//! * `holt_winters` (3.0 renamed it `double_exponential_smoothing`, behind
//!   a feature flag), `sort_by_label`, `limitk`, `limit_ratio`, `info`,
//!   `mad_over_time`, `ts_of_*_over_time`, `first_over_time`: not in 2.42.
//! * Nested subqueries whose inner step divides the outer step: the inner
//!   range's left edge falls on an inner step (closed in 2.42, open in 3.x,
//!   prometheus/prometheus#13213 "range selectors are left-open").
//! * `atan2` applied to a selector directly: 2.42 keeps the metric name,
//!   2.46 began to drop it as other arithmetic does
//!   (prometheus/prometheus#12595); the queries here give it inputs that
//!   have lost their name already.
//! * Label names that were invalid before 3.0 allowed any UTF-8 name
//!   (`label_join(up, "1bad", …)` fails in 2.42, works in 3.x).
//! * Regexes with `.` against values with newlines (3.0 made `.` match
//!   newlines); our label values have none, so regexes are kept.
//! * `histogram_quantile` over buckets that are not monotonic by tiny
//!   float amounts: 2.46 began to ignore such deltas
//!   (prometheus/prometheus#12568); buckets here are integers, so rates of
//!   them differ by more than float noise or not at all.

use super::data::T0;

/// Counters with their natural "by" labels.
const COUNTERS: &[&str] = &[
    "http_requests_total",
    "process_cpu_seconds_total",
    "batch_processed_total",
    "request_duration_seconds_count",
    "request_duration_seconds_sum",
];

/// Gauges.
const GAUGES: &[&str] = &[
    "node_memory_bytes",
    "temperature_celsius",
    "queue_length",
    "up",
    "batch_last_success_timestamp_seconds",
];

/// A time inside the data usable after `@` (seconds, 5 s past a multiple
/// of 10 s).
fn at(offset_s: i64) -> String {
    let t = T0 / 1000 + offset_s;
    assert_eq!(
        t % 10,
        5,
        "BUG: @ time {t} is not 5 s past a multiple of 10 s"
    );
    t.to_string()
}

/// Every query of the test.
pub(crate) fn all() -> Vec<String> {
    let mut q: Vec<String> = Vec::new();
    let mut add = |s: String| q.push(s);

    // Plain selectors and matchers.
    for s in [
        "up",
        "http_requests_total{code=\"500\"}",
        "http_requests_total{code=~\"4..|5..\", method!=\"GET\"}",
        "node_memory_bytes{kind!~\"free|cached\"}",
        "{__name__=~\"temperature_.*\", sensor=\"cpu\"}",
        "batch_processed_total",
        "weird_gauge",
        "nonexistent_metric",
        "app_info{version=~\"1\\\\.3.*\"}",
        "queue_length[5m]",
        "temperature_celsius{instance=\"api-1:8080\"}[2m]",
    ] {
        add(s.to_owned());
    }

    // Counter range functions.
    for c in COUNTERS {
        for f in ["rate", "irate", "increase", "resets", "changes"] {
            add(format!("{f}({c}[5m])"));
        }
        add(format!("rate({c}[1m])"));
        add(format!("increase({c}[17m30s])"));
    }
    // Gauge range functions.
    for g in GAUGES {
        for f in [
            "delta",
            "idelta",
            "deriv",
            "changes",
            "avg_over_time",
            "min_over_time",
            "max_over_time",
            "sum_over_time",
            "count_over_time",
            "stddev_over_time",
            "stdvar_over_time",
            "last_over_time",
            "present_over_time",
        ] {
            add(format!("{f}({g}[10m])"));
        }
        add(format!("quantile_over_time(0.9, {g}[15m])"));
        add(format!("predict_linear({g}[10m], 600)"));
    }
    add("quantile_over_time(0, temperature_celsius[5m])".into());
    add("quantile_over_time(1.5, temperature_celsius[5m])".into());
    add("quantile_over_time(-1, queue_length[5m])".into());
    add("absent_over_time(batch_processed_total[5m])".into());
    add("absent_over_time(nonexistent_metric{job=\"x\"}[5m])".into());
    add("absent(nonexistent_metric{job=\"x\", instance=~\"a.*\"})".into());
    add("absent(up)".into());
    add("absent(sum(nonexistent_metric))".into());
    add("deriv(process_cpu_seconds_total[3m])".into());
    // Windows across the block boundary (T0+2h) and over all the data.
    add("rate(http_requests_total{method=\"GET\"}[1h])".into());
    add("max_over_time(temperature_celsius[2h])".into());
    add("count_over_time(up[3h])".into());
    add("resets(request_duration_seconds_count[3h])".into());
    add("predict_linear(node_memory_bytes{kind=\"free\"}[30m], -3600)".into());

    // Aggregations.
    let inners = [
        "rate(http_requests_total[5m])",
        "temperature_celsius",
        "node_memory_bytes",
        "queue_length",
    ];
    for inner in inners {
        for agg in [
            "sum", "avg", "min", "max", "count", "stddev", "stdvar", "group",
        ] {
            add(format!("{agg}({inner})"));
            add(format!("{agg} by (job) ({inner})"));
            add(format!("{agg} without (instance) ({inner})"));
        }
        add(format!("quantile by (job) (0.75, {inner})"));
        add(format!("quantile(0.1, {inner})"));
    }
    // topk/bottomk (and sort) only where values have no ties: which of tied
    // elements wins depends on the order series are visited in, which
    // neither version defines (rates of the rarely counted codes tie at 0).
    for inner in [
        "rate(http_requests_total{code=\"200\"}[5m])",
        "temperature_celsius",
    ] {
        add(format!("topk(3, {inner})"));
        add(format!("bottomk(2, {inner})"));
        add(format!("topk by (job) (1, {inner})"));
        add(format!("bottomk without (instance) (1, {inner})"));
    }
    add("topk(5, node_memory_bytes)".into());
    add("count_values(\"q\", queue_length)".into());
    add("count_values by (job) (\"q\", queue_length)".into());
    add("count_values(\"v\", up)".into());
    add("quantile(0.5, weird_gauge)".into());
    add("sum by (job, code) (rate(http_requests_total[5m]))".into());
    add("sum without (method, code) (increase(http_requests_total[10m]))".into());
    add("max by (job) (sum by (job, instance) (rate(http_requests_total[5m])))".into());
    add("count by (job) (up == 1)".into());
    add("avg by (kind) (node_memory_bytes) / 1e6".into());
    add(
        "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))"
            .into(),
    );
    add("stddev by (sensor) (temperature_celsius)".into());

    // Histograms.
    for phi in ["0.5", "0.9", "0.99"] {
        add(format!(
            "histogram_quantile({phi}, sum by (le) (rate(request_duration_seconds_bucket[5m])))"
        ));
        add(format!(
            "histogram_quantile({phi}, sum by (job, le) (rate(request_duration_seconds_bucket[10m])))"
        ));
    }
    add("histogram_quantile(0.9, rate(request_duration_seconds_bucket[5m]))".into());
    add("histogram_quantile(0, sum by (le) (rate(request_duration_seconds_bucket[5m])))".into());
    add("histogram_quantile(1, sum by (le) (rate(request_duration_seconds_bucket[5m])))".into());
    add("histogram_quantile(1.5, sum by (le) (rate(request_duration_seconds_bucket[5m])))".into());
    add("histogram_quantile(0.9, request_duration_seconds_bucket)".into());
    add(
        "histogram_quantile(0.5, sum by (le) (request_duration_seconds_bucket{le!=\"+Inf\"}))"
            .into(),
    );
    add("rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])".into());

    // Binary operators.
    for s in [
        "node_memory_bytes / 1024 / 1024",
        "-temperature_celsius",
        "queue_length % 3",
        "queue_length ^ 2",
        "2 ^ -queue_length",
        "(temperature_celsius + 0) atan2 ignoring(sensor) group_left queue_length",
        "1 - up",
        "temperature_celsius > 10",
        "temperature_celsius > bool 10",
        "10 < temperature_celsius",
        "queue_length == 5",
        "queue_length != bool 5",
        "queue_length >= 10 <= 15",
        "1 > bool 2",
        "2 * 3 + 4 ^ 0.5",
        "temperature_celsius{sensor=\"cpu\"} - ignoring(sensor) temperature_celsius{sensor=\"board\"}",
        "node_memory_bytes{kind=\"used\"} / on(job, instance) node_memory_bytes{kind=\"free\"}",
        "node_memory_bytes{kind=\"used\"} > ignoring(kind) node_memory_bytes{kind=\"free\"}",
        "node_memory_bytes / ignoring(kind) group_left sum without (kind) (node_memory_bytes)",
        "sum by (job, instance) (rate(http_requests_total[5m])) * on(job, instance) group_left(version, region) app_info",
        "app_info * on(job, instance) group_right(version) rate(http_requests_total[5m])",
        "rate(http_requests_total{code=\"500\"}[5m]) / ignoring(code) rate(http_requests_total{code=\"200\"}[5m])",
        "rate(http_requests_total[5m]) / ignoring(code) group_left sum without (code) (rate(http_requests_total[5m]))",
        "up == 1 and on(instance) queue_length > 5",
        "temperature_celsius > 20 or temperature_celsius < 0",
        "http_requests_total unless http_requests_total{code=\"500\"}",
        "up unless on(job) queue_length",
        "queue_length or on(instance) up",
        "up and nonexistent_metric",
        "nonexistent_metric or up",
        "sum(up) + count(queue_length)",
        "up + on() group_left sum(up)",
        "scalar(sum(up)) * up",
        "scalar(up)",
        "vector(1) + vector(2)",
        "time() - batch_last_success_timestamp_seconds",
        "weird_gauge > 0",
        "weird_gauge * 2",
        "weird_gauge == bool weird_gauge",
        "max(weird_gauge)",
        "min(weird_gauge)",
        "sum(weird_gauge)",
        "max_over_time(weird_gauge[10m])",
        "min_over_time(weird_gauge[10m])",
        "avg_over_time(weird_gauge[10m])",
        "-weird_gauge",
        // Two series that never tie: one has NaN, the other ±Inf.
        "topk(1, weird_gauge{case=~\"nan|inf\"})",
        "bottomk(1, weird_gauge{case=~\"nan|inf\"})",
        "count_values(\"v\", weird_gauge)",
        "avg(weird_gauge)",
        "stddev(weird_gauge)",
        "count(weird_gauge)",
        "weird_gauge > bool 0",
        "clamp(weird_gauge, 0, 10)",
        "clamp_min(weird_gauge, 0)",
        "clamp_max(weird_gauge, 0)",
        "round(weird_gauge)",
        "sgn(weird_gauge)",
        "scalar(weird_gauge{case=\"nan\"})",
        "irate(weird_gauge[5m])",
        "delta(weird_gauge[10m])",
        "deriv(weird_gauge[10m])",
        "changes(weird_gauge[10m])",
        "resets(weird_gauge[10m])",
        "stddev_over_time(weird_gauge[10m])",
        "sum_over_time(weird_gauge[10m])",
        "quantile_over_time(0.5, weird_gauge[10m])",
        "max_over_time(weird_gauge[10m:1m])",
        "up / on(instance) queue_length",
        "http_requests_total / on(job) up",
        "up * on(job, instance) group_left node_memory_bytes",
        "sum by (le) (request_duration_seconds_bucket) / on() group_left sum(request_duration_seconds_count)",
        "absent_over_time(up{job=\"api\"}[1m])",
        "sort_desc(weird_gauge{case=~\"nan|inf\"})",
        "sort(weird_gauge{case=~\"nan|inf\"})",
        "count_values(\"job\", up)",
        "sum by (nolabel) (up)",
        "up == bool 1",
        "queue_length > bool on(job, instance) up",
        "vector(1) and on() up",
        "up unless up offset 1m",
        "up ^ up",
        "2 atan2 (temperature_celsius * 1)",
        "1 / 0",
        "-1 / 0",
        "0 / 0",
        "(-(-up))",
        "sum by (job) (http_requests_total) % 7",
        "sum(topk(3, rate(http_requests_total{code=\"200\"}[5m])))",
        "histogram_quantile(0.9, up)",
        "histogram_quantile(0.5, rate(request_duration_seconds_bucket{le=~\"0.1|0.5|\\\\+Inf\"}[5m]))",
        "histogram_quantile(NaN, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
        "predict_linear(weird_gauge[10m], 60)",
        "changes(up[1h])",
        "last_over_time(up[1h] offset 30m)",
        "avg_over_time(rate(http_requests_total[1m])[5m:30s])",
        "timestamp(rate(http_requests_total[5m]))",
        "scalar(vector(time()))",
        "year(vector(0))",
        "days_in_month(vector(1677628805))",
        "day_of_week(vector(1677628805)) + hour(vector(1677628805))",
        "absent(nonexistent_metric{job=\"a\"} offset 1m)",
        "label_replace(up, \"a\", \"$1\", \"job\", \"(\")",
        "count_values(\"v\", temperature_celsius)",
        "count_values(\"v\", node_memory_bytes)",
        "count_values(\"v\", rate(http_requests_total[5m]))",
        "count_values(\"v\", node_memory_bytes * 1e12)",
        "count_values(\"v\", temperature_celsius / 1e9)",
        "label_replace(up, \"x\", \"${1}y$2\", \"instance\", \"([a-z]+)-([0-9])\")",
        "label_replace(up, \"x\", \"$host\", \"instance\", \"(?P<host>[a-z]+)-.*\")",
        "topk(scalar(count(up) / 4), temperature_celsius)",
        "quantile(scalar(avg(up)) / 2, temperature_celsius)",
        "sum(rate(http_requests_total[5m])) by (job)",
        "sum by (__name__) ({__name__=~\"up|queue_length\"})",
        "{__name__=~\"up|queue_length\"} * 2",
        "{__name__=~\"up|queue_length\"} offset 1m",
        "label_replace(rate(http_requests_total[5m]), \"__name__\", \"foo\", \"\", \"\")",
        "label_replace(up, \"__name__\", \"$1_x\", \"job\", \"(.*)\")",
        "sum by (__name__) (rate(http_requests_total[5m]))",
        "absent(up{job=\"api\"} == 5)",
        "absent_over_time(nonexistent_metric{a=\"b\"}[5m:1m])",
        "last_over_time(up[5m:1m])",
        "-http_requests_total{code=\"500\"}",
        "timestamp(up) - time()",
        "quantile(NaN, up)",
        "label_join(up, \"x\", \"-\")",
        "round(temperature_celsius, 0)",
        "round(temperature_celsius, -2)",
        "temperature_celsius > ignoring(sensor) group_left queue_length",
        "up or on() vector(0)",
        "up unless on() vector(1)",
        "vector(scalar(sum(up)))",
        "sum by () (up)",
        "avg(node_memory_bytes * 1e299)",
        "sum(node_memory_bytes * 1e299)",
        "stddev(node_memory_bytes * 1e150)",
        "stdvar by (job) (temperature_celsius * 1e200)",
        "avg_over_time((node_memory_bytes * 1e299)[10m:1m])",
        "exp(queue_length * 100)",
        "log2(queue_length)",
        "sgn(-queue_length)",
        "absent(up) or vector(5)",
        "present_over_time(weird_gauge[5m])",
        "rate(http_requests_total{code=\"200\"}[5m] @ start())",
        "changes(temperature_celsius[10m] @ end())",
        "minute(timestamp(up offset 1h))",
        "sort_desc(label_replace(temperature_celsius, \"x\", \"$1\", \"sensor\", \"(.*)\"))",
    ] {
        add(s.to_owned());
    }

    // Math and label functions.
    for f in [
        "abs", "ceil", "floor", "round", "exp", "ln", "log2", "log10", "sqrt", "sgn", "sin", "cos",
        "tan", "atan", "sinh", "tanh", "asinh", "deg", "rad",
    ] {
        add(format!("{f}(temperature_celsius / 10)"));
    }
    for s in [
        "asin(clamp(temperature_celsius / 40, -1, 1))",
        "acos(clamp(temperature_celsius / 40, -1, 1))",
        "atanh(clamp(temperature_celsius / 40, -0.99, 0.99))",
        "acosh(1 + abs(temperature_celsius))",
        "cosh(temperature_celsius / 10)",
        "round(temperature_celsius, 0.5)",
        "round(node_memory_bytes, 1e6)",
        "round(temperature_celsius, 5)",
        "clamp(temperature_celsius, -5, 5)",
        "clamp(temperature_celsius, 5, -5)",
        "clamp_min(temperature_celsius, 0)",
        "clamp_max(queue_length, 10)",
        "ln(node_memory_bytes)",
        "sqrt(temperature_celsius)",
        "pi() * 2",
        "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
        "label_replace(up, \"port\", \"$2\", \"instance\", \"(.*):(\\\\d+)\")",
        "label_replace(up, \"x\", \"y\", \"nolabel\", \"\")",
        "label_replace(up, \"job\", \"\", \"job\", \"api\")",
        "label_join(up, \"ji\", \"/\", \"job\", \"instance\")",
        "label_join(queue_length, \"job\", \"-\", \"instance\")",
        "sum by (host) (label_replace(rate(http_requests_total[5m]), \"host\", \"$1\", \"instance\", \"([a-z]+)-.*\"))",
    ] {
        add(s.to_owned());
    }

    // Time functions.
    for f in [
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "hour",
        "minute",
        "month",
        "year",
    ] {
        add(format!("{f}()"));
        add(format!("{f}(batch_last_success_timestamp_seconds)"));
    }
    add("time()".into());
    add("timestamp(up)".into());
    add("timestamp(queue_length offset 5m)".into());
    add("time() - timestamp(temperature_celsius)".into());
    add("vector(time())".into());
    add("hour(timestamp(up))".into());

    // offset and @.
    for s in [
        "up offset 10m",
        "rate(http_requests_total[5m] offset 30m)",
        "sum(temperature_celsius offset 1h)",
        "queue_length offset -5m",
        "delta(temperature_celsius[10m] offset -10m)",
        "queue_length - queue_length offset 1m",
    ] {
        add(s.to_owned());
    }
    let (a1, a2) = (at(3605), at(2 * 3600 + 905));
    for s in [
        format!("up @ {a1}"),
        format!("rate(http_requests_total[5m] @ {a2})"),
        format!("sum by (job) (temperature_celsius @ {a1})"),
        format!("queue_length @ {a2} offset 10m"),
        format!("temperature_celsius - temperature_celsius @ {a1}"),
        "up @ start()".to_owned(),
        "rate(process_cpu_seconds_total[5m] @ end())".to_owned(),
    ] {
        add(s);
    }

    // Subqueries: steps multiples of 10 s, evaluated 5 s past one.
    for s in [
        "max_over_time(rate(http_requests_total[5m])[30m:1m])",
        "avg_over_time(temperature_celsius[20m:30s])",
        "min_over_time(sum by (job) (queue_length)[15m:20s])",
        "deriv(sum(node_memory_bytes)[10m:1m])",
        "rate(process_cpu_seconds_total[5m])[10m:]",
        "sum_over_time(up[30m:])",
        "quantile_over_time(0.5, temperature_celsius[10m:10s])",
        "max_over_time(deriv(temperature_celsius[5m])[20m:2m] offset 10m)",
        "count_over_time(up[1h:5m])",
        "last_over_time(queue_length[7m:10s])",
        "changes(queue_length[10m:30s])",
        "stddev_over_time((temperature_celsius > 5)[30m:1m])",
        "rate(http_requests_total{code=\"200\"}[5m:1m])",
        "increase(request_duration_seconds_count[10m:30s])",
        "timestamp(up @ start())",
        "up @ end() - up",
    ] {
        add(s.to_owned());
    }
    add(format!(
        "max_over_time(rate(http_requests_total[5m])[30m:1m] @ {})",
        at(5405)
    ));

    // Ordered results (instant queries only compare order).
    for s in [
        "sort(temperature_celsius)",
        "sort_desc(temperature_celsius)",
        "sort_desc(sum by (job, instance) (rate(http_requests_total[5m])))",
        "sort(node_memory_bytes{kind=\"free\"})",
    ] {
        add(s.to_owned());
    }

    // Literals and strings.
    for s in ["1", "-2.5e3", "Inf", "-Inf", "NaN", "\"hello\"", "0x10 + 1"] {
        add(s.to_owned());
    }
    q
}

/// Whether the order of a query's vector result is part of its meaning.
pub(crate) fn ordered(query: &str) -> bool {
    query.starts_with("sort")
}
