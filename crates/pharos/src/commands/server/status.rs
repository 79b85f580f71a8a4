//! What the server knows about itself — the outcome of the last config
//! (re)load, the start time, the TSDB once open — and its `/metrics`
//! page, a stopgap with a handful of real figures until pharos has an
//! instrumentation crate, so the embedded default config scrapes something.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use expfmt::{FamilySample, MetricFamily};
use model::MetricType;

/// The outcome of the last config (re)load (Prometheus's
/// `prometheus_config_last_reload_*` metrics).
#[derive(Debug, Clone, Default)]
struct ReloadOutcome {
    successful: bool,
    /// When the last successful load finished, seconds since the epoch.
    last_success: f64,
}

/// The server's state, shared by the HTTP handlers and the main loop.
#[derive(Debug)]
pub(crate) struct ServerStatus {
    started: f64,
    /// Ready once the data directory is open (WAL replayed); `/-/ready`
    /// answers from it.
    readiness: web::Readiness,
    reload: Mutex<ReloadOutcome>,
    db: OnceLock<Arc<tsdb::db::Db>>,
}

impl ServerStatus {
    /// A status for a server starting now.
    pub(crate) fn new(readiness: web::Readiness) -> ServerStatus {
        ServerStatus {
            started: now_seconds(),
            readiness,
            reload: Mutex::default(),
            db: OnceLock::new(),
        }
    }

    /// Records the opened database and marks the server ready.
    pub(crate) fn set_ready(&self, db: Arc<tsdb::db::Db>) {
        let _ = self.db.set(db);
        self.readiness.set_ready();
    }

    /// Records the outcome of a config (re)load.
    pub(crate) fn record_reload(&self, result: &Result<(), String>) {
        let mut r = self.reload.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(()) => {
                *r = ReloadOutcome {
                    successful: true,
                    last_success: now_seconds(),
                }
            }
            // The reason is logged and answered to `/-/reload`.
            Err(_) => r.successful = false,
        }
    }

    /// The `/metrics` page in the text format.
    pub(crate) fn metrics_text(&self) -> Vec<u8> {
        let (reload_ok, last_success) = {
            let r = self.reload.lock().unwrap_or_else(|p| p.into_inner());
            (r.successful, r.last_success)
        };
        let mut families = vec![
            gauge(
                "pharos_build_info",
                "A metric with a constant '1' value labeled by version from which pharos was built.",
                &[("version", env!("CARGO_PKG_VERSION"))],
                1.0,
            ),
            gauge(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                &[],
                self.started,
            ),
            gauge(
                "prometheus_config_last_reload_successful",
                "Whether the last configuration reload attempt was successful.",
                &[],
                if reload_ok { 1.0 } else { 0.0 },
            ),
            gauge(
                "prometheus_config_last_reload_success_timestamp_seconds",
                "Timestamp of the last successful configuration reload.",
                &[],
                last_success,
            ),
            gauge(
                "prometheus_ready",
                "Whether Prometheus startup was fully completed and the server is ready for normal operation.",
                &[],
                if self.readiness.is_ready() { 1.0 } else { 0.0 },
            ),
        ];
        if let Some(rss) = resident_memory_bytes() {
            families.push(gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                &[],
                rss,
            ));
        }
        if let Some(db) = self.db.get() {
            let stats = db.head().stats();
            families.push(gauge(
                "prometheus_tsdb_head_series",
                "Total number of series in the head block.",
                &[],
                stats.num_series as f64,
            ));
            families.push(gauge(
                "prometheus_tsdb_head_chunks",
                "Total number of chunks in the head block.",
                &[],
                stats.num_chunks as f64,
            ));
            families.push(gauge(
                "prometheus_tsdb_blocks_loaded",
                "Number of currently loaded data blocks",
                &[],
                db.blocks().len() as f64,
            ));
        }
        let mut out = Vec::with_capacity(2048);
        expfmt::encode_text(&mut out, &families);
        out
    }
}

fn gauge(name: &str, help: &str, labels: &[(&str, &str)], value: f64) -> MetricFamily {
    MetricFamily {
        name: name.to_owned(),
        help: Some(help.to_owned()),
        unit: None,
        metric_type: MetricType::Gauge,
        samples: vec![FamilySample {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
            timestamp: None,
            exemplar: None,
        }],
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `VmRSS` of `/proc/self/status` (Linux only; elsewhere the metric is
/// left out rather than made up).
fn resident_memory_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_page_parses_and_reflects_reloads() {
        let s = ServerStatus::new(web::Readiness::new());
        s.record_reload(&Ok(()));
        s.record_reload(&Err("bad".into()));
        let page = s.metrics_text();
        let families = expfmt::decode_text(&page).unwrap();
        let value = |name: &str| {
            families
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.samples[0].value)
        };
        assert_eq!(value("prometheus_config_last_reload_successful"), Some(0.0));
        assert!(value("prometheus_config_last_reload_success_timestamp_seconds").unwrap() > 0.0);
        assert_eq!(value("pharos_build_info"), Some(1.0));
        assert_eq!(value("prometheus_ready"), Some(0.0));
    }
}
