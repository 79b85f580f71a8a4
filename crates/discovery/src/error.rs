//! The errors of service discovery.

use std::path::PathBuf;

/// Why a provider could not be built or one of its refreshes failed.
///
/// A failed refresh never removes targets: the provider keeps its last good
/// groups, logs the error and counts it on [`crate::SdStats`], as Prometheus
/// does.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// A job uses a kind of service discovery pharos cannot run yet; the
    /// server refuses such a config rather than scraping fewer targets.
    #[error("job {job:?}: pharos cannot run {kind} yet")]
    Unsupported {
        /// The job (scrape config or Alertmanager set) that uses it.
        job: String,
        /// The config key, e.g. `ec2_sd_configs`, or the unsupported part of
        /// a supported kind, e.g. `oauth2 in http_sd_configs`.
        kind: String,
    },
    /// The HTTP client of an `http_sd_configs` entry could not be built from
    /// its settings (a CA or client certificate that does not load, …).
    #[error("cannot build the HTTP client for {url}: {reason}")]
    HttpClient {
        /// The discovery URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A provider with errors of its own (Kubernetes, Consul) could not be
    /// built.
    #[error("cannot start {kind} discovery: {reason}")]
    Build {
        /// The mechanism, e.g. `kubernetes`.
        kind: &'static str,
        /// Its error, as text.
        reason: String,
    },
    /// A file the config names (a credentials, CA or header file) could not
    /// be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    ReadFile {
        /// What the file holds, e.g. `password_file`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An HTTP SD request failed or its answer was not a list of target
    /// groups.
    #[error("cannot refresh targets from {url}: {reason}")]
    Http {
        /// The discovery URL.
        url: String,
        /// What went wrong, in Prometheus's words where it has some
        /// (`server returned HTTP status 500 Internal Server Error`,
        /// `unsupported content type "text/plain"`).
        reason: String,
    },
    /// The system's resolver configuration (`/etc/resolv.conf`) could not
    /// be loaded.
    #[error("cannot load the resolver configuration: {0}")]
    ResolvConf(String),
    /// A DNS lookup got no usable answer from any server.
    #[error("cannot resolve {name:?} ({record_type}): {reason}")]
    Dns {
        /// The name looked up.
        name: String,
        /// The record type asked for.
        record_type: String,
        /// What went wrong.
        reason: String,
    },
}
