//! Replays a WAL written by the real Prometheus (Debian's 2.42 at
//! `/usr/bin/prometheus`): it scrapes itself for a few seconds, is killed
//! with SIGKILL (so the WAL is left as a crash leaves it), and the head must
//! replay its `wal/` with exactly the samples `promtool tsdb dump` reads from
//! the same directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::{MatchType, Matcher};
use storage::Queryable;
use tsdb::head::{Head, HeadOptions};
use tsdb::wal::WalOptions;

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

/// Series (as printed by Prometheus) → samples as (timestamp, value bits,
/// with every NaN folded into one, since `promtool` prints them all as NaN).
type Dump = BTreeMap<String, Vec<(i64, u64)>>;

fn fold_nan(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

/// Parses `promtool tsdb dump` lines: `{labels} value timestamp`.
fn parse_dump(text: &str) -> Dump {
    let mut out = Dump::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut parts = line.rsplitn(3, ' ');
        let (t, v, labels) = (parts.next(), parts.next(), parts.next());
        let (Some(t), Some(v), Some(labels)) = (t, v, labels) else {
            panic!("cannot parse dump line {line:?}");
        };
        let v = match v {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse()
                .unwrap_or_else(|e| panic!("value in {line:?}: {e}")),
        };
        let t: i64 = t
            .parse()
            .unwrap_or_else(|e| panic!("time in {line:?}: {e}"));
        out.entry(labels.to_owned())
            .or_default()
            .push((t, fold_nan(v)));
    }
    out
}

fn dump_head(head: &Head) -> Dump {
    let q = head.querier(i64::MIN, i64::MAX).expect("querier");
    let all = Matcher::new(MatchType::Regex, "__name__", ".+").expect("matcher");
    let mut out = Dump::new();
    for s in q.select(true, None, &[all]).expect("select") {
        let mut s = s.expect("series");
        let samples = s.collect_samples().expect("samples");
        out.insert(
            s.labels.to_string(),
            samples.iter().map(|s| (s.t, fold_nan(s.v))).collect(),
        );
    }
    out
}

/// Runs Prometheus against `data` until its WAL holds a few scrapes, then
/// kills it with SIGKILL.
fn run_prometheus(dir: &Path, data: &Path) {
    let port = free_port();
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
    if !Path::new(PROMETHEUS).exists() || !Path::new(PROMTOOL).exists() {
        eprintln!("skipped: {PROMETHEUS} or {PROMTOOL} is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    run_prometheus(dir.path(), &data);

    // What Prometheus's own code reads from the directory, before the head
    // touches it (opening repairs and starts a new segment).
    let out = Command::new(PROMTOOL)
        .arg("tsdb")
        .arg("dump")
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool tsdb dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = parse_dump(&String::from_utf8_lossy(&out.stdout));

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
    let got = dump_head(&head);
    assert!(
        got.keys().any(|k| k.starts_with("{__name__=\"up\"")),
        "the scrape's up series"
    );
    assert_eq!(got.len(), want.len(), "series count");
    for (labels, samples) in &want {
        assert_eq!(got.get(labels), Some(samples), "samples of {labels}");
    }
}
