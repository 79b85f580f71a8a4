//! The scrape loop against a local HTTP server: what it stores, marks stale
//! and reports, and how it talks HTTP.

mod support {
    pub(crate) mod server;
}

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::{is_stale_nan, Labels, MatchType, Matcher};
use scrape::{Health, HttpClient, ScrapeLoop, ScrapeOptions, ScrapeSummary, Target};
use storage::{MemStorage, Queryable};
use support::server::{Reply, TestServer};

const T0: u64 = 1_700_000_000;

fn at(sec: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + sec)
}

fn ms(sec: u64) -> i64 {
    ((T0 + sec) * 1000) as i64
}

/// Every series in `db` as `labels => ["t=v", ...]`, values `stale` for
/// stale markers.
fn contents(db: &MemStorage) -> BTreeMap<String, Vec<String>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let all = Matcher::new(MatchType::Regex, "__name__", ".+").unwrap();
    let mut out = BTreeMap::new();
    for s in q.select(true, None, &[all]).unwrap() {
        let mut s = s.unwrap();
        let samples = s.collect_samples().unwrap();
        let rendered = samples
            .iter()
            .map(|x| {
                let v = if is_stale_nan(x.v) {
                    "stale".to_owned()
                } else {
                    x.v.to_string()
                };
                format!("{}={v}", (x.t - ms(0)) / 1000)
            })
            .collect();
        out.insert(s.labels.to_string(), rendered);
    }
    out
}

/// The values of one series, by its label text.
fn series(db: &MemStorage, labels: &str) -> Vec<String> {
    contents(db).remove(labels).unwrap_or_default()
}

/// Only the scraped series, without the report series.
fn scraped(db: &MemStorage) -> BTreeMap<String, Vec<String>> {
    contents(db)
        .into_iter()
        .filter(|(k, _)| !k.contains("\"up\"") && !k.contains("\"scrape_"))
        .collect()
}

struct Setup {
    server: TestServer,
    db: MemStorage,
    sl: ScrapeLoop,
}

async fn setup(reply: Reply, configure: impl FnOnce(&mut ScrapeOptions)) -> Setup {
    let server = TestServer::start(reply).await;
    let mut opts = ScrapeOptions::new("test");
    opts.interval = Duration::from_secs(1);
    opts.timeout = Duration::from_millis(500);
    configure(&mut opts);
    let target = Target::new(
        &Labels::from_pairs(&[("__address__", server.addr.as_str())]),
        &opts,
    )
    .unwrap()
    .unwrap();
    let db = MemStorage::new();
    let sl = ScrapeLoop::new(
        Arc::new(target),
        &opts,
        Arc::new(db.clone()),
        &HttpClient::new().unwrap(),
    );
    Setup { server, db, sl }
}

fn up(s: &Setup) -> String {
    format!(
        r#"{{__name__="up", instance="{}", job="test"}}"#,
        s.server.addr
    )
}

fn lbl(s: &Setup, name: &str, extra: &str) -> String {
    format!(
        r#"{{__name__="{name}", instance="{}", job="test"{extra}}}"#,
        s.server.addr
    )
}

fn ok(summary: &ScrapeSummary) {
    assert_eq!(summary.error, None);
    assert_eq!(summary.commit_error, None);
}

