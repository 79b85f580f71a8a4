//! The vocabulary every pharos crate shares: label sets, label matchers,
//! samples with millisecond timestamps, the stale-NaN marker, Prometheus
//! durations and metric metadata.
//!
//! This crate knows nothing about storage, formats or the network; it holds
//! only plain values and their rules (sorting, validation, matching), so that
//! every layer above agrees on them.
//!
//! ```
//! use model::{Labels, Matcher, MatchType};
//!
//! let series = Labels::from_pairs(&[("__name__", "up"), ("job", "node")]);
//! let m = Matcher::new(MatchType::Regex, "job", "no.*").unwrap();
//! assert!(m.matches(series.get_or_empty("job")));
//! assert_eq!(series.to_string(), r#"{__name__="up", job="node"}"#);
//! ```

pub mod bytesize;
pub mod duration;
pub mod labels;
pub mod matcher;
pub mod metadata;
pub mod regex;
pub mod sample;
pub mod selector;

pub use bytesize::{parse_byte_size, ByteSizeError};
pub use duration::{format_duration, parse_duration, DurationError};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchType, Matcher, MatcherError};
pub use metadata::{Metadata, MetricType};
pub use regex::{GoRegex, GoRegexError};
pub use sample::{is_stale_nan, Sample, Timestamp, STALE_NAN};
pub use selector::{parse_metric_selector, SelectorError};
