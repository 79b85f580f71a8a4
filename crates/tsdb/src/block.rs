//! Blocks: immutable directories holding the samples of one time range, in
//! Prometheus's layout, so that Prometheus, promtool and pharos read each
//! other's blocks.
//!
//! ```text
//! <ulid>/
//!   meta.json     what the block holds and where it came from (meta)
//!   index         label sets → series → chunk refs (index, format v2)
//!   chunks/       chunk segment files 000001, 000002, … (chunks)
//!   tombstones    deleted time ranges per series (tombstones)
//! ```
//!
//! A block is written under `<ulid>.tmp-for-creation`, every file and the
//! directory fsynced, and renamed into place: a crash leaves either no
//! block or a whole one, and leftovers are deleted when the database opens.

mod querier;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use querier::BlockQuerier;
pub use writer::{BlockWriter, ChunkData, TMP_CREATION_SUFFIX, TMP_DELETION_SUFFIX};

use crate::chunks::{ChunkFileError, ChunkReader};
use crate::index::{IndexError, IndexReader};
use crate::meta::{BlockMeta, MetaError};
use crate::tombstones::{Tombstones, TombstonesError};

/// Why a block could not be opened, read or written. Each variant names the
/// block directory and carries the cause, which names the file.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// meta.json is missing or invalid.
    #[error("cannot open block {}: {source}", dir.display())]
    Meta {
        /// The block directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: MetaError,
    },
    /// The index is missing or corrupt.
    #[error("cannot open block {}: {source}", dir.display())]
    Index {
        /// The block directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: IndexError,
    },
    /// A chunk segment is missing or corrupt.
    #[error("cannot read block {}: {source}", dir.display())]
    Chunks {
        /// The block directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: ChunkFileError,
    },
    /// The tombstones file is corrupt.
    #[error("cannot open block {}: {source}", dir.display())]
    Tombstones {
        /// The block directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: TombstonesError,
    },
    /// A file system operation on the block failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The caller broke the writer's contract (order, ranges).
    #[error("cannot write block: {0}")]
    Invalid(String),
}

/// An open, immutable block: its meta, index and chunks mapped into memory.
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    tombstones: Tombstones,
    size: u64,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("dir", &self.dir)
            .field("ulid", &self.meta.ulid)
            .finish_non_exhaustive()
    }
}

impl Block {
    /// Opens the block in `dir`, checking meta.json, the index's checksums
    /// and the chunk segment headers. A missing tombstones file is an empty
    /// one, as in Prometheus.
    pub fn open(dir: impl AsRef<Path>) -> Result<Arc<Block>, BlockError> {
        let dir = dir.as_ref().to_path_buf();
        let (meta, meta_size) = BlockMeta::read(&dir).map_err(|source| BlockError::Meta {
            dir: dir.clone(),
            source,
        })?;
        let index = IndexReader::open(dir.join("index")).map_err(|source| BlockError::Index {
            dir: dir.clone(),
            source,
        })?;
        let chunks =
            ChunkReader::open(dir.join("chunks")).map_err(|source| BlockError::Chunks {
                dir: dir.clone(),
                source,
            })?;
        let (tombstones, tomb_size) =
            Tombstones::read(&dir).map_err(|source| BlockError::Tombstones {
                dir: dir.clone(),
                source,
            })?;
        let size = meta_size + index.size() as u64 + chunks.size() + tomb_size;
        Ok(Arc::new(Block {
            dir,
            meta,
            index,
            chunks,
            tombstones,
            size,
        }))
    }

    /// The block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The block's meta.json.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// Bytes on disk: meta.json, index, chunk segments and tombstones, as
    /// Prometheus's `Block.Size` counts them.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The block's index.
    pub fn index(&self) -> &IndexReader {
        &self.index
    }

    /// The block's chunk segments.
    pub fn chunks(&self) -> &ChunkReader {
        &self.chunks
    }

    /// The block's deleted ranges.
    pub fn tombstones(&self) -> &Tombstones {
        &self.tombstones
    }

    /// Whether the block holds samples in the closed range `[mint, maxt]`
    /// (a block's own max time is exclusive).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && mint < self.meta.max_time
    }
}

