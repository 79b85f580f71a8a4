//! The database: a locked data directory holding persisted blocks and a
//! WAL-backed head, kept in shape by compaction and retention — Prometheus's
//! `tsdb.DB`.
//!
//! Layout of the data directory:
//!
//! ```text
//! <dir>/lock                      flock(2)ed while a Db has the directory open
//! <dir>/<ULID>/                   one block each (meta.json, index, chunks/, tombstones)
//! <dir>/<ULID>.tmp-for-creation/  a block being written (removed at open)
//! <dir>/<ULID>.tmp-for-deletion/  a block being deleted (removed at open)
//! <dir>/wal/                      the head's WAL segments and checkpoint.<n>/
//! ```
//!
//! Life cycle: [`Db::open`] locks, cleans up, opens the blocks, replays the
//! head and applies retention; appends go to the head ([`storage::Appendable`]);
//! queries merge the blocks overlapping the range with the head
//! ([`storage::Queryable`]); [`Db::compact`] persists the head's oldest 2h
//! window once the head spans 1.5 block ranges and merges blocks by the
//! leveled plan, then applies retention; a background thread runs it every
//! minute unless [`DbOptions::background_compaction`] is off.
//!
//! ```
//! use model::{Labels, Matcher};
//! use storage::{Appendable, Appender, Queryable, Querier};
//! use tsdb::db::{Db, DbOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let opts = DbOptions { background_compaction: false, ..DbOptions::default() };
//! let (db, _report) = Db::open(dir.path(), opts.clone()).unwrap();
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! let mut app = db.appender();
//! app.append(None, &up, 1_000, 1.0).unwrap();
//! app.commit().unwrap(); // in the WAL: survives a crash from here on
//! drop(app);
//! db.close().unwrap();
//! drop(db);
//!
//! let (db, _) = Db::open(dir.path(), opts).unwrap();
//! let q = db.querier(0, 2_000).unwrap();
//! let mut set = q.select(true, None, &[Matcher::equal("job", "node")]).unwrap();
//! assert_eq!(set.next().unwrap().unwrap().collect_samples().unwrap().len(), 1);
//! ```

pub(crate) mod compaction;
pub(crate) mod delete;
pub(crate) mod open;
pub(crate) mod options;
pub(crate) mod readers;
pub(crate) mod retention;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;

use model::Timestamp;
use parking_lot::{Mutex, RwLock};
use storage::{MergeQuerier, Querier, Queryable, StorageError};

use crate::block::{Block, BlockError, BlockQuerier};
use crate::head::{Head, HeadError};
use crate::tombstones::Interval;

pub use open::OpenReport;
pub use options::DbOptions;

