//! Backfill: turning a batch of historical samples into blocks, as
//! `promtool tsdb create-blocks-from openmetrics` does.
//!
//! promtool re-reads its whole input once per block window and appends the
//! window's samples through a throw-away head. pharos reads its input once:
//! the caller hands every series and sample to a [`Backfill`], which keeps
//! them in memory (16 bytes a sample), then encodes each window's chunks
//! and writes its block, windows in parallel. The result matches promtool's
//! block for block: the same windows (aligned to the block duration), the
//! same chunk cuts (a chunk range of twice the block duration, as promtool
//! pretends, see `chunkenc::cut`), the same byte layout.
//!
//! Samples of one series must be in time order within a window, as they must
//! be for promtool; a sample at the timestamp of the previous one with the
//! same value is dropped, with a different value it is an error.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use model::{Labels, Timestamp};

use crate::block::{BlockError, BlockWriter, ChunkData};
use crate::chunkenc::cut::{encode_chunks, TimedChunk};
use crate::compact::plan::exponential_ranges;
use crate::meta::BlockMeta;

/// The default (and smallest) block duration: 2h.
pub const DEFAULT_BLOCK_DURATION: i64 = 2 * 3600 * 1000;

/// Why a backfill failed.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// A series' samples go back in time within one block window.
    #[error("cannot add sample of {labels} at {t}: out of order sample (previous at {prev})")]
    OutOfOrder {
        /// The series.
        labels: Labels,
        /// The refused timestamp.
        t: Timestamp,
        /// The timestamp before it.
        prev: Timestamp,
    },
    /// Two different values at one timestamp of one series.
    #[error("cannot add sample of {labels} at {t}: duplicate sample for timestamp")]
    Duplicate {
        /// The series.
        labels: Labels,
        /// The timestamp.
        t: Timestamp,
    },
    /// A series with no labels.
    #[error("cannot add series: label set is empty")]
    EmptyLabels,
    /// Writing a block failed.
    #[error(transparent)]
    Block(#[from] BlockError),
}

/// The block written for one window, if the window had samples.
type WindowResult = Result<Option<BlockMeta>, BackfillError>;

/// A series handle returned by [`Backfill::add_series`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesId(u32);

/// Collects samples, then writes them as blocks.
#[derive(Default)]
pub struct Backfill {
    labels: Vec<Labels>,
    samples: Vec<Vec<(i64, f64)>>,
    min_t: i64,
    max_t: i64,
}

impl Backfill {
    /// An empty backfill.
    pub fn new() -> Backfill {
        Backfill {
            min_t: i64::MAX,
            max_t: i64::MIN,
            ..Default::default()
        }
    }

    /// Registers a series; the caller keeps the id to add its samples.
    /// Registering the same labels twice gives two series that are merged
    /// only if the caller does so — intern by series text before calling.
    pub fn add_series(&mut self, labels: Labels) -> Result<SeriesId, BackfillError> {
        if labels.is_empty() {
            return Err(BackfillError::EmptyLabels);
        }
        let id = SeriesId(self.labels.len() as u32);
        self.labels.push(labels);
        self.samples.push(Vec::new());
        Ok(id)
    }

    /// Adds a sample to a series, in the input's order.
    pub fn add_sample(&mut self, id: SeriesId, t: Timestamp, v: f64) {
        self.samples[id.0 as usize].push((t, v));
        self.min_t = self.min_t.min(t);
        self.max_t = self.max_t.max(t);
    }

    /// Number of samples added.
    pub fn num_samples(&self) -> usize {
        self.samples.iter().map(Vec::len).sum()
    }

    /// The block windows this backfill will write, as `[start, end)`.
    pub fn windows(&self, block_duration: i64) -> Vec<(i64, i64)> {
        if self.min_t > self.max_t {
            return Vec::new();
        }
        let mut out = Vec::new();
        // Go's truncating division, as promtool aligns the first window.
        let mut t = block_duration * (self.min_t / block_duration);
        while t <= self.max_t {
            out.push((t, t + block_duration));
            t += block_duration;
        }
        out
    }

