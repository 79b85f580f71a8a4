//! Temporary profiling helper (not committed).
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let workers: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    let opts = tsdb::head::HeadOptions {
        replay_workers: workers,
        ..Default::default()
    };
    let (head, st) =
        tsdb::head::Head::open(opts, std::path::Path::new(&dir), Default::default()).unwrap();
    eprintln!(
        "{:?} series={} samples={}",
        st.duration, st.series, st.samples
    );
    std::mem::forget(head);
}
