use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::chunkenc::{ChunkError, Encoding, XorChunk};

/// `testdata/chunks/`: `golden.om` turned into a block by Prometheus 2.42's
/// `promtool tsdb create-blocks-from openmetrics`; `000001` is that block's
/// only chunk segment and `golden.dump` is `promtool tsdb dump` of it.
fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/chunks")
}

/// Samples of `golden.dump` in its order (series sorted by labels, which is
/// also the order of their chunks in the segment).
fn golden_samples() -> Vec<(i64, f64)> {
    let text = std::fs::read_to_string(golden_dir().join("golden.dump")).unwrap();
    text.lines()
        .map(|line| {
            let mut it = line.rsplitn(3, ' ');
            let t = it.next().unwrap().parse().unwrap();
            let v = match it.next().unwrap() {
                "NaN" => f64::NAN,
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                s => s.parse().unwrap(),
            };
            (t, v)
        })
        .collect()
}

fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan()
}

/// All chunks of the golden segment: ref, encoding, data.
fn golden_chunks(r: &ChunkReader) -> Vec<(u64, Encoding, Vec<u8>)> {
    assert_eq!(r.segment_count(), 1);
    r.segment_chunks(0)
        .map(|c| {
            let (r, c) = c.unwrap();
            (r, c.encoding, c.data.to_vec())
        })
        .collect()
}

#[test]
fn golden_segment_decodes_to_promtool_dump() {
    let r = ChunkReader::open(golden_dir()).unwrap();
    let chunks = golden_chunks(&r);
    assert_eq!(chunks.len(), 5, "const, 3 × http_requests_total, temp");
    let mut got = Vec::new();
    for (cref, enc, data) in &chunks {
        assert_eq!(*enc, Encoding::Xor);
        assert_eq!(r.chunk(*cref).unwrap().data, &data[..]);
        let mut it = r.chunk(*cref).unwrap().float_iter().unwrap();
        got.extend(it.by_ref());
        assert_eq!(it.error(), None);
    }
    let want = golden_samples();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            g.0 == w.0 && same_value(g.1, w.1),
            "sample {i}: {g:?} != {w:?}"
        );
    }
}

#[test]
fn golden_segment_is_what_pharos_writes() {
    let r = ChunkReader::open(golden_dir()).unwrap();
    let chunks = golden_chunks(&r);
    let tmp = tempfile::tempdir().unwrap();
    let mut w = ChunkWriter::new(tmp.path()).unwrap();
    for (cref, _, data) in &chunks {
        // Re-encode the decoded samples: Prometheus's bytes must come out.
        let mut c = XorChunk::new();
        for (t, v) in crate::chunkenc::XorIter::new(data).unwrap() {
            c.append(t, v);
        }
        assert_eq!(c.bytes(), &data[..], "chunk {cref:#x}");
        assert_eq!(w.write_chunk(Encoding::Xor, c.bytes()).unwrap(), *cref);
    }
    w.close().unwrap();
    let ours = std::fs::read(tmp.path().join("000001")).unwrap();
    let theirs = std::fs::read(golden_dir().join("000001")).unwrap();
    assert_eq!(ours, theirs);
}

