//! Discoveries of orchestrators and service registries: Docker, Docker
//! Swarm, Marathon, Nomad, Kuma, Eureka, Triton, Uyuni, PuppetDB, and
//! Zookeeper's Serverset and Nerve. pharos cannot run these yet.

use std::path::Path;
use std::time::Duration;

use super::{check_http_url, http_sd_kind, yaml_struct, SdConfig};
use crate::http_client::{HttpClientConfig, TlsConfig};
use crate::load::join_dir;
use crate::secret::Secret;
use crate::validate::{invalid, Check};
use crate::values::GoUrl;

yaml_struct! {
    /// A Docker API filter: `name` and `values`.
    pub struct DockerFilter {
        name: String = String::new(),
        values: Vec<String> = Vec::new(),
    }
}

fn check_host(host: &str) -> Check {
    if host.is_empty() {
        return Err(invalid("host missing"));
    }
    GoUrl::parse(host)
        .map(|_| ())
        .map_err(|e| invalid(e).at("host"))
}

yaml_struct! {
    /// `docker_sd_configs`.
    pub struct DockerSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        host: String = String::new(),
        port: u16 = 80,
        filters: Vec<DockerFilter> = Vec::new(),
        host_networking_host: String = "localhost".to_owned(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        match_first_network: bool = true,
    }
}
http_sd_kind!(DockerSdConfig, "docker_sd_configs");

impl DockerSdConfig {
    fn check_own(&self) -> Check {
        check_host(&self.host)
    }
}

yaml_struct! {
    /// `dockerswarm_sd_configs`.
    pub struct DockerswarmSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        host: String = String::new(),
        role: String = String::new(),
        port: u16 = 80,
        filters: Vec<DockerFilter> = Vec::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
    }
}
http_sd_kind!(DockerswarmSdConfig, "dockerswarm_sd_configs");

impl DockerswarmSdConfig {
    fn check_own(&self) -> Check {
        check_host(&self.host)?;
        match self.role.as_str() {
            "services" | "nodes" | "tasks" => Ok(()),
            "" => Err(invalid("role missing (one of: tasks, services, nodes)")),
            other => Err(invalid(format!(
                "invalid role {other}, expected tasks, services, or nodes"
            ))
            .at("role")),
        }
    }
}

yaml_struct! {
    /// `marathon_sd_configs`.
    pub struct MarathonSdConfig {
        servers: Vec<String> = Vec::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(30),
        auth_token: Secret = Secret::default(),
        auth_token_file: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
    }
}

impl SdConfig for MarathonSdConfig {
    const KEY: &'static str = "marathon_sd_configs";
    const SUPPORTED: bool = false;
    fn validate(&mut self) -> Check {
        if self.servers.is_empty() {
            return Err(invalid(
                "marathon_sd: must contain at least one Marathon server",
            ));
        }
        let token = !self.auth_token.is_empty();
        let token_file = !self.auth_token_file.is_empty();
        if token && token_file {
            return Err(invalid(
                "marathon_sd: at most one of auth_token & auth_token_file must be configured",
            ));
        }
        if token || token_file {
            let h = &self.http;
            if h.basic_auth.is_some() {
                return Err(invalid("marathon_sd: at most one of basic_auth, auth_token & auth_token_file must be configured"));
            }
            if !h.bearer_token.is_empty() || !h.bearer_token_file.is_empty() {
                return Err(invalid("marathon_sd: at most one of bearer_token, bearer_token_file, auth_token & auth_token_file must be configured"));
            }
            if h.authorization.is_some() {
                return Err(invalid("marathon_sd: at most one of auth_token, auth_token_file & authorization must be configured"));
            }
        }
        self.http.validate()
    }
    fn set_directory(&mut self, dir: &Path) {
        join_dir(dir, &mut self.auth_token_file);
        self.http.set_directory(dir);
    }
}

