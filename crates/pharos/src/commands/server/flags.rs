//! The flags of `pharos server`, named and defaulted as `prometheus` names
//! them, so an existing command line or unit file keeps working.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// `pharos server …`: Prometheus's flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServerArgs {
    /// Prometheus configuration file path. Without it, pharos runs on its
    /// embedded default config, which scrapes pharos itself (Prometheus
    /// reads `prometheus.yml` instead).
    #[arg(long = "config.file")]
    pub(crate) config_file: Option<PathBuf>,
    /// Address to listen on for UI, API, and telemetry. Can be repeated.
    #[arg(long = "web.listen-address", default_value = "0.0.0.0:9090")]
    pub(crate) listen_address: Vec<String>,
    /// Path to the configuration file that can enable TLS or authentication.
    #[arg(long = "web.config.file")]
    pub(crate) web_config_file: Option<PathBuf>,
    /// Maximum number of simultaneous connections across all listeners.
    #[arg(long = "web.max-connections", default_value_t = 512)]
    pub(crate) max_connections: usize,
    /// Maximum duration before timing out read of the request, and closing
    /// idle connections.
    #[arg(long = "web.read-timeout", default_value = "5m", value_parser = parse_duration)]
    pub(crate) read_timeout: Duration,
    /// Document title of the web UI (accepted; pharos has no UI yet).
    #[arg(
        long = "web.page-title",
        default_value = "Prometheus Time Series Collection and Processing Server"
    )]
    pub(crate) page_title: String,
    /// Enable shutdown and reload via HTTP request.
    #[arg(long = "web.enable-lifecycle")]
    pub(crate) enable_lifecycle: bool,
    /// Enable API endpoints for admin control actions.
    #[arg(long = "web.enable-admin-api")]
    pub(crate) enable_admin_api: bool,
    /// Enable API endpoint accepting remote write requests.
    #[arg(long = "web.enable-remote-write-receiver")]
    pub(crate) enable_remote_write_receiver: bool,
    /// The URL under which pharos is externally reachable. Its path is the
    /// default route prefix.
    #[arg(long = "web.external-url")]
    pub(crate) external_url: Option<String>,
    /// Prefix for the internal routes of web endpoints; defaults to the
    /// path of --web.external-url.
    #[arg(long = "web.route-prefix")]
    pub(crate) route_prefix: Option<String>,
    /// Base path for metrics storage.
    #[arg(long = "storage.tsdb.path", default_value = "data/")]
    pub(crate) tsdb_path: PathBuf,
    /// How long to retain samples in storage. When neither this nor
    /// --storage.tsdb.retention.size is set, 15d.
    #[arg(long = "storage.tsdb.retention.time", value_parser = parse_duration)]
    pub(crate) retention_time: Option<Duration>,
    /// Maximum number of bytes that can be stored for blocks (B, KB, MB,
    /// GB, TB, PB, EB).
    #[arg(long = "storage.tsdb.retention.size", value_parser = parse_byte_size)]
    pub(crate) retention_size: Option<u64>,
    /// Minimum duration of a data block before being persisted.
    #[arg(long = "storage.tsdb.min-block-duration", hide = true, default_value = "2h", value_parser = parse_duration)]
    pub(crate) min_block_duration: Duration,
    /// Maximum duration compacted blocks may span (default: 10% of the
    /// retention time, at most 31d).
    #[arg(long = "storage.tsdb.max-block-duration", hide = true, value_parser = parse_duration)]
    pub(crate) max_block_duration: Option<Duration>,
    /// The maximum lookback duration for retrieving metrics during
    /// expression evaluations and federation.
    #[arg(long = "query.lookback-delta", default_value = "5m", value_parser = parse_duration)]
    pub(crate) lookback_delta: Duration,
    /// Maximum time a query may take before being aborted.
    #[arg(long = "query.timeout", default_value = "2m", value_parser = parse_duration)]
    pub(crate) query_timeout: Duration,
    /// Maximum number of queries executed concurrently.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub(crate) query_max_concurrency: usize,
    /// Maximum number of samples a single query can load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub(crate) query_max_samples: u64,
    /// Comma separated feature names to enable; pharos accepts the names and
    /// warns about those it does not know.
    #[arg(long = "enable-feature", value_delimiter = ',')]
    pub(crate) enable_feature: Vec<String>,
    /// Only log messages with the given severity or above.
    #[arg(long = "log.level", value_enum, default_value_t = LogLevel::Info)]
    pub(crate) log_level: LogLevel,
    /// Output format of log messages.
    #[arg(long = "log.format", value_enum, default_value_t = LogFormat::Logfmt)]
    pub(crate) log_format: LogFormat,
}

/// `--log.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// `--log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Logfmt,
    Json,
}

/// Feature names Prometheus 3 accepts in `--enable-feature`; pharos takes
/// them all so that a command line keeps working, whether or not pharos
/// acts on them yet.
const KNOWN_FEATURES: &[&str] = &[
    "exemplar-storage",
    "memory-snapshot-on-shutdown",
    "extra-scrape-metrics",
    "auto-gomaxprocs",
    "auto-gomemlimit",
    "concurrent-rule-eval",
    "created-timestamp-zero-ingestion",
    "delayed-compaction",
    "native-histograms",
    "otlp-write-receiver",
    "promql-experimental-functions",
    "promql-delayed-name-removal",
    "promql-per-step-stats",
    "metadata-wal-records",
    "old-ui",
    "remote-write-receiver",
    "expand-external-labels",
    "no-default-scrape-port",
    "type-and-unit-labels",
    "use-uncached-io",
];

