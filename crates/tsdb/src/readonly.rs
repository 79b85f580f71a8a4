//! Read-only access to a data directory, for tools (`pharos tsdb list`,
//! `dump`, `analyze`) that must not lock, repair or compact it — the role of
//! Prometheus's `DBReadOnly`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::Timestamp;
use storage::{MergeQuerier, Querier, Queryable, StorageError};

use crate::block::{Block, BlockError, BlockQuerier};

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

/// The persisted blocks of a data directory, opened read-only.
pub struct ReadOnlyDb {
    blocks: Vec<Arc<Block>>,
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
        Ok(ReadOnlyDb { blocks })
    }

    /// The blocks, oldest first.
    pub fn blocks(&self) -> &[Arc<Block>] {
        &self.blocks
    }
}

impl Queryable for ReadOnlyDb {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        let qs: Vec<Box<dyn Querier>> = self
            .blocks
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .map(|b| Box::new(BlockQuerier::new(b.clone(), mint, maxt)) as Box<dyn Querier>)
            .collect();
        Ok(Box::new(MergeQuerier::new(qs)))
    }
}
