//! Differential test: the same sequence of bodies scraped by the reference
//! Prometheus and by pharos's loop, then the stored series compared —
//! label sets, values in order, stale markers (as NaN: promtool prints every
//! NaN alike) and explicit timestamps. Scrape timestamps differ and are not
//! compared; neither are `scrape_duration_seconds` values.
//!
//! Seven jobs: metric relabeling with `honor_labels: false` (`exported_`
//! renames), `honor_labels: true`, `sample_limit`, `honor_timestamps:
//! false`, `label_limit`, `body_size_limit`, and OpenMetrics bodies
//! (`_created`, info, stateset, a missing `# EOF`).

mod support {
    pub(crate) mod server;
}

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use model::Labels;
use scrape::{HttpClient, ScrapeLoop, ScrapeOptions, Target};
use storage::MemStorage;
use support::server::{Reply, TestServer};
use testkit::Dump;

const JOBS: &str = r#"
  - job_name: relabel
    metric_relabel_configs:
      - {source_labels: [__name__], regex: drop_me, action: drop}
      - {source_labels: [x], target_label: y, replacement: 'y_$1'}
  - job_name: honor
    honor_labels: true
  - job_name: limit
    sample_limit: 5
  - job_name: no_timestamps
    honor_timestamps: false
  - job_name: label_limit
    label_limit: 4
  - job_name: body_limit
    body_size_limit: 80B
  - job_name: openmetrics
"#;

/// The OpenMetrics bodies of job `openmetrics`; `None` answers 500.
fn openmetrics_bodies(now_s: f64) -> Vec<Option<String>> {
    let c = "# TYPE c counter\n# HELP c Things.\n";
    vec![
        Some(format!("{c}c_total 1\nc_created 1.7e9\n# TYPE g gauge\ng{{l=\"a\"}} 1.5 {now_s}\n# EOF\n")),
        Some(format!("{c}c_total{{job=\"x\"}} 2\nc_created 1.7e9\n# TYPE g gauge\ng{{l=\"b\"}} 2.5\n# EOF\n")),
        // No `# EOF`: the scrape fails.
        Some(format!("{c}c_total 3\n")),
        Some("# TYPE i info\ni_info{v=\"1\"} 1\n# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# EOF\n".to_owned()),
        Some("# TYPE s stateset\ns{s=\"a\"} 0\n# EOF\n".to_owned()),
        Some("# TYPE s stateset\ns{s=\"a\"} 1\n# EOF\n".to_owned()),
    ]
}

/// The text bodies served in turn; `None` answers 500. Under `honor`, `c`
/// exposes no `instance`, so that each job's series keep their target's
/// `instance` (the test tells the jobs' series apart by it).
fn bodies(now_ms: i64, honor: bool) -> Vec<Option<String>> {
    let (t0, t1) = (now_ms - 60_000, now_ms - 59_000);
    let inst = if honor { "" } else { ",instance=\"inst\"" };
    vec![
        Some(format!(
            "# TYPE a counter\na_total 1\nb{{x=\"1\"}} 2\nc{{job=\"exp\"{inst}}} 3\nd 4 {t0}\ndrop_me 1\n"
        )),
        Some(format!(
            "a_total 2\nb{{x=\"2\"}} 3\nc{{job=\"exp\"{inst}}} 4\nd 5 {t1}\ndrop_me 2\n"
        )),
        None,
        Some("a_total 3\nb{x=\"1\"} 5\nc{job=\"\"} 6\ndrop_me 3\n".to_owned()),
        // Over the limit of 5 in the last sample, a series the previous
        // scrape had: Prometheus 2.42 would also track a new series there,
        // which 3.x no longer does.
        Some("b{x=\"1\"} 6\nb{x=\"2\"} 7\nb{x=\"3\"} 8\nc{job=\"\"} 7\nnan_series NaN\na_total 4\n".to_owned()),
        Some("a_total 5\n".to_owned()),
    ]
}

