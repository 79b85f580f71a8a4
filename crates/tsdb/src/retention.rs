//! Retention: which blocks are old enough, or the database big enough, for
//! blocks to be deleted. Prometheus's rules, restated:
//!
//! - **time**: with blocks ordered newest first, the first block whose end
//!   lies at least the retention duration before the *newest block's* end is
//!   deleted with every older block. Time is measured against the data, not
//!   the wall clock, so a database restored from a backup is not wiped at
//!   start.
//! - **size**: starting from the size of the WAL and head, blocks are added
//!   newest first; the first block that takes the total over the limit is
//!   deleted with every older block.

/// What retention needs to know of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionBlock {
    /// Index of the block in the caller's list.
    pub id: usize,
    /// Exclusive end of the block's time range (ms).
    pub max_time: i64,
    /// Bytes the block takes on disk.
    pub size: u64,
}

/// The limits in force; zero disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Maximum age of data relative to the newest block, in ms.
    pub time_ms: i64,
    /// Maximum bytes of blocks plus WAL and head chunks.
    pub size_bytes: u64,
}

/// Why a block is deleted, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionReason {
    /// Beyond `--storage.tsdb.retention.time`.
    Time,
    /// Beyond `--storage.tsdb.retention.size`.
    Size,
}

/// The blocks to delete and why; `head_size` is the WAL plus head chunks.
pub fn beyond_retention(
    blocks: &[RetentionBlock],
    limits: Retention,
    head_size: u64,
) -> Vec<(usize, RetentionReason)> {
    let mut bs = blocks.to_vec();
    bs.sort_by_key(|b| std::cmp::Reverse(b.max_time));
    let mut out: Vec<(usize, RetentionReason)> = Vec::new();
    if limits.time_ms > 0 {
        if let Some(newest) = bs.first() {
            if let Some(i) = bs
                .iter()
                .skip(1)
                .position(|b| newest.max_time - b.max_time >= limits.time_ms)
            {
                out.extend(bs[i + 1..].iter().map(|b| (b.id, RetentionReason::Time)));
            }
        }
    }
    if limits.size_bytes > 0 {
        let mut total = head_size;
        if let Some(i) = bs.iter().position(|b| {
            total = total.saturating_add(b.size);
            total > limits.size_bytes
        }) {
            for b in &bs[i..] {
                if !out.iter().any(|(id, _)| *id == b.id) {
                    out.push((b.id, RetentionReason::Size));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn b(id: usize, max_h: i64, size: u64) -> RetentionBlock {
        RetentionBlock {
            id,
            max_time: max_h * H,
            size,
        }
    }

    fn ids(v: Vec<(usize, RetentionReason)>) -> Vec<usize> {
        let mut ids: Vec<usize> = v.into_iter().map(|x| x.0).collect();
        ids.sort();
        ids
    }

    #[test]
    fn time_retention_is_relative_to_newest_block() {
        let blocks = [b(0, 2, 1), b(1, 4, 1), b(2, 6, 1), b(3, 8, 1)];
        let r = Retention {
            time_ms: 4 * H,
            size_bytes: 0,
        };
        // 8-4 >= 4 → block 1 and everything older goes.
        assert_eq!(ids(beyond_retention(&blocks, r, 0)), vec![0, 1]);
        assert_eq!(
            ids(beyond_retention(&blocks, Retention::default(), 0)),
            Vec::<usize>::new()
        );
        // The newest block is never deleted for time.
        let r1 = Retention {
            time_ms: 1,
            size_bytes: 0,
        };
        assert_eq!(
            ids(beyond_retention(&blocks[3..], r1, 0)),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn size_retention_counts_head_first() {
        let blocks = [b(0, 2, 100), b(1, 4, 100), b(2, 6, 100)];
        let r = Retention {
            time_ms: 0,
            size_bytes: 250,
        };
        assert_eq!(ids(beyond_retention(&blocks, r, 0)), vec![0]);
        assert_eq!(ids(beyond_retention(&blocks, r, 60)), vec![0, 1]);
        assert_eq!(
            beyond_retention(&blocks, r, 0),
            vec![(0, RetentionReason::Size)]
        );
    }
}
