//! Deletion intervals of a block's series, and the `tombstones` file that
//! stores them, byte-compatible with Prometheus.
//!
//! # File format
//!
//! ```text
//! magic 0x0130BA30 <4b, big-endian> | version 1 <1b>
//! for every interval of every series:
//!     series ref <uvarint> | min time <varint> | max time <varint>
//! CRC32-Castagnoli <4b> of the intervals (not of magic or version)
//! ```
//!
//! A series with several intervals repeats its ref once per interval; there
//! is no count. Intervals are closed (`[min, max]`, in ms). Prometheus writes
//! series in map order; pharos writes them sorted by ref so the file is
//! deterministic. A missing file means no tombstones.
//!
//! ```
//! use tsdb::tombstones::{Interval, Tombstones};
//!
//! let mut t = Tombstones::new();
//! t.add_interval(3, Interval { min_time: 0, max_time: 10 });
//! t.add_interval(3, Interval { min_time: 11, max_time: 20 }); // touches: merged
//! assert_eq!(t.get(3), [Interval { min_time: 0, max_time: 20 }]);
//! let dir = tempfile::tempdir().unwrap();
//! t.write(dir.path()).unwrap();
//! assert_eq!(Tombstones::read(dir.path()).unwrap().0, t);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::encoding::{
    push_uvarint as put_uvarint, read_uvarint_slice as uvarint, unzigzag, zigzag,
};
use crate::index::SeriesRef;
use crate::meta::write_atomically;

/// Name of the file in a block directory.
pub const TOMBSTONES_FILENAME: &str = "tombstones";
/// First four bytes of the file.
pub const MAGIC_TOMBSTONE: u32 = 0x0130_BA30;
const FORMAT_V1: u8 = 1;

/// A closed time range `[min_time, max_time]` of deleted samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// First deleted timestamp (ms).
    pub min_time: i64,
    /// Last deleted timestamp (ms).
    pub max_time: i64,
}

impl Interval {
    /// Whether `t` falls in the interval.
    pub fn contains(&self, t: i64) -> bool {
        self.min_time <= t && t <= self.max_time
    }
}

/// Adds `n` to sorted, disjoint `ivs`, merging it with every interval it
/// overlaps or touches (timestamps are integers, so `[1,2]` and `[3,4]`
/// merge), as Prometheus's `Intervals.Add` does.
pub fn add_interval(ivs: &mut Vec<Interval>, n: Interval) {
    // First interval that overlaps or touches n (from the left), then the
    // end of the run that does.
    let lo = ivs.partition_point(|iv| iv.max_time < n.min_time.saturating_sub(1));
    let hi = lo + ivs[lo..].partition_point(|iv| iv.min_time <= n.max_time.saturating_add(1));
    if lo == hi {
        ivs.insert(lo, n);
        return;
    }
    let merged = Interval {
        min_time: n.min_time.min(ivs[lo].min_time),
        max_time: n.max_time.max(ivs[hi - 1].max_time),
    };
    ivs[lo] = merged;
    ivs.drain(lo + 1..hi);
}

/// Deletion intervals by series ref.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tombstones {
    series: BTreeMap<SeriesRef, Vec<Interval>>,
}

/// Why a tombstones file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TombstonesError {
    /// The file system refused an operation.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file's bytes are not a valid tombstones file.
    #[error("cannot read {path} at offset {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where reading failed.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
}

impl Tombstones {
    /// No tombstones.
    pub fn new() -> Tombstones {
        Tombstones::default()
    }

    /// Marks `[iv.min_time, iv.max_time]` of series `r` deleted.
    pub fn add_interval(&mut self, r: SeriesRef, iv: Interval) {
        add_interval(self.series.entry(r).or_default(), iv);
    }

    /// The deleted intervals of series `r`, sorted and disjoint.
    pub fn get(&self, r: SeriesRef) -> &[Interval] {
        self.series.get(&r).map_or(&[], Vec::as_slice)
    }

