//! Counters of service discovery, named after the Prometheus metrics they
//! will back once pharos has a metrics registry.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counters of one refresh-based mechanism (HTTP, DNS):
/// `prometheus_sd_refresh_failures_total{mechanism}` and the number of
/// refreshes attempted.
#[derive(Debug, Default)]
pub struct RefreshStats {
    /// Refreshes attempted.
    pub refreshes: AtomicU64,
    /// Refreshes that failed (`prometheus_sd_refresh_failures_total`).
    pub failures: AtomicU64,
}

/// Service-discovery counters shared by a [`crate::DiscoveryManager`] and
/// its providers. Counters only grow; gauges are set.
#[derive(Debug, Default)]
pub struct SdStats {
    /// `prometheus_sd_file_read_errors_total`: files that could not be read
    /// or parsed.
    pub file_read_errors: AtomicU64,
    /// File-SD scans done (the count of
    /// `prometheus_sd_file_scan_duration_seconds`).
    pub file_scans: AtomicU64,
    /// `prometheus_sd_http_failures_total`: failed HTTP SD requests.
    pub http_failures: AtomicU64,
    /// `prometheus_sd_dns_lookups_total`.
    pub dns_lookups: AtomicU64,
    /// `prometheus_sd_dns_lookup_failures_total`.
    pub dns_lookup_failures: AtomicU64,
    /// Refreshes of HTTP SD.
    pub http_refresh: RefreshStats,
    /// Refreshes of DNS SD.
    pub dns_refresh: RefreshStats,
    /// `prometheus_sd_received_updates_total`: updates the manager received
    /// from providers.
    pub received_updates: AtomicU64,
    /// `prometheus_sd_updates_total`: updates the manager sent its consumer.
    pub sent_updates: AtomicU64,
    /// `prometheus_sd_updates_delayed_total`: sends put off because the
    /// consumer had not taken the previous one.
    pub delayed_updates: AtomicU64,
    /// `prometheus_sd_failed_configs`: SD configs of the last applied config
    /// whose provider could not be built.
    pub failed_configs: AtomicU64,
    /// `prometheus_sd_discovered_targets{config}`: targets per job at the
    /// last send.
    pub discovered_targets: Mutex<BTreeMap<String, u64>>,
}

impl SdStats {
    /// Adds one to a counter.
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