yaml_struct! {
    /// `nomad_sd_configs`.
    pub struct NomadSdConfig {
        allow_stale: bool = true,
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        namespace: String = "default".to_owned(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        region: String = "global".to_owned(),
        server: String = "http://localhost:4646".to_owned(),
        tag_separator: String = ",".to_owned(),
    }
}
http_sd_kind!(NomadSdConfig, "nomad_sd_configs");

impl NomadSdConfig {
    fn check_own(&self) -> Check {
        if self.server.trim().is_empty() {
            return Err(invalid("nomad SD configuration requires a server address"));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `kuma_sd_configs` (Kuma's xDS monitoring assignment API).
    pub struct KumaSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(15),
        #[serde(with = "crate::values::duration")]
        fetch_timeout: Duration = Duration::from_secs(120),
        server: String = String::new(),
        client_id: String = String::new(),
    }
}
http_sd_kind!(KumaSdConfig, "kuma_sd_configs");

impl KumaSdConfig {
    fn check_own(&self) -> Check {
        if self.server.is_empty() {
            return Err(invalid(format!(
                "kuma SD server must not be empty: {}",
                self.server
            )));
        }
        let u = GoUrl::parse(&self.server).map_err(|e| invalid(e).at("server"))?;
        if u.scheme.is_empty() || u.host.is_empty() {
            return Err(invalid(format!(
                "kuma SD server must not be empty and have a scheme: {}",
                self.server
            )));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `eureka_sd_configs`.
    pub struct EurekaSdConfig {
        server: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(30),
    }
}
http_sd_kind!(EurekaSdConfig, "eureka_sd_configs");

impl EurekaSdConfig {
    fn check_own(&self) -> Check {
        if self.server.is_empty() {
            return Err(invalid("eureka_sd: empty or null eureka server"));
        }
        let u = GoUrl::parse(&self.server).map_err(|e| invalid(e).at("server"))?;
        if u.scheme.is_empty() || u.host.is_empty() {
            return Err(invalid("eureka_sd: invalid eureka server URL").at("server"));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `triton_sd_configs`.
    pub struct TritonSdConfig {
        account: String = String::new(),
        role: String = "container".to_owned(),
        dns_suffix: String = String::new(),
        endpoint: String = String::new(),
        groups: Vec<String> = Vec::new(),
        port: u16 = 9163,
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        tls_config: TlsConfig = TlsConfig::default(),
        version: u32 = 1,
    }
}

impl SdConfig for TritonSdConfig {
    const KEY: &'static str = "triton_sd_configs";
    const SUPPORTED: bool = false;
    fn validate(&mut self) -> Check {
        self.tls_config.validate().map_err(|e| e.at("tls_config"))?;
        if self.role != "container" && self.role != "cn" {
            return Err(invalid(
                "triton SD configuration requires role to be 'container' or 'cn'",
            ));
        }
        if self.account.is_empty() {
            return Err(invalid("triton SD configuration requires an account"));
        }
        if self.dns_suffix.is_empty() {
            return Err(invalid("triton SD configuration requires a dns_suffix"));
        }
        if self.endpoint.is_empty() {
            return Err(invalid("triton SD configuration requires an endpoint"));
        }
        if self.refresh_interval.is_zero() {
            return Err(invalid(
                "triton SD configuration requires RefreshInterval to be a positive integer",
            ));
        }
        Ok(())
    }
    fn set_directory(&mut self, dir: &Path) {
        self.tls_config.set_directory(dir);
    }
}

yaml_struct! {
    /// `uyuni_sd_configs`.
    pub struct UyuniSdConfig {
        server: String = String::new(),
        username: String = String::new(),
        password: Secret = Secret::default(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        entitlement: String = "monitoring_entitled".to_owned(),
        separator: String = ",".to_owned(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
    }
}
http_sd_kind!(UyuniSdConfig, "uyuni_sd_configs");

impl UyuniSdConfig {
    fn check_own(&self) -> Check {
        if self.server.is_empty() {
            return Err(invalid("Uyuni SD configuration requires server host"));
        }
        GoUrl::parse(&self.server)
            .map_err(|e| invalid(format!("Uyuni Server URL is not valid: {e}")).at("server"))?;
        if self.username.is_empty() {
            return Err(invalid("Uyuni SD configuration requires a username"));
        }
        if self.password.is_empty() {
            return Err(invalid("Uyuni SD configuration requires a password"));
        }
        Ok(())
    }
}

yaml_struct! {
    /// `puppetdb_sd_configs`.
    pub struct PuppetdbSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        url: String = String::new(),
        query: String = String::new(),
        include_parameters: bool = false,
        port: u16 = 80,
    }
}
http_sd_kind!(PuppetdbSdConfig, "puppetdb_sd_configs");

impl PuppetdbSdConfig {
    fn check_own(&self) -> Check {
        check_http_url(&self.url).map_err(|e| e.at("url"))?;
        if self.query.is_empty() {
            return Err(invalid("query missing"));
        }
        Ok(())
    }
}

/// Defines a Zookeeper-based discovery (Serverset, Nerve).
macro_rules! zookeeper_sd {
    ($(#[$meta:meta])* $name:ident, $key:literal, $what:literal) => {
        yaml_struct! {
            $(#[$meta])*
            pub struct $name {
                servers: Vec<String> = Vec::new(),
                paths: Vec<String> = Vec::new(),
                #[serde(with = "crate::values::duration")]
                timeout: Duration = Duration::from_secs(10),
            }
        }

        impl SdConfig for $name {
            const KEY: &'static str = $key;
            const SUPPORTED: bool = false;
            fn validate(&mut self) -> Check {
                if self.servers.is_empty() {
                    return Err(invalid(concat!($what, " SD config must contain at least one Zookeeper server")));
                }
                if self.paths.is_empty() {
                    return Err(invalid(concat!($what, " SD config must contain at least one path")));
                }
                for p in &self.paths {
                    if !p.starts_with('/') {
                        return Err(invalid(format!(concat!($what, " SD config paths must begin with '/': {}"), p)));
                    }
                }
                Ok(())
            }
        }
    };
}

zookeeper_sd!(
    /// `serverset_sd_configs`.
    ServersetSdConfig, "serverset_sd_configs", "serverset"
);
zookeeper_sd!(
    /// `nerve_sd_configs`.
    NerveSdConfig, "nerve_sd_configs", "nerve"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marathon_token_conflicts() {
        let mut c = MarathonSdConfig {
            servers: vec!["http://m".into()],
            auth_token: Secret::new("t"),
            auth_token_file: "f".into(),
            ..MarathonSdConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().message,
            "marathon_sd: at most one of auth_token & auth_token_file must be configured"
        );
        c.auth_token_file.clear();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn eureka_and_zookeeper_checks() {
        let mut e = EurekaSdConfig {
            server: "eureka.com".into(),
            ..EurekaSdConfig::default()
        };
        assert_eq!(
            e.validate().unwrap_err().message,
            "eureka_sd: invalid eureka server URL"
        );
        let mut z = NerveSdConfig {
            servers: vec!["zk:2181".into()],
            paths: vec!["x".into()],
            ..NerveSdConfig::default()
        };
        assert_eq!(
            z.validate().unwrap_err().message,
            "nerve SD config paths must begin with '/': x"
        );
    }
}
