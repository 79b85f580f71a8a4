//! `scrape_configs`: one entry per job — where its targets come from, how
//! they are scraped, relabeled and limited — and the inheritance of the
//! `global` defaults into each job.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use relabel::{NameValidationScheme, RelabelConfig};

use crate::discovery::{yaml_struct, ServiceDiscoveryConfigs};
use crate::global::{
    check_scrape_protocol, check_scrape_protocols, parse_validation_scheme, GlobalConfig,
    DEFAULT_SCRAPE_PROTOCOLS, ESCAPING_SCHEMES, PROTO_FIRST_SCRAPE_PROTOCOLS,
};
use crate::http_client::HttpClientConfig;
use crate::load::join_dir;
use crate::validate::{invalid, Check};
use crate::values::non_null_list;

non_null_list!(
    /// `relabel_configs` of a scrape config.
    target_relabel_list,
    "empty or null target relabeling rule in scrape config"
);
non_null_list!(
    /// `metric_relabel_configs` of a scrape config.
    metric_relabel_list,
    "empty or null metric relabeling rule in scrape config"
);

yaml_struct! {
    /// One `scrape_configs` entry. Zero durations and limits, and `None`
    /// switches, mean "inherit from `global`"; loading resolves them, so a
    /// loaded config has them all set.
    pub struct ScrapeConfig {
        job_name: String = String::new(),
        honor_labels: bool = false,
        honor_timestamps: bool = true,
        track_timestamps_staleness: bool = false,
        params: BTreeMap<String, Vec<String>> = BTreeMap::new(),
        #[serde(with = "crate::values::duration")]
        scrape_interval: Duration = Duration::ZERO,
        #[serde(with = "crate::values::duration")]
        scrape_timeout: Duration = Duration::ZERO,
        scrape_protocols: Option<Vec<String>> = None,
        fallback_scrape_protocol: String = String::new(),
        scrape_native_histograms: Option<bool> = None,
        always_scrape_classic_histograms: Option<bool> = None,
        convert_classic_histograms_to_nhcb: Option<bool> = None,
        scrape_failure_log_file: String = String::new(),
        metrics_path: String = "/metrics".to_owned(),
        scheme: String = "http".to_owned(),
        enable_compression: bool = true,
        #[serde(with = "crate::values::byte_size")]
        body_size_limit: i64 = 0,
        sample_limit: u64 = 0,
        target_limit: u64 = 0,
        label_limit: u64 = 0,
        label_name_length_limit: u64 = 0,
        label_value_length_limit: u64 = 0,
        native_histogram_bucket_limit: u64 = 0,
        native_histogram_min_bucket_factor: f64 = 0.0,
        keep_dropped_targets: u64 = 0,
        metric_name_validation_scheme: String = String::new(),
        metric_name_escaping_scheme: String = String::new(),
        extra_scrape_metrics: Option<bool> = None,
        #[serde(rename = "$inline_sd")]
        service_discovery: ServiceDiscoveryConfigs = ServiceDiscoveryConfigs::default(),
        #[serde(deserialize_with = "target_relabel_list")]
        relabel_configs: Vec<RelabelConfig> = Vec::new(),
        #[serde(deserialize_with = "metric_relabel_list")]
        metric_relabel_configs: Vec<RelabelConfig> = Vec::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
    }
}

/// The `scrape_configs` list of a file included by `scrape_config_files`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ScrapeConfigsFile {
    #[serde(deserialize_with = "scrape_config_list")]
    pub(crate) scrape_configs: Vec<ScrapeConfig>,
}

non_null_list!(
    /// `scrape_configs`.
    scrape_config_list,
    "empty or null scrape config section"
);

impl ScrapeConfig {
    /// The checks Prometheus makes while decoding a scrape config.
    pub(crate) fn check_decoded(&mut self) -> Check {
        self.service_discovery.validate()?;
        if self.job_name.is_empty() {
            return Err(invalid("job_name is empty"));
        }
        self.http.validate()?;
        if self.relabel_configs.is_empty() {
            for (i, g) in self.service_discovery.static_configs.iter().enumerate() {
                g.check_targets()
                    .map_err(|e| e.at_index(i).at("static_configs"))?;
            }
        }
        Ok(())
    }

