//! Encoders for the record types of [`crate::record`]. Each appends one
//! complete record to the caller's buffer, so that a batch of records can be
//! built in one allocation and logged together.

use model::Labels;

use super::{
    metric_type_byte, RecordType, RefExemplar, RefMetadata, RefMmapMarker, RefSample, RefSeries,
    Tombstone,
};

pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

pub(crate) fn put_varint(buf: &mut Vec<u8>, x: i64) {
    put_uvarint(buf, ((x << 1) ^ (x >> 63)) as u64);
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn put_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels {
        put_str(buf, l.name);
        put_str(buf, l.value);
    }
}

/// Appends a series record (type 1) holding `series`.
pub fn encode_series(series: &[RefSeries], buf: &mut Vec<u8>) {
    buf.push(RecordType::Series.as_byte());
    for s in series {
        buf.extend_from_slice(&s.series_ref.to_be_bytes());
        put_labels(buf, &s.labels);
    }
}

/// Appends a samples record (type 2) holding `samples`; refs and timestamps
/// are stored as deltas to the first sample's.
pub fn encode_samples(samples: &[RefSample], buf: &mut Vec<u8>) {
    buf.push(RecordType::Samples.as_byte());
    let Some(first) = samples.first() else {
        return;
    };
    buf.reserve(16 + samples.len() * 12);
    buf.extend_from_slice(&first.series_ref.to_be_bytes());
    buf.extend_from_slice(&first.t.to_be_bytes());
    for s in samples {
        put_varint(buf, s.series_ref.wrapping_sub(first.series_ref) as i64);
        put_varint(buf, s.t.wrapping_sub(first.t));
        buf.extend_from_slice(&s.v.to_bits().to_be_bytes());
    }
}

/// Appends a tombstones record (type 3).
pub fn encode_tombstones(stones: &[Tombstone], buf: &mut Vec<u8>) {
    buf.push(RecordType::Tombstones.as_byte());
    for s in stones {
        buf.extend_from_slice(&s.series_ref.to_be_bytes());
        put_varint(buf, s.mint);
        put_varint(buf, s.maxt);
    }
}

/// Appends an exemplars record (type 4).
pub fn encode_exemplars(exemplars: &[RefExemplar], buf: &mut Vec<u8>) {
    buf.push(RecordType::Exemplars.as_byte());
    let Some(first) = exemplars.first() else {
        return;
    };
    buf.extend_from_slice(&first.series_ref.to_be_bytes());
    buf.extend_from_slice(&first.t.to_be_bytes());
    for e in exemplars {
        put_varint(buf, e.series_ref.wrapping_sub(first.series_ref) as i64);
        put_varint(buf, e.t.wrapping_sub(first.t));
        buf.extend_from_slice(&e.v.to_bits().to_be_bytes());
        put_labels(buf, &e.labels);
    }
}

/// Appends an mmap-markers record (type 5).
pub fn encode_mmap_markers(markers: &[RefMmapMarker], buf: &mut Vec<u8>) {
    buf.push(RecordType::MmapMarkers.as_byte());
    for m in markers {
        buf.extend_from_slice(&m.series_ref.to_be_bytes());
        buf.extend_from_slice(&m.mmap_ref.to_be_bytes());
    }
}

