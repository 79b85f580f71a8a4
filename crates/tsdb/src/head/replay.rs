//! Rebuilding the head from its WAL: the newest checkpoint, then the
//! segments after it, record by record (Prometheus's `head_wal.go`).
//!
//! - Series records recreate their series with the refs they were written
//!   with, and the head's ref counter continues above the largest. A second
//!   series record for labels already known under another ref (possible
//!   after a checkpoint races a new series in Prometheus) maps the new ref to
//!   the existing series.
//! - Samples are appended directly to the series, with no WAL writes;
//!   samples for refs no series record introduced are counted and skipped,
//!   as are samples out of order (a WAL written by concurrent appenders may
//!   hold them).
//! - Tombstones are kept for the tombstone store to take
//!   ([`Head::take_replayed_tombstones`]).
//! - Record types pharos does not support (exemplars, metadata, mmap
//!   markers, native histograms, ...) and records that do not decode are
//!   counted and skipped; the replay goes on with the next record.
//! - A corrupt WAL segment ends the replay; [`Head::open`] then cuts the WAL
//!   at the corruption, as Prometheus does, and keeps what was read before.
//!
//! Speed: the calling thread reads and decodes records, creates series and
//! resolves each sample's ref to its series; `replay_workers` threads apply
//! samples, each owning the refs congruent to its index, so a series is only
//! ever touched by one of them, and batches flow through bounded channels
//! with their buffers recycled. Replay is bound by memory latency (each
//! sample touches its series and its chunk, on a head far larger than the
//! caches), so both sides prefetch the lines they will need a few samples
//! ahead.
//!
//! Measured on a 2-core VM shared with other builds (so ±40% with the load),
//! WALs written by `benches/head.rs`, Prometheus 2.42 replaying the same
//! directory (its "WAL replay completed" log line):
//!
//! | WAL | pharos (1 worker) | Prometheus | paired runs, pharos / Prometheus |
//! |---|---|---|---|
//! | 1M series × 10 samples, 59 MB | 2.6–4.8 s | 10.4–15.8 s | 0.2–0.3 |
//! | 100k series × 480 samples, 292 MB | 3.3–9.3 s | 4.9–20.6 s | 0.4–0.7 |
//!
//! Creating series is where pharos gains most; with many samples per series
//! both are bound by memory latency and Prometheus spreads the appends over
//! every core, so the gap narrows.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::chunk_files::{ChunkFiles, DEFAULT_FILE_SIZE};
use super::prefetch::prefetch;
use super::series::{Appended, MemSeries};
use super::stripe::U64Map;
use super::{Head, HeadData, HeadError, HeadOptions};
use crate::record::{
    decode_samples, decode_series, decode_tombstones, RecordError, RecordType, RefSample,
    RefSeries, Tombstone,
};
use crate::wal::{checkpoint, Repair, Wal, WalError, WalOptions, WalReader};

/// What a replay read, applied and skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records read.
    pub records: u64,
    /// Series created.
    pub series: u64,
    /// Samples applied.
    pub samples: u64,
    /// Samples skipped because no series record introduced their ref.
    pub samples_unknown_series: u64,
    /// Samples skipped for being older than (or duplicating the time of)
    /// their series' newest sample.
    pub samples_out_of_order: u64,
    /// Tombstones read.
    pub tombstones: u64,
    /// Records of types pharos does not support, by Prometheus's name.
    pub unsupported: Vec<(&'static str, u64)>,
    /// Records of supported types that did not decode, skipped.
    pub undecodable: u64,
    /// Series records skipped because their ref already names a series
    /// with other labels.
    pub conflicting_series: u64,
    /// What the repair of a corrupt WAL dropped, if one was needed.
    pub repair: Option<Repair>,
    /// Wall time of the replay.
    pub duration: Duration,
}

impl ReplayStats {
    fn skip(&mut self, t: RecordType) {
        let name = t.name();
        match self.unsupported.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.unsupported.push((name, 1)),
        }
    }
}

/// Batches in flight per worker; enough to keep a worker busy while the
/// reader decodes the next record.
const QUEUE_DEPTH: usize = 4;

/// How many samples ahead a worker prefetches the series, and its chunk.
const PREFETCH_SERIES: usize = 24;
const PREFETCH_CHUNK: usize = 12;

/// Counters a worker returns when its channel closes.
#[derive(Default)]
struct WorkerStats {
    applied: u64,
    out_of_order: u64,
    new_chunks: u64,
    mint: i64,
    maxt: i64,
}