    /// Inherits `global`'s defaults and makes the checks that depend on
    /// them (Prometheus's `ScrapeConfig.Validate`).
    pub(crate) fn resolve(&mut self, global: &GlobalConfig) -> Check {
        let job = self.job_name.clone();
        if self.scrape_interval.is_zero() {
            self.scrape_interval = global.scrape_interval;
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(invalid(format!(
                "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
            )));
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = global.scrape_timeout.min(self.scrape_interval);
        }
        inherit(&mut self.body_size_limit, global.body_size_limit);
        inherit(&mut self.sample_limit, global.sample_limit);
        inherit(&mut self.target_limit, global.target_limit);
        inherit(&mut self.label_limit, global.label_limit);
        inherit(
            &mut self.label_name_length_limit,
            global.label_name_length_limit,
        );
        inherit(
            &mut self.label_value_length_limit,
            global.label_value_length_limit,
        );
        inherit(&mut self.keep_dropped_targets, global.keep_dropped_targets);
        if self.scrape_failure_log_file.is_empty() {
            self.scrape_failure_log_file = global.scrape_failure_log_file.clone();
        }
        if self.scrape_native_histograms.is_none() {
            self.scrape_native_histograms = global.scrape_native_histograms;
        }
        if self.extra_scrape_metrics.is_none() {
            self.extra_scrape_metrics = global.extra_scrape_metrics;
        }
        // An explicit global list wins over the choice by native histograms.
        let protocols = self.scrape_protocols.get_or_insert_with(|| {
            let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
            match &global.scrape_protocols {
                Some(p) => p.clone(),
                None if self.scrape_native_histograms == Some(true) => {
                    owned(&PROTO_FIRST_SCRAPE_PROTOCOLS)
                }
                None => owned(&DEFAULT_SCRAPE_PROTOCOLS),
            }
        });
        check_scrape_protocols(protocols).map_err(|e| {
            e.context_suffix(format!(" for scrape config with job name {job:?}"))
                .at("scrape_protocols")
        })?;
        if !self.fallback_scrape_protocol.is_empty() {
            check_scrape_protocol(&self.fallback_scrape_protocol).map_err(|e| {
                e.context(format!(
                    "invalid fallback_scrape_protocol for scrape config with job name {job:?}"
                ))
                .at("fallback_scrape_protocol")
            })?;
        }
        self.resolve_name_schemes(global)?;
        if self.convert_classic_histograms_to_nhcb.is_none() {
            self.convert_classic_histograms_to_nhcb =
                Some(global.convert_classic_histograms_to_nhcb);
        }
        if self.always_scrape_classic_histograms.is_none() {
            self.always_scrape_classic_histograms = Some(global.always_scrape_classic_histograms);
        }
        let scheme = self.validation_scheme();
        for (key, rules) in [
            ("relabel_configs", &mut self.relabel_configs),
            ("metric_relabel_configs", &mut self.metric_relabel_configs),
        ] {
            for (i, r) in rules.iter_mut().enumerate() {
                r.validate(scheme)
                    .map_err(|e| invalid(e.to_string()).at_index(i).at(key))?;
            }
        }
        Ok(())
    }

    /// Name validation and escaping, inherited as Prometheus 3.x does: a
    /// job that only asks for legacy names gets underscore escaping rather
    /// than the global `allow-utf-8`.
    fn resolve_name_schemes(&mut self, global: &GlobalConfig) -> Check {
        let global_scheme = parse_validation_scheme(&global.metric_name_validation_scheme)
            .ok()
            .flatten()
            .ok_or_else(|| invalid("global name validation method must be set"))?;
        let local_unset = self.metric_name_validation_scheme.is_empty();
        match self.metric_name_validation_scheme.as_str() {
            "" => {
                self.metric_name_validation_scheme = global.metric_name_validation_scheme.clone()
            }
            "legacy" | "utf8" => {}
            other => {
                return Err(invalid(format!("unknown scrape config name validation method specified, must be either '', 'legacy' or 'utf8', got {other}")).at("metric_name_validation_scheme"))
            }
        }
        let global_escaping = match global.metric_name_escaping_scheme.as_str() {
            "" if global_scheme == NameValidationScheme::Legacy => "underscores",
            "" => "allow-utf-8",
            s if ESCAPING_SCHEMES.contains(&s) => s,
            other => {
                return Err(invalid(format!("unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {other:?}")))
            }
        };
        if self.metric_name_escaping_scheme.is_empty() {
            self.metric_name_escaping_scheme = if local_unset {
                global_escaping.to_owned()
            } else if self.metric_name_validation_scheme == "legacy" {
                "underscores".to_owned()
            } else {
                "allow-utf-8".to_owned()
            };
        }
        match self.metric_name_escaping_scheme.as_str() {
            "allow-utf-8" if self.metric_name_validation_scheme != "utf8" => Err(invalid(
                "utf8 metric names requested but validation scheme is not set to UTF8",
            )),
            s if ESCAPING_SCHEMES.contains(&s) => Ok(()),
            other => Err(invalid(format!("unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {other:?}")).at("metric_name_escaping_scheme")),
        }
    }

