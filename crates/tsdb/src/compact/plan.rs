//! Which blocks to compact next: the leveled plan of Prometheus's
//! `LeveledCompactor`, restated.
//!
//! Blocks are considered oldest first. In order of preference:
//! 1. any run of blocks whose time ranges overlap (e.g. after a backfill) is
//!    merged, whatever their size;
//! 2. otherwise, leaving out the newest block (so a freshly cut head block
//!    stays on its own for a whole block range, which lets users back it up
//!    piecewise), the first group of blocks that fills one aligned window of
//!    a larger range — or lies entirely before the newest block — is merged:
//!    2h blocks into 6h, 6h into 18h, and so on;
//! 3. otherwise a single large block with more than 5% of its series
//!    tombstoned, or a small one entirely tombstoned, is rewritten to drop
//!    the deleted data.

use std::ops::Range;

/// What the planner needs to know of a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanBlock {
    /// Index of the block in the caller's list.
    pub id: usize,
    /// Inclusive start of the block's time range (ms).
    pub min_time: i64,
    /// Exclusive end of the block's time range (ms).
    pub max_time: i64,
    /// Series in the block.
    pub num_series: u64,
    /// Tombstoned series in the block.
    pub num_tombstones: u64,
    /// Whether a previous compaction of this block failed.
    pub compaction_failed: bool,
}

/// The block ranges Prometheus uses by default: `base`, `base*3`,
/// `base*9`, … (10 levels), with every range above `max` removed.
/// `max` is 10% of the retention time or 31 days, whichever is smaller.
pub fn exponential_ranges(base: i64, max: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut r = base;
    for _ in 0..10 {
        if r > max && !out.is_empty() {
            break;
        }
        out.push(r);
        r = r.saturating_mul(3);
    }
    out
}

/// The largest block range for a retention: 10% of it, at most 31 days, as
/// Prometheus sizes `--storage.tsdb.max-block-duration` by default.
pub fn max_block_duration(retention_ms: i64) -> i64 {
    const DAY: i64 = 24 * 3600 * 1000;
    (retention_ms / 10).min(31 * DAY)
}

/// The blocks (indices into the caller's list) to merge into one, or an
/// empty list when nothing needs compacting. `ranges` are the block ranges
/// in increasing order, the first being the head's block range.
pub fn plan(blocks: &[PlanBlock], ranges: &[i64]) -> Vec<usize> {
    let mut bs: Vec<&PlanBlock> = blocks.iter().collect();
    bs.sort_by_key(|b| b.min_time);

    let overlapping = overlapping_run(&bs);
    if !overlapping.is_empty() {
        return overlapping;
    }
    let Some((_, older)) = bs.split_last() else {
        return Vec::new();
    };
    let picked = select_range(older, ranges);
    if !picked.is_empty() {
        return picked;
    }
    tombstone_heavy(older, ranges)
}

/// The first run of blocks whose ranges overlap, in min-time order.
fn overlapping_run(bs: &[&PlanBlock]) -> Vec<usize> {
    let mut run = Vec::new();
    let Some(first) = bs.first() else {
        return run;
    };
    let mut max_t = first.max_time;
    for w in 1..bs.len() {
        let b = bs[w];
        if b.min_time < max_t {
            if run.is_empty() {
                run.push(bs[w - 1].id);
            }
            run.push(b.id);
        } else if !run.is_empty() {
            break;
        }
        max_t = max_t.max(b.max_time);
    }
    run
}

/// The first group that fills an aligned window of a larger range, or that
/// ends no later than the newest considered block starts.
fn select_range(bs: &[&PlanBlock], ranges: &[i64]) -> Vec<usize> {
    let (Some(last), true) = (bs.last(), ranges.len() >= 2) else {
        return Vec::new();
    };
    let newest_start = last.min_time;
    for &r in &ranges[1..] {
        for group in split_by_range(bs, r) {
            let g = &bs[group];
            if g.len() < 2 || g.iter().any(|b| b.compaction_failed) {
                continue;
            }
            let (mint, maxt) = (g[0].min_time, g[g.len() - 1].max_time);
            if maxt - mint == r || maxt <= newest_start {
                return g.iter().map(|b| b.id).collect();
            }
        }
    }
    Vec::new()
}

/// Splits blocks (sorted by min time) into groups that each fit one aligned
/// window `[k*r, (k+1)*r]`; blocks larger than their window are skipped.
fn split_by_range(bs: &[&PlanBlock], r: i64) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < bs.len() {
        let window_start = bs[i].min_time.div_euclid(r) * r;
        let window_end = window_start + r;
        if bs[i].max_time > window_end {
            i += 1;
            continue;
        }
        let start = i;
        while i < bs.len() && bs[i].max_time <= window_end {
            i += 1;
        }
        groups.push(start..i);
    }
    groups
}