    /// Every series with deletions, by ascending ref.
    pub fn iter(&self) -> impl Iterator<Item = (SeriesRef, &[Interval])> + '_ {
        self.series.iter().map(|(&r, ivs)| (r, ivs.as_slice()))
    }

    /// Number of intervals over all series (meta.json's `numTombstones`).
    pub fn total(&self) -> u64 {
        self.series.values().map(|v| v.len() as u64).sum()
    }

    /// Whether nothing is deleted.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Forgets the series in `refs` (they were removed from the block).
    pub fn delete_series(&mut self, refs: &[SeriesRef]) {
        for r in refs {
            self.series.remove(r);
        }
    }

    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(9 + self.series.len() * 12);
        b.extend_from_slice(&MAGIC_TOMBSTONE.to_be_bytes());
        b.push(FORMAT_V1);
        for (&r, ivs) in &self.series {
            for iv in ivs {
                put_uvarint(&mut b, r);
                put_uvarint(&mut b, zigzag(iv.min_time));
                put_uvarint(&mut b, zigzag(iv.max_time));
            }
        }
        let crc = crc32c::crc32c(&b[5..]);
        b.extend_from_slice(&crc.to_be_bytes());
        b
    }

    /// Parses a file's bytes; `path` only names the file in errors.
    pub fn decode(b: &[u8], path: &Path) -> Result<Tombstones, TombstonesError> {
        let err = |offset, reason: String| TombstonesError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason,
        };
        if b.len() < 9 {
            return Err(err(0, format!("file of {} bytes is too short", b.len())));
        }
        let magic = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if magic != MAGIC_TOMBSTONE {
            return Err(err(0, format!("invalid magic number {magic:#010x}")));
        }
        if b[4] != FORMAT_V1 {
            return Err(err(
                4,
                format!("unsupported tombstones format version {}", b[4]),
            ));
        }
        let body = &b[5..b.len() - 4];
        let tail = &b[b.len() - 4..];
        let stored = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let computed = crc32c::crc32c(body);
        if stored != computed {
            return Err(err(
                b.len() - 4,
                format!("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"),
            ));
        }
        let mut t = Tombstones::new();
        let mut pos = 0;
        let next = |pos: &mut usize| -> Result<u64, TombstonesError> {
            let (v, n) =
                uvarint(&body[*pos..]).ok_or_else(|| err(5 + *pos, "invalid varint".into()))?;
            *pos += n;
            Ok(v)
        };
        while pos < body.len() {
            let r = next(&mut pos)?;
            let min_time = unzigzag(next(&mut pos)?);
            let max_time = unzigzag(next(&mut pos)?);
            t.add_interval(r, Interval { min_time, max_time });
        }
        Ok(t)
    }

    /// Reads `<dir>/tombstones`: the tombstones and the file's size (0 and
    /// none when there is no file).
    pub fn read(dir: &Path) -> Result<(Tombstones, u64), TombstonesError> {
        let path = dir.join(TOMBSTONES_FILENAME);
        match std::fs::read(&path) {
            Ok(b) => Ok((Self::decode(&b, &path)?, b.len() as u64)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Tombstones::new(), 0)),
            Err(source) => Err(TombstonesError::Io {
                op: "read",
                path,
                source,
            }),
        }
    }

    /// Writes `<dir>/tombstones` atomically; returns the file's size.
    pub fn write(&self, dir: &Path) -> Result<u64, TombstonesError> {
        let b = self.encode();
        write_atomically(dir, TOMBSTONES_FILENAME, &b).map_err(|source| TombstonesError::Io {
            op: "write",
            path: dir.join(TOMBSTONES_FILENAME),
            source,
        })?;
        Ok(b.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn iv(min_time: i64, max_time: i64) -> Interval {
        Interval { min_time, max_time }
    }

    #[test]
    fn add_merges_like_prometheus() {
        // Cases from Prometheus's TestAddingNewIntervals.
        let check = |start: &[(i64, i64)], new: (i64, i64), want: &[(i64, i64)]| {
            let mut v: Vec<Interval> = start.iter().map(|&(a, b)| iv(a, b)).collect();
            add_interval(&mut v, iv(new.0, new.1));
            let want: Vec<Interval> = want.iter().map(|&(a, b)| iv(a, b)).collect();
            assert_eq!(v, want, "{start:?} + {new:?}");
        };
        check(&[], (1, 2), &[(1, 2)]);
        check(&[(1, 2)], (1, 2), &[(1, 2)]);
        check(&[(1, 4), (6, 6)], (5, 6), &[(1, 6)]);
        check(
            &[(1, 10), (12, 20), (25, 30)],
            (21, 22),
            &[(1, 10), (12, 22), (25, 30)],
        );
        check(
            &[(1, 10), (12, 20), (25, 30)],
            (21, 25),
            &[(1, 10), (12, 30)],
        );
        check(
            &[(1, 10), (12, 20), (25, 30)],
            (18, 23),
            &[(1, 10), (12, 23), (25, 30)],
        );
        check(
            &[(1, 10), (12, 20), (25, 30)],
            (9, 23),
            &[(1, 23), (25, 30)],
        );
        check(&[(1, 10), (12, 20), (25, 30)], (9, 230), &[(1, 230)]);
        check(
            &[(5, 10), (12, 20), (25, 30)],
            (1, 4),
            &[(1, 10), (12, 20), (25, 30)],
        );
        check(
            &[(5, 10), (12, 20), (25, 30)],
            (11, 14),
            &[(5, 20), (25, 30)],
        );
        check(
            &[(5, 10), (12, 20), (25, 30)],
            (1, 3),
            &[(1, 3), (5, 10), (12, 20), (25, 30)],
        );
        check(
            &[(5, 10), (12, 20), (25, 30)],
            (35, 40),
            &[(5, 10), (12, 20), (25, 30), (35, 40)],
        );
        check(&[(5, 10)], (i64::MIN, i64::MAX), &[(i64::MIN, i64::MAX)]);
    }

    #[test]
    fn golden_bytes() {
        let mut t = Tombstones::new();
        t.add_interval(1, iv(-1, 2));
        t.add_interval(300, iv(5, 6));
        t.add_interval(1, iv(10, 20));
        let b = t.encode();
        let body = [1, 1, 4, 1, 20, 40, 0xac, 0x02, 10, 12];
        let mut want = vec![0x01, 0x30, 0xBA, 0x30, 1];
        want.extend_from_slice(&body);
        want.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
        assert_eq!(b, want);
        assert_eq!(Tombstones::decode(&b, Path::new("t")).unwrap(), t);
        assert_eq!(t.total(), 3);
        assert_eq!(t.get(1), &[iv(-1, 2), iv(10, 20)]);
        assert!(t.get(2).is_empty());
    }

    #[test]
    fn read_write_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let (t, size) = Tombstones::read(dir.path()).unwrap();
        assert!(t.is_empty());
        assert_eq!(size, 0);
        let mut t = Tombstones::new();
        t.add_interval(7, iv(0, 100));
        let n = t.write(dir.path()).unwrap();
        assert_eq!(Tombstones::read(dir.path()).unwrap(), (t, n));
    }

    #[test]
    fn corrupt_files_are_errors() {
        let mut t = Tombstones::new();
        t.add_interval(7, iv(0, 100));
        let good = t.encode();
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x40;
            assert!(
                Tombstones::decode(&b, Path::new("t")).is_err(),
                "flip at {i}"
            );
        }
        for n in 0..good.len() {
            assert!(Tombstones::decode(&good[..n], Path::new("t")).is_err());
        }
        // A truncated varint with a valid checksum.
        let mut b = vec![0x01, 0x30, 0xBA, 0x30, 1, 0x80];
        b.extend_from_slice(&crc32c::crc32c(&[0x80]).to_be_bytes());
        let e = Tombstones::decode(&b, Path::new("/x/tombstones")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot read /x/tombstones at offset 5: invalid varint"
        );
    }

    proptest! {
        #[test]
        fn round_trip(ops in proptest::collection::vec((0u64..20, any::<i64>(), 0i64..1000), 0..50)) {
            let mut t = Tombstones::new();
            for (r, a, len) in ops {
                t.add_interval(r, iv(a, a.saturating_add(len)));
            }
            for (_, ivs) in t.iter() {
                prop_assert!(ivs.windows(2).all(|w| w[0].max_time.saturating_add(1) < w[1].min_time));
            }
            prop_assert_eq!(Tombstones::decode(&t.encode(), Path::new("t")).unwrap(), t);
        }

        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Tombstones::decode(&b, Path::new("t"));
        }
    }
}
