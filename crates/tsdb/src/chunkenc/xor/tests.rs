use super::*;
use crate::chunkenc::ChunkError;
use model::STALE_NAN;
use proptest::prelude::*;

fn chunk_of(samples: &[(i64, f64)]) -> XorChunk {
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, v);
    }
    c
}

fn bits(samples: &[(i64, f64)]) -> Vec<(i64, u64)> {
    samples.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

fn decode(b: &[u8]) -> (Vec<(i64, f64)>, Option<ChunkError>) {
    match XorIter::new(b) {
        Ok(mut it) => {
            let s: Vec<_> = it.by_ref().collect();
            (s, it.error().cloned())
        }
        Err(e) => (Vec::new(), Some(e)),
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_default())
        .collect()
}

#[test]
fn inline_size() {
    assert_eq!(std::mem::size_of::<XorChunk>(), 48);
    assert_eq!(XorChunk::new().capacity(), 128);
}

#[test]
fn empty_chunk() {
    let c = XorChunk::new();
    assert_eq!(c.bytes(), &[0, 0]);
    assert_eq!(c.num_samples(), 0);
    assert_eq!(c.last(), None);
    assert_eq!(c.iter().next(), None);
}

/// Written by Prometheus 2.42 (promtool create-blocks-from openmetrics):
/// the `const` series of `testdata/chunks/golden.om`, 30 samples of 42
/// one second apart.
#[test]
fn golden_constant_chunk_from_prometheus() {
    let samples: Vec<_> = (1..=30)
        .map(|i| (1_700_000_000_000 + i * 1000, 42.0))
        .collect();
    let want = hex("001ed0afabfef9624045000000000000e8070000000000000000");
    assert_eq!(chunk_of(&samples).bytes(), &want[..]);
    assert_eq!(bits(&decode(&want).0), bits(&samples));
}

/// Worked out by hand from the format: header 3, varint 1000 (zig-zag
/// 2000), 1.0, delta 1000, repeat bit, dod 0 bit, then 2.0 ^ 1.0 =
/// 0x7ff0… with a new window `11 00001 001011` and 11 significant ones.
#[test]
fn golden_new_window() {
    let samples = [(1000, 1.0), (2000, 1.0), (3000, 2.0)];
    let want = hex("0003d00f3ff0000000000000e8073097ffc0");
    assert_eq!(chunk_of(&samples).bytes(), &want[..]);
}

#[test]
fn dod_bucket_edges() {
    // Prometheus's buckets admit 2^(n-1) on the positive side only.
    let mut ts = vec![0i64, 10_000];
    let mut delta = 10_000i64;
    for dod in [
        0,
        8192,
        -8191,
        -8192,
        8193,
        65536,
        -65535,
        -65536,
        65537,
        524_288,
        -524_287,
        -524_288,
        524_289,
        1 << 40,
        -(1 << 40),
    ] {
        delta += dod;
        ts.push(ts[ts.len() - 1] + delta);
    }
    let samples: Vec<_> = ts.iter().map(|&t| (t, 1.5)).collect();
    let c = chunk_of(&samples);
    assert_eq!(bits(&decode(c.bytes()).0), bits(&samples));
}

#[test]
fn special_values_keep_their_bits() {
    let samples = [
        (-5, STALE_NAN),
        (0, f64::NAN),
        (7, -0.0),
        (8, 0.0),
        (9, f64::INFINITY),
        (10, f64::NEG_INFINITY),
        (11, STALE_NAN),
        (12, f64::from_bits(0x7ff8_0000_0000_0001)),
        (13, f64::MIN_POSITIVE),
        (14, f64::MAX),
    ];
    let c = chunk_of(&samples);
    let (got, err) = decode(c.bytes());
    assert_eq!(err, None);
    assert_eq!(bits(&got), bits(&samples));
    assert_eq!(c.last().map(|s| s.1.to_bits()), Some(f64::MAX.to_bits()));
    assert_eq!(c.first_time(), Some(-5));
    assert_eq!(XorChunk::new().first_time(), None);
}

#[test]
fn seek_and_at() {
    let samples: Vec<_> = (0..10).map(|i| (i * 10, i as f64)).collect();
    let c = chunk_of(&samples);
    let mut it = c.iter();
    assert_eq!(it.seek(-100), Some((0, 0.0)));
    assert_eq!(
        it.seek(0),
        Some((0, 0.0)),
        "seek does not move past a match"
    );
    assert_eq!(it.seek(35), Some((40, 4.0)));
    assert_eq!(it.at(), (40, 4.0));
    assert_eq!(it.seek(10), Some((40, 4.0)), "seek never moves backwards");
    assert_eq!(it.next(), Some((50, 5.0)));
    assert_eq!(it.seek(90), Some((90, 9.0)));
    assert_eq!(it.seek(91), None);
    assert_eq!(it.error(), None);
}

#[test]
fn resume_matches_prometheus_window_rule() {
    // Constant values never open a window, so a resumed appender reuses
    // the (0, 0) window: `10` + 64 bits, where a fresh one opens a window.
    let head = [(1, 3.0), (2, 3.0), (3, 3.0)];
    let c = chunk_of(&head);
    let mut resumed = XorChunk::from_bytes(c.bytes().to_vec()).unwrap_or_default();
    resumed.append(4, 5.0);
    let mut fresh = c.clone();
    fresh.append(4, 5.0);
    // 3.0 ^ 5.0 has 3 significant bits: 2 + 5 + 6 + 3 bits fresh, 2 + 64
    // resumed.
    assert_eq!(fresh.bytes().len(), 15);
    assert_eq!(resumed.bytes().len(), 21);
    let want = bits(&[(1, 3.0), (2, 3.0), (3, 3.0), (4, 5.0)]);
    assert_eq!(bits(&decode(resumed.bytes()).0), want);
    assert_eq!(bits(&decode(fresh.bytes()).0), want);
}

#[test]
fn from_bytes_rejects_corruption() {
    let samples: Vec<_> = (0..50).map(|i| (i * 15_000, i as f64 * 1.1)).collect();
    let c = chunk_of(&samples);
    let b = c.bytes();
    assert!(matches!(
        XorChunk::from_bytes(b[..1].to_vec()),
        Err(ChunkError::MissingHeader { len: 1 })
    ));
    assert_eq!(
        XorChunk::from_bytes(vec![0; (64 << 20) + 1]).err(),
        Some(ChunkError::TooLarge {
            len: (64 << 20) + 1
        })
    );
    assert!(matches!(
        XorChunk::from_bytes(b[..b.len() - 3].to_vec()),
        Err(ChunkError::Truncated { total: 50, .. })
    ));
}

#[test]
fn bad_window_is_an_error() {
    // Sample 1 opens a window of 31 leading zeros and 40 significant bits.
    let mut b = hex("0002d00f3ff0000000000000e807");
    b.extend_from_slice(&[0b1111_1111, 0b0100_0000, 0, 0, 0, 0, 0]);
    let (got, err) = decode(&b);
    assert_eq!(got.len(), 1);
    assert_eq!(
        err,
        Some(ChunkError::BadValueWindow {
            sample: 1,
            leading: 31,
            significant: 40
        })
    );
}

#[test]
fn varint_overflow_is_an_error() {
    let b = [
        0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert_eq!(decode(&b).1, Some(ChunkError::VarintOverflow { sample: 0 }));
}

#[test]
fn shrink_keeps_bytes() {
    let samples: Vec<_> = (0..120).map(|i| (i * 15_000, (i % 7) as f64)).collect();
    let mut c = chunk_of(&samples);
    let before = c.bytes().to_vec();
    c.shrink_to_fit();
    assert_eq!(c.capacity(), before.len());
    assert_eq!(c.bytes(), &before[..]);
    c.append(120 * 15_000, 1.0);
    assert_eq!(c.iter().count(), 121);
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => (-1000i32..1000).prop_map(f64::from),
        1 => Just(STALE_NAN),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(0.0),
        1 => any::<u64>().prop_map(f64::from_bits),
    ]
}

fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => Just(15_000i64),
        4 => 14_900i64..15_100,
        2 => 1i64..10,
        2 => 1i64..(1 << 21),
        1 => 1i64..(1 << 40),
        1 => 1i64..(i64::MAX / 4096),
    ]
}

