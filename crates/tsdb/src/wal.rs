//! The write-ahead log, in Prometheus's on-disk format (`tsdb/wlog`), so
//! that pharos replays a `wal/` directory Prometheus wrote and Prometheus
//! replays ours.
//!
//! # Layout
//!
//! A WAL is a directory of segment files named by their index in eight
//! decimal digits (`00000000`, `00000001`, …), plus `checkpoint.NNNNNNNN`
//! subdirectories (see [`checkpoint`]). A segment has no header: it is a run
//! of 32 KiB pages, by default up to 128 MiB of them. Every segment but the
//! one being written (and one left by a crash) ends on a page boundary.
//!
//! A record (an opaque byte string, see [`crate::record`]) is written as one
//! or more fragments. A fragment never crosses a page boundary, and a record
//! never crosses a segment boundary: a record that does not fit in what is
//! left of the segment starts a new one (a record larger than a whole
//! segment gets a segment of its own, longer than the nominal size). Each
//! fragment is a 7-byte header followed by its data:
//!
//! ```text
//! byte 0     bits 7-5 reserved (0) | bit 4 zstd | bit 3 snappy | bits 2-0 fragment type
//! bytes 1-2  length of the data, big-endian u16
//! bytes 3-6  CRC32-Castagnoli of the data, big-endian u32
//! bytes 7-   data
//! ```
//!
//! Fragment types: 1 full record, 2 first, 3 middle, 4 last fragment of a
//! record split over pages. A type-0 byte means "the rest of this page is
//! zero padding"; a page whose remaining space cannot hold a header (fewer
//! than 7 bytes) is always padded. The compression flag is set on every
//! fragment of a compressed record; the record's bytes are the concatenated
//! fragment data, and when the snappy flag is set they are one snappy block
//! (the raw format, not the framed one). The writer compresses a record only
//! when that makes it smaller. pharos writes and reads snappy; a zstd record
//! (Prometheus 3.x) is reported as [`WalError::ZstdUnsupported`], never
//! treated as corruption.
//!
//! # Durability
//!
//! - [`Wal::log`] returns after every byte of the batch has been handed to the
//!   kernel with `write(2)` (a partly filled page is written too, and
//!   completed later in place). A returned batch therefore survives the
//!   process being killed (`kill -9`, panic, OOM), but not a power loss or
//!   kernel crash.
//! - A segment is fsynced when it is completed ([`Wal::next_segment`], or
//!   automatically when full) and by [`Wal::close`]; [`Wal::sync`] fsyncs the
//!   current one on demand. Directory entries are fsynced when a segment or
//!   checkpoint is created or removed. After a power loss everything up to the
//!   last fsync survives; later bytes may be lost or torn, which the repair
//!   below detects and cuts off.
//! - A write error leaves the current page in an unknown state, so the
//!   [`Wal`] refuses further writes; reopening repairs the tail.
//! - Dropping a [`Wal`] without [`Wal::close`] is the same as a kill: nothing
//!   `log` returned is lost, but the last segment is not fsynced.
//!
//! Cutting a segment fsyncs the completed one before `log` returns (Prometheus
//! does it in the background); at the default 128 MiB that is one fsync per
//! 128 MiB of records.
//!
//! # Repair on open
//!
//! [`Wal::open`] reads from the last segment holding data to the end (or all
//! segments, with [`RepairScope::AllSegments`]). At the first corruption (bad checksum,
//! impossible fragment sequence, record cut short by the end of the file) in
//! segment N at offset X, where X is the start of the first record that
//! cannot be read whole, it truncates N to X, zero-pads it to the page
//! boundary, deletes every segment after N, and returns a [`Repair`] saying
//! exactly what was dropped. Every record before X is kept. A corruption
//! found later by a full replay is repaired the same way by [`Wal::repair`].
//! Like Prometheus, the writer then always starts a fresh segment rather
//! than appending to an existing one.
//!
//! # Replay
//!
//! At startup the head opens the [`Wal`] (which repairs the tail), then reads
//! [`checkpoint::open_replay`]: the newest checkpoint followed by the segments
//! after it, decoding each record with [`crate::record`]. A
//! [`WalError::Corrupt`] met there is handed to [`Wal::repair`], which keeps
//! everything read so far and drops the rest. Checkpointing
//! ([`checkpoint::checkpoint`]) followed by [`Wal::truncate`] bounds the WAL's
//! size.

