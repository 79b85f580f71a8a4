//! pharos's time-series database.

pub mod backfill;
pub mod block;
pub mod chunkenc;
pub mod chunks;
pub mod compact;
pub mod head;
pub mod index;
pub mod meta;
pub mod readonly;
pub mod record;
pub mod retention;
pub mod tombstones;
pub mod wal;
