//! Two-way WAL compatibility with the real Prometheus (Debian's 2.42):
//!
//! - Prometheus scrapes itself for a few seconds, is killed with SIGKILL
//!   (so its WAL is left as a crash leaves it), and pharos decodes every
//!   record of its `wal/` directory.
//! - pharos writes a WAL and `promtool tsdb dump` (which replays the WAL
//!   into a read-only head) prints back exactly the samples written.
//!
//! Both skip, saying so, only when the binaries are not installed.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::Labels;
use tsdb::record::{
    decode_exemplars, decode_metadata, decode_mmap_markers, decode_samples, decode_series,
    decode_tombstones, encode_samples, encode_series, encode_tombstones, RecordType, RefSample,
    RefSeries,
};
use tsdb::wal::{checkpoint, Compression, Wal, WalOptions, WalReader};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

/// What a pass over a WAL found.
#[derive(Default, Debug)]
struct Census {
    records: usize,
    series: Vec<RefSeries>,
    samples: usize,
    sample_refs: HashSet<u64>,
    tombstones: usize,
    other: usize,
}

/// Decodes every record of `wal_dir`, failing on any error.
fn census(wal_dir: &Path) -> Result<Census, String> {
    let mut c = Census::default();
    let mut r = WalReader::open(wal_dir, None, None).unwrap();
    let (mut series, mut samples) = (Vec::new(), Vec::new());
    let (mut stones, mut ex, mut mm, mut md) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    loop {
        let res = match r.next() {
            None => break,
            Some(rec) => {
                let rec = rec.unwrap_or_else(|e| panic!("record {}: {e}", c.records + 1));
                c.records += 1;
                match RecordType::of(rec).map_err(|e| e.to_string())? {
                    RecordType::Series => decode_series(rec, &mut series).map(|_| {
                        c.series.append(&mut series);
                    }),
                    RecordType::Samples => decode_samples(rec, &mut samples).map(|_| {
                        c.samples += samples.len();
                        c.sample_refs.extend(samples.iter().map(|s| s.series_ref));
                    }),
                    RecordType::Tombstones => {
                        decode_tombstones(rec, &mut stones).map(|_| c.tombstones += stones.len())
                    }
                    RecordType::Exemplars => decode_exemplars(rec, &mut ex).map(|_| c.other += 1),
                    RecordType::MmapMarkers => {
                        decode_mmap_markers(rec, &mut mm).map(|_| c.other += 1)
                    }
                    RecordType::Metadata => decode_metadata(rec, &mut md).map(|_| c.other += 1),
                    t => Err(tsdb::record::RecordError::Unsupported(t)),
                }
            }
        };
        // The position is read once the record's borrow has ended.
        let at = r.position();
        res.map_err(|e| format!("record at segment {} offset {}: {e}", at.0, at.1))?;
    }
    Ok(c)
}

/// pharos's encoders and writer reproduce Prometheus's bytes: every series,
/// samples and tombstones record re-encodes to the same bytes, and logging the same
/// records one by one (snappy on, as Prometheus's default) rebuilds the first
/// segment byte for byte.
fn assert_byte_identical(wal: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let (mut w, _) = Wal::open(tmp.path(), WalOptions::default()).unwrap();
    let mut r = WalReader::open(wal, Some(0), Some(0)).unwrap();
    let (mut series, mut samples, mut buf) = (Vec::new(), Vec::new(), Vec::new());
    let mut stones = Vec::new();
    let mut n = 0;
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        buf.clear();
        match RecordType::of(rec).unwrap() {
            RecordType::Series => {
                decode_series(rec, &mut series).unwrap();
                encode_series(&series, &mut buf);
                assert_eq!(buf, rec, "series record {n} re-encodes differently");
            }
            RecordType::Samples => {
                decode_samples(rec, &mut samples).unwrap();
                encode_samples(&samples, &mut buf);
                assert_eq!(buf, rec, "samples record {n} re-encodes differently");
            }
            RecordType::Tombstones => {
                decode_tombstones(rec, &mut stones).unwrap();
                encode_tombstones(&stones, &mut buf);
                assert_eq!(buf, rec, "tombstones record {n} re-encodes differently");
            }
            _ => {}
        }
        w.log(&[rec]).unwrap();
        n += 1;
    }
    drop(w);
    let theirs = std::fs::read(wal.join("00000000")).unwrap();
    let ours = std::fs::read(tmp.path().join("00000000")).unwrap();
    // Prometheus may have padded its last page (or not, killed mid-page);
    // compare what both wrote, then require the rest of theirs to be zero.
    let common = ours.len().min(theirs.len());
    let first_diff = (0..common).find(|&i| ours[i] != theirs[i]);
    assert_eq!(
        first_diff,
        None,
        "segment 0 differs ({} vs {} bytes)",
        ours.len(),
        theirs.len()
    );
    assert!(theirs[common..].iter().all(|&b| b == 0));
    println!("segment 0: {n} records, {} bytes, identical", ours.len());
}

