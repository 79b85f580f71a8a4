//! Runs the built `pharos server` on loopback for whole-binary tests, with
//! a temporary data directory and config file, and small HTTP targets for
//! it to scrape.

#![allow(dead_code)] // Each test file uses a different part.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running `pharos server`; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    pub(crate) port: u16,
    dir: tempfile::TempDir,
    agent: ureq::Agent,
    /// An `Authorization` header value sent with every request.
    auth: Option<String>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn command(dir: &Path, port: u16, config: Option<&str>, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pharos"));
    // Relative paths in `extra` are relative to the server's directory.
    cmd.current_dir(dir)
        .arg("server")
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("log")).expect("log file"));
    if let Some(text) = config {
        let path = dir.join("prometheus.yml");
        std::fs::write(&path, text).expect("write config");
        cmd.arg(format!("--config.file={}", path.display()));
    }
    cmd
}

impl Server {
    /// Starts the server on `config` (the embedded default when `None`) and
    /// waits until `/-/ready` answers 200.
    pub(crate) fn start(config: Option<&str>, extra: &[&str]) -> Server {
        Server::start_with(config, extra, None, |_| {})
    }

    /// Starts as [`Server::start`] does, sending `auth` as the
    /// `Authorization` header, after `prepare` has put files in the
    /// server's directory.
    pub(crate) fn start_with(
        config: Option<&str>,
        extra: &[&str],
        auth: Option<String>,
        prepare: impl FnOnce(&Path),
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        prepare(dir.path());
        let port = testkit::free_port();
        let child = command(dir.path(), port, config, extra)
            .spawn()
            .expect("start pharos server");
        let mut s = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            agent: agent(),
            auth,
        };
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!("pharos server exited with {status}:\n{}", s.log());
            }
            if s.get("/-/ready").0 == 200 {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "not ready:\n{}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs the server expecting it to exit by itself within 30 s: its
    /// status and log.
    pub(crate) fn run_to_exit(config: Option<&str>, extra: &[&str]) -> (ExitStatus, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = command(dir.path(), testkit::free_port(), config, extra)
            .spawn()
            .expect("start pharos server");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
                return (status, log);
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("pharos server did not exit");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first line the server printed on stdout.
    pub(crate) fn first_stdout_line(&mut self) -> String {
        let out = self.child.stdout.as_mut().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("read stdout");
        line
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The server's `--storage.tsdb.path`.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("prometheus.yml")
    }

    pub(crate) fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write config");
    }

    fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
        match r {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    /// GET `path`: status and body (status 0 when the request failed).
    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        Self::answer(req.call())
    }

    /// GET `path` without the `Authorization` header.
    pub(crate) fn get_anonymous(&self, path: &str) -> (u16, String) {
        Self::answer(self.agent.get(format!("{}{path}", self.base)).call())
    }

    /// POST `path` with no body.
    pub(crate) fn post(&self, path: &str) -> (u16, String) {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        Self::answer(req.send_empty())
    }

    /// The value of an unlabelled metric on `/metrics`.
    pub(crate) fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics");
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    /// Sends `signal` (`HUP`, `TERM`, …) to the server.
    pub(crate) fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success());
    }

    /// Waits up to 30 s for the server to exit by itself.
    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "still running:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server with SIGTERM, checks it exits 0, and returns
    /// everything its data directory holds.
    pub(crate) fn stop(&mut self) -> testkit::Dump {
        self.signal("TERM");
        let status = self.wait_exit();
        assert!(status.success(), "exit status {status}:\n{}", self.log());
        let mut db =
            tsdb::readonly::ReadOnlyDb::open(&self.dir.path().join("data")).expect("open data dir");
        db.load_head().expect("replay the WAL");
        testkit::dump_queryable(&db)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to `secs` for `cond`, panicking with `what` when it never holds.
pub(crate) fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The samples of series whose text contains every one of `parts`.
pub(crate) fn samples<'a>(
    dump: &'a testkit::Dump,
    parts: &[&str],
) -> Vec<(&'a str, &'a [(i64, u64)])> {
    dump.iter()
        .filter(|(k, _)| parts.iter().all(|p| k.contains(p)))
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect()
}

/// A loopback HTTP server answering every request with a fixed metrics
/// body, counting the requests.
pub(crate) struct Target {
    pub(crate) addr: String,
    hits: Arc<AtomicUsize>,
}

impl Target {
    pub(crate) fn serve(body: &str) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let body = body.to_owned();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(match conn.try_clone() {
                    Ok(c) => c,
                    Err(_) => continue,
                });
                // Reads the request head; the scraper sends no body.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.flush();
                let _ = conn.shutdown(std::net::Shutdown::Write);
            }
        });
        Target { addr, hits }
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A config scraping `targets` (job name, address) every second.
pub(crate) fn config(jobs: &[(&str, &str)]) -> String {
    let mut out =
        String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
    for (job, addr) in jobs {
        out.push_str(&format!(
            "  - job_name: {job}\n    static_configs:\n      - targets: ['{addr}']\n"
        ));
    }
    out
}
