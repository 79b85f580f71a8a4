//! The `alerting` section: Alertmanagers to send alerts to (discovered like
//! scrape targets) and the relabeling applied to alerts.

use std::path::Path;
use std::time::Duration;

use relabel::{NameValidationScheme, RelabelConfig};

use crate::discovery::{yaml_struct, ServiceDiscoveryConfigs};
use crate::http_client::HttpClientConfig;
use crate::remote::SigV4Config;
use crate::validate::{invalid, Check};
use crate::values::non_null_list;

non_null_list!(
    /// `alerting.alert_relabel_configs`.
    alert_relabel_list,
    "empty or null alert relabeling rule"
);
non_null_list!(
    /// An Alertmanager's `relabel_configs`.
    am_target_relabel_list,
    "empty or null Alertmanager target relabeling rule"
);
non_null_list!(
    /// An Alertmanager's `alert_relabel_configs`.
    am_alert_relabel_list,
    "empty or null Alertmanager alert relabeling rule"
);
non_null_list!(
    /// `alerting.alertmanagers`.
    alertmanager_list,
    "empty or null Alertmanager config section"
);

yaml_struct! {
    /// The `alerting` section.
    pub struct AlertingConfig {
        #[serde(deserialize_with = "alert_relabel_list")]
        alert_relabel_configs: Vec<RelabelConfig> = Vec::new(),
        #[serde(deserialize_with = "alertmanager_list")]
        alertmanagers: Vec<AlertmanagerConfig> = Vec::new(),
    }
}

yaml_struct! {
    /// One `alertmanagers` entry.
    pub struct AlertmanagerConfig {
        #[serde(rename = "$inline_sd")]
        service_discovery: ServiceDiscoveryConfigs = ServiceDiscoveryConfigs::default(),
        sigv4: Option<SigV4Config> = None,
        scheme: String = "http".to_owned(),
        path_prefix: String = String::new(),
        #[serde(with = "crate::values::duration")]
        timeout: Duration = Duration::from_secs(10),
        api_version: String = "v2".to_owned(),
        #[serde(deserialize_with = "am_target_relabel_list")]
        relabel_configs: Vec<RelabelConfig> = Vec::new(),
        #[serde(deserialize_with = "am_alert_relabel_list")]
        alert_relabel_configs: Vec<RelabelConfig> = Vec::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
    }
}

fn validate_rules(key: &str, rules: &mut [RelabelConfig], scheme: NameValidationScheme) -> Check {
    for (i, r) in rules.iter_mut().enumerate() {
        r.validate(scheme)
            .map_err(|e| invalid(e.to_string()).at_index(i).at(key))?;
    }
    Ok(())
}

impl AlertingConfig {
    pub(crate) fn validate(&mut self, scheme: NameValidationScheme) -> Check {
        for (i, am) in self.alertmanagers.iter_mut().enumerate() {
            am.check_decoded()
                .map_err(|e| e.at_index(i).at("alertmanagers"))?;
        }
        validate_rules(
            "alert_relabel_configs",
            &mut self.alert_relabel_configs,
            scheme,
        )?;
        for (i, am) in self.alertmanagers.iter_mut().enumerate() {
            let at = |e: crate::validate::Invalid| e.at_index(i).at("alertmanagers");
            validate_rules(
                "alert_relabel_configs",
                &mut am.alert_relabel_configs,
                scheme,
            )
            .map_err(at)?;
            validate_rules("relabel_configs", &mut am.relabel_configs, scheme).map_err(at)?;
        }
        Ok(())
    }

    pub(crate) fn set_directory(&mut self, dir: &Path) {
        for am in &mut self.alertmanagers {
            am.service_discovery.set_directory(dir);
            am.http.set_directory(dir);
        }
    }

    /// Whether anything is configured (agent mode refuses this section).
    pub fn is_empty(&self) -> bool {
        self.alertmanagers.is_empty() && self.alert_relabel_configs.is_empty()
    }
}

impl AlertmanagerConfig {
    fn check_decoded(&mut self) -> Check {
        if self.api_version != "v2" {
            return Err(invalid(format!(
                "expected Alertmanager api version to be one of [v2] but got {}",
                self.api_version
            ))
            .at("api_version"));
        }
        self.service_discovery.validate()?;
        self.http.validate()?;
        let http_auth = self.http.basic_auth.is_some()
            || self.http.authorization.is_some()
            || self.http.oauth2.is_some();
        if http_auth && self.sigv4.is_some() {
            return Err(invalid(
                "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured",
            ));
        }
        if self.relabel_configs.is_empty() {
            for (i, g) in self.service_discovery.static_configs.iter().enumerate() {
                g.check_targets()
                    .map_err(|e| e.at_index(i).at("static_configs"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_v2() {
        let mut a = AlertingConfig {
            alertmanagers: vec![AlertmanagerConfig {
                api_version: "v1".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = a.validate(NameValidationScheme::Utf8).unwrap_err();
        assert_eq!(
            e.message,
            "expected Alertmanager api version to be one of [v2] but got v1"
        );
        a.alertmanagers[0].api_version = "v2".into();
        assert!(a.validate(NameValidationScheme::Utf8).is_ok());
        assert!(!a.is_empty());
    }
}