fn samples() -> impl Strategy<Value = Vec<(i64, f64)>> {
    (
        any::<i64>().prop_map(|t| t >> 2),
        proptest::collection::vec((gap(), value()), 0..300),
    )
        .prop_map(|(start, steps)| {
            let mut t = start;
            steps
                .into_iter()
                .map(|(g, v)| {
                    t = t.saturating_add(g);
                    (t, v)
                })
                .collect()
        })
}

proptest! {
    #[test]
    fn round_trip(s in samples()) {
        let c = chunk_of(&s);
        prop_assert_eq!(usize::from(c.num_samples()), s.len());
        let (got, err) = decode(c.bytes());
        prop_assert_eq!(err, None);
        prop_assert_eq!(bits(&got), bits(&s));
    }

    #[test]
    fn resume_round_trip(s in samples(), cut in any::<prop::sample::Index>()) {
        let k = if s.is_empty() { 0 } else { cut.index(s.len() + 1) };
        let first = chunk_of(&s[..k]);
        let resumed = XorChunk::from_bytes(first.bytes().to_vec());
        prop_assert!(resumed.is_ok());
        let mut c = resumed.unwrap_or_default();
        for &(t, v) in &s[k..] {
            c.append(t, v);
        }
        let (got, err) = decode(c.bytes());
        prop_assert_eq!(err, None);
        prop_assert_eq!(bits(&got), bits(&s));
    }

    #[test]
    fn truncation_is_an_error(s in samples(), cut in any::<prop::sample::Index>()) {
        let c = chunk_of(&s);
        let b = c.bytes();
        let n = cut.index(b.len());
        let (got, err) = decode(&b[..n]);
        // The last byte always holds bits of the last sample (padding is
        // less than a byte), so any cut loses data and must be noticed.
        prop_assert!(err.is_some());
        prop_assert!(got.len() < s.len().max(1));
        prop_assert!(XorChunk::from_bytes(b[..n].to_vec()).is_err());
    }

    #[test]
    fn corrupt_bytes_never_panic(s in samples(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut b = chunk_of(&s).bytes().to_vec();
        for (i, x) in flips {
            let i = i.index(b.len());
            b[i] ^= x;
        }
        let (got, _) = decode(&b);
        prop_assert!(got.len() <= usize::from(u16::from_be_bytes([b[0], b[1]])));
        if let Ok(mut c) = XorChunk::from_bytes(b.clone()) {
            if !c.is_full() {
                let t = c.last().map_or(0, |l| l.0.wrapping_add(1));
                c.append(t, 1.0);
                let (got2, err2) = decode(c.bytes());
                prop_assert_eq!(err2, None);
                prop_assert_eq!(got2.len(), got.len() + 1);
            }
        }
    }
}
