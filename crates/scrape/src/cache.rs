//! The scrape cache: from one scrape of a target to the next, what each
//! series text became (its final labels and storage reference), which texts
//! metric relabeling dropped, and which series the last scrape stored, for
//! staleness (Prometheus's `scrapeCache`).
//!
//! Keys are the raw series text (`name{labels}` as exposed), so a steady-state
//! scrape finds every series without unescaping or building labels.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use std::sync::Arc;

use model::Labels;
use storage::SeriesRef;

use crate::metadata::MetadataStore;

/// The maps' hasher: one-shot xxh3 over a key's bytes. The streaming
/// `Xxh3Default` sets up a large state for every key, which cost more than
/// the whole rest of a cached sample's path.
pub(crate) type FastHash = BuildHasherDefault<OneShot>;

/// Hashes each `write` with xxh3 seeded by what came before; integers (the
/// references, and the terminator `str` keys add) are mixed in with a
/// multiply. Keys come from the target, which gains nothing from making
/// them collide beyond slowing its own scrapes.
#[derive(Default)]
pub(crate) struct OneShot(u64);

impl Hasher for OneShot {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0 ^ i)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

/// What one series text maps to.
#[derive(Debug)]
pub(crate) struct CacheEntry {
    /// The reference of the last successful append, if any.
    pub(crate) series_ref: Option<SeriesRef>,
    /// The final labels: target labels merged, metric relabeling applied.
    pub(crate) labels: Labels,
    /// The scrape iteration that last saw this text.
    pub(crate) last_iter: u64,
}

/// Per-target state carried from scrape to scrape.
#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    /// The current scrape iteration.
    pub(crate) iter: u64,
    /// Entries (series plus dropped) after the last successful scrape.
    successful_count: usize,
    pub(crate) series: HashMap<Box<str>, CacheEntry, FastHash>,
    /// Texts that metric relabeling dropped, with the iteration last seen.
    pub(crate) dropped: HashMap<Box<str>, u64, FastHash>,
    /// Series stored by the current scrape, by reference.
    pub(crate) cur: HashMap<SeriesRef, Labels, FastHash>,
    /// Series stored by the previous scrape, by reference.
    pub(crate) prev: HashMap<SeriesRef, Labels, FastHash>,
    /// Metric family metadata, shared with the target for the API.
    pub(crate) metadata: Arc<MetadataStore>,
}

impl ScrapeCache {
    /// Ends a scrape iteration. `success` (a non-empty scrape that stored
    /// its samples) forgets texts not seen in it; otherwise they are kept,
    /// unless failed scrapes of varying series doubled the cache since the
    /// last success. The current series become the previous ones.
    pub(crate) fn iter_done(&mut self, success: bool) {
        let count = self.series.len() + self.dropped.len() + self.metadata.len();
        let mut flush = success;
        if success {
            self.successful_count = count;
        } else if count > self.successful_count * 2 + 1000 {
            flush = true;
        }
        if flush {
            let iter = self.iter;
            self.series.retain(|_, e| e.last_iter == iter);
            self.dropped.retain(|_, i| *i == iter);
            self.metadata.forget_older_than(iter);
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur.clear();
        self.iter += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(iter: u64) -> CacheEntry {
        CacheEntry {
            series_ref: Some(SeriesRef(1)),
            labels: Labels::from_pairs(&[("__name__", "a")]),
            last_iter: iter,
        }
    }

    #[test]
    fn success_forgets_unseen_failure_keeps_them() {
        let mut c = ScrapeCache::default();
        c.series.insert("a".into(), entry(0));
        c.series.insert("b".into(), entry(0));
        c.iter_done(true);
        if let Some(e) = c.series.get_mut("a") {
            e.last_iter = 1;
        }
        c.iter_done(false);
        assert_eq!(c.series.len(), 2, "a failed scrape keeps entries");
        if let Some(e) = c.series.get_mut("a") {
            e.last_iter = 2;
        }
        c.iter_done(true);
        assert_eq!(c.series.keys().map(|k| &**k).collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn current_becomes_previous() {
        let mut c = ScrapeCache::default();
        c.cur.insert(SeriesRef(7), Labels::empty());
        c.iter_done(true);
        assert!(c.cur.is_empty());
        assert!(c.prev.contains_key(&SeriesRef(7)));
        assert_eq!(c.iter, 1);
    }
}