/// Errors of the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Another process (or another `Db` in this one) holds the directory.
    #[error("cannot lock data directory {}: it is in use by another process or Db (lock file {})", dir.display(), dir.join("lock").display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },
    /// A file system operation failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A block could not be opened, written or rewritten.
    #[error(transparent)]
    Block(#[from] BlockError),
    /// The head or its WAL failed.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// A matcher or selection was refused.
    #[error("cannot select series: {0}")]
    Storage(#[from] StorageError),
    /// The database was closed.
    #[error("cannot use database {}: it is closed", dir.display())]
    Closed {
        /// The data directory.
        dir: PathBuf,
    },
}

/// Shorthand for I/O error mapping.
pub(crate) fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DbError {
    let path = path.to_path_buf();
    move |source| DbError::Io { op, path, source }
}

/// Deleted ranges of head series, by series ref; shared with queriers.
pub(crate) type HeadTombstones = HashMap<u64, Vec<Interval>>;

/// State shared by the database handle and its background thread.
pub(crate) struct DbInner {
    pub(crate) dir: PathBuf,
    pub(crate) opts: DbOptions,
    pub(crate) head: Head,
    /// Open blocks, oldest first; replaced wholesale on reload so queriers
    /// keep the `Arc`s they took.
    pub(crate) blocks: RwLock<Vec<Arc<Block>>>,
    pub(crate) head_tombstones: RwLock<Arc<HeadTombstones>>,
    /// Serializes compaction, deletion and retention: each changes the set
    /// of blocks on disk.
    pub(crate) maintenance: Mutex<()>,
    /// The open lock file; dropping it releases the flock.
    pub(crate) lock: Mutex<Option<File>>,
    /// Live queriers, which head truncation waits for.
    pub(crate) readers: Arc<readers::Readers>,
}

/// The database. See the module documentation.
pub struct Db {
    pub(crate) inner: Arc<DbInner>,
    background: Mutex<Option<(mpsc::Sender<()>, JoinHandle<()>)>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The head (in-memory newest data).
    pub fn head(&self) -> &Head {
        &self.inner.head
    }

    /// The open blocks, oldest first.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.inner.blocks.read().clone()
    }

    /// Persists the head and compacts blocks until nothing is left to do,
    /// then applies retention. Safe to call concurrently with appends and
    /// queries; concurrent calls run one after the other.
    pub fn compact(&self) -> Result<(), DbError> {
        self.inner.compact()
    }

    /// Hides samples in `[mint, maxt]` (inclusive) of the series matching
    /// `matchers`: tombstones in the blocks (their `tombstones` file) and in
    /// the head (a WAL record), effective for queriers opened afterwards.
    pub fn delete(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
        matchers: &[model::Matcher],
    ) -> Result<(), DbError> {
        self.inner.delete(mint, maxt, matchers)
    }

    /// Rewrites every block with tombstones without the deleted data (a new
    /// block naming the old one as parent; the old one is deleted).
    pub fn clean_tombstones(&self) -> Result<(), DbError> {
        self.inner.clean_tombstones()
    }

    /// Starts the background compaction thread.
    fn start_background(&self) {
        let (tx, rx) = mpsc::channel::<()>();
        let inner = self.inner.clone();
        let every = self.inner.opts.compaction_interval;
        let handle = std::thread::Builder::new()
            .name("tsdb-compact".into())
            .spawn(move || loop {
                match rx.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {
                        if let Err(e) = inner.compact() {
                            tracing::error!(error = %e, "compaction failed");
                        }
                    }
                    // A message or a dropped sender both mean stop.
                    _ => return,
                }
            });
        match handle {
            Ok(h) => *self.background.lock() = Some((tx, h)),
            Err(e) => tracing::error!(error = %e, "cannot start the compaction thread"),
        }
    }

    fn stop_background(&self) {
        if let Some((tx, h)) = self.background.lock().take() {
            let _ = tx.send(());
            if h.join().is_err() {
                tracing::error!("the compaction thread panicked");
            }
        }
    }

    /// Stops background compaction, flushes and closes the WAL and releases
    /// the lock. Queriers already open stay usable.
    pub fn close(&self) -> Result<(), DbError> {
        self.stop_background();
        // Wait for a compaction or deletion in progress.
        let _m = self.inner.maintenance.lock();
        let res = self.inner.head.close();
        if let Some(f) = self.inner.lock.lock().take() {
            let _ = fs4::fs_std::FileExt::unlock(&f);
        }
        res.map_err(DbError::from)
    }
}

impl Drop for Db {
    /// Dropping without [`Db::close`] closes as well, logging a failure.
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!(error = %e, dir = %self.inner.dir.display(), "cannot close database");
        }
    }
}

impl storage::Appendable for Db {
    fn appender(&self) -> Box<dyn storage::Appender + '_> {
        if self.inner.lock.lock().is_none() {
            return Box::new(ClosedAppender);
        }
        Box::new(self.inner.head.head_appender())
    }
}

/// The appender of a closed database: refuses everything, so nothing is
/// acknowledged that the (closed) WAL would not keep.
struct ClosedAppender;

impl storage::Appender for ClosedAppender {
    fn append(
        &mut self,
        _series_ref: Option<storage::SeriesRef>,
        _labels: &model::Labels,
        _t: Timestamp,
        _v: f64,
    ) -> Result<storage::SeriesRef, storage::AppendError> {
        Err(StorageError::Closed.into())
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        Err(StorageError::Closed)
    }

