//! Postings: ascending lists of series refs, and the iterators that
//! intersect, merge and subtract them lazily, so a query touches only the
//! refs it needs (`seek` lets an intersection skip whole runs of a long list).

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

use super::SeriesRef;

/// An iterator over strictly ascending series refs.
///
/// Before the first `next` or `seek` there is no current ref; after either
/// returns `None` the iterator is exhausted and stays so.
pub trait Postings {
    /// Moves to the next ref and returns it.
    fn next(&mut self) -> Option<SeriesRef>;

    /// Moves to the first ref `>= target` and returns it. Never moves
    /// backwards: if the current ref is already `>= target` it stays.
    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef>;

    /// Whether this is known to yield nothing without iterating; lets
    /// combinators and matcher evaluation short-cut (Prometheus's
    /// `IsEmptyPostingsType`).
    fn is_known_empty(&self) -> bool {
        false
    }
}

/// A boxed [`Postings`] borrowing from an index reader or head; `Send` so
/// that a query can be evaluated off the thread that planned it.
pub type BoxPostings<'a> = Box<dyn Postings + Send + 'a>;

impl<P: Postings + ?Sized> Postings for Box<P> {
    fn next(&mut self) -> Option<SeriesRef> {
        (**self).next()
    }
    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef> {
        (**self).seek(target)
    }
    fn is_known_empty(&self) -> bool {
        (**self).is_known_empty()
    }
}

/// Drains `p` into a vector.
pub fn expand(mut p: impl Postings) -> Vec<SeriesRef> {
    let mut out = Vec::new();
    while let Some(r) = p.next() {
        out.push(r);
    }
    out
}

/// Postings that yield nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptyPostings;

impl Postings for EmptyPostings {
    fn next(&mut self) -> Option<SeriesRef> {
        None
    }
    fn seek(&mut self, _: SeriesRef) -> Option<SeriesRef> {
        None
    }
    fn is_known_empty(&self) -> bool {
        true
    }
}

/// Postings over an in-memory sorted list.
#[derive(Clone, Debug)]
pub struct ListPostings {
    list: Vec<SeriesRef>,
    /// Index of the current element + 1; 0 before the first `next`.
    pos: usize,
}

impl ListPostings {
    /// Iterates `list`, which must be strictly ascending.
    pub fn new(list: Vec<SeriesRef>) -> Self {
        ListPostings { list, pos: 0 }
    }
}

impl Postings for ListPostings {
    fn next(&mut self) -> Option<SeriesRef> {
        let r = self.list.get(self.pos).copied();
        self.pos = (self.pos + 1).min(self.list.len() + 1);
        r
    }

    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef> {
        if self.pos > 0 {
            match self.list.get(self.pos - 1) {
                Some(&cur) if cur >= target => return Some(cur),
                None => return None,
                _ => {}
            }
        }
        let list = &self.list;
        let i = gallop(self.pos.saturating_sub(1), list.len(), target, |i| list[i]);
        self.pos = i + 1;
        self.list.get(i).copied()
    }

    fn is_known_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The first index in `from..len` whose ref is `>= target` (or `len`), for
/// ascending refs: steps of doubling size from `from`, then a binary search
/// of the last step, so seeking a nearby ref (the common case when
/// intersecting) costs a few comparisons rather than a search of the whole
/// rest. On unsorted (corrupt) input it still returns an index whose ref is
/// `>= target`, or `len`.
#[inline]
fn gallop(from: usize, len: usize, target: SeriesRef, get: impl Fn(usize) -> SeriesRef) -> usize {
    let (mut lo, mut hi, mut step) = (from, from, 1usize);
    while hi < len && get(hi) < target {
        lo = hi + 1;
        hi = hi.saturating_add(step);
        step = step.saturating_mul(2);
    }
    let mut hi = hi.min(len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if get(mid) < target {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Postings read in place from an index: big-endian `u32` refs.
#[derive(Clone, Debug)]
pub struct BigEndianPostings<'a> {
    list: &'a [u8],
    /// Number of refs consumed; the current one is `pos - 1`.
    pos: usize,
}

impl<'a> BigEndianPostings<'a> {
    /// Iterates `list`, whose length the caller has checked to be a multiple of 4.
    pub(crate) fn new(list: &'a [u8]) -> Self {
        BigEndianPostings { list, pos: 0 }
    }

    fn len(&self) -> usize {
        self.list.len() / 4
    }

    #[inline]
    fn get(&self, i: usize) -> Option<SeriesRef> {
        let b = self.list.get(i * 4..i * 4 + 4)?;
        Some(SeriesRef::from(u32::from_be_bytes([
            b[0], b[1], b[2], b[3],
        ])))
    }
}

impl Postings for BigEndianPostings<'_> {
    fn next(&mut self) -> Option<SeriesRef> {
        let r = self.get(self.pos);
        self.pos = (self.pos + 1).min(self.len() + 1);
        r
    }

    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef> {
        if self.pos > 0 {
            match self.get(self.pos - 1) {
                Some(cur) if cur >= target => return Some(cur),
                None => return None,
                _ => {}
            }
        }
        let list = self.list;
        let i = gallop(self.pos.saturating_sub(1), self.len(), target, |i| {
            let b = &list[i * 4..i * 4 + 4];
            SeriesRef::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        });
        self.pos = i + 1;
        self.get(i)
    }

    fn is_known_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The refs present in every one of `its`.
pub fn intersect<'a>(mut its: Vec<BoxPostings<'a>>) -> BoxPostings<'a> {
    if its.is_empty() || its.iter().any(|p| p.is_known_empty()) {
        return Box::new(EmptyPostings);
    }
    if its.len() == 1 {
        return its.pop().unwrap_or_else(|| Box::new(EmptyPostings));
    }
    Box::new(Intersect { its, done: false })
}

struct Intersect<'a> {
    its: Vec<BoxPostings<'a>>,
    done: bool,
}

