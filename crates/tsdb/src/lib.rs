//! pharos's time-series database: Prometheus's storage engine, with its
//! on-disk formats byte for byte, so that Prometheus's data directories open
//! here and promtool reads what pharos writes.
//!
//! What it owns, bottom up:
//! - encodings: [`chunkenc`] (XOR float chunks, the chunk cutting rule),
//!   [`chunks`] (chunk segment files), [`index`] (the v2 block index and
//!   postings), [`meta`] (`meta.json`), [`tombstones`], [`wal`] and
//!   [`record`] (the write-ahead log and its records);
//! - [`head`]: the last ~2h in memory, WAL-backed;
//! - [`block`]: immutable persisted blocks, read and written atomically;
//! - [`db`]: the locked data directory tying head and blocks together, with
//!   [`compact`]ion and [`retention`];
//! - tools' entry points: [`backfill`] (blocks from historical samples) and
//!   [`readonly`] (a data directory opened without locking or writing).
//!
//! It implements the `storage` crate's contracts (`Appendable`,
//! `Queryable`) and knows nothing of scraping, PromQL or HTTP. Every format
//! is described byte by byte in the doc of the module that implements it.

pub mod backfill;
pub mod block;
pub mod chunkenc;
pub mod chunks;
pub mod compact;
pub mod db;
mod encoding;
pub mod head;
pub mod index;
pub mod meta;
pub mod readonly;
pub mod record;
pub mod retention;
pub mod tombstones;
pub mod wal;
