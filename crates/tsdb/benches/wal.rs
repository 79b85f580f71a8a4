//! WAL throughput: encoding samples records and logging them, and replaying
//! (reading and decoding) them.
//!
//! Run with `cargo bench -p tsdb --bench wal -- --warm-up-time 1 --measurement-time 3`.

use std::path::Path;

use criterion::{Criterion, Throughput};
use tsdb::record::{decode_samples, encode_samples, RefSample};
use tsdb::wal::{Compression, Wal, WalOptions, WalReader};

const SAMPLES_PER_RECORD: usize = 1000;
const RECORDS: usize = 200;

/// One scrape's worth of samples: 1000 series, one sample each, realistic
/// values (a counter-like ramp with noise in the low bits).
fn samples(round: usize) -> Vec<RefSample> {
    (0..SAMPLES_PER_RECORD)
        .map(|i| RefSample {
            series_ref: i as u64 + 1,
            t: 1_700_000_000_000 + round as i64 * 15_000,
            v: (round * 100 + i) as f64 * 1.5,
        })
        .collect()
}

fn write_wal(dir: &Path, compression: Compression) -> u64 {
    let opts = WalOptions {
        compression,
        ..WalOptions::default()
    };
    let (mut w, _) = Wal::open(dir, opts).unwrap();
    let mut buf = Vec::new();
    let mut bytes = 0;
    for round in 0..RECORDS {
        buf.clear();
        encode_samples(&samples(round), &mut buf);
        bytes += buf.len() as u64;
        w.log(&[&buf]).unwrap();
    }
    w.close().unwrap();
    bytes
}

fn bench_wal(c: &mut Criterion) {
    let mut g = c.benchmark_group("wal");
    g.sample_size(10);
    let mut rec = Vec::new();
    encode_samples(&samples(0), &mut rec);
    let record_bytes = (rec.len() * RECORDS) as u64;

    // Encoding alone, to tell it apart from the I/O below.
    let batches: Vec<Vec<RefSample>> = (0..RECORDS).map(samples).collect();
    g.throughput(Throughput::Bytes(record_bytes));
    g.bench_function("encode_only", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            for s in &batches {
                buf.clear();
                encode_samples(s, &mut buf);
            }
            buf.len()
        })
    });

    for (name, compression) in [("snappy", Compression::Snappy), ("none", Compression::None)] {
        g.throughput(Throughput::Bytes(record_bytes));
        // One long-lived WAL, as the head has: segments are cut (and fsynced)
        // every 8 MiB and the completed ones deleted between iterations.
        let d = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            compression,
            segment_size: 8 << 20,
            ..WalOptions::default()
        };
        let (mut w, _) = Wal::open(d.path(), opts).unwrap();
        let mut buf = Vec::new();
        g.bench_function(format!("encode_and_log_{name}"), |b| {
            b.iter(|| {
                for s in &batches {
                    buf.clear();
                    encode_samples(s, &mut buf);
                    w.log(&[&buf]).unwrap();
                }
                let cur = w.current_segment();
                w.truncate(cur).unwrap();
            })
        });
        drop(w);

        let d = tempfile::tempdir().unwrap();
        write_wal(d.path(), compression);
        g.bench_function(format!("replay_{name}"), |b| {
            let mut out = Vec::with_capacity(SAMPLES_PER_RECORD);
            b.iter(|| {
                let mut r = WalReader::open(d.path(), None, None).unwrap();
                let mut n = 0;
                while let Some(rec) = r.next() {
                    decode_samples(rec.unwrap(), &mut out).unwrap();
                    n += out.len();
                }
                assert_eq!(n, SAMPLES_PER_RECORD * RECORDS);
            })
        });
    }
    g.finish();
}

fn main() {
    // Written out instead of criterion_main!, whose generated functions
    // carry no docs and trip the workspace's missing_docs lint.
    let mut c = Criterion::default().configure_from_args();
    bench_wal(&mut c);
    c.final_summary();
}
