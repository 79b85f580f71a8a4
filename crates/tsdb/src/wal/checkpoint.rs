//! Checkpoints: the part of old segments that must outlive their deletion.
//!
//! When the head drops old data, the segments that held it can go, except
//! for records still needed: the series that are alive, samples and
//! exemplars at or after the new minimum time, tombstones of live series
//! that reach that time, and the latest metadata of live series. A
//! checkpoint is a subdirectory `checkpoint.NNNNNNNN` of the WAL (NNNNNNNN
//! being the last segment it covers) holding those records as an ordinary
//! WAL: segment files in the format of [`crate::wal`], written with the same
//! record encodings (see [`crate::record`]).
//!
//! It is built in `checkpoint.NNNNNNNN.tmp`, fsynced, renamed into place and
//! the WAL directory fsynced, so a crash leaves either the old or the new
//! checkpoint whole; leftover `.tmp` directories are deleted by the next
//! checkpoint. Replay reads the newest checkpoint, then the WAL segments
//! after NNNNNNNN ([`open_replay`]).
//!
//! Records pharos does not decode (native histograms, v2 samples) are not
//! carried into a checkpoint; [`CheckpointStats::dropped_unsupported`]
//! counts them. Like Prometheus, mmap markers are not carried either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::reader::WalReader;
use super::segment::{list_segments, sync_dir};
use super::{Compression, RepairScope, Wal, WalError, WalOptions};
use crate::record::{self, RecordType, SeriesRef};

const PREFIX: &str = "checkpoint.";
const TMP_SUFFIX: &str = ".tmp";
/// Batches of kept records are logged once they reach this size.
const FLUSH_BYTES: usize = 1 << 20;

/// What a checkpoint kept and dropped; totals include the dropped ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    /// Series records' entries read.
    pub total_series: usize,
    /// Series of dead refs dropped.
    pub dropped_series: usize,
    /// Samples read.
    pub total_samples: usize,
    /// Samples before `mint` dropped.
    pub dropped_samples: usize,
    /// Tombstones read.
    pub total_tombstones: usize,
    /// Tombstones of dead series or ending before `mint` dropped.
    pub dropped_tombstones: usize,
    /// Exemplars read.
    pub total_exemplars: usize,
    /// Exemplars before `mint` dropped.
    pub dropped_exemplars: usize,
    /// Metadata entries read.
    pub total_metadata: usize,
    /// Metadata entries dropped (dead series, or superseded by a later entry).
    pub dropped_metadata: usize,
    /// Records of types pharos does not decode, dropped whole.
    pub dropped_unsupported: usize,
}

/// The directory of the checkpoint covering segments up to `index`.
pub fn checkpoint_dir(wal_dir: &Path, index: u32) -> PathBuf {
    wal_dir.join(format!("{PREFIX}{index:08}"))
}

/// Finished checkpoints in `wal_dir`, ascending by index.
fn list_checkpoints(wal_dir: &Path) -> Result<Vec<(u32, PathBuf)>, WalError> {
    let entries = std::fs::read_dir(wal_dir).map_err(|e| WalError::io("list", wal_dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io("list", wal_dir, e))?;
        let name = entry.file_name();
        let Some(digits) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue; // e.g. a `.tmp` directory
        }
        let Ok(index) = digits.parse::<u32>() else {
            continue;
        };
        if !entry.path().is_dir() {
            return Err(WalError::CheckpointNotDir(entry.path()));
        }
        out.push((index, entry.path()));
    }
    out.sort_unstable_by_key(|(i, _)| *i);
    Ok(out)
}

/// The newest checkpoint's directory and index, if there is one.
pub fn last_checkpoint(wal_dir: &Path) -> Result<Option<(PathBuf, u32)>, WalError> {
    Ok(list_checkpoints(wal_dir)?.pop().map(|(i, p)| (p, i)))
}

/// Deletes the checkpoints whose index is below `before`.
pub fn delete_checkpoints(wal_dir: &Path, before: u32) -> Result<(), WalError> {
    for (i, p) in list_checkpoints(wal_dir)? {
        if i >= before {
            break;
        }
        std::fs::remove_dir_all(&p).map_err(|e| WalError::io("remove", &p, e))?;
    }
    sync_dir(wal_dir)
}

