//! A small in-memory store for tests of the layers above storage.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use model::{Labels, Matcher, Sample, Timestamp};

use crate::{
    AppendError, Appendable, Appender, Querier, Queryable, SelectHints, Series, SeriesRef,
    SeriesSet, SliceSampleIterator, StorageError, VecSeriesSet,
};

type Data = BTreeMap<Labels, Vec<Sample>>;

/// An in-memory [`Queryable`] and [`Appendable`] with the same append rules
/// as the TSDB head (no out-of-order samples, no conflicting duplicates).
/// Not built for size or speed.
#[derive(Clone, Default)]
pub struct MemStorage {
    data: Arc<RwLock<Data>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            store: self,
            pending: Vec::new(),
            newest_pending: HashMap::new(),
        })
    }
}

struct MemAppender<'a> {
    store: &'a MemStorage,
    pending: Vec<(Labels, Sample)>,
    /// The newest pending sample per series, so that checking an append
    /// against what is pending costs a lookup, not a scan of the batch
    /// (a scan made a scrape-sized batch quadratic).
    newest_pending: HashMap<Labels, Sample>,
}

impl MemAppender<'_> {
    /// The newest sample of `labels`, committed or pending.
    fn newest(&self, data: &Data, labels: &Labels) -> Option<Sample> {
        let pending = self.newest_pending.get(labels).copied();
        pending.or_else(|| data.get(labels).and_then(|v| v.last().copied()))
    }
}

impl Appender for MemAppender<'_> {
    fn append(
        &mut self,
        _series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::InvalidLabels {
                labels: labels.clone(),
                reason: "label set is empty",
            });
        }
        let data = self.store.read();
        match self.newest(&data, labels) {
            Some(last) if t < last.t => {
                return Err(AppendError::OutOfOrder {
                    labels: labels.clone(),
                    t,
                    newest: last.t,
                })
            }
            Some(last) if t == last.t => {
                if last.v.to_bits() == v.to_bits() {
                    return Ok(SeriesRef(labels.hash64()));
                }
                return Err(AppendError::DuplicateTimestamp {
                    labels: labels.clone(),
                    t,
                    existing: last.v,
                    new: v,
                });
            }
            _ => {}
        }
        drop(data);
        let sample = Sample::new(t, v);
        self.pending.push((labels.clone(), sample));
        self.newest_pending.insert(labels.clone(), sample);
        Ok(SeriesRef(labels.hash64()))
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        self.newest_pending.clear();
        let mut data = self.store.data.write().unwrap_or_else(|p| p.into_inner());
        for (l, s) in self.pending.drain(..) {
            let v = data.entry(l).or_default();
            if v.last().is_none_or(|last| last.t < s.t) {
                v.push(s);
            }
        }
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StorageError> {
        self.pending.clear();
        self.newest_pending.clear();
        Ok(())
    }
}

impl Queryable for MemStorage {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier {
            store: self.clone(),
            mint,
            maxt,
        }))
    }
}

struct MemQuerier {
    store: MemStorage,
    mint: Timestamp,
    maxt: Timestamp,
}

impl MemQuerier {
    /// Series matching every matcher with at least one sample in range.
    fn matching(&self, matchers: &[Matcher]) -> Vec<(Labels, Vec<Sample>)> {
        let data = self.store.read();
        data.iter()
            .filter(|(l, _)| matchers.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
            .filter_map(|(l, v)| {
                let s: Vec<Sample> = v
                    .iter()
                    .filter(|s| s.t >= self.mint && s.t <= self.maxt)
                    .copied()
                    .collect();
                (!s.is_empty()).then(|| (l.clone(), s))
            })
            .collect()
    }
}

impl Querier for MemQuerier {
    fn select(
        &self,
        _sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let series = self
            .matching(matchers)
            .into_iter()
            .map(|(labels, s)| Series {
                labels,
                samples: Box::new(SliceSampleIterator::new(s)),
            })
            .collect();
        Ok(VecSeriesSet::from_vec(series))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let set: BTreeSet<String> = self
            .matching(matchers)
            .iter()
            .filter_map(|(l, _)| l.get(name).map(str::to_owned))
            .collect();
        Ok(set.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        let set: BTreeSet<String> = self
            .matching(matchers)
            .iter()
            .flat_map(|(l, _)| l.iter().map(|l| l.name.to_owned()).collect::<Vec<_>>())
            .collect();
        Ok(set.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_rules() {
        let db = MemStorage::new();
        let l = Labels::from_pairs(&[("__name__", "m")]);
        let mut app = db.appender();
        app.append(None, &l, 10, 1.0).unwrap();
        assert!(matches!(
            app.append(None, &l, 5, 1.0),
            Err(AppendError::OutOfOrder { .. })
        ));
        assert!(
            app.append(None, &l, 10, 1.0).is_ok(),
            "same value at same timestamp is fine"
        );
        assert!(matches!(
            app.append(None, &l, 10, 2.0),
            Err(AppendError::DuplicateTimestamp { .. })
        ));
        app.rollback().unwrap();
        let q = db.querier(0, 100).unwrap();
        assert_eq!(
            q.label_names(&[]).unwrap(),
            Vec::<String>::new(),
            "rollback drops all"
        );
    }
}
