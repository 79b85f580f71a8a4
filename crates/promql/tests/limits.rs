//! The limits of one query, through the public API: the sample budget, the
//! deadline, cancellation and the concurrency gate.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::Labels;
use promql::engine::{
    CancelToken, Engine, EngineError, EngineOptions, QueryOptions, QueryResult, Value,
};
use storage::{Appendable, MemStorage, Querier, Queryable, StorageError};

/// `foo{i="0"}` … `foo{i="9"}`, a sample every 10s from 0 to 990s.
fn db() -> MemStorage {
    let db = MemStorage::new();
    {
        let mut app = db.appender();
        for i in 0..10 {
            let l = Labels::from_pairs(&[("__name__", "foo"), ("i", &i.to_string())]);
            for k in 0..100i64 {
                app.append(None, &l, k * 10_000, k as f64).expect("append");
            }
        }
        app.commit().expect("commit");
    }
    db
}

fn engine(max_samples: u64) -> Engine {
    Engine::new(EngineOptions {
        max_samples,
        ..EngineOptions::default()
    })
}

fn range(e: &Engine, q: &str, qo: &QueryOptions) -> Result<QueryResult, EngineError> {
    let expr = promql::parse(q).expect("parse");
    e.range_query_with(&db(), &expr, 0, 990_000, 10_000, qo)
}

const TOO_MANY: &str =
    "query processing would load too many samples into memory in query execution";

#[test]
fn the_budget_is_the_peak_held_not_the_total_touched() {
    let q = "rate(foo[1m])";
    let r = range(&engine(u64::MAX), q, &QueryOptions::default()).expect("unbounded");
    let s = r.stats;
    // Every step sees a window of up to 6 samples of each of 10 series.
    assert!(s.total_samples > 5_000, "{s:?}");
    // What is held at once: the result, ~1,000 points (the windows are
    // walked series by series and not kept, as Prometheus, whose peak is
    // its output matrix too).
    assert!(s.peak_samples < 2_200 && s.peak_samples > 900, "{s:?}");
    // The limit is exactly the peak: at it the query runs, below it fails.
    let at_peak = range(&engine(s.peak_samples), q, &QueryOptions::default());
    assert_eq!(at_peak.expect("at the peak").value, r.value);
    let err = range(&engine(s.peak_samples - 1), q, &QueryOptions::default())
        .expect_err("below the peak");
    assert!(matches!(
        err,
        EngineError::TooManySamples {
            env: "query execution"
        }
    ));
    assert_eq!(err.to_string(), TOO_MANY);
}

