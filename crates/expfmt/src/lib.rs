//! Exposition formats: the Prometheus text format 0.0.4 and OpenMetrics 1.0.

pub mod collect;
pub mod encode;
pub mod entry;
pub mod error;
pub mod family;
pub mod float;
pub mod openmetrics;
mod scan;
pub mod text;

pub use collect::{collect_openmetrics, collect_text, CollectedSample};
pub use encode::{encode_openmetrics, encode_text};
pub use entry::{Entry, Exemplar, LabelIter, LabelPair, Series};
pub use error::{ErrorKind, ParseError, Token};
pub use family::{decode_openmetrics, decode_text, FamilyExemplar, FamilySample, MetricFamily};
pub use float::{format_go_float, format_openmetrics_float};
pub use openmetrics::OpenMetricsParser;
pub use text::TextParser;
