//! Cutting a WAL at a corruption: what [`super::Wal::open`] and
//! [`super::Wal::repair`] do, and the report they return.

use std::fmt;
use std::fs::OpenOptions;
use std::path::Path;

use super::reader::WalReader;
use super::segment::{file_size, list_segments, remove_file, segment_path, sync_dir};
use super::{Corruption, WalError, PAGE_SIZE};

/// A segment deleted by a repair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletedSegment {
    /// Its index.
    pub index: u32,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What a repair dropped, for the caller to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    /// The corruption that was cut off.
    pub cause: Corruption,
    /// The segment that was truncated.
    pub segment: u32,
    /// Its new length before padding: every record before this offset is kept.
    pub offset: u64,
    /// Bytes dropped from that segment (its old length minus `offset`).
    pub bytes_dropped: u64,
    /// Later segments deleted whole, ascending.
    pub deleted: Vec<DeletedSegment>,
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "truncated WAL segment {:08} at offset {} (dropped {} bytes)",
            self.segment, self.offset, self.bytes_dropped
        )?;
        if !self.deleted.is_empty() {
            let bytes: u64 = self.deleted.iter().map(|d| d.bytes).sum();
            write!(
                f,
                " and deleted {} later segment(s) {:08}..={:08} ({bytes} bytes)",
                self.deleted.len(),
                self.deleted[0].index,
                self.deleted[self.deleted.len() - 1].index
            )?;
        }
        write!(f, " after corruption at {}", self.cause)
    }
}

/// Reads segments `from..=last` of `dir` and returns the first corruption.
/// Errors that are not corruption (I/O, zstd) are returned as errors: they
/// must not make the repair drop good data.
pub(crate) fn scan_for_corruption(
    dir: &Path,
    from: u32,
    last: u32,
) -> Result<Option<Corruption>, WalError> {
    let mut r = WalReader::open(dir, Some(from), Some(last))?;
    while let Some(res) = r.next() {
        match res {
            Ok(_) => {}
            Err(WalError::Corrupt(c)) => return Ok(Some(c)),
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Truncates the corrupt segment at the corruption's offset, zero-pads it to
/// the page boundary (so it reads as a clean, page-aligned segment) and
/// deletes all later segments.
pub(crate) fn repair_dir(dir: &Path, c: &Corruption) -> Result<Repair, WalError> {
    let mut deleted = Vec::new();
    for i in list_segments(dir)? {
        if i > c.segment {
            let p = segment_path(dir, i);
            let bytes = file_size(&p)?;
            remove_file(&p)?;
            deleted.push(DeletedSegment { index: i, bytes });
        }
    }
    let path = segment_path(dir, c.segment);
    let old_len = file_size(&path)?;
    let offset = c.offset.min(old_len);
    let f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| WalError::io("open", &path, e))?;
    let padded = offset.div_ceil(PAGE_SIZE as u64) * PAGE_SIZE as u64;
    // Truncating first and then extending leaves zeros from `offset` on.
    f.set_len(offset)
        .and_then(|_| f.set_len(padded))
        .and_then(|_| f.sync_all())
        .map_err(|e| WalError::io("truncate", &path, e))?;
    sync_dir(dir)?;
    Ok(Repair {
        cause: c.clone(),
        segment: c.segment,
        offset,
        bytes_dropped: old_len - offset,
        deleted,
    })
}
