//! The discovery manager: runs the providers of a set of jobs, keeps the
//! latest groups of each (job, provider, source) and hands the merged groups
//! of every job to one consumer, at most once per update interval.
//!
//! Semantics follow Prometheus's `discovery.Manager`: providers are shared
//! by every job whose config is equal; applying a new config keeps the
//! providers whose config is unchanged running (a job that starts using a
//! running provider gets its current groups at once) and stops the others;
//! a job with no discovery at all, or whose providers could not be built,
//! still appears, with no groups, so its consumer drops old targets. A group
//! sent with no targets is forgotten. The consumer gets a send only when
//! something changed since the last one; if it has not taken the previous
//! send, the new one waits for the next tick.

mod provider;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use config::discovery::StaticConfig;
use config::ServiceDiscoveryConfigs;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::stats::SdStats;
use crate::{Discoverer, DiscoveryError, SdConfig, TargetGroup};

/// The manager's output: every job's current groups.
pub type TargetsByJob = HashMap<String, Vec<TargetGroup>>;

/// How a [`DiscoveryManager`] runs.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// The shortest time between two sends to the consumer (Prometheus's
    /// `updatert`, 5 s): some providers change far more often than a
    /// consumer should react.
    pub update_interval: Duration,
    /// Where the manager and its providers count.
    pub stats: Arc<SdStats>,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            update_interval: Duration::from_secs(5),
            stats: Arc::default(),
        }
    }
}

/// A running provider, shared by the jobs in `subs`.
struct Provider {
    /// `None` for a provider added by [`DiscoveryManager::add_provider`].
    config: Option<SdConfig>,
    subs: BTreeSet<String>,
    /// The jobs that use it under the config being applied.
    new_subs: BTreeSet<String>,
    /// Built but not started yet.
    pending: Option<Box<dyn Discoverer>>,
    task: Option<JoinHandle<()>>,
}

/// What the manager knows, under one lock that no `.await` holds.
#[derive(Default)]
pub(crate) struct State {
    /// Providers by name (`<kind>/<n>`).
    providers: BTreeMap<String, Provider>,
    next_id: u64,
    /// Non-empty groups by (job, provider) and source.
    targets: HashMap<(String, String), BTreeMap<String, TargetGroup>>,
}

impl State {
    /// Takes a provider's update for every job it serves.
    pub(crate) fn update(&mut self, provider: &str, groups: Vec<TargetGroup>) {
        // A provider removed by a new config may still deliver one update.
        let Some(p) = self.providers.get(provider) else {
            return;
        };
        for job in &p.subs {
            let set = self
                .targets
                .entry((job.clone(), provider.to_owned()))
                .or_default();
            for g in &groups {
                if g.targets.is_empty() {
                    set.remove(&g.source);
                } else {
                    set.insert(g.source.clone(), g.clone());
                }
            }
        }
    }

    /// Every job's groups: each job of each provider appears, with no
    /// groups if it has none, so its consumer drops stale targets.
    fn all_groups(&self) -> TargetsByJob {
        let mut out: TargetsByJob = HashMap::new();
        for (name, p) in &self.providers {
            for job in &p.subs {
                let groups = out.entry(job.clone()).or_default();
                if let Some(set) = self.targets.get(&(job.clone(), name.clone())) {
                    groups.extend(set.values().cloned());
                }
            }
        }
        out
    }
}

/// Runs service discovery for a set of jobs; see the module docs.
pub struct DiscoveryManager {
    state: Arc<Mutex<State>>,
    /// Set when something changed since the last send.
    changed: Arc<AtomicBool>,
    tx: mpsc::Sender<TargetsByJob>,
    options: ManagerOptions,
    /// One config change at a time.
    applying: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for DiscoveryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryManager")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl DiscoveryManager {
    /// A manager with no providers, and the receiver of its sends.
    pub fn new(options: ManagerOptions) -> (Self, mpsc::Receiver<TargetsByJob>) {
        // Room for one send: the consumer always gets the latest state
        // after it took the previous one.
        let (tx, rx) = mpsc::channel(1);
        let m = DiscoveryManager {
            state: Arc::default(),
            changed: Arc::default(),
            tx,
            options,
            applying: tokio::sync::Mutex::new(()),
        };
        (m, rx)
    }

