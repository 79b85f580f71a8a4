//! Settings of a [`Db`](super::Db).

use std::time::Duration;

#[cfg(doc)]
use super::Db;
use crate::head::DEFAULT_CHUNK_RANGE;
use crate::wal::Compression;

/// One day in milliseconds.
const DAY: i64 = 24 * 3600 * 1000;

/// Settings of a [`Db`]; [`Default`] gives Prometheus's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbOptions {
    /// Blocks whose end lies this far (ms) behind the newest block's end are
    /// deleted; 0 disables time retention. Default 15 days.
    pub retention_time: i64,
    /// Blocks are deleted, oldest first, while blocks + WAL exceed this many
    /// bytes; 0 disables size retention.
    pub retention_size: u64,
    /// Range of head blocks and of head chunks (ms). Default 2h.
    pub min_block_duration: i64,
    /// Largest range compaction builds (ms); `None` means
    /// [`max_block_duration`](crate::compact::plan::max_block_duration) of
    /// the retention.
    pub max_block_duration: Option<i64>,
    /// Size of a WAL segment file in bytes.
    pub wal_segment_size: u64,
    /// Compression of WAL records and checkpoints.
    pub wal_compression: Compression,
    /// Whether [`Db::open`] starts a thread that calls [`Db::compact`]
    /// every [`compaction_interval`](DbOptions::compaction_interval).
    pub background_compaction: bool,
    /// Period of the background compaction.
    pub compaction_interval: Duration,
    /// Threads applying samples during WAL replay.
    pub replay_workers: usize,
}

impl Default for DbOptions {
    fn default() -> DbOptions {
        DbOptions {
            retention_time: 15 * DAY,
            retention_size: 0,
            min_block_duration: DEFAULT_CHUNK_RANGE,
            max_block_duration: None,
            wal_segment_size: crate::wal::DEFAULT_SEGMENT_SIZE,
            wal_compression: Compression::Snappy,
            background_compaction: true,
            compaction_interval: Duration::from_secs(60),
            replay_workers: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8),
        }
    }
}

impl DbOptions {
    /// The block ranges compaction builds, smallest first.
    pub fn block_ranges(&self) -> Vec<i64> {
        let max = self.max_block_duration.unwrap_or_else(|| {
            let retention = if self.retention_time > 0 {
                self.retention_time
            } else {
                // Prometheus sizes blocks for 15d when no time limit is set.
                15 * DAY
            };
            crate::compact::plan::max_block_duration(retention)
        });
        crate::compact::plan::exponential_ranges(self.min_block_duration, max)
    }
}
