//! The head: the newest samples (about the last two hours) in memory, made
//! durable by the write-ahead log, until they are written out as a block.
//!
//! This is Prometheus's `tsdb/head*.go` in pharos's shape:
//!
//! - `series` is one series in memory (labels, an open XOR chunk, closed
//!   chunks) and the rules for cutting chunks; `stripe` the map that finds
//!   series by ref and by label hash, sharded into stripes;
//! - `chunk_files` optionally moves closed chunks out of the heap into
//!   memory-mapped files ([`HeadOptions::chunk_dir`]);
//! - `postings` is the inverted index from label pairs to series refs and
//!   evaluates matchers;
//! - `append` is the transactional [`Appender`](storage::Appender): samples
//!   are checked on append, logged to the WAL and applied on commit;
//! - `read` is the [`Querier`](storage::Querier) and the index-like reads a
//!   block writer uses to persist the head;
//! - `replay` rebuilds the head from the WAL's newest checkpoint and the
//!   segments after it;
//! - this file holds the type, its options, statistics and truncation.
//!
//! A head opened without a WAL keeps data in memory only (backfill builds
//! blocks that way).
//!
//! ```
//! use model::{Labels, Matcher};
//! use storage::{Appendable, Appender, Queryable, Querier};
//! use tsdb::head::{Head, HeadOptions};
//!
//! let head = Head::new(HeadOptions::default(), None);
//! let mut app = head.appender();
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! let r = app.append(None, &up, 1_000, 1.0).unwrap();
//! app.append(Some(r), &up, 2_000, 1.0).unwrap();
//! app.commit().unwrap();
//! drop(app);
//!
//! let q = head.querier(0, 10_000).unwrap();
//! let mut set = q.select(true, None, &[Matcher::equal("job", "node")]).unwrap();
//! let mut series = set.next().unwrap().unwrap();
//! assert_eq!(series.collect_samples().unwrap().len(), 2);
//! assert_eq!(head.stats().num_series, 1);
//! ```

pub(crate) mod append;
pub(crate) mod chunk_files;
pub(crate) mod postings;
mod prefetch;
pub(crate) mod read;
pub(crate) mod replay;
pub(crate) mod series;
pub(crate) mod stripe;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::record::RecordError;
use crate::record::Tombstone;
use crate::wal::{self, Compression, Wal, WalError};

pub use append::HeadAppender;
pub use chunk_files::ChunkBytes;
pub use read::{HeadChunk, HeadQuerier};
pub use replay::ReplayStats;

use chunk_files::ChunkFiles;
use postings::MemPostings;
use series::MemSeries;
use stripe::StripeSeries;

/// Two hours in milliseconds: Prometheus's default block and chunk range.
pub const DEFAULT_CHUNK_RANGE: i64 = 2 * 60 * 60 * 1000;

/// Tuning of a [`Head`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadOptions {
    /// Length in milliseconds of the aligned windows no chunk crosses (the
    /// block range); also bounds how far behind the newest sample an append
    /// may be (half of it, as Prometheus).
    pub chunk_range: i64,
    /// Samples after which a new chunk is started (120 in Prometheus).
    pub samples_per_chunk: u16,
    /// Stripes of the series map (rounded up to a power of two).
    pub stripe_size: usize,
    /// Threads that apply samples during replay (at least one), beside the
    /// thread that reads and decodes the WAL. The default leaves one core to
    /// that thread: one fewer than the cores available, between 1 and 8.
    pub replay_workers: usize,
    /// Compression of the records of WAL checkpoints written by
    /// [`Head::truncate`].
    pub wal_compression: Compression,
    /// A directory (of its own) where [`Head::open`] moves closed chunks out
    /// of the heap into memory-mapped files, rebuilt from the WAL on every
    /// open; `None` keeps them on the heap. Not Prometheus's `chunks_head/`,
    /// whose format differs: use another name in a shared data directory.
    pub chunk_dir: Option<std::path::PathBuf>,
}

impl Default for HeadOptions {
    fn default() -> HeadOptions {
        HeadOptions {
            chunk_range: DEFAULT_CHUNK_RANGE,
            samples_per_chunk: 120,
            stripe_size: 16384,
            replay_workers: std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .clamp(1, 8),
            wal_compression: Compression::Snappy,
            chunk_dir: None,
        }
    }
}

