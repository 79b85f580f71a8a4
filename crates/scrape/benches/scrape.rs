//! A steady-state scrape: a 10,000-series text body whose every series the
//! scrape cache already knows, through parse, cache look-up and append, in
//! one transaction with its report series — the work a scrape loop does per
//! target and interval once the target is warm. Reported as samples per
//! second.
//!
//! `null` appends to a store that does nothing, so it measures the scrape
//! path alone; `head` appends to pharos's TSDB head (no WAL); `memstorage`
//! to the test store `storage::MemStorage`, whose appender looks up every
//! pending sample linearly (quadratic in the scrape size), so it measures
//! that store more than the scrape.
//!
//! Run: `cargo bench -p scrape --bench scrape -- --warm-up-time 1 --measurement-time 3`

// criterion's macros generate undocumented public items.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model::{Labels, Timestamp};
use scrape::{Fetched, Ingester, ScrapeOptions};
use storage::{Appendable, DiscardStorage, MemStorage};

const SERIES: usize = 10_000;

/// 100 families of 100 series with two labels each, node_exporter-like.
fn body() -> String {
    let mut b = String::new();
    for f in 0..100 {
        let _ = writeln!(b, "# HELP node_metric_{f}_total Something counted.");
        let _ = writeln!(b, "# TYPE node_metric_{f}_total counter");
        for s in 0..100 {
            let _ = writeln!(
                b,
                "node_metric_{f}_total{{device=\"dev{s}\",mode=\"user\"}} {}.{}",
                f * 1000 + s,
                s
            );
        }
    }
    b
}

fn steady_state(c: &mut Criterion) {
    let body = body();
    let opts = ScrapeOptions::new("node");
    let target = Labels::from_pairs(&[("instance", "host:9100"), ("job", "node")]);
    let mut g = c.benchmark_group("steady_state_scrape");
    g.throughput(Throughput::Elements(SERIES as u64));
    let stores: [(&str, Box<dyn Appendable>); 3] = [
        ("null", Box::new(DiscardStorage)),
        (
            "head",
            Box::new(tsdb::head::Head::new(Default::default(), None)),
        ),
        ("memstorage", Box::new(MemStorage::new())),
    ];
    for (name, store) in stores {
        if name == "memstorage" {
            g.sample_size(10);
        }
        let mut ingester = Ingester::new(target.clone(), &opts, Duration::from_secs(10));
        let mut t: Timestamp = 1_700_000_000_000;
        let mut scrape = |t: Timestamp| {
            let fetched = Fetched::Body {
                body: body.as_bytes(),
                content_type: "text/plain; version=0.0.4",
            };
            let s = ingester.ingest(store.as_ref(), fetched, t, Instant::now());
            assert!(s.error.is_none() && s.commit_error.is_none(), "{s:?}");
            assert_eq!(s.samples_post_relabel, SERIES);
        };
        // Warm the cache: the first scrape builds every label set.
        scrape(t);
        g.bench_function(name, |b| {
            b.iter(|| {
                t += 15_000;
                scrape(t);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, steady_state);
criterion_main!(benches);
