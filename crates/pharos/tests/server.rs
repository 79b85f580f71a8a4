//! `pharos server` as a whole binary: start-up on the embedded default and
//! on a config, what it stores, refusal of unsupported discoveries, and a
//! real Prometheus scraped.

#[path = "common/server.rs"]
mod common;

use std::time::Duration;

use common::{config, samples, wait_until, Server, Target};

const ONE: u64 = 0x3ff0_0000_0000_0000; // 1.0f64's bits

#[test]
fn embedded_default_scrapes_itself() {
    let mut s = Server::start(None, &[]);
    let line = s.first_stdout_line();
    assert!(
        line.contains(&format!("http://127.0.0.1:{}/", s.port)) && line.contains("browser"),
        "{line}"
    );
    assert_eq!(s.get("/-/healthy").0, 200);
    assert_eq!(s.get("/-/ready").0, 200);
    let (status, index) = s.get("/");
    assert_eq!(status, 200);
    assert!(index.contains("/metrics"), "{index}");
    assert_eq!(
        s.metric("prometheus_config_last_reload_successful"),
        Some(1.0)
    );
    // Discovery sends after 5 s, the first scrape of a 15 s job comes within
    // its interval.
    wait_until("the self-scrape", 40, || {
        s.metric("prometheus_tsdb_head_series")
            .is_some_and(|n| n > 0.0)
    });
    // Without --web.enable-lifecycle the lifecycle endpoints are refused.
    assert_eq!(s.post("/-/reload").0, 403);
    assert_eq!(s.post("/-/quit").0, 403);
    let dump = s.stop();
    let instance = format!("instance=\"localhost:{}\"", s.port);
    let up = samples(&dump, &["__name__=\"up\"", "job=\"pharos\"", &instance]);
    assert_eq!(up.len(), 1, "{:?}", dump.keys().collect::<Vec<_>>());
    assert!(up[0].1.iter().all(|&(_, v)| v == ONE), "{up:?}");
    assert_eq!(
        samples(&dump, &["pharos_build_info", "job=\"pharos\""]).len(),
        1
    );
    // A clean shutdown writes no stale markers.
    let nan = f64::NAN.to_bits();
    assert!(dump.values().all(|v| v.iter().all(|&(_, x)| x != nan)));
}

#[test]
fn scraped_samples_are_in_the_data_dir_after_shutdown() {
    let target = Target::serve("# TYPE test_gauge gauge\ntest_gauge{a=\"b\"} 42\n");
    let mut s = Server::start(Some(&config(&[("t", &target.addr)])), &[]);
    // A loop scrapes, stores, then waits: the third request means the
    // second scrape is stored.
    wait_until("three scrapes", 30, || target.hits() >= 3);
    let dump = s.stop();
    let instance = format!("instance=\"{}\"", target.addr);
    let up = samples(&dump, &["__name__=\"up\"", "job=\"t\"", &instance]);
    assert_eq!(up.len(), 1, "{:?}", dump.keys().collect::<Vec<_>>());
    assert!(
        up[0].1.len() >= 2 && up[0].1.iter().all(|&(_, v)| v == ONE),
        "{up:?}"
    );
    let g = samples(&dump, &["test_gauge", "a=\"b\"", "job=\"t\"", &instance]);
    assert_eq!(g.len(), 1);
    assert!(g[0].1.iter().all(|&(_, v)| v == 42f64.to_bits()), "{g:?}");
    // Report series of Prometheus are all there.
    for name in [
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_series_added",
    ] {
        assert_eq!(
            samples(&dump, &[&format!("__name__=\"{name}\"")]).len(),
            1,
            "{name}"
        );
    }
}

#[test]
fn unsupported_discovery_refuses_to_start() {
    let cfg =
        "scrape_configs:\n  - job_name: aws\n    ec2_sd_configs:\n      - region: eu-west-1\n";
    let (status, log) = Server::run_to_exit(Some(cfg), &[]);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(
            "scrape config with job name \"aws\": ec2_sd_configs is not supported by pharos yet"
        ),
        "{log}"
    );
}

#[test]
fn invalid_config_and_web_config_refuse_to_start() {
    let (status, log) = Server::run_to_exit(Some("scrape_configs:\n  - job_name: ''\n"), &[]);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("job_name is empty"), "{log}");
    let (status, log) = Server::run_to_exit(None, &["--web.config.file=no-such-web.yml"]);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("no-such-web.yml"), "{log}");
    let (status, log) = Server::run_to_exit(None, &["--no-such.flag"]);
    assert_eq!(status.code(), Some(2), "{log}");
}

#[test]
fn quit_endpoint_with_lifecycle_stops_cleanly() {
    let mut s = Server::start(None, &["--web.enable-lifecycle"]);
    assert_eq!(s.post("/-/quit").0, 200);
    assert!(s.wait_exit().success(), "{}", s.log());
}

#[test]
fn web_config_file_asks_for_basic_auth() {
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    let web = format!("basic_auth_users:\n  admin: {hash}\n");
    // "admin:s3cret" in base64.
    let auth = Some("Basic YWRtaW46czNjcmV0".to_owned());
    let s = Server::start_with(None, &["--web.config.file=web.yml"], auth, |dir| {
        std::fs::write(dir.join("web.yml"), &web).expect("write web config");
    });
    assert_eq!(s.get("/-/healthy").0, 200);
    assert_eq!(s.get("/metrics").0, 200);
    assert_eq!(s.get_anonymous("/-/healthy").0, 401);
    assert_eq!(s.get_anonymous("/metrics").0, 401);
}

/// Debian's Prometheus 2.42, started with an empty config, is a real
/// target: its own `/metrics`.
#[test]
fn scrapes_a_real_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("p.yml"), "").expect("write config");
    let port = testkit::free_port();
    let mut child = std::process::Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.path().join("p.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start prometheus");
    let addr = format!("127.0.0.1:{port}");
    let mut s = Server::start(Some(&config(&[("prom", &addr)])), &[]);
    wait_until("prometheus_build_info to be stored", 40, || {
        // Prometheus exposes ~600 series; the head holds them once scraped.
        s.metric("prometheus_tsdb_head_series")
            .is_some_and(|n| n > 100.0)
    });
    std::thread::sleep(Duration::from_millis(300));
    let dump = s.stop();
    let _ = child.kill();
    let _ = child.wait();
    let instance = format!("instance=\"{addr}\"");
    let up = samples(&dump, &["__name__=\"up\"", "job=\"prom\"", &instance]);
    assert_eq!(up.len(), 1);
    assert!(up[0].1.iter().all(|&(_, v)| v == ONE), "{up:?}");
    let info = samples(
        &dump,
        &["__name__=\"prometheus_build_info\"", "job=\"prom\""],
    );
    assert_eq!(
        info.len(),
        1,
        "{:?}",
        dump.keys().take(20).collect::<Vec<_>>()
    );
    assert!(info[0].0.contains("version=\"2."), "{}", info[0].0);
}
