//! The database's compaction round: persist the head's oldest windows,
//! then merge blocks by the leveled plan. The algorithms live in
//! `crate::compact`; this is the orchestration around them (reloading
//! blocks, truncating the head, marking failures, deleting sources).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::block::{delete_block_dir, Block};
use crate::chunkenc::cut::range_for_timestamp;
use crate::compact::head::persist_window;
use crate::compact::merge::{merge_blocks, MergeKind};
use crate::compact::plan::{plan, PlanBlock};
use crate::tombstones::Interval;

use super::{DbError, DbInner, HeadTombstones};

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

/// Plans over `blocks` and, if the plan picks any, merges them into one
/// block under `dir` and deletes them. Returns whether it did anything.
pub(crate) fn compact_once(
    dir: &Path,
    blocks: &[Arc<Block>],
    ranges: &[i64],
) -> Result<bool, DbError> {
    let pbs: Vec<PlanBlock> = blocks
        .iter()
        .enumerate()
        .map(|(id, b)| {
            let m = b.meta();
            PlanBlock {
                id,
                min_time: m.min_time,
                max_time: m.max_time,
                num_series: m.stats.num_series,
                num_tombstones: m.stats.num_tombstones,
                compaction_failed: m.compaction.failed,
            }
        })
        .collect();
    let picked = plan(&pbs, ranges);
    if picked.is_empty() {
        return Ok(false);
    }
    let mut sources: Vec<Arc<Block>> = picked
        .iter()
        .filter_map(|&i| blocks.get(i).cloned())
        .collect();
    sources.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
    let kind = if sources.len() == 1 {
        MergeKind::Rewrite
    } else {
        MergeKind::Compact
    };
    let start = std::time::Instant::now();
    let meta = match merge_blocks(dir, &sources, kind, ranges.first().copied().unwrap_or(1)) {
        Ok(m) => m,
        Err(e) => {
            // Marked failed, the planner leaves them alone from now on
            // instead of failing on them every round.
            for b in &sources {
                let mut m = b.meta().clone();
                m.compaction.failed = true;
                if let Err(we) = m.write(b.dir()) {
                    tracing::error!(block = %b.dir().display(), error = %we, "cannot mark block as failed to compact");
                }
            }
            return Err(e.into());
        }
    };
    tracing::info!(
        block = %meta.ulid,
        mint = meta.min_time,
        maxt = meta.max_time,
        sources = ?sources.iter().map(|b| b.meta().ulid.to_string()).collect::<Vec<_>>(),
        duration = ?start.elapsed(),
        "compacted blocks"
    );
    for b in &sources {
        delete_block_dir(b.dir())?;
    }
    Ok(true)
}
