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

pub mod consul;
pub mod kubernetes;

use std::future::Future;
use std::pin::Pin;

use model::Labels;
use tokio::sync::mpsc;

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
