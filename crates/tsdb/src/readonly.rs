//! Read-only access to a data directory, for tools (`pharos tsdb list`,
//! `dump`, `analyze`) that must not lock, repair or compact it — the role of
//! Prometheus's `DBReadOnly`: the blocks, plus the head replayed from the
//! WAL into memory for queries (as `promtool tsdb dump` shows it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::Timestamp;
use storage::{MergeQuerier, Querier, Queryable, StorageError};

use crate::block::{Block, BlockError, BlockQuerier};
use crate::head::{Head, HeadError, HeadOptions};

/// The block directories of a data directory: every entry whose name is a
/// ULID and that holds a meta.json. Temporary directories of an unfinished
/// write or delete are not blocks.
pub fn block_dirs(dir: &Path) -> Result<Vec<PathBuf>, BlockError> {
    let io = |source| BlockError::Io {
        op: "list",
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let is_ulid = name
            .to_str()
            .is_some_and(|n| ulid::Ulid::from_string(n).is_ok());
        if is_ulid && entry.path().join(crate::meta::META_FILENAME).is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// The blocks of a data directory, opened read-only, and its head once
/// [`ReadOnlyDb::load_head`] has replayed the WAL.
pub struct ReadOnlyDb {
    dir: PathBuf,
    blocks: Vec<Arc<Block>>,
    head: Option<Head>,
}

impl ReadOnlyDb {
    /// Opens every block under `dir`, sorted by min time. A corrupt block
    /// fails the whole open with an error naming it.
    pub fn open(dir: &Path) -> Result<ReadOnlyDb, BlockError> {
        let mut blocks = block_dirs(dir)?
            .into_iter()
            .map(Block::open)
            .collect::<Result<Vec<_>, _>>()?;
        blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
        Ok(ReadOnlyDb {
            dir: dir.to_path_buf(),
            blocks,
            head: None,
        })
    }

    /// Replays `<dir>/wal` (checkpoint and segments, without repairing or
    /// writing anything) so queriers also see the head. A directory without
    /// a WAL has an empty head.
    pub fn load_head(&mut self) -> Result<(), HeadError> {
        let (head, _) = Head::open_read_only(HeadOptions::default(), &self.dir.join("wal"))?;
        self.head = Some(head);
        Ok(())
    }

    /// The blocks, oldest first.
    pub fn blocks(&self) -> &[Arc<Block>] {
        &self.blocks
    }
}

impl Queryable for ReadOnlyDb {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        let mut qs: Vec<Box<dyn Querier>> = self
            .blocks
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .map(|b| Box::new(BlockQuerier::new(b.clone(), mint, maxt)) as Box<dyn Querier>)
            .collect();
        if let Some(head) = &self.head {
            // What the blocks already hold is not read from the head again,
            // as the head of a running database would have dropped it.
            let blocks_end = self.blocks.iter().map(|b| b.meta().max_time).max();
            let head_mint = blocks_end.map_or(mint, |end| mint.max(end));
            if head_mint <= maxt {
                qs.push(head.querier(head_mint, maxt)?);
            }
        }
        Ok(Box::new(MergeQuerier::new(qs)))
    }
}