#[tokio::test]
async fn stores_samples_and_stale_markers_between_scrapes() {
    let mut s = setup(
        Reply::text("# TYPE a counter\na 1\nb{x=\"1\"} 2\nb{x=\"2\"} 3\n"),
        |_| {},
    )
    .await;
    let r = s.sl.scrape_once(at(0)).await;
    ok(&r);
    assert_eq!(
        (r.samples_scraped, r.samples_post_relabel, r.series_added),
        (3, 3, 3)
    );
    s.server.set(Reply::text("a 2\nb{x=\"2\"} 4\nc 5\n"));
    let r = s.sl.scrape_once(at(1)).await;
    ok(&r);
    assert_eq!((r.samples_scraped, r.series_added), (3, 1));
    s.server.set(Reply::text("a 3\nb{x=\"2\"} 6\nc 7\n"));
    let r = s.sl.scrape_once(at(2)).await;
    assert_eq!(r.series_added, 0, "a steady scrape adds no series");
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "1=2", "2=3"]);
    assert_eq!(series(&s.db, &lbl(&s, "b", "")), Vec::<String>::new());
    assert_eq!(
        series(&s.db, &lbl(&s, "b", ", x=\"1\"")),
        ["0=2", "1=stale"]
    );
    assert_eq!(
        series(&s.db, &lbl(&s, "b", ", x=\"2\"")),
        ["0=3", "1=4", "2=6"]
    );
    assert_eq!(series(&s.db, &lbl(&s, "c", "")), ["1=5", "2=7"]);
    assert_eq!(series(&s.db, &up(&s)), ["0=1", "1=1", "2=1"]);
    assert_eq!(
        series(&s.db, &lbl(&s, "scrape_samples_scraped", "")),
        ["0=3", "1=3", "2=3"]
    );
    assert_eq!(
        series(&s.db, &lbl(&s, "scrape_series_added", "")),
        ["0=3", "1=1", "2=0"]
    );
    let state = s.sl.target().state();
    assert_eq!(
        (state.health, state.last_error, state.last_scrape),
        (Health::Up, None, Some(at(2)))
    );
    let meta = s.sl.target().metadata().get("a").unwrap();
    assert_eq!(meta.metric_type, model::MetricType::Counter);
}

#[tokio::test]
async fn failed_scrape_marks_everything_stale_and_reports_down() {
    let mut s = setup(Reply::text("a 1\nb 2\n"), |_| {}).await;
    ok(&s.sl.scrape_once(at(0)).await);
    s.server.set(Reply {
        status: "500 Internal Server Error",
        ..Reply::text("oops")
    });
    let r = s.sl.scrape_once(at(1)).await;
    assert_eq!(
        r.error.unwrap().to_string(),
        "server returned HTTP status 500 Internal Server Error"
    );
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "1=stale"]);
    assert_eq!(series(&s.db, &lbl(&s, "b", "")), ["0=2", "1=stale"]);
    assert_eq!(series(&s.db, &up(&s)), ["0=1", "1=0"]);
    let state = s.sl.target().state();
    assert_eq!(state.health, Health::Down);
    assert_eq!(
        state.last_error.as_deref(),
        Some("server returned HTTP status 500 Internal Server Error")
    );
    // Back up: the series come back, nothing more is marked.
    s.server.set(Reply::text("a 3\n"));
    ok(&s.sl.scrape_once(at(2)).await);
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "1=stale", "2=3"]);
    assert_eq!(series(&s.db, &lbl(&s, "b", "")), ["0=2", "1=stale"]);
}

#[tokio::test]
async fn exported_prefix_and_metric_relabeling() {
    let mut s = setup(Reply::text("m{job=\"other\",instance=\"x\",k=\"v\"} 1\ndrop_me 1\n"), |o| {
        o.metric_relabel_configs = serde_yaml_ng::from_str(
            "- {source_labels: [__name__], regex: drop_me, action: drop}\n- {source_labels: [k], target_label: k2}\n",
        )
        .unwrap();
    })
    .await;
    let r = s.sl.scrape_once(at(0)).await;
    ok(&r);
    assert_eq!((r.samples_scraped, r.samples_post_relabel), (2, 1));
    let want = format!(
        r#"{{__name__="m", exported_instance="x", exported_job="other", instance="{}", job="test", k="v", k2="v"}}"#,
        s.server.addr
    );
    assert_eq!(scraped(&s.db).into_keys().collect::<Vec<_>>(), [want]);
    assert_eq!(
        series(&s.db, &lbl(&s, "scrape_samples_post_metric_relabeling", "")),
        ["0=1"]
    );
}

#[tokio::test]
async fn honor_labels_keeps_exposed_values() {
    let mut s = setup(Reply::text("m{job=\"other\"} 1\n"), |o| {
        o.honor_labels = true
    })
    .await;
    ok(&s.sl.scrape_once(at(0)).await);
    let want = format!(
        r#"{{__name__="m", instance="{}", job="other"}}"#,
        s.server.addr
    );
    assert_eq!(scraped(&s.db).into_keys().collect::<Vec<_>>(), [want]);
}

