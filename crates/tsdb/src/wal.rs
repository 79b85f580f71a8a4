//! WAL.