/// Errors of opening, replaying and truncating the head.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The WAL failed.
    #[error("cannot use head WAL: {0}")]
    Wal(#[from] WalError),
    /// A WAL record of a supported type did not decode.
    #[error("cannot replay WAL record at segment {segment} offset {offset}: {source}")]
    Record {
        /// Segment of the record.
        segment: u32,
        /// Offset of the record in the segment.
        offset: u64,
        /// Why it did not decode.
        source: RecordError,
    },
    /// The spill directory for closed chunks could not be prepared.
    #[error("cannot open head chunk directory {}: {source}", .dir.display())]
    ChunkFiles {
        /// The directory.
        dir: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The options cannot work.
    #[error("cannot open head: {0}")]
    Invalid(String),
}

/// Figures about the head's contents, cheap enough for a status page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadStats {
    /// Series in memory.
    pub num_series: u64,
    /// Chunks in memory, open ones included.
    pub num_chunks: u64,
    /// Distinct label name/value pairs.
    pub num_label_pairs: u64,
    /// Files closed chunks were moved to ([`HeadOptions::chunk_dir`]).
    pub num_chunk_files: u64,
    /// Estimated heap bytes: series structs, labels, chunk bytes, both
    /// series maps and the postings (allocator overhead not included).
    pub bytes: u64,
    /// Oldest sample time, `i64::MAX` when empty.
    pub min_time: i64,
    /// Newest sample time, `i64::MIN` when empty.
    pub max_time: i64,
    /// Samples appended since the head was created (replay included).
    pub samples_appended: u64,
    /// Chunks started since the head was created (replay included), as
    /// Prometheus's `prometheus_tsdb_head_chunks_created_total`.
    pub chunks_created: u64,
    /// Samples dropped at commit because a concurrent appender got a newer
    /// sample into the series first.
    pub samples_out_of_order_at_commit: u64,
}

/// Everything readers share with the head; queriers hold it by `Arc`, so a
/// querier outlives neither more nor less than the data it reads.
pub(crate) struct HeadData {
    pub(crate) series: StripeSeries,
    pub(crate) postings: RwLock<MemPostings>,
    pub(crate) min_time: AtomicI64,
    pub(crate) max_time: AtomicI64,
    /// Samples before this are refused: they belong to blocks already cut.
    pub(crate) min_valid_time: AtomicI64,
    pub(crate) chunk_range: i64,
    pub(crate) samples_per_chunk: u16,
    /// Where closed chunks go, if not the heap.
    pub(crate) chunk_files: Option<ChunkFiles>,
    pub(crate) chunks_created: AtomicU64,
    pub(crate) samples_appended: AtomicU64,
    pub(crate) out_of_order_at_commit: AtomicU64,
}

impl HeadData {
    /// Records that samples between `mint` and `maxt` were added.
    pub(crate) fn widen(&self, mint: i64, maxt: i64) {
        self.min_time.fetch_min(mint, Ordering::Relaxed);
        self.max_time.fetch_max(maxt, Ordering::Relaxed);
    }

    /// The series named `labels`, created (and indexed) if absent.
    pub(crate) fn get_or_create(
        &self,
        labels: &model::Labels,
        want_ref: Option<u64>,
    ) -> (Arc<MemSeries>, bool) {
        let (s, created) = self.series.get_or_create(labels.hash64(), labels, want_ref);
        if created {
            self.postings.write().add(s.series_ref, &s.labels);
        }
        (s, created)
    }
}

/// The in-memory head of the database. See the module documentation.
pub struct Head {
    pub(crate) data: Arc<HeadData>,
    pub(crate) wal: Mutex<Option<Wal>>,
    pub(crate) opts: HeadOptions,
    /// Appender buffers returned by dropped appenders, so a scraper that
    /// takes a fresh appender per scrape does not reallocate them.
    pub(crate) pool: Mutex<Vec<append::Buffers>>,
    /// Tombstones read by the replay, until the tombstone store takes them.
    pub(crate) replayed_tombstones: Mutex<Vec<Tombstone>>,
    /// Set by [`Head::close`].
    pub(crate) closed: std::sync::atomic::AtomicBool,
}

