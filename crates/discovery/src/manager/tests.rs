use std::time::Instant;

use model::Labels;

use super::*;
use crate::DiscoveryFuture;

/// A provider that forwards what the test sends it.
struct Scripted(mpsc::Receiver<Vec<TargetGroup>>);

impl Discoverer for Scripted {
    fn run(mut self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        Box::pin(async move {
            while let Some(u) = self.0.recv().await {
                if tx.send(u).await.is_err() {
                    return;
                }
            }
        })
    }
}

fn group(source: &str, addrs: &[&str]) -> TargetGroup {
    TargetGroup {
        source: source.to_owned(),
        targets: addrs
            .iter()
            .map(|a| Labels::from_pairs(&[("__address__", *a)]))
            .collect(),
        labels: Labels::empty(),
    }
}

fn summary(groups: &[TargetGroup]) -> Vec<String> {
    groups
        .iter()
        .map(|g| {
            let addrs: Vec<&str> = g
                .targets
                .iter()
                .map(|t| t.get_or_empty("__address__"))
                .collect();
            format!("{}={}", g.source, addrs.join(","))
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn sends_at_most_once_per_interval_and_only_after_a_change() {
    let options = ManagerOptions::default();
    let stats = Arc::clone(&options.stats);
    let (m, mut rx) = DiscoveryManager::new(options);
    let m = Arc::new(m);
    let (script, from_test) = mpsc::channel(8);
    m.add_provider("job", Box::new(Scripted(from_test)));
    let runner = tokio::spawn({
        let m = Arc::clone(&m);
        async move { m.run(std::future::pending()).await }
    });
    let start = tokio::time::Instant::now();
    script.send(vec![group("a", &["x:1"])]).await.unwrap();
    script
        .send(vec![group("a", &["y:1"]), group("b", &["z:1"])])
        .await
        .unwrap();
    script.send(vec![group("c", &["w:1"])]).await.unwrap();

    let got = rx.recv().await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5),
        "the first tick sends"
    );
    assert_eq!(summary(&got["job"]), ["a=y:1", "b=z:1", "c=w:1"]);
    assert_eq!(SdStats::get(&stats.received_updates), 3);

    // Nothing changed: no send.
    assert!(tokio::time::timeout(Duration::from_secs(12), rx.recv())
        .await
        .is_err());

    // An empty group removes its source.
    script.send(vec![group("a", &[])]).await.unwrap();
    let got = rx.recv().await.unwrap();
    assert_eq!(summary(&got["job"]), ["b=z:1", "c=w:1"]);

    // A consumer that does not take its sends delays the next one.
    script.send(vec![group("d", &["v:1"])]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    script.send(vec![group("e", &["u:1"])]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(SdStats::get(&stats.delayed_updates), 1);
    assert_eq!(summary(&rx.recv().await.unwrap()["job"]).len(), 3);
    assert_eq!(
        summary(&rx.recv().await.unwrap()["job"]).len(),
        4,
        "the delayed send follows"
    );
    assert_eq!(
        stats.discovered_targets.lock().unwrap().get("job"),
        Some(&4)
    );
    runner.abort();
}

fn jobs(yaml: &str) -> HashMap<String, ServiceDiscoveryConfigs> {
    config::load_str(yaml, "p.yml")
        .unwrap()
        .scrape_configs
        .into_iter()
        .map(|s| (s.job_name, s.service_discovery))
        .collect()
}

/// Receives until `done` holds for a send; fails after 10 s.
async fn until(
    rx: &mut mpsc::Receiver<TargetsByJob>,
    done: impl Fn(&TargetsByJob) -> bool,
) -> TargetsByJob {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let got = tokio::time::timeout(left, rx.recv())
            .await
            .expect("no matching send within 10 s")
            .expect("manager stopped");
        if done(&got) {
            return got;
        }
    }
}

#[tokio::test]
async fn shares_equal_configs_and_keeps_unchanged_providers_on_reload() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    std::fs::write(&file, r#"[{"targets": ["f:1"]}]"#).unwrap();
    let file_sd = format!(
        "file_sd_configs: [{{files: ['{}/*.json']}}]",
        dir.path().display()
    );
    let first = format!(
        "scrape_configs:\n\
         - {{job_name: j1, static_configs: [{{targets: ['s:1']}}], {file_sd}}}\n\
         - {{job_name: j2, static_configs: [{{targets: ['s:1']}}]}}\n\
         - {{job_name: j3}}\n"
    );
    let options = ManagerOptions {
        update_interval: Duration::from_millis(50),
        ..ManagerOptions::default()
    };
    let (m, mut rx) = DiscoveryManager::new(options);
    let m = Arc::new(m);
    m.apply_config(jobs(&first)).await.unwrap();
    let runner = tokio::spawn({
        let m = Arc::clone(&m);
        async move { m.run(std::future::pending()).await }
    });
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        m.providers(),
        [
            ("file/1".to_owned(), names(&["j1"])),
            ("static/0".to_owned(), names(&["j1", "j2"])),
            ("static/2".to_owned(), names(&["j3"])),
        ]
    );
    let file_source = format!("{}:0", file.display());
    let got = until(&mut rx, |g| g.get("j1").is_some_and(|gs| gs.len() == 2)).await;
    let mut j1 = summary(&got["j1"]);
    j1.sort();
    assert_eq!(j1, [format!("{file_source}=f:1"), "0=s:1".to_owned()]);
    assert_eq!(summary(&got["j2"]), ["0=s:1"]);
    assert_eq!(got["j3"], [], "a job without discovery still appears");

    // j2 and j3 go; j4 joins the running file provider and gets its groups
    // at once, although the file provider will not send again.
    let second = format!(
        "scrape_configs:\n\
         - {{job_name: j1, static_configs: [{{targets: ['s:1']}}], {file_sd}}}\n\
         - {{job_name: j4, {file_sd}}}\n"
    );
    m.apply_config(jobs(&second)).await.unwrap();
    assert_eq!(
        m.providers(),
        [
            ("file/1".to_owned(), names(&["j1", "j4"])),
            ("static/0".to_owned(), names(&["j1"])),
        ]
    );
    let got = until(&mut rx, |g| g.contains_key("j4")).await;
    assert_eq!(summary(&got["j4"]), [format!("{file_source}=f:1")]);
    assert!(!got.contains_key("j2") && !got.contains_key("j3"));

    // A changed config restarts only its provider.
    let third = second.replace("s:1", "s:2");
    m.apply_config(jobs(&third)).await.unwrap();
    assert_eq!(
        m.providers(),
        [
            ("file/1".to_owned(), names(&["j1", "j4"])),
            ("static/3".to_owned(), names(&["j1"])),
        ]
    );
    let got = until(&mut rx, |g| {
        g.get("j1")
            .is_some_and(|gs| summary(gs).contains(&"0=s:2".to_owned()))
    })
    .await;
    assert_eq!(got["j1"].len(), 2);
    runner.abort();
}

#[tokio::test]
async fn refuses_discoveries_it_cannot_run_and_changes_nothing() {
    let (m, _rx) = DiscoveryManager::new(ManagerOptions::default());
    m.apply_config(jobs(
        "scrape_configs:\n- {job_name: ok, static_configs: [{targets: ['a:1']}]}\n",
    ))
    .await
    .unwrap();
    let before = m.providers();
    for (yaml, want) in [
        (
            "scrape_configs:\n- {job_name: cloud, ec2_sd_configs: [{region: eu-west-1}]}\n",
            r#"job "cloud": pharos cannot run ec2_sd_configs yet"#,
        ),
        (
            "scrape_configs:\n- {job_name: k, kubernetes_sd_configs: [{role: pod, api_server: 'http://k/', oauth2: {client_id: a, token_url: 'http://t/'}}]}\n",
            r#"job "k": pharos cannot run oauth2 in kubernetes_sd_configs yet"#,
        ),
        (
            "scrape_configs:\n- {job_name: h, http_sd_configs: [{url: 'http://h/', oauth2: {client_id: a, token_url: 'http://t/'}}]}\n",
            r#"job "h": pharos cannot run oauth2 in http_sd_configs yet"#,
        ),
    ] {
        let err = m.apply_config(jobs(yaml)).await.unwrap_err();
        assert_eq!(err.to_string(), want);
        assert_eq!(m.providers(), before);
    }
}

#[tokio::test]
async fn a_provider_that_cannot_start_is_counted_and_its_job_still_appears() {
    let options = ManagerOptions {
        update_interval: Duration::from_millis(50),
        ..ManagerOptions::default()
    };
    let (m, mut rx) = DiscoveryManager::new(options);
    let m = Arc::new(m);
    let yaml = "scrape_configs:\n- {job_name: h, http_sd_configs: [{url: 'https://h/', tls_config: {ca_file: /nonexistent/ca.pem}}]}\n";
    m.apply_config(jobs(yaml)).await.unwrap();
    assert_eq!(SdStats::get(&m.stats().failed_configs), 1);
    let runner = tokio::spawn({
        let m = Arc::clone(&m);
        async move { m.run(std::future::pending()).await }
    });
    let got = until(&mut rx, |g| g.contains_key("h")).await;
    assert_eq!(got["h"], []);
    runner.abort();
}
