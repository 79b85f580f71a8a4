//! Compaction: merging blocks into larger ones and persisting the head.

pub mod plan;
