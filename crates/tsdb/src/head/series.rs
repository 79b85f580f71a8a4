//! One in-memory series ([`MemSeries`]) and the sharded map that finds
//! series by ref and by label hash ([`StripeSeries`], Prometheus's
//! `stripeSeries`).
//!
//! # Memory
//!
//! The head holds one `MemSeries` per active series for hours, so its size
//! is the head's main fixed cost. On 64-bit targets (pinned by a test):
//!
//! | struct | bytes | what |
//! |---|---|---|
//! | `XorChunk` | 48 | open chunk: boxed buffer + inline appender state |
//! | `SeriesChunks` | 88 | open chunk, its window end and newest time, closed chunks (boxed slice), first chunk id, pending flag |
//! | `MemSeries` | 120 | ref, labels (one `Arc<[u8]>`), lock + `SeriesChunks` |
//! | `ClosedChunk` | 32 | min/max time + `Arc<[u8]>` with exactly the chunk's bytes |
//!
//! Beyond these: the `Arc` header (16 bytes), the label bytes (+16 for the
//! `Arc` counts), the open chunk's buffer (128 bytes at first, growing by
//! half), one slot in each of the two maps, and 8 bytes per label pair in
//! the postings. Closed chunks cost 32 bytes of slot plus their bytes plus a
//! 16-byte `Arc` header; they are shared with readers without copying.
//!
//! # Locking
//!
//! Lock order is hash stripe → ref stripe → series. Appends take only the
//! series lock; creation takes a hash stripe and then a ref stripe; garbage
//! collection takes the same two in the same order, then the series.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use model::Labels;
use parking_lot::{Mutex, RwLock};

use crate::chunkenc::XorChunk;

/// A fast hasher for the head's maps: `u64` keys (refs, which are
/// sequential, and label hashes) and short strings (label names and values).
/// Words are folded in as rustc's FxHasher does, then MurmurHash3's 64-bit
/// finaliser mixes every bit into the low ones hashbrown picks buckets with
/// (within one stripe all keys share their low bits). The start value is
/// random per process, so label values chosen by a scrape target cannot be
/// made to collide on purpose as easily as with a fixed function.
#[derive(Clone, Copy)]
pub(crate) struct FastHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

fn process_seed() -> u64 {
    use std::hash::BuildHasher;
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64))
}

impl Default for FastHasher {
    fn default() -> FastHasher {
        FastHasher(process_seed())
    }
}

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(FX_K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
    #[inline]
    fn write_u64(&mut self, k: u64) {
        self.add(k);
    }
    #[inline]
    fn write_usize(&mut self, k: usize) {
        self.add(k as u64);
    }
}

/// The build-hasher of the head's maps.
pub(crate) type FastBuild = BuildHasherDefault<FastHasher>;

/// A `HashMap` keyed by `u64` refs or hashes.
pub(crate) type U64Map<V> = HashMap<u64, V, FastBuild>;

/// A chunk that takes no more samples: exactly its bytes, shared with
/// readers by reference count.
#[derive(Clone)]
pub(crate) struct ClosedChunk {
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    pub(crate) data: Arc<[u8]>,
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

    /// Time of the open chunk's first sample.
    pub(crate) fn head_min_time(&self) -> Option<i64> {
        self.head.as_ref()?.first_time()
    }

    /// Number of chunks, open one included.
    pub(crate) fn num_chunks(&self) -> usize {
        self.closed.len() + usize::from(self.head.is_some())
    }