impl Head {
    /// Opens the WAL in `dir` (repairing a torn tail), replays it into a new
    /// head and keeps logging to it.
    pub fn open(
        opts: HeadOptions,
        dir: &Path,
        wal_opts: WalOptions,
    ) -> Result<(Head, ReplayStats), HeadError> {
        let (mut wal, repaired) = Wal::open(dir, wal_opts)?;
        let files = match &opts.chunk_dir {
            Some(d) => Some(ChunkFiles::open(d, DEFAULT_FILE_SIZE).map_err(|source| {
                HeadError::ChunkFiles {
                    dir: d.clone(),
                    source,
                }
            })?),
            None => None,
        };
        let head = Head::with_chunk_files(opts, None, files);
        let reader = checkpoint::open_replay(dir)?;
        let (mut stats, corrupt) = head.replay(reader)?;
        stats.repair = repaired;
        if let Some(c) = corrupt {
            // Keep what was read before the corruption, drop the rest.
            if let Some(c) = c.corruption() {
                stats.repair = Some(wal.repair(c)?);
            } else {
                return Err(c.into());
            }
        }
        *head.wal.lock() = Some(wal);
        Ok((head, stats))
    }

    /// Replays the WAL in `dir` into a memory-only head without writing to
    /// the directory: no repair, no new segment. Replay stops at the first
    /// corrupt record, keeping what came before (the stats say so). For
    /// read-only tools (`pharos tsdb dump`), as Prometheus's `DBReadOnly`.
    pub fn open_read_only(opts: HeadOptions, dir: &Path) -> Result<(Head, ReplayStats), HeadError> {
        let head = Head::new(opts, None);
        if !dir.is_dir() {
            return Ok((head, ReplayStats::default()));
        }
        let reader = checkpoint::open_replay(dir)?;
        let (stats, _corrupt) = head.replay(reader)?;
        Ok((head, stats))
    }

    /// Tombstones read by the replay, for the tombstone store; later calls
    /// return nothing.
    pub fn take_replayed_tombstones(&self) -> Vec<Tombstone> {
        std::mem::take(&mut *self.replayed_tombstones.lock())
    }

    /// Replays every record of `reader` into this head. Returns the stats
    /// and the WAL error that ended the replay early, if any.
    pub(crate) fn replay(
        &self,
        mut reader: WalReader,
    ) -> Result<(ReplayStats, Option<WalError>), HeadError> {
        let start = Instant::now();
        let workers = self.opts.replay_workers.max(1);
        let data = &*self.data;
        let mut stats = ReplayStats::default();
        let mut stop = None;
        let worker_stats = std::thread::scope(|scope| {
            let mut to_workers = Vec::with_capacity(workers);
            let (recycle_tx, recycle_rx) = sync_channel::<Vec<Resolved>>(workers * QUEUE_DEPTH + 1);
            let mut handles = Vec::with_capacity(workers);
            for _ in 0..workers {
                let (tx, rx) = sync_channel::<Vec<Resolved>>(QUEUE_DEPTH);
                let recycle = recycle_tx.clone();
                to_workers.push(tx);
                handles.push(scope.spawn(move || apply(data, rx, recycle)));
            }
            drop(recycle_tx);
            let mut dec = Decoder {
                data,
                to_workers,
                recycle: recycle_rx,
                series: Vec::new(),
                samples: Vec::new(),
                shards: (0..workers).map(|_| Vec::new()).collect(),
                unknown: 0,
                stones: Vec::new(),
                alias: U64Map::default(),
            };
            while let Some(rec) = reader.next() {
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        stop = Some(e);
                        break;
                    }
                };
                stats.records += 1;
                if dec.record(rec, &mut stats).is_err() {
                    stats.undecodable += 1;
                }
            }
            let stones = std::mem::take(&mut dec.stones);
            stats.samples_unknown_series = dec.unknown;
            drop(dec);
            self.replayed_tombstones.lock().extend(stones);
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect::<Vec<_>>()
        });
        let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
        let mut new_chunks = 0;
        for w in worker_stats {
            stats.samples += w.applied;
            stats.samples_out_of_order += w.out_of_order;
            new_chunks += w.new_chunks;
            mint = mint.min(w.mint);
            maxt = maxt.max(w.maxt);
        }
        if stats.samples > 0 {
            data.widen(mint, maxt);
        }
        data.chunks_created.fetch_add(new_chunks, Ordering::Relaxed);
        data.samples_appended
            .fetch_add(stats.samples, Ordering::Relaxed);
        stats.duration = start.elapsed();
        Ok((stats, stop))
    }
}