#[test]
fn an_instant_query_over_the_limit_fails_and_a_smaller_one_runs() {
    let e = engine(100);
    let big = promql::parse("sum(foo)").expect("parse");
    // 31 samples of each series in the 5m lookback window are decoded.
    let err = e
        .instant_query(&db(), &big, 990_000)
        .expect_err("310 > 100");
    assert_eq!(err.to_string(), TOO_MANY);
    let small = promql::parse(r#"sum(foo{i="3"})"#).expect("parse");
    let r = e.instant_query(&db(), &small, 990_000).expect("31 + 1 + 1");
    assert_eq!(
        r.value,
        Value::Vector(vec![promql::engine::Sample {
            labels: Labels::empty(),
            value: 99.0
        }])
    );
    assert_eq!(r.stats.total_samples, 1);
    assert_eq!(r.stats.peak_samples, 31 + 1 + 1);
}

#[test]
fn a_deadline_in_the_past_fails_at_once() {
    let qo = QueryOptions {
        deadline: Some(Instant::now()),
        ..QueryOptions::default()
    };
    let err = range(&Engine::default(), "foo", &qo).expect_err("past deadline");
    assert!(matches!(err, EngineError::Timeout { .. }));
    assert_eq!(err.to_string(), "query timed out in query execution");
}

/// A query that runs for minutes: 100 range steps, each a subquery of
/// 100,000 inner steps.
const SLOW: &str = "count_over_time(sum(foo)[100s:1ms])";

#[test]
fn a_long_query_stops_at_its_timeout() {
    let qo = QueryOptions {
        timeout: Some(Duration::from_millis(50)),
        ..QueryOptions::default()
    };
    let began = Instant::now();
    let err = range(&Engine::default(), SLOW, &qo).expect_err("times out");
    assert_eq!(err.to_string(), "query timed out in expression evaluation");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
}

#[test]
fn a_long_query_canceled_from_another_thread_returns() {
    let cancel = CancelToken::new();
    let qo = QueryOptions {
        cancel: Some(cancel.clone()),
        ..QueryOptions::default()
    };
    let began = Instant::now();
    let worker = std::thread::spawn(move || range(&Engine::default(), SLOW, &qo));
    std::thread::sleep(Duration::from_millis(50));
    cancel.cancel();
    let err = worker.join().expect("no panic").expect_err("canceled");
    assert!(matches!(err, EngineError::Canceled { .. }));
    assert_eq!(
        err.to_string(),
        "query was canceled in expression evaluation"
    );
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
}

/// A store whose `querier()` tells `entered` it was called and then waits
/// for `release`, so a test can hold a query inside the engine.
struct HeldDb {
    inner: MemStorage,
    entered: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

impl Queryable for HeldDb {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        let _ = self.entered.lock().expect("lock").send(());
        let _ = self.release.lock().expect("lock").recv();
        self.inner.querier(mint, maxt)
    }
}

#[test]
fn a_second_query_waits_for_the_gate_and_times_out_in_the_queue() {
    fn is_shareable<T: Clone + Send + Sync>() {}
    is_shareable::<Engine>();

    let e = Engine::new(EngineOptions {
        max_concurrency: 1,
        ..EngineOptions::default()
    });
    let (entered_tx, entered) = channel();
    let (release, release_rx) = channel();
    let held = Arc::new(HeldDb {
        inner: db(),
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    });
    let first = {
        let (e, held) = (e.clone(), Arc::clone(&held));
        std::thread::spawn(move || {
            let expr = promql::parse("sum(foo)").expect("parse");
            e.instant_query(held.as_ref(), &expr, 990_000)
        })
    };
    entered.recv().expect("the first query reached storage");

    let expr = promql::parse("sum(foo)").expect("parse");
    let qo = QueryOptions {
        timeout: Some(Duration::from_millis(50)),
        ..QueryOptions::default()
    };
    let err = e
        .instant_query_with(&db(), &expr, 990_000, &qo)
        .expect_err("the gate is full");
    assert!(matches!(err, EngineError::Timeout { env: "query queue" }));
    assert_eq!(err.to_string(), "query timed out in query queue");

    release.send(()).expect("release");
    let r = first.join().expect("no panic").expect("first query");
    assert!(matches!(r.value, Value::Vector(v) if v[0].value == 990.0));
    // The place is free again.
    e.instant_query_with(&db(), &expr, 990_000, &qo)
        .expect("admitted after the first finished");
}

#[test]
fn a_lookback_override_applies_to_one_query() {
    let expr = promql::parse("foo").expect("parse");
    let qo = QueryOptions {
        lookback_delta_ms: Some(5_000),
        ..QueryOptions::default()
    };
    let e = Engine::default();
    // The last sample is at 990s: 5m of lookback reach it from 1000s, 5s
    // do not.
    let r = e.instant_query(&db(), &expr, 1_000_000).expect("default");
    assert!(matches!(r.value, Value::Vector(v) if v.len() == 10));
    let r = e
        .instant_query_with(&db(), &expr, 1_000_000, &qo)
        .expect("5s");
    assert_eq!(r.value, Value::Vector(Vec::new()));
}

/// Queries with extreme numbers, times and sizes: each may fail, none may
/// panic (which the engine reports as an "unexpected error") or run away.
#[test]
fn extreme_queries_fail_cleanly_or_run() {
    let queries = [
        "foo @ 9223372036854775.807",
        "foo @ -9223372036854775.808",
        "foo offset 292y",
        "foo offset -292y",
        "foo[292y]",
        "rate(foo[292y] offset -292y)",
        "foo @ -9223372036854775.808 offset 1y",
        "max_over_time(foo[292y:1y])",
        "max_over_time(foo[1y:1ms])",
        "max_over_time(foo[292y:1ms] @ -9223372036854775.808)",
        "max_over_time(foo[10m:1ms] @ -9223372036854775.808 offset 1y)",
        "max_over_time(foo[10m:7ms] @ 9223372036854775.807 offset -1y)",
        "max_over_time(foo[10m:7ms] @ -9223372036854775.808)",
        "topk(1e18, foo)",
        "limitk(1e300, foo)",
        "limitk(-1e300, foo)",
        "limit_ratio(1e300, foo)",
        "quantile(1e300, foo)",
        r#"count_values("v", foo * 1e300)"#,
        "day_of_month(vector(1e300))",
        "days_in_month(vector(-1e300))",
        "year(vector(-9.3e18))",
        "predict_linear(foo[5m], 1e308)",
        "round(foo, 1e-320)",
        "histogram_quantile(1e300, foo)",
        "double_exponential_smoothing(foo[5m], 0.5, 0.5)",
        "quantile_over_time(-1e300, foo[5m])",
        r#"label_replace(foo, "a", "$1$1$1$1$1$1$1$1$1$1", "i", "(.*)")"#,
        "timestamp(foo @ 9223372036854775.807)",
        "vector(time() * 1e300)",
        "foo ^ 1e308 % 0",
        "sort_by_label(foo, \"i\")",
        "absent_over_time(nonexistent[292y])",
        "irate(foo[292y] @ 9223372036854775.807 offset -292y)",
        "sum_over_time(foo[292y:1y] @ 9223372036854775.807 offset -292y)",
        "resets(foo[1ms:1ms] @ -9223372036854775.808 offset 292y)",
        "changes(deriv(foo[1m])[292y:3ms] @ -9223372036854775.808)",
        "foo offset (step() * 100000 * 100000 * 100000)",
        "max_over_time(foo[step() * 100000 * 100000:7ms])",
    ];
    let e = Engine::default();
    let qo = QueryOptions {
        timeout: Some(Duration::from_secs(5)),
        ..QueryOptions::default()
    };
    let mut bad = Vec::new();
    for q in queries {
        let expr = promql::parse(q).expect("parse");
        for r in [
            e.instant_query_with(&db(), &expr, 990_000, &qo),
            e.range_query_with(&db(), &expr, 0, 990_000, 100_000, &qo),
            e.range_query_with(
                &db(),
                &expr,
                i64::MIN / 2,
                i64::MIN / 2 + 990_000,
                100_000,
                &qo,
            ),
        ] {
            if let Err(err @ (EngineError::Internal(_) | EngineError::Timeout { .. })) = r {
                bad.push(format!("{q}: {err}"));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_active_query_log_holds_running_queries_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queries.active");
    let (e, left) = Engine::with_active_query_log(EngineOptions::default(), &path).expect("open");
    assert_eq!(left, None);
    let (entered_tx, entered) = channel();
    let (release, release_rx) = channel();
    let held = Arc::new(HeldDb {
        inner: db(),
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    });
    let running = {
        let (e, held) = (e.clone(), Arc::clone(&held));
        std::thread::spawn(move || {
            let expr = promql::parse("sum by (i) (foo)").expect("parse");
            e.instant_query(held.as_ref(), &expr, 990_000)
        })
    };
    entered.recv().expect("the query reached storage");
    // What a crash now would leave behind, as the next start reads it.
    let copy = dir.path().join("copy");
    std::fs::copy(&path, &copy).expect("copy");
    let (_, left) = Engine::with_active_query_log(EngineOptions::default(), &copy).expect("reopen");
    let v: serde_json::Value = serde_json::from_str(&left.expect("one query")).expect("JSON");
    assert_eq!(v[0]["query"], "sum by (i) (foo)");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    prometheus_reads_the_log(&path);

    release.send(()).expect("release");
    running.join().expect("no panic").expect("query");
    let (_, left) = Engine::with_active_query_log(EngineOptions::default(), &path).expect("reopen");
    assert_eq!(left, None, "a finished query leaves its slot");
}

/// Asks the reference Prometheus what it makes of the active query log at
/// `log`: it reports the queries "that didn't finish" when it starts.
fn prometheus_reads_the_log(log: &std::path::Path) {
    use std::io::{BufRead, BufReader};
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::copy(log, data.join("queries.active")).expect("copy");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").expect("config");
    let mut child = std::process::Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!(
            "--web.listen-address=127.0.0.1:{}",
            testkit::free_port()
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start prometheus");
    let stderr = child.stderr.take().expect("stderr");
    // Lines until the report; the log is written before anything slow.
    let report = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .take(40)
        .find(|l| l.contains("didn't finish"));
    let _ = child.kill();
    let _ = child.wait();
    let report = report.expect("prometheus reports the unfinished query");
    assert!(
        report.contains(r#"{\"query\":\"sum by (i) (foo)\",\"timestamp_sec\":"#),
        "{report}"
    );
}

#[test]
fn a_subquery_counts_its_points_not_its_inner_selectors() {
    let expr = promql::parse("count_over_time(sum(foo)[2m:10s])").expect("parse");
    let r = Engine::default()
        .instant_query(&db(), &expr, 990_000)
        .expect("query");
    // Inner steps 880s … 990s: 12 points of `sum`, made from 120 samples.
    assert_eq!(r.stats.total_samples, 12);
}