    /// Appends one sample, cutting a new chunk when the open one holds
    /// `per_chunk` samples or `t` leaves the `range`-aligned window the open
    /// chunk started in (so no chunk straddles a block boundary).
    pub(crate) fn append(&mut self, t: i64, v: f64, range: i64, per_chunk: u16) -> Appended {
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
        if head.num_samples() >= per_chunk || t >= self.next_at {
            let min_time = head.first_time().unwrap_or(lt);
            let closed = ClosedChunk {
                min_time,
                max_time: lt,
                data: Arc::from(head.bytes()),
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
        let closed: usize = self.closed.iter().map(|c| c.data.len() + 16).sum();
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
    fn new(series_ref: u64, labels: Labels) -> MemSeries {
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

/// Series by label hash. Label sets whose hashes collide live in `conflicts`,
/// which is almost always empty.
#[derive(Default)]
struct HashStripe {
    unique: U64Map<Arc<MemSeries>>,
    conflicts: U64Map<Vec<Arc<MemSeries>>>,
}

impl HashStripe {
    fn get(&self, hash: u64, labels: &Labels) -> Option<&Arc<MemSeries>> {
        match self.unique.get(&hash) {
            Some(s) if s.labels == *labels => Some(s),
            Some(_) => self
                .conflicts
                .get(&hash)?
                .iter()
                .find(|s| s.labels == *labels),
            None => None,
        }
    }

    fn insert(&mut self, hash: u64, s: Arc<MemSeries>) {
        match self.unique.entry(hash) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.conflicts.entry(hash).or_default().push(s);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(s);
            }
        }
    }

    fn remove(&mut self, hash: u64, series_ref: u64) {
        if matches!(self.unique.get(&hash), Some(s) if s.series_ref == series_ref) {
            self.unique.remove(&hash);
            // Promote a colliding series, if any, to the unique slot.
            if let Some(list) = self.conflicts.get_mut(&hash) {
                if let Some(s) = list.pop() {
                    self.unique.insert(hash, s);
                }
                if list.is_empty() {
                    self.conflicts.remove(&hash);
                }
            }
        } else if let Some(list) = self.conflicts.get_mut(&hash) {
            list.retain(|s| s.series_ref != series_ref);
            if list.is_empty() {
                self.conflicts.remove(&hash);
            }
        }
    }
}

/// Refs per page of the ref table.
const PAGE_BITS: u32 = 6;
const PAGE_LEN: usize = 1 << PAGE_BITS;

/// A run of [`PAGE_LEN`] consecutive refs' slots. Refs come from a counter,
/// so they are dense and a scraper appends its series in creation (= ref)
/// order: indexing pages by ref keeps lookups on a few hot cache lines
/// instead of one random hash bucket per sample, and costs 8 bytes per ref.
struct RefPage {
    slots: [Option<Arc<MemSeries>>; PAGE_LEN],
    used: u8,
}

impl Default for RefPage {
    fn default() -> RefPage {
        RefPage {
            slots: std::array::from_fn(|_| None),
            used: 0,
        }
    }
}

/// One stripe of the ref table: pages by `ref >> PAGE_BITS`.
type RefStripe = U64Map<Box<RefPage>>;

/// All series of the head, sharded into stripes (a power of two) by ref and
/// by label hash so that appenders on different series rarely share a lock.
pub(crate) struct StripeSeries {
    /// Pages of refs; page `p` lives in stripe `p & mask`.
    by_ref: Box<[RwLock<RefStripe>]>,
    by_hash: Box<[RwLock<HashStripe>]>,
    mask: u64,
    next_ref: AtomicU64,
    count: AtomicU64,
}

impl StripeSeries {
    /// A map with `stripes` stripes, rounded up to a power of two.
    pub(crate) fn new(stripes: usize) -> StripeSeries {
        let n = stripes.max(1).next_power_of_two();
        StripeSeries {
            by_ref: (0..n).map(|_| RwLock::default()).collect(),
            by_hash: (0..n).map(|_| RwLock::default()).collect(),
            mask: n as u64 - 1,
            next_ref: AtomicU64::new(1),
            count: AtomicU64::new(0),
        }
    }

    /// Number of series.
    pub(crate) fn len(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The highest ref issued so far (0 if none).
    #[cfg(test)]
    pub(crate) fn last_ref(&self) -> u64 {
        self.next_ref.load(Ordering::Relaxed) - 1
    }

    /// The series with ref `r`.
    pub(crate) fn get_by_ref(&self, r: u64) -> Option<Arc<MemSeries>> {
        let page = r >> PAGE_BITS;
        self.by_ref[(page & self.mask) as usize]
            .read()
            .get(&page)?
            .slots[(r as usize) & (PAGE_LEN - 1)]
            .clone()
    }

    /// Calls `f` on the series with ref `r` under the stripe's read lock,
    /// saving the reference count traffic of [`get_by_ref`](Self::get_by_ref).
    pub(crate) fn with_ref<T>(&self, r: u64, f: impl FnOnce(&MemSeries) -> T) -> Option<T> {
        let page = r >> PAGE_BITS;
        let stripe = self.by_ref[(page & self.mask) as usize].read();
        let s = stripe.get(&page)?.slots[(r as usize) & (PAGE_LEN - 1)].as_deref()?;
        Some(f(s))
    }

    fn insert_ref(&self, r: u64, s: Arc<MemSeries>) {
        let page = r >> PAGE_BITS;
        let mut stripe = self.by_ref[(page & self.mask) as usize].write();
        let p = stripe.entry(page).or_default();
        let slot = &mut p.slots[(r as usize) & (PAGE_LEN - 1)];
        if slot.is_none() {
            p.used += 1;
        }
        *slot = Some(s);
    }

    /// Removes ref `r` from `stripe` (which must be its stripe), freeing
    /// its page once empty.
    fn remove_ref(stripe: &mut RefStripe, r: u64) {
        let page = r >> PAGE_BITS;
        let Some(p) = stripe.get_mut(&page) else {
            return;
        };
        if p.slots[(r as usize) & (PAGE_LEN - 1)].take().is_some() {
            p.used -= 1;
        }
        if p.used == 0 {
            stripe.remove(&page);
        }
    }

    /// The series with `labels` (whose hash is `hash`).
    pub(crate) fn get_by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        self.by_hash[(hash & self.mask) as usize]
            .read()
            .get(hash, labels)
            .cloned()
    }

    /// The series with `labels`, created if absent with a fresh ref — or
    /// with `want_ref` when replaying a WAL, which fixes the ref. Returns
    /// whether it was created.
    pub(crate) fn get_or_create(
        &self,
        hash: u64,
        labels: &Labels,
        want_ref: Option<u64>,
    ) -> (Arc<MemSeries>, bool) {
        // Appenders usually find the series under the read lock; a replay
        // (which fixes the ref) almost always creates, so it goes straight
        // to the write lock and looks once.
        if want_ref.is_none() {
            if let Some(s) = self.get_by_labels(hash, labels) {
                return (s, false);
            }
        }
        let mut stripe = self.by_hash[(hash & self.mask) as usize].write();
        if let Some(s) = stripe.get(hash, labels) {
            return (s.clone(), false);
        }
        let r = match want_ref {
            Some(r) => {
                self.next_ref
                    .fetch_max(r.saturating_add(1), Ordering::Relaxed);
                r
            }
            None => self.next_ref.fetch_add(1, Ordering::Relaxed),
        };
        let s = Arc::new(MemSeries::new(r, labels.clone()));
        // Visible by ref before by hash, so a ref learned from the hash map
        // always resolves.
        self.insert_ref(r, s.clone());
        stripe.insert(hash, s.clone());
        self.count.fetch_add(1, Ordering::Relaxed);
        (s, true)
    }

    /// Calls `f` on every series, one ref stripe at a time (the stripe's
    /// read lock is held during the calls, so `f` must not create series).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Arc<MemSeries>)) {
        for stripe in self.by_ref.iter() {
            for page in stripe.read().values() {
                page.slots.iter().flatten().for_each(&mut f);
            }
        }
    }

    /// Truncates every series' chunks before `mint` and removes the series
    /// left without chunks (unless an appender holds samples for them).
    /// Returns the removed series, sorted by ref, and the number of chunks
    /// dropped.
    pub(crate) fn gc(&self, mint: i64) -> (Vec<(u64, Labels)>, usize) {
        let mut chunks_removed = 0;
        let mut candidates = Vec::new();
        self.for_each(|s| {
            let mut c = s.chunks.lock();
            chunks_removed += c.truncate_before(mint);
            if c.head.is_none() && c.closed.is_empty() && !c.pending {
                candidates.push(s.clone());
            }
        });
        let mut removed = Vec::with_capacity(candidates.len());
        for s in candidates {
            let hash = s.labels.hash64();
            let mut hs = self.by_hash[(hash & self.mask) as usize].write();
            let page = s.series_ref >> PAGE_BITS;
            let mut rs = self.by_ref[(page & self.mask) as usize].write();
            // An appender may have revived it since the scan.
            let mut c = s.chunks.lock();
            if c.head.is_some() || !c.closed.is_empty() || c.pending {
                continue;
            }
            c.removed = true;
            drop(c);
            hs.remove(hash, s.series_ref);
            Self::remove_ref(&mut rs, s.series_ref);
            self.count.fetch_sub(1, Ordering::Relaxed);
            removed.push((s.series_ref, s.labels.clone()));
        }
        removed.sort_unstable_by_key(|r| r.0);
        (removed, chunks_removed)
    }

    /// Heap bytes of the two maps' tables (not of the series themselves).
    pub(crate) fn map_heap_bytes(&self) -> usize {
        let slot = std::mem::size_of::<(u64, Arc<MemSeries>)>() + 1;
        let page_slot = std::mem::size_of::<(u64, Box<RefPage>)>() + 1;
        let refs: usize = self
            .by_ref
            .iter()
            .map(|s| {
                let s = s.read();
                s.capacity() * page_slot + s.len() * std::mem::size_of::<RefPage>()
            })
            .sum();
        let hashes: usize = self
            .by_hash
            .iter()
            .map(|s| {
                let s = s.read();
                s.unique.capacity() * slot + s.conflicts.capacity() * 48
            })
            .sum();
        refs + hashes
            + self.by_ref.len()
                * (std::mem::size_of::<RwLock<RefStripe>>()
                    + std::mem::size_of::<RwLock<HashStripe>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_are_pinned() {
        // Documented in the module doc; a change here is a memory change.
        assert_eq!(std::mem::size_of::<XorChunk>(), 48);
        assert_eq!(std::mem::size_of::<ClosedChunk>(), 32);
        assert_eq!(std::mem::size_of::<SeriesChunks>(), 88);
        assert_eq!(std::mem::size_of::<MemSeries>(), 120);
    }

    fn chunks() -> SeriesChunks {
        MemSeries::new(1, Labels::empty()).chunks.into_inner()
    }

    #[test]
    fn append_checks_order_and_duplicates() {
        let mut c = chunks();
        assert_eq!(c.append(10, 1.0, 1000, 120), Appended::NewChunk);
        assert_eq!(c.append(20, 2.0, 1000, 120), Appended::Sample);
        assert_eq!(c.append(20, 2.0, 1000, 120), Appended::Duplicate);
        assert_eq!(c.append(20, 3.0, 1000, 120), Appended::Rejected);
        assert_eq!(c.append(15, 3.0, 1000, 120), Appended::Rejected);
        assert_eq!(c.newest(), Some((20, 2.0)));
    }

    #[test]
    fn cuts_at_sample_count_and_window_boundary() {
        let mut c = chunks();
        for t in 0..5 {
            c.append(t, 0.0, 1000, 2);
        }
        // [0,1] [2,3] [4]
        assert_eq!(c.num_chunks(), 3);
        c.append(999, 0.0, 1000, 120);
        c.append(1000, 0.0, 1000, 120);
        let times: Vec<(i64, i64)> = c.closed.iter().map(|c| (c.min_time, c.max_time)).collect();
        assert_eq!(times, [(0, 1), (2, 3), (4, 999)]);
        assert_eq!(c.head_min_time(), Some(1000));
        assert_eq!(c.next_at, 2000);
        assert_eq!(window_end(-1, 1000), 0);
        assert_eq!(window_end(0, 1000), 1000);
    }

    #[test]
    fn truncate_drops_whole_chunks_only() {
        let mut c = chunks();
        for t in 0..10 {
            c.append(t * 10, 0.0, 1_000_000, 3);
        }
        assert_eq!(c.num_chunks(), 4);
        assert_eq!(
            c.truncate_before(35),
            1,
            "only [0,20] lies wholly before 35"
        );
        assert_eq!(c.first_chunk_id, 1);
        assert_eq!(c.truncate_before(1000), 3);
        assert!(c.head.is_none() && c.closed.is_empty());
    }

    #[test]
    fn colliding_hashes_are_told_apart() {
        let m = StripeSeries::new(4);
        let a = Labels::from_pairs(&[("a", "1")]);
        let b = Labels::from_pairs(&[("a", "2")]);
        let (sa, created) = m.get_or_create(7, &a, None);
        assert!(created);
        let (sb, _) = m.get_or_create(7, &b, Some(40));
        assert_eq!((sa.series_ref, sb.series_ref), (1, 40));
        assert_eq!(m.last_ref(), 40);
        assert!(!m.get_or_create(7, &b, None).1);
        assert_eq!(m.get_by_labels(7, &b).unwrap().series_ref, 40);
        assert_eq!(m.get_by_labels(7, &a).unwrap().series_ref, 1);
        let mut hs = m.by_hash[3].write();
        hs.remove(7, 1);
        assert_eq!(hs.get(7, &b).unwrap().series_ref, 40);
        assert!(hs.get(7, &a).is_none());
    }

    #[test]
    fn gc_removes_empty_series_only() {
        let m = StripeSeries::new(4);
        let a = Labels::from_pairs(&[("a", "1")]);
        let b = Labels::from_pairs(&[("a", "2")]);
        let c = Labels::from_pairs(&[("a", "3")]);
        m.get_or_create(a.hash64(), &a, None);
        let (sb, _) = m.get_or_create(b.hash64(), &b, None);
        let (sc, _) = m.get_or_create(c.hash64(), &c, None);
        sb.chunks.lock().append(5, 1.0, 100, 120);
        sc.chunks.lock().pending = true;
        let (removed, _) = m.gc(0);
        assert_eq!(removed, vec![(1, a.clone())]);
        assert!(m.get_by_ref(1).is_none());
        assert!(m.get_by_labels(a.hash64(), &a).is_none());
        assert_eq!(m.get_by_labels(b.hash64(), &b).unwrap().series_ref, 2);
        assert_eq!(m.len(), 2);
        let (removed, chunks) = m.gc(6);
        assert_eq!((removed.len(), chunks), (1, 1), "pending series stays");
    }
}