/// The reading side of a replay: decodes records, creates series, and
/// hands samples to the workers by ref.
struct Decoder<'a> {
    data: &'a HeadData,
    to_workers: Vec<SyncSender<Vec<Resolved>>>,
    recycle: Receiver<Vec<Resolved>>,
    series: Vec<RefSeries>,
    samples: Vec<RefSample>,
    shards: Vec<Vec<Resolved>>,
    /// Samples whose ref no series record introduced.
    unknown: u64,
    stones: Vec<Tombstone>,
    /// Refs of duplicate series records → the ref the series has.
    alias: U64Map<u64>,
}

impl Decoder<'_> {
    fn record(&mut self, rec: &[u8], stats: &mut ReplayStats) -> Result<(), RecordError> {
        match RecordType::of(rec)? {
            RecordType::Series => {
                decode_series(rec, &mut self.series)?;
                for rs in self.series.drain(..) {
                    if let Some(other) = self.data.series.get_by_ref(rs.series_ref) {
                        if other.labels != rs.labels {
                            // Only a corrupt WAL reuses a ref for other
                            // labels; the first series keeps it.
                            stats.conflicting_series += 1;
                            continue;
                        }
                    }
                    let (s, created) = self.data.get_or_create(&rs.labels, Some(rs.series_ref));
                    if created {
                        stats.series += 1;
                    } else if s.series_ref != rs.series_ref {
                        self.alias.insert(rs.series_ref, s.series_ref);
                    }
                }
            }
            RecordType::Samples => {
                decode_samples(rec, &mut self.samples)?;
                self.dispatch();
            }
            RecordType::Tombstones => {
                let from = self.stones.len();
                let mut batch = Vec::new();
                decode_tombstones(rec, &mut batch)?;
                stats.tombstones += batch.len() as u64;
                self.stones.extend(batch);
                for t in &mut self.stones[from..] {
                    if let Some(&r) = self.alias.get(&t.series_ref) {
                        t.series_ref = r;
                    }
                }
            }
            other => stats.skip(other),
        }
        Ok(())
    }

    /// Resolves the decoded samples' refs to their series and sends them to
    /// the workers owning the refs. Resolving here, on the thread that
    /// mostly waits for I/O and decoding, leaves the workers only the
    /// appends; the batches come back (and drop their `Arc`s) here too.
    fn dispatch(&mut self) {
        let n = self.to_workers.len() as u64;
        if !self.alias.is_empty() {
            for s in &mut self.samples {
                if let Some(&r) = self.alias.get(&s.series_ref) {
                    s.series_ref = r;
                }
            }
        }
        // Fetch every series' line first: the `Arc` clones below are locked
        // instructions that would otherwise take their misses one by one.
        for s in &self.samples {
            self.data.series.prefetch_ref(s.series_ref);
        }
        for s in self.samples.drain(..) {
            let r = s.series_ref;
            let Some(series) = self.data.series.get_by_ref(r) else {
                self.unknown += 1;
                continue;
            };
            self.shards[(r % n) as usize].push(Resolved {
                series,
                t: s.t,
                v: s.v,
            });
        }
        for (i, shard) in self.shards.iter_mut().enumerate() {
            if shard.is_empty() {
                continue;
            }
            let mut batch = self.recycle.try_recv().unwrap_or_default();
            batch.clear();
            std::mem::swap(&mut batch, shard);
            // A worker that died has dropped its receiver; its samples are
            // lost with it and the join reports nothing for it.
            let _ = self.to_workers[i].send(batch);
        }
    }
}

/// A sample with its series looked up.
struct Resolved {
    series: Arc<MemSeries>,
    t: i64,
    v: f64,
}

