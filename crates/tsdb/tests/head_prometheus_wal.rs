//! The head and Prometheus (Debian's 2.42 at `/usr/bin/prometheus`) read
//! each other's WAL:
//!
//! - Prometheus scrapes itself for a few seconds and is killed with SIGKILL
//!   (so the WAL is left as a crash leaves it); the head must replay its
//!   `wal/` with exactly the samples `promtool tsdb dump` reads from the same
//!   directory.
//! - The head logs appends (stale markers, many chunks, a rollback) and is
//!   dropped without closing; `promtool tsdb dump` must read back exactly
//!   what the head's querier returns.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::Dump;

use model::{Labels, STALE_NAN};
use storage::Appendable;
use tsdb::head::{Head, HeadOptions};
use tsdb::wal::WalOptions;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

fn promtool_dump(data: &Path) -> Dump {
    let out = Command::new(PROMTOOL)
        .arg("tsdb")
        .arg("dump")
        .arg(data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool tsdb dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    testkit::parse_promtool_dump(&String::from_utf8_lossy(&out.stdout))
}

/// Runs Prometheus against `data` until its WAL holds a few scrapes, then
/// kills it with SIGKILL.
fn run_prometheus(dir: &Path, data: &Path) {
    let port = testkit::free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    \
             static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("write config");
    let mut child = Command::new(PROMETHEUS)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    // Five scrapes at 1s, plus start-up time on a busy machine.
    let wal = data.join("wal");
    let start = Instant::now();
    let mut grown_at = None;
    while start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(250));
        let bytes: u64 = std::fs::read_dir(&wal)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if bytes > 0 && grown_at.is_none() {
            grown_at = Some(Instant::now());
        }
        if grown_at.is_some_and(|g| g.elapsed() > Duration::from_secs(6)) {
            break;
        }
    }
    child.kill().expect("SIGKILL prometheus");
    child.wait().expect("reap prometheus");
    assert!(
        grown_at.is_some(),
        "prometheus wrote no WAL within a minute"
    );
}

#[test]
fn replays_a_wal_written_by_prometheus() {
    if testkit::reference("prometheus").is_none() || testkit::reference("promtool").is_none() {
        eprintln!("skipped: {PROMETHEUS} or {PROMTOOL} is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    run_prometheus(dir.path(), &data);

    // What Prometheus's own code reads from the directory, before the head
    // touches it (opening repairs and starts a new segment).
    let want = promtool_dump(&data);

    let (head, stats) = Head::open(
        HeadOptions::default(),
        &data.join("wal"),
        WalOptions::default(),
    )
    .expect("replay Prometheus's WAL");
    eprintln!("{stats:?}");
    assert!(stats.series > 100, "{stats:?}");
    assert!(
        stats.samples > stats.series * 2,
        "several scrapes: {stats:?}"
    );
    assert_eq!(stats.samples_unknown_series, 0, "{stats:?}");
    assert_eq!(stats.undecodable, 0, "{stats:?}");
    let got = testkit::dump_queryable(&head);
    assert!(
        got.keys().any(|k| k.starts_with("{__name__=\"up\"")),
        "the scrape's up series"
    );
    assert_eq!(got.len(), want.len(), "series count");
    for (labels, samples) in &want {
        assert_eq!(got.get(labels), Some(samples), "samples of {labels}");
    }
}

#[test]
fn prometheus_reads_the_wal_the_head_wrote() {
    if testkit::reference("promtool").is_none() {
        eprintln!("skipped: {PROMTOOL} is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (head, _) = Head::open(
        HeadOptions::default(),
        &data.join("wal"),
        WalOptions::default(),
    )
    .expect("open head");
    // Timestamps near now, so promtool's head accepts them as recent.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let start = now - 30 * 60 * 1000;
    let mut app = head.appender();
    let mut refs = vec![None; 20];
    for step in 0..300i64 {
        for (i, r) in refs.iter_mut().enumerate() {
            let l = Labels::from_pairs(&[
                ("__name__", "pharos_test"),
                ("i", &i.to_string()),
                ("job", "head"),
            ]);
            let v = match (i, step % 50) {
                (0, 49) => STALE_NAN,
                _ => (step * i as i64) as f64 / 7.0,
            };
            *r = Some(app.append(*r, &l, start + step * 5_000, v).expect("append"));
        }
        app.commit().expect("commit");
    }
    // Rolled back: in neither reader.
    let gone = Labels::from_pairs(&[("__name__", "pharos_rolled_back")]);
    app.append(None, &gone, now, 1.0).expect("append");
    app.rollback().expect("rollback");
    drop(app);
    let want = testkit::dump_queryable(&head);
    drop(head);

    let got = promtool_dump(&data);
    assert_eq!(got.len(), 20, "series count");
    assert_eq!(got, want);
}