impl Head {
    /// An empty head. With `wal`, commits are logged to it before they are
    /// applied; without, the head is memory only. Closed chunks stay on the
    /// heap ([`HeadOptions::chunk_dir`] is for [`Head::open`]).
    pub fn new(opts: HeadOptions, wal: Option<Wal>) -> Head {
        Head::with_chunk_files(opts, wal, None)
    }

    pub(crate) fn with_chunk_files(
        opts: HeadOptions,
        wal: Option<Wal>,
        chunk_files: Option<ChunkFiles>,
    ) -> Head {
        let data = HeadData {
            series: StripeSeries::new(opts.stripe_size),
            postings: RwLock::new(MemPostings::default()),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(i64::MIN),
            chunk_range: opts.chunk_range.max(1),
            samples_per_chunk: opts.samples_per_chunk.max(1),
            chunk_files,
            chunks_created: AtomicU64::new(0),
            samples_appended: AtomicU64::new(0),
            out_of_order_at_commit: AtomicU64::new(0),
        };
        Head {
            data: Arc::new(data),
            wal: Mutex::new(wal),
            opts,
            pool: Mutex::new(Vec::new()),
            replayed_tombstones: Mutex::new(Vec::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A new appender (also available through [`storage::Appendable`]).
    pub fn head_appender(&self) -> HeadAppender<'_> {
        HeadAppender::new(self)
    }

    /// Oldest sample time in the head, `i64::MAX` when empty.
    pub fn min_time(&self) -> i64 {
        self.data.min_time.load(Ordering::Relaxed)
    }

    /// Newest sample time in the head, `i64::MIN` when empty.
    pub fn max_time(&self) -> i64 {
        self.data.max_time.load(Ordering::Relaxed)
    }

    /// Refuses samples before `t` from now on (Prometheus sets it to the end
    /// of the newest block after opening, so the head never re-accepts data
    /// a block already holds).
    pub fn set_min_valid_time(&self, t: i64) {
        self.data.min_valid_time.fetch_max(t, Ordering::Relaxed);
    }

    /// Counts and sizes of what the head holds. Walks every series (taking
    /// each lock briefly), so it costs milliseconds per million series.
    pub fn stats(&self) -> HeadStats {
        let d = &self.data;
        let mut bytes = 0usize;
        let mut chunks = 0u64;
        d.series.for_each(|s| {
            let c = s.chunks.lock();
            chunks += c.num_chunks() as u64;
            // The Arc's two counters precede the struct.
            bytes += 16 + std::mem::size_of::<MemSeries>() + s.labels.heap_size() + c.heap_bytes();
        });
        bytes += d.series.map_heap_bytes();
        let postings = d.postings.read();
        bytes += postings.heap_bytes();
        HeadStats {
            num_series: d.series.len(),
            num_chunks: chunks,
            num_label_pairs: postings.num_pairs() as u64,
            num_chunk_files: d.chunk_files.as_ref().map_or(0, |f| f.num_files() as u64),
            bytes: bytes as u64,
            min_time: self.min_time(),
            max_time: self.max_time(),
            samples_appended: d.samples_appended.load(Ordering::Relaxed),
            chunks_created: d.chunks_created.load(Ordering::Relaxed),
            samples_out_of_order_at_commit: d.out_of_order_at_commit.load(Ordering::Relaxed),
        }
    }

    /// Drops every chunk wholly before `mint`, removes the series left with
    /// no samples from the map and the postings, refuses samples before
    /// `mint` from now on, and, with a WAL, checkpoints the WAL for the live
    /// series and deletes the segments the checkpoint replaces.
    pub fn truncate(&self, mint: i64) -> Result<TruncateStats, HeadError> {
        let d = &self.data;
        self.set_min_valid_time(mint);
        let (removed, chunks_removed) = d.series.gc(mint);
        d.postings.write().delete(&removed);
        if let Some(f) = &d.chunk_files {
            f.truncate(mint);
        }
        // The head's range starts at mint even if no sample is that old.
        let _ = d
            .min_time
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t < mint).then_some(mint)
            });
        let mut stats = TruncateStats {
            series_removed: removed.len(),
            chunks_removed,
            checkpoint: None,
        };
        stats.checkpoint = self.checkpoint_wal(mint)?;
        Ok(stats)
    }

    /// Checkpoints every WAL segment but the newest into
    /// `checkpoint.<last>` and deletes them. The WAL lock is held only to
    /// start a new segment and to delete the old ones, not while the
    /// checkpoint is written, so commits go on meanwhile.
    fn checkpoint_wal(
        &self,
        mint: i64,
    ) -> Result<Option<wal::checkpoint::CheckpointStats>, HeadError> {
        let (dir, first, last, compression) = {
            let mut guard = self.wal.lock();
            let Some(w) = guard.as_mut() else {
                return Ok(None);
            };
            let (first, _) = w.segments()?;
            // A fresh segment, so everything before it can be checkpointed
            // even when ingestion is slow.
            let current = w.next_segment()?;
            (
                w.dir().to_owned(),
                first,
                current - 1,
                self.opts.wal_compression,
            )
        };
        if last < first {
            return Ok(None);
        }
        let data = &self.data;
        let keep = |r: u64| data.series.get_by_ref(r).is_some();
        let cp = wal::checkpoint::checkpoint(&dir, first, last, &keep, mint, compression)?;
        if let Some(w) = self.wal.lock().as_mut() {
            w.truncate(last + 1)?;
        }
        Ok(Some(cp))
    }

    /// Flushes and closes the WAL; the head stays readable.
    /// Commits after this fail with [`storage::StorageError::Closed`].
    pub fn close(&self) -> Result<(), HeadError> {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(w) = self.wal.lock().take() {
            w.close()?;
        }
        Ok(())
    }
}

