//! Writing a block: chunks, index, tombstones and meta.json into a
//! temporary directory, then an atomic rename.

use std::fs::File;
use std::path::{Path, PathBuf};

use model::Labels;
use ulid::Ulid;

use super::BlockError;
use crate::chunkenc::cut::TimedChunk;
use crate::chunkenc::Encoding;
use crate::chunks::{ChunkMeta, ChunkWriter};
use crate::index::IndexWriter;
use crate::meta::{BlockMeta, BlockMetaCompaction, BlockStats};
use crate::tombstones::Tombstones;

/// Suffix of a block directory still being written.
pub const TMP_CREATION_SUFFIX: &str = ".tmp-for-creation";
/// Suffix of a block directory being deleted.
pub const TMP_DELETION_SUFFIX: &str = ".tmp-for-deletion";

/// One chunk handed to [`BlockWriter::add_series`].
#[derive(Clone, Copy, Debug)]
pub struct ChunkData<'a> {
    /// First sample's timestamp.
    pub min_time: i64,
    /// Last sample's timestamp.
    pub max_time: i64,
    /// How `data` is encoded.
    pub encoding: Encoding,
    /// The encoded chunk, e.g. [`crate::chunkenc::XorChunk::bytes`].
    pub data: &'a [u8],
}

impl<'a> ChunkData<'a> {
    /// An XOR chunk as encoded by `chunkenc::cut::encode_chunks`.
    pub(crate) fn xor(&(min_time, max_time, ref chunk): &'a TimedChunk) -> ChunkData<'a> {
        ChunkData {
            min_time,
            max_time,
            encoding: Encoding::Xor,
            data: chunk.bytes(),
        }
    }
}

/// Writes one block. Give it every symbol first (sorted, unique), then every
/// series in label order, then [`finish`](BlockWriter::finish).
pub struct BlockWriter {
    parent: PathBuf,
    tmp: PathBuf,
    ulid: Ulid,
    min_time: i64,
    max_time: i64,
    chunks: Option<ChunkWriter>,
    index: Option<IndexWriter>,
    stats: BlockStats,
    refs: Vec<u64>,
    metas: Vec<ChunkMeta>,
}

impl BlockWriter {
    /// Starts a block for `[min_time, max_time)` under `parent`, with the
    /// given label names and values (sorted and unique).
    pub fn create<'s>(
        parent: &Path,
        min_time: i64,
        max_time: i64,
        symbols: impl IntoIterator<Item = &'s str>,
    ) -> Result<BlockWriter, BlockError> {
        if min_time >= max_time {
            return Err(BlockError::Invalid(format!(
                "empty time range [{min_time}, {max_time})"
            )));
        }
        let ulid = Ulid::new();
        let tmp = parent.join(format!("{ulid}{TMP_CREATION_SUFFIX}"));
        std::fs::create_dir_all(tmp.join("chunks")).map_err(|source| BlockError::Io {
            op: "create",
            path: tmp.clone(),
            source,
        })?;
        let chunks = ChunkWriter::new(tmp.join("chunks")).map_err(|source| BlockError::Chunks {
            dir: tmp.clone(),
            source,
        })?;
        let index_err = |source| BlockError::Index {
            dir: tmp.clone(),
            source,
        };
        let mut index = IndexWriter::create(tmp.join("index")).map_err(index_err)?;
        for s in symbols {
            index.add_symbol(s).map_err(index_err)?;
        }
        Ok(BlockWriter {
            parent: parent.to_path_buf(),
            tmp,
            ulid,
            min_time,
            max_time,
            chunks: Some(chunks),
            index: Some(index),
            stats: BlockStats::default(),
            refs: Vec::new(),
            metas: Vec::new(),
        })
    }

    /// The new block's ULID.
    pub fn ulid(&self) -> Ulid {
        self.ulid
    }

    /// Adds the next series (in label order) with its chunks in time order.
    /// A series without chunks is skipped, as Prometheus skips it.
    pub fn add_series(
        &mut self,
        labels: &Labels,
        chunks: &[ChunkData<'_>],
    ) -> Result<(), BlockError> {
        if chunks.is_empty() {
            return Ok(());
        }
        let (Some(cw), Some(iw)) = (self.chunks.as_mut(), self.index.as_mut()) else {
            return Err(BlockError::Invalid("series added after finish".into()));
        };
        self.refs.clear();
        cw.write_series(chunks.iter().map(|c| (c.encoding, c.data)), &mut self.refs)
            .map_err(|source| BlockError::Chunks {
                dir: self.tmp.clone(),
                source,
            })?;
        self.metas.clear();
        for (c, &r) in chunks.iter().zip(&self.refs) {
            self.metas.push(ChunkMeta {
                min_time: c.min_time,
                max_time: c.max_time,
                chunk_ref: r,
            });
            // Every encoding pharos writes starts with a big-endian u16 count.
            let n = c
                .data
                .get(..2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            self.stats.num_samples += u64::from(n);
        }
        iw.add_series(labels, &self.metas)
            .map_err(|source| BlockError::Index {
                dir: self.tmp.clone(),
                source,
            })?;
        self.stats.num_series += 1;
        self.stats.num_chunks += chunks.len() as u64;
        Ok(())
    }

    /// Completes the block: closes chunks and index, writes empty
    /// tombstones and meta.json, fsyncs and renames the directory into
    /// place. `compaction` records the block's history; level 1 with the
    /// block itself as source for a block cut from fresh data.
    pub fn finish(
        mut self,
        compaction: Option<BlockMetaCompaction>,
    ) -> Result<BlockMeta, BlockError> {
        let tmp = self.tmp.clone();
        if let Some(cw) = self.chunks.take() {
            cw.close().map_err(|source| BlockError::Chunks {
                dir: tmp.clone(),
                source,
            })?;
        }
        if let Some(iw) = self.index.take() {
            iw.finish().map_err(|source| BlockError::Index {
                dir: tmp.clone(),
                source,
            })?;
        }
        Tombstones::new()
            .write(&tmp)
            .map_err(|source| BlockError::Tombstones {
                dir: tmp.clone(),
                source,
            })?;
        let compaction = compaction.unwrap_or_else(|| BlockMetaCompaction {
            level: 1,
            sources: vec![self.ulid],
            ..Default::default()
        });
        let mut meta = BlockMeta {
            ulid: self.ulid,
            min_time: self.min_time,
            max_time: self.max_time,
            stats: self.stats,
            compaction,
            version: crate::meta::META_VERSION,
            thanos: None,
        };
        meta.write(&tmp).map_err(|source| BlockError::Meta {
            dir: tmp.clone(),
            source,
        })?;
        let io = |op, path: &Path| {
            let path = path.to_path_buf();
            move |source| BlockError::Io { op, path, source }
        };
        File::open(&tmp)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync", &tmp))?;
        let dest = self.parent.join(self.ulid.to_string());
        std::fs::rename(&tmp, &dest).map_err(io("rename", &tmp))?;
        File::open(&self.parent)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync", &self.parent))?;
        self.tmp = PathBuf::new();
        Ok(meta)
    }
}

impl Drop for BlockWriter {
    /// A writer dropped before `finish` removes its temporary directory.
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}
