//! Requests per second through the web config gate (basic auth with the
//! bcrypt cache warm, configured headers) over one keep-alive connection,
//! for pharos and, when installed, the reference Prometheus with the same
//! web config. Short and bounded: a fixed number of requests to loopback.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use web::{management_router, ManagementState, Readiness, Server};

const REQUESTS: u32 = 3000;

async fn rate(client: &reqwest::Client, url: &str) -> f64 {
    // Warm up: the connection and the bcrypt cache.
    for _ in 0..20 {
        let _ = client
            .get(url)
            .basic_auth("alice", Some("secret"))
            .send()
            .await;
    }
    let start = Instant::now();
    for _ in 0..REQUESTS {
        let r = client
            .get(url)
            .basic_auth("alice", Some("secret"))
            .send()
            .await
            .expect("request failed");
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
    }
    f64::from(REQUESTS) / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web_config = dir.path().join("web.yml");
    let hash = bcrypt::hash("secret", 10).expect("bcrypt");
    std::fs::write(
        &web_config,
        format!("http_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  alice: {hash}\n"),
    )
    .expect("write web config");
    let client = reqwest::Client::new();

    let readiness = Readiness::new();
    readiness.set_ready();
    let (state, _events) = ManagementState::new(readiness, false);
    let server = Server::bind(&["127.0.0.1:0"], Some(&web_config))
        .await
        .expect("bind");
    let addr = server.local_addrs()[0];
    tokio::spawn(server.serve(management_router(state), std::future::pending()));
    let ours = rate(&client, &format!("http://{addr}/-/healthy")).await;
    println!("pharos:     {ours:>8.0} requests/s (basic auth, cached bcrypt, 1 connection)");

    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let port = testkit::free_port();
    std::fs::write(dir.path().join("p.yml"), "global: {}\n").expect("write config");
    let mut child = Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.path().join("p.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--web.config.file={}", web_config.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let url = format!("http://127.0.0.1:{port}/-/healthy");
    let start = Instant::now();
    while client.get(&url).send().await.is_err() && start.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let theirs = rate(&client, &url).await;
    println!("prometheus: {theirs:>8.0} requests/s (same web config)");
    let _ = child.kill();
    let _ = child.wait();
}
