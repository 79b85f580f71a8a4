//! A store that accepts every sample and keeps none.

use model::{Labels, Timestamp};

use crate::{AppendError, Appendable, Appender, SeriesRef, StorageError};

/// An [`Appendable`] that accepts everything and stores nothing, for
/// benchmarks and allocation tests of the layers that append (scraping,
/// rules), so that only their own work is measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscardStorage;

struct DiscardAppender;

impl Appender for DiscardAppender {
    fn append(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        _t: Timestamp,
        _v: f64,
    ) -> Result<SeriesRef, AppendError> {
        Ok(series_ref.unwrap_or_else(|| SeriesRef(labels.hash64())))
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

impl Appendable for DiscardStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(DiscardAppender)
    }
}
