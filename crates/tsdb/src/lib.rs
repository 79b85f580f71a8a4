//! pharos's time-series database.

pub mod chunkenc;
pub mod chunks;
