//! Reading chunk segment files through mmap (format: see [`super`]).

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::{
    chunk_ref, split_chunk_ref, ChunkFileError, CHUNKS_FORMAT_V1, CRC_SIZE, MAGIC_CHUNKS,
    SEGMENT_HEADER_SIZE,
};
use crate::chunkenc::{float_iter, read_uvarint_slice, ChunkError, Encoding, XorIter};

/// A chunk as stored: its encoding and its bytes, borrowed from the mmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawChunk<'a> {
    /// The encoding byte.
    pub encoding: Encoding,
    /// The chunk data (for XOR, what [`crate::chunkenc::XorChunk::bytes`] gives).
    pub data: &'a [u8],
}

impl<'a> RawChunk<'a> {
    /// Iterates over the chunk's float samples; fails for histogram chunks.
    pub fn float_iter(&self) -> Result<XorIter<'a>, ChunkError> {
        float_iter(self.encoding, self.data)
    }
}

/// One mapped segment file.
#[derive(Debug)]
struct Segment {
    path: PathBuf,
    data: Mmap,
}

/// Reads chunks by reference from the segment files of a directory.
///
/// Every read checks bounds and the CRC-32, so corrupt files give errors
/// naming the file and offset. The files must not change while open; that
/// holds for blocks, which are never rewritten in place.
#[derive(Debug)]
pub struct ChunkReader {
    segments: Vec<Segment>,
}

impl ChunkReader {
    /// Maps every segment file (names that are decimal numbers) of `dir`
    /// in numeric order and checks their headers.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ChunkFileError> {
        let dir = dir.as_ref();
        let io = |action, path: &Path, source| ChunkFileError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| io("list chunks directory", dir, e))? {
            let entry = entry.map_err(|e| io("list chunks directory", dir, e))?;
            if let Some(seq) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            {
                files.push((seq, entry.path()));
            }
        }
        files.sort();
        let mut segments = Vec::with_capacity(files.len());
        for (_, path) in files {
            let file = File::open(&path).map_err(|e| io("open chunk segment", &path, e))?;
            let len = file
                .metadata()
                .map_err(|e| io("stat chunk segment", &path, e))?
                .len();
            if len < SEGMENT_HEADER_SIZE as u64 {
                return Err(ChunkFileError::SegmentTooShort { path, len });
            }
            // SAFETY: the map is read-only and block files are immutable once
            // written; another process truncating one would fault, as it
            // would for Prometheus, which maps the same way.
            let data =
                unsafe { Mmap::map(&file) }.map_err(|e| io("mmap chunk segment", &path, e))?;
            let magic = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            if magic != MAGIC_CHUNKS {
                return Err(ChunkFileError::BadMagic { path, magic });
            }
            if data[4] != CHUNKS_FORMAT_V1 {
                let version = data[4];
                return Err(ChunkFileError::BadVersion { path, version });
            }
            segments.push(Segment { path, data });
        }
        Ok(Self { segments })
    }

    /// Number of segment files.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Total bytes of all segment files.
    pub fn size(&self) -> u64 {
        self.segments.iter().map(|s| s.data.len() as u64).sum()
    }

    /// The chunk a reference points to.
    pub fn chunk(&self, r: u64) -> Result<RawChunk<'_>, ChunkFileError> {
        let (segment, offset) = split_chunk_ref(r);
        let seg = self
            .segments
            .get(segment as usize)
            .ok_or(ChunkFileError::NoSuchSegment {
                chunk_ref: r,
                segment,
                segments: self.segments.len(),
            })?;
        seg.chunk_at(offset as usize).map(|(c, _)| c)
    }

    /// Walks the chunks of segment `segment` (0-based) from the first,
    /// yielding each chunk's reference; stops after the first error.
    /// For tools that check or dump a whole block.
    pub fn segment_chunks(&self, segment: usize) -> SegmentChunks<'_> {
        SegmentChunks {
            segment: self.segments.get(segment),
            index: segment as u32,
            offset: SEGMENT_HEADER_SIZE,
        }
    }
}

impl Segment {
    /// Decodes the chunk at `offset`; also returns where the next starts.
    fn chunk_at(&self, offset: usize) -> Result<(RawChunk<'_>, usize), ChunkFileError> {
        let data: &[u8] = &self.data;
        let truncated = |what: String| ChunkFileError::Truncated {
            path: self.path.clone(),
            offset: offset as u64,
            what,
        };
        if offset < SEGMENT_HEADER_SIZE || offset >= data.len() {
            return Err(truncated(format!(
                "offset is outside the chunk area {SEGMENT_HEADER_SIZE}..{}",
                data.len()
            )));
        }
        let (len, len_size) = read_uvarint_slice(&data[offset..])
            .ok_or_else(|| truncated("the length field is not a valid varint".into()))?;
        let enc_at = offset + len_size;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| l.checked_add(enc_at + 1 + CRC_SIZE))
            .filter(|&end| end <= data.len())
            .ok_or_else(|| {
                truncated(format!(
                    "{len} bytes of chunk data run past the end of the {}-byte file",
                    data.len()
                ))
            })?;
        let crc_at = end - CRC_SIZE;
        let stored = u32::from_be_bytes([
            data[crc_at],
            data[crc_at + 1],
            data[crc_at + 2],
            data[crc_at + 3],
        ]);
        let computed = crc32c::crc32c(&data[enc_at..crc_at]);
        if stored != computed {
            return Err(ChunkFileError::Checksum {
                path: self.path.clone(),
                offset: offset as u64,
                stored,
                computed,
            });
        }
        let byte = data[enc_at];
        let encoding = Encoding::try_from(byte).map_err(|_| ChunkFileError::UnknownEncoding {
            path: self.path.clone(),
            offset: offset as u64,
            byte,
        })?;
        let chunk = RawChunk {
            encoding,
            data: &data[enc_at + 1..crc_at],
        };
        Ok((chunk, end))
    }
}

/// Iterator over the chunks of one segment, from [`ChunkReader::segment_chunks`].
#[derive(Debug)]
pub struct SegmentChunks<'a> {
    segment: Option<&'a Segment>,
    index: u32,
    offset: usize,
}

impl<'a> Iterator for SegmentChunks<'a> {
    type Item = Result<(u64, RawChunk<'a>), ChunkFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        let seg = self.segment?;
        if self.offset >= seg.data.len() {
            return None;
        }
        let offset = self.offset;
        match seg.chunk_at(offset) {
            Ok((chunk, next)) => {
                self.offset = next;
                match u32::try_from(offset) {
                    Ok(o) => Some(Ok((chunk_ref(self.index, o), chunk))),
                    // A chunk past 4 GiB has no ref; no writer puts one there.
                    Err(_) => {
                        self.segment = None;
                        Some(Err(ChunkFileError::OffsetOverflow {
                            path: seg.path.clone(),
                            offset: offset as u64,
                        }))
                    }
                }
            }
            Err(e) => {
                self.segment = None;
                Some(Err(e))
            }
        }
    }
}
