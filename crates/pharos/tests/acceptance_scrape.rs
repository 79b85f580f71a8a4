//! Acceptance test of scraping: one `prometheus.yml` (file discovery,
//! target relabeling, metric relabeling) given to Debian's Prometheus and to
//! `pharos server`, both scraping the same real `prometheus-node-exporter`
//! at the same time. The target is then killed mid-run.
//!
//! Both data directories are read by the same readers afterwards: promtool
//! (the oracle) for the sets of stored series, and pharos's `ReadOnlyDb` for
//! the exact bits of the last samples, since promtool prints every NaN, the
//! stale marker included, as `NaN`.

#[path = "common/server.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{wait_until, Server};

/// Prometheus's staleness marker: a NaN with this exact bit pattern.
const STALE: u64 = 0x7ff0_0000_0000_0002;
const ZERO: u64 = 0;

/// The series every scrape writes about itself, which are never marked
/// stale when the target goes away.
const REPORT: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// The node exporter's collectors left out, and why: each lists objects of
/// the machine (mounts, network interfaces, neighbours, block devices) that
/// other processes create and remove while the test runs, so a series could
/// be in one server's scrape and not in the other's for reasons that have
/// nothing to do with scraping. `systemd` fails without a system bus and is
/// slow with one.
const UNSTABLE_COLLECTORS: [&str; 6] = [
    "--no-collector.filesystem",
    "--no-collector.netdev",
    "--no-collector.netclass",
    "--no-collector.arp",
    "--no-collector.diskstats",
    "--no-collector.systemd",
];

/// The configuration both servers read. `{sd}` is the discovery file.
///
/// The second discovered target is dropped by the `keep` rule: were it
/// kept, its `up` would be stored (as 0, nothing listens there).
const CONFIG: &str = r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels:
    ignored_by_storage: 'x'
scrape_configs:
  - job_name: node
    file_sd_configs:
      - files: ['{sd}']
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [env]
        regex: ci
        action: keep
      - source_labels: [__address__]
        regex: '(.+):(\d+)'
        target_label: port
        replacement: 'p$2'
      - regex: '__tag_(.+)'
        action: labelmap
      - regex: '__meta_(filepath)'
        replacement: 'sd_${1}'
        action: labelmap
      - source_labels: [team, rack]
        separator: '/'
        target_label: owner
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'node_cpu_guest_seconds_total|node_scrape_collector_.*|go_memstats_.*_bytes_total'
        action: drop
      - source_labels: [__name__, mode]
        regex: 'node_cpu_seconds_total;(idle|iowait|steal)'
        action: drop
      - source_labels: [__name__]
        regex: 'go_(.*)'
        target_label: go_metric
        replacement: '$1'
      - source_labels: [__name__]
        modulus: 4
        target_label: shard
        action: hashmod
      - regex: 'team|rack'
        action: labeldrop
"#;

/// A child process killed and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `signal` to process `pid`.
fn kill(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(ok.success(), "kill -{signal} {pid}");
}