/// A worker: appends each batch's samples to their series, then recycles
/// the batch's buffer.
fn apply(
    data: &HeadData,
    rx: Receiver<Vec<Resolved>>,
    recycle: SyncSender<Vec<Resolved>>,
) -> WorkerStats {
    let mut st = WorkerStats {
        mint: i64::MAX,
        maxt: i64::MIN,
        ..WorkerStats::default()
    };
    let (range, per_chunk) = (data.chunk_range, data.samples_per_chunk);
    let files = data.chunk_files.as_ref();
    for batch in rx {
        for (i, s) in batch.iter().enumerate() {
            // Applying a sample is two cache misses (the series, its chunk's
            // buffer) on a head larger than the caches. Prefetching both a
            // few samples ahead lets the misses overlap instead of queueing.
            if let Some(far) = batch.get(i + PREFETCH_SERIES) {
                let p = std::ptr::from_ref(&far.series.chunks).cast::<u8>();
                prefetch(p);
                prefetch(p.wrapping_add(64));
            }
            if let Some(near) = batch.get(i + PREFETCH_CHUNK) {
                near.series.chunks.lock().prefetch_open_chunk();
            }
            let outcome = s
                .series
                .chunks
                .lock()
                .append(s.t, s.v, range, per_chunk, files);
            match outcome {
                Appended::Sample => st.applied += 1,
                Appended::NewChunk => {
                    st.applied += 1;
                    st.new_chunks += 1;
                }
                Appended::Duplicate | Appended::Rejected => {
                    st.out_of_order += 1;
                    continue;
                }
            }
            st.mint = st.mint.min(s.t);
            st.maxt = st.maxt.max(s.t);
        }
        let _ = recycle.try_send(batch);
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{encode_series, encode_tombstones};
    use model::{Labels, MatchType, Matcher, Sample, STALE_NAN};
    use std::collections::BTreeMap;
    use storage::{Appendable, Queryable};

    type Dump = BTreeMap<Labels, Vec<(i64, u64)>>;

    pub(crate) fn dump(head: &Head) -> Dump {
        let q = head.querier(i64::MIN, i64::MAX).unwrap();
        let m = Matcher::new(MatchType::Regex, "__name__", ".+").unwrap();
        q.select(true, None, &[m])
            .unwrap()
            .map(|s| {
                let mut s = s.unwrap();
                let samples = s.collect_samples().unwrap();
                (
                    s.labels,
                    samples.iter().map(|s| (s.t, s.v.to_bits())).collect(),
                )
            })
            .collect()
    }

    fn opts(workers: usize) -> HeadOptions {
        HeadOptions {
            samples_per_chunk: 7,
            stripe_size: 8,
            replay_workers: workers,
            ..HeadOptions::default()
        }
    }

    fn opts_in(workers: usize, chunk_dir: Option<&Path>) -> HeadOptions {
        HeadOptions {
            chunk_dir: chunk_dir.map(Path::to_owned),
            ..opts(workers)
        }
    }

    #[test]
    fn replay_round_trip() {
        for (workers, spill) in [(1, false), (3, true), (1, true)] {
            let dir = tempfile::tempdir().unwrap();
            let chunks = tempfile::tempdir().unwrap();
            let chunk_dir = spill.then_some(chunks.path());
            let opts = |w| opts_in(w, chunk_dir);
            let (head, st) = Head::open(opts(workers), dir.path(), WalOptions::default()).unwrap();
            assert_eq!(st.records, 0);
            let mut app = head.appender();
            let mut refs = vec![None; 50];
            for t in 0..40i64 {
                for (i, r) in refs.iter_mut().enumerate() {
                    let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
                    let v = if t == 20 {
                        STALE_NAN
                    } else {
                        (t * i as i64) as f64
                    };
                    *r = Some(app.append(*r, &l, 1000 + t * 15_000, v).unwrap());
                }
                app.commit().unwrap();
            }
            drop(app);
            let want = dump(&head);
            let want_stats = head.stats();
            // Dropped without close: what was logged must come back.
            drop(head);

            let (head, st) = Head::open(opts(workers), dir.path(), WalOptions::default()).unwrap();
            assert_eq!((st.series, st.samples), (50, 2000));
            assert_eq!(st.samples_unknown_series, 0);
            assert_eq!(dump(&head), want);
            let got_stats = head.stats();
            assert_eq!(got_stats.num_chunks, want_stats.num_chunks);
            assert_eq!(
                (got_stats.min_time, got_stats.max_time),
                (1000, 1000 + 39 * 15_000)
            );
            // New series continue above the replayed refs.
            let mut app = head.appender();
            let r = app.append(
                None,
                &Labels::from_pairs(&[("__name__", "new")]),
                700_000,
                1.0,
            );
            assert_eq!(r.unwrap().0, 51);
        }
    }

    #[test]
    fn replay_skips_unknown_refs_and_unsupported_records() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        let mut series = Vec::new();
        let labels = Labels::from_pairs(&[("__name__", "a")]);
        encode_series(
            &[RefSeries {
                series_ref: 7,
                labels: labels.clone(),
            }],
            &mut series,
        );
        // The same labels under a second ref: samples of both land in one series.
        let mut again = Vec::new();
        encode_series(
            &[RefSeries {
                series_ref: 9,
                labels: labels.clone(),
            }],
            &mut again,
        );
        let mut samples = Vec::new();
        crate::record::encode_samples(
            &[
                RefSample {
                    series_ref: 7,
                    t: 1,
                    v: 1.0,
                },
                RefSample {
                    series_ref: 8,
                    t: 1,
                    v: 1.0,
                },
                RefSample {
                    series_ref: 9,
                    t: 2,
                    v: 2.0,
                },
                RefSample {
                    series_ref: 7,
                    t: 2,
                    v: 3.0,
                },
            ],
            &mut samples,
        );
        // Ref 7 again, for other labels: skipped.
        let mut conflict = Vec::new();
        encode_series(
            &[RefSeries {
                series_ref: 7,
                labels: Labels::from_pairs(&[("__name__", "other")]),
            }],
            &mut conflict,
        );
        let mut stones = Vec::new();
        encode_tombstones(
            &[Tombstone {
                series_ref: 9,
                mint: 0,
                maxt: 1,
            }],
            &mut stones,
        );
        let histogram = [7u8, 0, 0, 0];
        let bad = [2u8, 1];
        wal.log(&[
            &series, &again, &conflict, &samples, &stones, &histogram, &bad,
        ])
        .unwrap();
        wal.close().unwrap();

        let (head, st) = Head::open(opts(2), dir.path(), WalOptions::default()).unwrap();
        assert_eq!((st.series, st.conflicting_series), (1, 1));
        assert_eq!(
            (
                st.samples,
                st.samples_unknown_series,
                st.samples_out_of_order
            ),
            (2, 1, 1)
        );
        assert_eq!(st.unsupported, [("histogram_samples", 1)]);
        assert_eq!(st.undecodable, 1);
        assert_eq!(st.tombstones, 1);
        assert_eq!(
            head.take_replayed_tombstones(),
            [Tombstone {
                series_ref: 7,
                mint: 0,
                maxt: 1
            }]
        );
        let q = head.querier(0, 10).unwrap();
        let mut set = q
            .select(false, None, &[Matcher::equal("__name__", "a")])
            .unwrap();
        let got = set.next().unwrap().unwrap().collect_samples().unwrap();
        assert_eq!(got, [Sample::new(1, 1.0), Sample::new(2, 2.0)]);
    }

    #[test]
    fn replay_stops_at_corruption_and_repairs() {
        let dir = tempfile::tempdir().unwrap();
        let l = Labels::from_pairs(&[("__name__", "a")]);
        let m = Labels::from_pairs(&[("__name__", "b")]);
        for (labels, t) in [(&l, 1), (&m, 2)] {
            let (head, _) = Head::open(opts(1), dir.path(), WalOptions::default()).unwrap();
            let mut app = head.appender();
            app.append(None, labels, t, 1.0).unwrap();
            app.commit().unwrap();
            drop(app);
            head.close().unwrap();
        }
        // Segment 0 holds `a`'s records, segment 1 `b`'s. Flip a byte inside
        // the second record of segment 0 (its samples). Opening checks only
        // the last segment, so the replay finds the damage: it keeps `a`'s
        // series, stops, and the WAL is cut there (segment 1 goes too).
        let seg = crate::wal::segment_path(dir.path(), 0);
        let mut bytes = std::fs::read(&seg).unwrap();
        let first_len = u16::from_be_bytes([bytes[1], bytes[2]]) as usize;
        let second_data = 7 + first_len + 7;
        bytes[second_data] ^= 0xff;
        std::fs::write(&seg, &bytes).unwrap();

        let (head, st) = Head::open(opts(1), dir.path(), WalOptions::default()).unwrap();
        let repair = st.repair.expect("a repair");
        assert_eq!(repair.segment, 0, "{repair:?}");
        assert!(dump(&head).is_empty(), "a has no samples, b is gone");
        assert_eq!(head.stats().num_series, 1);
        assert_eq!(head.label_values("__name__"), ["a"]);
        // The repaired WAL takes new commits and replays cleanly.
        let mut app = head.appender();
        app.append(None, &m, 5, 1.0).unwrap();
        app.commit().unwrap();
        drop(app);
        drop(head);
        let (head, st) = Head::open(opts(1), dir.path(), WalOptions::default()).unwrap();
        assert!(st.repair.is_none());
        assert_eq!(dump(&head).len(), 1);
    }
}
