//! Closed head chunks moved out of the heap into memory-mapped files, as
//! Prometheus does with its `chunks_head/` directory, so that the head's
//! memory stays about one open chunk per series however much history it
//! holds; the kernel keeps the chunks in the page cache and evicts them
//! under pressure.
//!
//! Unlike Prometheus's files these are a spill area, not a source of truth:
//! everything in them is also in the WAL, and [`ChunkFiles::open`] deletes
//! what a previous run left. So the format is nothing but chunk bytes laid
//! end to end: file `NNNNNNNN` (eight decimal digits) is created at its full
//! size (sparse), chunks are written with `pwrite` at increasing offsets and
//! located by (file, offset, length) kept in memory; the unwritten tail reads
//! as zeros. A file is deleted once truncation has dropped every chunk in it
//! (the mapping itself lives until the last reader lets go of it).

use std::fmt;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use parking_lot::Mutex;

/// Default size of one file.
pub(crate) const DEFAULT_FILE_SIZE: u64 = 64 << 20;

/// Bytes of a chunk: on the heap (a chunk that could not be spilled, or a
/// head without a spill directory) or in a mapped file. Cloning shares them.
#[derive(Clone)]
pub struct ChunkBytes(Repr);

#[derive(Clone)]
enum Repr {
    Heap(Arc<[u8]>),
    Mapped { map: Arc<Mmap>, off: u32, len: u32 },
}

impl ChunkBytes {
    /// Bytes on the heap.
    pub(crate) fn heap(b: &[u8]) -> ChunkBytes {
        ChunkBytes(Repr::Heap(Arc::from(b)))
    }

    /// Heap bytes this handle keeps alive (zero for mapped bytes, which the
    /// page cache holds).
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Heap(b) => b.len() + 16,
            Repr::Mapped { .. } => 0,
        }
    }
}

impl std::ops::Deref for ChunkBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Heap(b) => b,
            Repr::Mapped { map, off, len } => {
                let (off, len) = (*off as usize, *len as usize);
                map.get(off..off + len)
                    .expect("BUG: mapped chunk outside its file")
            }
        }
    }
}

impl PartialEq for ChunkBytes {
    fn eq(&self, o: &ChunkBytes) -> bool {
        **self == **o
    }
}

impl Eq for ChunkBytes {}

impl fmt::Debug for ChunkBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkBytes({} bytes)", self.len())
    }
}

struct SpillFile {
    path: PathBuf,
    file: File,
    map: Arc<Mmap>,
    written: u64,
    /// Newest sample time of any chunk in the file.
    max_time: i64,
}

struct Writer {
    files: Vec<SpillFile>,
    next_index: u32,
}

/// The spill directory of a head.
pub(crate) struct ChunkFiles {
    dir: PathBuf,
    file_size: u64,
    w: Mutex<Writer>,
}

impl ChunkFiles {
    /// Opens `dir` (created if needed) and deletes what an earlier run left.
    pub(crate) fn open(dir: &Path, file_size: u64) -> std::io::Result<ChunkFiles> {
        std::fs::create_dir_all(dir)?;
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
                std::fs::remove_file(e.path())?;
            }
        }
        Ok(ChunkFiles {
            dir: dir.to_owned(),
            file_size: file_size.clamp(1 << 16, u64::from(u32::MAX)),
            w: Mutex::new(Writer {
                files: Vec::new(),
                next_index: 0,
            }),
        })
    }

    /// Stores `bytes` (of a chunk whose newest sample is at `max_time`) in a
    /// file and returns a handle to them. Falls back to the heap when the
    /// chunk cannot be written (too large, or an I/O error such as a full
    /// disk): spilling saves memory, it is never a reason to lose data.
    pub(crate) fn store(&self, bytes: &[u8], max_time: i64) -> ChunkBytes {
        self.try_store(bytes, max_time)
            .unwrap_or_else(|_| ChunkBytes::heap(bytes))
    }

    fn try_store(&self, bytes: &[u8], max_time: i64) -> std::io::Result<ChunkBytes> {
        let len = bytes.len() as u64;
        if len > self.file_size {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        let mut w = self.w.lock();
        let fits = w
            .files
            .last()
            .is_some_and(|f| f.written + len <= self.file_size);
        if !fits {
            let f = self.create(w.next_index)?;
            w.next_index += 1;
            w.files.push(f);
        }
        let f = w
            .files
            .last_mut()
            .expect("BUG: no spill file after creating one");
        f.file.write_all_at(bytes, f.written)?;
        let off = f.written as u32;
        f.written += len;
        f.max_time = f.max_time.max(max_time);
        Ok(ChunkBytes(Repr::Mapped {
            map: f.map.clone(),
            off,
            len: len as u32,
        }))
    }

    fn create(&self, index: u32) -> std::io::Result<SpillFile> {
        let path = self.dir.join(format!("{index:08}"));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.set_len(self.file_size)?;
        // SAFETY: the mapping is only read through `ChunkBytes`, which
        // covers regions written in full (by `pwrite`, coherent with the
        // mapping on Linux) before the handle exists and never written
        // again; the file is private to this head, which deleted earlier
        // runs' files on open, and is removed only by `truncate`, after
        // which existing mappings stay valid.
        let map = unsafe { Mmap::map(&file)? };
        Ok(SpillFile {
            path,
            file,
            map: Arc::new(map),
            written: 0,
            max_time: i64::MIN,
        })
    }

    /// Deletes the files whose chunks all end before `mint` (never the one
    /// being written).
    pub(crate) fn truncate(&self, mint: i64) {
        let mut w = self.w.lock();
        let Some(last) = w.files.len().checked_sub(1) else {
            return;
        };
        let mut i = 0;
        w.files.retain(|f| {
            let keep = i == last || f.max_time >= mint;
            i += 1;
            if !keep {
                // A file that cannot be removed only wastes disk until the
                // next open clears the directory.
                let _ = std::fs::remove_file(&f.path);
            }
            keep
        });
    }

    /// Files on disk (for stats and tests).
    pub(crate) fn num_files(&self) -> usize {
        self.w.lock().files.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_reads_rolls_over_and_truncates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("00000007"), b"left over").unwrap();
        let files = ChunkFiles::open(dir.path(), 1 << 16).unwrap();
        assert!(
            !dir.path().join("00000007").exists(),
            "earlier runs are cleared"
        );
        let chunk = |i: u8| vec![i; 20_000];
        let stored: Vec<ChunkBytes> = (0..7)
            .map(|i| files.store(&chunk(i), i64::from(i)))
            .collect();
        for (i, s) in stored.iter().enumerate() {
            assert_eq!(**s, chunk(i as u8)[..]);
            assert_eq!(s.heap_bytes(), 0);
        }
        // 3 chunks of 20 000 bytes per 64 KiB file.
        assert_eq!(files.num_files(), 3);
        files.truncate(3);
        assert_eq!(files.num_files(), 2);
        assert!(!dir.path().join("00000000").exists());
        // Readers holding a chunk of a deleted file still read it.
        assert_eq!(*stored[0], chunk(0)[..]);
        // Too large for a file: kept on the heap.
        let big = vec![9u8; 70_000];
        let b = files.store(&big, 10);
        assert_eq!(*b, big[..]);
        assert!(b.heap_bytes() > 70_000);
    }
}
