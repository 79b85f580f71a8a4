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

#[cfg(test)]
mod tests {
    use super::super::{
        Compression, CorruptionReason, RepairScope, Wal, WalOptions, FRAG_FULL, ZSTD_FLAG,
    };
    use super::*;
    use proptest::prelude::*;

    fn opts(scope: RepairScope) -> WalOptions {
        WalOptions {
            segment_size: 4 * PAGE_SIZE as u64,
            compression: Compression::None,
            repair_scope: scope,
        }
    }

    /// A record with its (segment, offset).
    type Positioned = (Vec<u8>, (u32, u64));

    /// Records with their positions, read from the whole WAL, and the error that stopped it.
    fn read_all(dir: &Path) -> (Vec<Positioned>, Option<WalError>) {
        let mut r = WalReader::open(dir, None, None).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next() {
            match rec {
                Ok(rec) => {
                    let rec = rec.to_vec();
                    out.push((rec, r.position()));
                }
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn rec(i: usize) -> Vec<u8> {
        format!("record number {i} ")
            .repeat(i % 40 + 1)
            .into_bytes()
    }

    /// Writes records 0..n, cutting a segment every `per_segment` records,
    /// and leaves the WAL unclosed.
    fn write(dir: &Path, n: usize, per_segment: usize) {
        let (mut w, _) = Wal::open(dir, opts(RepairScope::LastSegment)).unwrap();
        for i in 0..n {
            if i > 0 && i % per_segment == 0 {
                w.next_segment().unwrap();
            }
            w.log(&[&rec(i)]).unwrap();
        }
    }

    #[test]
    fn torn_tail_is_cut_at_the_torn_record() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 200, 1000);
        let (before, err) = read_all(d.path());
        assert!(err.is_none());
        let (_, (seg, last_off)) = before[199];
        let path = segment_path(d.path(), seg);
        let len = file_size(&path).unwrap();
        // Tear the last record in the middle.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 5).unwrap();

        let (w, repair) = Wal::open(d.path(), opts(RepairScope::LastSegment)).unwrap();
        let repair = repair.expect("repair");
        assert_eq!(repair.segment, seg);
        assert_eq!(repair.offset, last_off);
        assert_eq!(repair.bytes_dropped, len - 5 - last_off);
        assert!(repair.deleted.is_empty());
        assert_eq!(repair.cause.reason, CorruptionReason::Torn);
        assert!(
            repair
                .to_string()
                .starts_with("truncated WAL segment 00000000 at offset"),
            "{repair}"
        );
        drop(w);
        let (after, err) = read_all(d.path());
        assert!(err.is_none(), "{err:?}");
        assert_eq!(after, before[..199]);
        // The cut segment is page-aligned again.
        assert_eq!(file_size(&path).unwrap() % PAGE_SIZE as u64, 0);
    }

    #[test]
    fn torn_segment_before_an_empty_one_is_found() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 10, 1000);
        let path = segment_path(d.path(), 0);
        let len = file_size(&path).unwrap();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 1)
            .unwrap();
        std::fs::write(segment_path(d.path(), 1), b"").unwrap();
        let (_, repair) = Wal::open(d.path(), opts(RepairScope::LastSegment)).unwrap();
        let repair = repair.expect("repair");
        assert_eq!(repair.segment, 0);
        assert_eq!(repair.deleted, [DeletedSegment { index: 1, bytes: 0 }]);
        let (after, err) = read_all(d.path());
        assert!(err.is_none());
        assert_eq!(after.len(), 9);
    }

    #[test]
    fn corruption_in_an_older_segment_drops_it_and_everything_after() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 30, 10); // segments 0, 1, 2
        let (before, _) = read_all(d.path());
        let (_, (seg, off)) = before[13];
        assert_eq!(seg, 1);
        let path = segment_path(d.path(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[off as usize + 10] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let seg2 = file_size(&segment_path(d.path(), 2)).unwrap();

        // The default scope reads only the last segment and sees nothing.
        let (w, repair) = Wal::open(d.path(), opts(RepairScope::LastSegment)).unwrap();
        assert_eq!(repair, None);
        drop(w);
        // Replay finds it; Wal::repair cuts it.
        let (_, err) = read_all(d.path());
        let c = err.unwrap().corruption().cloned().unwrap();
        assert_eq!((c.segment, c.offset), (1, off));
        assert!(matches!(c.reason, CorruptionReason::Checksum { .. }));
        let (mut w, _) = Wal::open(d.path(), opts(RepairScope::LastSegment)).unwrap();
        let repair = w.repair(&c).unwrap();
        assert_eq!(repair.offset, off);
        assert_eq!(
            repair.deleted,
            [
                DeletedSegment {
                    index: 2,
                    bytes: seg2
                },
                // Empty segments started by the two opens.
                DeletedSegment { index: 3, bytes: 0 },
                DeletedSegment { index: 4, bytes: 0 },
            ]
        );
        assert_eq!(w.current_segment(), 2);
        w.log(&[b"new"]).unwrap();
        w.close().unwrap();
        let (after, err) = read_all(d.path());
        assert!(err.is_none());
        let recs: Vec<Vec<u8>> = after.into_iter().map(|(r, _)| r).collect();
        let mut want: Vec<Vec<u8>> = (0..13).map(rec).collect();
        want.push(b"new".to_vec());
        assert_eq!(recs, want);
    }

    #[test]
    fn open_with_all_segments_scope_repairs_the_middle() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 30, 10);
        let (before, _) = read_all(d.path());
        let (_, (_, off)) = before[4];
        let path = segment_path(d.path(), 0);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[off as usize] = 0x07; // invalid fragment type
        std::fs::write(&path, &bytes).unwrap();
        let (w, repair) = Wal::open(d.path(), opts(RepairScope::AllSegments)).unwrap();
        let repair = repair.unwrap();
        assert_eq!((repair.segment, repair.offset), (0, off));
        assert_eq!(repair.cause.reason, CorruptionReason::BadFragmentType(7));
        assert_eq!(repair.deleted.len(), 2);
        assert_eq!(w.current_segment(), 1);
    }

    #[test]
    fn zstd_is_reported_not_repaired() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), 3, 10);
        let path = segment_path(d.path(), 0);
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[0], FRAG_FULL);
        bytes[0] |= ZSTD_FLAG;
        std::fs::write(&path, &bytes).unwrap();
        let err = Wal::open(d.path(), opts(RepairScope::LastSegment))
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                WalError::ZstdUnsupported {
                    segment: 0,
                    offset: 0,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("zstd-compressed records are not supported"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any bytes in any segment: opening never panics, and after a
        /// full-scope repair the WAL reads to the end without error.
        #[test]
        fn garbage_is_repaired(
            segs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..3),
            valid_prefix in any::<bool>(),
        ) {
            let d = tempfile::tempdir().unwrap();
            if valid_prefix {
                write(d.path(), 5, 100);
            }
            let first = list_segments(d.path()).unwrap().len() as u32;
            for (i, s) in segs.iter().enumerate() {
                std::fs::write(segment_path(d.path(), first + i as u32), s).unwrap();
            }
            let (w, _) = Wal::open(d.path(), opts(RepairScope::AllSegments)).unwrap();
            drop(w);
            let (recs, err) = read_all(d.path());
            prop_assert!(err.is_none(), "{err:?}");
            if valid_prefix {
                prop_assert!(recs.len() >= 5);
            }
        }

        /// Flipping any byte of a valid WAL never panics and leaves a
        /// readable prefix of the original records.
        #[test]
        fn bit_flips_keep_a_prefix(pos in 0usize..4000, bit in 0u8..8) {
            let d = tempfile::tempdir().unwrap();
            write(d.path(), 40, 1000);
            let (before, _) = read_all(d.path());
            let path = segment_path(d.path(), 0);
            let mut bytes = std::fs::read(&path).unwrap();
            let pos = pos % bytes.len();
            // A flipped compression flag on a header keeps its CRC valid:
            // no reader can tell that from a genuine zstd or snappy record.
            let is_header = before.iter().any(|(_, (_, off))| *off as usize == pos);
            prop_assume!(!(is_header && (bit == 3 || bit == 4)));
            bytes[pos] ^= 1 << bit;
            std::fs::write(&path, &bytes).unwrap();
            drop(Wal::open(d.path(), opts(RepairScope::AllSegments)).unwrap());
            let (after, err) = read_all(d.path());
            prop_assert!(err.is_none(), "{err:?}");
            prop_assert!(after.len() <= before.len());
            prop_assert_eq!(&after[..], &before[..after.len()]);
        }
    }
}
