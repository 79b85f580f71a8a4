//! One in-memory series ([`MemSeries`]): its labels, open XOR chunk and
//! closed chunks, and the rules for cutting chunks. The map that finds series
//! is in [`stripe`](super::stripe).
//!
//! # Memory
//!
//! The head holds one `MemSeries` per active series for hours, so its size
//! is the head's main fixed cost. On 64-bit targets (pinned by a test):
//!
//! | struct | bytes | what |
//! |---|---|---|
//! | `XorChunk` | 48 | open chunk: boxed buffer + inline appender state |
//! | `SeriesChunks` | 88 | open chunk, its window end and newest time, closed chunks (boxed slice), first chunk id, pending and removed flags |
//! | `MemSeries` | 120 | ref, labels (one `Arc<[u8]>`), lock + `SeriesChunks` |
//! | `ClosedChunk` | 40 | min/max time + `ChunkBytes`: an `Arc<[u8]>` with exactly the chunk's bytes, or a place in a spill file |
//!
//! Beyond these: the `Arc` header (16 bytes), the label bytes (+16 for the
//! `Arc` counts), the open chunk's buffer (128 bytes at first, growing by
//! half), a slot in the ref table (8 bytes: refs are dense, so the table is
//! pages of 64 slots rather than a hash map), a slot in the hash map (about
//! 17 bytes at 7/8 load), and 8 bytes per label pair in the postings.
//! Closed chunks cost a 40-byte slot; their bytes either stay on the heap
//! (plus a 16-byte `Arc` header) or, when the head has a spill directory
//! ([`chunk_files`](super::chunk_files)), move to memory-mapped files outside
//! the heap. Either way they are shared with readers without copying.
//!
//! Measured with a counting allocator (`benches/head.rs`) after replaying a
//! WAL, against Prometheus 2.42 replaying the same WAL (its
//! `go_memstats_heap_alloc_bytes` and `process_resident_memory_bytes`):
//!
//! | head | pharos heap / RSS | Prometheus heap / RSS |
//! |---|---|---|
//! | 1M series × 10 samples (one open chunk each) | 456 B/series / 518 MB (whole bench process) | 1052 B/series / 1305 MB |
//! | 100k series × 480 samples (2h at 15s, four chunks each), chunks on the heap | 1581–1605 B/series / 183–195 MB | 1730–2000 B/series / 292–353 MB |
//! | the same with `HeadOptions::chunk_dir` (closed chunks in mapped files) | 778 B/series / 107 MB | (Prometheus maps its closed chunks too) |
//!
//! Keeping closed chunks on the heap narrows the gap as history grows;
//! moving them to mapped files, as Prometheus does with `chunks_head/`,
//! keeps the heap at about one open chunk per series.

use model::Labels;
use parking_lot::Mutex;

use super::chunk_files::{ChunkBytes, ChunkFiles};
use super::prefetch::prefetch;
use crate::chunkenc::cut::compute_chunk_end_time;
use crate::chunkenc::XorChunk;

/// A chunk that takes no more samples: exactly its bytes (on the heap or in
/// a spill file), shared with readers by reference count.
#[derive(Clone)]
pub(crate) struct ClosedChunk {
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    pub(crate) data: ChunkBytes,
}

/// The mutable part of a series, under its lock.
pub(crate) struct SeriesChunks {
    /// The chunk being appended to; `None` until the first sample, so a
    /// series created by a rolled-back append costs no buffer.
    pub(crate) head: Option<XorChunk>,
    /// Where the head chunk's range window ends: a sample at or after it
    /// starts a new chunk (Prometheus's `nextAt`).
    pub(crate) next_at: i64,
    /// Time of the newest sample, valid when `head` is `Some`. Kept here,
    /// not only in the chunk, so the append-time order check does not touch
    /// the chunk's buffer (one cache miss per sample less).
    pub(crate) max_time: i64,
    /// Older chunks, oldest first. A boxed slice rather than a `Vec` saves a
    /// word per series; it is rebuilt once per cut chunk (every ~30 min).
    pub(crate) closed: Box<[ClosedChunk]>,
    /// Id of `closed[0]` (or of the head chunk when there is no closed one);
    /// ids grow by one per chunk and survive truncation, so chunk refs
    /// handed to a reader stay valid while the chunk lives.
    pub(crate) first_chunk_id: u32,
    /// Set while an appender holds uncommitted samples for the series, so
    /// garbage collection leaves a new, still empty series alone.
    pub(crate) pending: bool,
    /// Set (under this lock) when garbage collection takes the series out
    /// of the maps. An appender that found the series just before checks it
    /// after locking and looks again, so no sample lands in a dead series.
    pub(crate) removed: bool,
}

