//! pharos's time-series database.

pub mod head;
pub mod record;
pub mod wal;
