//! Cloud providers' discoveries: Azure, GCE, DigitalOcean, Hetzner, IONOS,
//! Linode, Vultr, Scaleway, STACKIT, OVHcloud, Outscale, OCI, OpenStack.
//! pharos cannot run these yet; they parse and validate as in Prometheus.

use std::path::Path;
use std::time::Duration;

use super::{yaml_struct, SdConfig};
use crate::http_client::{HttpClientConfig, TlsConfig};
use crate::secret::Secret;
use crate::validate::{invalid, Check};
use crate::values::{format_duration, GoUrl};

/// Implements [`SdConfig`] for an unsupported kind with an inline HTTP
/// client: its own checks (`check_own`), then the HTTP client's.
macro_rules! http_sd_kind {
    ($name:ident, $key:literal) => {
        http_sd_kind!($name, $key, files: []);
    };
    ($name:ident, $key:literal, files: [$($file:ident),*]) => {
        impl SdConfig for $name {
            const KEY: &'static str = $key;
            const SUPPORTED: bool = false;
            fn validate(&mut self) -> Check {
                self.check_own()?;
                self.http.validate()
            }
            fn set_directory(&mut self, dir: &Path) {
                self.http.set_directory(dir);
                $( crate::load::join_dir(dir, &mut self.$file); )*
            }
        }
    };
}
pub(crate) use http_sd_kind;

yaml_struct! {
    /// `azure_sd_configs`.
    pub struct AzureSdConfig {
        environment: String = "AzurePublicCloud".to_owned(),
        port: u16 = 80,
        subscription_id: String = String::new(),
        tenant_id: String = String::new(),
        client_id: String = String::new(),
        client_secret: Secret = Secret::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(300),
        authentication_method: String = "OAuth".to_owned(),
        resource_group: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
    }
}
http_sd_kind!(AzureSdConfig, "azure_sd_configs");