/// Newest first: a block of at least the middle range with >5% tombstoned
/// series, or a smaller one with every series tombstoned.
fn tombstone_heavy(bs: &[&PlanBlock], ranges: &[i64]) -> Vec<usize> {
    let Some(&mid) = ranges.get(ranges.len() / 2) else {
        return Vec::new();
    };
    for b in bs.iter().rev() {
        if b.max_time - b.min_time < mid {
            if b.num_tombstones > 0 && b.num_tombstones >= b.num_series {
                return vec![b.id];
            }
            break;
        }
        if b.num_tombstones as f64 / (b.num_series + 1) as f64 > 0.05 {
            return vec![b.id];
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn b(id: usize, min_h: i64, max_h: i64) -> PlanBlock {
        PlanBlock {
            id,
            min_time: min_h * H,
            max_time: max_h * H,
            num_series: 10,
            num_tombstones: 0,
            compaction_failed: false,
        }
    }

    fn ranges() -> Vec<i64> {
        exponential_ranges(2 * H, 31 * 24 * H)
    }

    #[test]
    fn ranges_are_capped() {
        assert_eq!(
            exponential_ranges(2 * H, 36 * H),
            vec![2 * H, 6 * H, 18 * H]
        );
        assert_eq!(max_block_duration(15 * 24 * H), 36 * H);
        assert_eq!(max_block_duration(3650 * 24 * H), 31 * 24 * H);
    }

    #[test]
    fn plan_table() {
        let r = ranges();
        let cases: Vec<(Vec<PlanBlock>, Vec<usize>)> = vec![
            (vec![], vec![]),
            (vec![b(0, 0, 2)], vec![]),
            // Three 2h blocks fill a 6h window, but the newest is held back.
            (vec![b(0, 0, 2), b(1, 2, 4), b(2, 4, 6)], vec![]),
            // With a fourth, the first window is complete.
            (
                vec![b(0, 0, 2), b(1, 2, 4), b(2, 4, 6), b(3, 6, 8)],
                vec![0, 1, 2],
            ),
            // A partial window is compacted once it ends before the newest
            // considered block starts...
            (
                vec![b(0, 0, 2), b(1, 2, 4), b(2, 8, 10), b(3, 10, 12)],
                vec![0, 1],
            ),
            // ...but not while it could still be filled.
            (vec![b(0, 0, 2), b(1, 2, 4), b(2, 6, 8)], vec![]),
            // Overlaps win over everything, even with the newest block.
            (vec![b(0, 0, 2), b(1, 2, 4), b(2, 3, 5)], vec![1, 2]),
            // Input order does not matter.
            (
                vec![b(3, 6, 8), b(1, 2, 4), b(0, 0, 2), b(2, 4, 6)],
                vec![0, 1, 2],
            ),
            // Three 6h blocks plus a newer one become 18h.
            (
                vec![b(0, 0, 6), b(1, 6, 12), b(2, 12, 18), b(3, 18, 20)],
                vec![0, 1, 2],
            ),
        ];
        for (blocks, want) in cases {
            assert_eq!(plan(&blocks, &r), want, "{blocks:?}");
        }
    }

    #[test]
    fn failed_groups_are_skipped() {
        let mut blocks = vec![b(0, 0, 2), b(1, 2, 4), b(2, 4, 6), b(3, 6, 8)];
        blocks[1].compaction_failed = true;
        assert_eq!(plan(&blocks, &ranges()), Vec::<usize>::new());
    }

    #[test]
    fn tombstones_trigger_rewrite() {
        let mut big = b(0, 0, 54);
        big.num_tombstones = 2;
        assert_eq!(plan(&[big.clone(), b(1, 54, 56)], &ranges()), vec![0]);
        // Newest first: a small block stops the search unless fully deleted.
        let mut small = b(1, 54, 56);
        assert_eq!(
            plan(&[big.clone(), small.clone(), b(2, 56, 58)], &ranges()),
            Vec::<usize>::new()
        );
        small.num_tombstones = 10;
        assert_eq!(plan(&[big, small, b(2, 56, 58)], &ranges()), vec![1]);
    }

    #[test]
    fn negative_times_align_downwards() {
        let r = ranges();
        let blocks = vec![b(0, -6, -4), b(1, -4, -2), b(2, -2, 0), b(3, 0, 2)];
        assert_eq!(plan(&blocks, &r), vec![0, 1, 2]);
    }
}
