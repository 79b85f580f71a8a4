//! A steady-state scrape allocates nothing per sample: once the cache knows
//! every series, a body of 4,000 series costs no more allocations than one
//! of 1,000.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use model::Labels;
use scrape::{Fetched, Ingester, ScrapeOptions};
use storage::DiscardStorage;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `n` series: one family per hundred with help and type, and many series
/// of one family whose labels hold an escape.
fn body(n: usize) -> String {
    let mut b = String::new();
    for f in 0..n / 100 {
        b.push_str(&format!(
            "# HELP f{f}_total Things counted.\n# TYPE f{f}_total counter\nf{f}_total 1\n"
        ));
    }
    for i in n / 100..n {
        b.push_str(&format!(
            "m_total{{a=\"{}\",b=\"x\\\"y\"}} {i}.5\n",
            i % 97 + i / 97 * 1000
        ));
    }
    b
}

/// Allocations of the third scrape of a body of `n` series.
fn steady_allocations(n: usize) -> usize {
    let body = body(n);
    let opts = ScrapeOptions::new("j");
    let mut ing = Ingester::new(
        Labels::from_pairs(&[("job", "j")]),
        &opts,
        Duration::from_secs(1),
    );
    let mut run = |t| {
        let fetched = Fetched::Body {
            body: body.as_bytes(),
            content_type: "text/plain; version=0.0.4",
        };
        let s = ing.ingest(&DiscardStorage, fetched, t, Instant::now());
        assert!(s.error.is_none(), "{s:?}");
        assert_eq!(s.samples_post_relabel, n);
    };
    run(1000);
    run(2000);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    run(3000);
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        ing.metadata().len(),
        n / 100,
        "the families' metadata is kept"
    );
    allocations
}

#[test]
fn steady_state_scrape_allocates_nothing_per_sample() {
    let small = steady_allocations(1000);
    let large = steady_allocations(4000);
    eprintln!("allocations of a steady scrape: {small} (1,000 series), {large} (4,000 series)");
    assert!(small < 50, "a steady scrape allocates {small} times");
    assert!(
        large <= small + 2,
        "1,000 series: {small} allocations, 4,000: {large}"
    );
}
