//! Decoders for the record types of [`crate::record`]. Records come from
//! disk and may be corrupt or hostile: every read is bounds-checked and a
//! malformed record is a [`RecordError`], never a panic.

use model::{Label, Labels, MetricType};

use super::{
    metric_type_from_byte, RecordError, RecordType, RefExemplar, RefMetadata, RefMmapMarker,
    RefSample, RefSeries, Tombstone,
};

/// A bounds-checked cursor over one record.
struct Cursor<'a> {
    rec: &'a [u8],
    pos: usize,
    typ: RecordType,
}

impl<'a> Cursor<'a> {
    /// Checks the type byte and positions the cursor after it.
    fn new(rec: &'a [u8], typ: RecordType) -> Result<Cursor<'a>, RecordError> {
        let got = *rec.first().ok_or(RecordError::Empty)?;
        if got != typ.as_byte() {
            return Err(RecordError::WrongType { expected: typ, got });
        }
        Ok(Cursor { rec, pos: 1, typ })
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.rec.len()
    }

    fn remaining(&self) -> usize {
        self.rec.len().saturating_sub(self.pos)
    }

    fn truncated(&self) -> RecordError {
        RecordError::Truncated {
            record: self.typ,
            offset: self.pos,
        }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        let b = self
            .rec
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(b)
    }

    fn byte(&mut self) -> Result<u8, RecordError> {
        Ok(self.bytes(1)?[0])
    }

    fn be64(&mut self) -> Result<u64, RecordError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Go's `binary.Uvarint`: at most 10 bytes, the 10th at most 1.
    fn uvarint(&mut self) -> Result<u64, RecordError> {
        let start = self.pos;
        let mut x: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.rec.get(self.pos) else {
                return Err(RecordError::Truncated {
                    record: self.typ,
                    offset: start,
                });
            };
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(RecordError::VarintOverflow {
                    record: self.typ,
                    offset: start,
                });
            }
            if b < 0x80 {
                return Ok(x | (u64::from(b) << shift));
            }
            x |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
    }

    fn varint(&mut self) -> Result<i64, RecordError> {
        let ux = self.uvarint()?;
        Ok(((ux >> 1) as i64) ^ -((ux & 1) as i64))
    }

    fn str(&mut self) -> Result<&'a str, RecordError> {
        let n = self.uvarint()?;
        let n = usize::try_from(n).map_err(|_| self.truncated())?;
        let at = self.pos;
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| RecordError::InvalidUtf8 {
            record: self.typ,
            offset: at,
        })
    }

    /// Reads a label set. The labels are parsed once to validate them; when
    /// they are sorted and unique (always, for a sane writer) the set is
    /// built on the fast path, otherwise through the sorting builder, since
    /// the bytes come from disk and are not to be trusted.
    fn labels(&mut self) -> Result<Labels, RecordError> {
        let n = self.uvarint()?;
        let start = self.pos;
        let mut sorted = true;
        let mut prev: Option<&str> = None;
        for _ in 0..n {
            let name = self.str()?;
            self.str()?;
            if prev.is_some_and(|p| p >= name) {
                sorted = false;
            }
            prev = Some(name);
        }
        let end = self.pos;
        let mut again = Cursor {
            rec: &self.rec[..end],
            pos: start,
            typ: self.typ,
        };
        let pairs = std::iter::from_fn(move || {
            let name = again.str().ok()?;
            let value = again.str().ok()?;
            Some(Label { name, value })
        });
        if sorted {
            Ok(Labels::from_sorted_unchecked(pairs))
        } else {
            let v: Vec<(&str, &str)> = pairs.map(|l| (l.name, l.value)).collect();
            Ok(Labels::from_pairs(&v))
        }
    }
}

/// Decodes a series record into `out` (cleared first).
pub fn decode_series(rec: &[u8], out: &mut Vec<RefSeries>) -> Result<(), RecordError> {
    out.clear();
    let mut c = Cursor::new(rec, RecordType::Series)?;
    while !c.is_empty() {
        let series_ref = c.be64()?;
        let labels = c.labels()?;
        out.push(RefSeries { series_ref, labels });
    }
    Ok(())
}

/// Decodes a samples record into `out` (cleared first). Allocates only when
/// `out` must grow.
pub fn decode_samples(rec: &[u8], out: &mut Vec<RefSample>) -> Result<(), RecordError> {
    out.clear();
    let mut c = Cursor::new(rec, RecordType::Samples)?;
    if c.is_empty() {
        return Ok(());
    }
    let base_ref = c.be64()?;
    let base_t = c.be64()? as i64;
    // Each sample takes at least 10 bytes, so this never over-reserves by
    // more than the record's own size.
    out.reserve(c.remaining() / 10);
    while !c.is_empty() {
        let dref = c.varint()?;
        let dt = c.varint()?;
        let v = f64::from_bits(c.be64()?);
        out.push(RefSample {
            series_ref: base_ref.wrapping_add(dref as u64),
            t: base_t.wrapping_add(dt),
            v,
        });
    }
    Ok(())
}