/// A child process that is SIGKILLed when dropped, so that a failing test
/// leaves no Prometheus running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Asks Prometheus's admin API to delete a metric's series, which makes it
/// log a tombstones record.
fn delete_series(port: u16, metric: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        conn,
        "POST /api/v1/admin/tsdb/delete_series?match%5B%5D={metric} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut resp = String::new();
    conn.read_to_string(&mut resp).map_err(|e| e.to_string())?;
    if !resp.starts_with("HTTP/1.1 204") {
        return Err(format!("delete_series answered: {resp}"));
    }
    Ok(())
}

/// Runs Prometheus scraping itself every second until its WAL holds at least
/// four samples records, then SIGKILLs it. Returns the temp dir (to keep it
/// alive) and the WAL directory, or why Prometheus did not get there.
fn run_prometheus_until_killed() -> Result<(tempfile::TempDir, PathBuf), String> {
    let tmp = tempfile::tempdir().unwrap();
    let port = testkit::free_port();
    let config = tmp.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let log_path = tmp.path().join("prometheus.log");
    let mut child = KillOnDrop(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // For delete_series, which logs a tombstones record.
            .arg("--web.enable-admin-api")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap(),
    );

    // Wait until several scrapes are in the WAL (the writer flushes each
    // append as it commits), then kill without letting it clean up.
    let wal = data.join("wal");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        if let Some(status) = child.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("prometheus exited early ({status}):\n{log}"));
        }
        if !wal.exists() {
            continue;
        }
        // Prometheus is writing meanwhile: count up to the first record
        // not yet written whole.
        let mut r = WalReader::open(&wal, None, None).unwrap();
        let mut n = 0;
        while let Some(Ok(rec)) = r.next() {
            n += usize::from(rec.first() == Some(&2));
        }
        seen = seen.max(n);
        if seen >= 4 {
            break;
        }
    }
    if seen >= 4 {
        delete_series(port, "scrape_duration_seconds")?;
    }
    drop(child); // SIGKILL
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if seen < 4 {
        return Err(format!(
            "Prometheus wrote only {seen} samples records in 60s; its log:\n{log}"
        ));
    }
    Ok((tmp, wal))
}

#[test]
fn pharos_reads_a_wal_prometheus_wrote_and_was_killed_over() {
    if testkit::reference("prometheus").is_none() {
        println!("skipped: {PROMETHEUS} is not installed");
        return;
    }
    // A port picked free can be taken before Prometheus binds it: retry then.
    let mut attempt = 0;
    let (_tmp, wal) = loop {
        attempt += 1;
        match run_prometheus_until_killed() {
            Ok(v) => break v,
            Err(e) if attempt < 3 => println!("attempt {attempt}: {e}"),
            Err(e) => panic!("{e}"),
        }
    };
    let c = census(&wal).unwrap();
    println!(
        "decoded {} records: {} series, {} samples, {} tombstones, {} other",
        c.records,
        c.series.len(),
        c.samples,
        c.tombstones,
        c.other
    );
    assert!(c.series.len() > 100, "{c:?}");
    assert!(c.tombstones >= 1, "no tombstones from delete_series");
    assert!(c.samples > 400);
    let up = c
        .series
        .iter()
        .find(|s| s.labels.metric_name() == Some("up"))
        .expect("series up");
    assert_eq!(up.labels.get("job"), Some("self"));
    // Every sample belongs to a series logged before it.
    let known: HashSet<u64> = c.series.iter().map(|s| s.series_ref).collect();
    assert!(c.sample_refs.is_subset(&known));

    assert_byte_identical(&wal);

    // Opening the killed WAL with pharos's writer: it may cut a torn tail,
    // and must leave the WAL readable to the end.
    let (w, repair) = Wal::open(&wal, WalOptions::default()).unwrap();
    if let Some(r) = repair {
        println!("repair: {r}");
    }
    drop(w);
    let after = census(&wal).unwrap();
    assert!(after.samples <= c.samples && after.samples > 0);
}