pub mod checkpoint;
mod reader;
mod repair;
mod segment;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};

pub use reader::WalReader;
pub use repair::{DeletedSegment, Repair};
pub use segment::{list_segments, segment_path};
pub use writer::Wal;

use crate::record::RecordError;

/// Size of a page; fragments never cross one.
pub const PAGE_SIZE: usize = 32 * 1024;
/// Default segment size, as Prometheus's `DefaultSegmentSize`.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 * 1024 * 1024;
/// Size of a fragment header: type, length, CRC.
pub const FRAGMENT_HEADER_SIZE: usize = 7;

const SNAPPY_FLAG: u8 = 1 << 3;
const ZSTD_FLAG: u8 = 1 << 4;
const TYPE_MASK: u8 = 0b111;

/// Fragment types of the header's low three bits.
const FRAG_PADDING: u8 = 0;
const FRAG_FULL: u8 = 1;
const FRAG_FIRST: u8 = 2;
const FRAG_MIDDLE: u8 = 3;
const FRAG_LAST: u8 = 4;

/// How records are compressed when written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// Records are written as they are.
    None,
    /// Snappy block compression, Prometheus's default
    /// (`--storage.tsdb.wal-compression`).
    #[default]
    Snappy,
}

/// Which segments [`Wal::open`] reads to find a torn or corrupt tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RepairScope {
    /// Only the last segment: a crash can only tear what was being written.
    #[default]
    LastSegment,
    /// Every segment, for a directory whose history is unknown.
    AllSegments,
}

/// Options of [`Wal::open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalOptions {
    /// Nominal segment size in bytes; a multiple of [`PAGE_SIZE`].
    pub segment_size: u64,
    /// Compression of newly written records.
    pub compression: Compression,
    /// What to check for corruption on open.
    pub repair_scope: RepairScope,
}

impl Default for WalOptions {
    fn default() -> WalOptions {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            compression: Compression::Snappy,
            repair_scope: RepairScope::LastSegment,
        }
    }
}

/// What is wrong at a [`Corruption`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorruptionReason {
    /// The fragment's data does not match its CRC.
    Checksum {
        /// CRC in the header.
        want: u32,
        /// CRC of the data read.
        got: u32,
    },
    /// The file ends inside a record (a crash while writing it).
    Torn,
    /// A fragment header or its data runs past the end of its page.
    CrossesPage,
    /// A padding marker is followed by non-zero bytes in its page.
    NonZeroPadding,
    /// The header's fragment type is not 0 to 4.
    BadFragmentType(u8),
    /// A fragment type that cannot follow the previous one (e.g. a middle
    /// fragment with no first, or a new record inside an unfinished one).
    UnexpectedFragment(u8),
    /// The record's snappy data does not decompress.
    Snappy(String),
}

impl fmt::Display for CorruptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptionReason::Checksum { want, got } => {
                write!(
                    f,
                    "checksum mismatch (header {want:#010x}, data {got:#010x})"
                )
            }
            CorruptionReason::Torn => f.write_str("record is torn by the end of the segment"),
            CorruptionReason::CrossesPage => f.write_str("fragment crosses a page boundary"),
            CorruptionReason::NonZeroPadding => f.write_str("non-zero byte in page padding"),
            CorruptionReason::BadFragmentType(t) => write!(f, "invalid fragment type {t}"),
            CorruptionReason::UnexpectedFragment(t) => {
                write!(f, "fragment type {t} out of sequence")
            }
            CorruptionReason::Snappy(e) => write!(f, "snappy data does not decompress: {e}"),
        }
    }
}

