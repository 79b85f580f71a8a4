//! Service discovery sections: every `*_sd_configs` list Prometheus 3.x
//! knows (and `static_configs`), each fully typed with Prometheus's field
//! names, defaults and checks. pharos runs only some of them; the others
//! parse and validate so a config written for Prometheus is understood,
//! and [`ServiceDiscoveryConfigs::unsupported`] lets the server refuse them
//! with a clear message.

mod aws;
mod cloud;
mod consul;
mod hosting;
mod http_dns;
mod kubernetes;
mod platforms;
mod static_file;

use std::path::Path;

use serde::{Deserialize, Deserializer};

pub use aws::{
    AwsFilter, AwsSdConfig, Ec2SdConfig, EcsSdConfig, ElasticacheSdConfig, LightsailSdConfig,
    MskSdConfig, RdsSdConfig,
};
pub use cloud::{AzureSdConfig, GceSdConfig, OciSdConfig, OpenstackSdConfig};
pub use consul::ConsulSdConfig;
pub use hosting::{
    DigitaloceanSdConfig, HetznerSdConfig, IonosSdConfig, LinodeSdConfig, OutscaleSdConfig,
    OvhcloudSdConfig, ScalewaySdConfig, StackitSdConfig, VultrSdConfig,
};
pub use http_dns::{DnsSdConfig, HttpSdConfig};
pub use kubernetes::{
    KubernetesAttachMetadata, KubernetesNamespaces, KubernetesSdConfig, KubernetesSelector,
};
pub use platforms::{
    DockerFilter, DockerSdConfig, DockerswarmSdConfig, EurekaSdConfig, KumaSdConfig,
    MarathonSdConfig, NerveSdConfig, NomadSdConfig, PuppetdbSdConfig, ServersetSdConfig,
    TritonSdConfig, UyuniSdConfig,
};
pub use static_file::{FileSdConfig, StaticConfig};

use crate::validate::Check;

/// One kind of service discovery.
pub(crate) trait SdConfig {
    /// Its key in a scrape config, e.g. `kubernetes_sd_configs`.
    const KEY: &'static str;
    /// Whether pharos can run this kind of discovery.
    const SUPPORTED: bool;
    /// Prometheus's checks for this kind; may fill in derived defaults.
    fn validate(&mut self) -> Check;
    /// Resolves relative file names against the config file's directory.
    fn set_directory(&mut self, _dir: &Path) {}
}

/// Defines a struct of YAML fields with documented fields, its Prometheus
/// defaults and strict decoding: `field: Type = default`.
macro_rules! yaml_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $default:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $(
                #[doc = concat!("`", stringify!($field), "`.")]
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }
    };
}
pub(crate) use yaml_struct;

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
            fn validate(&mut self) -> $crate::validate::Check {
                self.check_own()?;
                self.http.validate()
            }
            fn set_directory(&mut self, dir: &std::path::Path) {
                self.http.set_directory(dir);
                $( crate::load::join_dir(dir, &mut self.$file); )*
            }
        }
    };
}
pub(crate) use http_sd_kind;

/// Decodes one `*_sd_configs` list; a null entry is an error, as in
/// Prometheus (`empty or null section in kubernetes_sd_configs`).
fn sd_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + SdConfig,
{
    let items: Vec<Option<T>> = Vec::deserialize(d)?;
    items
        .into_iter()
        .map(|x| {
            x.ok_or_else(|| {
                serde::de::Error::custom(format!("empty or null section in {}", T::KEY))
            })
        })
        .collect()
}

macro_rules! sd_kinds {
    ($( $field:ident : $ty:ty ),* $(,)?) => {
        /// All service discovery sections of a scrape config or an
        /// Alertmanager entry, one list per kind (inline in the YAML).
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct ServiceDiscoveryConfigs {
            $(
                #[doc = concat!("`", stringify!($field), "`.")]
                #[serde(deserialize_with = "sd_list")]
                pub $field: Vec<$ty>,
            )*
        }

        impl ServiceDiscoveryConfigs {
            /// Runs every section's checks; the error names the section.
            pub(crate) fn validate(&mut self) -> Check {
                $(
                    for (i, c) in self.$field.iter_mut().enumerate() {
                        c.validate().map_err(|e| e.at_index(i).at(<$ty as SdConfig>::KEY))?;
                    }
                )*
                Ok(())
            }

            /// Resolves relative file names against `dir`.
            pub(crate) fn set_directory(&mut self, dir: &Path) {
                $( for c in &mut self.$field { c.set_directory(dir); } )*
            }

            /// The keys of the sections in use that pharos cannot run yet.
            pub fn unsupported(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(
                    if !<$ty as SdConfig>::SUPPORTED && !self.$field.is_empty() {
                        out.push(<$ty as SdConfig>::KEY);
                    }
                )*
                out
            }

        }
    };
}

sd_kinds! {
    static_configs: StaticConfig,
    file_sd_configs: FileSdConfig,
    http_sd_configs: HttpSdConfig,
    dns_sd_configs: DnsSdConfig,
    kubernetes_sd_configs: KubernetesSdConfig,
    consul_sd_configs: ConsulSdConfig,
    aws_sd_configs: AwsSdConfig,
    azure_sd_configs: AzureSdConfig,
    digitalocean_sd_configs: DigitaloceanSdConfig,
    docker_sd_configs: DockerSdConfig,
    dockerswarm_sd_configs: DockerswarmSdConfig,
    ec2_sd_configs: Ec2SdConfig,
    ecs_sd_configs: EcsSdConfig,
    elasticache_sd_configs: ElasticacheSdConfig,
    eureka_sd_configs: EurekaSdConfig,
    gce_sd_configs: GceSdConfig,
    hetzner_sd_configs: HetznerSdConfig,
    ionos_sd_configs: IonosSdConfig,
    kuma_sd_configs: KumaSdConfig,
    lightsail_sd_configs: LightsailSdConfig,
    linode_sd_configs: LinodeSdConfig,
    marathon_sd_configs: MarathonSdConfig,
    msk_sd_configs: MskSdConfig,
    nerve_sd_configs: NerveSdConfig,
    nomad_sd_configs: NomadSdConfig,
    oci_sd_configs: OciSdConfig,
    openstack_sd_configs: OpenstackSdConfig,
    outscale_sd_configs: OutscaleSdConfig,
    ovhcloud_sd_configs: OvhcloudSdConfig,
    puppetdb_sd_configs: PuppetdbSdConfig,
    rds_sd_configs: RdsSdConfig,
    scaleway_sd_configs: ScalewaySdConfig,
    serverset_sd_configs: ServersetSdConfig,
    stackit_sd_configs: StackitSdConfig,
    triton_sd_configs: TritonSdConfig,
    uyuni_sd_configs: UyuniSdConfig,
    vultr_sd_configs: VultrSdConfig,
}

/// Checks an `http`/`https` URL as the HTTP and PuppetDB discoveries do.
pub(crate) fn check_http_url(url: &str) -> Check {
    use crate::validate::invalid;
    if url.is_empty() {
        return Err(invalid("URL is missing"));
    }
    let u = crate::values::GoUrl::parse(url).map_err(invalid)?;
    if u.scheme != "http" && u.scheme != "https" {
        return Err(invalid("URL scheme must be 'http' or 'https'"));
    }
    if u.host.is_empty() {
        return Err(invalid("host is missing in URL"));
    }
    Ok(())
}