impl AzureSdConfig {
    fn check_own(&self) -> Check {
        let require = |v: &str, name: &str| {
            if v.is_empty() {
                Err(invalid(format!("azure SD configuration requires a {name}")))
            } else {
                Ok(())
            }
        };
        require(&self.subscription_id, "subscription_id")?;
        if self.authentication_method == "OAuth" {
            require(&self.tenant_id, "tenant_id")?;
            require(&self.client_id, "client_id")?;
            require(self.client_secret.expose(), "client_secret")?;
        }
        if !["OAuth", "ManagedIdentity", "SDK", "WorkloadIdentity"]
            .contains(&self.authentication_method.as_str())
        {
            return Err(invalid(format!(
                r#"unknown authentication_type {:?}. Supported types are "OAuth", "ManagedIdentity", "SDK" or "WorkloadIdentity""#,
                self.authentication_method
            )));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `gce_sd_configs`.
    pub struct GceSdConfig {
        project: String = String::new(),
        zone: String = String::new(),
        filter: String = String::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        tag_separator: String = ",".to_owned(),
    }
}

impl SdConfig for GceSdConfig {
    const KEY: &'static str = "gce_sd_configs";
    const SUPPORTED: bool = false;
    fn validate(&mut self) -> Check {
        if self.project.is_empty() {
            return Err(invalid("GCE SD configuration requires a project"));
        }
        if self.zone.is_empty() {
            return Err(invalid("GCE SD configuration requires a zone"));
        }
        Ok(())
    }
}

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

yaml_struct! {
    /// `oci_sd_configs` (Oracle Cloud Infrastructure).
    pub struct OciSdConfig {
        auth: String = "api_key".to_owned(),
        tenancy: String = String::new(),
        user: String = String::new(),
        fingerprint: String = String::new(),
        key_file: String = String::new(),
        key_passphrase: Secret = Secret::default(),
        key_passphrase_file: String = String::new(),
        region: String = String::new(),
        compartments: Vec<String> = Vec::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        port: u16 = 80,
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
    }
}
http_sd_kind!(OciSdConfig, "oci_sd_configs", files: [key_file, key_passphrase_file]);

impl OciSdConfig {
    fn check_own(&self) -> Check {
        if self.region.is_empty() {
            return Err(invalid("oci_sd: region is required"));
        }
        match self.auth.as_str() {
            "api_key" => {
                for (v, name) in [
                    (&self.tenancy, "tenancy"),
                    (&self.user, "user"),
                    (&self.fingerprint, "fingerprint"),
                    (&self.key_file, "key_file"),
                ] {
                    if v.is_empty() {
                        return Err(invalid(format!("oci_sd: api_key auth requires {name}")));
                    }
                }
                if !self.key_passphrase.is_empty() && !self.key_passphrase_file.is_empty() {
                    return Err(invalid("oci_sd: at most one of key_passphrase and key_passphrase_file must be configured"));
                }
            }
            "instance_principal" => {
                if !self.tenancy.is_empty()
                    || !self.user.is_empty()
                    || !self.fingerprint.is_empty()
                    || !self.key_file.is_empty()
                    || !self.key_passphrase.is_empty()
                    || !self.key_passphrase_file.is_empty()
                {
                    return Err(invalid("oci_sd: instance_principal auth must not have tenancy, user, fingerprint, key_file, key_passphrase, or key_passphrase_file set"));
                }
            }
            other => {
                return Err(invalid(format!(
                    r#"oci_sd: unknown auth method {other:?}, expected "api_key" or "instance_principal""#
                )))
            }
        }
        for (i, c) in self.compartments.iter().enumerate() {
            if c.is_empty() {
                return Err(invalid(format!(
                    "oci_sd: compartments[{i}] must not be empty"
                )));
            }
        }
        if self.refresh_interval.is_zero() {
            return Err(invalid(format!(
                "oci_sd: refresh_interval must be positive, got {}",
                format_duration(self.refresh_interval)
            )));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `openstack_sd_configs`.
    pub struct OpenstackSdConfig {
        identity_endpoint: String = String::new(),
        username: String = String::new(),
        userid: String = String::new(),
        password: Secret = Secret::default(),
        project_name: String = String::new(),
        project_id: String = String::new(),
        domain_name: String = String::new(),
        domain_id: String = String::new(),
        application_credential_name: String = String::new(),
        application_credential_id: String = String::new(),
        application_credential_secret: Secret = Secret::default(),
        role: String = String::new(),
        region: String = String::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        port: u16 = 80,
        all_tenants: bool = false,
        tls_config: TlsConfig = TlsConfig::default(),
        availability: String = "public".to_owned(),
    }
}

impl SdConfig for OpenstackSdConfig {
    const KEY: &'static str = "openstack_sd_configs";
    const SUPPORTED: bool = false;
    fn validate(&mut self) -> Check {
        if !self.role.is_empty()
            && !["hypervisor", "instance", "loadbalancer"].contains(&self.role.as_str())
        {
            return Err(invalid(format!("unknown OpenStack SD role {:?}", self.role)).at("role"));
        }
        self.tls_config.validate().map_err(|e| e.at("tls_config"))?;
        if !["public", "internal", "admin"].contains(&self.availability.as_str()) {
            return Err(invalid(format!(
                "unknown availability {}, must be one of admin, internal or public",
                self.availability
            )));
        }
        if self.role.is_empty() {
            return Err(invalid(
                "role missing (one of: instance, hypervisor, loadbalancer)",
            ));
        }
        if self.region.is_empty() {
            return Err(invalid("openstack SD configuration requires a region"));
        }
        Ok(())
    }
    fn set_directory(&mut self, dir: &Path) {
        self.tls_config.set_directory(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn azure_requires_oauth_credentials() {
        let mut c = AzureSdConfig {
            subscription_id: "s".into(),
            ..AzureSdConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().message,
            "azure SD configuration requires a tenant_id"
        );
        c.authentication_method = "ManagedIdentity".into();
        assert!(c.validate().is_ok());
        c.authentication_method = "invalid".into();
        assert!(c
            .validate()
            .unwrap_err()
            .message
            .starts_with(r#"unknown authentication_type "invalid""#));
    }

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
    fn key_files_follow_the_config_directory() {
        let mut c = OciSdConfig {
            key_file: "k.pem".into(),
            ..OciSdConfig::default()
        };
        c.set_directory(Path::new("/etc/prometheus"));
        assert_eq!(c.key_file, "/etc/prometheus/k.pem");
        assert_eq!(c.key_passphrase_file, "");
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
