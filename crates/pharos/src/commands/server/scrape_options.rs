//! The one place where a `scrape_configs` entry of `prometheus.yml` becomes
//! what the scrape loops read: the plain [`ScrapeOptions`] and the job's
//! [`HttpClient`].

use scrape::{HttpClient, NameEscaping, ScrapeOptions, ScrapeProtocol};

/// The job's HTTP client from its HTTP client settings, or why they cannot
/// be used: a setting pharos does not support yet, or one that does not
/// load (a missing CA file, ...). The message names the job.
pub(crate) fn scrape_client(cfg: &config::ScrapeConfig) -> Result<HttpClient, String> {
    let job = &cfg.job_name;
    if let Some(what) = httpclient::unsupported(&cfg.http) {
        return Err(format!(
            "scrape config with job name {job:?}: {what} is not supported by pharos yet"
        ));
    }
    // No client timeout: each scrape loop enforces its own scrape_timeout.
    httpclient::HttpClient::new(&cfg.http, None)
        .map(HttpClient::from)
        .map_err(|e| {
            format!("scrape config with job name {job:?}: cannot build its HTTP client: {e}")
        })
}

/// The options of a loaded (global defaults resolved) scrape config.
/// Protocol names were validated by the config crate, so an unknown one
/// cannot occur; it is skipped rather than trusted.
pub(crate) fn scrape_options(cfg: &config::ScrapeConfig) -> ScrapeOptions {
    let protocols: Vec<ScrapeProtocol> = match &cfg.scrape_protocols {
        Some(list) => list.iter().filter_map(|p| protocol(p)).collect(),
        None => ScrapeProtocol::DEFAULT.to_vec(),
    };
    ScrapeOptions {
        job_name: cfg.job_name.clone(),
        interval: cfg.scrape_interval,
        timeout: cfg.scrape_timeout,
        metrics_path: cfg.metrics_path.clone(),
        scheme: cfg.scheme.clone(),
        params: cfg.params.clone(),
        honor_labels: cfg.honor_labels,
        honor_timestamps: cfg.honor_timestamps,
        track_timestamps_staleness: cfg.track_timestamps_staleness,
        sample_limit: limit(cfg.sample_limit),
        label_limit: limit(cfg.label_limit),
        label_name_length_limit: limit(cfg.label_name_length_limit),
        label_value_length_limit: limit(cfg.label_value_length_limit),
        // A negative size (Go's "-1GB") means no limit, as Prometheus treats
        // anything not positive.
        body_size_limit: u64::try_from(cfg.body_size_limit).unwrap_or(0),
        target_limit: limit(cfg.target_limit),
        keep_dropped_targets: limit(cfg.keep_dropped_targets),
        scrape_protocols: protocols,
        fallback_protocol: protocol(&cfg.fallback_scrape_protocol),
        enable_compression: cfg.enable_compression,
        extra_scrape_metrics: cfg.extra_scrape_metrics_enabled(),
        name_validation: cfg.validation_scheme(),
        name_escaping: escaping(&cfg.metric_name_escaping_scheme),
        relabel_configs: cfg.relabel_configs.clone(),
        metric_relabel_configs: cfg.metric_relabel_configs.clone(),
    }
}

