//! What one scrape job asks of its loops: the plain options a scrape loop
//! needs, independent of how `prometheus.yml` spells them (the server maps
//! its config onto these).

use std::collections::BTreeMap;
use std::time::Duration;

use relabel::{NameValidationScheme, RelabelConfig};

/// An exposition format a target may be asked for, as in Prometheus's
/// `scrape_protocols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    /// `PrometheusProto`: the protobuf format. Not supported yet: it is
    /// left out of the `Accept` header, and a protobuf body fails the scrape.
    PrometheusProto,
    /// `PrometheusText0.0.4`: the classic text format.
    PrometheusText0_0_4,
    /// `PrometheusText1.0.0`: the text format with quoted UTF-8 names.
    PrometheusText1_0_0,
    /// `OpenMetricsText0.0.1`.
    OpenMetricsText0_0_1,
    /// `OpenMetricsText1.0.0`.
    OpenMetricsText1_0_0,
}

impl ScrapeProtocol {
    /// Prometheus 3's default preference: OpenMetrics first, then text.
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The media type with parameters that names this protocol in an
    /// `Accept` header (Prometheus's `ScrapeProtocolsHeaders`).
    pub fn header_value(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// The bare media type, as a fallback protocol is used when a target
    /// sends no usable `Content-Type`.
    pub fn media_type(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "application/vnd.google.protobuf",
            ScrapeProtocol::PrometheusText0_0_4 | ScrapeProtocol::PrometheusText1_0_0 => {
                "text/plain"
            }
            ScrapeProtocol::OpenMetricsText0_0_1 | ScrapeProtocol::OpenMetricsText1_0_0 => {
                "application/openmetrics-text"
            }
        }
    }
}

/// How a target is asked to escape metric and label names the job's
/// validation scheme refuses (`metric_name_escaping_scheme`), announced in
/// the `Accept` header of the 1.0.0 formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameEscaping {
    /// No escaping: UTF-8 names as they are (Prometheus 3's default).
    #[default]
    AllowUtf8,
    /// Invalid characters become `_`.
    Underscores,
    /// `.` becomes `_dot_`, `_` becomes `__`, others `_`.
    Dots,
    /// Names are prefixed `U__` and invalid characters written as
    /// `_<hex>_`.
    Values,
}

impl NameEscaping {
    /// The scheme's name as the `escaping` media type parameter writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameEscaping::AllowUtf8 => "allow-utf-8",
            NameEscaping::Underscores => "underscores",
            NameEscaping::Dots => "dots",
            NameEscaping::Values => "values",
        }
    }
}

