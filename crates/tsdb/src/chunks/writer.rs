//! Writing chunk segment files (format: see [`super`]).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{
    chunk_ref, segment_file_name, ChunkFileError, CHUNKS_FORMAT_V1, CRC_SIZE, DEFAULT_SEGMENT_SIZE,
    MAGIC_CHUNKS, MAX_CHUNK_LEN_FIELD, SEGMENT_HEADER_SIZE,
};
use crate::chunkenc::{put_uvarint, Encoding};

/// Bytes buffered before a write to the segment file.
const WRITE_BUFFER_SIZE: usize = 1 << 20;

/// Writes chunks into numbered segment files of one directory and hands
/// back each chunk's reference.
///
/// Segments are cut the way Prometheus cuts them, so the same chunks
/// written in the same calls give the same files. Call
/// [`close`](Self::close) to flush and fsync; dropping the writer leaves
/// the last segment unsynced.
#[derive(Debug)]
pub struct ChunkWriter {
    dir: PathBuf,
    segment_size: u64,
    /// The open segment and its path; `None` before the first chunk.
    tail: Option<(BufWriter<File>, PathBuf)>,
    /// Segment files created so far.
    segments: u32,
    /// Bytes written to the open segment, header included.
    n: u64,
}

impl ChunkWriter {
    /// Writes into `dir` (created if missing) with 512 MiB segments.
    ///
    /// `dir` must not already hold segment files: refs count segments from
    /// the first file this writer creates.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, ChunkFileError> {
        Self::with_segment_size(dir, DEFAULT_SEGMENT_SIZE)
    }

    /// Like [`new`](Self::new) with segments cut at `segment_size` bytes,
    /// which must be in `1..=u32::MAX` so chunk offsets fit their refs.
    pub fn with_segment_size(
        dir: impl AsRef<Path>,
        segment_size: u64,
    ) -> Result<Self, ChunkFileError> {
        if segment_size == 0 || segment_size > u64::from(u32::MAX) {
            return Err(ChunkFileError::BadSegmentSize { size: segment_size });
        }
        let dir = dir.as_ref().to_path_buf();
        let io = |action, source| ChunkFileError::Io {
            action,
            path: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(|e| io("create chunks directory", e))?;
        for entry in fs::read_dir(&dir).map_err(|e| io("list chunks directory", e))? {
            let entry = entry.map_err(|e| io("list chunks directory", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.parse::<u64>().is_ok() {
                return Err(ChunkFileError::DirNotEmpty { dir, name });
            }
        }
        Ok(Self {
            dir,
            segment_size,
            tail: None,
            segments: 0,
            n: 0,
        })
    }

    /// Writes one chunk and returns its reference.
    pub fn write_chunk(&mut self, encoding: Encoding, data: &[u8]) -> Result<u64, ChunkFileError> {
        let mut r = 0;
        self.write_series_inner(std::iter::once((encoding, data)), |x| r = x)?;
        Ok(r)
    }

    /// Writes the chunks of one series, appending their refs to `refs`.
    ///
    /// A series' chunks stay in one segment unless together they do not
    /// fit; this is Prometheus's `WriteChunks` rule, which sizes each chunk
    /// with a 5-byte length field whatever its real length.
    pub fn write_series<'c>(
        &mut self,
        chunks: impl IntoIterator<Item = (Encoding, &'c [u8])>,
        refs: &mut Vec<u64>,
    ) -> Result<(), ChunkFileError> {
        self.write_series_inner(chunks.into_iter(), |r| refs.push(r))
    }

    fn write_series_inner<'c>(
        &mut self,
        chunks: impl Iterator<Item = (Encoding, &'c [u8])>,
        mut on_ref: impl FnMut(u64),
    ) -> Result<(), ChunkFileError> {
        let header = SEGMENT_HEADER_SIZE as u64;
        let start_n = self.n;
        let mut batch_size = 0u64;
        let mut first_batch = true;
        for (i, (encoding, data)) in chunks.enumerate() {
            let chunk_size = (MAX_CHUNK_LEN_FIELD + 1 + data.len() + CRC_SIZE) as u64;
            batch_size += chunk_size;
            let mut cut = i != 0 && batch_size + header > self.segment_size;
            // The first batch shares the segment with earlier calls' chunks.
            if first_batch && start_n > header {
                cut = batch_size + start_n > self.segment_size;
                if cut {
                    first_batch = false;
                }
            }
            if cut {
                batch_size = chunk_size;
            }
            if cut || self.tail.is_none() {
                self.cut()?;
            }
            on_ref(self.write_one(encoding, data)?);
        }
        Ok(())
    }

    fn write_one(&mut self, encoding: Encoding, data: &[u8]) -> Result<u64, ChunkFileError> {
        let Some((file, path)) = self.tail.as_mut() else {
            unreachable!("BUG: chunk written with no open segment");
        };
        let offset = u32::try_from(self.n).map_err(|_| ChunkFileError::OffsetOverflow {
            path: path.clone(),
            offset: self.n,
        })?;
        let r = chunk_ref(self.segments - 1, offset);
        let mut len = [0u8; 10];
        let len_size = put_uvarint(&mut len, data.len() as u64);
        let crc = crc32c::crc32c_append(crc32c::crc32c(&[encoding as u8]), data);
        let res = (|| {
            file.write_all(&len[..len_size])?;
            file.write_all(&[encoding as u8])?;
            file.write_all(data)?;
            file.write_all(&crc.to_be_bytes())
        })();
        res.map_err(|source| ChunkFileError::Io {
            action: "write chunk segment",
            path: path.clone(),
            source,
        })?;
        self.n += (len_size + 1 + data.len() + CRC_SIZE) as u64;
        Ok(r)
    }

    /// Finishes the open segment and starts the next one.
    fn cut(&mut self) -> Result<(), ChunkFileError> {
        self.finish_tail()?;
        let segments =
            self.segments
                .checked_add(1)
                .ok_or_else(|| ChunkFileError::TooManySegments {
                    dir: self.dir.clone(),
                })?;
        let path = self.dir.join(segment_file_name(u64::from(segments)));
        let io = |action, source| ChunkFileError::Io {
            action,
            path: path.clone(),
            source,
        };
        let f = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io("create chunk segment", e))?;
        let mut w = BufWriter::with_capacity(WRITE_BUFFER_SIZE, f);
        let mut head = [0u8; SEGMENT_HEADER_SIZE];
        head[..4].copy_from_slice(&MAGIC_CHUNKS.to_be_bytes());
        head[4] = CHUNKS_FORMAT_V1;
        w.write_all(&head)
            .map_err(|e| io("write chunk segment header", e))?;
        self.tail = Some((w, path));
        self.segments = segments;
        self.n = SEGMENT_HEADER_SIZE as u64;
        Ok(())
    }

    /// Flushes and fsyncs the open segment, if any, and closes it.
    fn finish_tail(&mut self) -> Result<(), ChunkFileError> {
        let Some((w, path)) = self.tail.take() else {
            return Ok(());
        };
        let io = |action, source| ChunkFileError::Io {
            action,
            path: path.clone(),
            source,
        };
        let f = w
            .into_inner()
            .map_err(|e| io("flush chunk segment", e.into_error()))?;
        f.sync_all().map_err(|e| io("fsync chunk segment", e))
    }

    /// Flushes and fsyncs the last segment and the directory.
    pub fn close(mut self) -> Result<(), ChunkFileError> {
        self.finish_tail()?;
        let io = |action, source| ChunkFileError::Io {
            action,
            path: self.dir.clone(),
            source,
        };
        let d = File::open(&self.dir).map_err(|e| io("open chunks directory", e))?;
        d.sync_all().map_err(|e| io("fsync chunks directory", e))
    }

    /// Number of segment files created so far.
    pub fn segment_count(&self) -> u32 {
        self.segments
    }
}
