//! Index benchmarks: writing a 100k-series index, intersecting large postings
//! lists, and the reader lookups a query makes (label values, postings,
//! matcher selection).
//!
//! Run with `cargo bench -p tsdb --bench index -- --warm-up-time 1 --measurement-time 3`.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use model::{Labels, MatchType, Matcher};
use tsdb::index::{
    expand, intersect, postings_for_matchers, BoxPostings, ChunkMeta, IndexReader, IndexWriter,
    ListPostings,
};

const SERIES: usize = 100_000;

/// 100 metric names × 1000 instances, 10 jobs.
fn series() -> Vec<Labels> {
    let mut out: Vec<Labels> = (0..SERIES)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", format!("metric_{:02}", i % 100)),
                ("instance", format!("host-{:04}:9100", i / 100)),
                ("job", format!("job{}", i % 10)),
            ])
        })
        .collect();
    out.sort();
    out
}

fn symbols(series: &[Labels]) -> BTreeSet<&str> {
    series
        .iter()
        .flat_map(|l| l.iter().flat_map(|p| [p.name, p.value]))
        .collect()
}

/// Writes the index; `symbols` are computed by the caller, as a head or a
/// compactor has them at hand.
fn write(path: &Path, series: &[Labels], symbols: &BTreeSet<&str>) {
    let mut w = IndexWriter::create(path).unwrap();
    for s in symbols {
        w.add_symbol(s).unwrap();
    }
    for (i, l) in series.iter().enumerate() {
        let c = ChunkMeta {
            min_time: 1_700_000_000_000,
            max_time: 1_700_000_000_000 + 7_200_000,
            chunk_ref: i as u64 * 200,
        };
        w.add_series(l, &[c]).unwrap();
    }
    w.finish().unwrap();
}

fn bench_write(c: &mut Criterion) {
    let s = series();
    let syms = symbols(&s);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let mut g = c.benchmark_group("index_write");
    g.sample_size(10);
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("100k_series", |b| b.iter(|| write(&path, &s, &syms)));
    g.finish();
}

fn bench_postings(c: &mut Criterion) {
    let a: Vec<u64> = (0..2_000_000).step_by(2).collect();
    let b: Vec<u64> = (0..2_000_000).step_by(3).collect();
    let mut g = c.benchmark_group("postings");
    g.throughput(Throughput::Elements((a.len() + b.len()) as u64));
    g.bench_function("intersect_1M_667k", |bench| {
        bench.iter_batched(
            || {
                let its: Vec<BoxPostings<'_>> = vec![
                    Box::new(ListPostings::new(a.clone())),
                    Box::new(ListPostings::new(b.clone())),
                ];
                its
            },
            |its| black_box(expand(intersect(its)).len()),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let s = series();
    write(&path, &s, &symbols(&s));
    let r = IndexReader::open(&path).unwrap();
    let mut g = c.benchmark_group("index_read");
    g.bench_function("intersect_job_10k_name_1k", |bench| {
        bench.iter(|| {
            let its = vec![
                r.postings("job", &["job3"]).unwrap(),
                r.postings("__name__", &["metric_13"]).unwrap(),
            ];
            black_box(expand(intersect(its)).len())
        })
    });
    g.bench_function("label_values_1000", |bench| {
        bench.iter(|| black_box(r.label_values("instance").unwrap().len()))
    });
    g.bench_function("label_values_10", |bench| {
        bench.iter(|| black_box(r.label_values("job").unwrap().len()))
    });
    g.bench_function("postings_one_value", |bench| {
        bench.iter(|| black_box(expand(r.postings("instance", &["host-0517:9100"]).unwrap())))
    });
    let instances = r.label_values("instance").unwrap();
    g.bench_function("postings_1000_values_merged", |bench| {
        bench.iter(|| black_box(expand(r.postings("instance", &instances).unwrap()).len()))
    });
    let ms = [
        Matcher::new(MatchType::Regex, "instance", "host-05.*").unwrap(),
        Matcher::new(MatchType::NotEqual, "job", "job1").unwrap(),
        Matcher::equal("__name__", "metric_07"),
    ];
    g.bench_function("postings_for_matchers", |bench| {
        bench.iter(|| black_box(expand(postings_for_matchers(&r, &ms).unwrap()).len()))
    });
    let mut chunks = Vec::new();
    let id = expand(r.all_postings().unwrap())[SERIES / 2];
    g.bench_function("series_by_ref", |bench| {
        bench.iter(|| black_box(r.series(id, &mut chunks).unwrap()))
    });
    g.finish();
}

// The macro defines an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench_write, bench_postings);
}
criterion_main!(group::benches);