/// Where and why a segment cannot be read further.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// Directory of the segment (the WAL or a checkpoint).
    pub dir: PathBuf,
    /// Segment index.
    pub segment: u32,
    /// Byte offset in the segment of the first record that cannot be read
    /// whole: every record before it is intact.
    pub offset: u64,
    /// What is wrong.
    pub reason: CorruptionReason,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} offset {}: {}",
            segment_path(&self.dir, self.segment).display(),
            self.offset,
            self.reason
        )
    }
}

/// Errors of the WAL.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A file system call failed.
    #[error("cannot {op} {}: {source}", .path.display())]
    Io {
        /// What was being done ("open", "write", …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A segment is corrupt; [`Wal::repair`] can cut it off.
    #[error("cannot read WAL record at {0}")]
    Corrupt(Corruption),
    /// A record was written with zstd, which pharos does not read.
    #[error("cannot read WAL record at {} offset {offset}: zstd-compressed records are not supported", segment_path(.dir, *.segment).display())]
    ZstdUnsupported {
        /// Directory of the segment.
        dir: PathBuf,
        /// Segment index.
        segment: u32,
        /// Offset of the record.
        offset: u64,
    },
    /// Segment numbers have a gap.
    #[error("cannot list WAL segments in {}: segments are not sequential ({prev} is followed by {next})", .dir.display())]
    NotSequential {
        /// The directory.
        dir: PathBuf,
        /// Last index before the gap.
        prev: u32,
        /// First index after it.
        next: u32,
    },
    /// The last segment's index is `u32::MAX`: there is no next one.
    #[error("cannot start a new WAL segment in {}: segment index would exceed {}", .0.display(), u32::MAX)]
    SegmentIndexOverflow(PathBuf),
    /// The segment size is not a positive multiple of the page size.
    #[error("cannot open WAL: segment size {0} is not a positive multiple of {PAGE_SIZE}")]
    InvalidSegmentSize(u64),
    /// A record too large for snappy (over ~4 GiB).
    #[error("cannot compress WAL record of {len} bytes: {cause}")]
    Compress {
        /// Record length.
        len: usize,
        /// The encoder's message.
        cause: String,
    },
    /// The WAL refuses writes after a failed one, or after close.
    #[error("cannot log records: {0}")]
    NotWritable(&'static str),
    /// [`Wal::repair`] was given a corruption outside this WAL.
    #[error("cannot repair {}: the corruption is in {}", .wal.display(), .corrupt.display())]
    ForeignCorruption {
        /// This WAL's directory.
        wal: PathBuf,
        /// Directory of the corrupt segment.
        corrupt: PathBuf,
    },
    /// A record read while checkpointing does not decode.
    #[error("cannot checkpoint record of segment {segment} offset {offset}: {source}")]
    Record {
        /// Segment of the record.
        segment: u32,
        /// Offset of the record.
        offset: u64,
        /// The decoding error.
        source: RecordError,
    },
    /// A checkpoint was asked to start after a gap in the segments.
    #[error("cannot checkpoint segments from {from}: the last checkpoint ends at segment {last}")]
    CheckpointGap {
        /// Last segment the existing checkpoint covers.
        last: u32,
        /// First segment requested.
        from: u32,
    },
    /// A `checkpoint.N` entry is a file, not a directory.
    #[error("cannot list checkpoints: {} is not a directory", .0.display())]
    CheckpointNotDir(PathBuf),
}

impl WalError {
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> WalError {
        WalError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }

    /// The corruption, when this error is one that [`Wal::repair`] handles.
    pub fn corruption(&self) -> Option<&Corruption> {
        match self {
            WalError::Corrupt(c) => Some(c),
            _ => None,
        }
    }
}