/// What [`Head::truncate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TruncateStats {
    /// Series removed for having no samples left.
    pub series_removed: usize,
    /// Chunks dropped.
    pub chunks_removed: usize,
    /// The WAL checkpoint written, if any.
    pub checkpoint: Option<wal::checkpoint::CheckpointStats>,
}

impl storage::Appendable for Head {
    fn appender(&self) -> Box<dyn storage::Appender + '_> {
        Box::new(self.head_appender())
    }
}

impl storage::Queryable for Head {
    fn querier(
        &self,
        mint: model::Timestamp,
        maxt: model::Timestamp,
    ) -> Result<Box<dyn storage::Querier>, storage::StorageError> {
        Ok(Box::new(HeadQuerier::new(self.data.clone(), mint, maxt)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::WalOptions;
    use model::Labels;
    use storage::Appendable;

    #[test]
    fn truncate_collects_series_and_checkpoints_the_wal() {
        truncate_test(false);
    }

    #[test]
    fn truncate_with_chunks_in_files() {
        truncate_test(true);
    }

    fn truncate_test(spill: bool) {
        let dir = tempfile::tempdir().unwrap();
        let chunk_dir = tempfile::tempdir().unwrap();
        let opts = HeadOptions {
            chunk_range: 1000,
            samples_per_chunk: 10,
            chunk_dir: spill.then(|| chunk_dir.path().to_owned()),
            ..HeadOptions::default()
        };
        let wal_opts = WalOptions {
            segment_size: 32 * 1024,
            ..WalOptions::default()
        };
        let (head, _) = Head::open(opts.clone(), dir.path(), wal_opts).unwrap();
        let old = Labels::from_pairs(&[("__name__", "old")]);
        let live = Labels::from_pairs(&[("__name__", "live"), ("x", "1")]);
        let mut app = head.appender();
        for t in 0..100 {
            app.append(None, &live, t * 10, t as f64).unwrap();
            if t < 30 {
                app.append(None, &old, t * 10, 0.0).unwrap();
            }
            app.commit().unwrap();
        }
        drop(app);
        let before = head.stats();
        // Chunks of ~5 samples: the quarter-full prediction at 2 of 10
        // samples splits the 1000 ms window evenly (Prometheus's rule).
        assert_eq!((before.num_series, before.num_chunks), (2, 26));
        assert_eq!(before.num_chunk_files, u64::from(spill));
        let q = storage::Queryable::querier(&head, 0, 10_000).unwrap();
        let m = model::Matcher::equal("__name__", "live");
        let mut set = storage::Querier::select(&*q, false, None, &[m]).unwrap();
        let samples = set.next().unwrap().unwrap().collect_samples().unwrap();
        assert_eq!(samples.len(), 100);
        assert!(samples.iter().enumerate().all(|(i, s)| s.v == i as f64));
        assert_eq!((before.min_time, before.max_time), (0, 990));

        let st = head.truncate(500).unwrap();
        assert_eq!(st.series_removed, 1);
        assert_eq!(
            st.chunks_removed, 16,
            "old: 6 chunks, live: 10 chunks before 500"
        );
        let cp = st.checkpoint.expect("a checkpoint");
        assert_eq!(cp.dropped_series, 1);
        let after = head.stats();
        assert_eq!((after.num_series, after.num_chunks), (1, 10));
        assert_eq!(after.min_time, 500);
        assert!(after.bytes < before.bytes);
        assert_eq!(head.label_values("__name__"), ["live"]);
        assert!(head.postings("__name__", "old").is_empty());
        // Refused from now on: the range belongs to a block.
        let mut app = head.appender();
        assert!(matches!(
            app.append(None, &old, 499, 1.0),
            Err(storage::AppendError::OutOfBounds { .. })
        ));
        app.append(None, &live, 1000, 1.0).unwrap();
        app.commit().unwrap();
        drop(app);
        drop(head);

        // The checkpoint plus the newer segments replay to the same head.
        let (head, rs) = Head::open(opts, dir.path(), wal_opts).unwrap();
        assert_eq!(rs.series, 1);
        assert_eq!(head.stats().num_series, 1);
        assert_eq!(head.min_time(), 500);
        assert_eq!(head.max_time(), 1000);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("checkpoint.")),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n == "00000000"), "{names:?}");
    }

