//! `prometheus.yml`: the typed model of Prometheus 3.x's configuration
//! file, its defaults, and its validation with Prometheus's own messages,
//! each error naming the file, line, column and field.
//!
//! The model covers every section — `global`, `scrape_configs` (with all
//! HTTP client settings and limits), `scrape_config_files`, `rule_files`,
//! `alerting`, `remote_write`, `remote_read`, `storage`, `tracing`, `otlp`,
//! `runtime` — and every service discovery Prometheus knows. Discoveries
//! pharos cannot run yet still parse and validate;
//! [`ServiceDiscoveryConfigs::unsupported`] names them so the server can
//! refuse them clearly.
//!
//! Decoding is as strict as Prometheus's (`yaml.UnmarshalStrict`): unknown
//! and repeated keys are errors. It runs on this crate's own serde
//! deserializer over the positioned events of `yaml-rust2` (a maintained,
//! pure-Rust YAML 1.2 parser), not on a serde YAML crate: `serde_yaml` is
//! archived, and its maintained forks (`serde_norway`, `serde_yaml_ng`)
//! drop the tag of a `!!binary` scalar — which Prometheus's own test
//! vectors use to put non-UTF-8 bytes in label names — and cannot give a
//! line for errors found after decoding. Owning the deserializer also gives
//! Go's habits where Prometheus relies on them: a null is the empty value,
//! inline structs (`yaml:",inline"`) share their parent's keys, merge keys
//! (`<<`) work, and errors are worded as Go words them. Validation is a separate pass over the decoded
//! structs that reports the field path of the problem; the loader looks the
//! path up in the YAML tree to give its line. Like Prometheus, loading
//! stops at the first problem. [`Config::to_yaml`] writes a loaded config
//! back (secrets as `<secret>`), as Prometheus's status page shows it.
//!
//! This crate knows nothing about running discovery, scraping or rules; it
//! owns only the file format. Relabel rules come from the `relabel` crate.
//!
//! ```
//! let text = "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['localhost:9100']\n";
//! let cfg = config::load_str(text, "prometheus.yml").unwrap();
//! let job = &cfg.scrape_configs[0];
//! assert_eq!(job.scrape_interval, std::time::Duration::from_secs(30));
//! assert_eq!(job.scrape_timeout, std::time::Duration::from_secs(10));
//!
//! let err = config::load_str("scrape_configs:\n  - job_name: ''\n", "p.yml").unwrap_err();
//! assert_eq!(err.to_string(), "p.yml:2:5: scrape_configs[0]: job_name is empty");
//! ```

mod alerting;
mod config;
pub mod discovery;
mod error;
mod global;
mod http_client;
mod load;
mod remote;
mod scrape;
mod secret;
mod storage;
mod telemetry;
mod validate;
mod values;
pub mod web;
mod yaml;

pub use alerting::{AlertingConfig, AlertmanagerConfig};
pub use config::Config;
pub use discovery::ServiceDiscoveryConfigs;
pub use error::{ConfigError, Located};
pub use global::{
    GlobalConfig, DEFAULT_SCRAPE_PROTOCOLS, ESCAPING_SCHEMES, PROTO_FIRST_SCRAPE_PROTOCOLS,
    SCRAPE_PROTOCOLS,
};
pub use http_client::{
    AnyValue, Authorization, BasicAuth, Header, HttpClientConfig, OAuth2, ProxyConfig, TlsConfig,
};
pub use load::{decode_yaml, load_file, load_str, load_target_groups, LoadOptions};
pub use remote::{
    AzureAdConfig, AzureIdentity, GoogleIamConfig, MetadataConfig, QueueConfig, RemoteReadConfig,
    RemoteWriteConfig, SigV4Config,
};
pub use scrape::ScrapeConfig;
pub use secret::Secret;
pub use storage::{
    ChunkEncodingConfig, ExemplarsConfig, RetentionConfig, StorageConfig, TsdbConfig,
};
pub use telemetry::{OtlpConfig, RuntimeConfig, TracingConfig, TRANSLATION_STRATEGIES};
pub use validate::{FieldPath, Seg};
pub use values::GoUrl;
pub use web::WebConfig;
pub use yaml::ser::SerError;
