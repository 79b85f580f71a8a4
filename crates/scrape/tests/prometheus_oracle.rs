//! Differential test: the same sequence of bodies scraped by the reference
//! Prometheus and by pharos's loop, then the stored series compared —
//! label sets, values in order, stale markers (as NaN: promtool prints every
//! NaN alike) and explicit timestamps. Scrape timestamps differ and are not
//! compared; neither are `scrape_duration_seconds` values.
//!
//! Five jobs: metric relabeling with `honor_labels: false` (`exported_`
//! renames), `honor_labels: true`, `sample_limit`, `honor_timestamps:
//! false`, and OpenMetrics bodies (`_created`, info, stateset, a missing
//! `# EOF`).

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
    ]
}

/// The bodies served in turn; `None` answers 500.
fn bodies(now_ms: i64) -> Vec<Option<String>> {
    let (t0, t1) = (now_ms - 60_000, now_ms - 59_000);
    vec![
        Some(format!(
            "# TYPE a counter\na_total 1\nb{{x=\"1\"}} 2\nc{{job=\"exp\",instance=\"inst\"}} 3\nd 4 {t0}\ndrop_me 1\n"
        )),
        Some(format!(
            "a_total 2\nb{{x=\"2\"}} 3\nc{{job=\"exp\",instance=\"inst\"}} 4\nd 5 {t1}\ndrop_me 2\n"
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
    metric_relabel_configs: Vec<relabel::RelabelConfig>,
}

fn yes() -> bool {
    true
}

/// Drops the values of `scrape_duration_seconds` (they differ by nature)
/// and every timestamp but those the bodies set.
fn comparable(dump: Dump, explicit: &[i64]) -> BTreeMap<String, Vec<String>> {
    dump.into_iter()
        .map(|(k, v)| {
            let vals = if k.contains("\"scrape_duration_seconds\"") {
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
    let text_bodies = bodies(now_ms);
    // OpenMetrics timestamps are seconds; a whole second keeps them exact.
    let now_s = (now_ms / 1000) as f64;
    let om_bodies = openmetrics_bodies(now_s);
    let bodies_of = |job: &str| {
        if job == "openmetrics" {
            &om_bodies
        } else {
            &text_bodies
        }
    };
    let explicit = [now_ms - 60_000, now_ms - 59_000, now_ms / 1000 * 1000];
    let server = TestServer::start(Reply::text("")).await;
    let jobs: Vec<Job> = serde_yaml_ng::from_str(JOBS).unwrap();
    for j in &jobs {
        let om = j.job_name == "openmetrics";
        let replies = replies(bodies_of(&j.job_name), om);
        server.set_sequence(&format!("/prom/{}", j.job_name), replies.clone());
        server.set_sequence(&format!("/pharos/{}", j.job_name), replies);
    }

    // The reference: one job per variant, scraping every second.
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (j, text) in jobs.iter().zip(JOBS.split("  - job_name: ").skip(1)) {
        config.push_str(&format!("  - job_name: {text}"));
        config.push_str(&format!(
            "    metrics_path: /prom/{}\n    static_configs: [{{targets: ['{}']}}]\n",
            j.job_name, server.addr
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

    // pharos, meanwhile, scrapes the same sequence.
    let client = HttpClient::new().unwrap();
    let mut ours = BTreeMap::new();
    for j in &jobs {
        let mut opts = ScrapeOptions::new(&j.job_name);
        opts.interval = Duration::from_secs(1);
        opts.timeout = Duration::from_secs(1);
        opts.metrics_path = format!("/pharos/{}", j.job_name);
        opts.honor_labels = j.honor_labels;
        opts.honor_timestamps = j.honor_timestamps;
        opts.sample_limit = j.sample_limit;
        opts.metric_relabel_configs = j.metric_relabel_configs.clone();
        let target = Target::new(
            &Labels::from_pairs(&[("__address__", server.addr.as_str())]),
            &opts,
        )
        .unwrap()
        .unwrap();
        let db = MemStorage::new();
        let mut sl = ScrapeLoop::new(Arc::new(target), &opts, Arc::new(db.clone()), &client);
        for i in 0..bodies_of(&j.job_name).len() {
            sl.scrape_once(UNIX_EPOCH + Duration::from_millis((now_ms + 1000 * i as i64) as u64))
                .await;
        }
        ours.extend(testkit::dump_queryable(&db));
    }

    // Once every job of the reference asked for one body more than there
    // are, it has stored them all; kill it as a crash would.
    let deadline = Instant::now() + Duration::from_secs(25);
    while jobs
        .iter()
        .any(|j| server.count(&format!("/prom/{}", j.job_name)) <= bodies_of(&j.job_name).len())
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
    let theirs = testkit::parse_promtool_dump(&String::from_utf8_lossy(&out.stdout));

    let theirs = comparable(theirs, &explicit);
    let ours = comparable(ours, &explicit);
    // Every job stored something, so the comparison below is not vacuous.
    for j in &jobs {
        let job = format!("job=\"{}\"", j.job_name);
        assert!(
            theirs
                .keys()
                .filter(|k| k.contains(&job) && !k.contains("scrape_") && !k.contains("\"up\""))
                .count()
                >= 2,
            "the reference stored little of job {}: {theirs:?}",
            j.job_name
        );
    }
    let render = |m: &BTreeMap<String, Vec<String>>| {
        m.iter()
            .map(|(k, v)| format!("{k} {}\n", v.join(" ")))
            .collect::<String>()
    };
    assert_eq!(render(&ours), render(&theirs));
}