#[tokio::test]
async fn honor_timestamps_on_and_off() {
    let body = format!("m 1 {}\n", ms(0) - 5000);
    let mut s = setup(Reply::text(&body), |_| {}).await;
    ok(&s.sl.scrape_once(at(0)).await);
    assert_eq!(series(&s.db, &lbl(&s, "m", "")), ["-5=1"]);
    // Series with their own timestamps get no stale markers by default.
    s.server.set(Reply::text("other 1\n"));
    ok(&s.sl.scrape_once(at(1)).await);
    assert_eq!(series(&s.db, &lbl(&s, "m", "")), ["-5=1"]);

    let mut s = setup(Reply::text(&body), |o| o.honor_timestamps = false).await;
    ok(&s.sl.scrape_once(at(0)).await);
    assert_eq!(series(&s.db, &lbl(&s, "m", "")), ["0=1"]);

    let mut s = setup(Reply::text(&body), |o| o.track_timestamps_staleness = true).await;
    ok(&s.sl.scrape_once(at(0)).await);
    s.server.set(Reply::text("other 1\n"));
    ok(&s.sl.scrape_once(at(1)).await);
    assert_eq!(series(&s.db, &lbl(&s, "m", "")), ["-5=1", "1=stale"]);
}

#[tokio::test]
async fn sample_limit_fails_the_whole_scrape() {
    let mut s = setup(Reply::text("a 1\nb 2\n"), |o| {
        o.sample_limit = 2;
        o.extra_scrape_metrics = true;
    })
    .await;
    ok(&s.sl.scrape_once(at(0)).await);
    s.server.set(Reply::text("a 3\nb 4\nc 5\nd 6\n"));
    let r = s.sl.scrape_once(at(1)).await;
    assert_eq!(
        r.error.map(|e| e.to_string()).as_deref(),
        Some("sample limit exceeded")
    );
    assert_eq!(
        r.samples_scraped, 4,
        "parsing goes on to count every sample"
    );
    let data = scraped(&s.db);
    assert_eq!(
        data.len(),
        2,
        "nothing of the failed scrape is stored: {data:?}"
    );
    // As in Prometheus, the series the failed scrape reached before the
    // limit count as present: no stale marker now, one at the next scrape
    // that lacks them.
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1"]);
    assert_eq!(series(&s.db, &up(&s)), ["0=1", "1=0"]);
    assert_eq!(
        series(&s.db, &lbl(&s, "scrape_sample_limit", "")),
        ["0=2", "1=2"]
    );
    assert_eq!(
        s.sl.target().state().last_error.as_deref(),
        Some("sample limit exceeded")
    );
    s.server.set(Reply::text("b 7\n"));
    ok(&s.sl.scrape_once(at(2)).await);
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "2=stale"]);
    assert_eq!(series(&s.db, &lbl(&s, "b", "")), ["0=2", "2=7"]);
}

#[tokio::test]
async fn label_limits_fail_the_scrape() {
    let mut s = setup(Reply::text("a{x=\"1\",y=\"2\"} 1\n"), |o| o.label_limit = 4).await;
    let r = s.sl.scrape_once(at(0)).await;
    assert_eq!(
        r.error.map(|e| e.to_string()).as_deref(),
        Some("label_limit exceeded (metric: a, number of labels: 5, limit: 4)")
    );
    assert!(scraped(&s.db).is_empty());
    assert_eq!(series(&s.db, &up(&s)), ["0=0"]);

    let mut s = setup(Reply::text("a{x=\"123456789012345678901\"} 1\n"), |o| {
        o.label_value_length_limit = 20
    })
    .await;
    let r = s.sl.scrape_once(at(0)).await;
    assert_eq!(
        r.error.map(|e| e.to_string()).as_deref(),
        Some(
            r#"label_value_length_limit exceeded (metric: a, label name: x, value: "123456789012345678901", length: 21, limit: 20)"#
        )
    );
    assert!(scraped(&s.db).is_empty());
}