impl Intersect<'_> {
    /// From a candidate ref, seeks every list until they agree.
    fn settle(&mut self, mut cand: SeriesRef) -> Option<SeriesRef> {
        'outer: loop {
            for p in &mut self.its {
                match p.seek(cand) {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(r) if r > cand => {
                        cand = r;
                        continue 'outer;
                    }
                    Some(_) => {}
                }
            }
            return Some(cand);
        }
    }
}

impl Postings for Intersect<'_> {
    fn next(&mut self) -> Option<SeriesRef> {
        if self.done {
            return None;
        }
        match self.its[0].next() {
            Some(c) => self.settle(c),
            None => {
                self.done = true;
                None
            }
        }
    }

    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef> {
        if self.done {
            return None;
        }
        self.settle(target)
    }
}

/// The refs present in any of `its`, each once.
pub fn merge<'a>(its: Vec<BoxPostings<'a>>) -> BoxPostings<'a> {
    let mut its: Vec<_> = its.into_iter().filter(|p| !p.is_known_empty()).collect();
    match its.len() {
        0 => Box::new(EmptyPostings),
        1 => its.pop().unwrap_or_else(|| Box::new(EmptyPostings)),
        _ => Box::new(Merge {
            its,
            heap: BinaryHeap::new(),
            started: false,
            cur: None,
        }),
    }
}

struct Merge<'a> {
    its: Vec<BoxPostings<'a>>,
    /// (current ref, index into `its`) of every list not yet exhausted.
    heap: BinaryHeap<Reverse<(SeriesRef, usize)>>,
    started: bool,
    cur: Option<SeriesRef>,
}

impl Merge<'_> {
    /// Pops the smallest ref, advancing every list positioned on it.
    fn pop_min(&mut self) -> Option<SeriesRef> {
        let Reverse((min, _)) = *self.heap.peek()?;
        // Replacing the top in place sifts once, where pop + push would
        // sift twice.
        while let Some(mut top) = self.heap.peek_mut() {
            let Reverse((r, i)) = *top;
            if r != min {
                break;
            }
            match self.its[i].next() {
                Some(n) => *top = Reverse((n, i)),
                None => {
                    PeekMut::pop(top);
                }
            }
        }
        self.cur = Some(min);
        Some(min)
    }
}

impl Postings for Merge<'_> {
    fn next(&mut self) -> Option<SeriesRef> {
        if !self.started {
            self.started = true;
            for (i, p) in self.its.iter_mut().enumerate() {
                if let Some(r) = p.next() {
                    self.heap.push(Reverse((r, i)));
                }
            }
        }
        let r = self.pop_min();
        if r.is_none() {
            self.cur = None;
        }
        r
    }

    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef> {
        if self.started {
            match self.cur {
                Some(c) if c >= target => return Some(c),
                None => return None,
                _ => {}
            }
            // The heap holds each list's next candidate; move the ones
            // behind `target` forward.
            let old = std::mem::take(&mut self.heap);
            for Reverse((r, i)) in old {
                let r = if r >= target {
                    Some(r)
                } else {
                    self.its[i].seek(target)
                };
                if let Some(r) = r {
                    self.heap.push(Reverse((r, i)));
                }
            }
        } else {
            self.started = true;
            for (i, p) in self.its.iter_mut().enumerate() {
                if let Some(r) = p.seek(target) {
                    self.heap.push(Reverse((r, i)));
                }
            }
        }
        let r = self.pop_min();
        if r.is_none() {
            self.cur = None;
        }
        r
    }
}

/// The refs of `full` that are not in `drop`.
pub fn without<'a>(full: BoxPostings<'a>, drop: BoxPostings<'a>) -> BoxPostings<'a> {
    if full.is_known_empty() {
        return Box::new(EmptyPostings);
    }
    if drop.is_known_empty() {
        return full;
    }
    Box::new(Without {
        full,
        drop,
        drop_cur: None,
        drop_done: false,
        cur: None,
    })
}

struct Without<'a> {
    full: BoxPostings<'a>,
    drop: BoxPostings<'a>,
    drop_cur: Option<SeriesRef>,
    drop_done: bool,
    cur: Option<SeriesRef>,
}

