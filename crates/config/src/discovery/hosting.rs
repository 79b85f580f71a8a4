//! Discoveries of hosting providers, authenticated by API tokens or key
//! pairs: DigitalOcean, Hetzner, IONOS, Linode, Vultr, Scaleway, STACKIT,
//! OVHcloud and Outscale. pharos cannot run these yet; they parse and
//! validate as in Prometheus.

use std::time::Duration;

use super::{http_sd_kind, yaml_struct, SdConfig};
use crate::http_client::HttpClientConfig;
use crate::secret::Secret;
use crate::validate::{invalid, Check};
use crate::values::GoUrl;

/// Checks a `role` against its kind's list, as Prometheus's role types do
/// while decoding (`unknown_msg` gets the quoted role).
fn check_role(
    role: &str,
    allowed: &[&str],
    missing: &str,
    unknown: impl Fn(&str) -> String,
) -> Check {
    if role.is_empty() {
        return Err(invalid(missing));
    }
    if !allowed.contains(&role) {
        return Err(invalid(unknown(role)).at("role"));
    }
    Ok(())
}

yaml_struct! {
    /// `digitalocean_sd_configs`.
    pub struct DigitaloceanSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        role: String = "droplets".to_owned(),
    }
}
http_sd_kind!(DigitaloceanSdConfig, "digitalocean_sd_configs");

impl DigitaloceanSdConfig {
    fn check_own(&self) -> Check {
        check_role(
            &self.role,
            &["droplets", "databases"],
            "role missing (one of: droplets, databases)",
            |r| format!("unknown DigitalOcean SD role {r:?}"),
        )
    }
}

yaml_struct! {
    /// `hetzner_sd_configs`.
    pub struct HetznerSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        role: String = String::new(),
        label_selector: String = String::new(),
    }
}
http_sd_kind!(HetznerSdConfig, "hetzner_sd_configs");

impl HetznerSdConfig {
    fn check_own(&self) -> Check {
        check_role(
            &self.role,
            &["robot", "hcloud"],
            "role missing (one of: robot, hcloud)",
            |r| format!("unknown role {r:?}"),
        )
    }
}

yaml_struct! {
    /// `ionos_sd_configs`.
    pub struct IonosSdConfig {
        datacenter_id: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
    }
}
http_sd_kind!(IonosSdConfig, "ionos_sd_configs");

impl IonosSdConfig {
    fn check_own(&self) -> Check {
        if self.datacenter_id.is_empty() {
            return Err(invalid("datacenter id can't be empty"));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `linode_sd_configs`.
    pub struct LinodeSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        tag_separator: String = ",".to_owned(),
        region: String = String::new(),
    }
}
http_sd_kind!(LinodeSdConfig, "linode_sd_configs");

yaml_struct! {
    /// `vultr_sd_configs`.
    pub struct VultrSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
    }
}
http_sd_kind!(VultrSdConfig, "vultr_sd_configs");

impl LinodeSdConfig {
    fn check_own(&self) -> Check {
        Ok(())
    }
}

impl VultrSdConfig {
    fn check_own(&self) -> Check {
        Ok(())
    }
}

/// Prometheus's checks on a `secret_key` / `secret_key_file` pair.
fn check_secret_key(key: &Secret, file: &str) -> Check {
    if key.is_empty() && file.is_empty() {
        return Err(invalid(
            "one of secret_key & secret_key_file must be configured",
        ));
    }
    if !key.is_empty() && !file.is_empty() {
        return Err(invalid(
            "at most one of secret_key & secret_key_file must be configured",
        ));
    }
    Ok(())
}

yaml_struct! {
    /// `scaleway_sd_configs`.
    pub struct ScalewaySdConfig {
        project_id: String = String::new(),
        api_url: String = "https://api.scaleway.com".to_owned(),
        zone: String = "fr-par-1".to_owned(),
        access_key: String = String::new(),
        secret_key: Secret = Secret::default(),
        secret_key_file: String = String::new(),
        name_filter: String = String::new(),
        tags_filter: Vec<String> = Vec::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        role: String = String::new(),
    }
}
http_sd_kind!(ScalewaySdConfig, "scaleway_sd_configs", files: [secret_key_file]);

