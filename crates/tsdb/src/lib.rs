//! pharos's time-series database.

pub mod index;
