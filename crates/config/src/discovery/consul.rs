//! `consul_sd_configs`: targets from Consul's catalog.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{yaml_struct, SdConfig};
use crate::http_client::{BasicAuth, HttpClientConfig};
use crate::secret::Secret;
use crate::validate::{invalid, Check};

yaml_struct! {
    /// `consul_sd_configs`.
    pub struct ConsulSdConfig {
        server: String = "localhost:8500".to_owned(),
        path_prefix: String = String::new(),
        token: Secret = Secret::default(),
        datacenter: String = String::new(),
        namespace: String = String::new(),
        partition: String = String::new(),
        tag_separator: String = ",".to_owned(),
        scheme: String = "http".to_owned(),
        username: String = String::new(),
        password: Secret = Secret::default(),
        allow_stale: bool = true,
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(30),
        services: Vec<String> = Vec::new(),
        tags: Vec<String> = Vec::new(),
        node_meta: BTreeMap<String, String> = BTreeMap::new(),
        filter: String = String::new(),
        health_filter: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
    }
}

impl SdConfig for ConsulSdConfig {
    const KEY: &'static str = "consul_sd_configs";
    const SUPPORTED: bool = true;

    fn validate(&mut self) -> Check {
        if self.server.trim().is_empty() {
            return Err(invalid("consul SD configuration requires a server address"));
        }
        if !self.username.is_empty() || !self.password.is_empty() {
            if self.http.basic_auth.is_some() {
                return Err(invalid("at most one of consul SD configuration username and password and basic auth can be configured"));
            }
            // Prometheus turns the legacy fields into basic auth.
            self.http.basic_auth = Some(BasicAuth {
                username: self.username.clone(),
                password: self.password.clone(),
                ..BasicAuth::default()
            });
        }
        if !self.token.is_empty()
            && (self.http.authorization.is_some() || self.http.oauth2.is_some())
        {
            return Err(invalid(
                "at most one of consul SD token, authorization, or oauth2 can be configured",
            ));
        }
        self.http.validate()
    }

    fn set_directory(&mut self, dir: &std::path::Path) {
        self.http.set_directory(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_credentials_become_basic_auth() {
        let mut c = ConsulSdConfig {
            username: "u".into(),
            password: Secret::new("p"),
            ..ConsulSdConfig::default()
        };
        c.validate().unwrap();
        assert_eq!(c.http.basic_auth.unwrap().username, "u");
        let mut c = ConsulSdConfig {
            server: " ".into(),
            ..ConsulSdConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
