//! Shared helpers for pharos's integration tests: finding the reference
//! binaries (Debian's `prometheus`, `promtool`, …) that tests use as peers
//! and oracles.
//!
//! A developer without the reference stack still gets a passing plain
//! `cargo test`: tests that need a missing binary say so and return. CI sets
//! `PHAROS_REQUIRE_REFERENCE=1`, and then a missing binary fails the test, so
//! a skipped test can never hide a failure there.

use std::path::PathBuf;

pub mod conformance;
pub mod prometheus;

pub use conformance::conformance_dir;

/// The environment variable that turns a missing reference binary into a
/// test failure.
pub const REQUIRE_ENV: &str = "PHAROS_REQUIRE_REFERENCE";

/// The path of reference binary `name` (looked up in `/usr/bin`, then
/// `PATH`), or `None` after printing why the calling test does nothing.
///
/// # Panics
/// When the binary is missing and [`REQUIRE_ENV`] is set.
pub fn reference(name: &str) -> Option<PathBuf> {
    let found = std::iter::once(PathBuf::from("/usr/bin"))
        .chain(
            std::env::var_os("PATH").map_or_else(Vec::new, |p| std::env::split_paths(&p).collect()),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty()) {
            panic!("reference binary {name} is required ({REQUIRE_ENV} is set) but not installed");
        }
        println!("skipped: reference binary {name} is not installed");
    }
    found
}

/// A free TCP port on 127.0.0.1 (bound and released, so a race with another
/// process is possible but unlikely).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("cannot bind a port on 127.0.0.1")
}

/// Runs the reference `prometheus` on data directory `data`, scraping itself
/// every second with `block` long blocks (so it cuts blocks of its own),
/// until it has run `min_run` and cut at least `min_blocks` blocks (or 90 s
/// passed), then kills it with SIGKILL so its WAL is left as a crash leaves
/// it. Returns the number of block directories it left.
///
/// # Panics
/// If Prometheus cannot be started.
pub fn run_prometheus_until_killed(
    prometheus: &std::path::Path,
    data: &std::path::Path,
    block: &str,
    min_run: std::time::Duration,
    min_blocks: usize,
) -> usize {
    use std::time::{Duration, Instant};
    let port = free_port();
    let config = data.with_extension("yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    \
             static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("cannot write prometheus.yml");
    let mut child = std::process::Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--storage.tsdb.min-block-duration={block}"))
        .arg(format!("--storage.tsdb.max-block-duration={block}"))
        .arg("--log.level=warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cannot start prometheus");
    let blocks = || {
        std::fs::read_dir(data).map_or(0, |d| {
            d.filter_map(Result::ok)
                // A block being written sits in `<ulid>.tmp-for-creation`
                // with its meta.json already there; killed then, it is no
                // block (the next open removes it), so it must not count.
                .filter(|e| !e.file_name().to_string_lossy().contains(".tmp"))
                .filter(|e| e.path().join("meta.json").is_file())
                .count()
        })
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(250));
        if start.elapsed() >= min_run && blocks() >= min_blocks {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    blocks()
}

/// Samples of a `promtool tsdb dump`, by series text: (timestamp, value
/// bits with every NaN folded into one, since promtool prints them all as
/// `NaN`), in the order printed.
pub type Dump = std::collections::BTreeMap<String, Vec<(i64, u64)>>;

/// The bits of `v`, with every NaN (the stale marker included) as one NaN,
/// so values compare as promtool's text shows them.
pub fn fold_nan(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

/// Parses `promtool tsdb dump` output: `{labels} value timestamp` lines.
///
/// # Panics
/// On a line of another form.
pub fn parse_promtool_dump(text: &str) -> Dump {
    let mut out = Dump::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut parts = line.rsplitn(3, ' ');
        let (Some(t), Some(v), Some(labels)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("cannot parse dump line {line:?}");
        };
        let v = match v {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse()
                .unwrap_or_else(|e| panic!("value in {line:?}: {e}")),
        };
        let t: i64 = t
            .parse()
            .unwrap_or_else(|e| panic!("time in {line:?}: {e}"));
        out.entry(labels.to_owned())
            .or_default()
            .push((t, fold_nan(v)));
    }
    out
}

/// Every sample of every series `queryable` holds, in the form of
/// [`parse_promtool_dump`], so a store's contents compare with promtool's
/// view of the same directory.
///
/// # Panics
/// When the store fails to answer.
pub fn dump_queryable(queryable: &dyn storage::Queryable) -> Dump {
    let q = queryable.querier(i64::MIN, i64::MAX).expect("querier");
    let all = model::Matcher::new(model::MatchType::Regex, model::METRIC_NAME, ".+")
        .expect("a valid matcher");
    let mut out = Dump::new();
    for s in q.select(true, None, &[all]).expect("select") {
        let mut s = s.expect("series");
        let samples = s.collect_samples().expect("samples");
        out.insert(
            s.labels.to_string(),
            samples.iter().map(|s| (s.t, fold_nan(s.v))).collect(),
        );
    }
    out
}