    /// Writes one block per window that has samples into `dir`, using
    /// `threads` workers; `progress(done, total)` is called as windows
    /// complete. Returns the metas of the blocks written, oldest first.
    pub fn write_blocks(
        self,
        dir: &Path,
        block_duration: i64,
        threads: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<BlockMeta>, BackfillError> {
        let windows = self.windows(block_duration);
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        order.sort_by(|&a, &b| self.labels[a].cmp(&self.labels[b]));

        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, WindowResult)>> = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..threads.max(1) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(start, end)) = windows.get(i) else {
                        break;
                    };
                    let r = self.write_window(dir, start, end, 2 * block_duration, &order);
                    let failed = r.is_err();
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, r));
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, windows.len());
                    if failed {
                        // Stop handing out windows; the others finish theirs.
                        next.store(windows.len(), Ordering::Relaxed);
                    }
                });
            }
        });
        let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        results.sort_by_key(|(i, _)| *i);
        let mut metas = Vec::new();
        for (_, r) in results {
            if let Some(m) = r? {
                metas.push(m);
            }
        }
        Ok(metas)
    }

    /// Encodes and writes the block of window `[start, end)`, if it has samples.
    fn write_window(
        &self,
        dir: &Path,
        start: i64,
        end: i64,
        chunk_range: i64,
        order: &[usize],
    ) -> WindowResult {
        let mut series: Vec<(usize, Vec<TimedChunk>)> = Vec::new();
        let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
        for &id in order {
            let chunks = self.encode(id, start, end, chunk_range)?;
            if let (Some(first), Some(last)) = (chunks.first(), chunks.last()) {
                mint = mint.min(first.0);
                maxt = maxt.max(last.1);
                series.push((id, chunks));
            }
        }
        if series.is_empty() {
            return Ok(None);
        }
        let mut symbols = BTreeSet::new();
        for (id, _) in &series {
            for l in &self.labels[*id] {
                symbols.insert(l.name);
                symbols.insert(l.value);
            }
        }
        // A block's max time is exclusive: one past its last sample.
        let mut w = BlockWriter::create(dir, mint, maxt + 1, symbols)?;
        let mut data = Vec::new();
        for (id, chunks) in &series {
            data.clear();
            data.extend(chunks.iter().map(ChunkData::xor));
            w.add_series(&self.labels[*id], &data)?;
        }
        Ok(Some(w.finish(None)?))
    }

    /// The chunks of series `id` in window `[start, end)`, after checking
    /// the window's samples go forward in time as the head would require.
    fn encode(
        &self,
        id: usize,
        start: i64,
        end: i64,
        chunk_range: i64,
    ) -> Result<Vec<TimedChunk>, BackfillError> {
        let mut window: Vec<(i64, f64)> = Vec::new();
        for &(t, v) in self.samples[id]
            .iter()
            .filter(|(t, _)| *t >= start && *t < end)
        {
            if let Some(&(pt, pv)) = window.last() {
                if t == pt && v.to_bits() == pv.to_bits() {
                    continue;
                }
                if t == pt {
                    return Err(BackfillError::Duplicate {
                        labels: self.labels[id].clone(),
                        t,
                    });
                }
                if t < pt {
                    return Err(BackfillError::OutOfOrder {
                        labels: self.labels[id].clone(),
                        t,
                        prev: pt,
                    });
                }
            }
            window.push((t, v));
        }
        let mut out = Vec::new();
        encode_chunks(&window, chunk_range, &mut out);
        Ok(out)
    }
}

/// promtool's block duration for a `--max-block-duration`: 2h, or the
/// largest of the leveled ranges (2h, 6h, 18h, …) that fits the maximum.
pub fn compatible_block_duration(max_block_duration: i64) -> i64 {
    if max_block_duration <= DEFAULT_BLOCK_DURATION {
        return DEFAULT_BLOCK_DURATION;
    }
    let ranges = exponential_ranges(DEFAULT_BLOCK_DURATION, i64::MAX);
    ranges
        .iter()
        .rev()
        .find(|&&r| r <= max_block_duration)
        .copied()
        .unwrap_or(DEFAULT_BLOCK_DURATION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{Block, BlockQuerier};
    use model::Matcher;
    use storage::Querier;

    const H: i64 = 3_600_000;

    #[test]
    fn block_duration_choice() {
        assert_eq!(compatible_block_duration(0), 2 * H);
        assert_eq!(compatible_block_duration(5 * H), 2 * H);
        assert_eq!(compatible_block_duration(6 * H), 6 * H);
        assert_eq!(compatible_block_duration(24 * H), 18 * H);
    }

    #[test]
    fn writes_one_block_per_window_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Backfill::new();
        let a = b
            .add_series(Labels::from_pairs(&[("__name__", "a")]))
            .unwrap();
        let z = b
            .add_series(Labels::from_pairs(&[("__name__", "z")]))
            .unwrap();
        // 5h of samples every minute from 1h: windows [0,2h) [2h,4h) [4h,6h).
        for i in 0..300 {
            b.add_sample(z, H + i * 60_000, i as f64);
            b.add_sample(a, H + i * 60_000, -(i as f64));
        }
        b.add_sample(a, H + 299 * 60_000, -299.0); // same value again: dropped
        let metas = b.write_blocks(dir.path(), 2 * H, 2, &|_, _| {}).unwrap();
        let ranges: Vec<(i64, i64)> = metas.iter().map(|m| (m.min_time, m.max_time)).collect();
        assert_eq!(
            ranges,
            [
                (H, 2 * H - 60_000 + 1),
                (2 * H, 4 * H - 60_000 + 1),
                (4 * H, H + 299 * 60_000 + 1)
            ]
        );
        let total: u64 = metas.iter().map(|m| m.stats.num_samples).sum();
        assert_eq!(total, 600);

        let block = Block::open(dir.path().join(metas[1].ulid.to_string())).unwrap();
        let q = BlockQuerier::new(block, 0, i64::MAX);
        let mut set = q
            .select(true, None, &[Matcher::equal("__name__", "z")])
            .unwrap();
        let samples = set.next().unwrap().unwrap().collect_samples().unwrap();
        assert_eq!(samples.len(), 120);
        assert_eq!(samples[0].v, 60.0);
    }

    #[test]
    fn out_of_order_and_duplicates_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Backfill::new();
        let a = b
            .add_series(Labels::from_pairs(&[("__name__", "a")]))
            .unwrap();
        b.add_sample(a, 2000, 1.0);
        b.add_sample(a, 1000, 1.0);
        let err = b
            .write_blocks(dir.path(), 2 * H, 1, &|_, _| {})
            .unwrap_err();
        assert!(err.to_string().contains("out of order sample"), "{err}");

        let mut b = Backfill::new();
        let a = b
            .add_series(Labels::from_pairs(&[("__name__", "a")]))
            .unwrap();
        b.add_sample(a, 1000, 1.0);
        b.add_sample(a, 1000, 2.0);
        let err = b
            .write_blocks(dir.path(), 2 * H, 1, &|_, _| {})
            .unwrap_err();
        assert!(err.to_string().contains("duplicate sample"), "{err}");
        assert!(Backfill::new().add_series(Labels::empty()).is_err());
    }
}
