//! Chunk segment files.