/// Decodes a tombstones record into `out` (cleared first).
pub fn decode_tombstones(rec: &[u8], out: &mut Vec<Tombstone>) -> Result<(), RecordError> {
    out.clear();
    let mut c = Cursor::new(rec, RecordType::Tombstones)?;
    while !c.is_empty() {
        let series_ref = c.be64()?;
        let mint = c.varint()?;
        let maxt = c.varint()?;
        out.push(Tombstone {
            series_ref,
            mint,
            maxt,
        });
    }
    Ok(())
}

/// Decodes an exemplars record into `out` (cleared first).
pub fn decode_exemplars(rec: &[u8], out: &mut Vec<RefExemplar>) -> Result<(), RecordError> {
    out.clear();
    let mut c = Cursor::new(rec, RecordType::Exemplars)?;
    if c.is_empty() {
        return Ok(());
    }
    let base_ref = c.be64()?;
    let base_t = c.be64()? as i64;
    while !c.is_empty() {
        let dref = c.varint()?;
        let dt = c.varint()?;
        let v = f64::from_bits(c.be64()?);
        let labels = c.labels()?;
        out.push(RefExemplar {
            series_ref: base_ref.wrapping_add(dref as u64),
            t: base_t.wrapping_add(dt),
            v,
            labels,
        });
    }
    Ok(())
}

/// Decodes an mmap-markers record into `out` (cleared first).
pub fn decode_mmap_markers(rec: &[u8], out: &mut Vec<RefMmapMarker>) -> Result<(), RecordError> {
    out.clear();
    let mut c = Cursor::new(rec, RecordType::MmapMarkers)?;
    while !c.is_empty() {
        let series_ref = c.be64()?;
        let mmap_ref = c.be64()?;
        out.push(RefMmapMarker {
            series_ref,
            mmap_ref,
        });
    }
    Ok(())
}