/// Asks the installed promtool to rebuild the golden block, so the checked
/// in segment stays what the real binary writes.
#[test]
fn promtool_writes_the_golden_segment() {
    let promtool = Path::new("/usr/bin/promtool");
    if !promtool.exists() {
        eprintln!("skipped: {} not installed", promtool.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(golden_dir().join("golden.om"))
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let block = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("chunks").is_dir())
        .unwrap();
    let theirs = std::fs::read(block.join("chunks/000001")).unwrap();
    let golden = std::fs::read(golden_dir().join("000001")).unwrap();
    assert_eq!(theirs, golden);
}

fn write_segment(tmp: &Path, chunks: &[&[u8]]) -> Vec<u64> {
    let mut w = ChunkWriter::new(tmp).unwrap();
    let refs = chunks
        .iter()
        .map(|c| w.write_chunk(Encoding::Xor, c).unwrap())
        .collect();
    w.close().unwrap();
    refs
}

fn sample_chunk(n: i64) -> Vec<u8> {
    let mut c = XorChunk::new();
    for i in 0..n {
        c.append(i * 15_000, (i * i) as f64);
    }
    c.bytes().to_vec()
}

#[test]
fn layout_and_refs() {
    let tmp = tempfile::tempdir().unwrap();
    let a = sample_chunk(3);
    let refs = write_segment(tmp.path(), &[&a, &[0, 0]]);
    let file = std::fs::read(tmp.path().join("000001")).unwrap();
    let mut want = vec![0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0, a.len() as u8, 1];
    want.extend_from_slice(&a);
    let crc = crc32c::crc32c_append(crc32c::crc32c(&[1]), &a);
    want.extend_from_slice(&crc.to_be_bytes());
    let second = want.len() as u32;
    want.extend_from_slice(&[2, 1, 0, 0]);
    want.extend_from_slice(&crc32c::crc32c(&[1, 0, 0]).to_be_bytes());
    assert_eq!(file, want);
    assert_eq!(refs, vec![chunk_ref(0, 8), chunk_ref(0, second)]);
    assert_eq!(split_chunk_ref(chunk_ref(7, 99)), (7, 99));
}

#[test]
fn segments_are_cut_like_prometheus() {
    // Each 10-byte chunk counts as 5 + 1 + 10 + 4 = 20 bytes when sizing.
    let tmp = tempfile::tempdir().unwrap();
    let mut w = ChunkWriter::with_segment_size(tmp.path(), 70).unwrap();
    let d = [7u8; 10];
    let mut refs = Vec::new();
    // 8 + 3 × 20 = 68 fits one segment.
    w.write_series([(Encoding::Xor, &d[..]); 3], &mut refs)
        .unwrap();
    // Segment 0 holds 56 bytes (real length fields are 1 byte), but 56 +
    // 20 > 70: the series starts segment 1 and all of it fits there.
    w.write_series([(Encoding::Xor, &d[..]); 3], &mut refs)
        .unwrap();
    // Segment 2 again; within it 8 + 4 × 20 > 70, so the 4th starts segment 3.
    w.write_series([(Encoding::Xor, &d[..]); 4], &mut refs)
        .unwrap();
    w.close().unwrap();
    let segs: Vec<u32> = refs.iter().map(|&r| split_chunk_ref(r).0).collect();
    assert_eq!(segs, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
    let r = ChunkReader::open(tmp.path()).unwrap();
    assert_eq!(r.segment_count(), 4);
    for cref in refs {
        assert_eq!(r.chunk(cref).unwrap().data, &d[..]);
    }
}

#[test]
fn writer_refuses_bad_setup() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(
        ChunkWriter::with_segment_size(tmp.path(), 0),
        Err(ChunkFileError::BadSegmentSize { size: 0 })
    ));
    std::fs::write(tmp.path().join("000003"), b"x").unwrap();
    let err = ChunkWriter::new(tmp.path()).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("already holds segment file 000003"));
}

fn reopen_err(dir: &Path) -> String {
    ChunkReader::open(dir).unwrap_err().to_string()
}

#[test]
fn bad_headers_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("000001");
    std::fs::write(&f, [0x85, 0xbd, 0x40]).unwrap();
    assert!(reopen_err(tmp.path()).contains("3 bytes is shorter than the 8-byte header"));
    std::fs::write(&f, [0x85, 0xbd, 0x40, 0xde, 1, 0, 0, 0]).unwrap();
    assert!(reopen_err(tmp.path()).ends_with("bad magic number 0x85bd40de"));
    std::fs::write(&f, [0x85, 0xbd, 0x40, 0xdd, 2, 0, 0, 0]).unwrap();
    assert!(reopen_err(tmp.path()).ends_with("unsupported format version 2"));
    std::fs::write(&f, [0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0]).unwrap();
    let r = ChunkReader::open(tmp.path()).unwrap();
    assert_eq!(r.segment_chunks(0).count(), 0);
}