    /// The counters of the manager and its providers.
    pub fn stats(&self) -> &Arc<SdStats> {
        &self.options.stats
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|e| panic!("BUG: discovery state poisoned: {e}"))
    }

    /// Replaces the set of jobs and their discovery configs: providers whose
    /// config is unchanged keep running, new ones start, the rest stop.
    ///
    /// Fails, changing nothing, when a job uses a discovery pharos cannot
    /// run. A provider that cannot be built (an unreadable CA file, …) is
    /// logged and counted in [`SdStats::failed_configs`], as in Prometheus;
    /// its job still appears, without its targets.
    pub async fn apply_config(
        &self,
        jobs: HashMap<String, ServiceDiscoveryConfigs>,
    ) -> Result<(), DiscoveryError> {
        let _one_at_a_time = self.applying.lock().await;
        // In job order: the same config numbers its providers the same way,
        // and names the same job when several use unsupported discoveries.
        let mut jobs: Vec<(String, ServiceDiscoveryConfigs)> = jobs.into_iter().collect();
        jobs.sort_by(|a, b| a.0.cmp(&b.0));
        let wanted: Vec<(String, Vec<SdConfig>)> = jobs
            .into_iter()
            .map(|(job, sd)| {
                let configs = SdConfig::list(&job, &sd)?;
                Ok((job, configs))
            })
            .collect::<Result<_, DiscoveryError>>()?;

        let stopped = {
            let mut st = self.lock();
            let mut failed = 0;
            for (job, configs) in wanted {
                let mut added = false;
                for cfg in configs {
                    added |= self.register(&mut st, &job, cfg, &mut failed);
                }
                if !added {
                    // Makes the job appear, with no groups.
                    self.register(
                        &mut st,
                        &job,
                        SdConfig::Static(vec![StaticConfig::default()]),
                        &mut failed,
                    );
                }
            }
            self.options
                .stats
                .failed_configs
                .store(failed, Ordering::Relaxed);
            let stopped = self.reconcile(&mut st);
            // Consumers expect the whole state after a config change.
            self.changed.store(true, Ordering::Relaxed);
            stopped
        };
        // All aborted before any is awaited: a caller that gives up waiting
        // leaves no provider running.
        for task in &stopped {
            task.abort();
        }
        for task in stopped {
            let _ = task.await;
        }
        Ok(())
    }

    /// Subscribes `job` to a provider of `cfg`, sharing a running one with
    /// an equal config. Returns whether the job got a provider.
    fn register(&self, st: &mut State, job: &str, cfg: SdConfig, failed: &mut u64) -> bool {
        if let Some(p) = st
            .providers
            .values_mut()
            .find(|p| p.config.as_ref() == Some(&cfg))
        {
            p.new_subs.insert(job.to_owned());
            return true;
        }
        let d = match cfg.discoverer(&self.options.stats) {
            Ok(d) => d,
            Err(e) => {
                *failed += 1;
                tracing::error!(job, kind = cfg.kind(), error = %e, "Cannot create service discovery");
                return false;
            }
        };
        let name = format!("{}/{}", cfg.kind(), st.next_id);
        st.next_id += 1;
        st.providers.insert(
            name,
            Provider {
                config: Some(cfg),
                subs: BTreeSet::new(),
                new_subs: [job.to_owned()].into(),
                pending: Some(d),
                task: None,
            },
        );
        true
    }

    /// Moves every provider to its new jobs, starts the new providers and
    /// removes the unused ones, returning their tasks to stop.
    fn reconcile(&self, st: &mut State) -> Vec<JoinHandle<()>> {
        let mut stopped = Vec::new();
        let names: Vec<String> = st.providers.keys().cloned().collect();
        for name in names {
            let Some(p) = st.providers.get_mut(&name) else {
                continue;
            };
            let old = std::mem::take(&mut p.subs);
            let new = std::mem::take(&mut p.new_subs);
            if new.is_empty() {
                if let Some(p) = st.providers.remove(&name) {
                    stopped.extend(p.task);
                }
                for job in old {
                    st.targets.remove(&(job, name.clone()));
                }
                continue;
            }
            p.subs = new.clone();
            let pending = p.pending.take();
            // A job joining a running provider gets its current groups now;
            // the provider may not send again for a long time.
            let current = old
                .iter()
                .find_map(|job| st.targets.get(&(job.clone(), name.clone())).cloned());
            for job in old.difference(&new) {
                st.targets.remove(&(job.clone(), name.clone()));
            }
            if let Some(current) = current {
                for job in new.difference(&old) {
                    st.targets
                        .insert((job.clone(), name.clone()), current.clone());
                }
            }
            if let Some(d) = pending {
                let task = provider::spawn(
                    name.clone(),
                    d,
                    Arc::clone(&self.state),
                    Arc::clone(&self.changed),
                    Arc::clone(&self.options.stats),
                );
                if let Some(p) = st.providers.get_mut(&name) {
                    p.task = Some(task);
                }
            }
        }
        stopped
    }

    /// Runs `discoverer` for `job` outside any config (tools, tests); the
    /// next [`apply_config`](Self::apply_config) stops it.
    pub fn add_provider(&self, job: &str, discoverer: Box<dyn Discoverer>) {
        let mut st = self.lock();
        let name = format!("custom/{}", st.next_id);
        st.next_id += 1;
        let task = provider::spawn(
            name.clone(),
            discoverer,
            Arc::clone(&self.state),
            Arc::clone(&self.changed),
            Arc::clone(&self.options.stats),
        );
        st.providers.insert(
            name,
            Provider {
                config: None,
                subs: [job.to_owned()].into(),
                new_subs: BTreeSet::new(),
                pending: None,
                task: Some(task),
            },
        );
    }

    /// The running providers (`<kind>/<n>`) and the jobs each serves, for
    /// status pages.
    pub fn providers(&self) -> Vec<(String, Vec<String>)> {
        self.lock()
            .providers
            .iter()
            .map(|(n, p)| (n.clone(), p.subs.iter().cloned().collect()))
            .collect()
    }

    /// Sends to the consumer every update interval when something changed,
    /// until `shutdown` completes or the consumer goes away; then stops all
    /// providers.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let every = self.options.update_interval;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = &mut shutdown => break,
            }
            if !self.changed.swap(false, Ordering::Relaxed) {
                continue;
            }
            let stats = &self.options.stats;
            SdStats::inc(&stats.sent_updates);
            let all = self.lock().all_groups();
            let counts = all
                .iter()
                .map(|(job, gs)| (job.clone(), gs.iter().map(|g| g.targets.len() as u64).sum()))
                .collect();
            if let Ok(mut d) = stats.discovered_targets.lock() {
                *d = counts;
            }
            match self.tx.try_send(all) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    SdStats::inc(&stats.delayed_updates);
                    tracing::debug!("discovery receiver's channel was full; retrying next cycle");
                    self.changed.store(true, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => break,
            }
        }
        self.stop_all();
    }

    fn stop_all(&self) {
        let mut st = self.lock();
        for p in st.providers.values_mut() {
            if let Some(t) = p.task.take() {
                t.abort();
            }
        }
    }
}

impl Drop for DiscoveryManager {
    fn drop(&mut self) {
        if let Ok(mut st) = self.state.lock() {
            for p in st.providers.values_mut() {
                if let Some(t) = p.task.take() {
                    t.abort();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