    #[test]
    fn concurrent_appenders_readers_and_truncation() {
        use model::{MatchType, Matcher};
        use storage::Queryable;
        let head = Head::new(
            HeadOptions {
                samples_per_chunk: 16,
                stripe_size: 8,
                ..HeadOptions::default()
            },
            None,
        );
        let labels = |w: usize, i: usize| {
            Labels::from_pairs(&[
                ("__name__", "m"),
                ("w", &w.to_string()),
                ("i", &i.to_string()),
            ])
        };
        std::thread::scope(|s| {
            for w in 0..3 {
                let head = &head;
                s.spawn(move || {
                    let mut refs = vec![None; 50];
                    for t in 0..200 {
                        let mut app = head.appender();
                        for (i, r) in refs.iter_mut().enumerate() {
                            // Every writer also writes a series shared by all,
                            // which may refuse its samples as out of order.
                            let _ = app.append(None, &labels(9, 0), t, 0.0);
                            *r = Some(app.append(*r, &labels(w, i), t, t as f64).unwrap());
                        }
                        app.commit().unwrap();
                    }
                });
            }
            s.spawn(|| {
                let m = Matcher::new(MatchType::Regex, "w", "0|1|2").unwrap();
                for _ in 0..50 {
                    let q = head.querier(i64::MIN, i64::MAX).unwrap();
                    for series in q.select(true, None, std::slice::from_ref(&m)).unwrap() {
                        let samples = series.unwrap().collect_samples().unwrap();
                        // A series is read whole or not at all, in order.
                        assert!(samples.windows(2).all(|p| p[1].t == p[0].t + 1));
                        assert!(samples.iter().all(|s| s.v == s.t as f64));
                    }
                }
            });
            s.spawn(|| {
                for _ in 0..20 {
                    head.truncate(-1).unwrap();
                }
            });
        });
        let st = head.stats();
        assert_eq!(st.num_series, 151);
        assert_eq!(st.samples_appended, 150 * 200 + 200);
        let q = head.querier(0, 199).unwrap();
        let m = Matcher::equal("w", "2");
        let n: usize = q
            .select(false, None, &[m])
            .unwrap()
            .map(|s| s.unwrap().collect_samples().unwrap().len())
            .sum();
        assert_eq!(n, 50 * 200);
    }

    #[test]
    fn memory_only_head_and_stats() {
        let head = Head::new(HeadOptions::default(), None);
        let mut app = head.appender();
        for i in 0..100 {
            let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
            app.append(None, &l, 1, 1.0).unwrap();
        }
        app.commit().unwrap();
        drop(app);
        let st = head.stats();
        assert_eq!(
            (st.num_series, st.num_chunks, st.num_label_pairs),
            (100, 100, 101)
        );
        // At least the fixed size of each series and its open chunk buffer.
        assert!(st.bytes > 100 * (112 + 128), "{st:?}");
        assert!(head.truncate(0).unwrap().checkpoint.is_none());
    }
}