fn delete_tmp_checkpoints(wal_dir: &Path) -> Result<(), WalError> {
    let entries = std::fs::read_dir(wal_dir).map_err(|e| WalError::io("list", wal_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io("list", wal_dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(PREFIX) && name.ends_with(TMP_SUFFIX) {
            let p = entry.path();
            std::fs::remove_dir_all(&p).map_err(|e| WalError::io("remove", &p, e))?;
        }
    }
    Ok(())
}

/// A reader for startup replay: the newest checkpoint's segments, then the
/// WAL's segments after the checkpoint's index.
pub fn open_replay(wal_dir: &Path) -> Result<WalReader, WalError> {
    let mut segs = Vec::new();
    let mut after = None;
    if let Some((cp, idx)) = last_checkpoint(wal_dir)? {
        segs.extend(list_segments(&cp)?.into_iter().map(|i| (cp.clone(), i)));
        after = Some(idx);
    }
    for i in list_segments(wal_dir)? {
        if after.is_none_or(|a| i > a) {
            segs.push((wal_dir.to_owned(), i));
        }
    }
    Ok(WalReader::from_segments(segs))
}

/// Builds `checkpoint.<to>` from the previous checkpoint and segments
/// `from..=to` of `wal_dir`, keeping the series for which `keep` is true and
/// data at or after `mint`; then deletes older checkpoints. The WAL segments
/// themselves are left for the caller to delete ([`Wal::truncate`]) once it
/// has switched to the new checkpoint.
pub fn checkpoint(
    wal_dir: &Path,
    from: u32,
    to: u32,
    keep: &dyn Fn(SeriesRef) -> bool,
    mint: i64,
    compression: Compression,
) -> Result<CheckpointStats, WalError> {
    let mut segs = Vec::new();
    let mut from = from;
    if let Some((cp, idx)) = last_checkpoint(wal_dir)? {
        let next = idx.saturating_add(1);
        if from > next {
            return Err(WalError::CheckpointGap { last: idx, from });
        }
        from = next;
        segs.extend(list_segments(&cp)?.into_iter().map(|i| (cp.clone(), i)));
    }
    for i in list_segments(wal_dir)? {
        if i >= from && i <= to {
            segs.push((wal_dir.to_owned(), i));
        }
    }
    let mut reader = WalReader::from_segments(segs);

    delete_tmp_checkpoints(wal_dir)?;
    let final_dir = checkpoint_dir(wal_dir, to);
    let tmp_dir = PathBuf::from(format!("{}{TMP_SUFFIX}", final_dir.display()));
    let opts = WalOptions {
        compression,
        repair_scope: RepairScope::LastSegment,
        ..WalOptions::default()
    };
    let (mut cp, _) = Wal::open(&tmp_dir, opts)?;

    let stats = match copy_kept(&mut reader, &mut cp, keep, mint) {
        Ok(s) => s,
        Err(e) => {
            drop(cp);
            let _ = std::fs::remove_dir_all(&tmp_dir);
            return Err(e);
        }
    };
    cp.close()?;
    sync_dir(&tmp_dir)?;
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).map_err(|e| WalError::io("remove", &final_dir, e))?;
    }
    std::fs::rename(&tmp_dir, &final_dir).map_err(|e| WalError::io("rename", &tmp_dir, e))?;
    sync_dir(wal_dir)?;
    delete_checkpoints(wal_dir, to)?;
    Ok(stats)
}

/// Reusable decode buffers of [`copy_kept`].
#[derive(Default)]
struct Decoded {
    series: Vec<record::RefSeries>,
    samples: Vec<record::RefSample>,
    stones: Vec<record::Tombstone>,
    exemplars: Vec<record::RefExemplar>,
    metadata: Vec<record::RefMetadata>,
}

