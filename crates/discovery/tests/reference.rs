//! File and HTTP SD side by side with the reference Prometheus: both watch
//! the same files (through writes, a broken file and a deletion) or poll the
//! same endpoint (through good answers and errors), and must agree on every
//! target's discovered labels (Prometheus's `discoveredLabels` in
//! `/api/v1/targets`, less the labels its scrape config adds).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use config::discovery::FileSdConfig;
use discovery::file::FileDiscovery;
use discovery::http::HttpDiscovery;
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

impl Reference {
    fn start(prometheus: &Path, dir: &Path, config: &Path, port: u16) -> Self {
        Reference(
            Command::new(prometheus)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=error")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot start prometheus"),
        )
    }
}

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
    let _reference = Reference::start(&prometheus, dir.path(), &config, port);

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

/// What the shared endpoint answers now, and who asked while it did.
#[derive(Default)]
struct Endpoint {
    answer: (&'static str, String),
    /// Requests per client since the answer last changed, by User-Agent
    /// prefix.
    asked: BTreeMap<String, usize>,
}

impl Endpoint {
    fn set(&mut self, status: &'static str, body: &str) {
        self.answer = (status, body.to_owned());
        self.asked.clear();
    }
}

/// An HTTP SD endpoint on loopback that both Prometheus and pharos poll.
async fn endpoint(state: Arc<Mutex<Endpoint>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sd", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let agent = head
                    .lines()
                    .find_map(|l| l.strip_prefix("user-agent: "))
                    .and_then(|a| a.split('/').next())
                    .unwrap_or_default()
                    .to_owned();
                let (status, body) = {
                    let mut st = state.lock().unwrap();
                    *st.asked.entry(agent).or_default() += 1;
                    st.answer.clone()
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    url
}

/// Waits until both sides have polled twice since the endpoint last
/// changed and show the same non-empty targets; fails after 30 s.
async fn agree(
    what: &str,
    ours: &mut Ours,
    rx: &mut mpsc::Receiver<Vec<TargetGroup>>,
    client: &reqwest::Client,
    port: u16,
    state: &Mutex<Endpoint>,
) -> BTreeSet<Target> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        ours.drain(rx);
        let theirs = reference_targets(client, port).await;
        let mine = ours.targets();
        let asked = state.lock().unwrap().asked.clone();
        let both = asked.get("prometheus").is_some_and(|&n| n >= 2)
            && asked.get("pharos").is_some_and(|&n| n >= 2);
        if both && theirs.as_ref() == Some(&mine) && !mine.is_empty() {
            return mine;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: no agreement within 30 s (asked {asked:?})\nprometheus: {theirs:#?}\npharos: {mine:#?}"
        );
    }
}

#[tokio::test]
async fn http_sd_agrees_with_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let state = Arc::new(Mutex::new(Endpoint::default()));
    state.lock().unwrap().set(
        "200 OK",
        r#"[{"targets": ["127.0.0.1:1", "127.0.0.1:2"], "labels": {"env": "prod", "__meta_url": "mine"}},
            {"targets": ["127.0.0.1:3"], "labels": null},
            {"targets": []}]"#,
    );
    let url = endpoint(Arc::clone(&state)).await;
    let dir = tempfile::tempdir().unwrap();
    let port = testkit::free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1h\nscrape_configs:\n  - job_name: sd\n    http_sd_configs:\n      - url: {url}\n        refresh_interval: 1s\n"
        ),
    )
    .unwrap();
    let _reference = Reference::start(&prometheus, dir.path(), &config, port);
    let text = std::fs::read_to_string(&config).unwrap();
    let cfg = config::load_str(&text, "prometheus.yml")
        .unwrap()
        .scrape_configs[0]
        .service_discovery
        .http_sd_configs[0]
        .clone();
    let d = HttpDiscovery::new(&cfg, Arc::new(SdStats::default())).unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let task = tokio::spawn(Box::new(d).run(tx));
    let client = reqwest::Client::new();
    let mut ours = Ours::default();

    let first = agree(
        "the first answer",
        &mut ours,
        &mut rx,
        &client,
        port,
        &state,
    )
    .await;
    assert_eq!(first.len(), 3);

    state.lock().unwrap().set("503 Service Unavailable", "down");
    let during_errors = agree(
        "answers that fail",
        &mut ours,
        &mut rx,
        &client,
        port,
        &state,
    )
    .await;
    assert_eq!(
        during_errors, first,
        "failed refreshes keep the last groups"
    );

    state
        .lock()
        .unwrap()
        .set("200 OK", r#"[{"targets": ["127.0.0.1:4"]}]"#);
    let last = agree(
        "a shorter answer",
        &mut ours,
        &mut rx,
        &client,
        port,
        &state,
    )
    .await;
    assert_eq!(last.len(), 1);
    task.abort();
}
