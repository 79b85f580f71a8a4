//! `remote_write` and `remote_read`: remote storage endpoints, their queue
//! tuning and their authentication (HTTP client settings, SigV4, Azure AD,
//! Google IAM).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use relabel::{NameValidationScheme, RelabelConfig};

use crate::discovery::yaml_struct;
use crate::http_client::HttpClientConfig;
use crate::secret::Secret;
use crate::validate::{invalid, Check};
use crate::values::{non_null_list, GoUrl};

/// Headers remote storage may not set (lower-cased); `authorization` has a
/// message of its own.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Prometheus's check of custom headers for remote storage (and, with
/// another message for `authorization`, tracing).
pub(crate) fn check_headers(headers: &BTreeMap<String, String>, authorization_msg: &str) -> Check {
    for name in headers.keys() {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" {
            return Err(invalid(authorization_msg).at(name).at("headers"));
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(invalid(format!(
                "{name} is a reserved header. It must not be changed"
            ))
            .at(name)
            .at("headers"));
        }
    }
    Ok(())
}

const WRITE_MESSAGES: [&str; 2] = ["prometheus.WriteRequest", "io.prometheus.write.v2.Request"];

non_null_list!(
    /// `write_relabel_configs`.
    write_relabel_list,
    "empty or null relabeling rule in remote write config"
);

yaml_struct! {
    /// One `remote_write` endpoint.
    pub struct RemoteWriteConfig {
        url: Option<GoUrl> = None,
        #[serde(with = "crate::values::duration")]
        remote_timeout: Duration = Duration::from_secs(30),
        headers: BTreeMap<String, String> = BTreeMap::new(),
        #[serde(deserialize_with = "write_relabel_list")]
        write_relabel_configs: Vec<RelabelConfig> = Vec::new(),
        name: String = String::new(),
        send_exemplars: bool = false,
        send_native_histograms: bool = false,
        round_robin_dns: bool = false,
        protobuf_message: String = "prometheus.WriteRequest".to_owned(),
        failed_request_logging: bool = false,
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        queue_config: QueueConfig = QueueConfig::default(),
        metadata_config: MetadataConfig = MetadataConfig::default(),
        sigv4: Option<SigV4Config> = None,
        azuread: Option<AzureAdConfig> = None,
        google_iam: Option<GoogleIamConfig> = None,
    }
}

yaml_struct! {
    /// `queue_config`: sharding and batching of a remote write queue.
    pub struct QueueConfig {
        capacity: i64 = 10_000,
        max_shards: i64 = 50,
        min_shards: i64 = 1,
        max_samples_per_send: i64 = 2000,
        #[serde(with = "crate::values::duration")]
        batch_send_deadline: Duration = Duration::from_secs(5),
        #[serde(with = "crate::values::duration")]
        min_backoff: Duration = Duration::from_millis(30),
        #[serde(with = "crate::values::duration")]
        max_backoff: Duration = Duration::from_secs(5),
        retry_on_http_429: bool = false,
        #[serde(with = "crate::values::duration")]
        sample_age_limit: Duration = Duration::ZERO,
    }
}

yaml_struct! {
    /// `metadata_config`: sending metric metadata.
    pub struct MetadataConfig {
        send: bool = true,
        #[serde(with = "crate::values::duration")]
        send_interval: Duration = Duration::from_secs(60),
        max_samples_per_send: i64 = 2000,
    }
}

yaml_struct! {
    /// `sigv4`: AWS Signature Version 4 signing.
    pub struct SigV4Config {
        region: String = String::new(),
        access_key: String = String::new(),
        secret_key: Secret = Secret::default(),
        profile: String = String::new(),
        role_arn: String = String::new(),
        external_id: String = String::new(),
        use_fips_sts_endpoint: bool = false,
    }
}

