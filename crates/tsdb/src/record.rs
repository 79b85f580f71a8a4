//! The records the head writes into the WAL, byte-compatible with Prometheus
//! (`tsdb/record`).
//!
//! A WAL record (one logical entry, before the WAL splits it into page
//! fragments) starts with one type byte; the rest depends on the type. All
//! fixed-width integers are big-endian. `uvarint` is the unsigned LEB128
//! varint of Go's `encoding/binary`; `varint` is its zig-zag signed form
//! (`(x << 1) ^ (x >> 63)`). A "string" is a `uvarint` byte length followed
//! by that many bytes. A label set is a `uvarint` pair count followed by
//! name and value strings alternating, in name order.
//!
//! | type | name | body, repeated until the record ends |
//! |---|---|---|
//! | 1 | series | `ref u64`, label set |
//! | 2 | samples | once: `first_ref u64`, `first_t i64`; then per sample `varint(ref - first_ref)`, `varint(t - first_t)`, `value` as the `u64` bits of an IEEE-754 double |
//! | 3 | tombstones | `ref u64`, `varint mint`, `varint maxt` (one interval per entry) |
//! | 4 | exemplars | as samples, each entry followed by the exemplar's label set |
//! | 5 | mmap markers | `ref u64`, `chunk_ref u64` |
//! | 6 | metadata | `uvarint ref`, `type u8`, `uvarint field_count`, then field_count pairs of name and value strings (Prometheus writes `UNIT` and `HELP`) |
//! | 7–13 | native histograms and the v2 sample formats | not decoded by pharos: [`RecordError::Unsupported`] |
//!
//! A samples or exemplars record with no entries is the type byte alone. The
//! deltas are computed with wrapping two's-complement arithmetic, as Go's
//! `int64(a) - int64(b)` does, so any pair of refs round-trips. The metadata
//! type byte uses Prometheus's numbering: 0 unknown, 1 counter, 2 gauge,
//! 3 histogram, 4 gauge histogram, 5 summary, 6 info, 7 state set.
//!
//! Decoders take the caller's `Vec` and refill it (cleared first) so that a
//! replay loop allocates nothing per sample; label sets and metadata strings
//! are the only per-entry allocations, as they must outlive the record.

mod decode;
mod encode;

pub use decode::{
    decode_exemplars, decode_metadata, decode_mmap_markers, decode_samples, decode_series,
    decode_tombstones,
};
pub use encode::{
    encode_exemplars, encode_metadata, encode_mmap_markers, encode_samples, encode_series,
    encode_tombstones,
};

use model::{Labels, MetricType};

/// A series reference as the head assigns it (`chunks.HeadSeriesRef`).
pub type SeriesRef = u64;

/// The type byte that starts every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// 1: series and their label sets.
    Series,
    /// 2: float samples.
    Samples,
    /// 3: deletion intervals.
    Tombstones,
    /// 4: exemplars.
    Exemplars,
    /// 5: references from series to memory-mapped head chunks.
    MmapMarkers,
    /// 6: metric metadata (type, unit, help) per series.
    Metadata,
    /// 7: integer native histogram samples.
    HistogramSamples,
    /// 8: float native histogram samples.
    FloatHistogramSamples,
    /// 9: integer native histograms with custom buckets.
    CustomBucketsHistogramSamples,
    /// 10: float native histograms with custom buckets.
    CustomBucketsFloatHistogramSamples,
    /// 11: float samples with start timestamps (Prometheus 3.x).
    SamplesV2,
    /// 12: integer native histograms with start timestamps.
    HistogramSamplesV2,
    /// 13: float native histograms with start timestamps.
    FloatHistogramSamplesV2,
}

impl RecordType {
    /// The record type of `rec`, from its first byte.
    pub fn of(rec: &[u8]) -> Result<RecordType, RecordError> {
        let b = *rec.first().ok_or(RecordError::Empty)?;
        RecordType::from_byte(b).ok_or(RecordError::UnknownType(b))
    }