impl Without<'_> {
    /// From a candidate of `full`, skips the ones `drop` holds.
    fn settle(&mut self, mut cand: Option<SeriesRef>) -> Option<SeriesRef> {
        while let Some(c) = cand {
            if !self.drop_done && self.drop_cur.is_none_or(|d| d < c) {
                self.drop_cur = self.drop.seek(c);
                self.drop_done = self.drop_cur.is_none();
            }
            if self.drop_cur == Some(c) {
                cand = self.full.next();
            } else {
                break;
            }
        }
        self.cur = cand;
        cand
    }
}

impl Postings for Without<'_> {
    fn next(&mut self) -> Option<SeriesRef> {
        let c = self.full.next();
        self.settle(c)
    }

    fn seek(&mut self, target: SeriesRef) -> Option<SeriesRef> {
        if let Some(c) = self.cur {
            if c >= target {
                return Some(c);
            }
        }
        let c = self.full.seek(target);
        self.settle(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn list(v: &[u64]) -> BoxPostings<'static> {
        Box::new(ListPostings::new(v.to_vec()))
    }

    fn be(v: &[u64]) -> Vec<u8> {
        v.iter().flat_map(|&r| (r as u32).to_be_bytes()).collect()
    }

    #[test]
    fn list_and_big_endian_seek() {
        let refs = [2u64, 4, 6, 8, 10];
        let bytes = be(&refs);
        let ps: Vec<BoxPostings<'_>> = vec![list(&refs), Box::new(BigEndianPostings::new(&bytes))];
        for mut p in ps {
            assert_eq!(p.seek(5), Some(6));
            assert_eq!(p.seek(3), Some(6), "seek never moves back");
            assert_eq!(p.next(), Some(8));
            assert_eq!(p.seek(10), Some(10));
            assert_eq!(p.seek(11), None);
            assert_eq!(p.next(), None);
        }
    }

    #[test]
    fn combinators() {
        let i = intersect(vec![
            list(&[1, 2, 3, 5, 8]),
            list(&[2, 3, 4, 8]),
            list(&[0, 3, 8, 9]),
        ]);
        assert_eq!(expand(i), vec![3, 8]);
        let m = merge(vec![list(&[1, 5]), list(&[2, 5, 7]), list(&[])]);
        assert_eq!(expand(m), vec![1, 2, 5, 7]);
        let w = without(list(&[1, 2, 3, 4, 5]), list(&[2, 4, 6]));
        assert_eq!(expand(w), vec![1, 3, 5]);
        assert!(intersect(vec![list(&[1]), Box::new(EmptyPostings)]).is_known_empty());
        assert!(intersect(vec![]).is_known_empty());
    }

    fn set() -> impl Strategy<Value = BTreeSet<u64>> {
        proptest::collection::btree_set(0u64..200, 0..60)
    }

    fn boxed(s: &BTreeSet<u64>) -> BoxPostings<'static> {
        Box::new(ListPostings::new(s.iter().copied().collect()))
    }

    /// Checks `p` against `want` with a mix of `next` and `seek` calls.
    fn check(mut p: BoxPostings<'_>, want: &BTreeSet<u64>, seeks: &[u64]) {
        let mut cur: Option<u64> = None;
        for &s in seeks {
            let got = if s % 3 == 0 {
                let w = match cur {
                    None => want.iter().next().copied(),
                    Some(c) => want.range(c + 1..).next().copied(),
                };
                (p.next(), w)
            } else {
                let w = match cur {
                    Some(c) if c >= s => Some(c),
                    _ => want.range(s..).next().copied(),
                };
                (p.seek(s), w)
            };
            assert_eq!(got.0, got.1);
            match got.0 {
                Some(r) => cur = Some(r),
                None => return,
            }
        }
    }

    proptest! {
        #[test]
        fn combinators_match_set_algebra(
            a in set(), b in set(), c in set(),
            seeks in proptest::collection::vec(0u64..210, 0..40),
        ) {
            let inter: BTreeSet<u64> = a.iter().filter(|x| b.contains(x) && c.contains(x)).copied().collect();
            let union: BTreeSet<u64> = a.iter().chain(&b).chain(&c).copied().collect();
            let diff: BTreeSet<u64> = a.difference(&b).copied().collect();
            prop_assert_eq!(expand(intersect(vec![boxed(&a), boxed(&b), boxed(&c)])), inter.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(expand(merge(vec![boxed(&a), boxed(&b), boxed(&c)])), union.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(expand(without(boxed(&a), boxed(&b))), diff.iter().copied().collect::<Vec<_>>());
            check(intersect(vec![boxed(&a), boxed(&b), boxed(&c)]), &inter, &seeks);
            check(merge(vec![boxed(&a), boxed(&b), boxed(&c)]), &union, &seeks);
            check(without(boxed(&a), boxed(&b)), &diff, &seeks);
            let bytes = be(&a.iter().copied().collect::<Vec<_>>());
            check(Box::new(BigEndianPostings::new(&bytes)), &a, &seeks);
            check(boxed(&a), &a, &seeks);
        }
    }
}