yaml_struct! {
    /// `azuread`: Azure AD authentication for remote write.
    pub struct AzureAdConfig {
        managed_identity: Option<AzureIdentity> = None,
        workload_identity: Option<AzureIdentity> = None,
        oauth: Option<AzureIdentity> = None,
        sdk: Option<AzureIdentity> = None,
        certificate: Option<AzureIdentity> = None,
        cloud: String = "AzurePublic".to_owned(),
        scope: String = String::new(),
    }
}

yaml_struct! {
    /// The settings of one Azure AD method (each uses some of them).
    pub struct AzureIdentity {
        client_id: String = String::new(),
        client_secret: Secret = Secret::default(),
        tenant_id: String = String::new(),
        token_file_path: String = String::new(),
        certificate_path: String = String::new(),
        certificate_key_path: String = String::new(),
        certificate_password: Secret = Secret::default(),
        send_certificate_chain: bool = false,
    }
}

yaml_struct! {
    /// `google_iam`: Google Cloud credentials.
    pub struct GoogleIamConfig {
        credentials_file: String = String::new(),
    }
}

impl RemoteWriteConfig {
    /// Whether HTTP/2 is used; remote write defaults it off.
    pub fn enable_http2(&self) -> bool {
        self.http.enable_http2.unwrap_or(false)
    }