    fn rollback(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

impl Queryable for Db {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        // Registered before the block list is taken: a head truncation
        // after this point waits for the querier.
        let guard = self.inner.readers.enter();
        let mut qs: Vec<Box<dyn Querier>> = self
            .inner
            .blocks
            .read()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .map(|b| Box::new(BlockQuerier::new(b.clone(), mint, maxt)) as Box<dyn Querier>)
            .collect();
        let head = &self.inner.head;
        // Samples before the head's minimum valid time belong to blocks (a
        // replayed chunk may straddle the newest block's end); the head
        // answers only from there, as Prometheus's head querier does.
        let head_mint = mint.max(head.data.min_valid_time.load(Ordering::Relaxed));
        if head.max_time() >= head_mint && head.min_time() <= maxt && head_mint <= maxt {
            let hq = storage::Queryable::querier(head, head_mint, maxt)?;
            let stones = self.inner.head_tombstones.read().clone();
            if stones.is_empty() {
                qs.push(hq);
            } else {
                qs.push(Box::new(delete::TombstoneQuerier::new(
                    hq,
                    stones,
                    self.inner.clone(),
                )));
            }
        }
        Ok(Box::new(readers::GuardedQuerier {
            inner: Box::new(MergeQuerier::new(qs)),
            _guard: guard,
        }))
    }
}

impl DbInner {
    /// One full maintenance pass: head compaction, leveled compaction,
    /// retention.
    fn compact(&self) -> Result<(), DbError> {
        let _m = self.maintenance.lock();
        if self.lock.lock().is_none() {
            return Err(DbError::Closed {
                dir: self.dir.clone(),
            });
        }
        compaction::compact_head(self)?;
        loop {
            let blocks = self.blocks.read().clone();
            let ranges = self.opts.block_ranges();
            if !compaction::compact_once(&self.dir, &blocks, &ranges)? {
                break;
            }
            self.reload()?;
        }
        self.apply_retention()?;
        Ok(())
    }

    /// Re-reads the block directories: new blocks are opened, blocks gone
    /// from disk dropped, and blocks that are parents of another block (left
    /// by a compaction interrupted before it deleted its sources) or marked
    /// deletable are deleted.
    pub(crate) fn reload(&self) -> Result<(), DbError> {
        let old = self.blocks.read().clone();
        let blocks = open::load_blocks(&self.dir, &old)?;
        *self.blocks.write() = blocks;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use storage::Appendable;

    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    #[test]
    fn block_ranges_follow_retention() {
        let o = DbOptions::default();
        // 15d retention: at most 1.5d blocks.
        assert_eq!(o.block_ranges(), [2 * H, 6 * H, 18 * H]);
        let o = DbOptions {
            retention_time: 90 * DAY,
            ..DbOptions::default()
        };
        assert_eq!(o.block_ranges(), [2 * H, 6 * H, 18 * H, 54 * H, 162 * H]);
        let o = DbOptions {
            max_block_duration: Some(2 * H),
            ..DbOptions::default()
        };
        assert_eq!(o.block_ranges(), [2 * H]);
    }

    #[test]
    fn a_closed_db_refuses_appends_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open(
            dir.path(),
            DbOptions {
                background_compaction: false,
                ..DbOptions::default()
            },
        )
        .unwrap();
        db.close().unwrap();
        let l = model::Labels::from_pairs(&[("__name__", "x")]);
        let mut app = db.appender();
        assert!(app.append(None, &l, 1, 1.0).is_err());
        assert!(matches!(db.compact(), Err(DbError::Closed { .. })));
        // A second close is harmless.
        db.close().unwrap();
    }

    #[test]
    fn background_compaction_runs_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open(
            dir.path(),
            DbOptions {
                compaction_interval: Duration::from_millis(10),
                ..DbOptions::default()
            },
        )
        .unwrap();
        let mut app = db.appender();
        for k in 0..=200 {
            let l = model::Labels::from_pairs(&[("__name__", "x")]);
            app.append(None, &l, k * 60_000, 1.0).unwrap();
        }
        app.commit().unwrap();
        drop(app);
        let start = std::time::Instant::now();
        while db.blocks().is_empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(db.blocks().len(), 1);
        db.close().unwrap();
    }
}