/// The test series: `pharos_wal_test{instance="host-NN", job="compat"}` with ref NN.
fn test_series() -> Vec<RefSeries> {
    (1..=50u64)
        .map(|r| RefSeries {
            series_ref: r,
            labels: Labels::from_pairs(&[
                ("__name__", "pharos_wal_test"),
                ("instance", &format!("host-{r:02}")),
                ("job", "compat"),
            ]),
        })
        .collect()
}

const T0: i64 = 1_700_000_000_000;

/// Logs one samples record per round, one sample per test series.
fn log_rounds(w: &mut Wal, rounds: std::ops::Range<i64>, want: &mut Vec<RefSample>) {
    let mut buf = Vec::new();
    for round in rounds {
        let samples: Vec<RefSample> = test_series()
            .iter()
            .map(|s| RefSample {
                series_ref: s.series_ref,
                t: T0 + round * 15_000,
                v: (round * 1000 + s.series_ref as i64) as f64 / 4.0,
            })
            .collect();
        buf.clear();
        encode_samples(&samples, &mut buf);
        w.log(&[&buf]).unwrap();
        want.extend(samples);
    }
}

/// `promtool tsdb dump` of a data directory, as samples of the test series.
fn promtool_dump(data: &Path) -> Vec<RefSample> {
    let out = Command::new(PROMTOOL)
        .args(["tsdb", "dump"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Lines read `{labels} value timestamp`.
    let mut got = Vec::new();
    for line in BufReader::new(&out.stdout[..]).lines() {
        let line = line.unwrap();
        let (labels, rest) = line.rsplit_once("} ").unwrap();
        let (v, t) = rest.split_once(' ').unwrap();
        let host = labels.split("instance=\"host-").nth(1).unwrap();
        let r: u64 = host[..2].parse().unwrap();
        got.push(RefSample {
            series_ref: r,
            t: t.parse().unwrap(),
            v: v.parse().unwrap(),
        });
    }
    got.sort_by_key(|s| (s.t, s.series_ref));
    got
}

/// Segments of one page, so that the data spans many of them.
fn small_segments() -> WalOptions {
    WalOptions {
        segment_size: 32 * 1024,
        ..WalOptions::default()
    }
}

#[test]
fn promtool_replays_a_wal_pharos_wrote() {
    if testkit::reference("promtool").is_none() {
        println!("skipped: {PROMTOOL} is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (mut w, _) = Wal::open(&tmp.path().join("wal"), small_segments()).unwrap();
    let mut buf = Vec::new();
    encode_series(&test_series(), &mut buf);
    w.log(&[&buf]).unwrap();
    let mut want = Vec::new();
    log_rounds(&mut w, 0..200, &mut want);
    let (_, last) = w.segments().unwrap();
    assert!(last >= 1, "expected several segments, got {last}");
    w.close().unwrap();

    let got = promtool_dump(tmp.path());
    want.sort_by_key(|s| (s.t, s.series_ref));
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}

#[test]
fn promtool_replays_a_checkpoint_pharos_wrote() {
    if testkit::reference("promtool").is_none() {
        println!("skipped: {PROMTOOL} is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let wal_dir = tmp.path().join("wal");
    let (mut w, _) = Wal::open(&wal_dir, small_segments()).unwrap();
    let mut buf = Vec::new();
    encode_series(&test_series(), &mut buf);
    w.log(&[&buf]).unwrap();
    let mut logged = Vec::new();
    log_rounds(&mut w, 0..200, &mut logged);
    let covered = w.current_segment();
    w.next_segment().unwrap();
    log_rounds(&mut w, 200..220, &mut logged);

    // Series 1-25 stay alive; data before round 100 goes.
    let mint = T0 + 100 * 15_000;
    let stats = checkpoint::checkpoint(
        &wal_dir,
        0,
        covered,
        &|r| r <= 25,
        mint,
        Compression::Snappy,
    )
    .unwrap();
    assert_eq!(stats.dropped_series, 25);
    w.truncate(covered + 1).unwrap();
    w.close().unwrap();
    assert!(wal_dir.join(format!("checkpoint.{covered:08}")).is_dir());
    assert_eq!(tsdb::wal::list_segments(&wal_dir).unwrap()[0], covered + 1);

    // Prometheus drops samples of series it does not know (26-50 here).
    let mut want: Vec<RefSample> = logged
        .into_iter()
        .filter(|s| s.t >= mint && s.series_ref <= 25)
        .collect();
    want.sort_by_key(|s| (s.t, s.series_ref));
    let got = promtool_dump(tmp.path());
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
}
