//! A job's pool of loops across discovery updates.

mod support {
    pub(crate) mod server;
}

use std::sync::Arc;
use std::time::{Duration, Instant};

use model::{is_stale_nan, Labels, MatchType, Matcher};
use scrape::{DiscoveredGroup, HttpClient, ScrapeOptions, ScrapePool};
use storage::{MemStorage, Queryable};
use support::server::{Reply, TestServer};

/// The values of series `name`, `None` for stale markers.
fn values(db: &MemStorage, name: &str) -> Vec<Option<f64>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", name).unwrap();
    let mut out = Vec::new();
    for s in q.select(true, None, &[m]).unwrap() {
        let samples = s.unwrap().collect_samples().unwrap();
        out.extend(samples.iter().map(|s| (!is_stale_nan(s.v)).then_some(s.v)));
    }
    out
}

fn group<'a>(source: &'a str, targets: &'a [Labels], labels: &'a Labels) -> DiscoveredGroup<'a> {
    DiscoveredGroup {
        source,
        targets,
        labels,
    }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sync_starts_keeps_and_stops_loops() {
    let server = TestServer::start(Reply::text("a 1\n")).await;
    let mut opts = ScrapeOptions::new("pool");
    opts.interval = Duration::from_millis(200);
    opts.timeout = Duration::from_millis(100);
    opts.relabel_configs =
        serde_yaml_ng::from_str("- {source_labels: [env], regex: dev, action: drop}\n").unwrap();
    let db = MemStorage::new();
    let mut pool = ScrapePool::new(opts, Arc::new(db.clone()), HttpClient::new().unwrap(), 0);

    let good = Labels::from_pairs(&[("__address__", server.addr.as_str())]);
    let dev = Labels::from_pairs(&[("__address__", "dev:1"), ("env", "dev")]);
    let bad = Labels::from_pairs(&[("__address__", "http://x/y")]);
    let env = Labels::from_pairs(&[("env", "prod")]);
    let targets = [good.clone(), dev, bad, good.clone()];
    let errors = pool.sync(&[group("static/0", &targets, &env)]);
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [r#"instance 2 in group static/0: "http://x/y" is not a valid hostname"#]
    );
    let active = pool.active_targets();
    assert_eq!(active.len(), 1, "a target listed twice gets one loop");
    assert_eq!(
        active[0].labels().get("env"),
        Some("prod"),
        "group labels apply"
    );
    assert_eq!(pool.dropped_targets().len(), 1);
    assert_eq!(pool.dropped_targets()[0].get("env"), Some("dev"));
    wait_for("two scrapes", || values(&db, "a").len() >= 2).await;

    // The same target again: its loop keeps running.
    pool.sync(&[group("static/0", &[good], &env)]);
    assert!(Arc::ptr_eq(&active[0], &pool.active_targets()[0]));

    // Gone: the loop stops and marks its series stale.
    pool.sync(&[]);
    assert!(pool.active_targets().is_empty());
    wait_for("stale markers", || values(&db, "a").last() == Some(&None)).await;
    wait_for("stale up", || values(&db, "up").last() == Some(&None)).await;
    pool.shutdown().await;
}

#[tokio::test]
async fn shutdown_cancels_pending_stale_markers() {
    let server = TestServer::start(Reply::text("a 1\n")).await;
    let mut opts = ScrapeOptions::new("pool");
    opts.interval = Duration::from_millis(300);
    opts.timeout = Duration::from_millis(100);
    let db = MemStorage::new();
    let mut pool = ScrapePool::new(opts, Arc::new(db.clone()), HttpClient::new().unwrap(), 0);
    let target = [Labels::from_pairs(&[("__address__", server.addr.as_str())])];
    pool.sync(&[group("g", &target, &Labels::empty())]);
    wait_for("a scrape", || !values(&db, "a").is_empty()).await;
    pool.sync(&[]);
    pool.shutdown().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        values(&db, "a").iter().all(Option::is_some),
        "{:?}",
        values(&db, "a")
    );
}

#[tokio::test]
async fn over_the_target_limit_every_target_fails_with_the_reason() {
    let a = TestServer::start(Reply::text("a 1\n")).await;
    let b = TestServer::start(Reply::text("a 1\n")).await;
    let mut opts = ScrapeOptions::new("limited");
    opts.interval = Duration::from_millis(100);
    opts.timeout = Duration::from_millis(80);
    opts.target_limit = 1;
    opts.keep_dropped_targets = 1;
    opts.relabel_configs =
        serde_yaml_ng::from_str("- {source_labels: [env], regex: dev, action: drop}\n").unwrap();
    let db = MemStorage::new();
    let mut pool = ScrapePool::new(opts, Arc::new(db.clone()), HttpClient::new().unwrap(), 0);
    let one = Labels::from_pairs(&[("__address__", a.addr.as_str())]);
    let two = Labels::from_pairs(&[("__address__", b.addr.as_str())]);
    let dev1 = Labels::from_pairs(&[("__address__", "dev:1"), ("env", "dev")]);
    let dev2 = Labels::from_pairs(&[("__address__", "dev:2"), ("env", "dev")]);

    // Within the limit: scraped.
    pool.sync(&[group("g", std::slice::from_ref(&one), &Labels::empty())]);
    assert_eq!(pool.target_limit_error(), None);
    wait_for("a scrape", || values(&db, "a").contains(&Some(1.0))).await;

    // Two targets for a limit of one: both fail with Prometheus's text, no
    // sample is scraped, the earlier series go stale and `up` is 0.
    let targets = [one.clone(), two, dev1, dev2];
    pool.sync(&[group("g", &targets, &Labels::empty())]);
    let reason = "target_limit exceeded (number of targets: 2, limit: 1)";
    assert_eq!(pool.target_limit_error().as_deref(), Some(reason));
    assert_eq!(pool.dropped_targets().len(), 1, "keep_dropped_targets: 1");
    wait_for("both targets down", || {
        pool.active_targets()
            .iter()
            .all(|t| t.state().last_error.as_deref() == Some(reason))
    })
    .await;
    wait_for("stale markers", || values(&db, "a").last() == Some(&None)).await;
    wait_for("up 0", || values(&db, "up").last() == Some(&Some(0.0))).await;

    // Back under the limit: scraping resumes.
    pool.sync(&[group("g", &[one], &Labels::empty())]);
    assert_eq!(pool.target_limit_error(), None);
    wait_for("scraping again", || {
        values(&db, "a").last() == Some(&Some(1.0))
    })
    .await;
    pool.shutdown().await;
}
