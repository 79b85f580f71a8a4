//! Reading a block through the `storage::Querier` contract.

use std::collections::BTreeSet;
use std::sync::Arc;

use model::{Matcher, Sample, Timestamp};
use storage::{Querier, SampleIterator, SelectHints, Series, SeriesSet, StorageError};

use super::Block;
use crate::chunkenc::{ChunkError, XorIter};
use crate::chunks::ChunkMeta;
use crate::index::{expand, postings_for_matchers, SeriesRef};
use crate::tombstones::Interval;

/// A querier over one block and a closed time range `[mint, maxt]`.
pub struct BlockQuerier {
    block: Arc<Block>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl BlockQuerier {
    /// A querier over `block` for samples with `mint <= t <= maxt`.
    pub fn new(block: Arc<Block>, mint: Timestamp, maxt: Timestamp) -> BlockQuerier {
        BlockQuerier { block, mint, maxt }
    }

    fn refs(&self, matchers: &[Matcher]) -> Result<Vec<SeriesRef>, StorageError> {
        let p = postings_for_matchers(self.block.index(), matchers).map_err(corruption)?;
        Ok(expand(p))
    }

    /// Calls `f` with the labels of every series the matchers select.
    fn for_each_labels(
        &self,
        matchers: &[Matcher],
        mut f: impl FnMut(&model::Labels),
    ) -> Result<(), StorageError> {
        let mut metas = Vec::new();
        for r in self.refs(matchers)? {
            let l = self
                .block
                .index()
                .series(r, &mut metas)
                .map_err(corruption)?;
            f(&l);
        }
        Ok(())
    }
}

fn corruption(e: impl std::fmt::Display) -> StorageError {
    StorageError::Corruption(e.to_string())
}

impl Querier for BlockQuerier {
    fn select(
        &self,
        _sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        // Series refs ascend in label order, so the set is always sorted.
        let refs = if self.block.overlaps(self.mint, self.maxt) {
            self.refs(matchers)?
        } else {
            Vec::new()
        };
        Ok(Box::new(BlockSeriesSet {
            block: self.block.clone(),
            refs: refs.into_iter(),
            mint: self.mint,
            maxt: self.maxt,
            failed: false,
        }))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            let values = self.block.index().label_values(name).map_err(corruption)?;
            return Ok(values.into_iter().map(str::to_owned).collect());
        }
        let mut out = BTreeSet::new();
        self.for_each_labels(matchers, |l| {
            if let Some(v) = l.get(name) {
                if !out.contains(v) {
                    out.insert(v.to_owned());
                }
            }
        })?;
        Ok(out.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return Ok(self
                .block
                .index()
                .label_names()
                .into_iter()
                .map(str::to_owned)
                .collect());
        }
        let mut out = BTreeSet::new();
        self.for_each_labels(matchers, |l| {
            for p in l {
                if !out.contains(p.name) {
                    out.insert(p.name.to_owned());
                }
            }
        })?;
        Ok(out.into_iter().collect())
    }
}

/// Series of a block, read from the index one at a time.
struct BlockSeriesSet {
    block: Arc<Block>,
    refs: std::vec::IntoIter<SeriesRef>,
    mint: Timestamp,
    maxt: Timestamp,
    failed: bool,
}

impl Iterator for BlockSeriesSet {
    type Item = Result<Series, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let mut metas = Vec::new();
        for r in self.refs.by_ref() {
            let labels = match self.block.index().series(r, &mut metas) {
                Ok(l) => l,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(corruption(e)));
                }
            };
            let deleted = self.block.tombstones().get(r).to_vec();
            metas.retain(|c| {
                c.overlaps(self.mint, self.maxt)
                    && !deleted
                        .iter()
                        .any(|d| d.min_time <= c.min_time && c.max_time <= d.max_time)
            });
            if metas.is_empty() {
                continue;
            }
            let samples = BlockSampleIterator {
                cur: None,
                cur_max: i64::MIN,
                chunks: std::mem::take(&mut metas).into_iter(),
                deleted,
                mint: self.mint,
                maxt: self.maxt,
                last: None,
                err: None,
                block: self.block.clone(),
            };
            return Some(Ok(Series {
                labels,
                samples: Box::new(samples),
            }));
        }
        None
    }
}