#[tokio::test]
async fn body_size_limit_and_gzip() {
    let body = "a 1\nb 2\n"; // 8 bytes
    let mut s = setup(
        Reply {
            gzip: true,
            ..Reply::text(body)
        },
        |o| {
            o.body_size_limit = 9;
            o.extra_scrape_metrics = true;
        },
    )
    .await;
    let r = s.sl.scrape_once(at(0)).await;
    ok(&r);
    assert_eq!(r.body_bytes, 8, "the uncompressed size");
    assert!(s.server.requests()[0]
        .to_ascii_lowercase()
        .contains("accept-encoding: gzip\r\n"));
    s.server.set(Reply {
        gzip: true,
        ..Reply::text("a 1\nb 22\n")
    });
    let r = s.sl.scrape_once(at(1)).await;
    assert_eq!(
        r.error.map(|e| e.to_string()).as_deref(),
        Some("body size limit exceeded")
    );
    assert_eq!(
        series(&s.db, &lbl(&s, "scrape_body_size_bytes", "")),
        ["0=8", "1=-1"]
    );
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "1=stale"]);

    let mut s = setup(Reply::text(body), |o| o.enable_compression = false).await;
    ok(&s.sl.scrape_once(at(0)).await);
    assert!(s.server.requests()[0]
        .to_ascii_lowercase()
        .contains("accept-encoding: identity\r\n"));
}

#[tokio::test]
async fn timeout_fails_with_go_s_words() {
    let mut s = setup(
        Reply {
            delay: Duration::from_secs(5),
            ..Reply::text("a 1\n")
        },
        |_| {},
    )
    .await;
    let started = std::time::Instant::now();
    let r = s.sl.scrape_once(at(0)).await;
    assert!(
        started.elapsed() < Duration::from_millis(4000),
        "the timeout cut the scrape short"
    );
    assert_eq!(
        r.error.map(|e| e.to_string()),
        Some(format!(
            "Get \"http://{}/metrics\": context deadline exceeded",
            s.server.addr
        ))
    );
    assert_eq!(series(&s.db, &up(&s)), ["0=0"]);
}

#[tokio::test]
async fn request_headers_and_openmetrics() {
    let mut s = setup(
        Reply::openmetrics(
            "# TYPE c counter\nc_total 1 1700000000.5\nc_created 1600000000\n# EOF\n",
        ),
        |o| o.timeout = Duration::from_millis(250),
    )
    .await;
    let r = s.sl.scrape_once(at(0)).await;
    ok(&r);
    let req = s.server.requests()[0].clone();
    assert!(req.starts_with("GET /metrics HTTP/1.1\r\n"), "{req}");
    let lower = req.to_ascii_lowercase();
    assert!(lower.contains(
        "accept: application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2\r\n"
    ), "{req}");
    assert!(
        lower.contains("x-prometheus-scrape-timeout-seconds: 0.25\r\n"),
        "{req}"
    );
    assert!(lower.contains("user-agent: pharos/"), "{req}");
    assert_eq!(
        series(&s.db, &lbl(&s, "c_total", "")),
        ["0=1"],
        "timestamp 0.5 s after T0"
    );
    assert_eq!(series(&s.db, &lbl(&s, "c_created", "")), ["0=1600000000"]);
}

#[tokio::test]
async fn content_type_problems_fail_the_scrape() {
    let mut s = setup(
        Reply {
            content_type: String::new(),
            ..Reply::text("a 1\n")
        },
        |_| {},
    )
    .await;
    let r = s.sl.scrape_once(at(0)).await;
    assert_eq!(
        r.error.map(|e| e.to_string()).as_deref(),
        Some("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target")
    );
    let mut s = setup(
        Reply {
            content_type: String::new(),
            ..Reply::text("a 1\n")
        },
        |o| o.fallback_protocol = Some(scrape::ScrapeProtocol::PrometheusText0_0_4),
    )
    .await;
    ok(&s.sl.scrape_once(at(0)).await);
    // A parse error fails the scrape and stores nothing.
    s.server.set(Reply::text("b{ 2\na 1\n"));
    let r = s.sl.scrape_once(at(1)).await;
    assert!(r.error.is_some());
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "1=stale"]);
}

