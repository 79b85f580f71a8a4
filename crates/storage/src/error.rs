//! Errors of appending and reading.

use model::{Labels, Timestamp};

/// Why one sample was refused. The messages begin with Prometheus's wording
/// (`out of order sample`, `out of bounds`, ...) because scrape reports and
/// API clients match on it, then say which series and timestamps.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppendError {
    /// The sample is older than the newest one already in its series.
    #[error("out of order sample: timestamp {t} is before the newest sample {newest} of {labels}")]
    OutOfOrder {
        /// The series.
        labels: Labels,
        /// The refused sample's timestamp.
        t: Timestamp,
        /// The newest timestamp already stored.
        newest: Timestamp,
    },
    /// The sample falls before the range the store still accepts (e.g. older
    /// than the head's minimum valid time).
    #[error(
        "out of bounds: timestamp {t} is before the earliest accepted {min_valid} for {labels}"
    )]
    OutOfBounds {
        /// The series.
        labels: Labels,
        /// The refused sample's timestamp.
        t: Timestamp,
        /// The earliest timestamp accepted now.
        min_valid: Timestamp,
    },
    /// A different value at a timestamp that already has one.
    #[error(
        "duplicate sample for timestamp: {t} already has value {existing}, got {new} for {labels}"
    )]
    DuplicateTimestamp {
        /// The series.
        labels: Labels,
        /// The timestamp.
        t: Timestamp,
        /// The value stored.
        existing: f64,
        /// The value refused.
        new: f64,
    },
    /// The label set cannot name a series.
    #[error("invalid labels {labels}: {reason}")]
    InvalidLabels {
        /// The label set as given.
        labels: Labels,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store is closed or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A failure of the store itself rather than of one input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// I/O failed; the message names the file and the operation.
    #[error("{0}")]
    Io(String),
    /// Stored data is corrupt; the message says where.
    #[error("corruption: {0}")]
    Corruption(String),
    /// The request is not valid for this store.
    #[error("{0}")]
    Invalid(String),
    /// The store has been closed.
    #[error("storage is closed")]
    Closed,
}