fn replies(bodies: &[Option<String>], openmetrics: bool) -> Vec<Reply> {
    bodies
        .iter()
        .map(|b| match b {
            Some(b) if openmetrics => Reply::openmetrics(b),
            Some(b) => Reply::text(b),
            None => Reply {
                status: "500 Internal Server Error",
                ..Reply::text("down")
            },
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct Job {
    job_name: String,
    #[serde(default)]
    honor_labels: bool,
    #[serde(default = "yes")]
    honor_timestamps: bool,
    #[serde(default)]
    sample_limit: usize,
    #[serde(default)]
    label_limit: usize,
    #[serde(default)]
    body_size_limit: Option<String>,
    #[serde(default)]
    metric_relabel_configs: Vec<relabel::RelabelConfig>,
}

fn yes() -> bool {
    true
}

/// Series whose values Prometheus 3.x computes differently from the 2.42
/// reference: 2.42 advanced its scrape cache's iteration only after a
/// successful scrape, so series cached by failed scrapes survived the next
/// success and later did not count as added; 3.x (scrape.go `iterDone`)
/// advances it every scrape, as pharos does.
const KNOWN_2_42_DIFFERENCES: [&str; 2] = ["\"scrape_series_added\"", "job=\"label_limit\""];

/// Drops the values of `scrape_duration_seconds` (they differ by nature) and
/// of the known differences, and every timestamp but those the bodies set.
fn comparable(dump: Dump, explicit: &[i64]) -> BTreeMap<String, Vec<String>> {
    dump.into_iter()
        .map(|(k, v)| {
            let count_only = k.contains("\"scrape_duration_seconds\"")
                || KNOWN_2_42_DIFFERENCES.iter().all(|part| k.contains(part));
            let vals = if count_only {
                vec![format!("{} samples", v.len())]
            } else {
                v.iter()
                    .map(|(t, bits)| {
                        let val = f64::from_bits(*bits);
                        if explicit.contains(t) {
                            format!("{val}@{t}")
                        } else {
                            val.to_string()
                        }
                    })
                    .collect()
            };
            (k, vals)
        })
        .collect()
}

/// One job's scrape server and what it serves.
struct Served {
    job: Job,
    server: TestServer,
    bodies: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_series_and_values_as_prometheus() {
    let (Some(prometheus), Some(promtool)) = (
        testkit::reference("prometheus"),
        testkit::reference("promtool"),
    ) else {
        return;
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // OpenMetrics timestamps are seconds; a whole second keeps them exact.
    let explicit = [now_ms - 60_000, now_ms - 59_000, now_ms / 1000 * 1000];
    // One server per job, so that `instance` tells the jobs' series apart.
    let mut served = Vec::new();
    for job in serde_yaml_ng::from_str::<Vec<Job>>(JOBS).unwrap() {
        let om = job.job_name == "openmetrics";
        let bodies = if om {
            openmetrics_bodies((now_ms / 1000) as f64)
        } else {
            bodies(now_ms, job.honor_labels)
        };
        let server = TestServer::start(Reply::text("")).await;
        server.set_sequence("/prom", replies(&bodies, om));
        server.set_sequence("/pharos", replies(&bodies, om));
        served.push(Served {
            job,
            server,
            bodies: bodies.len(),
        });
    }

    // The reference: one job per variant, scraping every second.
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (s, text) in served.iter().zip(JOBS.split("  - job_name: ").skip(1)) {
        config.push_str(&format!("  - job_name: {text}"));
        config.push_str(&format!(
            "    metrics_path: /prom\n    static_configs: [{{targets: ['{}']}}]\n",
            s.server.addr
        ));
    }
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, &config).unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!(
            "--web.listen-address=127.0.0.1:{}",
            testkit::free_port()
        ))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start prometheus");

    // pharos, meanwhile, scrapes the same sequences.
    let client = HttpClient::new().unwrap();
    let mut ours = Dump::new();
    for s in &served {
        let j = &s.job;
        let mut opts = ScrapeOptions::new(&j.job_name);
        opts.interval = Duration::from_secs(1);
        opts.timeout = Duration::from_secs(1);
        opts.metrics_path = "/pharos".to_owned();
        opts.honor_labels = j.honor_labels;
        opts.honor_timestamps = j.honor_timestamps;
        opts.sample_limit = j.sample_limit;
        opts.label_limit = j.label_limit;
        if let Some(limit) = &j.body_size_limit {
            opts.body_size_limit = model::parse_byte_size(limit).unwrap();
        }
        opts.metric_relabel_configs = j.metric_relabel_configs.clone();
        let discovered = Labels::from_pairs(&[("__address__", s.server.addr.as_str())]);
        let target = Target::new(&discovered, &opts).unwrap().unwrap();
        let db = MemStorage::new();
        let mut sl = ScrapeLoop::new(Arc::new(target), &opts, Arc::new(db.clone()), &client);
        for i in 0..s.bodies {
            let at = UNIX_EPOCH + Duration::from_millis((now_ms + 1000 * i as i64) as u64);
            sl.scrape_once(at).await;
        }
        ours.extend(testkit::dump_queryable(&db));
    }

    // Once every job of the reference asked for one body more than there
    // are, it has stored them all; what it stores after (the hanging
    // request times out) is cut off below by time.
    let deadline = Instant::now() + Duration::from_secs(45);
    while served
        .iter()
        .any(|s| s.server.arrivals("/prom").len() <= s.bodies)
    {
        assert!(
            Instant::now() < deadline,
            "prometheus did not scrape every body in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = Command::new(&promtool)
        .args(["tsdb", "dump"])
        .arg(&data)
        .output()
        .expect("cannot run promtool");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut theirs = testkit::parse_promtool_dump(&String::from_utf8_lossy(&out.stdout));
    // Each job's last scrape of the sequence happened before half-way to
    // the next request, which hung.
    for s in &served {
        let arrivals = s.server.arrivals("/prom");
        let cutoff = (arrivals[s.bodies - 1] + arrivals[s.bodies]) / 2;
        let instance = format!("instance=\"{}\"", s.server.addr);
        for (k, v) in theirs.iter_mut() {
            if k.contains(&instance) {
                v.retain(|(t, _)| *t < cutoff);
            }
        }
    }
    theirs.retain(|_, v| !v.is_empty());

    let theirs = comparable(theirs, &explicit);
    let ours = comparable(ours, &explicit);
    // Every job stored something, so the comparison below is not vacuous.
    for s in &served {
        let job = format!("job=\"{}\"", s.job.job_name);
        let stored = theirs
            .keys()
            .filter(|k| k.contains(&job) && !k.contains("scrape_") && !k.contains("\"up\""))
            .count();
        assert!(
            stored >= 2,
            "the reference stored little of job {job}: {theirs:?}"
        );
    }
    let render = |m: &BTreeMap<String, Vec<String>>| -> Vec<String> {
        m.iter()
            .map(|(k, v)| format!("{k} {}", v.join(" ")))
            .collect()
    };
    let (ours, theirs) = (render(&ours), render(&theirs));
    let only_ours: Vec<&String> = ours.iter().filter(|l| !theirs.contains(l)).collect();
    let only_theirs: Vec<&String> = theirs.iter().filter(|l| !ours.contains(l)).collect();
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "pharos only:\n{}\nprometheus only:\n{}",
        only_ours
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        only_theirs
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