/// One series in the head.
pub(crate) struct MemSeries {
    pub(crate) series_ref: u64,
    pub(crate) labels: Labels,
    pub(crate) chunks: Mutex<SeriesChunks>,
}

/// What [`SeriesChunks::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    /// Stored in the open chunk.
    Sample,
    /// Stored after closing the open chunk and starting a new one.
    NewChunk,
    /// Same timestamp and identical value bits as the newest sample.
    Duplicate,
    /// Refused: older than the newest sample, or same time, other value.
    Rejected,
}

impl SeriesChunks {
    /// The newest sample, if any.
    pub(crate) fn newest(&self) -> Option<(i64, f64)> {
        self.head.as_ref().and_then(XorChunk::last)
    }

    /// Time of the newest sample, if any, without reading chunk bytes.
    pub(crate) fn newest_time(&self) -> Option<i64> {
        self.head.as_ref().map(|_| self.max_time)
    }

    /// Asks the CPU to fetch the open chunk's header and the line the next
    /// sample will be written to.
    pub(crate) fn prefetch_open_chunk(&self) {
        if let Some(h) = &self.head {
            let b = h.bytes();
            prefetch(b.as_ptr());
            prefetch(b.as_ptr().wrapping_add(b.len().saturating_sub(1)));
        }
    }

    /// Time of the open chunk's first sample.
    pub(crate) fn head_min_time(&self) -> Option<i64> {
        self.head.as_ref()?.first_time()
    }

    /// Number of chunks, open one included.
    pub(crate) fn num_chunks(&self) -> usize {
        self.closed.len() + usize::from(self.head.is_some())
    }

    /// Appends one sample, cutting a new chunk by Prometheus's rule: about
    /// `per_chunk` samples a chunk, evenly spread over the `range`-aligned
    /// window the chunk started in, never past that window (so no chunk
    /// straddles a block boundary) and never more than twice `per_chunk`.
    pub(crate) fn append(
        &mut self,
        t: i64,
        v: f64,
        range: i64,
        per_chunk: u16,
        files: Option<&ChunkFiles>,
    ) -> Appended {
        let Some(head) = self.head.as_mut() else {
            self.start_chunk(t, v, range);
            return Appended::NewChunk;
        };
        let lt = self.max_time;
        if t < lt {
            return Appended::Rejected;
        }
        if t == lt {
            let same = head
                .last()
                .is_some_and(|(_, lv)| lv.to_bits() == v.to_bits());
            return if same {
                Appended::Duplicate
            } else {
                Appended::Rejected
            };
        }
        // Prometheus's rule (see `chunkenc::cut`): at a quarter of the
        // target, predict the chunk's end so the rest of the window splits
        // evenly; cut there, at the window's end, or at twice the target.
        let n = head.num_samples();
        if n == per_chunk / 4 && per_chunk >= 4 {
            let start = head.first_time().unwrap_or(lt);
            self.next_at = compute_chunk_end_time(start, lt, self.next_at);
        }
        if n >= per_chunk.saturating_mul(2) || t >= self.next_at {
            let min_time = head.first_time().unwrap_or(lt);
            let closed = ClosedChunk {
                min_time,
                max_time: lt,
                data: match files {
                    Some(f) => f.store(head.bytes(), lt),
                    None => ChunkBytes::heap(head.bytes()),
                },
            };
            let mut all = std::mem::take(&mut self.closed).into_vec();
            all.push(closed);
            self.closed = all.into_boxed_slice();
            self.start_chunk(t, v, range);
            return Appended::NewChunk;
        }
        head.append(t, v);
        self.max_time = t;
        Appended::Sample
    }

    fn start_chunk(&mut self, t: i64, v: f64, range: i64) {
        let mut c = XorChunk::new();
        c.append(t, v);
        self.head = Some(c);
        self.next_at = window_end(t, range);
        self.max_time = t;
    }

