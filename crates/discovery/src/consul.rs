//! Consul service discovery (`consul_sd_configs`): the catalog's services
//! through blocking queries, one watcher per matching service reading its
//! health entries (every status; `__meta_consul_health` tells which), and
//! the `__meta_consul_*` labels Prometheus sets.
//!
//! With an explicit `services` list and neither `tags` nor `filter`, the
//! catalog is not watched: each named service is watched directly, as
//! Prometheus does. Otherwise the catalog's service list is watched and a
//! watcher starts for each service that matches `services` and carries all
//! `tags`; a service that leaves the catalog has its group sent empty. Each
//! query waits for the next `refresh_interval` tick before repeating, and
//! an `X-Consul-Index` lower than the last one resets the index to 0, as
//! Consul's documentation advises. Group sources are service names.
//!
//! ```no_run
//! use discovery::consul::ConsulDiscovery;
//! use discovery::Discoverer;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut sd = config::discovery::ConsulSdConfig::default();
//! sd.server = "consul.example:8500".into();
//! sd.tags = vec!["prod".into()];
//! let (tx, mut rx) = tokio::sync::mpsc::channel(8);
//! tokio::spawn(Box::new(ConsulDiscovery::new(&sd)?).run(tx));
//! let first = rx.recv().await; // every matching service's group
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use config::discovery::ConsulSdConfig;
use model::LabelsBuilder;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{interval, Interval, MissedTickBehavior};

use crate::{Discoverer, DiscoveryFuture, TargetGroup};

mod api;
mod targets;

/// How long to wait after a failed query (Prometheus's retry interval).
const RETRY: Duration = Duration::from_secs(15);

/// Why a Consul discovery cannot start or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsulError {
    /// The HTTP client settings cannot be applied.
    #[error("cannot apply Consul SD HTTP client settings: {0}")]
    HttpSettings(String),
    /// A request failed.
    #[error("cannot query Consul at {url}: {reason}")]
    Request {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A response is not the JSON Consul sends.
    #[error("cannot decode Consul's answer from {url}: {reason}")]
    Decode {
        /// The URL requested.
        url: String,
        /// What is wrong with the body.
        reason: String,
    },
}

/// A Consul SD provider; see the module docs.
pub struct ConsulDiscovery {
    shared: Arc<Shared>,
    datacenter: String,
    services: Vec<String>,
    filter: String,
}

/// What every service watcher needs.
struct Shared {
    api: api::Api,
    tags: Vec<String>,
    tag_separator: String,
    allow_stale: bool,
    health_filter: String,
    refresh: Duration,
}

impl ConsulDiscovery {
    /// Prepares discovery for `c` (a validated config); nothing is
    /// contacted before [`Discoverer::run`].
    pub fn new(c: &ConsulSdConfig) -> Result<Self, ConsulError> {
        Ok(ConsulDiscovery {
            shared: Arc::new(Shared {
                api: api::Api::new(c)?,
                tags: c.tags.clone(),
                tag_separator: c.tag_separator.clone(),
                allow_stale: c.allow_stale,
                health_filter: c.health_filter.clone(),
                refresh: c.refresh_interval,
            }),
            datacenter: c.datacenter.clone(),
            services: c.services.clone(),
            filter: c.filter.clone(),
        })
    }

    /// Whether the service `name` with `tags` is to be watched.
    fn wanted(&self, name: &str, tags: &[String]) -> bool {
        (self.services.is_empty() || self.services.iter().any(|s| s == name))
            && self.shared.tags.iter().all(|t| tags.contains(t))
    }
}

/// The next index of a blocking query: the answer's, or 0 when the index
/// went backwards (a Consul server restored from a snapshot, say).
fn next_index(last: u64, got: u64) -> u64 {
    if got < last {
        0
    } else {
        got
    }
}