#[tokio::test]
async fn duplicate_series_in_one_scrape_keep_the_first() {
    let mut s = setup(Reply::text("a 1\na 2\n"), |_| {}).await;
    let r = s.sl.scrape_once(at(0)).await;
    ok(&r);
    assert_eq!(
        (r.samples_scraped, r.samples_post_relabel, r.series_added),
        (2, 2, 1)
    );
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1"]);
}

#[tokio::test]
async fn stopped_loop_marks_everything_stale() {
    let s = setup(Reply::text("a 1\n"), |o| {
        o.interval = Duration::from_millis(200);
        o.timeout = Duration::from_millis(100);
    })
    .await;
    let db = s.db.clone();
    let up_series = up(&s);
    let a = lbl(&s, "a", "");
    let handle = s.sl.spawn(0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while series(&db, &a).len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no scrapes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(handle.target().state().health, Health::Up);
    handle.stop();
    handle.finished().await;
    let a_values = series(&db, &a);
    assert_eq!(
        a_values
            .last()
            .map(String::as_str)
            .map(|v| v.ends_with("=stale")),
        Some(true),
        "{a_values:?}"
    );
    let up_values = series(&db, &up_series);
    assert!(
        up_values.last().unwrap().ends_with("=stale"),
        "{up_values:?}"
    );
    let contents = contents(&db);
    for (k, v) in &contents {
        assert!(
            v.last().unwrap().ends_with("=stale"),
            "{k} not stale: {v:?}"
        );
    }
    assert_eq!(contents.len(), 6, "a and five report series: {contents:?}");
}

#[tokio::test]
async fn shutdown_writes_no_stale_markers() {
    let s = setup(Reply::text("a 1\n"), |o| {
        o.interval = Duration::from_millis(200);
        o.timeout = Duration::from_millis(100);
    })
    .await;
    let db = s.db.clone();
    let a = lbl(&s, "a", "");
    let handle = s.sl.spawn(0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while series(&db, &a).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no scrapes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.shutdown();
    handle.finished().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!series(&db, &a).iter().any(|v| v.ends_with("=stale")));
}

#[tokio::test]
async fn empty_body_is_a_successful_scrape_of_nothing() {
    let mut s = setup(Reply::text("a 1\n"), |_| {}).await;
    ok(&s.sl.scrape_once(at(0)).await);
    s.server.set(Reply {
        content_type: String::new(),
        ..Reply::text("")
    });
    let r = s.sl.scrape_once(at(1)).await;
    ok(&r);
    assert_eq!(r.samples_scraped, 0);
    assert_eq!(series(&s.db, &lbl(&s, "a", "")), ["0=1", "1=stale"]);
    assert_eq!(series(&s.db, &up(&s)), ["0=1", "1=1"]);
}

#[tokio::test]
async fn utf8_names_of_the_text_1_0_0_format() {
    let mut s = setup(
        Reply {
            content_type: "text/plain; version=1.0.0; escaping=allow-utf-8".into(),
            ..Reply::text("{\"my.metric\", \"http.status\"=\"200\"} 1\n")
        },
        |_| {},
    )
    .await;
    ok(&s.sl.scrape_once(at(0)).await);
    let want = format!(
        r#"{{__name__="my.metric", http.status="200", instance="{}", job="test"}}"#,
        s.server.addr
    );
    assert_eq!(scraped(&s.db).into_keys().collect::<Vec<_>>(), [want]);
}

#[tokio::test]
async fn params_reach_the_target_as_query() {
    let mut s = setup(Reply::text("a 1\n"), |o| {
        o.metrics_path = "/probe".into();
        o.params
            .insert("module".into(), vec!["http 2xx".into(), "b".into()]);
        o.relabel_configs =
            serde_yaml_ng::from_str("- {target_label: __param_target, replacement: 'x&y'}\n")
                .unwrap();
    })
    .await;
    ok(&s.sl.scrape_once(at(0)).await);
    let req = s.server.requests()[0].clone();
    assert!(
        req.starts_with("GET /probe?module=http+2xx&module=b&target=x%26y HTTP/1.1\r\n"),
        "{req}"
    );
}