/// Decodes a metadata record into `out` (cleared first). Fields other than
/// `UNIT` and `HELP` are skipped, so newer writers' extra fields do no harm.
pub fn decode_metadata(rec: &[u8], out: &mut Vec<RefMetadata>) -> Result<(), RecordError> {
    out.clear();
    let mut c = Cursor::new(rec, RecordType::Metadata)?;
    while !c.is_empty() {
        let series_ref = c.uvarint()?;
        let metric_type: MetricType = metric_type_from_byte(c.byte()?);
        let fields = c.uvarint()?;
        let (mut unit, mut help) = ("", "");
        for _ in 0..fields {
            let name = c.str()?;
            let value = c.str()?;
            match name {
                "UNIT" => unit = value,
                "HELP" => help = value,
                _ => {}
            }
        }
        out.push(RefMetadata {
            series_ref,
            metric_type,
            unit: unit.to_owned(),
            help: help.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::encode::*;
    use super::*;
    use proptest::prelude::*;

    fn labels_strategy() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", "\\PC{1,8}", 0..5)
            .prop_map(|m| Labels::from_pairs(&m.into_iter().collect::<Vec<_>>()))
    }

    fn float() -> impl Strategy<Value = f64> {
        any::<u64>().prop_map(f64::from_bits)
    }

    fn metric_type() -> impl Strategy<Value = MetricType> {
        (0u8..8).prop_map(metric_type_from_byte)
    }

    proptest! {
        #[test]
        fn series_round_trip(v in proptest::collection::vec((any::<u64>(), labels_strategy()), 0..20)) {
            let series: Vec<RefSeries> =
                v.into_iter().map(|(series_ref, labels)| RefSeries { series_ref, labels }).collect();
            let mut buf = Vec::new();
            encode_series(&series, &mut buf);
            let mut out = vec![];
            decode_series(&buf, &mut out).unwrap();
            prop_assert_eq!(out, series);
        }

        #[test]
        fn samples_round_trip(v in proptest::collection::vec((any::<u64>(), any::<i64>(), float()), 0..200)) {
            let samples: Vec<RefSample> =
                v.into_iter().map(|(series_ref, t, v)| RefSample { series_ref, t, v }).collect();
            let mut buf = Vec::new();
            encode_samples(&samples, &mut buf);
            let mut out = vec![RefSample { series_ref: 1, t: 1, v: 1.0 }];
            decode_samples(&buf, &mut out).unwrap();
            prop_assert_eq!(out, samples);
        }

        #[test]
        fn tombstones_round_trip(v in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<i64>()), 0..50)) {
            let stones: Vec<Tombstone> =
                v.into_iter().map(|(series_ref, mint, maxt)| Tombstone { series_ref, mint, maxt }).collect();
            let mut buf = Vec::new();
            encode_tombstones(&stones, &mut buf);
            let mut out = vec![];
            decode_tombstones(&buf, &mut out).unwrap();
            prop_assert_eq!(out, stones);
        }

        #[test]
        fn exemplars_round_trip(v in proptest::collection::vec((any::<u64>(), any::<i64>(), float(), labels_strategy()), 0..20)) {
            let ex: Vec<RefExemplar> = v
                .into_iter()
                .map(|(series_ref, t, v, labels)| RefExemplar { series_ref, t, v, labels })
                .collect();
            let mut buf = Vec::new();
            encode_exemplars(&ex, &mut buf);
            let mut out = vec![];
            decode_exemplars(&buf, &mut out).unwrap();
            prop_assert_eq!(out, ex);
        }

        #[test]
        fn mmap_markers_round_trip(v in proptest::collection::vec((any::<u64>(), any::<u64>()), 0..50)) {
            let m: Vec<RefMmapMarker> =
                v.into_iter().map(|(series_ref, mmap_ref)| RefMmapMarker { series_ref, mmap_ref }).collect();
            let mut buf = Vec::new();
            encode_mmap_markers(&m, &mut buf);
            let mut out = vec![];
            decode_mmap_markers(&buf, &mut out).unwrap();
            prop_assert_eq!(out, m);
        }

        #[test]
        fn metadata_round_trip(v in proptest::collection::vec((any::<u64>(), metric_type(), "\\PC{0,10}", "\\PC{0,30}"), 0..20)) {
            let m: Vec<RefMetadata> = v
                .into_iter()
                .map(|(series_ref, metric_type, unit, help)| RefMetadata { series_ref, metric_type, unit, help })
                .collect();
            let mut buf = Vec::new();
            encode_metadata(&m, &mut buf);
            let mut out = vec![];
            decode_metadata(&buf, &mut out).unwrap();
            prop_assert_eq!(out, m);
        }

        #[test]
        fn garbage_never_panics(typ in 1u8..=6, body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut rec = vec![typ];
            rec.extend_from_slice(&body);
            let _ = decode_series(&rec, &mut vec![]);
            let _ = decode_samples(&rec, &mut vec![]);
            let _ = decode_tombstones(&rec, &mut vec![]);
            let _ = decode_exemplars(&rec, &mut vec![]);
            let _ = decode_mmap_markers(&rec, &mut vec![]);
            let _ = decode_metadata(&rec, &mut vec![]);
        }
    }

    #[test]
    fn unsorted_labels_are_sorted() {
        // Two labels written out of order, and a duplicate name.
        let rec = [
            1, 0, 0, 0, 0, 0, 0, 0, 7, 3, 1, b'b', 1, b'2', 1, b'a', 1, b'1', 1, b'a', 1, b'3',
        ];
        let mut out = vec![];
        decode_series(&rec, &mut out).unwrap();
        assert_eq!(out[0].series_ref, 7);
        assert_eq!(out[0].labels, Labels::from_pairs(&[("a", "3"), ("b", "2")]));
    }

    #[test]
    fn malformed_records_are_errors() {
        let mut out = vec![];
        assert_eq!(decode_samples(&[], &mut out), Err(RecordError::Empty));
        assert_eq!(
            decode_samples(&[1], &mut out),
            Err(RecordError::WrongType {
                expected: RecordType::Samples,
                got: 1
            })
        );
        assert_eq!(
            decode_samples(&[2, 0, 0, 0], &mut out),
            Err(RecordError::Truncated {
                record: RecordType::Samples,
                offset: 1
            })
        );
        let mut ser = vec![];
        // A label string of length 5 with 1 byte present.
        assert_eq!(
            decode_series(&[1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 5, b'a'], &mut ser),
            Err(RecordError::Truncated {
                record: RecordType::Series,
                offset: 11
            })
        );
        assert_eq!(
            decode_series(&[1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0xff, 1, b'a'], &mut ser),
            Err(RecordError::InvalidUtf8 {
                record: RecordType::Series,
                offset: 11
            })
        );
        let mut ts = vec![];
        let mut over = vec![3, 0, 0, 0, 0, 0, 0, 0, 1];
        over.extend_from_slice(&[0xff; 10]);
        assert_eq!(
            decode_tombstones(&over, &mut ts),
            Err(RecordError::VarintOverflow {
                record: RecordType::Tombstones,
                offset: 9
            })
        );
        // A huge label count with no labels behind it must not allocate or panic.
        let mut big = vec![1, 0, 0, 0, 0, 0, 0, 0, 1];
        big.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(decode_series(&big, &mut ser).is_err());
    }

    #[test]
    fn metadata_skips_unknown_fields() {
        let mut rec = vec![6, 5, 1, 3];
        for (n, v) in [("X", "y"), ("HELP", "h"), ("UNIT", "u")] {
            put_uvarint(&mut rec, n.len() as u64);
            rec.extend_from_slice(n.as_bytes());
            put_uvarint(&mut rec, v.len() as u64);
            rec.extend_from_slice(v.as_bytes());
        }
        let mut out = vec![];
        decode_metadata(&rec, &mut out).unwrap();
        assert_eq!(
            out,
            [RefMetadata {
                series_ref: 5,
                metric_type: MetricType::Counter,
                unit: "u".into(),
                help: "h".into()
            }]
        );
    }
}
