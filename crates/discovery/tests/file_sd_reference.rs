//! File SD side by side with the reference Prometheus: both watch the same
//! files through writes, a broken file and a deletion, and must agree on
//! every target's discovered labels (Prometheus's `discoveredLabels` in
//! `/api/v1/targets`, less the labels its scrape config adds).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use config::discovery::FileSdConfig;
use discovery::file::FileDiscovery;
use discovery::{Discoverer, SdStats, TargetGroup};
use tokio::sync::mpsc;

/// Labels Prometheus adds from the scrape config before showing a target.
const FROM_SCRAPE_CONFIG: &[&str] = &[
    "job",
    "__scheme__",
    "__metrics_path__",
    "__scrape_interval__",
    "__scrape_timeout__",
];

type Target = BTreeMap<String, String>;

/// A change to the files, named for the failure message.
type Step<'a> = (&'a str, Box<dyn Fn() + 'a>);

struct Reference(Child);

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The targets as Prometheus shows them.
async fn reference_targets(client: &reqwest::Client, port: u16) -> Option<BTreeSet<Target>> {
    let url = format!("http://127.0.0.1:{port}/api/v1/targets?state=active");
    let bytes = client.get(url).send().await.ok()?.bytes().await.ok()?;
    let body: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let active = body["data"]["activeTargets"].as_array()?;
    Some(
        active
            .iter()
            .filter_map(|t| t["discoveredLabels"].as_object())
            .map(|l| {
                l.iter()
                    .filter(|(k, _)| !FROM_SCRAPE_CONFIG.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .collect(),
    )
}

/// Our targets: each target's labels over its group's, as a consumer sees
/// them after applying every update.
#[derive(Default)]
struct Ours(BTreeMap<String, TargetGroup>);

impl Ours {
    fn drain(&mut self, rx: &mut mpsc::Receiver<Vec<TargetGroup>>) {
        while let Ok(update) = rx.try_recv() {
            for g in update {
                if g.targets.is_empty() {
                    self.0.remove(&g.source);
                } else {
                    self.0.insert(g.source.clone(), g);
                }
            }
        }
    }

    fn targets(&self) -> BTreeSet<Target> {
        let mut out = BTreeSet::new();
        for g in self.0.values() {
            for t in &g.targets {
                let mut l: Target = g
                    .labels
                    .iter()
                    .map(|l| (l.name.to_owned(), l.value.to_owned()))
                    .collect();
                l.extend(t.iter().map(|l| (l.name.to_owned(), l.value.to_owned())));
                out.insert(l);
            }
        }
        out
    }
}

fn put(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join("tmp").join(name);
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[tokio::test]
async fn file_sd_agrees_with_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sd = dir.path().join("sd");
    std::fs::create_dir_all(sd.join("tmp")).unwrap();
    put(
        &sd,
        "a.json",
        r#"[{"targets": ["127.0.0.1:1", "127.0.0.1:2"], "labels": {"env": "prod", "team": "x"}},
            {"targets": ["127.0.0.1:3"]},
            {"targets": [], "labels": {"empty": "group"}}]"#,
    );
    put(
        &sd,
        "b.yml",
        "- targets: ['127.0.0.1:4']\n  labels:\n    __meta_filepath: mine\n    __address__: ignored\n    zone: 'ü'\n",
    );
    let patterns = vec![
        format!("{}/*.json", sd.display()),
        format!("{}/*.yml", sd.display()),
    ];
    let port = testkit::free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1h\nscrape_configs:\n  - job_name: sd\n    file_sd_configs:\n      - files: ['{}', '{}']\n",
            patterns[0], patterns[1]
        ),
    )
    .unwrap();
    let _reference = Reference(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start prometheus"),
    );

    let cfg = FileSdConfig {
        files: patterns,
        ..FileSdConfig::default()
    };
    let (tx, mut rx) = mpsc::channel(16);
    let task =
        tokio::spawn(Box::new(FileDiscovery::new(&cfg, Arc::new(SdStats::default()))).run(tx));
    let client = reqwest::Client::new();
    let mut ours = Ours::default();

    // Each step changes the files, then both sides must settle on the same
    // targets within 30 s.
    let steps: Vec<Step<'_>> = vec![
        ("the first read", Box::new(|| {})),
        (
            "a rewrite and a broken file",
            Box::new(|| {
                put(
                    &sd,
                    "a.json",
                    r#"[{"targets": ["127.0.0.1:5"], "labels": {"env": "dev"}}]"#,
                );
                put(&sd, "b.yml", "- targets: ['127.0.0.1:6'\n");
            }),
        ),
        (
            "a deletion and a new file",
            Box::new(|| {
                std::fs::remove_file(sd.join("a.json")).unwrap();
                put(&sd, "c.json", r#"[{"targets": ["127.0.0.1:7"]}]"#);
            }),
        ),
    ];
    let mut last = BTreeSet::new();
    for (what, change) in steps {
        change();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            ours.drain(&mut rx);
            let theirs = reference_targets(&client, port).await;
            let mine = ours.targets();
            if theirs.as_ref() == Some(&mine) && mine != last {
                last = mine;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: no agreement within 30 s\nprometheus: {theirs:#?}\npharos: {mine:#?}"
            );
        }
    }
    assert!(
        last.iter()
            .any(|t| t.get("__address__").map(String::as_str) == Some("127.0.0.1:4")),
        "the broken file kept its targets: {last:#?}"
    );
    task.abort();
}
