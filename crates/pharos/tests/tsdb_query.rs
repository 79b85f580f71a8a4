//! `pharos tsdb query` against Prometheus's HTTP API on the same blocks:
//! the same JSON answers to range and instant queries.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

/// First scrape, s (a multiple of 2 h, so the data makes whole blocks).
const START: i64 = 1_700_006_400;

/// Counters and classic-histogram buckets every 15 s for 3 h, with 1–9 ms of
/// scrape jitter: never 0, so no sample sits on a range's left edge, where
/// Prometheus 2.x (closed ranges) and 3.x (left-open) differ.
fn openmetrics() -> String {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut below = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut out = String::from("# TYPE req counter\n");
    for s in 0..12 {
        let mut v = below(1000);
        for i in 0..720 {
            v += below(50);
            let job = ["a", "b"][s % 2];
            let ms = 1 + below(9);
            out.push_str(&format!(
                "req_total{{code=\"{}\",inst=\"{s}\",job=\"{job}\"}} {v} {}.{ms:03}\n",
                200 + s % 3,
                START + i * 15
            ));
        }
    }
    out.push_str("# TYPE lat histogram\n");
    for inst in 0..3 {
        let mut counts = [0u64; 4];
        for i in 0..720 {
            let ms = 1 + below(9);
            let mut add = 0;
            for (b, le) in ["0.1", "0.5", "1.0", "+Inf"].iter().enumerate() {
                add += below(10);
                counts[b] += add;
                out.push_str(&format!(
                    "lat_bucket{{inst=\"{inst}\",le=\"{le}\"}} {} {}.{ms:03}\n",
                    counts[b],
                    START + i * 15
                ));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// A GET of `path` on the server at `port`: the body.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?;
    (status == "200").then(|| body.to_owned())
}

/// The query string with `query` percent-encoded.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Series by labels, each `(t, value text)`, points before `from` dropped.
fn series(json: &str, from: f64) -> Vec<(String, Vec<(f64, String)>)> {
    let v: Value = serde_json::from_str(json).expect("answer is not JSON");
    assert_eq!(v["status"], "success", "{json}");
    let mut out: Vec<(String, Vec<(f64, String)>)> = v["data"]["result"]
        .as_array()
        .expect("no result array")
        .iter()
        .map(|s| {
            let pts: Vec<&Value> = match s.get("values") {
                Some(vs) => vs.as_array().expect("values").iter().collect(),
                None => vec![&s["value"]],
            };
            let pts = pts
                .into_iter()
                .map(|p| {
                    (
                        p[0].as_f64().expect("time"),
                        p[1].as_str().expect("value").to_owned(),
                    )
                })
                .filter(|p| p.0 >= from)
                .collect();
            (s["metric"].to_string(), pts)
        })
        .filter(|s: &(String, Vec<_>)| !s.1.is_empty())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn same(q: &str, ours: &str, theirs: &str, from: f64) {
    let (a, b) = (series(ours, from), series(theirs, from));
    assert_eq!(
        a.iter().map(|s| &s.0).collect::<Vec<_>>(),
        b.iter().map(|s| &s.0).collect::<Vec<_>>(),
        "{q}: series"
    );
    for ((name, pa), (_, pb)) in a.iter().zip(&b) {
        assert_eq!(pa.len(), pb.len(), "{q} {name}: points");
        for ((ta, va), (tb, vb)) in pa.iter().zip(pb) {
            assert_eq!(ta, tb, "{q} {name}");
            let (x, y): (f64, f64) = (va.parse().expect("value"), vb.parse().expect("value"));
            // Sums may be added in another order.
            let close = va == vb || (x - y).abs() <= 1e-9 * x.abs().max(y.abs());
            assert!(close, "{q} {name} at {ta}: {va} vs {vb}");
        }
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(bin: &Path, data: &Path, port: u16) -> Server {
    let config = data.with_extension("yml");
    std::fs::write(&config, "scrape_configs: []\n").expect("write config");
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=100y")
        .arg("--storage.tsdb.max-block-duration=2h")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cannot start prometheus");
    let server = Server(child);
    let t0 = Instant::now();
    while http_get(port, "/-/ready").is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "prometheus not ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

#[test]
fn answers_equal_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.om");
    std::fs::write(&input, openmetrics()).expect("write input");
    let pharos = env!("CARGO_BIN_EXE_pharos");
    let data = dir.path().join("data");
    let ok = Command::new(pharos)
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg(&input)
        .arg(&data)
        .status()
        .expect("run backfill");
    assert!(ok.success());
    // Prometheus gets its own copy: it may write to its directory.
    let theirs = dir.path().join("prom");
    std::fs::create_dir(&theirs).expect("mkdir");
    for e in std::fs::read_dir(&data).expect("read data") {
        let e = e.expect("entry");
        let to = theirs.join(e.file_name());
        std::fs::create_dir(&to).expect("mkdir block");
        for f in walk(&e.path()) {
            let rel = f.strip_prefix(e.path()).expect("prefix");
            std::fs::create_dir_all(to.join(rel).parent().expect("parent")).expect("mkdir");
            std::fs::copy(&f, to.join(rel)).expect("copy");
        }
    }
    let port = testkit::free_port();
    let _server = start_prometheus(&prometheus, &theirs, port);
    // 7 s off the scrape and subquery grids; from 36 min on, where no
    // window reaches the first scrape (2.x and 3.x extrapolate differently).
    let (start, end) = (START + 7, START + 3 * 3600 - 600);
    let from = (start + 36 * 60) as f64;
    for q in [
        "rate(req_total[5m])",
        "sum by (job, code) (rate(req_total[5m]))",
        "histogram_quantile(0.9, sum by (le) (rate(lat_bucket[5m])))",
        "topk(3, rate(req_total[5m]))",
        "max_over_time(rate(req_total[5m])[30m:1m])",
        "avg_over_time(req_total[10m]) / 2",
        "count by (job) (req_total)",
    ] {
        let ours = Command::new(pharos)
            .args(["tsdb", "query", "--start", &start.to_string(), "--end"])
            .args([&end.to_string(), "--step", "15s"])
            .arg(&data)
            .arg(q)
            .output()
            .expect("run query");
        assert!(
            ours.status.success(),
            "{q}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let path = format!(
            "/api/v1/query_range?query={}&start={start}&end={end}&step=15",
            encode(q)
        );
        let theirs = http_get(port, &path).expect("prometheus answers");
        same(q, &String::from_utf8_lossy(&ours.stdout), &theirs, from);

        let t = end - 123;
        let ours = Command::new(pharos)
            .args(["tsdb", "query", "--time", &t.to_string()])
            .arg(&data)
            .arg(q)
            .output()
            .expect("run query");
        let path = format!("/api/v1/query?query={}&time={t}", encode(q));
        let theirs = http_get(port, &path).expect("prometheus answers");
        same(q, &String::from_utf8_lossy(&ours.stdout), &theirs, from);
    }
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
