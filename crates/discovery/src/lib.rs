//! Service discovery: each provider watches one source (a static list, files,
//! an HTTP endpoint, DNS, a Kubernetes API server, Consul) and sends *target
//! groups* whenever what it knows changes.
//!
//! A separate crate rather than a module of `scrape`, because the notifier
//! (`rules`) finds its Alertmanagers with the same providers.
//!
//! The contract mirrors Prometheus's: a provider sends, on its channel, the
//! full current state of every group that changed, identified by
//! [`TargetGroup::source`]; a group sent with no targets means the group is
//! gone. The first send after start is the provider's complete view (an
//! empty `Vec` when it found nothing, so the consumer knows discovery ran).
//! A provider stops when its receiver is dropped or its task is aborted.
//!
//! Providers here: [`static_sd::StaticDiscovery`] (`static_configs`),
//! [`file::FileDiscovery`] (`file_sd_configs`), [`http::HttpDiscovery`]
//! (`http_sd_configs`) and [`dns::DnsDiscovery`] (`dns_sd_configs`). The
//! [`DiscoveryManager`] runs one provider per distinct SD config, shared by
//! every job that uses the same config, and hands its consumer (the scrape
//! or notifier side) the merged groups of each job, at most every five
//! seconds. Counters that Prometheus exports as `prometheus_sd_*` metrics are
//! plain atomics on [`SdStats`] until the metrics crate exists.
//!
//! ```no_run
//! # async fn demo(cfg: &config::Config) -> Result<(), discovery::DiscoveryError> {
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use discovery::{DiscoveryManager, ManagerOptions};
//!
//! let (manager, mut updates) = DiscoveryManager::new(ManagerOptions::default());
//! let manager = Arc::new(manager);
//! let jobs: HashMap<String, config::ServiceDiscoveryConfigs> = cfg
//!     .scrape_configs
//!     .iter()
//!     .map(|s| (s.job_name.clone(), s.service_discovery.clone()))
//!     .collect();
//! // Refuses, before anything starts, discoveries pharos cannot run.
//! manager.apply_config(jobs).await?;
//! let sender = Arc::clone(&manager);
//! tokio::spawn(async move { sender.run(std::future::pending::<()>()).await });
//! // A reload calls `manager.apply_config` again; unchanged providers go on.
//! while let Some(groups_by_job) = updates.recv().await {
//!     for (job, groups) in groups_by_job {
//!         println!("{job}: {} groups", groups.len());
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod consul;
pub mod dns;
mod error;
pub mod file;
pub mod http;
pub mod kubernetes;
mod manager;
mod refresh;
mod sd_config;
pub mod static_sd;
mod stats;

use std::future::Future;
use std::pin::Pin;

use model::Labels;
use tokio::sync::mpsc;

pub use error::DiscoveryError;
pub use manager::{DiscoveryManager, ManagerOptions, TargetsByJob};
pub use sd_config::SdConfig;
pub use stats::{RefreshStats, SdStats};

/// The label that holds a target's address (`host:port`).
pub(crate) const ADDRESS_LABEL: &str = "__address__";

/// A set of targets sharing labels, from one source of one provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group within its provider (a file name and index, a
    /// Kubernetes object key, a Consul service name, …); a later group with
    /// the same source replaces this one.
    pub source: String,
    /// One label set per target; each has at least `__address__` and may
    /// have `__meta_*` labels.
    pub targets: Vec<Labels>,
    /// Labels common to every target of the group (a target's own label of
    /// the same name wins).
    pub labels: Labels,
}

/// The future a provider runs as.
pub type DiscoveryFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A service-discovery provider.
pub trait Discoverer: Send + 'static {
    /// Runs until `tx` is closed, sending updates as described in the crate
    /// docs.
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture;
}
