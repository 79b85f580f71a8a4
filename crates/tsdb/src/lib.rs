//! pharos's time-series database.

pub mod compact;
pub mod retention;
