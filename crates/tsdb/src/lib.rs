//! pharos's time-series database.

pub mod index;
pub mod meta;
pub mod tombstones;
