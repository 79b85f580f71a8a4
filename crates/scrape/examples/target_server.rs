//! A fast scrape target for the scrape benchmark (`bench/scrape/`): one
//! process listening on many loopback ports, each port a target answering
//! any path with `SERIES` series in the text format.
//!
//! usage: `target_server [FIRST_PORT=20000] [TARGETS=1000] [SERIES=1000] [STATS_PORT=19999]`
//!
//! Each target's body is re-rendered at most once per second (values change
//! with wall-clock seconds, so every scrape at a 1 s or 15 s interval sees
//! new values) and shared by every scraper, so serving costs one copy of a
//! pre-rendered buffer per scrape. Label text is rendered once at start;
//! a render only formats the numbers.
//!
//! `STATS_PORT` answers with one line per `User-Agent`: the number of full
//! bodies served and the series they carried — the benchmark's count of
//! samples handed to each scraper.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One target: its fixed line prefixes and the body rendered for a second.
struct Target {
    /// Per series: everything before the value (HELP/TYPE lines included
    /// for a family's first series), and how the value moves.
    lines: Vec<(String, Kind)>,
    /// Seed that makes targets differ.
    seed: u64,
    /// The second the body was rendered for, and the body.
    cached: Mutex<(u64, Arc<Vec<u8>>)>,
}

/// How a series' value changes with the second `t`.
#[derive(Clone, Copy)]
enum Kind {
    /// A counter rising by `rate` per second.
    Counter { rate: u64 },
    /// A gauge wandering pseudo-randomly.
    Gauge,
    /// A histogram bucket (cumulative share `num/12` of the count), or the
    /// count (`num == 12`) or the sum (`num == 13`).
    Hist { num: u64 },
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

impl Target {
    fn new(index: usize, series: usize) -> Self {
        let mut lines = Vec::with_capacity(series);
        let hist_series = 70.min(series);
        let gauge_series = (series - hist_series) * 3 / 10;
        let counter_series = series - hist_series - gauge_series;
        let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
        let codes = [
            "200", "201", "204", "301", "400", "401", "403", "404", "500", "503",
        ];
        for i in 0..counter_series {
            let mut p = String::new();
            if i == 0 {
                p.push_str("# HELP bench_http_requests_total Requests served.\n# TYPE bench_http_requests_total counter\n");
            }
            let _ = write!(
                p,
                "bench_http_requests_total{{method=\"{}\",code=\"{}\",handler=\"/api/v1/handler_{}\"}} ",
                methods[i % 5],
                codes[(i / 5) % 10],
                i / 50
            );
            lines.push((
                p,
                Kind::Counter {
                    rate: 1 + (i as u64 % 7),
                },
            ));
        }
        for i in 0..gauge_series {
            let mut p = String::new();
            if i == 0 {
                p.push_str(
                    "# HELP bench_queue_length Items waiting.\n# TYPE bench_queue_length gauge\n",
                );
            }
            let _ = write!(
                p,
                "bench_queue_length{{queue=\"q{}\",shard=\"{}\"}} ",
                i / 10,
                i % 10
            );
            lines.push((p, Kind::Gauge));
        }
        let bounds = [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
        ];
        for i in 0..hist_series {
            let (h, j) = (i / 14, i % 14);
            let mut p = String::new();
            if i == 0 {
                p.push_str("# HELP bench_request_duration_seconds Request latency.\n# TYPE bench_request_duration_seconds histogram\n");
            }
            let (name, le, num) = match j {
                0..=11 => ("bucket", Some(bounds[j]), (j as u64 + 1).min(12)),
                12 => ("count", None, 12),
                _ => ("sum", None, 13),
            };
            let _ = write!(p, "bench_request_duration_seconds_{name}{{handler=\"h{h}\"");
            if let Some(le) = le {
                let _ = write!(p, ",le=\"{le}\"");
            }
            p.push_str("} ");
            lines.push((p, Kind::Hist { num }));
        }
        Target {
            lines,
            seed: mix(index as u64 + 1),
            cached: Mutex::new((u64::MAX, Arc::new(Vec::new()))),
        }
    }

