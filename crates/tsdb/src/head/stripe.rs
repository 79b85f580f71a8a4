//! The sharded map of the head's series, by ref and by label hash
//! (Prometheus's `stripeSeries`), and the hasher its maps use.
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
use parking_lot::RwLock;

use super::prefetch::prefetch;
use super::series::MemSeries;

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

/// One stripe of the series-by-hash map: hashes seen once, and the
/// colliding ones, which is almost always empty.
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

    /// Asks the CPU to fetch series `r`'s reference counts and lock into
    /// the cache, so that a later [`get_by_ref`](Self::get_by_ref) of many
    /// series in a row overlaps their cache misses instead of serialising
    /// them (each `Arc` clone is a locked instruction that waits for its
    /// line).
    pub(crate) fn prefetch_ref(&self, r: u64) {
        let page = r >> PAGE_BITS;
        let stripe = self.by_ref[(page & self.mask) as usize].read();
        if let Some(Some(s)) = stripe
            .get(&page)
            .map(|p| &p.slots[(r as usize) & (PAGE_LEN - 1)])
        {
            // The counts sit just before the value in the `Arc`'s block.
            let p = Arc::as_ptr(s).cast::<u8>().wrapping_sub(16);
            prefetch(p);
            prefetch(p.wrapping_add(64));
        }
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
        sb.chunks.lock().append(5, 1.0, 100, 120, None);
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