    /// The record type of `rec` when this module decodes it; a known type it
    /// does not decode (native histograms, v2 samples) is
    /// [`RecordError::Unsupported`], which replay logs and skips.
    pub fn of_supported(rec: &[u8]) -> Result<RecordType, RecordError> {
        let t = RecordType::of(rec)?;
        if t.is_supported() {
            Ok(t)
        } else {
            Err(RecordError::Unsupported(t))
        }
    }

    /// The type with code `b`, if Prometheus defines one.
    pub fn from_byte(b: u8) -> Option<RecordType> {
        use RecordType::*;
        Some(match b {
            1 => Series,
            2 => Samples,
            3 => Tombstones,
            4 => Exemplars,
            5 => MmapMarkers,
            6 => Metadata,
            7 => HistogramSamples,
            8 => FloatHistogramSamples,
            9 => CustomBucketsHistogramSamples,
            10 => CustomBucketsFloatHistogramSamples,
            11 => SamplesV2,
            12 => HistogramSamplesV2,
            13 => FloatHistogramSamplesV2,
            _ => return None,
        })
    }

    /// The type's code on disk.
    pub fn as_byte(self) -> u8 {
        use RecordType::*;
        match self {
            Series => 1,
            Samples => 2,
            Tombstones => 3,
            Exemplars => 4,
            MmapMarkers => 5,
            Metadata => 6,
            HistogramSamples => 7,
            FloatHistogramSamples => 8,
            CustomBucketsHistogramSamples => 9,
            CustomBucketsFloatHistogramSamples => 10,
            SamplesV2 => 11,
            HistogramSamplesV2 => 12,
            FloatHistogramSamplesV2 => 13,
        }
    }

    /// Whether this module can decode the type (1 to 6).
    pub fn is_supported(self) -> bool {
        self.as_byte() <= 6
    }

    /// Prometheus's name for the type, for messages.
    pub fn name(self) -> &'static str {
        use RecordType::*;
        match self {
            Series => "series",
            Samples => "samples",
            Tombstones => "tombstones",
            Exemplars => "exemplars",
            MmapMarkers => "mmapmarkers",
            Metadata => "metadata",
            HistogramSamples => "histogram_samples",
            FloatHistogramSamples => "float_histogram_samples",
            CustomBucketsHistogramSamples => "custom_buckets_histogram_samples",
            CustomBucketsFloatHistogramSamples => "custom_buckets_float_histogram_samples",
            SamplesV2 => "samples_v2",
            HistogramSamplesV2 => "histogram_samples_v2",
            FloatHistogramSamplesV2 => "float_histogram_samples_v2",
        }
    }
}

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record has no bytes at all, not even a type byte.
    #[error("cannot decode record: it is empty")]
    Empty,
    /// The type byte names no record type Prometheus defines.
    #[error("cannot decode record: unknown record type {0}")]
    UnknownType(u8),
    /// A known type that pharos does not decode (native histograms, v2 samples).
    /// Replay skips these.
    #[error("cannot decode record: unsupported record type {} ({})", .0.as_byte(), .0.name())]
    Unsupported(RecordType),
    /// The decoder for one type was handed a record of another.
    #[error("cannot decode {} record: record has type {got}", .expected.name())]
    WrongType {
        /// The type the decoder reads.
        expected: RecordType,
        /// The type byte found.
        got: u8,
    },
    /// The record ended inside a field.
    #[error("cannot decode {} record: truncated at byte {offset}", .record.name())]
    Truncated {
        /// The record type.
        record: RecordType,
        /// Offset in the record where a field was cut short.
        offset: usize,
    },
    /// A varint runs past 64 bits.
    #[error("cannot decode {} record: varint overflows 64 bits at byte {offset}", .record.name())]
    VarintOverflow {
        /// The record type.
        record: RecordType,
        /// Offset of the varint in the record.
        offset: usize,
    },
    /// A label name or value (or metadata string) is not UTF-8.
    #[error("cannot decode {} record: string at byte {offset} is not UTF-8", .record.name())]
    InvalidUtf8 {
        /// The record type.
        record: RecordType,
        /// Offset of the string's bytes in the record.
        offset: usize,
    },
}

/// A series as a series record carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefSeries {
    /// The head's reference for the series.
    pub series_ref: SeriesRef,
    /// The series' labels.
    pub labels: Labels,
}