    /// The body for second `t`, rendered if this is the first ask in `t`.
    fn body(&self, t: u64) -> Arc<Vec<u8>> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if cached.0 != t {
            let mut out = Vec::with_capacity(cached.1.len().max(64 * 1024));
            let count = (t % 1_000_000) * 37 + self.seed % 1000;
            for (i, (prefix, kind)) in self.lines.iter().enumerate() {
                out.extend_from_slice(prefix.as_bytes());
                match *kind {
                    Kind::Counter { rate } => {
                        let v = (self.seed >> 20) % 100_000 + (t % 10_000_000) * rate;
                        push_u64(&mut out, v);
                    }
                    Kind::Gauge => {
                        push_u64(&mut out, mix(self.seed ^ (t << 16) ^ i as u64) % 1000);
                    }
                    Kind::Hist { num } if num <= 12 => push_u64(&mut out, count * num / 12),
                    Kind::Hist { .. } => {
                        push_u64(&mut out, count / 4);
                        out.extend_from_slice(b".25");
                    }
                }
                out.push(b'\n');
            }
            *cached = (t, Arc::new(out));
        }
        Arc::clone(&cached.1)
    }
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut b = [0u8; 20];
    let mut i = b.len();
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&b[i..]);
}

/// Served bodies and series per `User-Agent`.
type Stats = Arc<Mutex<HashMap<String, (u64, u64)>>>;

fn now_second() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Answers requests on one kept-alive connection until the peer closes it.
async fn serve(mut conn: TcpStream, target: Arc<Target>, stats: Stats) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut req = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        // Read one request head (no request here has a body).
        let end = loop {
            if let Some(p) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            req.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&req[..end]).into_owned();
        req.drain(..end);
        let agent = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("user-agent")
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_default();
        let body = target.body(now_second());
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        conn.write_all(header.as_bytes()).await?;
        conn.write_all(&body).await?;
        let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
        let e = s.entry(agent).or_default();
        e.0 += 1;
        e.1 += target.lines.len() as u64;
    }
}

/// Answers every connection with the stats table, then closes it.
async fn serve_stats(listener: TcpListener, stats: Stats) {
    while let Ok((mut conn, _)) = listener.accept().await {
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf).await;
        let mut body = String::new();
        {
            let s = stats.lock().unwrap_or_else(|e| e.into_inner());
            let mut rows: Vec<_> = s.iter().collect();
            rows.sort();
            for (agent, (bodies, series)) in rows {
                let _ = writeln!(body, "agent=\"{agent}\" bodies={bodies} series={series}");
            }
        }
        let msg = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(msg.as_bytes()).await;
    }
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let first_port = arg(1, 20000) as u16;
    let targets = arg(2, 1000) as usize;
    let series = arg(3, 1000).max(70) as usize;
    let stats_port = arg(4, 19999) as u16;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stats: Stats = Arc::default();
        let stats_listener = TcpListener::bind(("127.0.0.1", stats_port)).await?;
        tokio::spawn(serve_stats(stats_listener, Arc::clone(&stats)));
        for i in 0..targets {
            let target = Arc::new(Target::new(i, series));
            let listener = TcpListener::bind(("127.0.0.1", first_port + i as u16)).await?;
            let stats = Arc::clone(&stats);
            tokio::spawn(async move {
                while let Ok((conn, _)) = listener.accept().await {
                    tokio::spawn(serve(conn, Arc::clone(&target), Arc::clone(&stats)));
                }
            });
        }
        eprintln!(
            "serving {targets} targets x {series} series on 127.0.0.1:{first_port}..{}, stats on :{stats_port}",
            first_port as usize + targets - 1
        );
        std::future::pending::<std::io::Result<()>>().await
    })
}
