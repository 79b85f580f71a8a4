//! Persisting the head: once it spans more than 1.5 block ranges, its
//! oldest block-range window becomes a level-1 block and the head is
//! truncated to the window's end (which checkpoints the WAL).
//!
//! Head chunks never cross a window boundary (the head cuts them there), so
//! chunks are copied as they are; a series whose chunks reach outside the
//! window or are touched by a head tombstone is decoded, filtered and
//! re-encoded instead.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use model::Labels;

use crate::block::{BlockError, BlockWriter, ChunkData};
use crate::chunkenc::cut::encode_chunks;
use crate::chunkenc::cut::range_for_timestamp;
use crate::chunkenc::{Encoding, XorChunk};
use crate::db::{DbError, DbInner, HeadTombstones};
use crate::head::{Head, HeadChunk};
use crate::meta::BlockMeta;
use crate::tombstones::Interval;

/// How long head truncation waits for queriers opened before the block.
const READER_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Persists head windows while the head is compactable, reloading the
/// blocks and truncating the head after each.
pub(crate) fn compact_head(db: &DbInner) -> Result<(), DbError> {
    let range = db.opts.min_block_duration.max(1);
    loop {
        let head = &db.head;
        // A replayed chunk may reach before the newest block's end; that
        // part is in the block already.
        let min_valid = head.data.min_valid_time.load(Ordering::Relaxed);
        let (hmin, hmax) = (head.min_time().max(min_valid), head.max_time());
        if hmax == i64::MIN || hmin == i64::MAX {
            return Ok(());
        }
        if i128::from(hmax) - i128::from(hmin) <= i128::from(range) * 3 / 2 {
            return Ok(());
        }
        if hmin > i64::MAX - 2 * range || hmin < i64::MIN + 2 * range {
            // Windows cannot be computed this close to the ends of time.
            tracing::warn!(mint = hmin, "head too close to the ends of time to compact");
            return Ok(());
        }
        let maxt = range_for_timestamp(hmin, range);
        let stones = db.head_tombstones.read().clone();
        let start = std::time::Instant::now();
        let meta = persist_window(head, &stones, &db.dir, hmin, maxt, range)?;
        if let Some(m) = &meta {
            tracing::info!(
                block = %m.ulid,
                mint = m.min_time,
                maxt = m.max_time,
                series = m.stats.num_series,
                samples = m.stats.num_samples,
                duration = ?start.elapsed(),
                "persisted head window"
            );
        }
        db.reload()?;
        // Queriers that took the block list before the new block was in
        // it must not lose the window from the head.
        if !db.readers.wait_for_older(READER_WAIT) {
            tracing::warn!(
                "queriers still open after {READER_WAIT:?}; truncating the head under them"
            );
        }
        head.truncate(maxt)?;
        // Tombstones of data now in the block (or gone) are not needed.
        let mut pruned = HeadTombstones::new();
        for (r, ivs) in stones.iter() {
            let keep: Vec<Interval> = ivs
                .iter()
                .copied()
                .filter(|iv| iv.max_time >= maxt)
                .collect();
            if !keep.is_empty() && head.series(*r, i64::MIN, i64::MAX).is_some() {
                pruned.insert(*r, keep);
            }
        }
        // Deletions that raced in meanwhile are kept.
        let mut w = db.head_tombstones.write();
        for (r, ivs) in w.iter() {
            if !stones.contains_key(r) {
                pruned.insert(*r, ivs.clone());
            }
        }
        *w = Arc::new(pruned);
    }
}

/// Writes the head's samples in `[mint, maxt)` as a level-1 block under
/// `dir`; `None` when the window holds no sample. Re-encoded chunks are
/// cut at multiples of `chunk_range`.
pub(crate) fn persist_window(
    head: &Head,
    stones: &HeadTombstones,
    dir: &Path,
    mint: i64,
    maxt: i64,
    chunk_range: i64,
) -> Result<Option<BlockMeta>, BlockError> {
    let mut series: Vec<(u64, Labels, Vec<HeadChunk>)> = Vec::new();
    let mut symbols = BTreeSet::new();
    for r in head.sorted_series_refs() {
        let Some((labels, chunks)) = head.series_chunks(r, mint, maxt - 1) else {
            continue;
        };
        if chunks.is_empty() {
            continue;
        }
        for l in &labels {
            if !symbols.contains(l.name) {
                symbols.insert(l.name.to_owned());
            }
            if !symbols.contains(l.value) {
                symbols.insert(l.value.to_owned());
            }
        }
        series.push((r, labels, chunks));
    }
    if series.is_empty() {
        return Ok(None);
    }
    let mut w = BlockWriter::create(dir, mint, maxt, symbols.iter().map(String::as_str))?;
    let mut owned: Vec<(i64, i64, XorChunk)> = Vec::new();
    let mut samples: Vec<(i64, f64)> = Vec::new();
    let mut data: Vec<ChunkData<'_>> = Vec::new();
    for (r, labels, chunks) in &series {
        let ivs = stones.get(r).map_or(&[][..], Vec::as_slice);
        let clean = chunks.iter().all(|c| {
            c.min_time >= mint
                && c.max_time < maxt
                && !ivs
                    .iter()
                    .any(|d| d.min_time <= c.max_time && c.min_time <= d.max_time)
        });
        data.clear();
        if clean {
            data.extend(chunks.iter().map(|c| ChunkData {
                min_time: c.min_time,
                max_time: c.max_time,
                encoding: Encoding::Xor,
                data: &c.data,
            }));
            w.add_series(labels, &data)?;
            continue;
        }
        samples.clear();
        for c in chunks {
            let mut it = crate::chunkenc::float_iter(Encoding::Xor, &c.data).map_err(|e| {
                BlockError::Invalid(format!("cannot decode head chunk of {labels}: {e}"))
            })?;
            samples.extend(
                it.by_ref()
                    .filter(|&(t, _)| t >= mint && t < maxt && !ivs.iter().any(|d| d.contains(t))),
            );
        }
        samples.sort_by_key(|s| s.0);
        samples.dedup_by_key(|s| s.0);
        encode_chunks(&samples, chunk_range, &mut owned);
        let data: Vec<ChunkData<'_>> = owned
            .iter()
            .map(|(a, b, c)| ChunkData {
                min_time: *a,
                max_time: *b,
                encoding: Encoding::Xor,
                data: c.bytes(),
            })
            .collect();
        w.add_series(labels, &data)?;
    }
    let meta = w.finish(None)?;
    if meta.stats.num_samples == 0 {
        // Everything in the window was deleted: nothing to keep.
        let bdir = dir.join(meta.ulid.to_string());
        crate::db::open::delete_block_dir(&bdir).map_err(|e| BlockError::Invalid(e.to_string()))?;
        return Ok(None);
    }
    Ok(Some(meta))
}
