//! `http_sd_configs` (target groups from an HTTP endpoint) and
//! `dns_sd_configs` (targets from SRV, A, AAAA, MX or NS records).

use std::time::Duration;

use super::{check_http_url, yaml_struct, SdConfig};
use crate::http_client::HttpClientConfig;
use crate::validate::{invalid, Check};

yaml_struct! {
    /// `http_sd_configs`.
    pub struct HttpSdConfig {
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(60),
        url: String = String::new(),
    }
}

impl SdConfig for HttpSdConfig {
    const KEY: &'static str = "http_sd_configs";
    const SUPPORTED: bool = true;
    fn validate(&mut self) -> Check {
        check_http_url(&self.url).map_err(|e| e.at("url"))?;
        self.http.validate()
    }
    fn set_directory(&mut self, dir: &std::path::Path) {
        self.http.set_directory(dir);
    }
}

yaml_struct! {
    /// `dns_sd_configs`.
    pub struct DnsSdConfig {
        names: Vec<String> = Vec::new(),
        #[serde(with = "crate::values::duration")]
        refresh_interval: Duration = Duration::from_secs(30),
        #[serde(rename = "type")]
        record_type: String = "SRV".to_owned(),
        port: u16 = 0,
    }
}

impl SdConfig for DnsSdConfig {
    const KEY: &'static str = "dns_sd_configs";
    const SUPPORTED: bool = true;
    fn validate(&mut self) -> Check {
        if self.names.is_empty() {
            return Err(invalid(
                "DNS-SD config must contain at least one SRV record name",
            ));
        }
        match self.record_type.to_ascii_uppercase().as_str() {
            "SRV" => Ok(()),
            "A" | "AAAA" | "MX" | "NS" if self.port == 0 => Err(invalid(
                "a port is required in DNS-SD configs for all record types except SRV",
            )),
            "A" | "AAAA" | "MX" | "NS" => Ok(()),
            _ => Err(invalid(format!(
                "invalid DNS-SD records type {}",
                self.record_type
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns(names: &[&str], t: &str, port: u16) -> Result<(), String> {
        let mut c = DnsSdConfig {
            names: names.iter().map(|s| s.to_string()).collect(),
            record_type: t.into(),
            port,
            ..DnsSdConfig::default()
        };
        c.validate().map_err(|e| e.message)
    }

    #[test]
    fn dns_record_types() {
        assert!(dns(&["_x._tcp.example"], "SRV", 0).is_ok());
        assert!(dns(&["h"], "a", 80).is_ok());
        assert!(dns(&["h"], "A", 0)
            .unwrap_err()
            .contains("a port is required"));
        assert!(dns(&["h"], "TXT", 1)
            .unwrap_err()
            .contains("invalid DNS-SD records type TXT"));
        assert!(dns(&[], "SRV", 0).unwrap_err().contains("at least one SRV"));
    }

    #[test]
    fn http_urls() {
        for (url, want) in [
            ("http://h/sd", None),
            ("invalid", Some("URL scheme must be 'http' or 'https'")),
            ("ftp://h", Some("URL scheme must be 'http' or 'https'")),
            ("http://", Some("host is missing in URL")),
            ("", Some("URL is missing")),
        ] {
            let mut c = HttpSdConfig {
                url: url.into(),
                ..HttpSdConfig::default()
            };
            assert_eq!(
                c.validate().err().map(|e| e.message),
                want.map(String::from),
                "{url}"
            );
        }
    }
}
