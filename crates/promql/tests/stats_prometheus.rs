//! Query statistics against the reference Prometheus: the same data, the
//! same queries, `stats=all`. `totalQueryableSamples` must be equal. Peaks
//! differ by design (see the engine's module doc): we also count the
//! samples decoded into the selector cache, and in a range query we hold one
//! step of each intermediate node where Prometheus holds every step. So an
//! instant query's peak is never below Prometheus's, and a range query's is
//! within a small factor of it either way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use model::Labels;
use promql::engine::{Engine, QueryStats};
use storage::{Appendable, MemStorage};

/// `foo{i="0"}` … `foo{i="9"}`: a sample every 10s from 3s to 993s, so no
/// window edge of the queries below falls on a sample (Debian's Prometheus
/// 2.42 closes ranges on the left, 3.x opens them).
fn samples() -> impl Iterator<Item = (usize, i64, f64)> {
    (0..100i64).flat_map(|k| (0..10).map(move |i| (i, 3_000 + k * 10_000, k as f64)))
}

fn ours() -> MemStorage {
    let db = MemStorage::new();
    {
        let mut app = db.appender();
        for (i, t, v) in samples() {
            let l = Labels::from_pairs(&[("__name__", "foo"), ("i", &i.to_string())]);
            app.append(None, &l, t, v).expect("append");
        }
        app.commit().expect("commit");
    }
    db
}

/// Kills the reference server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The reference Prometheus serving the same samples from a block made by
/// promtool, and its port.
fn theirs(dir: &std::path::Path) -> Option<(Server, u16)> {
    let prometheus = testkit::reference("prometheus")?;
    let promtool = testkit::reference("promtool")?;
    let mut om = String::from("# TYPE foo gauge\n");
    for (i, t, v) in samples() {
        om.push_str(&format!("foo{{i=\"{i}\"}} {v} {}\n", t / 1000));
    }
    om.push_str("# EOF\n");
    let (text, data) = (dir.join("om.txt"), dir.join("data"));
    std::fs::write(&text, om).expect("write");
    let st = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&text)
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .expect("promtool");
    assert!(st.success(), "promtool failed");
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").expect("config");
    let port = testkit::free_port();
    let child = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let server = Server(child);
    let began = Instant::now();
    while get(port, "/-/ready").is_none_or(|r| !r.contains("Ready")) {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "prometheus not ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((server, port))
}

/// The body of `GET path`, if the server answered.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prometheus's sample statistics of a query (range when `step` is given).
fn their_stats(port: u16, q: &str, range: Option<(i64, i64, i64)>) -> QueryStats {
    let path = match range {
        None => format!("/api/v1/query?stats=all&time=990&query={}", encode(q)),
        Some((s, e, st)) => format!(
            "/api/v1/query_range?stats=all&start={s}&end={e}&step={st}&query={}",
            encode(q)
        ),
    };
    let body = get(port, &path).expect("answer");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let s = &v["data"]["stats"]["samples"];
    QueryStats {
        total_samples: s["totalQueryableSamples"].as_u64().expect("total"),
        peak_samples: s["peakSamples"].as_u64().expect("peak"),
    }
}

#[test]
fn totals_match_prometheus_and_peaks_are_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((_server, port)) = theirs(dir.path()) else {
        return;
    };
    let (db, e) = (ours(), Engine::default());
    // Subqueries are left out: Prometheus 2.42 counts their totals
    // differently from 3.x (whose way `engine/limits.rs` follows).
    for q in [
        "foo",
        "sum(foo)",
        "rate(foo[1m])",
        "sum by (i) (rate(foo[1m])) / on (i) foo",
        "max_over_time(foo[3m]) - min_over_time(foo[3m])",
        "topk(3, foo)",
    ] {
        let expr = promql::parse(q).expect("parse");
        let mine = e.instant_query(&db, &expr, 990_000).expect("instant").stats;
        let want = their_stats(port, q, None);
        assert_eq!(mine.total_samples, want.total_samples, "instant {q}");
        assert!(
            mine.peak_samples >= want.peak_samples,
            "instant {q}: {mine:?}, prometheus {want:?}"
        );
        let mine = e
            .range_query(&db, &expr, 5_000, 985_000, 10_000)
            .expect("range")
            .stats;
        let want = their_stats(port, q, Some((5, 985, 10)));
        assert_eq!(mine.total_samples, want.total_samples, "range {q}");
        let ratio = mine.peak_samples as f64 / want.peak_samples as f64;
        assert!(
            (0.5..=4.0).contains(&ratio),
            "range {q}: {mine:?}, prometheus {want:?}"
        );
    }
}
