//! The contracts between data and its users.
//!
//! Writers append through an [`Appender`]; readers open a [`Querier`] over a
//! time range from a [`Queryable`] and select series by label matchers,
//! receiving a [`SeriesSet`] whose series each yield their samples through a
//! [`SampleIterator`]. The TSDB implements these traits below; the PromQL
//! engine, rules and the long-term tier consume them above, so none of those
//! depends on how or where samples are stored (the split of Prometheus's
//! `storage/interface.go`).
//!
//! Also here: merging of several queriers into one ([`MergeQuerier`]), which
//! the TSDB uses across blocks and the head and the fan-out querier across
//! servers, and [`MemStorage`], a small in-memory implementation for tests of
//! the layers above.
//!
//! ```
//! use model::{Labels, Matcher};
//! use storage::{Appendable, Appender, MemStorage, Queryable, Querier};
//!
//! let db = MemStorage::new();
//! let mut app = db.appender();
//! let up = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! app.append(None, &up, 1_000, 1.0).unwrap();
//! app.commit().unwrap();
//!
//! let q = db.querier(0, 2_000).unwrap();
//! let mut set = q.select(true, None, &[Matcher::equal("job", "node")]).unwrap();
//! let mut series = set.next().unwrap().unwrap();
//! assert_eq!(series.labels, up);
//! assert_eq!(series.samples.next().map(|s| s.v), Some(1.0));
//! ```

mod discard;
mod error;
mod mem;
mod merge;
mod series;

pub use discard::DiscardStorage;
pub use error::{AppendError, StorageError};
pub use mem::MemStorage;
pub use merge::{MergeQuerier, MergeSeriesSet};
pub use series::{SampleIterator, Series, SeriesSet, SliceSampleIterator, VecSeriesSet};

use model::{Labels, Matcher, Timestamp};

/// An opaque reference to a series within one appendable store, returned by
/// [`Appender::append`] so the next append to the same series can skip the
/// label lookup. Only meaningful to the store that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// Accepts samples in a transaction: nothing appended is visible to readers
/// or durable until [`Appender::commit`] returns.
pub trait Appender: Send {
    /// Adds a sample to the series `labels`. `series_ref` is a hint from an
    /// earlier append to the same series; a wrong or stale hint is ignored,
    /// never trusted blindly.
    fn append(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError>;

    /// Makes every sample appended since the last commit or rollback durable
    /// (as the store defines it) and visible. The appender can be reused.
    fn commit(&mut self) -> Result<(), StorageError>;

    /// Discards every sample appended since the last commit or rollback.
    fn rollback(&mut self) -> Result<(), StorageError>;
}

/// Something that hands out appenders.
pub trait Appendable: Send + Sync {
    /// A new appender; several may be in use at once.
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// What the caller will do with selected data, so a store can load less.
/// Mirrors Prometheus's `SelectHints`; every field is advice only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectHints {
    /// Start of the data needed, in milliseconds.
    pub start: Timestamp,
    /// End of the data needed, in milliseconds.
    pub end: Timestamp,
    /// Query step in milliseconds, 0 for instant queries.
    pub step: i64,
    /// The function applied to the selection, e.g. `rate`.
    pub func: Option<String>,
    /// The range of a range selector in milliseconds, 0 for instant ones.
    pub range: i64,
    /// Labels an enclosing aggregation groups by (or drops, when `by` is false).
    pub grouping: Vec<String>,
    /// Whether `grouping` lists the labels kept (`by`) rather than dropped.
    pub by: bool,
}

/// Opens queriers over a time range.
pub trait Queryable: Send + Sync {
    /// A querier that sees samples with `mint <= t <= maxt`.
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError>;
}

/// Reads series, label names and label values over a fixed time range.
pub trait Querier: Send {
    /// Series whose labels satisfy every matcher. With `sorted`, series come
    /// in label order (required for merging). At least one matcher must
    /// select something other than the empty string; a store may refuse a
    /// selection that would match every series.
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError>;

    /// The sorted, distinct values of label `name` among series that satisfy
    /// every matcher (all series when `matchers` is empty).
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;

    /// The sorted, distinct label names among series that satisfy every
    /// matcher (all series when `matchers` is empty).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError>;
}
