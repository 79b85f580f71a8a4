//! `pharos tsdb list`: the blocks of a data directory.

use std::path::Path;

use anyhow::Context as _;
use tsdb::readonly::ReadOnlyDb;

pub(super) fn run(db_path: &Path, human: bool) -> anyhow::Result<()> {
    let db = ReadOnlyDb::open(db_path)
        .with_context(|| format!("cannot list blocks of {}", db_path.display()))?;
    let blocks: Vec<&tsdb::block::Block> = db.blocks().iter().map(|b| &**b).collect();
    print!("{}", super::print_blocks(&blocks, true, human));
    Ok(())
}