/// Appends a metadata record (type 6). Each entry carries the two fields
/// Prometheus writes, `UNIT` then `HELP`, even when empty.
pub fn encode_metadata(metadata: &[RefMetadata], buf: &mut Vec<u8>) {
    buf.push(RecordType::Metadata.as_byte());
    for m in metadata {
        put_uvarint(buf, m.series_ref);
        buf.push(metric_type_byte(m.metric_type));
        put_uvarint(buf, 2);
        put_str(buf, "UNIT");
        put_str(buf, &m.unit);
        put_str(buf, "HELP");
        put_str(buf, &m.help);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MetricType;

    fn uv(x: u64) -> Vec<u8> {
        let mut b = Vec::new();
        put_uvarint(&mut b, x);
        b
    }

    fn sv(x: i64) -> Vec<u8> {
        let mut b = Vec::new();
        put_varint(&mut b, x);
        b
    }

    #[test]
    fn varints_match_go() {
        // Values from Go's encoding/binary PutUvarint / PutVarint.
        assert_eq!(uv(0), [0x00]);
        assert_eq!(uv(127), [0x7f]);
        assert_eq!(uv(128), [0x80, 0x01]);
        assert_eq!(uv(300), [0xac, 0x02]);
        assert_eq!(
            uv(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        assert_eq!(sv(0), [0x00]);
        assert_eq!(sv(-1), [0x01]);
        assert_eq!(sv(1), [0x02]);
        assert_eq!(sv(-64), [0x7f]);
        assert_eq!(sv(64), [0x80, 0x01]);
        assert_eq!(sv(i64::MIN), uv(u64::MAX));
    }

    // Golden bytes: worked out by hand from Prometheus's record.Encoder.
    #[test]
    fn golden_series() {
        let mut b = Vec::new();
        encode_series(
            &[RefSeries {
                series_ref: 0x0102,
                labels: Labels::from_pairs(&[("__name__", "up"), ("a", "b")]),
            }],
            &mut b,
        );
        let mut want = vec![1, 0, 0, 0, 0, 0, 0, 1, 2, 2, 8];
        want.extend_from_slice(b"__name__");
        want.extend_from_slice(&[2, b'u', b'p', 1, b'a', 1, b'b']);
        assert_eq!(b, want);
    }

    #[test]
    fn golden_samples() {
        let mut b = Vec::new();
        encode_samples(
            &[
                RefSample {
                    series_ref: 10,
                    t: 1000,
                    v: 1.0,
                },
                RefSample {
                    series_ref: 9,
                    t: 1015,
                    v: -0.5,
                },
            ],
            &mut b,
        );
        #[rustfmt::skip]
        let want = [
            2,
            0, 0, 0, 0, 0, 0, 0, 10,
            0, 0, 0, 0, 0, 0, 0x03, 0xe8,
            0, 0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,
            1, 30, 0xbf, 0xe0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(b, want);
        b.clear();
        encode_samples(&[], &mut b);
        assert_eq!(b, [2]);
    }

    #[test]
    fn golden_tombstones_markers_metadata() {
        let mut b = Vec::new();
        encode_tombstones(
            &[Tombstone {
                series_ref: 1,
                mint: -1,
                maxt: 64,
            }],
            &mut b,
        );
        assert_eq!(b, [3, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0x80, 0x01]);

        b.clear();
        encode_mmap_markers(
            &[RefMmapMarker {
                series_ref: 2,
                mmap_ref: 0x0000_0001_0000_0008,
            }],
            &mut b,
        );
        assert_eq!(b, [5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 8]);

        b.clear();
        encode_metadata(
            &[RefMetadata {
                series_ref: 300,
                metric_type: MetricType::Gauge,
                unit: String::new(),
                help: "h".into(),
            }],
            &mut b,
        );
        let mut want = vec![6, 0xac, 0x02, 2, 2, 4];
        want.extend_from_slice(b"UNIT");
        want.push(0);
        want.push(4);
        want.extend_from_slice(b"HELP");
        want.extend_from_slice(&[1, b'h']);
        assert_eq!(b, want);
    }

    #[test]
    fn golden_exemplars() {
        let mut b = Vec::new();
        encode_exemplars(
            &[RefExemplar {
                series_ref: 1,
                t: 2,
                v: 0.0,
                labels: Labels::from_pairs(&[("t", "x")]),
            }],
            &mut b,
        );
        #[rustfmt::skip]
        let want = [
            4,
            0, 0, 0, 0, 0, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 0, 2,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 1, b't', 1, b'x',
        ];
        assert_eq!(b, want);
    }
}
