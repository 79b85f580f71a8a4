//! pharos's time-series database.

pub mod record;
pub mod wal;
