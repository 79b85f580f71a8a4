//! Series, series sets and sample iterators.

use model::{Labels, Sample, Timestamp};

use crate::StorageError;

/// Walks one series' samples in increasing timestamp order.
///
/// Iteration ends at the last sample or at the first error;
/// [`SampleIterator::err`] tells which.
pub trait SampleIterator: Send {
    /// The next sample, or `None` at the end or on error.
    fn next(&mut self) -> Option<Sample>;

    /// The first sample with timestamp `>= t`, counting the sample most
    /// recently returned: if that one is already at or after `t` it is
    /// returned again. Never moves backwards.
    fn seek(&mut self, t: Timestamp) -> Option<Sample>;

    /// The error that ended iteration early, if any. Taking it clears it.
    fn err(&mut self) -> Option<StorageError>;
}

/// One series: its labels and an iterator over its samples.
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples within the querier's range.
    pub samples: Box<dyn SampleIterator>,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

impl Series {
    /// Reads every remaining sample into a vector (tests and small tools).
    pub fn collect_samples(&mut self) -> Result<Vec<Sample>, StorageError> {
        let mut out = Vec::new();
        while let Some(s) = self.samples.next() {
            out.push(s);
        }
        match self.samples.err() {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// The result of a selection: series one at a time, lazily, so a store can
/// stream from disk. An `Err` item ends the set.
pub type SeriesSet = Box<dyn Iterator<Item = Result<Series, StorageError>> + Send>;

/// A [`SampleIterator`] over samples held in memory.
#[derive(Debug, Clone, Default)]
pub struct SliceSampleIterator {
    samples: Vec<Sample>,
    /// Index of the next sample to return; the current one is `pos - 1`.
    pos: usize,
}

impl SliceSampleIterator {
    /// Iterates `samples`, which must be sorted by timestamp.
    pub fn new(samples: Vec<Sample>) -> SliceSampleIterator {
        SliceSampleIterator { samples, pos: 0 }
    }
}

impl SampleIterator for SliceSampleIterator {
    fn next(&mut self) -> Option<Sample> {
        let s = self.samples.get(self.pos).copied();
        if s.is_some() {
            self.pos += 1;
        }
        s
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        let from = self.pos.saturating_sub(1);
        let rest = self.samples.get(from..).unwrap_or_default();
        let i = from + rest.partition_point(|s| s.t < t);
        self.pos = i.max(self.pos);
        if i < from + rest.len() {
            self.pos = i + 1;
            Some(self.samples[i])
        } else {
            self.pos = self.samples.len();
            None
        }
    }

    fn err(&mut self) -> Option<StorageError> {
        None
    }
}

/// A [`SeriesSet`] over series already in memory.
pub struct VecSeriesSet;

impl VecSeriesSet {
    /// A set yielding `series` in the given order.
    pub fn from_vec(series: Vec<Series>) -> SeriesSet {
        Box::new(series.into_iter().map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(ts: &[i64]) -> SliceSampleIterator {
        SliceSampleIterator::new(ts.iter().map(|&t| Sample::new(t, t as f64)).collect())
    }

    #[test]
    fn seek_counts_current_sample() {
        let mut i = it(&[10, 20, 30]);
        assert_eq!(i.seek(15).map(|s| s.t), Some(20));
        assert_eq!(i.seek(5).map(|s| s.t), Some(20), "never moves backwards");
        assert_eq!(i.seek(20).map(|s| s.t), Some(20));
        assert_eq!(i.next().map(|s| s.t), Some(30));
        assert_eq!(i.seek(31), None);
        assert_eq!(i.next(), None);
    }

    #[test]
    fn seek_before_first_next() {
        let mut i = it(&[10, 20]);
        assert_eq!(i.seek(0).map(|s| s.t), Some(10));
        assert_eq!(i.next().map(|s| s.t), Some(20));
    }
}