/// How one scrape job scrapes its targets: the fields of a `scrape_config`
/// that the target builder and the scrape loop read. Zero limits mean "no
/// limit", as in Prometheus.
#[derive(Clone, Debug)]
pub struct ScrapeOptions {
    /// `job_name`: the default `job` label.
    pub job_name: String,
    /// `scrape_interval`: the default `__scrape_interval__`.
    pub interval: Duration,
    /// `scrape_timeout`: the default `__scrape_timeout__`.
    pub timeout: Duration,
    /// `metrics_path`: the default `__metrics_path__`.
    pub metrics_path: String,
    /// `scheme`: the default `__scheme__`.
    pub scheme: String,
    /// `params`: query parameters of every target's URL; the first value of
    /// each is also the default of its `__param_<name>` label.
    pub params: BTreeMap<String, Vec<String>>,
    /// `honor_labels`: scraped labels win over target labels.
    pub honor_labels: bool,
    /// `honor_timestamps`: keep the timestamps the target exposes.
    pub honor_timestamps: bool,
    /// `track_timestamps_staleness`: series with explicit timestamps get
    /// stale markers too.
    pub track_timestamps_staleness: bool,
    /// `sample_limit`: more samples (after metric relabeling) fail the scrape.
    pub sample_limit: usize,
    /// `label_limit`: more labels on a series fail the scrape.
    pub label_limit: usize,
    /// `label_name_length_limit`.
    pub label_name_length_limit: usize,
    /// `label_value_length_limit`.
    pub label_value_length_limit: usize,
    /// `body_size_limit` in bytes (uncompressed).
    pub body_size_limit: u64,
    /// `target_limit`: with more active targets than this (0: no limit),
    /// every target of the job fails its scrapes until there are fewer.
    pub target_limit: usize,
    /// `keep_dropped_targets`: how many targets dropped by relabeling are
    /// kept for the targets API (0: all).
    pub keep_dropped_targets: usize,
    /// `scrape_protocols`, in order of preference.
    pub scrape_protocols: Vec<ScrapeProtocol>,
    /// `fallback_scrape_protocol`: how to read a body whose `Content-Type`
    /// is missing or unknown; `None` fails such scrapes.
    pub fallback_protocol: Option<ScrapeProtocol>,
    /// `enable_compression`: ask for gzip.
    pub enable_compression: bool,
    /// `extra_scrape_metrics`: also report `scrape_timeout_seconds`,
    /// `scrape_sample_limit` and `scrape_body_size_bytes`.
    pub extra_scrape_metrics: bool,
    /// `metric_name_validation_scheme`: which stored names are valid; a
    /// series with an invalid name fails the scrape.
    pub name_validation: NameValidationScheme,
    /// `metric_name_escaping_scheme`.
    pub name_escaping: NameEscaping,
    /// `relabel_configs`: applied to each target's discovered labels.
    pub relabel_configs: Vec<RelabelConfig>,
    /// `metric_relabel_configs`: applied to each scraped series.
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

impl ScrapeOptions {
    /// Prometheus's defaults for a job: 1m interval, 10s timeout, `/metrics`
    /// over `http`, timestamps honored, compression on, no limits.
    pub fn new(job_name: impl Into<String>) -> ScrapeOptions {
        ScrapeOptions {
            job_name: job_name.into(),
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            metrics_path: "/metrics".to_owned(),
            scheme: "http".to_owned(),
            params: BTreeMap::new(),
            honor_labels: false,
            honor_timestamps: true,
            track_timestamps_staleness: false,
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            body_size_limit: 0,
            target_limit: 0,
            keep_dropped_targets: 0,
            scrape_protocols: ScrapeProtocol::DEFAULT.to_vec(),
            fallback_protocol: None,
            enable_compression: true,
            extra_scrape_metrics: false,
            name_validation: NameValidationScheme::Utf8,
            name_escaping: NameEscaping::AllowUtf8,
            relabel_configs: Vec::new(),
            metric_relabel_configs: Vec::new(),
        }
    }

    /// The `Accept` header for [`ScrapeOptions::scrape_protocols`], weighted
    /// by preference as Prometheus does, ending in `*/*`. Protobuf is left
    /// out because pharos cannot read it yet; the 1.0.0 formats announce
    /// the job's [`NameEscaping`].
    pub fn accept_header(&self) -> String {
        let protocols: Vec<ScrapeProtocol> = self
            .scrape_protocols
            .iter()
            .copied()
            .filter(|p| *p != ScrapeProtocol::PrometheusProto)
            .collect();
        // Prometheus starts the weights at the number of known protocols
        // plus one, whatever the configured list holds.
        let mut weight = 6;
        let mut out = String::new();
        for p in protocols {
            out.push_str(p.header_value());
            if matches!(
                p,
                ScrapeProtocol::PrometheusText1_0_0 | ScrapeProtocol::OpenMetricsText1_0_0
            ) {
                out.push_str(";escaping=");
                out.push_str(self.name_escaping.as_str());
            }
            out.push_str(&format!(";q=0.{weight},"));
            weight -= 1;
        }
        out.push_str(&format!("*/*;q=0.{weight}"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_accept_header_is_prometheus_3s() {
        let o = ScrapeOptions::new("j");
        assert_eq!(
            o.accept_header(),
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
             application/openmetrics-text;version=0.0.1;q=0.5,\
             text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
             text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        );
    }

    #[test]
    fn escaping_is_announced_for_the_1_0_0_formats() {
        let mut o = ScrapeOptions::new("j");
        o.name_escaping = NameEscaping::Underscores;
        o.scrape_protocols = vec![
            ScrapeProtocol::PrometheusText1_0_0,
            ScrapeProtocol::PrometheusText0_0_4,
        ];
        assert_eq!(
            o.accept_header(),
            "text/plain;version=1.0.0;escaping=underscores;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"
        );
    }

    #[test]
    fn protobuf_is_left_out() {
        let mut o = ScrapeOptions::new("j");
        o.scrape_protocols = vec![
            ScrapeProtocol::PrometheusProto,
            ScrapeProtocol::PrometheusText0_0_4,
        ];
        assert_eq!(
            o.accept_header(),
            "text/plain;version=0.0.4;q=0.6,*/*;q=0.5"
        );
    }
}
