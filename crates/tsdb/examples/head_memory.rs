//! Memory per active series in pharos's head, measured the way
//! `bench/head-memory/prometheus.sh` measures Prometheus: resident memory
//! before and after ingesting N series with two samples each.
//!
//! The label sets are the ones `bench/head-memory/gen_series.py` writes
//! (generated here rather than parsed, so the input text is never resident);
//! `--print` writes them in the same text format so that a `diff` against
//! the Python output proves they are identical. Each pass appends one sample
//! to every series, like one scrape of the file, 30 s apart, with the same
//! value both times (the file served to Prometheus does not change).
//!
//! The head has no WAL (memory only): a WAL costs Prometheus page cache, not
//! resident heap, and pharos's WAL writer keeps only one record buffer.
//!
//! usage: `head_memory [N=1000000] [--commit-every K] [--print]`
//! (`--commit-every 0`, the default, commits once per pass, as Prometheus's
//! scrape loop commits once per scrape).
//!
//! Prints: N, VmRSS before and after, the delta per series, the live heap
//! delta per series (counted by a wrapping allocator) and `Head::stats()`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use model::{Labels, LabelsBuilder};
use storage::Appendable;
use tsdb::head::{Head, HeadOptions};

/// Counts live heap bytes, to separate the head's heap from allocator
/// slack in the RSS figure.
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

/// A field of /proc/self/status in bytes (the file gives kB).
fn proc_status(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Calls `f(labels, text_line_without_value, value)` for every series of
/// `gen_series.py n`, in the same order.
fn for_each_series(n: usize, mut f: impl FnMut(&Labels, &str, u64)) {
    let metrics = 200;
    let per_metric = n / metrics;
    let mut b = LabelsBuilder::new();
    let mut line = String::new();
    for mi in 0..metrics {
        let name = format!("app_component_{mi}_requests_total");
        for j in 0..per_metric {
            let pod = j / 50;
            let ns = format!("ns-{}", pod % 40);
            let podv = format!("pod-{pod}-{:05}", (pod * 7919) % 100_000);
            let handler = format!("/api/v1/h{}", j % 50);
            let code = (200 + j % 5).to_string();
            b.reset();
            b.set("__name__", &name)
                .set("namespace", &ns)
                .set("pod", &podv)
                .set("handler", &handler)
                .set("code", &code);
            let labels = b.build();
            line.clear();
            line.push_str(&format!(
                "{name}{{namespace=\"{ns}\",pod=\"{podv}\",handler=\"{handler}\",code=\"{code}\"}}"
            ));
            f(&labels, &line, (j * 3 + mi) as u64);
        }
    }
}

fn main() {
    let mut n = 1_000_000usize;
    let mut commit_every = 0usize;
    let mut print = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--print" => print = true,
            "--commit-every" => {
                commit_every = args.next().and_then(|v| v.parse().ok()).unwrap_or(0)
            }
            v => n = v.parse().unwrap_or(n),
        }
    }
    if print {
        let out = std::io::stdout();
        let mut out = std::io::BufWriter::new(out.lock());
        let mut last = String::new();
        for_each_series(n, |l, line, v| {
            let name = l.metric_name().unwrap_or_default();
            if name != last {
                let mi = name
                    .trim_start_matches("app_component_")
                    .trim_end_matches("_requests_total");
                let _ = write!(
                    out,
                    "# HELP {name} Requests handled by component {mi}.\n# TYPE {name} counter\n"
                );
                last = name.to_owned();
            }
            let _ = writeln!(out, "{line} {v}");
        });
        return;
    }

    let rss0 = proc_status("VmRSS");
    let live0 = LIVE.load(Ordering::Relaxed);
    let head = Head::new(HeadOptions::default(), None);
    let t0 = 1_790_000_000_000i64;
    let start = Instant::now();
    for pass in 0..2i64 {
        let mut app = head.appender();
        let mut i = 0usize;
        for_each_series(n, |l, _, v| {
            if let Err(e) = app.append(None, l, t0 + pass * 30_000, v as f64) {
                eprintln!("cannot append {l:?}: {e}");
                std::process::exit(1);
            }
            i += 1;
            if commit_every > 0 && i % commit_every == 0 {
                app.commit().expect("commit");
            }
        });
        app.commit().expect("commit");
    }
    let took = start.elapsed();
    let rss1 = proc_status("VmRSS");
    let live1 = LIVE.load(Ordering::Relaxed);
    let st = head.stats();
    let series = st.num_series.max(1);
    println!(
        "series={} rss_before={rss0} rss_after={rss1} rss_bytes_per_series={} \
         heap_live_bytes_per_series={} stats_bytes_per_series={} chunks={} samples={} \
         peak_rss={} ingest_secs={:.2} commit_every={commit_every}",
        st.num_series,
        (rss1 - rss0) / series,
        (live1 - live0) as u64 / series,
        st.bytes / series,
        st.num_chunks,
        st.samples_appended,
        proc_status("VmHWM"),
        took.as_secs_f64(),
    );
    println!("stats={st:?}");
    // Skip the seconds of freeing a million series.
    std::mem::forget(head);
}