#[test]
fn corrupt_chunks_name_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let a = sample_chunk(5);
    let refs = write_segment(tmp.path(), &[&a, &a]);
    let path = tmp.path().join("000001");
    let good = std::fs::read(&path).unwrap();
    let name = path.display().to_string();

    let mut flipped = good.clone();
    flipped[12] ^= 0x10;
    std::fs::write(&path, &flipped).unwrap();
    let r = ChunkReader::open(tmp.path()).unwrap();
    let err = r.chunk(refs[0]).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("cannot read chunk at {name}:8: checksum mismatch")),
        "{err}"
    );
    assert!(r.chunk(refs[1]).is_ok());
    drop(r);

    std::fs::write(&path, &good[..good.len() - 1]).unwrap();
    let r = ChunkReader::open(tmp.path()).unwrap();
    let err = r.chunk(refs[1]).unwrap_err().to_string();
    let off = split_chunk_ref(refs[1]).1;
    assert!(
        err.starts_with(&format!("cannot read chunk at {name}:{off}: ")),
        "{err}"
    );
    assert!(err.contains("run past the end"), "{err}");
    let all: Vec<_> = r.segment_chunks(0).collect();
    assert_eq!(all.len(), 2);
    assert!(all[0].is_ok() && all[1].is_err());

    for bad in [chunk_ref(0, 3), chunk_ref(0, 1 << 20), chunk_ref(1, 8)] {
        assert!(r.chunk(bad).is_err(), "{bad:#x}");
    }
    assert_eq!(
        r.chunk(chunk_ref(1, 8)).unwrap_err().to_string(),
        "cannot read chunk 0x100000008: segment 1 does not exist (1 segments)"
    );
}

#[test]
fn unknown_and_histogram_encodings() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = ChunkWriter::new(tmp.path()).unwrap();
    let h = w.write_chunk(Encoding::Histogram, &[0, 0, 1]).unwrap();
    w.close().unwrap();
    let path = tmp.path().join("000001");
    let r = ChunkReader::open(tmp.path()).unwrap();
    let c = r.chunk(h).unwrap();
    assert_eq!(c.encoding, Encoding::Histogram);
    assert_eq!(
        c.float_iter().err(),
        Some(ChunkError::UnsupportedEncoding(2))
    );
    drop(r);
    // Encoding byte 9 with a valid CRC.
    let mut b = std::fs::read(&path).unwrap();
    b[9] = 9;
    let crc = crc32c::crc32c(&b[9..13]);
    b[13..17].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&path, &b).unwrap();
    let r = ChunkReader::open(tmp.path()).unwrap();
    assert!(r
        .chunk(h)
        .unwrap_err()
        .to_string()
        .ends_with(":8: unknown encoding byte 9"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn write_read_round_trip(
        series in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..4),
            1..20,
        ),
        segment_size in 50u64..2000,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::with_segment_size(tmp.path(), segment_size).unwrap();
        let mut refs = Vec::new();
        for s in &series {
            w.write_series(s.iter().map(|c| (Encoding::Xor, &c[..])), &mut refs).unwrap();
        }
        w.close().unwrap();
        let r = ChunkReader::open(tmp.path()).unwrap();
        let all: Vec<&Vec<u8>> = series.iter().flatten().collect();
        prop_assert_eq!(refs.len(), all.len());
        for (cref, want) in refs.iter().zip(&all) {
            let c = r.chunk(*cref).unwrap();
            prop_assert_eq!(c.data, &want[..]);
        }
        // Walking the segments finds the same chunks in the same order.
        let walked: Vec<u64> = (0..r.segment_count())
            .flat_map(|i| r.segment_chunks(i).map(|c| c.unwrap().0))
            .collect();
        prop_assert_eq!(walked, refs);
    }

    #[test]
    fn corrupt_segments_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        probes in proptest::collection::vec(0u32..400, 0..20),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let chunks = [sample_chunk(20), sample_chunk(1), sample_chunk(40)];
        let refs = write_segment(tmp.path(), &[&chunks[0], &chunks[1], &chunks[2]]);
        let path = tmp.path().join("000001");
        let mut b = std::fs::read(&path).unwrap();
        for (i, x) in flips {
            let i = 8 + i.index(b.len() - 8);
            b[i] ^= x;
        }
        b.truncate(8 + cut.index(b.len() - 7));
        std::fs::write(&path, &b).unwrap();
        let r = ChunkReader::open(tmp.path()).unwrap();
        for cref in refs.iter().copied().chain(probes.into_iter().map(|o| chunk_ref(0, o))) {
            if let Ok(c) = r.chunk(cref) {
                if let Ok(it) = c.float_iter() {
                    let _ = it.count();
                }
            }
        }
        // Walking stops at the first bad chunk.
        let walked: Vec<_> = r.segment_chunks(0).collect();
        prop_assert!(walked.iter().rev().skip(1).all(|c| c.is_ok()));
    }
}
