//! The loops of one scrape job (Prometheus's `scrapePool`): each discovery
//! update is synced into one loop per distinct target, started for new
//! targets and stopped, with end-of-run stale markers, for vanished ones.

use std::collections::HashMap;
use std::sync::Arc;

use model::Labels;
use storage::Appendable;

use crate::scrape_loop::ForcedError;
use crate::target::merge_group_labels;
use crate::{
    HttpClient, ScrapeError, ScrapeHandle, ScrapeLoop, ScrapeOptions, Target, TargetError,
};

/// One group of discovered targets, as discovery hands them over (a view,
/// so that this crate need not know discovery's types).
#[derive(Clone, Copy, Debug)]
pub struct DiscoveredGroup<'a> {
    /// Where the group comes from (a file and index, an object key, ...).
    pub source: &'a str,
    /// Each target's own labels.
    pub targets: &'a [Labels],
    /// Labels of every target of the group; a target's own label wins.
    pub labels: &'a Labels,
}

/// A discovered target that cannot be scraped, worded as Prometheus logs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instance {index} in group {group}: {error}")]
pub struct SyncError {
    /// The group's source.
    pub group: String,
    /// The target's position in its group.
    pub index: usize,
    /// Its discovered labels.
    pub discovered: Labels,
    /// Why it cannot be scraped.
    pub error: TargetError,
}

/// Runs the scrape loops of one job. Must be used inside a tokio runtime.
pub struct ScrapePool {
    opts: ScrapeOptions,
    storage: Arc<dyn Appendable>,
    client: HttpClient,
    seed: u64,
    /// Running loops by target hash.
    loops: HashMap<u64, ScrapeHandle>,
    /// Loops stopped by a sync, still to write their stale markers.
    stopping: Vec<ScrapeHandle>,
    /// Discovered labels (with the job's defaults) of dropped targets.
    dropped: Vec<Labels>,
    /// The target-limit error every loop of the job reports while set.
    forced: ForcedError,
}

impl ScrapePool {
    /// A pool for the job `opts` storing into `storage`; `seed` spreads the
    /// targets of different servers apart (see [`ScrapeLoop::spawn`]).
    pub fn new(
        opts: ScrapeOptions,
        storage: Arc<dyn Appendable>,
        client: HttpClient,
        seed: u64,
    ) -> ScrapePool {
        ScrapePool {
            opts,
            storage,
            client,
            seed,
            loops: HashMap::new(),
            stopping: Vec::new(),
            dropped: Vec::new(),
            forced: ForcedError::default(),
        }
    }

    /// Makes the running loops match the job's current `groups` (all of
    /// them, not only those that changed): starts loops for new targets,
    /// keeps those already running (a target is the same when its labels
    /// after relabeling and its URL are), stops the rest. Returns the
    /// targets that cannot be scraped, which are otherwise skipped.
    pub fn sync(&mut self, groups: &[DiscoveredGroup<'_>]) -> Vec<SyncError> {
        let mut errors = Vec::new();
        let mut wanted: HashMap<u64, Target> = HashMap::new();
        self.dropped.clear();
        for g in groups {
            for (index, own) in g.targets.iter().enumerate() {
                let d = merge_group_labels(own, g.labels);
                match Target::new(&d, &self.opts) {
                    Ok(Some(t)) => {
                        wanted.entry(t.hash()).or_insert(t);
                    }
                    Ok(None) => {
                        let keep = self.opts.keep_dropped_targets;
                        if keep == 0 || self.dropped.len() < keep {
                            self.dropped
                                .push(Target::populate_discovered(&d, &self.opts));
                        }
                    }
                    Err(error) => errors.push(SyncError {
                        group: g.source.to_owned(),
                        index,
                        discovered: d,
                        error,
                    }),
                }
            }
        }
        let gone: Vec<u64> = self
            .loops
            .keys()
            .filter(|h| !wanted.contains_key(h))
            .copied()
            .collect();
        for h in gone {
            if let Some(handle) = self.loops.remove(&h) {
                handle.stop();
                self.stopping.push(handle);
            }
        }
        // Over the limit, every target of the job (old and new) fails its
        // scrapes with the reason until a sync brings the count down.
        let limit = self.opts.target_limit;
        *self.forced.lock().unwrap_or_else(|p| p.into_inner()) =
            (limit > 0 && wanted.len() > limit).then_some((wanted.len(), limit));
        for (h, t) in wanted {
            if self.loops.contains_key(&h) {
                continue;
            }
            let sl = ScrapeLoop::new(Arc::new(t), &self.opts, self.storage.clone(), &self.client)
                .with_forced_error(self.forced.clone());
            self.loops.insert(h, sl.spawn(self.seed));
        }
        self.stopping.retain(|h| !h.is_finished());
        errors
    }

    /// The targets being scraped, sorted by URL as Prometheus lists them.
    pub fn active_targets(&self) -> Vec<Arc<Target>> {
        let mut out: Vec<Arc<Target>> = self.loops.values().map(|h| h.target().clone()).collect();
        out.sort_by(|a, b| a.url().cmp(b.url()));
        out
    }

    /// Why every target of the job fails, while it has more active targets
    /// than its `target_limit`.
    pub fn target_limit_error(&self) -> Option<String> {
        let forced = *self.forced.lock().unwrap_or_else(|p| p.into_inner());
        forced.map(|(targets, limit)| ScrapeError::TargetLimit { targets, limit }.to_string())
    }

    /// The discovered labels of the targets relabeling dropped in the last
    /// sync (at most `keep_dropped_targets` of them when that is set).
    pub fn dropped_targets(&self) -> &[Labels] {
        &self.dropped
    }

    /// Stops every loop for a server shutdown (no stale markers, also none
    /// still pending from earlier syncs) and waits for them.
    pub async fn shutdown(self) {
        let all: Vec<ScrapeHandle> = self.loops.into_values().chain(self.stopping).collect();
        for h in &all {
            h.shutdown();
        }
        for h in all {
            h.finished().await;
        }
    }
}