/// Deletes a block directory so that a crash leaves either the block or a
/// `.tmp-for-deletion` directory that the next open of the database removes.
pub fn delete_block_dir(path: &Path) -> Result<(), BlockError> {
    let Some(name) = path.file_name() else {
        return Ok(());
    };
    let io = |op, p: &Path| {
        let path = p.to_path_buf();
        move |source| BlockError::Io { op, path, source }
    };
    let tmp = path.with_file_name(format!("{}{TMP_DELETION_SUFFIX}", name.to_string_lossy()));
    std::fs::rename(path, &tmp).map_err(io("rename", path))?;
    std::fs::remove_dir_all(&tmp).map_err(io("remove", &tmp))?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync", parent))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use model::{Labels, MatchType, Matcher, Sample};
    use storage::Querier;

    use super::*;
    use crate::chunkenc::{Encoding, XorChunk};
    use crate::tombstones::Interval;

    /// Writes `series` (each with samples at t = 0, step, 2*step, …) as one
    /// block, cutting chunks every 120 samples.
    pub(crate) fn write_test_block(
        dir: &Path,
        series: &[(Labels, usize)],
        step: i64,
    ) -> Arc<Block> {
        let mut syms = BTreeSet::new();
        for (l, _) in series {
            for p in l {
                syms.insert(p.name.to_owned());
                syms.insert(p.value.to_owned());
            }
        }
        let maxt = series.iter().map(|(_, n)| *n as i64).max().unwrap_or(1) * step;
        let mut w = BlockWriter::create(dir, 0, maxt, syms.iter().map(String::as_str)).unwrap();
        let mut sorted: Vec<_> = series.to_vec();
        sorted.sort();
        for (l, n) in &sorted {
            let mut chunks = Vec::new();
            let mut c = XorChunk::new();
            let mut first = 0;
            for i in 0..*n as i64 {
                if c.num_samples() == 120 {
                    chunks.push((first, (i - 1) * step, std::mem::take(&mut c)));
                    first = i * step;
                }
                c.append(i * step, i as f64);
            }
            chunks.push((first, (*n as i64 - 1) * step, c));
            let data: Vec<ChunkData<'_>> = chunks
                .iter()
                .map(|(mint, maxt, c)| ChunkData {
                    min_time: *mint,
                    max_time: *maxt,
                    encoding: Encoding::Xor,
                    data: c.bytes(),
                })
                .collect();
            w.add_series(l, &data).unwrap();
        }
        let meta = w.finish(None).unwrap();
        Block::open(dir.join(meta.ulid.to_string())).unwrap()
    }

    fn lbl(job: &str, i: usize) -> Labels {
        Labels::from_pairs(&[
            ("__name__", "up"),
            ("job", job),
            ("instance", &format!("i{i}")),
        ])
    }

    fn select(q: &dyn Querier, ms: &[Matcher]) -> Vec<(Labels, Vec<Sample>)> {
        q.select(true, None, ms)
            .unwrap()
            .map(|s| {
                let mut s = s.unwrap();
                let samples = s.collect_samples().unwrap();
                (s.labels, samples)
            })
            .collect()
    }

    #[test]
    fn write_then_query() {
        let dir = tempfile::tempdir().unwrap();
        let series = vec![(lbl("a", 1), 300), (lbl("a", 2), 10), (lbl("b", 1), 5)];
        let b = write_test_block(dir.path(), &series, 1000);
        assert_eq!(b.meta().stats.num_series, 3);
        assert_eq!(b.meta().stats.num_samples, 315);
        assert_eq!(b.meta().stats.num_chunks, 5);
        assert_eq!(b.meta().compaction.level, 1);
        assert!(!dir.path().read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp")));

        let q = BlockQuerier::new(b.clone(), 0, i64::MAX);
        let got = select(&q, &[Matcher::equal("job", "a")]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, lbl("a", 1));
        assert_eq!(got[0].1.len(), 300);
        assert_eq!(got[0].1[299], Sample::new(299_000, 299.0));

        // Range [100s, 130s] crosses the chunk boundary at 120.
        let q = BlockQuerier::new(b.clone(), 100_000, 130_000);
        let got = select(
            &q,
            &[Matcher::new(MatchType::Regex, "instance", "i1").unwrap()],
        );
        let ts: Vec<i64> = got[0].1.iter().map(|s| s.t / 1000).collect();
        assert_eq!(ts, (100..=130).collect::<Vec<_>>());
        assert_eq!(got.len(), 1, "job b's series ends before 100s");

        assert_eq!(q.label_values("job", &[]).unwrap(), ["a", "b"]);
        assert_eq!(q.label_names(&[]).unwrap(), ["__name__", "instance", "job"]);
        assert_eq!(
            q.label_values("instance", &[Matcher::equal("job", "b")])
                .unwrap(),
            ["i1"]
        );
    }

    #[test]
    fn seek_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let b = write_test_block(dir.path(), &[(lbl("a", 1), 400)], 1000);
        let q = BlockQuerier::new(b, 0, i64::MAX);
        let mut set = q.select(true, None, &[Matcher::equal("job", "a")]).unwrap();
        let mut s = set.next().unwrap().unwrap();
        assert_eq!(s.samples.seek(250_500).map(|s| s.t), Some(251_000));
        assert_eq!(s.samples.seek(10_000).map(|s| s.t), Some(251_000));
        assert_eq!(s.samples.next().map(|s| s.t), Some(252_000));
        assert_eq!(s.samples.seek(399_000).map(|s| s.t), Some(399_000));
        assert_eq!(s.samples.next(), None);
    }

    #[test]
    fn tombstones_hide_samples() {
        let dir = tempfile::tempdir().unwrap();
        let b = write_test_block(dir.path(), &[(lbl("a", 1), 10)], 1000);
        // Series refs are offsets/16; find the one series' ref.
        let r = crate::index::expand(b.index().all_postings().unwrap())[0];
        let mut t2 = Tombstones::new();
        t2.add_interval(
            r,
            Interval {
                min_time: 2000,
                max_time: 4000,
            },
        );
        t2.write(b.dir()).unwrap();
        let b = Block::open(b.dir()).unwrap();
        let q = BlockQuerier::new(b, 0, i64::MAX);
        let got = select(&q, &[Matcher::equal("job", "a")]);
        let ts: Vec<i64> = got[0].1.iter().map(|s| s.t / 1000).collect();
        assert_eq!(ts, [0, 1, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn corrupt_meta_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let b = write_test_block(dir.path(), &[(lbl("a", 1), 10)], 1000);
        std::fs::write(b.dir().join("meta.json"), b"{\"ulid\": 5").unwrap();
        let err = Block::open(b.dir()).unwrap_err().to_string();
        assert!(err.contains("meta.json"), "{err}");
    }
}