impl ScalewaySdConfig {
    fn check_own(&mut self) -> Check {
        if !self.role.is_empty() && !["instance", "baremetal"].contains(&self.role.as_str()) {
            return Err(invalid(format!("unknown role {:?}", self.role)).at("role"));
        }
        if self.role.is_empty() {
            return Err(invalid("role missing (one of: instance, baremetal)"));
        }
        if self.project_id.is_empty() {
            return Err(invalid("project_id is mandatory"));
        }
        check_secret_key(&self.secret_key, &self.secret_key_file)?;
        if self.access_key.is_empty() {
            return Err(invalid("access_key is mandatory"));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `stackit_sd_configs`.
    pub struct StackitSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        project: String = String::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        region: String = "eu01".to_owned(),
        endpoint: String = String::new(),
        service_account_key: Secret = Secret::default(),
        private_key: Secret = Secret::default(),
        service_account_key_path: String = String::new(),
        private_key_path: String = String::new(),
        credentials_file_path: String = String::new(),
    }
}
http_sd_kind!(StackitSdConfig, "stackit_sd_configs");

impl StackitSdConfig {
    fn check_own(&self) -> Check {
        if self.endpoint.is_empty() && self.region.is_empty() {
            return Err(invalid("stackit_sd: endpoint and region missing"));
        }
        if !self.endpoint.is_empty() {
            GoUrl::parse(&self.endpoint).map_err(|e| {
                invalid(format!(
                    "stackit_sd: invalid endpoint {:?}: {e}",
                    self.endpoint
                ))
                .at("endpoint")
            })?;
        }
        Ok(())
    }
}

yaml_struct! {
    /// `ovhcloud_sd_configs`.
    pub struct OvhcloudSdConfig {
        endpoint: String = "ovh-eu".to_owned(),
        application_key: String = String::new(),
        application_secret: Secret = Secret::default(),
        consumer_key: Secret = Secret::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        service: String = String::new(),
    }
}

impl SdConfig for OvhcloudSdConfig {
    const KEY: &'static str = "ovhcloud_sd_configs";
    const SUPPORTED: bool = false;
    fn validate(&mut self) -> Check {
        if self.endpoint.is_empty() {
            return Err(invalid("endpoint can not be empty"));
        }
        if self.application_key.is_empty() {
            return Err(invalid("application key can not be empty"));
        }
        if self.application_secret.is_empty() {
            return Err(invalid("application secret can not be empty"));
        }
        if self.consumer_key.is_empty() {
            return Err(invalid("consumer key can not be empty"));
        }
        match self.service.as_str() {
            "dedicated_server" | "vps" => Ok(()),
            other => Err(invalid(format!("unknown service: {other}")).at("service")),
        }
    }
}

yaml_struct! {
    /// `outscale_sd_configs`.
    pub struct OutscaleSdConfig {
        endpoint: String = String::new(),
        region: String = "eu-west-2".to_owned(),
        access_key: String = String::new(),
        secret_key: Secret = Secret::default(),
        secret_key_file: String = String::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
    }
}
http_sd_kind!(OutscaleSdConfig, "outscale_sd_configs", files: [secret_key_file]);

impl OutscaleSdConfig {
    fn check_own(&mut self) -> Check {
        if self.region.is_empty() {
            return Err(invalid("outscale SD configuration requires a region"));
        }
        if self.access_key.is_empty() {
            return Err(invalid("outscale SD configuration requires access_key"));
        }
        check_secret_key(&self.secret_key, &self.secret_key_file)?;
        if self.endpoint.is_empty() {
            self.endpoint = format!("https://api.{}.outscale.com/api/v1", self.region);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_checked() {
        let mut h = HetznerSdConfig::default();
        assert_eq!(
            h.validate().unwrap_err().message,
            "role missing (one of: robot, hcloud)"
        );
        h.role = "x".into();
        assert_eq!(h.validate().unwrap_err().message, r#"unknown role "x""#);
        h.role = "hcloud".into();
        assert!(h.validate().is_ok());
    }

    #[test]
    fn outscale_fills_its_endpoint() {
        let mut c = OutscaleSdConfig {
            access_key: "a".into(),
            secret_key_file: "f".into(),
            ..OutscaleSdConfig::default()
        };
        c.validate().unwrap();
        assert_eq!(c.endpoint, "https://api.eu-west-2.outscale.com/api/v1");
    }
}
