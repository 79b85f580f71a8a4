//! Applying retention to the open blocks: the rules of
//! [`crate::retention`] over the blocks' ends and sizes, with the WAL and
//! its checkpoints counted into the size.

use std::path::Path;

use super::{DbError, DbInner};
use crate::block::delete_block_dir;
use crate::retention::{beyond_retention, Retention, RetentionBlock};

impl DbInner {
    /// Deletes the blocks beyond the time or size limit. The caller holds
    /// the maintenance lock.
    pub(crate) fn apply_retention(&self) -> Result<(), DbError> {
        let limits = Retention {
            time_ms: self.opts.retention_time,
            size_bytes: self.opts.retention_size,
        };
        if limits.time_ms <= 0 && limits.size_bytes == 0 {
            return Ok(());
        }
        let blocks = self.blocks.read().clone();
        let rbs: Vec<RetentionBlock> = blocks
            .iter()
            .enumerate()
            .map(|(id, b)| RetentionBlock {
                id,
                max_time: b.meta().max_time,
                size: b.size(),
            })
            .collect();
        let wal_size = if limits.size_bytes > 0 {
            dir_size(&self.dir.join("wal"))
        } else {
            0
        };
        let doomed = beyond_retention(&rbs, limits, wal_size);
        if doomed.is_empty() {
            return Ok(());
        }
        // Out of the list first, so no new querier picks them up; queriers
        // holding them keep their mappings until they finish.
        {
            let mut w = self.blocks.write();
            w.retain(|b| {
                !doomed
                    .iter()
                    .any(|(id, _)| blocks[*id].meta().ulid == b.meta().ulid)
            });
        }
        for (id, reason) in doomed {
            let b = &blocks[id];
            tracing::info!(block = %b.dir().display(), ?reason, "deleting block beyond retention");
            delete_block_dir(b.dir())?;
        }
        Ok(())
    }
}

/// Bytes of the files under `dir`, recursively; 0 when it does not exist.
pub(crate) fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
