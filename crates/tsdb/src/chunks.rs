//! Chunk segment files: the `chunks/` directory of a block.
//!
//! The same layout as Prometheus's (`tsdb/chunks/chunks.go`, documented in
//! its `tsdb/docs/format/chunks.md`), so each side reads the other's blocks.
//!
//! # Segment files
//!
//! A block's chunks live in numbered files `chunks/000001`, `000002`, … (six
//! digits at least, counting from 1). A writer starts a new file before a
//! series' chunks would grow the current one past the segment size (512 MiB
//! by default); a single chunk larger than that still gets a file of its
//! own. Each file is:
//!
//! ```text
//! ┌──────────────────────────────┬──────────────────┬──────────────────┐
//! │ magic(0x85BD40DD) <4 byte>   │ version(1) <1 b> │ padding(0) <3 b> │
//! ├──────────────────────────────┴──────────────────┴──────────────────┤
//! │                              chunk 1                               │
//! ├────────────────────────────────────────────────────────────────────┤
//! │                                ...                                 │
//! ├────────────────────────────────────────────────────────────────────┤
//! │                              chunk n                               │
//! └────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! The magic number is big-endian. Each chunk is:
//!
//! ```text
//! ┌───────────────┬───────────────────┬──────────────┬────────────────┐
//! │ len <uvarint> │ encoding <1 byte> │ data <bytes> │ CRC32 <4 byte> │
//! └───────────────┴───────────────────┴──────────────┴────────────────┘
//! ```
//!
//! * `len`: length of `data` only, as an unsigned varint (Go's `PutUvarint`).
//! * `encoding`: a [`crate::chunkenc::Encoding`] byte (1 = XOR).
//! * `data`: the chunk bytes, e.g. [`crate::chunkenc::XorChunk::bytes`].
//! * `CRC32`: Castagnoli CRC-32 of `encoding` and `data` together, big-endian.
//!
//! Files end right after their last chunk; there is no trailer.
//!
//! # Chunk references
//!
//! The index refers to a chunk by a `u64`: the position of its segment in
//! the sorted list of segment files (0 for `000001`) in the upper 32 bits,
//! and the byte offset of the chunk's `len` field in that file in the lower
//! 32 bits ([`chunk_ref`], [`split_chunk_ref`]).

mod reader;
mod writer;

use std::path::PathBuf;

pub use reader::{ChunkReader, RawChunk, SegmentChunks};
pub use writer::ChunkWriter;

/// Magic number at the start of every segment file.
pub const MAGIC_CHUNKS: u32 = 0x85BD_40DD;
/// Version byte of the segment format.
pub const CHUNKS_FORMAT_V1: u8 = 1;
/// Bytes of the segment header: magic, version, three bytes of padding.
pub const SEGMENT_HEADER_SIZE: usize = 8;
/// Default size at which a writer starts a new segment file.
pub const DEFAULT_SEGMENT_SIZE: u64 = 512 << 20;
/// Bytes the `len` field can take at most: Prometheus limits chunk data
/// to 32-bit lengths and budgets 5 bytes for the varint.
pub(crate) const MAX_CHUNK_LEN_FIELD: usize = 5;
/// Bytes of the CRC-32 after each chunk.
pub(crate) const CRC_SIZE: usize = 4;

/// Where to find a chunk and which time range it covers, as the index
/// stores it for each chunk of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChunkMeta {
    /// Timestamp of the chunk's first sample (ms).
    pub min_time: i64,
    /// Timestamp of the chunk's last sample (ms).
    pub max_time: i64,
    /// Reference of the chunk in the block's segment files ([`chunk_ref`]).
    pub chunk_ref: u64,
}

impl ChunkMeta {
    /// Whether the chunk has samples in the closed interval `[mint, maxt]`.
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.min_time <= maxt && mint <= self.max_time
    }
}

/// Packs a segment position (0-based) and a byte offset into a chunk ref.
pub fn chunk_ref(segment: u32, offset: u32) -> u64 {
    (u64::from(segment) << 32) | u64::from(offset)
}

/// Splits a chunk ref into its segment position and byte offset.
pub fn split_chunk_ref(r: u64) -> (u32, u32) {
    ((r >> 32) as u32, r as u32)
}

/// File name of the segment with 1-based sequence number `seq`.
pub(crate) fn segment_file_name(seq: u64) -> String {
    format!("{seq:06}")
}

/// Why a chunk segment file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ChunkFileError {
    /// A file system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "create chunk segment".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The writer refuses to mix its segments with existing ones.
    #[error("cannot write chunks to {}: it already holds segment file {name}", dir.display())]
    DirNotEmpty {
        /// The chunks directory.
        dir: PathBuf,
        /// A segment file found there.
        name: String,
    },
    /// A segment size that chunk refs cannot address.
    #[error("cannot write chunks: segment size {size} is not in 1..=4294967295 bytes")]
    BadSegmentSize {
        /// The size asked for.
        size: u64,
    },
    /// A chunk would start past the 4 GiB that a ref's offset can address.
    #[error("cannot address chunk in {}: offset {offset} does not fit in a chunk ref", path.display())]
    OffsetOverflow {
        /// The segment file.
        path: PathBuf,
        /// Where the chunk would start.
        offset: u64,
    },
    /// Too many segment files for the 32-bit segment part of a ref.
    #[error("cannot write chunks to {}: more than 2^32 segment files", dir.display())]
    TooManySegments {
        /// The chunks directory.
        dir: PathBuf,
    },
    /// A segment file is shorter than its header.
    #[error("cannot open chunk segment {}: {len} bytes is shorter than the 8-byte header", path.display())]
    SegmentTooShort {
        /// The segment file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// A segment file does not start with [`MAGIC_CHUNKS`].
    #[error("cannot open chunk segment {}: bad magic number {magic:#010x}", path.display())]
    BadMagic {
        /// The segment file.
        path: PathBuf,
        /// The number found.
        magic: u32,
    },
    /// A segment file of a version other than 1.
    #[error("cannot open chunk segment {}: unsupported format version {version}", path.display())]
    BadVersion {
        /// The segment file.
        path: PathBuf,
        /// The version byte found.
        version: u8,
    },
    /// A ref names a segment the directory does not have.
    #[error(
        "cannot read chunk {chunk_ref:#x}: segment {segment} does not exist ({segments} segments)"
    )]
    NoSuchSegment {
        /// The ref asked for.
        chunk_ref: u64,
        /// Its segment position.
        segment: u32,
        /// How many segments there are.
        segments: usize,
    },
    /// A chunk's bytes run past the end of its segment, or its length
    /// field is not a valid varint.
    #[error("cannot read chunk at {}:{offset}: {what}", path.display())]
    Truncated {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the chunk in the file.
        offset: u64,
        /// Which part is missing.
        what: String,
    },
    /// A chunk's CRC-32 does not match its bytes.
    #[error("cannot read chunk at {}:{offset}: checksum mismatch, stored {stored:#010x}, computed {computed:#010x}", path.display())]
    Checksum {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the chunk in the file.
        offset: u64,
        /// The CRC stored after the chunk.
        stored: u32,
        /// The CRC of the bytes read.
        computed: u32,
    },
    /// A chunk's encoding byte names no known encoding.
    #[error("cannot read chunk at {}:{offset}: unknown encoding byte {byte}", path.display())]
    UnknownEncoding {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the chunk in the file.
        offset: u64,
        /// The encoding byte found.
        byte: u8,
    },
}

#[cfg(test)]
mod tests;