/// Samples of one series across its chunks in a block, filtered to the
/// querier's range and the series' tombstones.
struct BlockSampleIterator {
    /// Borrows the mapped chunk bytes of `block`, declared first so it is
    /// dropped before the block it borrows from.
    cur: Option<XorIter<'static>>,
    cur_max: i64,
    chunks: std::vec::IntoIter<ChunkMeta>,
    deleted: Vec<Interval>,
    mint: Timestamp,
    maxt: Timestamp,
    last: Option<Sample>,
    err: Option<StorageError>,
    block: Arc<Block>,
}

impl BlockSampleIterator {
    /// Opens the next chunk whose range reaches `min_t`; false at the end.
    fn open_next(&mut self, min_t: i64) -> bool {
        for meta in self.chunks.by_ref() {
            if meta.max_time < min_t {
                continue;
            }
            let raw = match self.block.chunks().chunk(meta.chunk_ref) {
                Ok(raw) => raw,
                Err(e) => {
                    self.err = Some(corruption(e));
                    return false;
                }
            };
            let it = match raw.float_iter() {
                Ok(it) => it,
                // Native histogram chunks are not read yet; their series
                // yield no float samples rather than failing the query.
                Err(ChunkError::UnsupportedEncoding(_)) => continue,
                Err(e) => {
                    self.err = Some(corruption(format!(
                        "chunk {:#x} of block {}: {e}",
                        meta.chunk_ref,
                        self.block.dir().display()
                    )));
                    return false;
                }
            };
            // SAFETY: the iterator borrows the chunk segment mapping owned
            // by `self.block`, an `Arc` held by this struct for as long as
            // the iterator exists; the field order drops `cur` first, and
            // the iterator never leaves this struct.
            let it: XorIter<'static> = unsafe { std::mem::transmute::<XorIter<'_>, _>(it) };
            self.cur = Some(it);
            self.cur_max = meta.max_time;
            return true;
        }
        false
    }

    /// Whether a decoded sample is to be returned, and whether iteration is
    /// over because the sample lies past the range.
    fn accept(&self, t: i64) -> (bool, bool) {
        if t > self.maxt {
            return (false, true);
        }
        let ok = t >= self.mint && !self.deleted.iter().any(|d| d.contains(t));
        (ok, false)
    }

    /// Continues from `first` (a sample already decoded) or the next decoded one.
    fn advance(&mut self, mut first: Option<(i64, f64)>, min_t: i64) -> Option<Sample> {
        loop {
            if self.err.is_some() {
                return None;
            }
            if self.cur.is_none() && !self.open_next(min_t) {
                return None;
            }
            let it = self.cur.as_mut().expect("BUG: chunk opened above");
            let next = first.take().or_else(|| it.next());
            match next {
                Some((t, v)) => {
                    let (ok, done) = self.accept(t);
                    if done {
                        self.cur = None;
                        self.chunks = Vec::new().into_iter();
                        return None;
                    }
                    if ok && t >= min_t {
                        let s = Sample::new(t, v);
                        self.last = Some(s);
                        return Some(s);
                    }
                }
                None => {
                    if let Some(e) = it.error() {
                        self.err = Some(corruption(format!(
                            "block {}: {e}",
                            self.block.dir().display()
                        )));
                    }
                    self.cur = None;
                }
            }
        }
    }
}

impl SampleIterator for BlockSampleIterator {
    fn next(&mut self) -> Option<Sample> {
        self.advance(None, i64::MIN)
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(l) = self.last {
            if l.t >= t {
                return Some(l);
            }
        }
        if self.cur.is_some() && self.cur_max < t {
            self.cur = None;
        }
        let first = match self.cur.as_mut() {
            Some(it) => it.seek(t),
            None => None,
        };
        if first.is_none() {
            if let Some(it) = &self.cur {
                if let Some(e) = it.error() {
                    self.err = Some(corruption(e));
                    return None;
                }
            }
            self.cur = None;
        }
        self.advance(first, t)
    }

    fn err(&mut self) -> Option<StorageError> {
        self.err.take()
    }
}
