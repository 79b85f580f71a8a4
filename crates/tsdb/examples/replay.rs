//! Times pharos's head opening (replaying) a WAL directory, such as the
//! `wal/` of a Prometheus data directory, for `bench/wal-replay/`.
//!
//! usage: `replay <wal-dir> [workers=1]`
//!
//! Replays into a head with default options (`replay_workers` set from the
//! argument), then prints the replay's own duration (`ReplayStats`), the
//! wall time of `Head::open` as a whole (WAL open, repair check and replay),
//! the head's figures and the peak resident memory (VmHWM). Opening leaves
//! a new empty segment behind, so run it on a copy. The head is not dropped
//! (the process exits), so the wall time holds no teardown.

use std::path::PathBuf;
use std::time::Instant;

use tsdb::head::{Head, HeadOptions};
use tsdb::wal::WalOptions;

/// A field of /proc/self/status in bytes (the file gives kB).
fn proc_status(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: replay <wal-dir> [workers]");
        std::process::exit(2);
    };
    let workers = args.next().and_then(|v| v.parse().ok()).unwrap_or(1);
    let opts = HeadOptions {
        replay_workers: workers,
        ..HeadOptions::default()
    };
    let start = Instant::now();
    let (head, st) = match Head::open(opts, &dir, WalOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot replay {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    let open = start.elapsed();
    let hs = head.stats();
    println!(
        "open_secs={:.3} replay_secs={:.3} workers={workers} records={} series={} samples={} \
         unknown_series={} out_of_order={} unsupported={:?} undecodable={} head_series={} \
         chunks={} peak_rss={} rss={}",
        open.as_secs_f64(),
        st.duration.as_secs_f64(),
        st.records,
        st.series,
        st.samples,
        st.samples_unknown_series,
        st.samples_out_of_order,
        st.unsupported,
        st.undecodable,
        hs.num_series,
        hs.num_chunks,
        proc_status("VmHWM"),
        proc_status("VmRSS"),
    );
    // Freeing a million series takes seconds; Prometheus's run ends with a
    // SIGKILL, so neither pays for teardown.
    std::mem::forget(head);
}