fn limit(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A protocol by its `scrape_protocols` name.
fn protocol(name: &str) -> Option<ScrapeProtocol> {
    Some(match name {
        "PrometheusProto" => ScrapeProtocol::PrometheusProto,
        "PrometheusText0.0.4" => ScrapeProtocol::PrometheusText0_0_4,
        "PrometheusText1.0.0" => ScrapeProtocol::PrometheusText1_0_0,
        "OpenMetricsText0.0.1" => ScrapeProtocol::OpenMetricsText0_0_1,
        "OpenMetricsText1.0.0" => ScrapeProtocol::OpenMetricsText1_0_0,
        _ => return None,
    })
}

/// The escaping scheme by its `metric_name_escaping_scheme` name; loading
/// resolved an empty one from the validation scheme.
fn escaping(name: &str) -> NameEscaping {
    match name {
        "underscores" => NameEscaping::Underscores,
        "dots" => NameEscaping::Dots,
        "values" => NameEscaping::Values,
        _ => NameEscaping::AllowUtf8,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use relabel::NameValidationScheme;

    use super::*;

    fn job(yaml: &str) -> ScrapeOptions {
        let cfg = config::load_str(yaml, "test.yml").unwrap();
        scrape_options(&cfg.all_scrape_configs().unwrap()[0])
    }

    #[test]
    fn defaults_follow_prometheus() {
        let o = job("scrape_configs:\n  - job_name: a\n");
        let d = ScrapeOptions::new("a");
        assert_eq!(o.interval, d.interval);
        assert_eq!(o.timeout, d.timeout);
        assert_eq!(
            (o.metrics_path.as_str(), o.scheme.as_str()),
            ("/metrics", "http")
        );
        assert_eq!(o.scrape_protocols, d.scrape_protocols);
        assert_eq!(o.fallback_protocol, None);
        assert!(o.honor_timestamps && o.enable_compression && !o.honor_labels);
        assert_eq!(o.name_validation, NameValidationScheme::Utf8);
        assert_eq!(o.name_escaping, NameEscaping::AllowUtf8);
        assert_eq!(o.accept_header(), d.accept_header());
    }

    #[test]
    fn every_field_is_carried() {
        let o = job(concat!(
            "global:\n  scrape_interval: 7s\n  body_size_limit: 1KB\n",
            "scrape_configs:\n  - job_name: j\n    scrape_timeout: 3s\n",
            "    metrics_path: /m\n    scheme: https\n    params: {a: [x, y]}\n",
            "    honor_labels: true\n    honor_timestamps: false\n",
            "    track_timestamps_staleness: true\n    sample_limit: 11\n",
            "    label_limit: 12\n    label_name_length_limit: 13\n",
            "    label_value_length_limit: 14\n",
            "    target_limit: 15\n    keep_dropped_targets: 16\n",
            "    scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]\n",
            "    fallback_scrape_protocol: PrometheusText1.0.0\n",
            "    enable_compression: false\n    extra_scrape_metrics: true\n",
            "    metric_name_validation_scheme: legacy\n",
            "    metric_name_escaping_scheme: dots\n",
            "    relabel_configs: [{target_label: t, replacement: v}]\n",
            "    metric_relabel_configs: [{action: drop, source_labels: [x], regex: y}, {action: labeldrop, regex: z}]\n",
        ));
        assert_eq!(o.job_name, "j");
        assert_eq!(
            (o.interval, o.timeout),
            (Duration::from_secs(7), Duration::from_secs(3))
        );
        assert_eq!(
            (o.metrics_path.as_str(), o.scheme.as_str()),
            ("/m", "https")
        );
        assert_eq!(o.params["a"], vec!["x".to_owned(), "y".to_owned()]);
        assert!(o.honor_labels && !o.honor_timestamps && o.track_timestamps_staleness);
        assert_eq!(
            (
                o.sample_limit,
                o.label_limit,
                o.label_name_length_limit,
                o.label_value_length_limit
            ),
            (11, 12, 13, 14)
        );
        assert_eq!(o.body_size_limit, 1024);
        assert_eq!((o.target_limit, o.keep_dropped_targets), (15, 16));
        assert_eq!(
            o.scrape_protocols,
            vec![
                ScrapeProtocol::PrometheusText0_0_4,
                ScrapeProtocol::OpenMetricsText1_0_0
            ]
        );
        assert_eq!(
            o.fallback_protocol,
            Some(ScrapeProtocol::PrometheusText1_0_0)
        );
        assert!(!o.enable_compression && o.extra_scrape_metrics);
        assert_eq!(o.name_validation, NameValidationScheme::Legacy);
        assert_eq!(o.name_escaping, NameEscaping::Dots);
        assert_eq!(
            (o.relabel_configs.len(), o.metric_relabel_configs.len()),
            (1, 2)
        );
    }

    #[test]
    fn scrape_client_refuses_what_it_cannot_apply() {
        let client = |yaml: &str| {
            let cfg = config::load_str(yaml, "test.yml").unwrap();
            scrape_client(&cfg.all_scrape_configs().unwrap()[0])
        };
        assert!(client(
            "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: p}\n"
        )
        .is_ok());
        let e = client(concat!(
            "scrape_configs:\n  - job_name: a\n",
            "    oauth2: {client_id: i, client_secret: s, token_url: 'http://x/t'}\n"
        ))
        .unwrap_err();
        assert_eq!(
            e,
            "scrape config with job name \"a\": oauth2 is not supported by pharos yet"
        );
        let e = client(
            "scrape_configs:\n  - job_name: b\n    tls_config: {ca_file: /nonexistent/ca.pem}\n",
        )
        .unwrap_err();
        assert!(e.starts_with("scrape config with job name \"b\": cannot build its HTTP client: cannot read ca_file /nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn every_protocol_name_is_known() {
        for p in [
            "PrometheusProto",
            "PrometheusText0.0.4",
            "PrometheusText1.0.0",
            "OpenMetricsText0.0.1",
            "OpenMetricsText1.0.0",
        ] {
            assert!(protocol(p).is_some(), "{p}");
        }
        assert_eq!(protocol(""), None);
    }
}