impl Decoded {
    /// Decodes `rec` into the buffer of its type; `None` for a type that is
    /// unknown, which Prometheus's checkpoint skips too.
    fn decode(&mut self, rec: &[u8]) -> Result<Option<RecordType>, record::RecordError> {
        let t = match RecordType::of(rec) {
            Ok(t) => t,
            Err(record::RecordError::UnknownType(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        match t {
            RecordType::Series => record::decode_series(rec, &mut self.series)?,
            RecordType::Samples => record::decode_samples(rec, &mut self.samples)?,
            RecordType::Tombstones => record::decode_tombstones(rec, &mut self.stones)?,
            RecordType::Exemplars => record::decode_exemplars(rec, &mut self.exemplars)?,
            RecordType::Metadata => record::decode_metadata(rec, &mut self.metadata)?,
            _ => {}
        }
        Ok(Some(t))
    }
}

/// Reads every record of `reader`, filters it and logs what is kept to `cp`.
fn copy_kept(
    reader: &mut WalReader,
    cp: &mut Wal,
    keep: &dyn Fn(SeriesRef) -> bool,
    mint: i64,
) -> Result<CheckpointStats, WalError> {
    let mut st = CheckpointStats::default();
    let mut d = Decoded::default();
    let mut latest_metadata = BTreeMap::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();

    loop {
        let decoded = match reader.next() {
            None => break,
            Some(rec) => d.decode(rec?),
        };
        let typ = decoded.map_err(|source| {
            let (segment, offset) = reader.position();
            WalError::Record {
                segment,
                offset,
                source,
            }
        })?;
        let start = buf.len();
        match typ {
            Some(RecordType::Series) => {
                let n = d.series.len();
                d.series.retain(|s| keep(s.series_ref));
                st.total_series += n;
                st.dropped_series += n - d.series.len();
                if !d.series.is_empty() {
                    record::encode_series(&d.series, &mut buf);
                }
            }
            Some(RecordType::Samples) => {
                let n = d.samples.len();
                d.samples.retain(|s| s.t >= mint);
                st.total_samples += n;
                st.dropped_samples += n - d.samples.len();
                if !d.samples.is_empty() {
                    record::encode_samples(&d.samples, &mut buf);
                }
            }
            Some(RecordType::Tombstones) => {
                let n = d.stones.len();
                d.stones.retain(|s| keep(s.series_ref) && s.maxt >= mint);
                st.total_tombstones += n;
                st.dropped_tombstones += n - d.stones.len();
                if !d.stones.is_empty() {
                    record::encode_tombstones(&d.stones, &mut buf);
                }
            }
            Some(RecordType::Exemplars) => {
                let n = d.exemplars.len();
                d.exemplars.retain(|e| e.t >= mint);
                st.total_exemplars += n;
                st.dropped_exemplars += n - d.exemplars.len();
                if !d.exemplars.is_empty() {
                    record::encode_exemplars(&d.exemplars, &mut buf);
                }
            }
            Some(RecordType::Metadata) => {
                st.total_metadata += d.metadata.len();
                for m in d.metadata.drain(..) {
                    if keep(m.series_ref) {
                        latest_metadata.insert(m.series_ref, m);
                    }
                }
            }
            Some(RecordType::MmapMarkers) => {}
            _ => st.dropped_unsupported += 1,
        }
        if buf.len() > start {
            ends.push(buf.len());
        }
        if buf.len() >= FLUSH_BYTES {
            log_batch(cp, &buf, &ends)?;
            buf.clear();
            ends.clear();
        }
    }
    log_batch(cp, &buf, &ends)?;
    st.dropped_metadata = st.total_metadata - latest_metadata.len();
    if !latest_metadata.is_empty() {
        let kept: Vec<_> = latest_metadata.into_values().collect();
        buf.clear();
        record::encode_metadata(&kept, &mut buf);
        cp.log(&[&buf])?;
    }
    Ok(st)
}

fn log_batch(cp: &mut Wal, buf: &[u8], ends: &[usize]) -> Result<(), WalError> {
    if ends.is_empty() {
        return Ok(());
    }
    let mut recs: Vec<&[u8]> = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &end in ends {
        recs.push(&buf[start..end]);
        start = end;
    }
    cp.log(&recs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RefMetadata, RefSample, RefSeries, Tombstone};
    use model::{Labels, MetricType};

    fn series(r: u64) -> RefSeries {
        RefSeries {
            series_ref: r,
            labels: Labels::from_pairs(&[("__name__", "m"), ("i", &r.to_string())]),
        }
    }

    /// Decodes every record of a reader into (series, samples, tombstones, metadata).
    fn replay(
        mut r: WalReader,
    ) -> (
        Vec<RefSeries>,
        Vec<RefSample>,
        Vec<Tombstone>,
        Vec<RefMetadata>,
    ) {
        let mut d = Decoded::default();
        let (mut s, mut x, mut t, mut m) = (vec![], vec![], vec![], vec![]);
        while let Some(rec) = r.next() {
            match d.decode(rec.unwrap()).unwrap() {
                Some(RecordType::Series) => s.append(&mut d.series),
                Some(RecordType::Samples) => x.append(&mut d.samples),
                Some(RecordType::Tombstones) => t.append(&mut d.stones),
                Some(RecordType::Metadata) => m.append(&mut d.metadata),
                other => panic!("unexpected {other:?}"),
            }
        }
        (s, x, t, m)
    }

    fn log_segment(w: &mut Wal, refs: std::ops::Range<u64>, t: i64) {
        let mut buf = Vec::new();
        let ser: Vec<_> = refs.clone().map(series).collect();
        record::encode_series(&ser, &mut buf);
        let a = buf.len();
        let smp: Vec<_> = refs
            .clone()
            .map(|r| RefSample {
                series_ref: r,
                t,
                v: r as f64,
            })
            .collect();
        record::encode_samples(&smp, &mut buf);
        let b = buf.len();
        let st: Vec<_> = refs
            .clone()
            .map(|r| Tombstone {
                series_ref: r,
                mint: t - 10,
                maxt: t,
            })
            .collect();
        record::encode_tombstones(&st, &mut buf);
        let c = buf.len();
        let md: Vec<_> = refs
            .map(|r| RefMetadata {
                series_ref: r,
                metric_type: MetricType::Gauge,
                unit: String::new(),
                help: format!("t{t}"),
            })
            .collect();
        record::encode_metadata(&md, &mut buf);
        w.log(&[&buf[..a], &buf[a..b], &buf[b..c], &buf[c..], &[7, 0, 1]])
            .unwrap();
        w.next_segment().unwrap();
    }

    #[test]
    fn checkpoint_keeps_live_series_and_recent_data() {
        let d = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(d.path(), WalOptions::default()).unwrap();
        log_segment(&mut w, 0..10, 100); // segment 0
        log_segment(&mut w, 0..10, 200); // segment 1
        log_segment(&mut w, 0..10, 300); // segment 2
        let keep = |r: SeriesRef| r % 2 == 0;

        let st = checkpoint(d.path(), 0, 1, &keep, 200, Compression::Snappy).unwrap();
        assert_eq!((st.total_series, st.dropped_series), (20, 10));
        assert_eq!((st.total_samples, st.dropped_samples), (20, 10));
        assert_eq!((st.total_tombstones, st.dropped_tombstones), (20, 15));
        assert_eq!((st.total_metadata, st.dropped_metadata), (20, 15));
        assert_eq!(st.dropped_unsupported, 2);
        assert_eq!(
            last_checkpoint(d.path()).unwrap(),
            Some((checkpoint_dir(d.path(), 1), 1))
        );
        w.truncate(2).unwrap();

        let (s, x, t, m) =
            replay(WalReader::open(&checkpoint_dir(d.path(), 1), None, None).unwrap());
        let live: Vec<u64> = (0..10).filter(|r| r % 2 == 0).collect();
        assert_eq!(
            s.iter().map(|s| s.series_ref).collect::<Vec<_>>(),
            [live.clone(), live.clone()].concat()
        );
        assert_eq!(s[0], series(0));
        assert!(x.iter().all(|s| s.t == 200));
        assert_eq!(x.len(), 10);
        assert_eq!(t.iter().map(|t| t.series_ref).collect::<Vec<_>>(), live);
        assert_eq!(m.iter().map(|m| m.series_ref).collect::<Vec<_>>(), live);
        assert!(m.iter().all(|m| m.help == "t200"));

        // A second checkpoint starts from the first and replaces it.
        let st = checkpoint(d.path(), 2, 2, &|r| r == 0, 300, Compression::None).unwrap();
        assert_eq!(st.total_series, 10 + 10);
        assert_eq!(last_checkpoint(d.path()).unwrap().map(|c| c.1), Some(2));
        assert!(!checkpoint_dir(d.path(), 1).exists());
        w.truncate(3).unwrap();
        w.log(&[b"\x02"]).unwrap(); // an empty samples record in segment 3
        drop(w);

        // Startup replay: checkpoint 2 then the segments after it.
        let (s, x, _, m) = replay(open_replay(d.path()).unwrap());
        // Series are not de-duplicated (nor are they by Prometheus): one per segment.
        assert_eq!(
            s.iter().map(|s| s.series_ref).collect::<Vec<_>>(),
            [0, 0, 0]
        );
        // Samples are filtered by time only, as Prometheus does: replay
        // drops those of unknown series.
        assert_eq!(x.len(), 10);
        assert!(x.iter().all(|s| s.t == 300));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn checkpoint_rejects_a_gap_and_cleans_tmp() {
        let d = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(d.path(), WalOptions::default()).unwrap();
        for t in 0..4 {
            log_segment(&mut w, 0..2, t);
        }
        std::fs::create_dir(d.path().join("checkpoint.00000007.tmp")).unwrap();
        checkpoint(d.path(), 0, 0, &|_| true, 0, Compression::Snappy).unwrap();
        assert!(!d.path().join("checkpoint.00000007.tmp").exists());
        let e = checkpoint(d.path(), 3, 3, &|_| true, 0, Compression::Snappy).unwrap_err();
        assert!(
            matches!(e, WalError::CheckpointGap { last: 0, from: 3 }),
            "{e}"
        );
        std::fs::write(d.path().join("checkpoint.00000009"), b"").unwrap();
        assert!(matches!(
            last_checkpoint(d.path()),
            Err(WalError::CheckpointNotDir(_))
        ));
    }
}
