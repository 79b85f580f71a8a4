//! One scrape pool per job, kept in step with the config (reloads recreate
//! the pools whose scrape config changed) and with discovery (each update
//! is synced into its job's pool).

use std::collections::HashMap;
use std::sync::Arc;

use discovery::{TargetGroup, TargetsByJob};
use scrape::{DiscoveredGroup, HttpClient, ScrapePool};
use storage::Appendable;

use super::scrape_options::scrape_options;

/// A job's pool and the config it was built from.
struct Job {
    config: config::ScrapeConfig,
    pool: ScrapePool,
}

/// The scrape pools of the server (Prometheus's scrape manager).
pub(crate) struct Scrapers {
    storage: Arc<dyn Appendable>,
    seed: u64,
    jobs: HashMap<String, Job>,
    /// Pools of removed jobs, still writing their stale markers.
    retired: Vec<ScrapePool>,
    /// The last groups discovery sent per job, so that a recreated pool
    /// starts with its targets at once.
    last: TargetsByJob,
}

impl Scrapers {
    /// No pools yet; they store into `storage`.
    pub(crate) fn new(storage: Arc<dyn Appendable>, seed: u64) -> Scrapers {
        Scrapers {
            storage,
            seed,
            jobs: HashMap::new(),
            retired: Vec::new(),
            last: TargetsByJob::new(),
        }
    }

    /// Makes the pools match `configs`: unchanged jobs go on, changed ones
    /// get a new pool (the old one stops without stale markers, as the new
    /// one goes on writing the same series), removed ones stop with stale
    /// markers. A new pool scrapes with its job's client from `clients`
    /// (built from the same config, so a change of the HTTP client settings
    /// is a changed config and gets a new client).
    pub(crate) async fn apply(
        &mut self,
        configs: &[config::ScrapeConfig],
        clients: &HashMap<String, HttpClient>,
    ) {
        let wanted: HashMap<&str, &config::ScrapeConfig> =
            configs.iter().map(|c| (c.job_name.as_str(), c)).collect();
        let gone: Vec<String> = self
            .jobs
            .keys()
            .filter(|j| !wanted.contains_key(j.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(mut job) = self.jobs.remove(&name) {
                tracing::info!(job = %name, "stopping scrape pool of a removed job");
                job.pool.sync(&[]);
                self.retired.push(job.pool);
            }
            self.last.remove(&name);
        }
        for (name, cfg) in wanted {
            if self.jobs.get(name).is_some_and(|j| j.config == *cfg) {
                continue;
            }
            if let Some(old) = self.jobs.remove(name) {
                tracing::info!(job = %name, "scrape config changed, restarting its pool");
                old.pool.shutdown().await;
            }
            let Some(client) = clients.get(name) else {
                tracing::error!(job = %name, "BUG: no HTTP client was built for the job; not scraping it");
                continue;
            };
            let pool = ScrapePool::new(
                scrape_options(cfg),
                self.storage.clone(),
                client.clone(),
                self.seed,
            );
            self.jobs.insert(
                name.to_owned(),
                Job {
                    config: cfg.clone(),
                    pool,
                },
            );
            if let Some(groups) = self.last.get(name).cloned() {
                self.sync_job(name, &groups);
            }
        }
    }

    /// Syncs a discovery update into the pools of its jobs.
    pub(crate) fn sync(&mut self, update: TargetsByJob) {
        for (job, groups) in update {
            self.sync_job(&job, &groups);
            self.last.insert(job, groups);
        }
    }

    fn sync_job(&mut self, name: &str, groups: &[TargetGroup]) {
        let Some(job) = self.jobs.get_mut(name) else {
            return;
        };
        let views: Vec<DiscoveredGroup<'_>> = groups
            .iter()
            .map(|g| DiscoveredGroup {
                source: &g.source,
                targets: &g.targets,
                labels: &g.labels,
            })
            .collect();
        for e in job.pool.sync(&views) {
            tracing::warn!(job = %name, error = %e, "creating target failed");
        }
        tracing::debug!(job = %name, targets = job.pool.active_targets().len(), "synced targets");
    }

    /// Stops every loop without stale markers (as Prometheus on shutdown:
    /// the series are not gone, the server is) and waits for them.
    pub(crate) async fn shutdown(self) {
        for job in self.jobs.into_values() {
            job.pool.shutdown().await;
        }
        for pool in self.retired {
            pool.shutdown().await;
        }
    }
}
