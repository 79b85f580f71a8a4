//! pharos's time-series database.
