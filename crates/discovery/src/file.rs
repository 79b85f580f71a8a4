//! `file_sd_configs`: target groups read from JSON or YAML files that match
//! the configured globs, re-read when their directories change and every
//! `refresh_interval`.
//!
//! As in Prometheus: group `i` of file `f` has source `f:i` and the label
//! `__meta_filepath` = `f`; a file that fails to read or parse keeps the
//! groups it last had (the error is logged and counted in
//! [`SdStats::file_read_errors`]); a file that disappears, or has fewer
//! groups than before, sends empty groups for the sources it lost. Each
//! directory that a pattern names is watched, not the files, so that files
//! created later and editors that replace files are seen; the periodic
//! re-read catches what a watch misses (a directory created after start).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use config::discovery::FileSdConfig;
use notify::event::{EventKind, ModifyKind};
use notify::Watcher;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::static_sd::target_group;
use crate::stats::SdStats;
use crate::{Discoverer, DiscoveryFuture, TargetGroup};

/// The label naming the file a group came from.
const FILEPATH_LABEL: &str = "__meta_filepath";

/// The shortest re-read interval (a zero one would spin).
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// The provider of one `file_sd_configs` entry.
#[derive(Debug)]
pub struct FileDiscovery {
    patterns: Arc<[String]>,
    interval: Duration,
    stats: Arc<SdStats>,
}

impl FileDiscovery {
    /// The provider of `cfg`; `stats` receives its counters.
    pub fn new(cfg: &FileSdConfig, stats: Arc<SdStats>) -> Self {
        FileDiscovery {
            patterns: cfg.files.clone().into(),
            interval: cfg.refresh_interval,
            stats,
        }
    }

    async fn watch_and_read(self, tx: mpsc::Sender<Vec<TargetGroup>>) {
        // One pending wake-up is enough: a re-read sees every change made
        // before it starts.
        let (wake, mut woken) = mpsc::channel::<()>(1);
        let mut watcher = match notify::recommended_watcher(
            move |ev: notify::Result<notify::Event>| match ev {
                Ok(ev) if needs_reread(&ev.kind) => {
                    let _ = wake.try_send(());
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "Error watching file"),
            },
        ) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::error!(error = %e, "cannot create a file watcher; files are re-read only every refresh_interval");
                None
            }
        };
        let mut watched: HashSet<PathBuf> = HashSet::new();
        let mut last_counts: HashMap<String, usize> = HashMap::new();
        let mut last_sent: Option<Vec<TargetGroup>> = None;
        let mut ticker = tokio::time::interval(self.interval.max(MIN_INTERVAL));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                Some(()) = woken.recv() => {}
                () = tx.closed() => return,
            }
            // Watches first, so that no change between a read and its
            // watch goes unseen until the next periodic read.
            if let Some(w) = &mut watcher {
                // A removed directory loses its watch; watch it again once
                // it is back.
                watched.retain(|d| d.is_dir());
                for dir in self.patterns.iter().map(|p| watch_dir(p)) {
                    if watched.contains(Path::new(dir)) {
                        continue;
                    }
                    match w.watch(Path::new(dir), notify::RecursiveMode::NonRecursive) {
                        Ok(()) => {
                            watched.insert(PathBuf::from(dir));
                        }
                        Err(e) => {
                            tracing::error!(path = dir, error = %e, "Error adding file watch")
                        }
                    }
                }
            }
            let patterns = Arc::clone(&self.patterns);
            let stats = Arc::clone(&self.stats);
            let last = std::mem::take(&mut last_counts);
            let scanned = tokio::task::spawn_blocking(move || scan(&patterns, &last, &stats)).await;
            let (groups, counts) = match scanned {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "file SD scan did not finish; stopping");
                    return;
                }
            };
            last_counts = counts;
            if last_sent.as_ref() != Some(&groups) {
                last_sent = Some(groups.clone());
                if tx.send(groups).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl Discoverer for FileDiscovery {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        Box::pin(self.watch_and_read(tx))
    }
}

/// Whether a file-system event may have changed a file's content: all but
/// reads and attribute changes (Prometheus ignores only chmod).
fn needs_reread(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
    )
}

/// The directory to watch for a pattern: the part before its last `/`
/// (patterns have `*` only in their last element).
fn watch_dir(pattern: &str) -> &str {
    match pattern.rfind('/') {
        Some(0) => "/",
        Some(i) => &pattern[..i],
        None => ".",
    }
}

/// The source of group `i` of file `path`.
fn source(path: &str, i: usize) -> String {
    format!("{path}:{i}")
}

/// Reads every file the patterns match. Returns the groups to send (each
/// readable file's groups, then empty groups for lost sources) and the
/// number of groups each file now accounts for.
fn scan(
    patterns: &[String],
    last: &HashMap<String, usize>,
    stats: &SdStats,
) -> (Vec<TargetGroup>, HashMap<String, usize>) {
    SdStats::inc(&stats.file_scans);
    let mut groups = Vec::new();
    let mut counts = HashMap::new();
    for path in list_files(patterns) {
        match config::load_target_groups(Path::new(&path)) {
            Ok(read) => {
                counts.insert(path.clone(), read.len());
                groups.extend(read.iter().enumerate().map(|(i, g)| {
                    target_group(
                        source(&path, i),
                        &g.targets,
                        &g.labels,
                        Some((FILEPATH_LABEL, &path)),
                    )
                }));
            }
            Err(e) => {
                SdStats::inc(&stats.file_read_errors);
                tracing::error!(path = %path, error = %e, "Error reading file");
                // Keeps the file's last groups: none of them is sent, and
                // none is taken for deleted below.
                counts.insert(path.clone(), last.get(&path).copied().unwrap_or(0));
            }
        }
    }
    let mut lost: Vec<(&String, usize, usize)> = last
        .iter()
        .filter_map(|(f, &n)| {
            let now = counts.get(f).copied().unwrap_or(0);
            (n > now).then_some((f, now, n))
        })
        .collect();
    lost.sort();
    for (f, now, n) in lost {
        groups.extend((now..n).map(|i| TargetGroup {
            source: source(f, i),
            ..TargetGroup::default()
        }));
    }
    (groups, counts)
}

/// The files matching the patterns, in pattern order then name order, each
/// once.
fn list_files(patterns: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for p in patterns {
        let paths = match glob::glob(p) {
            Ok(paths) => paths,
            Err(e) => {
                tracing::error!(glob = %p, error = %e, "Error expanding glob");
                continue;
            }
        };
        for path in paths {
            match path {
                Ok(path) => {
                    let path = path.to_string_lossy().into_owned();
                    if seen.insert(path.clone()) {
                        out.push(path);
                    }
                }
                Err(e) => tracing::error!(glob = %p, error = %e, "Error expanding glob"),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
