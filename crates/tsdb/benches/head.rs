//! Benchmarks of the head: append throughput and WAL replay time, plus the
//! heap the head uses per series (printed, measured by a counting
//! allocator).
//!
//! - `append/100k_series`: one "scrape" of 100k series per iteration, in
//!   commits of 1000 samples, with ref hints as a scraper uses them, WAL on.
//! - `replay/<n>_series`: opening a head from a WAL of `n` series with
//!   `PHAROS_BENCH_REPLAY_SAMPLES` samples each (default 30).
//!   `PHAROS_BENCH_REPLAY_SERIES` sets `n` (default 100000; the headline
//!   figure is measured with 1000000). `PHAROS_BENCH_REPLAY_WORKERS` sets the
//!   apply threads (default 1). With `PHAROS_BENCH_REPLAY_DIR=<dir>` the WAL
//!   is written to `<dir>/wal` and kept, so that Prometheus can be started
//!   on `<dir>` to compare its replay time (it logs "WAL replay completed").
//!
//! Run: `cargo bench -p tsdb --bench head -- --warm-up-time 1 --measurement-time 3`.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use model::Labels;
use storage::{Appendable, Appender, SeriesRef};
use tsdb::head::{Head, HeadOptions};
use tsdb::wal::WalOptions;

/// Counts live heap bytes, to report what the head costs per series.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Label sets shaped like a node exporter's: a metric name, job, instance
/// and two more labels.
fn series(n: usize) -> Vec<Labels> {
    (0..n)
        .map(|i| {
            Labels::from_pairs(&[
                ("__name__", format!("metric_{}", i % 1000)),
                ("instance", format!("host-{}.example.org:9100", i / 1000)),
                ("job", "node".to_owned()),
                ("cpu", (i % 8).to_string()),
                (
                    "mode",
                    ["user", "system", "idle", "iowait"][i % 4].to_owned(),
                ),
            ])
        })
        .collect()
}

/// Appends one sample to every series at time `t`, committing every 1000.
fn scrape(app: &mut dyn Appender, labels: &[Labels], refs: &mut [Option<SeriesRef>], t: i64) {
    for (i, (l, r)) in labels.iter().zip(refs.iter_mut()).enumerate() {
        // A value that changes a little every scrape, like a counter.
        let v = (t / 1000) as f64 * 1.5 + i as f64;
        *r = Some(app.append(*r, l, t, v).expect("append"));
        if i % 1000 == 999 {
            app.commit().expect("commit");
        }
    }
    app.commit().expect("commit");
}

fn bench_append(c: &mut Criterion) {
    let labels = series(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let (head, _) =
        Head::open(HeadOptions::default(), dir.path(), WalOptions::default()).expect("open head");
    let mut refs = vec![None; labels.len()];
    let mut t = 0i64;
    {
        let mut app = head.appender();
        scrape(&mut *app, &labels, &mut refs, t);
    }
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(labels.len() as u64));
    g.bench_function("100k_series", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                t += 15_000;
                let mut app = head.appender();
                scrape(&mut *app, &labels, &mut refs, t);
            }
            start.elapsed()
        })
    });
    g.finish();
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes a WAL of `n` series with `samples` scrapes each, 15s apart.
fn write_wal(dir: &Path, n: usize, samples: usize) {
    let labels = series(n);
    let (head, _) = Head::open(HeadOptions::default(), dir, WalOptions::default()).expect("open");
    let mut refs = vec![None; n];
    let mut app = head.appender();
    for s in 0..samples {
        scrape(&mut *app, &labels, &mut refs, s as i64 * 15_000);
    }
    drop(app);
    head.close().expect("close");
}

fn bench_replay(c: &mut Criterion) {
    let n = env("PHAROS_BENCH_REPLAY_SERIES", 100_000);
    let samples = env("PHAROS_BENCH_REPLAY_SAMPLES", 30);
    let workers = env("PHAROS_BENCH_REPLAY_WORKERS", 1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = match std::env::var_os("PHAROS_BENCH_REPLAY_DIR") {
        Some(d) => Path::new(&d).join("wal"),
        None => tmp.path().to_owned(),
    };
    if !dir.exists() {
        write_wal(&dir, n, samples);
    }
    let opts = HeadOptions {
        replay_workers: workers,
        ..HeadOptions::default()
    };
    // One replay outside criterion for the memory figure.
    let before = LIVE.load(Ordering::Relaxed);
    let (head, st) = Head::open(opts.clone(), &dir, WalOptions::default()).expect("replay");
    let used = LIVE.load(Ordering::Relaxed) - before;
    let hs = head.stats();
    eprintln!(
        "replay of {n} series x {samples} samples: {:?}; heap {} MiB = {} bytes/series \
         (stats() estimate {} bytes/series, {} chunks)",
        st.duration,
        used >> 20,
        used / n.max(1),
        hs.bytes as usize / n.max(1),
        hs.num_chunks,
    );
    drop(head);

    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.throughput(Throughput::Elements((n * samples) as u64));
    g.bench_function(format!("{n}_series"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Each open starts (and leaves) a new empty segment; that
                // costs nothing to replay.
                let start = Instant::now();
                let (head, _) =
                    Head::open(opts.clone(), &dir, WalOptions::default()).expect("replay");
                total += start.elapsed();
                drop(head);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench_append, bench_replay);
criterion_main!(benches);
