//! pharos's time-series database.

pub mod chunkenc;
pub mod chunks;
pub mod head;
pub mod record;
pub mod wal;
