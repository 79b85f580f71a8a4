//! Opening a data directory: lock, clean up, open blocks, replay the head.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::{io_err, Db, DbError, DbInner, DbOptions, HeadTombstones};
use crate::block::{Block, TMP_CREATION_SUFFIX, TMP_DELETION_SUFFIX};
use crate::head::{Head, HeadOptions, ReplayStats};
use crate::meta::BlockMeta;
use crate::tombstones::{add_interval, Interval};
use crate::wal::WalOptions;

/// Name of the lock file in the data directory (Prometheus's name).
pub(crate) const LOCK_FILENAME: &str = "lock";

/// What [`Db::open`] found and did, for the caller to report.
#[derive(Clone, Debug, Default)]
pub struct OpenReport {
    /// Blocks opened.
    pub blocks: usize,
    /// Temporary directories of interrupted writes or deletions removed.
    pub removed_tmp: Vec<PathBuf>,
    /// Blocks removed for being marked deletable or superseded by a
    /// compaction that had not finished deleting its sources.
    pub removed_blocks: Vec<PathBuf>,
    /// What the WAL replay read and what a repair of its tail dropped.
    pub replay: ReplayStats,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`. See the module
    /// documentation of [`crate::db`] for the steps.
    pub fn open(dir: impl AsRef<Path>, opts: DbOptions) -> Result<(Db, OpenReport), DbError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        let lock = take_lock(&dir)?;
        let mut report = OpenReport {
            removed_tmp: remove_tmp_dirs(&dir)?,
            ..OpenReport::default()
        };

        let (blocks, removed) = open_blocks(&dir, &[])?;
        report.blocks = blocks.len();
        report.removed_blocks = removed;

        let head_opts = HeadOptions {
            chunk_range: opts.min_block_duration,
            replay_workers: opts.replay_workers.max(1),
            wal_compression: opts.wal_compression,
            ..HeadOptions::default()
        };
        let wal_opts = WalOptions {
            segment_size: opts.wal_segment_size,
            compression: opts.wal_compression,
            ..WalOptions::default()
        };
        let (head, replay) = Head::open(head_opts, &dir.join("wal"), wal_opts)?;
        if let Some(r) = &replay.repair {
            tracing::warn!(dir = %dir.display(), repair = %r, "repaired the WAL's tail");
        }
        tracing::info!(
            dir = %dir.display(),
            blocks = blocks.len(),
            series = replay.series,
            samples = replay.samples,
            duration = ?replay.duration,
            "opened database"
        );
        report.replay = replay;

        // The head never holds what a block holds: drop replayed samples
        // older than the newest block's end, as Prometheus does.
        if let Some(end) = blocks.iter().map(|b| b.meta().max_time).max() {
            head.set_min_valid_time(end);
            if head.min_time() < end && head.max_time() != i64::MIN {
                head.truncate(end)?;
            }
        }
        let mut stones = HeadTombstones::new();
        for t in head.take_replayed_tombstones() {
            add_interval(
                stones.entry(t.series_ref).or_default(),
                Interval {
                    min_time: t.mint,
                    max_time: t.maxt,
                },
            );
        }

        let inner = DbInner {
            dir,
            opts: opts.clone(),
            head,
            blocks: RwLock::new(blocks),
            head_tombstones: RwLock::new(Arc::new(stones)),
            maintenance: Mutex::new(()),
            lock: Mutex::new(Some(lock)),
            readers: Default::default(),
        };
        let db = Db {
            inner: Arc::new(inner),
            background: Mutex::new(None),
        };
        {
            let _m = db.inner.maintenance.lock();
            db.inner.apply_retention()?;
        }
        if opts.background_compaction {
            db.start_background();
        }
        Ok((db, report))
    }
}

/// Opens `<dir>/lock` and takes an exclusive, non-blocking flock on it.
fn take_lock(dir: &Path) -> Result<File, DbError> {
    let path = dir.join(LOCK_FILENAME);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("open lock file", &path))?;
    match fs4::fs_std::FileExt::try_lock_exclusive(&f) {
        Ok(true) => Ok(f),
        Ok(false) => Err(DbError::Locked {
            dir: dir.to_path_buf(),
        }),
        Err(e) => Err(DbError::Io {
            op: "lock",
            path,
            source: e,
        }),
    }
}

/// Removes directories left by interrupted block writes and deletions.
fn remove_tmp_dirs(dir: &Path) -> Result<Vec<PathBuf>, DbError> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_tmp = name.ends_with(TMP_CREATION_SUFFIX)
            || name.ends_with(TMP_DELETION_SUFFIX)
            || name.ends_with(".tmp");
        if is_tmp && entry.path().is_dir() {
            let p = entry.path();
            std::fs::remove_dir_all(&p).map_err(io_err("remove", &p))?;
            tracing::info!(path = %p.display(), "removed leftover temporary directory");
            removed.push(p);
        }
    }
    Ok(removed)
}

/// Opens the blocks of `dir`, reusing the already open ones of `old`, and
/// deletes those marked deletable or named as a parent by another block.
/// Returns the blocks sorted by min time and the directories deleted.
fn open_blocks(dir: &Path, old: &[Arc<Block>]) -> Result<(Vec<Arc<Block>>, Vec<PathBuf>), DbError> {
    let mut metas: Vec<(PathBuf, BlockMeta)> = Vec::new();
    for d in crate::readonly::block_dirs(dir)? {
        let (meta, _) = BlockMeta::read(&d).map_err(|source| crate::block::BlockError::Meta {
            dir: d.clone(),
            source,
        })?;
        metas.push((d, meta));
    }
    let parents: HashSet<ulid::Ulid> = metas
        .iter()
        .flat_map(|(_, m)| m.compaction.parents.iter().map(|p| p.ulid))
        .collect();
    let mut blocks = Vec::new();
    let mut removed = Vec::new();
    for (d, meta) in metas {
        if meta.compaction.deletable || parents.contains(&meta.ulid) {
            tracing::info!(block = %d.display(), "deleting block superseded or marked deletable");
            crate::block::delete_block_dir(&d)?;
            removed.push(d);
            continue;
        }
        match old
            .iter()
            .find(|b| b.meta().ulid == meta.ulid && b.dir() == d)
        {
            Some(b) if b.meta().stats == meta.stats => blocks.push(b.clone()),
            _ => blocks.push(Block::open(&d)?),
        }
    }
    blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
    Ok((blocks, removed))
}

/// [`open_blocks`] for a reload: the blocks only.
pub(crate) fn load_blocks(dir: &Path, old: &[Arc<Block>]) -> Result<Vec<Arc<Block>>, DbError> {
    Ok(open_blocks(dir, old)?.0)
}