impl ServerArgs {
    /// The `--enable-feature` names pharos does not know (Prometheus logs
    /// them and goes on).
    pub(crate) fn unknown_features(&self) -> Vec<&str> {
        self.enable_feature
            .iter()
            .map(|f| f.trim())
            .filter(|f| !f.is_empty() && !KNOWN_FEATURES.contains(f))
            .collect()
    }

    /// Time retention in ms: the flag, else 15d unless a size limit is set
    /// (Prometheus's rule: a size limit alone keeps data forever by time).
    pub(crate) fn retention_time_ms(&self) -> i64 {
        match (self.retention_time, self.retention_size) {
            (Some(t), _) => duration_ms(t),
            (None, Some(_)) => 0,
            (None, None) => 15 * 24 * 3600 * 1000,
        }
    }

    /// The port of the first listen address (9090 when it has none).
    pub(crate) fn first_port(&self) -> u16 {
        self.listen_address
            .first()
            .and_then(|a| a.rsplit_once(':'))
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(9090)
    }
}

/// The address to point a browser at: the external URL when one was given,
/// else the bound address (`localhost` for an unspecified one), with the
/// route prefix.
pub(crate) fn browser_url(
    external_url: Option<&str>,
    bound: SocketAddr,
    tls: bool,
    prefix: &str,
) -> String {
    if let Some(url) = external_url {
        return url.to_owned();
    }
    let host = if bound.ip().is_unspecified() {
        "localhost".to_owned()
    } else if bound.is_ipv6() {
        format!("[{}]", bound.ip())
    } else {
        bound.ip().to_string()
    };
    let scheme = if tls { "https" } else { "http" };
    format!(
        "{scheme}://{host}:{}{}/",
        bound.port(),
        prefix.trim_end_matches('/')
    )
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    model::parse_duration(s).map_err(|e| e.to_string())
}

fn parse_byte_size(s: &str) -> Result<u64, String> {
    model::parse_byte_size(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: ServerArgs,
    }

    fn parse(args: &[&str]) -> ServerArgs {
        Cmd::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn defaults_are_prometheus_defaults() {
        let a = parse(&[]);
        assert_eq!(a.listen_address, vec!["0.0.0.0:9090".to_owned()]);
        assert_eq!(a.first_port(), 9090);
        assert_eq!(a.tsdb_path, PathBuf::from("data/"));
        assert_eq!(a.retention_time_ms(), 15 * 24 * 3600 * 1000);
        assert_eq!(a.lookback_delta, Duration::from_secs(300));
        assert_eq!(a.query_timeout, Duration::from_secs(120));
        assert_eq!(a.query_max_concurrency, 20);
        assert_eq!(a.query_max_samples, 50_000_000);
        assert_eq!(a.min_block_duration, Duration::from_secs(7200));
        assert_eq!(
            (a.max_connections, a.read_timeout),
            (512, Duration::from_secs(300))
        );
    }

    #[test]
    fn retention_size_alone_disables_time_retention() {
        let a = parse(&["--storage.tsdb.retention.size=1GB"]);
        assert_eq!(
            (a.retention_time_ms(), a.retention_size),
            (0, Some(1 << 30))
        );
        let a = parse(&[
            "--storage.tsdb.retention.time=1d",
            "--storage.tsdb.retention.size=1KB",
        ]);
        assert_eq!(a.retention_time_ms(), 24 * 3600 * 1000);
    }

    #[test]
    fn browser_url_names_a_reachable_host() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let check = |ext, bound, tls, prefix, want: &str| {
            assert_eq!(browser_url(ext, addr(bound), tls, prefix), want);
        };
        check(None, "0.0.0.0:9090", false, "", "http://localhost:9090/");
        check(None, "127.0.0.1:1", true, "/p", "https://127.0.0.1:1/p/");
        check(None, "[::1]:2", false, "", "http://[::1]:2/");
        check(
            Some("http://h/x"),
            "0.0.0.0:9090",
            false,
            "/x",
            "http://h/x",
        );
    }

    #[test]
    fn listen_address_repeats() {
        let a = parse(&[
            "--web.listen-address=:1234",
            "--web.listen-address=127.0.0.1:5",
        ]);
        assert_eq!(a.listen_address.len(), 2);
        assert_eq!(a.first_port(), 1234);
    }

    #[test]
    fn features_known_and_unknown() {
        let a = parse(&[
            "--enable-feature=exemplar-storage,bogus",
            "--enable-feature=native-histograms",
        ]);
        assert_eq!(a.unknown_features(), vec!["bogus"]);
    }

    #[test]
    fn unknown_flags_and_bad_values_fail() {
        let bad = |args: &[&str]| {
            Cmd::try_parse_from(std::iter::once("server").chain(args.iter().copied())).is_err()
        };
        assert!(bad(&["--no.such-flag"]));
        assert!(bad(&["--query.timeout=soon"]));
        assert!(bad(&["--log.format=xml"]));
    }
}
