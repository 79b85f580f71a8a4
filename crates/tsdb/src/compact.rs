//! Compaction: merging blocks into larger ones and persisting the head.

pub(crate) mod head;
pub(crate) mod merge;
pub mod plan;
