use std::collections::BTreeMap;
use std::time::Instant;

use model::Labels;

use super::*;

/// What a consumer knows after applying updates: non-empty groups by
/// source.
#[derive(Default)]
struct View(BTreeMap<String, TargetGroup>);

impl View {
    fn apply(&mut self, update: Vec<TargetGroup>) {
        for g in update {
            if g.targets.is_empty() {
                self.0.remove(&g.source);
            } else {
                self.0.insert(g.source.clone(), g);
            }
        }
    }

    /// Applies updates until `done` holds; fails after 10 s.
    async fn until(
        &mut self,
        rx: &mut mpsc::Receiver<Vec<TargetGroup>>,
        what: &str,
        done: impl Fn(&View) -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(u)) => self.apply(u),
                Ok(None) => panic!("provider stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; have {:?}", self.0.keys()),
            }
        }
    }

    fn addresses(&self, source: &str) -> Vec<String> {
        self.0.get(source).map_or_else(Vec::new, |g| {
            g.targets
                .iter()
                .map(|t| t.get_or_empty("__address__").to_owned())
                .collect()
        })
    }
}

/// Replaces a file in one step, as careful writers (and Kubernetes config
/// maps) do, so no test reads a half-written file.
fn put(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join("tmp").join(name);
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[tokio::test]
async fn follows_files_as_they_are_written_broken_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("tmp")).unwrap();
    put(
        d,
        "a.json",
        r#"[{"targets": ["a:1", "a:2"], "labels": {"env": "prod"}}, {"targets": ["a:3"]}]"#,
    );
    put(
        d,
        "b.yml",
        "- targets: ['b:1']\n  labels:\n    __meta_filepath: overridden\n",
    );
    put(d, "c.txt", "not matched");
    let stats = Arc::new(SdStats::default());
    let cfg = FileSdConfig {
        files: vec![
            format!("{}/*.json", d.display()),
            format!("{}/*.yml", d.display()),
        ],
        // Long enough that only the watch can explain the updates below.
        refresh_interval: Duration::from_secs(3600),
    };
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(FileDiscovery::new(&cfg, Arc::clone(&stats))).run(tx));
    let a = format!("{}/a.json", d.display());
    let b = format!("{}/b.yml", d.display());
    let mut view = View::default();

    view.until(&mut rx, "the first read", |v| v.0.len() == 3)
        .await;
    assert_eq!(view.addresses(&format!("{a}:0")), ["a:1", "a:2"]);
    assert_eq!(view.addresses(&format!("{a}:1")), ["a:3"]);
    assert_eq!(
        view.0[&format!("{a}:0")].labels,
        Labels::from_pairs(&[("env", "prod"), ("__meta_filepath", &a)])
    );
    assert_eq!(
        view.0[&format!("{b}:0")].labels,
        Labels::from_pairs(&[("__meta_filepath", &b)]),
        "the provider's label wins"
    );

    // Rewritten with one group fewer: group 1 is sent empty.
    put(d, "a.json", r#"[{"targets": ["a:9"]}]"#);
    view.until(&mut rx, "the rewrite", |v| {
        v.addresses(&format!("{a}:0")) == ["a:9"] && !v.0.contains_key(&format!("{a}:1"))
    })
    .await;

    // Broken: counted, and the last good groups stay.
    put(d, "a.json", r#"[{"targets": ["a:9"]"#);
    let deadline = Instant::now() + Duration::from_secs(10);
    while SdStats::get(&stats.file_read_errors) == 0 {
        assert!(Instant::now() < deadline, "the broken file was not read");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    while let Ok(u) = rx.try_recv() {
        view.apply(u);
    }
    assert_eq!(view.addresses(&format!("{a}:0")), ["a:9"]);

    // A new file in the watched directory is picked up.
    put(d, "n.json", r#"[{"targets": ["n:1"]}]"#);
    view.until(&mut rx, "the new file", |v| {
        v.0.contains_key(&format!("{}/n.json:0", d.display()))
    })
    .await;

    // Deleted: its groups are sent empty.
    std::fs::remove_file(d.join("a.json")).unwrap();
    view.until(&mut rx, "the deletion", |v| {
        !v.0.contains_key(&format!("{a}:0"))
    })
    .await;
    assert_eq!(view.addresses(&format!("{b}:0")), ["b:1"]);
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn rereads_every_refresh_interval_without_a_watch() {
    // A pattern whose directory does not exist yet cannot be watched; the
    // periodic re-read finds the file once it appears.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("later");
    let cfg = FileSdConfig {
        files: vec![format!("{}/*.yaml", sub.display())],
        refresh_interval: Duration::from_secs(60),
    };
    let stats = Arc::new(SdStats::default());
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(FileDiscovery::new(&cfg, Arc::clone(&stats))).run(tx));
    assert_eq!(
        rx.recv().await.unwrap(),
        [],
        "the first send says nothing was found"
    );
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("t.yaml"), "- targets: [x:1]\n").unwrap();
    let got = rx.recv().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].source, format!("{}/t.yaml:0", sub.display()));
    assert_eq!(SdStats::get(&stats.file_scans), 2);
    task.abort();
}

#[test]
fn watched_directories() {
    assert_eq!(watch_dir("/etc/sd/*.json"), "/etc/sd");
    assert_eq!(watch_dir("/a.json"), "/");
    assert_eq!(watch_dir("a.json"), ".");
}