    /// Drops the chunks whose samples all lie before `mint`; returns how many.
    pub(crate) fn truncate_before(&mut self, mint: i64) -> usize {
        let keep_from = self.closed.partition_point(|c| c.max_time < mint);
        let mut removed = keep_from;
        if keep_from > 0 {
            self.closed = self.closed[keep_from..].into();
        }
        let head_gone = matches!(self.newest_time(), Some(t) if t < mint);
        if head_gone {
            self.head = None;
            removed += 1;
        }
        self.first_chunk_id = self.first_chunk_id.wrapping_add(removed as u32);
        removed
    }

    /// Heap bytes held by the chunks (the open chunk's whole buffer).
    pub(crate) fn heap_bytes(&self) -> usize {
        let open = self.head.as_ref().map_or(0, XorChunk::capacity);
        let closed: usize = self.closed.iter().map(|c| c.data.heap_bytes()).sum();
        open + closed + self.closed.len() * std::mem::size_of::<ClosedChunk>()
    }
}

/// The first timestamp of the window after the one holding `t`, windows
/// being `range` long and aligned to multiples of `range`. Euclidean
/// division keeps negative timestamps aligned the same way.
pub(crate) fn window_end(t: i64, range: i64) -> i64 {
    t.div_euclid(range).saturating_add(1).saturating_mul(range)
}

impl MemSeries {
    pub(crate) fn new(series_ref: u64, labels: Labels) -> MemSeries {
        MemSeries {
            series_ref,
            labels,
            chunks: Mutex::new(SeriesChunks {
                head: None,
                next_at: i64::MIN,
                max_time: i64::MIN,
                closed: Box::new([]),
                first_chunk_id: 0,
                pending: false,
                removed: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_are_pinned() {
        // Documented in the module doc; a change here is a memory change.
        assert_eq!(std::mem::size_of::<XorChunk>(), 48);
        assert_eq!(std::mem::size_of::<ClosedChunk>(), 40);
        assert_eq!(std::mem::size_of::<SeriesChunks>(), 88);
        assert_eq!(std::mem::size_of::<MemSeries>(), 120);
    }

    fn chunks() -> SeriesChunks {
        MemSeries::new(1, Labels::empty()).chunks.into_inner()
    }

    #[test]
    fn append_checks_order_and_duplicates() {
        let mut c = chunks();
        assert_eq!(c.append(10, 1.0, 1000, 120, None), Appended::NewChunk);
        assert_eq!(c.append(20, 2.0, 1000, 120, None), Appended::Sample);
        assert_eq!(c.append(20, 2.0, 1000, 120, None), Appended::Duplicate);
        assert_eq!(c.append(20, 3.0, 1000, 120, None), Appended::Rejected);
        assert_eq!(c.append(15, 3.0, 1000, 120, None), Appended::Rejected);
        assert_eq!(c.newest(), Some((20, 2.0)));
    }

    #[test]
    fn cuts_at_twice_the_target_and_window_boundary() {
        let mut c = chunks();
        for t in 0..5 {
            c.append(t, 0.0, 1000, 2, None);
        }
        // A target too small to predict from: cut at twice it.
        assert_eq!(c.num_chunks(), 2);
        c.append(999, 0.0, 1000, 120, None);
        c.append(1000, 0.0, 1000, 120, None);
        let times: Vec<(i64, i64)> = c.closed.iter().map(|c| (c.min_time, c.max_time)).collect();
        assert_eq!(times, [(0, 3), (4, 999)]);
        assert_eq!(c.head_min_time(), Some(1000));
        assert_eq!(c.next_at, 2000);
        assert_eq!(window_end(-1, 1000), 0);
        assert_eq!(window_end(0, 1000), 1000);
    }

    #[test]
    fn truncate_drops_whole_chunks_only() {
        let mut c = chunks();
        for t in 0..20 {
            c.append(t * 10, 0.0, 1_000_000, 8, None);
        }
        // The prediction at 2 of 8 samples gives chunks of 5.
        assert_eq!(c.num_chunks(), 4);
        assert_eq!(
            c.truncate_before(45),
            1,
            "only [0,40] lies wholly before 45"
        );
        assert_eq!(c.first_chunk_id, 1);
        assert_eq!(c.truncate_before(1000), 3);
        assert!(c.head.is_none() && c.closed.is_empty());
    }
}