fn ticker(every: Duration) -> Interval {
    let mut t = interval(every.max(Duration::from_millis(1)));
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

impl Shared {
    /// One health query of `name`: its group and the new index.
    async fn fetch(
        &self,
        name: &str,
        dc: &str,
        index: u64,
    ) -> Result<(TargetGroup, u64), ConsulError> {
        let (entries, got) = self
            .api
            .health(
                name,
                &self.tags,
                index,
                self.allow_stale,
                &self.health_filter,
            )
            .await?;
        let mut labels = LabelsBuilder::new();
        labels.set("__meta_consul_service", name);
        labels.set("__meta_consul_dc", dc);
        let group = TargetGroup {
            source: name.to_owned(),
            targets: entries
                .iter()
                .map(|e| targets::target(e, &self.tag_separator))
                .collect(),
            labels: labels.build(),
        };
        Ok((group, got))
    }

    /// The first answer for `name`, retried until it comes.
    async fn first(&self, name: &str, dc: &str) -> (TargetGroup, u64) {
        loop {
            match self.fetch(name, dc, 0).await {
                Ok(r) => return r,
                Err(e) => {
                    tracing::warn!(service = name, error = %e, "Consul SD: cannot read service health");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Watches `name` from `index` on, sending its group whenever the
    /// index moves.
    async fn watch(
        self: Arc<Self>,
        name: String,
        dc: String,
        mut index: u64,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) {
        let mut tick = ticker(self.refresh);
        tick.tick().await;
        loop {
            tick.tick().await;
            match self.fetch(&name, &dc, index).await {
                Err(e) => {
                    tracing::warn!(service = %name, error = %e, "Consul SD: cannot read service health");
                    tokio::time::sleep(RETRY).await;
                }
                Ok((_, got)) if got == index => {}
                Ok((group, got)) => {
                    index = next_index(index, got);
                    if tx.send(vec![group]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

impl Discoverer for ConsulDiscovery {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        Box::pin(async move {
            let watchers = Watchers::default();
            tokio::select! {
                () = self.run_inner(&tx, watchers) => {}
                () = tx.closed() => {}
            }
        })
    }
}

/// The running service watchers; aborted when dropped.
#[derive(Default)]
struct Watchers(HashMap<String, JoinHandle<()>>);

impl Drop for Watchers {
    fn drop(&mut self) {
        for h in self.0.values() {
            h.abort();
        }
    }
}

impl ConsulDiscovery {
    async fn datacenter(&self) -> String {
        if !self.datacenter.is_empty() {
            return self.datacenter.clone();
        }
        loop {
            match self.shared.api.datacenter().await {
                Ok(dc) => return dc,
                Err(e) => {
                    tracing::warn!(error = %e, "Consul SD: cannot learn the agent's datacenter");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Reads the first answer of each of `names` and starts their watchers;
    /// returns their groups.
    async fn start(
        &self,
        names: Vec<String>,
        dc: &str,
        w: &mut Watchers,
        tx: &mpsc::Sender<Vec<TargetGroup>>,
    ) -> Vec<TargetGroup> {
        let firsts =
            futures::future::join_all(names.iter().map(|n| self.shared.first(n, dc))).await;
        let mut groups = Vec::with_capacity(names.len());
        for (name, (group, index)) in names.into_iter().zip(firsts) {
            groups.push(group);
            let task = tokio::spawn(self.shared.clone().watch(
                name.clone(),
                dc.to_owned(),
                index,
                tx.clone(),
            ));
            w.0.insert(name, task);
        }
        groups
    }

    async fn run_inner(&self, tx: &mpsc::Sender<Vec<TargetGroup>>, mut w: Watchers) {
        let dc = self.datacenter().await;
        if !self.services.is_empty() && self.shared.tags.is_empty() && self.filter.is_empty() {
            let groups = self.start(self.services.clone(), &dc, &mut w, tx).await;
            if tx.send(groups).await.is_ok() {
                std::future::pending::<()>().await;
            }
            return;
        }
        let mut tick = ticker(self.shared.refresh);
        let mut index = 0;
        let mut first = true;
        loop {
            tick.tick().await;
            let (services, got) = match self
                .shared
                .api
                .services(index, self.shared.allow_stale, &self.filter)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "Consul SD: cannot list the catalog's services");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            if got == index && !first {
                continue;
            }
            index = next_index(index, got);
            let new: Vec<String> = services
                .iter()
                .filter(|(name, tags)| self.wanted(name, tags) && !w.0.contains_key(*name))
                .map(|(name, _)| name.clone())
                .collect();
            let mut groups = self.start(new, &dc, &mut w, tx).await;
            let gone: Vec<String> =
                w.0.keys()
                    .filter(|n| !services.contains_key(*n))
                    .cloned()
                    .collect();
            for name in gone {
                if let Some(h) = w.0.remove(&name) {
                    h.abort();
                }
                groups.push(TargetGroup {
                    source: name,
                    ..TargetGroup::default()
                });
            }
            if groups.is_empty() && !first {
                continue;
            }
            first = false;
            if tx.send(groups).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_going_backwards_resets() {
        assert_eq!(next_index(0, 7), 7);
        assert_eq!(next_index(7, 9), 9);
        assert_eq!(next_index(9, 3), 0);
    }
}
