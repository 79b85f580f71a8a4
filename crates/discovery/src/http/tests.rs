use std::collections::VecDeque;
use std::sync::Mutex;

use model::Labels;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// One canned answer: status line, content type, body.
type Answer = (&'static str, &'static str, &'static str);

/// A loopback HTTP server that gives `answers` in turn (the last one
/// forever) and records each request's head.
async fn serve(answers: Vec<Answer>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sd", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let mut answers: VecDeque<Answer> = answers.into();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let (status, ct, body) = if answers.len() > 1 {
                answers.pop_front().unwrap()
            } else {
                answers[0]
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(resp.as_bytes()).await;
            let _ = conn.shutdown().await;
        }
    });
    (url, requests)
}

fn config(url: &str, extra: &str) -> HttpSdConfig {
    let text = format!(
        "scrape_configs:\n  - job_name: j\n    http_sd_configs:\n      - url: {url}\n        refresh_interval: 500ms\n{extra}"
    );
    let cfg = config::load_str(&text, "p.yml").unwrap();
    cfg.scrape_configs[0].service_discovery.http_sd_configs[0].clone()
}

async fn next(rx: &mut mpsc::Receiver<Vec<TargetGroup>>) -> Vec<TargetGroup> {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no update within 10 s")
        .expect("provider stopped")
}

fn addresses(g: &TargetGroup) -> Vec<&str> {
    g.targets
        .iter()
        .map(|t| t.get_or_empty("__address__"))
        .collect()
}

#[tokio::test]
async fn keeps_the_last_groups_through_errors_and_drops_vanished_ones() {
    let two = r#"[{"targets": ["a:1", "a:2"], "labels": {"env": "prod"}}, {"targets": ["b:1"]}]"#;
    let one = r#"[{"targets": ["c:1"], "labels": {"__meta_url": "ignored"}}]"#;
    let (url, requests) = serve(vec![
        ("200 OK", "application/json", two),
        ("500 Internal Server Error", "application/json", "oops"),
        ("200 OK", "text/plain", one),
        ("200 OK", "application/json; charset=utf-8", one),
    ])
    .await;
    let stats = Arc::new(SdStats::default());
    let d = HttpDiscovery::new(&config(&url, ""), Arc::clone(&stats)).unwrap();
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(d).run(tx));

    let first = next(&mut rx).await;
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].source, format!("{url}:0"));
    assert_eq!(addresses(&first[0]), ["a:1", "a:2"]);
    assert_eq!(
        first[0].labels,
        Labels::from_pairs(&[("env", "prod"), ("__meta_url", &url)])
    );
    assert_eq!(first[1].source, format!("{url}:1"));

    // The two failures send nothing; the next good answer has one group,
    // so group 1 is sent empty.
    let second = next(&mut rx).await;
    assert_eq!(SdStats::get(&stats.http_failures), 2);
    assert_eq!(SdStats::get(&stats.http_refresh.failures), 2);
    assert_eq!(second.len(), 2);
    assert_eq!(addresses(&second[0]), ["c:1"]);
    assert_eq!(
        second[0].labels,
        Labels::from_pairs(&[("__meta_url", &url)])
    );
    assert_eq!(second[1].source, format!("{url}:1"));
    assert!(second[1].targets.is_empty());
    task.abort();

    let head = requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("get /sd http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\naccept: application/json\r\n"), "{head}");
    assert!(
        head.contains("\r\nx-prometheus-refresh-interval-seconds: 0.5\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn sends_credentials_and_headers_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let extra = format!(
        "        basic_auth:\n          username: user\n          password_file: {}\n        http_headers:\n          X-Team:\n            values: [sre]\n",
        pw.display()
    );
    let (url, requests) = serve(vec![("200 OK", "application/json", "[]")]).await;
    let stats = Arc::new(SdStats::default());
    let d = HttpDiscovery::new(&config(&url, &extra), stats).unwrap();
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(d).run(tx));
    assert_eq!(next(&mut rx).await, []);
    task.abort();
    let head = requests.lock().unwrap()[0].to_ascii_lowercase();
    // base64("user:s3cret"): the file's trailing newline is not sent.
    assert!(
        head.contains("\r\nauthorization: basic dxnlcjpzm2nyzxq=\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nx-team: sre\r\n"), "{head}");
}

#[test]
fn json_content_types() {
    for (ct, ok) in [
        ("application/json", true),
        ("Application/JSON", true),
        (" application/json ", true),
        ("application/json; charset=utf-8", true),
        ("application/json;charset=\"UTF-8\"", true),
        ("application/json; charset=latin1", false),
        ("application/jsonx", false),
        ("text/json", false),
        ("", false),
    ] {
        assert_eq!(is_json(ct), ok, "{ct:?}");
    }
}

#[test]
fn bad_answers() {
    for (body, want) in [
        ("[null]", "nil target group item found (index 0)"),
        (r#"[{"targets": [], "bogus": 1}]"#, "unknown field `bogus`"),
        (r#"{"targets": []}"#, "cannot decode target groups"),
        (
            r#"[{"labels": {"": "x"}}]"#,
            "\"\" is not a valid label name",
        ),
    ] {
        let e = decode(body.as_bytes(), "http://h/").unwrap_err();
        assert!(e.contains(want), "{body}: {e}");
    }
    let ok = decode(br#"[{"targets": null, "labels": null}, {}]"#, "http://h/").unwrap();
    assert_eq!(ok.len(), 2);
}