    /// The name validation scheme of this job.
    pub fn validation_scheme(&self) -> NameValidationScheme {
        parse_validation_scheme(&self.metric_name_validation_scheme)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Whether native histograms are scraped.
    pub fn scrape_native_histograms_enabled(&self) -> bool {
        self.scrape_native_histograms.unwrap_or(false)
    }

    /// Whether classic histograms are converted to native histograms with
    /// custom buckets.
    pub fn convert_classic_histograms_to_nhcb_enabled(&self) -> bool {
        self.convert_classic_histograms_to_nhcb.unwrap_or(false)
    }

    /// Whether classic histograms are kept alongside native ones.
    pub fn always_scrape_classic_histograms_enabled(&self) -> bool {
        self.always_scrape_classic_histograms.unwrap_or(false)
    }

    /// Whether the extra scrape metrics are recorded.
    pub fn extra_scrape_metrics_enabled(&self) -> bool {
        self.extra_scrape_metrics.unwrap_or(false)
    }

    /// Resolves relative file names against the config file's directory.
    pub(crate) fn set_directory(&mut self, dir: &Path) {
        self.service_discovery.set_directory(dir);
        self.http.set_directory(dir);
        join_dir(dir, &mut self.scrape_failure_log_file);
    }
}

fn inherit<T: Default + PartialEq + Copy>(local: &mut T, global: T) {
    if *local == T::default() {
        *local = global;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(local: ScrapeConfig, mut global: GlobalConfig) -> Result<ScrapeConfig, String> {
        global.validate().map_err(|e| e.message)?;
        let mut c = local;
        c.resolve(&global).map(|()| c).map_err(|e| e.message)
    }

    fn job() -> ScrapeConfig {
        ScrapeConfig {
            job_name: "j".into(),
            ..ScrapeConfig::default()
        }
    }

    #[test]
    fn inherits_intervals_and_limits() {
        let g = GlobalConfig {
            scrape_interval: Duration::from_secs(30),
            sample_limit: 7,
            ..GlobalConfig::default()
        };
        let c = resolved(job(), g).unwrap();
        assert_eq!(
            (c.scrape_interval, c.scrape_timeout),
            (Duration::from_secs(30), Duration::from_secs(10))
        );
        assert_eq!(c.sample_limit, 7);
        assert_eq!(c.scrape_protocols.unwrap(), DEFAULT_SCRAPE_PROTOCOLS);
        assert_eq!(c.metric_name_escaping_scheme, "allow-utf-8");
    }

    #[test]
    fn timeout_may_not_exceed_interval() {
        let c = ScrapeConfig {
            scrape_interval: Duration::from_secs(10),
            scrape_timeout: Duration::from_secs(20),
            ..job()
        };
        assert_eq!(
            resolved(c, GlobalConfig::default()).unwrap_err(),
            r#"scrape timeout greater than scrape interval for scrape config with job name "j""#
        );
    }

    #[test]
    fn native_histograms_put_protobuf_first() {
        let g = GlobalConfig {
            scrape_native_histograms: Some(true),
            ..GlobalConfig::default()
        };
        let c = resolved(job(), g.clone()).unwrap();
        assert_eq!(c.scrape_protocols.unwrap(), PROTO_FIRST_SCRAPE_PROTOCOLS);
        let c = resolved(
            ScrapeConfig {
                scrape_native_histograms: Some(false),
                ..job()
            },
            g,
        )
        .unwrap();
        assert_eq!(c.scrape_protocols.unwrap(), DEFAULT_SCRAPE_PROTOCOLS);
    }

    #[test]
    fn name_schemes() {
        let legacy = GlobalConfig {
            metric_name_validation_scheme: "legacy".into(),
            ..GlobalConfig::default()
        };
        let c = resolved(job(), legacy.clone()).unwrap();
        assert_eq!(c.metric_name_escaping_scheme, "underscores");
        let g = GlobalConfig {
            metric_name_escaping_scheme: "allow-utf-8".into(),
            ..legacy
        };
        assert_eq!(
            resolved(job(), g).unwrap_err(),
            "utf8 metric names requested but validation scheme is not set to UTF8"
        );
        let c = resolved(
            ScrapeConfig {
                metric_name_validation_scheme: "legacy".into(),
                ..job()
            },
            GlobalConfig::default(),
        )
        .unwrap();
        assert_eq!(c.metric_name_escaping_scheme, "underscores");
    }
}
