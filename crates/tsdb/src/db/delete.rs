//! Deleting data: tombstones in blocks and in the head, and rewriting
//! blocks without their deleted data.
//!
//! - A block's tombstones are its `tombstones` file, rewritten atomically
//!   with the new intervals merged in, and meta.json's `numTombstones`
//!   updated; the block is then reopened so new queriers see them.
//! - Head tombstones are logged to the WAL as a tombstones record (so a
//!   replay restores them) and kept in a map by series ref that the head's
//!   querier is filtered through; persisting the head leaves the deleted
//!   samples out of the block.

use std::sync::Arc;

use model::{Matcher, Sample, Timestamp};
use storage::{Querier, SampleIterator, SelectHints, Series, SeriesSet, StorageError};

use super::{DbError, DbInner, HeadTombstones};
use crate::block::delete_block_dir;
use crate::block::{Block, BlockError};
use crate::compact::merge::{merge_blocks, MergeKind};
use crate::index::{expand, postings_for_matchers};
use crate::record::{encode_tombstones, Tombstone};
use crate::tombstones::{add_interval, Interval};

impl DbInner {
    /// See [`super::Db::delete`].
    pub(crate) fn delete(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
        matchers: &[Matcher],
    ) -> Result<(), DbError> {
        let _m = self.maintenance.lock();
        let iv = Interval {
            min_time: mint,
            max_time: maxt,
        };
        let blocks = self.blocks.read().clone();
        let mut metas = Vec::new();
        for b in blocks.iter().filter(|b| b.overlaps(mint, maxt)) {
            let index_err = |source| BlockError::Index {
                dir: b.dir().to_path_buf(),
                source,
            };
            let refs = expand(postings_for_matchers(b.index(), matchers).map_err(index_err)?);
            let mut stones = b.tombstones().clone();
            let mut added = 0;
            for r in refs {
                b.index().series(r, &mut metas).map_err(index_err)?;
                if metas.iter().any(|c| c.overlaps(mint, maxt)) {
                    stones.add_interval(r, iv);
                    added += 1;
                }
            }
            if added == 0 {
                continue;
            }
            stones
                .write(b.dir())
                .map_err(|source| BlockError::Tombstones {
                    dir: b.dir().to_path_buf(),
                    source,
                })?;
            let mut meta = b.meta().clone();
            meta.stats.num_tombstones = stones.total();
            meta.write(b.dir()).map_err(|source| BlockError::Meta {
                dir: b.dir().to_path_buf(),
                source,
            })?;
            tracing::info!(block = %b.dir().display(), series = added, "added tombstones");
            // Reopened here rather than by a reload, which keeps blocks
            // whose meta did not change (merged intervals may leave the
            // count as it was).
            let fresh = Block::open(b.dir())?;
            let mut w = self.blocks.write();
            for slot in w.iter_mut() {
                if slot.meta().ulid == fresh.meta().ulid {
                    *slot = fresh.clone();
                }
            }
        }

        let refs: Vec<u64> = self
            .head
            .postings_for_matchers(matchers)?
            .into_iter()
            .filter(|&r| {
                self.head
                    .series(r, mint, maxt)
                    .is_some_and(|(_, m)| !m.is_empty())
            })
            .collect();
        if refs.is_empty() {
            return Ok(());
        }
        let recs: Vec<Tombstone> = refs
            .iter()
            .map(|&series_ref| Tombstone {
                series_ref,
                mint,
                maxt,
            })
            .collect();
        let mut buf = Vec::new();
        encode_tombstones(&recs, &mut buf);
        if let Some(w) = self.head.wal.lock().as_mut() {
            w.log(&[&buf]).map_err(crate::head::HeadError::from)?;
        }
        let mut guard = self.head_tombstones.write();
        let mut stones: HeadTombstones = (**guard).clone();
        for r in refs {
            add_interval(stones.entry(r).or_default(), iv);
        }
        *guard = Arc::new(stones);
        Ok(())
    }

    /// See [`super::Db::clean_tombstones`].
    pub(crate) fn clean_tombstones(&self) -> Result<(), DbError> {
        let _m = self.maintenance.lock();
        let blocks = self.blocks.read().clone();
        let range = self.opts.min_block_duration;
        for b in blocks.iter().filter(|b| !b.tombstones().is_empty()) {
            let meta = merge_blocks(
                &self.dir,
                std::slice::from_ref(b),
                MergeKind::Rewrite,
                range,
            )?;
            tracing::info!(old = %b.meta().ulid, new = %meta.ulid, "rewrote block without deleted data");
            // The rewritten block lists the old one as parent, so a crash
            // here leaves the old one to be deleted by the next open.
            delete_block_dir(b.dir())?;
        }
        self.reload()
    }
}

/// The head's querier with head tombstones applied.
pub(crate) struct TombstoneQuerier {
    inner: Box<dyn Querier>,
    stones: Arc<HeadTombstones>,
    db: Arc<DbInner>,
}

impl TombstoneQuerier {
    pub(crate) fn new(
        inner: Box<dyn Querier>,
        stones: Arc<HeadTombstones>,
        db: Arc<DbInner>,
    ) -> TombstoneQuerier {
        TombstoneQuerier { inner, stones, db }
    }
}

impl Querier for TombstoneQuerier {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let set = self.inner.select(sorted, hints, matchers)?;
        let stones = self.stones.clone();
        let db = self.db.clone();
        Ok(Box::new(set.filter_map(move |s| {
            let s = match s {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            let r = db
                .head
                .data
                .series
                .get_by_labels(s.labels.hash64(), &s.labels)
                .map(|m| m.series_ref);
            let Some(ivs) = r.and_then(|r| stones.get(&r)) else {
                return Some(Ok(s));
            };
            let mut it = FilteredIter {
                inner: s.samples,
                deleted: ivs.clone(),
                first: None,
                last: None,
            };
            // A series with every sample deleted is left out.
            let first = it.next()?;
            it.first = Some(first);
            Some(Ok(Series {
                labels: s.labels,
                samples: Box::new(it),
            }))
        })))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_values(name, matchers)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_names(matchers)
    }
}

/// Skips samples in deleted intervals.
struct FilteredIter {
    inner: Box<dyn SampleIterator>,
    deleted: Vec<Interval>,
    /// A sample read ahead to find out whether the series is empty.
    first: Option<Sample>,
    last: Option<Sample>,
}

impl SampleIterator for FilteredIter {
    fn next(&mut self) -> Option<Sample> {
        if let Some(s) = self.first.take() {
            self.last = Some(s);
            return self.last;
        }
        loop {
            let s = self.inner.next()?;
            if !self.deleted.iter().any(|d| d.contains(s.t)) {
                self.last = Some(s);
                return self.last;
            }
        }
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(l) = self.last {
            if l.t >= t && self.first.is_none() {
                return Some(l);
            }
        }
        if let Some(s) = self.first {
            if s.t >= t {
                return self.next();
            }
            self.first = None;
        }
        let mut s = self.inner.seek(t)?;
        loop {
            if !self.deleted.iter().any(|d| d.contains(s.t)) {
                self.last = Some(s);
                return self.last;
            }
            s = self.inner.next()?;
        }
    }

    fn err(&mut self) -> Option<StorageError> {
        self.inner.err()
    }
}
