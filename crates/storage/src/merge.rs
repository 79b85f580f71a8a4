//! Merging several sources of series into one.
//!
//! Used across a TSDB's blocks and head (whose time ranges may overlap after
//! a backfill) and across servers. Series with equal labels from different
//! sources become one series whose samples are the union by timestamp; at a
//! timestamp present in several sources the first source's sample wins,
//! the same choice Prometheus's chaining merge makes.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use model::{Labels, Matcher, Sample, Timestamp};

use crate::{Querier, SampleIterator, SelectHints, Series, SeriesSet, StorageError};

/// A querier that merges the results of several queriers.
pub struct MergeQuerier {
    queriers: Vec<Box<dyn Querier>>,
}

impl MergeQuerier {
    /// Merges `queriers`; earlier ones win on duplicate timestamps.
    pub fn new(queriers: Vec<Box<dyn Querier>>) -> MergeQuerier {
        MergeQuerier { queriers }
    }
}

impl Querier for MergeQuerier {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        if self.queriers.len() == 1 {
            return self.queriers[0].select(sorted, hints, matchers);
        }
        let sets = self
            .queriers
            .iter()
            .map(|q| q.select(true, hints, matchers))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(MergeSeriesSet::new(sets)))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut all = BTreeSet::new();
        for q in &self.queriers {
            all.extend(q.label_values(name, matchers)?);
        }
        Ok(all.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let mut all = BTreeSet::new();
        for q in &self.queriers {
            all.extend(q.label_names(matchers)?);
        }
        Ok(all.into_iter().collect())
    }
}

/// Merges series sets that are each sorted by labels into one sorted set.
pub struct MergeSeriesSet {
    sets: Vec<SeriesSet>,
    /// The next series of each set, `None` once the set is exhausted.
    heads: Vec<Option<Series>>,
    started: bool,
    failed: bool,
}

impl MergeSeriesSet {
    /// Merges `sets`, each of which must be sorted by labels.
    pub fn new(sets: Vec<SeriesSet>) -> MergeSeriesSet {
        let heads = sets.iter().map(|_| None).collect();
        MergeSeriesSet {
            sets,
            heads,
            started: false,
            failed: false,
        }
    }

    fn advance(&mut self, i: usize) -> Result<(), StorageError> {
        self.heads[i] = self.sets[i].next().transpose()?;
        Ok(())
    }
}

impl Iterator for MergeSeriesSet {
    type Item = Result<Series, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if !self.started {
            self.started = true;
            for i in 0..self.sets.len() {
                if let Err(e) = self.advance(i) {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        // Smallest labels among the heads; k is small, a linear scan is fine.
        let mut min: Option<&Labels> = None;
        for s in self.heads.iter().flatten() {
            if min.is_none_or(|m| s.labels.cmp(m) == Ordering::Less) {
                min = Some(&s.labels);
            }
        }
        let min = min?.clone();
        let mut parts = Vec::new();
        for i in 0..self.heads.len() {
            if self.heads[i].as_ref().is_some_and(|s| s.labels == min) {
                let s = self.heads[i].take().expect("BUG: head checked above");
                parts.push(s.samples);
                if let Err(e) = self.advance(i) {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        let samples: Box<dyn SampleIterator> = if parts.len() == 1 {
            parts.pop().expect("BUG: one part")
        } else {
            Box::new(ChainSampleIterator::new(parts))
        };
        Some(Ok(Series {
            labels: min,
            samples,
        }))
    }
}

/// Merges sample iterators of one series by timestamp, dropping duplicates.
struct ChainSampleIterator {
    iters: Vec<Box<dyn SampleIterator>>,
    /// The pending sample of each iterator.
    heads: Vec<Option<Sample>>,
    started: bool,
    last: Option<Sample>,
    error: Option<StorageError>,
}

impl ChainSampleIterator {
    fn new(iters: Vec<Box<dyn SampleIterator>>) -> ChainSampleIterator {
        let heads = iters.iter().map(|_| None).collect();
        ChainSampleIterator {
            iters,
            heads,
            started: false,
            last: None,
            error: None,
        }
    }

    fn fill(&mut self, i: usize, s: Option<Sample>) {
        self.heads[i] = s;
        if s.is_none() && self.error.is_none() {
            self.error = self.iters[i].err();
        }
    }

    fn pop_min(&mut self) -> Option<Sample> {
        let (i, t) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i, s.t)))
            .min_by_key(|&(i, t)| (t, i))?;
        let out = self.heads[i];
        // Drop this timestamp from every source; the earliest source wins.
        for j in 0..self.iters.len() {
            if self.heads[j].is_some_and(|s| s.t == t) {
                let n = self.iters[j].next();
                self.fill(j, n);
            }
        }
        out
    }
}

impl SampleIterator for ChainSampleIterator {
    fn next(&mut self) -> Option<Sample> {
        if !self.started {
            self.started = true;
            for i in 0..self.iters.len() {
                let n = self.iters[i].next();
                self.fill(i, n);
            }
        }
        if self.error.is_some() {
            return None;
        }
        self.last = self.pop_min();
        self.last
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(l) = self.last {
            if l.t >= t {
                return Some(l);
            }
        }
        self.started = true;
        for i in 0..self.iters.len() {
            let cur = self.heads[i];
            let n = match cur {
                Some(s) if s.t >= t => Some(s),
                _ => self.iters[i].seek(t),
            };
            self.fill(i, n);
        }
        if self.error.is_some() {
            return None;
        }
        self.last = self.pop_min();
        self.last
    }

    fn err(&mut self) -> Option<StorageError> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SliceSampleIterator, VecSeriesSet};

    fn series(name: &str, ts: &[i64], base: f64) -> Series {
        Series {
            labels: Labels::from_pairs(&[("__name__", name)]),
            samples: Box::new(SliceSampleIterator::new(
                ts.iter()
                    .map(|&t| Sample::new(t, base + t as f64))
                    .collect(),
            )),
        }
    }

    #[test]
    fn merges_sets_and_samples() {
        let a = VecSeriesSet::from_vec(vec![series("a", &[1, 3], 0.0), series("c", &[1], 0.0)]);
        let b =
            VecSeriesSet::from_vec(vec![series("a", &[2, 3, 4], 100.0), series("b", &[5], 0.0)]);
        let mut m = MergeSeriesSet::new(vec![a, b]);
        let mut got = Vec::new();
        for s in m.by_ref() {
            let mut s = s.unwrap();
            let samples = s.collect_samples().unwrap();
            got.push((s.labels.get_or_empty("__name__").to_owned(), samples));
        }
        let names: Vec<_> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let a: Vec<(i64, f64)> = got[0].1.iter().map(|s| (s.t, s.v)).collect();
        // t=3 present in both: the first set's value wins.
        assert_eq!(a, [(1, 1.0), (2, 102.0), (3, 3.0), (4, 104.0)]);
    }

    #[test]
    fn chain_seek() {
        let mut c = ChainSampleIterator::new(vec![
            Box::new(SliceSampleIterator::new(vec![
                Sample::new(1, 1.0),
                Sample::new(10, 10.0),
            ])),
            Box::new(SliceSampleIterator::new(vec![
                Sample::new(5, 5.0),
                Sample::new(12, 12.0),
            ])),
        ]);
        assert_eq!(c.seek(4).map(|s| s.t), Some(5));
        assert_eq!(c.seek(5).map(|s| s.t), Some(5));
        assert_eq!(c.next().map(|s| s.t), Some(10));
        assert_eq!(c.seek(11).map(|s| s.t), Some(12));
        assert_eq!(c.next(), None);
    }
}
