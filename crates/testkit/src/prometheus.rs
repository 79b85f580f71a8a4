//! The reference `prometheus` serving an existing data directory, and a
//! client for its query API — the oracle of differential tests.
//!
//! The server gets a configuration without scrape jobs, so it only answers
//! queries over the blocks it finds. Its compaction loop first runs a minute
//! after start, so a short test sees the blocks as written; still, give it a
//! directory of its own (it may compact or rewrite what it finds).
//!
//! HTTP goes through `ureq` (blocking, no TLS): the API answers JSON over
//! plain HTTP/1.1 on loopback, and a client that handles chunked bodies
//! and percent-encoding is not worth writing by hand.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running reference Prometheus; killed when dropped.
pub struct Prometheus {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

/// Why a query was not answered with data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Prometheus refused or failed the query: `errorType: error` from its
    /// JSON answer.
    #[error("query failed: {0}")]
    Query(String),
    /// The request itself failed (connection, unreadable answer).
    #[error("cannot ask prometheus: {0}")]
    Transport(String),
}

/// Prometheus's API form of a millisecond timestamp: seconds with three
/// decimals, so no float rounding changes the instant.
pub fn api_time(t_ms: i64) -> String {
    let sign = if t_ms < 0 { "-" } else { "" };
    let a = t_ms.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

impl Prometheus {
    /// Starts `binary` on data directory `data` (the configuration file is
    /// written beside it, as `<data>.yml`) with `extra_args` appended, and
    /// waits until `/-/ready` answers 200.
    ///
    /// # Panics
    /// When it cannot be started, exits, or is not ready within 60 s; the
    /// message carries its log.
    pub fn start(binary: &Path, data: &Path, extra_args: &[&str]) -> Prometheus {
        let port = crate::free_port();
        let config = data.with_extension("yml");
        std::fs::write(&config, "global:\n  evaluation_interval: 1m\n")
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
        let log = data.with_extension("log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .args(extra_args)
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut p = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent,
        };
        p.wait_ready(&log);
        p
    }

    fn wait_ready(&mut self, log: &Path) {
        let start = Instant::now();
        let log_text = || std::fs::read_to_string(log).unwrap_or_default();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prometheus exited with {status} before ready:\n{}",
                    log_text()
                );
            }
            let ready = self
                .agent
                .get(format!("{}/-/ready", self.base))
                .call()
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("prometheus not ready after 60 s:\n{}", log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `/api/v1/query` at `t_ms`: the answer's `data` object
    /// (`resultType`, `result`).
    pub fn query(&self, expr: &str, t_ms: i64) -> Result<serde_json::Value, QueryError> {
        self.get(
            "/api/v1/query",
            &[("query", expr.to_owned()), ("time", api_time(t_ms))],
        )
    }

    /// `/api/v1/query_range` from `start_ms` to `end_ms` every `step_ms`:
    /// the answer's `data` object.
    pub fn query_range(
        &self,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<serde_json::Value, QueryError> {
        self.get(
            "/api/v1/query_range",
            &[
                ("query", expr.to_owned()),
                ("start", api_time(start_ms)),
                ("end", api_time(end_ms)),
                ("step", api_time(step_ms)),
            ],
        )
    }

    fn get(&self, path: &str, params: &[(&str, String)]) -> Result<serde_json::Value, QueryError> {
        let transport = |e: &dyn std::fmt::Display| QueryError::Transport(format!("{path}: {e}"));
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in params {
            req = req.query(k, v);
        }
        let mut resp = req.call().map_err(|e| transport(&e))?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .map_err(|e| transport(&e))?;
        let mut json: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| transport(&format!("{e} in {body:?}")))?;
        match json.get("status").and_then(|s| s.as_str()) {
            Some("success") => Ok(json
                .get_mut("data")
                .map(serde_json::Value::take)
                .unwrap_or_default()),
            _ => Err(QueryError::Query(format!(
                "{}: {}",
                json.get("errorType")
                    .and_then(|s| s.as_str())
                    .unwrap_or("?"),
                json.get("error").and_then(|s| s.as_str()).unwrap_or(&body)
            ))),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::api_time;

    #[test]
    fn api_time_keeps_milliseconds() {
        assert_eq!(api_time(1_677_621_600_005), "1677621600.005");
        assert_eq!(api_time(0), "0.000");
        assert_eq!(api_time(-1_500), "-1.500");
    }
}