/// Starts the node exporter on a free port: the process and its address.
fn node_exporter(binary: &Path) -> (Proc, String) {
    let addr = format!("127.0.0.1:{}", testkit::free_port());
    let child = Command::new(binary)
        .arg(format!("--web.listen-address={addr}"))
        .args(UNSTABLE_COLLECTORS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus-node-exporter");
    let p = Proc(child);
    wait_until("the node exporter to listen", 30, || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    (p, addr)
}

/// The number of successful requests the node exporter has served.
fn exporter_scrapes(addr: &str) -> Option<f64> {
    let mut r = ureq::get(format!("http://{addr}/metrics")).call().ok()?;
    let body = r.body_mut().read_to_string().ok()?;
    body.lines().find_map(|l| {
        l.strip_prefix("promhttp_metric_handler_requests_total{code=\"200\"} ")?
            .parse()
            .ok()
    })
}

/// Starts Debian's Prometheus on `config` in `dir`, and waits until it is
/// ready.
fn prometheus(binary: &Path, dir: &Path, config: &str) -> Proc {
    let cfg = dir.join("prometheus.yml");
    std::fs::write(&cfg, config).expect("write config");
    let port = testkit::free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log")).expect("log file"))
        .spawn()
        .expect("start prometheus");
    let p = Proc(child);
    wait_until("prometheus to be ready", 60, || {
        ureq::get(format!("http://127.0.0.1:{port}/-/ready"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    p
}

/// The series of data directory `data` as promtool dumps them.
fn promtool_series(promtool: &Path, data: &Path) -> BTreeSet<String> {
    let out = Command::new(promtool)
        .args(["tsdb", "dump"])
        .arg(data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool tsdb dump {}: {}",
        data.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    testkit::parse_promtool_dump(&String::from_utf8_lossy(&out.stdout))
        .into_keys()
        .collect()
}

/// Every sample of data directory `data` read by pharos, with the exact bits
/// of each value (stale markers apart from other NaNs).
fn raw_samples(data: &Path) -> BTreeMap<String, Vec<(i64, u64)>> {
    let mut db = tsdb::readonly::ReadOnlyDb::open(data).expect("open data dir");
    db.load_head().expect("replay the WAL");
    let q = storage::Queryable::querier(&db, i64::MIN, i64::MAX).expect("querier");
    let all = model::Matcher::new(model::MatchType::Regex, model::METRIC_NAME, ".+")
        .expect("a valid matcher");
    let mut out = BTreeMap::new();
    for s in q.select(true, None, &[all]).expect("select") {
        let mut s = s.expect("series");
        let samples = s.collect_samples().expect("samples");
        out.insert(
            s.labels.to_string(),
            samples.iter().map(|s| (s.t, s.v.to_bits())).collect(),
        );
    }
    out
}

fn name_of(series: &str) -> &str {
    series
        .split("__name__=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
}

/// `series` as Prometheus 3.x (pharos's target) stores it: 3.x writes the
/// `quantile` and `le` values of classic summaries and histograms scraped
/// from the text format as OpenMetrics floats (`"0"` becomes `"0.0"`),
/// where the reference 2.42 keeps the exposed text. Only a whole number
/// changes; the node exporter has no other label of these names.
fn as_3x(series: &str) -> String {
    let mut out = series.to_owned();
    for name in ["{quantile=\"", ", quantile=\"", "{le=\"", ", le=\""] {
        let Some(at) = out.find(name) else { continue };
        let start = at + name.len();
        let Some(len) = out[start..].find('"') else {
            continue;
        };
        let value = &out[start..start + len];
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            out.insert_str(start + len, ".0");
        }
    }
    out
}

/// The differences of two sets, for an assertion message.
fn diff(a: &BTreeSet<String>, b: &BTreeSet<String>) -> String {
    let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
        x.difference(y).take(20).cloned().collect::<Vec<_>>()
    };
    format!(
        "only in Prometheus: {:#?}\nonly in pharos: {:#?}",
        only(a, b),
        only(b, a)
    )
}

/// What one server stored, read after it stopped.
struct Stored {
    /// The series, as promtool lists them.
    series: BTreeSet<String>,
    /// The series whose last sample is a stale marker.
    stale: BTreeSet<String>,
    /// The timestamps of the stale markers.
    stale_at: BTreeSet<i64>,
    /// Samples of `up`, oldest first.
    up: Vec<(i64, u64)>,
}

/// Reads `data` and checks what must hold in either server's store: every
/// scraped series ends with exactly one stale marker, the report series
/// have none.
fn read(who: &str, promtool: &Path, data: &Path) -> Stored {
    let series = promtool_series(promtool, data);
    let raw = raw_samples(data);
    let raw_keys: BTreeSet<String> = raw.keys().cloned().collect();
    assert!(
        series == raw_keys,
        "{who}: promtool and pharos read different series\n{}",
        diff(&series, &raw_keys)
    );
    let mut stale = BTreeSet::new();
    let mut stale_at = BTreeSet::new();
    let mut up = Vec::new();
    for (k, v) in &raw {
        let markers = v.iter().filter(|&&(_, x)| x == STALE).count();
        if REPORT.contains(&name_of(k)) {
            assert_eq!(
                markers, 0,
                "{who}: stale marker in report series {k}: {v:?}"
            );
            if name_of(k) == "up" {
                up.clone_from(v);
            }
            continue;
        }
        assert_eq!(
            (markers, v.last().map(|s| s.1)),
            (1, Some(STALE)),
            "{who}: {k} must end with its only stale marker: {v:?}"
        );
        stale.insert(k.clone());
        stale_at.extend(v.last().map(|s| s.0));
    }
    Stored {
        series,
        stale,
        stale_at,
        up,
    }
}

/// The `up` values at the end that are 0.
fn trailing_zeros(up: &[(i64, u64)]) -> usize {
    up.iter().rev().take_while(|s| s.1 == ZERO).count()
}

#[test]
fn same_series_as_prometheus_and_stale_when_target_dies() {
    let (Some(exporter), Some(prom_bin), Some(promtool)) = (
        testkit::reference("prometheus-node-exporter"),
        testkit::reference("prometheus"),
        testkit::reference("promtool"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut exporter, addr) = node_exporter(&exporter);
    let dead = format!("127.0.0.1:{}", testkit::free_port());
    let sd = dir.path().join("targets.json");
    std::fs::write(
        &sd,
        format!(
            r#"[
  {{"targets": ["{addr}"], "labels": {{"env": "ci", "team": "infra", "__tag_rack": "r1", "__tag_zone": "z9"}}}},
  {{"targets": ["{dead}"], "labels": {{"env": "dev"}}}}
]"#
        ),
    )
    .expect("write discovery file");
    let config = CONFIG.replace("{sd}", &sd.display().to_string());

    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir(&prom_dir).expect("mkdir");
    let mut prom = prometheus(&prom_bin, &prom_dir, &config);
    let mut pharos = Server::start(Some(&config), &[]);

    // Both discover, then scrape every second. Eight scrapes in all (our
    // own polls counted out: the exporter counts a request once answered),
    // pharos having stored one, then two more intervals, leave every series
    // stored a few times by each.
    let start = Instant::now();
    let mut polls = 0.0;
    wait_until("eight scrapes of the node exporter", 40, || {
        polls += 1.0;
        exporter_scrapes(&addr).is_some_and(|n| n - (polls - 1.0) >= 8.0)
            && pharos
                .metric("prometheus_tsdb_head_series")
                .is_some_and(|n| n > 0.0)
    });
    std::thread::sleep(Duration::from_millis(2000));
    kill("KILL", exporter.0.id());
    let _ = exporter.0.wait();
    // Three more intervals with the target gone.
    std::thread::sleep(Duration::from_millis(3500));
    kill("TERM", prom.0.id());
    pharos.signal("TERM");
    let status = prom.0.wait().expect("wait for prometheus");
    let log = std::fs::read_to_string(prom_dir.join("log")).unwrap_or_default();
    assert!(status.success(), "prometheus exited with {status}:\n{log}");
    assert!(pharos.wait_exit().success(), "{}", pharos.log());
    println!("ran for {:?}", start.elapsed());

    let mut p = read("Prometheus", &promtool, &prom_dir.join("data"));
    let h = read("pharos", &promtool, &pharos.data_dir());
    p.series = p.series.iter().map(|k| as_3x(k)).collect();
    p.stale = p.stale.iter().map(|k| as_3x(k)).collect();

    // The relabeling has done something, so that the comparison means
    // something.
    let any = |part: &str| p.series.iter().any(|k| k.contains(part));
    assert!(
        any("owner=\"infra/r1\"") && any("sd_filepath=") && any("zone=\"z9\""),
        "target relabeling left no trace: {:?}",
        p.series.iter().take(5).collect::<Vec<_>>()
    );
    assert!(any("go_metric=\"goroutines\"") && any("shard=\""));
    // `labeldrop` is a metric rule: the report series keep `team`.
    let scraped_with_team = p
        .series
        .iter()
        .any(|k| !REPORT.contains(&name_of(k)) && k.contains("team="));
    assert!(!scraped_with_team && any("team=\"infra\""));
    assert!(!any("node_scrape_collector_") && !any(&dead));
    assert!(p.series.len() > 100, "{} series", p.series.len());

    assert!(
        p.series == h.series,
        "the stored series differ\n{}",
        diff(&p.series, &h.series)
    );
    assert!(
        p.stale == h.stale,
        "the series marked stale differ\n{}",
        diff(&p.stale, &h.stale)
    );
    let (zp, zh) = (trailing_zeros(&p.up), trailing_zeros(&h.up));
    assert!(
        zp >= 2 && zh >= 2 && zp.abs_diff(zh) <= 1,
        "trailing up == 0: Prometheus {zp}, pharos {zh}\n{:?}\n{:?}",
        p.up,
        h.up
    );
    // The first failed scrape marks every series stale at its own time.
    for (who, s, zeros) in [("Prometheus", &p, zp), ("pharos", &h, zh)] {
        let first_zero = s.up[s.up.len() - zeros].0;
        assert!(
            s.stale_at.len() == 1 && s.stale_at.contains(&first_zero),
            "{who}: stale markers at {:?}, first up == 0 at {first_zero}",
            s.stale_at
        );
    }
    println!(
        "{} series each, {} marked stale; up: Prometheus {} samples ({zp} zeros), pharos {} ({zh} zeros)",
        p.series.len(),
        p.stale.len(),
        p.up.len(),
        h.up.len()
    );
    // Before the kill, every scrape succeeded.
    let ok = |up: &[(i64, u64)], zeros: usize| {
        up[..up.len() - zeros].iter().all(|s| s.1 == 1f64.to_bits()) && up.len() - zeros >= 2
    };
    assert!(ok(&p.up, zp), "Prometheus up: {:?}", p.up);
    assert!(ok(&h.up, zh), "pharos up: {:?}", h.up);
}

#[test]
fn whole_quantiles_are_written_as_3x_writes_them() {
    assert_eq!(
        as_3x(r#"{__name__="s", quantile="0"}"#),
        r#"{__name__="s", quantile="0.0"}"#
    );
    assert_eq!(as_3x(r#"{le="10", x="1"}"#), r#"{le="10.0", x="1"}"#);
    for same in [
        r#"{__name__="s", quantile="0.25"}"#,
        r#"{le="+Inf"}"#,
        r#"{file="1"}"#,
    ] {
        assert_eq!(as_3x(same), same);
    }
}