    pub(crate) fn validate(&mut self, scheme: NameValidationScheme) -> Check {
        if self.url.is_none() {
            return Err(invalid("url for remote_write is empty"));
        }
        check_headers(&self.headers, "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter")?;
        if !WRITE_MESSAGES.contains(&self.protobuf_message.as_str()) {
            return Err(invalid(format!(
                "invalid protobuf_message value: unknown type for remote write protobuf message {}, supported: {}",
                self.protobuf_message,
                WRITE_MESSAGES.join(", ")
            ))
            .at("protobuf_message"));
        }
        self.http.validate()?;
        self.queue_config
            .validate()
            .map_err(|e| e.at("queue_config"))?;
        if let Some(a) = &self.azuread {
            a.validate().map_err(|e| e.at("azuread"))?;
        }
        let configured: Vec<&str> = [
            ("basic_auth", self.http.basic_auth.is_some()),
            ("authorization", self.http.authorization.is_some()),
            ("oauth2", self.http.oauth2.is_some()),
            ("sigv4", self.sigv4.is_some()),
            ("azuread", self.azuread.is_some()),
            ("google_iam", self.google_iam.is_some()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
        if configured.len() > 1 {
            return Err(invalid(format!(
                "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [{}]",
                configured.join(" ")
            )));
        }
        for (i, r) in self.write_relabel_configs.iter_mut().enumerate() {
            r.validate(scheme).map_err(|e| {
                invalid(e.to_string())
                    .at_index(i)
                    .at("write_relabel_configs")
            })?;
        }
        Ok(())
    }

    pub(crate) fn set_directory(&mut self, dir: &Path) {
        self.http.set_directory(dir);
    }
}

impl QueueConfig {
    fn validate(&self) -> Check {
        let checks = [
            (
                self.max_shards <= 0,
                "remote write queue max_shards must be positive",
            ),
            (
                self.min_shards <= 0,
                "remote write queue min_shards must be positive",
            ),
            (
                self.min_shards > self.max_shards,
                "remote write queue min_shards must not be greater than max_shards",
            ),
            (
                self.max_samples_per_send <= 0,
                "remote write queue max_samples_per_send must be positive",
            ),
            (
                self.capacity <= 0,
                "remote write queue capacity must be positive",
            ),
            (
                self.max_backoff < self.min_backoff,
                "remote write queue max_backoff must not be less than min_backoff",
            ),
        ];
        match checks.iter().find(|(failed, _)| *failed) {
            Some((_, msg)) => Err(invalid(*msg)),
            None => Ok(()),
        }
    }
}

impl AzureAdConfig {
    fn validate(&self) -> Check {
        if self.cloud.is_empty() {
            return Err(invalid("must provide a cloud in the Azure AD config"));
        }
        let methods = [
            &self.managed_identity,
            &self.workload_identity,
            &self.oauth,
            &self.sdk,
            &self.certificate,
        ];
        match methods.iter().filter(|m| m.is_some()).count() {
            0 => return Err(invalid("must provide an Azure Managed Identity, Azure Workload Identity, Azure OAuth, Azure Certificate or Azure SDK in the Azure AD config")),
            1 => {}
            _ => return Err(invalid("cannot provide multiple authentication methods in the Azure AD config")),
        }
        let require = |v: &str, what: &str| {
            if v.is_empty() {
                Err(invalid(format!(
                    "must provide an Azure {what} in the Azure AD config"
                )))
            } else {
                Ok(())
            }
        };
        if let Some(w) = &self.workload_identity {
            require(&w.client_id, "Workload Identity client_id")?;
            require(&w.tenant_id, "Workload Identity tenant_id")?;
        }
        if let Some(o) = &self.oauth {
            require(&o.client_id, "OAuth client_id")?;
            require(o.client_secret.expose(), "OAuth client_secret")?;
            require(&o.tenant_id, "OAuth tenant_id")?;
        }
        if let Some(c) = &self.certificate {
            require(&c.client_id, "Certificate client_id")?;
            require(&c.tenant_id, "Certificate tenant_id")?;
            require(&c.certificate_path, "Certificate certificate_path")?;
        }
        Ok(())
    }
}

yaml_struct! {
    /// One `remote_read` endpoint.
    pub struct RemoteReadConfig {
        url: Option<GoUrl> = None,
        #[serde(with = "crate::values::duration")]
        remote_timeout: Duration = Duration::from_secs(60),
        chunked_read_limit: u64 = 50_000_000,
        headers: BTreeMap<String, String> = BTreeMap::new(),
        read_recent: bool = false,
        name: String = String::new(),
        #[serde(rename = "$inline_http")]
        http: HttpClientConfig = HttpClientConfig::default(),
        #[serde(deserialize_with = "crate::values::label_set::deserialize")]
        required_matchers: BTreeMap<String, String> = BTreeMap::new(),
        filter_external_labels: bool = true,
    }
}

impl RemoteReadConfig {
    pub(crate) fn validate(&mut self) -> Check {
        if self.url.is_none() {
            return Err(invalid("url for remote_read is empty"));
        }
        check_headers(&self.headers, "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter")?;
        self.http.validate()
    }

    pub(crate) fn set_directory(&mut self, dir: &Path) {
        self.http.set_directory(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw() -> RemoteWriteConfig {
        RemoteWriteConfig {
            url: Some(GoUrl::parse("http://r/push").unwrap()),
            ..RemoteWriteConfig::default()
        }
    }

    #[test]
    fn queue_limits() {
        let mut c = rw();
        c.queue_config.min_shards = 60;
        assert_eq!(
            c.validate(NameValidationScheme::Utf8).unwrap_err().message,
            "remote write queue min_shards must not be greater than max_shards"
        );
        assert!(rw().validate(NameValidationScheme::Utf8).is_ok());
        assert!(!rw().enable_http2());
    }

    #[test]
    fn headers_and_messages() {
        let mut c = rw();
        c.headers
            .insert("x-prometheus-remote-write-version".into(), "2".into());
        assert_eq!(
            c.validate(NameValidationScheme::Utf8).unwrap_err().message,
            "x-prometheus-remote-write-version is a reserved header. It must not be changed"
        );
        let mut c = rw();
        c.protobuf_message = "x".into();
        assert!(c
            .validate(NameValidationScheme::Utf8)
            .unwrap_err()
            .message
            .starts_with("invalid protobuf_message value"));
        let mut c = rw();
        c.sigv4 = Some(SigV4Config::default());
        c.google_iam = Some(GoogleIamConfig::default());
        assert!(c
            .validate(NameValidationScheme::Utf8)
            .unwrap_err()
            .message
            .ends_with("Currently configured: [sigv4 google_iam]"));
    }
}
