//! Persisting the head: once it spans more than 1.5 block ranges, its
//! oldest block-range window becomes a level-1 block and the head is
//! truncated to the window's end (which checkpoints the WAL).
//!
//! Head chunks never cross a window boundary (the head cuts them there), so
//! chunks are copied as they are; a series whose chunks reach outside the
//! window or are touched by a head tombstone is decoded, filtered and
//! re-encoded instead.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use model::Labels;

use crate::block::{BlockError, BlockWriter, ChunkData};
use crate::chunkenc::cut::encode_chunks;
use crate::chunkenc::{Encoding, XorChunk};
use crate::head::{Head, HeadChunk};
use crate::meta::BlockMeta;
use crate::tombstones::Interval;

/// Writes the head's samples in `[mint, maxt)` as a level-1 block under
/// `dir`; `None` when the window holds no sample. Re-encoded chunks are
/// cut at multiples of `chunk_range`.
pub(crate) fn persist_window(
    head: &Head,
    stones: &HashMap<u64, Vec<Interval>>,
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
        let data: Vec<ChunkData<'_>> = owned.iter().map(ChunkData::xor).collect();
        w.add_series(labels, &data)?;
    }
    let meta = w.finish(None)?;
    if meta.stats.num_samples == 0 {
        // Everything in the window was deleted: nothing to keep.
        let bdir = dir.join(meta.ulid.to_string());
        crate::block::delete_block_dir(&bdir)?;
        return Ok(None);
    }
    Ok(Some(meta))
}