/// One float sample of a series.
#[derive(Clone, Copy, Debug)]
pub struct RefSample {
    /// The series it belongs to.
    pub series_ref: SeriesRef,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The value; compared bit for bit in tests because of NaNs.
    pub v: f64,
}

impl PartialEq for RefSample {
    /// Bitwise on the value, so stale markers and NaNs compare equal to themselves.
    fn eq(&self, o: &RefSample) -> bool {
        self.series_ref == o.series_ref && self.t == o.t && self.v.to_bits() == o.v.to_bits()
    }
}

/// A deletion interval `[mint, maxt]` of one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// The series whose samples are deleted.
    pub series_ref: SeriesRef,
    /// First deleted timestamp (inclusive).
    pub mint: i64,
    /// Last deleted timestamp (inclusive).
    pub maxt: i64,
}

/// An exemplar attached to a series.
#[derive(Clone, Debug)]
pub struct RefExemplar {
    /// The series it belongs to.
    pub series_ref: SeriesRef,
    /// Timestamp in milliseconds.
    pub t: i64,
    /// The exemplar's value.
    pub v: f64,
    /// The exemplar's own labels (e.g. `trace_id`).
    pub labels: Labels,
}

impl PartialEq for RefExemplar {
    /// Bitwise on the value, as [`RefSample`].
    fn eq(&self, o: &RefExemplar) -> bool {
        self.series_ref == o.series_ref
            && self.t == o.t
            && self.v.to_bits() == o.v.to_bits()
            && self.labels == o.labels
    }
}

/// Where a series' head chunks were memory-mapped up to when the record was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefMmapMarker {
    /// The series.
    pub series_ref: SeriesRef,
    /// The chunk-disk-mapper reference (file index and offset).
    pub mmap_ref: u64,
}

/// Metric metadata of one series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefMetadata {
    /// The series.
    pub series_ref: SeriesRef,
    /// The metric type.
    pub metric_type: MetricType,
    /// The `UNIT` field, or empty.
    pub unit: String,
    /// The `HELP` field, or empty.
    pub help: String,
}

/// Prometheus's metadata type byte for `t` (`record.GetMetricType`).
pub(crate) fn metric_type_byte(t: MetricType) -> u8 {
    match t {
        MetricType::Unknown => 0,
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::GaugeHistogram => 4,
        MetricType::Summary => 5,
        MetricType::Info => 6,
        MetricType::StateSet => 7,
    }
}

/// The metric type for a metadata type byte; unknown codes read as unknown,
/// as Prometheus's `record.ToMetricType` does.
pub(crate) fn metric_type_from_byte(b: u8) -> MetricType {
    match b {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::GaugeHistogram,
        5 => MetricType::Summary,
        6 => MetricType::Info,
        7 => MetricType::StateSet,
        _ => MetricType::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bytes_round_trip() {
        for b in 0..=255u8 {
            match RecordType::from_byte(b) {
                Some(t) => {
                    assert_eq!(t.as_byte(), b);
                    assert_eq!(t.is_supported(), (1..=6).contains(&b));
                }
                None => assert!(b == 0 || b > 13, "{b}"),
            }
        }
        assert_eq!(RecordType::of(&[]), Err(RecordError::Empty));
        assert_eq!(RecordType::of(&[42]), Err(RecordError::UnknownType(42)));
        assert_eq!(RecordType::of(&[7, 1]), Ok(RecordType::HistogramSamples));
        assert_eq!(
            RecordType::of_supported(&[7, 1]),
            Err(RecordError::Unsupported(RecordType::HistogramSamples))
        );
        assert_eq!(RecordType::of_supported(&[6]), Ok(RecordType::Metadata));
    }

    #[test]
    fn metric_type_codes_round_trip() {
        for b in 0..8u8 {
            assert_eq!(metric_type_byte(metric_type_from_byte(b)), b);
        }
        assert_eq!(metric_type_from_byte(200), MetricType::Unknown);
    }

    #[test]
    fn unsupported_message_names_the_type() {
        let e = RecordError::Unsupported(RecordType::FloatHistogramSamples);
        assert_eq!(
            e.to_string(),
            "cannot decode record: unsupported record type 8 (float_histogram_samples)"
        );
    }
}
