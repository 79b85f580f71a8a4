//! The `global` section: defaults for every scrape config and rule group,
//! external labels, and scrape limits.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use relabel::NameValidationScheme;

use crate::discovery::yaml_struct;
use crate::load::join_dir;
use crate::validate::{invalid, Check};
use crate::values::go_quote;

/// Scrape protocols a scraper may ask for, sorted as Prometheus lists them
/// in its error message.
pub const SCRAPE_PROTOCOLS: [&str; 5] = [
    "OpenMetricsText0.0.1",
    "OpenMetricsText1.0.0",
    "PrometheusProto",
    "PrometheusText0.0.4",
    "PrometheusText1.0.0",
];

/// The protocols asked for when none are configured.
pub const DEFAULT_SCRAPE_PROTOCOLS: [&str; 4] = [
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

/// The protocols asked for when native histograms are scraped: protobuf first.
pub const PROTO_FIRST_SCRAPE_PROTOCOLS: [&str; 5] = [
    "PrometheusProto",
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
];

/// Metric name escaping schemes (`metric_name_escaping_scheme`).
pub const ESCAPING_SCHEMES: [&str; 4] = ["allow-utf-8", "underscores", "dots", "values"];

yaml_struct! {
    /// The `global` section. Zero durations and limits mean "unset" until
    /// loading fills in Prometheus's defaults.
    pub struct GlobalConfig {
        #[serde(with = "crate::values::duration")]
        scrape_interval: Duration = Duration::ZERO,
        #[serde(with = "crate::values::duration")]
        scrape_timeout: Duration = Duration::ZERO,
        scrape_protocols: Option<Vec<String>> = None,
        #[serde(with = "crate::values::duration")]
        evaluation_interval: Duration = Duration::ZERO,
        #[serde(with = "crate::values::duration")]
        rule_query_offset: Duration = Duration::ZERO,
        query_log_file: String = String::new(),
        scrape_failure_log_file: String = String::new(),
        #[serde(deserialize_with = "crate::values::label_set::deserialize")]
        external_labels: BTreeMap<String, String> = BTreeMap::new(),
        #[serde(with = "crate::values::byte_size")]
        body_size_limit: i64 = 0,
        sample_limit: u64 = 0,
        target_limit: u64 = 0,
        label_limit: u64 = 0,
        label_name_length_limit: u64 = 0,
        label_value_length_limit: u64 = 0,
        keep_dropped_targets: u64 = 0,
        metric_name_validation_scheme: String = String::new(),
        metric_name_escaping_scheme: String = String::new(),
        scrape_native_histograms: Option<bool> = None,
        convert_classic_histograms_to_nhcb: bool = false,
        always_scrape_classic_histograms: bool = false,
        extra_scrape_metrics: Option<bool> = None,
    }
}

/// Parses a `metric_name_validation_scheme` value; empty is unset.
pub(crate) fn parse_validation_scheme(s: &str) -> Result<Option<NameValidationScheme>, String> {
    match s {
        "" => Ok(None),
        "utf8" => Ok(Some(NameValidationScheme::Utf8)),
        "legacy" => Ok(Some(NameValidationScheme::Legacy)),
        other => Err(format!("unrecognized ValidationScheme: {other:?}")),
    }
}

/// Prometheus's checks on a `scrape_protocols` list.
pub(crate) fn check_scrape_protocols(protocols: &[String]) -> Check {
    if protocols.is_empty() {
        return Err(invalid("scrape_protocols cannot be empty"));
    }
    let mut seen: Vec<String> = Vec::new();
    for p in protocols {
        let lower = p.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(invalid(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                protocols.join(" ")
            )));
        }
        check_scrape_protocol(p).map_err(|e| e.context("scrape_protocols"))?;
        seen.push(lower);
    }
    Ok(())
}

/// Whether `p` is a known scrape protocol, with Prometheus's message.
pub(crate) fn check_scrape_protocol(p: &str) -> Check {
    if SCRAPE_PROTOCOLS.contains(&p) {
        return Ok(());
    }
    Err(invalid(format!(
        "unknown scrape protocol {p}, supported: [{}]",
        SCRAPE_PROTOCOLS.join(" ")
    )))
}

impl GlobalConfig {
    /// The name validation scheme in force (UTF-8 unless `legacy`).
    pub fn validation_scheme(&self) -> NameValidationScheme {
        parse_validation_scheme(&self.metric_name_validation_scheme)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Validates and fills in Prometheus's defaults.
    pub(crate) fn validate(&mut self) -> Check {
        let scheme = parse_validation_scheme(&self.metric_name_validation_scheme)
            .map_err(|e| invalid(e).at("metric_name_validation_scheme"))?;
        if scheme.is_none() {
            self.metric_name_validation_scheme = "utf8".to_owned();
        }
        let scheme = scheme.unwrap_or_default();
        for name in self.external_labels.keys() {
            if !scheme.is_valid_label_name(name) {
                return Err(invalid(format!(
                    "{} is not a valid label name",
                    go_quote(name.as_bytes())
                ))
                .at(name)
                .at("external_labels"));
            }
        }
        if self.scrape_interval.is_zero() {
            self.scrape_interval = Duration::from_secs(60);
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(invalid(
                "global scrape timeout greater than scrape interval",
            ));
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = Duration::from_secs(10).min(self.scrape_interval);
        }
        if self.evaluation_interval.is_zero() {
            self.evaluation_interval = Duration::from_secs(60);
        }
        self.scrape_native_histograms.get_or_insert(false);
        self.extra_scrape_metrics.get_or_insert(false);
        if let Some(p) = &self.scrape_protocols {
            check_scrape_protocols(p).map_err(|e| {
                e.context_suffix(" for global config")
                    .at("scrape_protocols")
            })?;
        }
        Ok(())
    }

    /// Resolves relative file names against the config file's directory.
    pub(crate) fn set_directory(&mut self, dir: &Path) {
        join_dir(dir, &mut self.query_log_file);
        join_dir(dir, &mut self.scrape_failure_log_file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_interval() {
        let mut g = GlobalConfig {
            scrape_interval: Duration::from_secs(5),
            ..GlobalConfig::default()
        };
        g.validate().unwrap();
        assert_eq!(g.scrape_timeout, Duration::from_secs(5));
        assert_eq!(g.evaluation_interval, Duration::from_secs(60));
        let mut g = GlobalConfig {
            scrape_timeout: Duration::from_secs(120),
            ..GlobalConfig::default()
        };
        assert_eq!(
            g.validate().unwrap_err().message,
            "global scrape timeout greater than scrape interval"
        );
    }

    #[test]
    fn protocols_and_schemes() {
        assert!(check_scrape_protocols(&["PrometheusProto".into()]).is_ok());
        assert_eq!(
            check_scrape_protocols(&["prometheusproto".into()]).unwrap_err().message,
            "scrape_protocols: unknown scrape protocol prometheusproto, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"
        );
        assert!(check_scrape_protocols(&[]).is_err());
        assert_eq!(
            parse_validation_scheme("invalid_scheme").unwrap_err(),
            r#"unrecognized ValidationScheme: "invalid_scheme""#
        );
        let mut g = GlobalConfig {
            metric_name_validation_scheme: "legacy".into(),
            ..GlobalConfig::default()
        };
        g.external_labels.insert("a.b".into(), "v".into());
        assert_eq!(
            g.validate().unwrap_err().message,
            r#""a.b" is not a valid label name"#
        );
    }
}
