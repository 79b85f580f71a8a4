//! One service-discovery config as the manager runs it: the unit of
//! provider sharing (two jobs with equal configs share one provider).

use std::sync::Arc;

use config::discovery::{
    ConsulSdConfig, DnsSdConfig, FileSdConfig, HttpSdConfig, KubernetesSdConfig, StaticConfig,
};
use config::ServiceDiscoveryConfigs;

use crate::consul::ConsulDiscovery;
use crate::dns::DnsDiscovery;
use crate::file::FileDiscovery;
use crate::http::{unsupported_http_setting, HttpDiscovery};
use crate::kubernetes::KubernetesDiscovery;
use crate::static_sd::StaticDiscovery;
use crate::stats::SdStats;
use crate::{Discoverer, DiscoveryError};

/// One provider's config. All of a job's `static_configs` form one config,
/// as in Prometheus; every entry of the other lists is a config of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum SdConfig {
    /// A job's `static_configs`, in order.
    Static(Vec<StaticConfig>),
    /// One `file_sd_configs` entry.
    File(FileSdConfig),
    /// One `http_sd_configs` entry.
    Http(HttpSdConfig),
    /// One `dns_sd_configs` entry.
    Dns(DnsSdConfig),
    /// One `kubernetes_sd_configs` entry.
    Kubernetes(KubernetesSdConfig),
    /// One `consul_sd_configs` entry.
    Consul(ConsulSdConfig),
}

impl SdConfig {
    /// The configs of one job's discovery sections, or an error naming the
    /// first section pharos cannot run (`job` names the job in it).
    pub fn list(job: &str, sd: &ServiceDiscoveryConfigs) -> Result<Vec<SdConfig>, DiscoveryError> {
        let unsupported = |kind: &str| DiscoveryError::Unsupported {
            job: job.to_owned(),
            kind: kind.to_owned(),
        };
        if let Some(kind) = sd.unsupported().first() {
            return Err(unsupported(kind));
        }
        let http_settings = sd
            .http_sd_configs
            .iter()
            .map(|h| (&h.http, "http_sd_configs"))
            .chain(
                sd.kubernetes_sd_configs
                    .iter()
                    .map(|k| (&k.http, "kubernetes_sd_configs")),
            )
            .chain(
                sd.consul_sd_configs
                    .iter()
                    .map(|c| (&c.http, "consul_sd_configs")),
            );
        for (http, key) in http_settings {
            if let Some(what) = unsupported_http_setting(http) {
                return Err(unsupported(&format!("{what} in {key}")));
            }
        }
        let mut out = Vec::new();
        if !sd.static_configs.is_empty() {
            out.push(SdConfig::Static(sd.static_configs.clone()));
        }
        out.extend(sd.file_sd_configs.iter().cloned().map(SdConfig::File));
        out.extend(sd.http_sd_configs.iter().cloned().map(SdConfig::Http));
        out.extend(sd.dns_sd_configs.iter().cloned().map(SdConfig::Dns));
        out.extend(
            sd.kubernetes_sd_configs
                .iter()
                .cloned()
                .map(SdConfig::Kubernetes),
        );
        out.extend(sd.consul_sd_configs.iter().cloned().map(SdConfig::Consul));
        Ok(out)
    }

    /// The mechanism's name, which also names its providers (`file/3`).
    pub fn kind(&self) -> &'static str {
        match self {
            SdConfig::Static(_) => "static",
            SdConfig::File(_) => "file",
            SdConfig::Http(_) => "http",
            SdConfig::Dns(_) => "dns",
            SdConfig::Kubernetes(_) => "kubernetes",
            SdConfig::Consul(_) => "consul",
        }
    }

    /// Builds the provider.
    pub(crate) fn discoverer(
        &self,
        stats: &Arc<SdStats>,
    ) -> Result<Box<dyn Discoverer>, DiscoveryError> {
        let stats = Arc::clone(stats);
        Ok(match self {
            SdConfig::Static(c) => Box::new(StaticDiscovery::new(c)),
            SdConfig::File(c) => Box::new(FileDiscovery::new(c, stats)),
            SdConfig::Http(c) => Box::new(HttpDiscovery::new(c, stats)?),
            SdConfig::Dns(c) => Box::new(DnsDiscovery::new(c, stats)),
            SdConfig::Kubernetes(c) => {
                Box::new(
                    KubernetesDiscovery::new(c).map_err(|e| DiscoveryError::Build {
                        kind: "kubernetes",
                        reason: e.to_string(),
                    })?,
                )
            }
            SdConfig::Consul(c) => {
                Box::new(ConsulDiscovery::new(c).map_err(|e| DiscoveryError::Build {
                    kind: "consul",
                    reason: e.to_string(),
                })?)
            }
        })
    }
}
