//! A block's `index` file, format version 2, byte-compatible with Prometheus.
//!
//! The index maps label sets to series and series to the chunks that hold
//! their samples. [`IndexWriter`] writes it once, when a block is cut or
//! compacted; [`IndexReader`] maps it into memory and answers lookups; the
//! [`postings`] iterators combine the sorted series lists that
//! [`postings_for_matchers`] selects for a query's label matchers.
//!
//! ```
//! use model::{Labels, Matcher, MatchType};
//! use tsdb::index::{expand, postings_for_matchers, ChunkMeta, IndexReader, IndexWriter};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("index");
//! let a = Labels::from_pairs(&[("__name__", "up"), ("job", "api")]);
//! let b = Labels::from_pairs(&[("__name__", "up"), ("job", "db")]);
//!
//! let mut w = IndexWriter::create(&path)?;
//! for sym in ["__name__", "api", "db", "job", "up"] {
//!     w.add_symbol(sym)?; // sorted
//! }
//! let chunk = ChunkMeta { min_time: 0, max_time: 15_000, chunk_ref: 8 };
//! w.add_series(&a, &[chunk])?; // sorted by labels
//! w.add_series(&b, &[chunk])?;
//! w.finish()?;
//!
//! let r = IndexReader::open(&path)?;
//! assert_eq!(r.label_values("job")?, ["api", "db"]);
//! let ms = [Matcher::new(MatchType::NotEqual, "job", "api")?];
//! let refs = expand(postings_for_matchers(&r, &ms)?);
//! let mut chunks = Vec::new();
//! assert_eq!(r.series(refs[0], &mut chunks)?, b);
//! assert_eq!(chunks, [chunk]);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! All fixed-width integers are big-endian. `uvarint` is the unsigned LEB128
//! varint of Go's `encoding/binary`; `varint` is its zig-zag signed form.
//! Every CRC is CRC32-Castagnoli. Zero bytes of padding may sit between
//! sections (and, as described below, inside some of them).
//!
//! ```text
//! magic 0xBAAAD700 <4b> | version 2 <1b>
//! symbol table
//! series 1 … series n              (each at a multiple of 16)
//! label index 1 … label index m    (each at a multiple of 4)
//! postings 1 … postings k          (each at a multiple of 4)
//! label offset table
//! postings offset table
//! TOC
//! ```
//!
//! **Symbol table** — every string used as a label name or value, sorted and
//! without duplicates, so that later sections refer to a string by its
//! position (its *symbol ref*):
//! `len <4b> | count <4b> | (uvarint length, bytes)… | CRC <4b>`. `len` counts
//! the bytes from `count` up to the CRC, which covers the same bytes.
//! Prometheus's tables always begin with the empty string (its all-series
//! postings key is a label pair of empty strings), and so do ours.
//!
//! **Series** — one entry per series, sorted by label set, each starting at an
//! offset divisible by 16; the series ref used everywhere else is that offset
//! divided by 16, so sorted refs are sorted label sets:
//! `len <uvarint> | body | CRC <4b>`, the CRC over the body only, which is:
//!
//! ```text
//! label count <uvarint> | (name ref <uvarint>, value ref <uvarint>)…
//! chunk count <uvarint>
//! first chunk: min time <varint> | max−min <uvarint> | chunk ref <uvarint>
//! each next:   min − previous max <uvarint> | max−min <uvarint> | ref − previous ref <varint>
//! ```
//!
//! **Label index** (no longer read by Prometheus, still written by it): per
//! label name, `len <4b> | 1 <4b> | value count <4b> | value ref <4b>… | CRC`,
//! the values in sorted order; `len` and the CRC cover everything between.
//!
//! **Postings** — per label pair, and first for the empty name and value,
//! which stands for "all series": `len <4b> | count <4b> | series ref <4b>… |
//! CRC`, refs ascending, `len` and CRC as for the label index.
//!
//! **Label offset table** — `len <4b> | count <4b> | entries | CRC`, each entry
//! `1 <uvarint> | name <uvarint len + bytes> | offset of its label index <uvarint>`.
//!
//! **Postings offset table** — the same framing, entries sorted by name then
//! value: `2 <uvarint> | name | value | offset of its postings <uvarint>`.
//! Readers keep only every 32nd entry (and each name's last) in memory.
//!
//! **TOC** — the last 52 bytes: six `<8b>` offsets (symbol table, series,
//! first label index, label offset table, first postings, postings offset
//! table) and a CRC over those 48 bytes. The postings offset may point at
//! padding that precedes the first postings list, as Prometheus's does.

mod codec;
pub mod postings;
pub mod reader;
pub mod select;
mod symbols;
pub mod writer;

use std::path::PathBuf;

pub use postings::{
    expand, intersect, merge, without, BigEndianPostings, BoxPostings, EmptyPostings, ListPostings,
    Postings,
};
pub use reader::IndexReader;
pub use select::{postings_for_matchers, PostingsSource};
pub use writer::IndexWriter;

/// The first four bytes of every index file.
pub const MAGIC_INDEX: u32 = 0xBAAA_D700;
/// The only index format version pharos writes and reads.
pub const FORMAT_V2: u8 = 2;
/// Size of the magic number and version byte.
pub(crate) const HEADER_LEN: usize = 5;
/// Size of the table of contents at the end of the file.
pub(crate) const TOC_LEN: usize = 6 * 8 + 4;
/// Every how many symbols, and postings offset entries per name, a reader
/// keeps a position in memory (Prometheus's `symbolFactor`).
pub(crate) const SAMPLING: usize = 32;

/// Identifies a series within one block's index: its entry's offset / 16.
pub type SeriesRef = u64;

pub use crate::chunks::ChunkMeta;

/// Why an index could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file system refused an operation.
    #[error("cannot {op} index file {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The writer's methods were called out of the required order.
    #[error("cannot write index: {0}")]
    Order(String),
    /// A value does not fit the format (a section over 4 GiB, a file over 64 GiB).
    #[error("cannot write index: {0}")]
    TooLarge(String),
    /// The bytes do not form a valid index.
    #[error("cannot read index {what} at offset {offset}: {reason}")]
    Corrupt {
        /// The part of the index being read.
        what: &'static str,
        /// Byte offset in the file where reading failed.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// A checksum did not match.
    #[error("cannot read index {what} at offset {offset}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// The part of the index being read.
        what: &'static str,
        /// Byte offset of the section.
        offset: usize,
        /// The CRC stored in the file.
        stored: u32,
        /// The CRC of the bytes read.
        computed: u32,
    },
    /// An index file failed validation when opened.
    #[error("cannot open index {path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        #[source]
        source: Box<IndexError>,
    },
    /// A label matcher could not be inverted (its regex failed to compile).
    #[error("cannot select postings: {0}")]
    Matcher(#[from] model::MatcherError),
}

impl IndexError {
    pub(crate) fn corrupt(what: &'static str, offset: usize, reason: impl Into<String>) -> Self {
        IndexError::Corrupt {
            what,
            offset,
            reason: reason.into(),
        }
    }
}
