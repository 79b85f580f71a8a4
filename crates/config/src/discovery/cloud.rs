//! Discoveries of the large clouds, each with an identity system of its
//! own: Azure, GCE, OCI and OpenStack. pharos cannot run these yet; they
//! parse and validate as in Prometheus.

use std::path::Path;
use std::time::Duration;

use super::{http_sd_kind, yaml_struct, SdConfig};
use crate::http_client::{HttpClientConfig, TlsConfig};
use crate::secret::Secret;
use crate::validate::{invalid, Check};
use crate::values::format_duration;

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
    fn key_files_follow_the_config_directory() {
        let mut c = OciSdConfig {
            key_file: "k.pem".into(),
            ..OciSdConfig::default()
        };
        c.set_directory(Path::new("/etc/prometheus"));
        assert_eq!(c.key_file, "/etc/prometheus/k.pem");
        assert_eq!(c.key_passphrase_file, "");
    }
}
