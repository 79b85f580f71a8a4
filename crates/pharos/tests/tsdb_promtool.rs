//! pharos's `tsdb` commands side by side with promtool's, on an
//! OpenMetrics file generated here: the same blocks, the same dumps, the
//! same listings and reports.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An OpenMetrics body over `hours` of 15s scrapes with jitter, gaps,
/// counters, gauges with awkward floats, a histogram, escapes in label
/// values and series that start and stop.
fn openmetrics(seed: u64, hours: i64) -> String {
    let mut r = Rng(seed);
    let start = 1_700_000_000_000i64 - 7 * 3_600_000 / 2;
    let steps = hours * 240;
    let mut out = String::new();
    out.push_str("# HELP req Requests.\n# TYPE req counter\n");
    for s in 0..20 {
        let mut v = 0u64;
        let (from, to) = if s % 5 == 0 {
            (steps / 3, 2 * steps / 3)
        } else {
            (0, steps)
        };
        for i in from..to {
            if r.below(50) == 0 {
                continue; // a missed scrape
            }
            v += r.below(100);
            let t = start + i * 15_000 + r.below(20) as i64;
            let sec = t / 1000;
            let ms = t % 1000;
            out.push_str(&format!(
                "req_total{{code=\"{}\",path=\"/a\\\"b\\\\c/{s}\"}} {v} {sec}.{ms:03}\n",
                200 + s % 3
            ));
        }
    }
    out.push_str("# TYPE temp gauge\n");
    let values = [
        "1e+06",
        "0.000123",
        "-3.5",
        "NaN",
        "+Inf",
        "-Inf",
        "123456789012",
        "1.5e-300",
    ];
    for s in 0..5 {
        for i in 0..steps / 4 {
            let v = if r.below(10) == 0 {
                values[r.below(values.len() as u64) as usize].to_owned()
            } else {
                format!("{}", (r.below(1_000_000) as f64) / 7.0)
            };
            let t = (start + i * 60_000) / 1000;
            out.push_str(&format!("temp{{room=\"r{s}\"}} {v} {t}\n"));
        }
    }
    out.push_str("# TYPE lat histogram\n");
    for i in 0..steps / 8 {
        let t = (start + i * 120_000) / 1000;
        let mut c = 0;
        for le in ["0.1", "1", "+Inf"] {
            c += i;
            out.push_str(&format!("lat_bucket{{le=\"{le}\"}} {c} {t}\n"));
        }
        out.push_str(&format!("lat_count {c} {t}\nlat_sum {}.5 {t}\n", i * 3));
    }
    out.push_str("# EOF\n");
    out
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("cannot start command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

fn pharos() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pharos"))
}

/// Sizes of the blocks under `dir`, by min time.
fn block_sizes(dir: &Path) -> Vec<(i64, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let Ok(meta) = std::fs::read_to_string(p.join("meta.json")) else {
            continue;
        };
        let min: i64 = meta
            .split("\"minTime\": ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap();
        out.push((min, dir_size(&p)));
    }
    out.sort();
    out
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                dir_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

/// Blocks written by promtool and by pharos from one input.
fn backfill_both(tmp: &Path, promtool: &Path, seed: u64) -> (PathBuf, PathBuf) {
    let input = tmp.join("in.om");
    std::fs::write(&input, openmetrics(seed, 7)).unwrap();
    let (a, b) = (tmp.join("promtool"), tmp.join("pharos"));
    run(Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&a));
    run(pharos()
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&b));
    // promtool's read-only open wants a wal directory, which its own
    // backfill does not create.
    for dir in [&a, &b] {
        std::fs::create_dir_all(dir.join("wal")).unwrap();
    }
    (a, b)
}

#[test]
fn backfill_matches_promtool_sample_for_sample() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = backfill_both(tmp.path(), &promtool, 42);

    let sizes_a = block_sizes(&a);
    let sizes_b = block_sizes(&b);
    assert_eq!(
        sizes_a.len(),
        4,
        "7h from 20:03 spans four aligned 2h windows"
    );
    assert_eq!(
        sizes_a.iter().map(|s| s.0).collect::<Vec<_>>(),
        sizes_b.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    for (x, y) in sizes_a.iter().zip(&sizes_b) {
        assert!(
            y.1 <= x.1,
            "pharos block {y:?} larger than promtool's {x:?}"
        );
    }

    let dump = |tool: &mut Command, dir: &Path| run(tool.args(["tsdb", "dump"]).arg(dir));
    let reference = dump(&mut Command::new(&promtool), &a);
    assert!(reference.lines().count() > 30_000);
    assert_eq!(
        dump(&mut Command::new(&promtool), &b),
        reference,
        "promtool on pharos's blocks"
    );
    assert_eq!(
        dump(&mut pharos(), &a),
        reference,
        "pharos on promtool's blocks"
    );
    assert_eq!(
        dump(&mut pharos(), &b),
        reference,
        "pharos on its own blocks"
    );

    // Selection and time range flags.
    let args = [
        "--min-time=1699995000000",
        "--max-time=1699998000000",
        "--match=temp{room=~\"r[12]\"}",
    ];
    let sel_a = run(Command::new(&promtool)
        .args(["tsdb", "dump"])
        .args(args)
        .arg(&a));
    let sel_b = run(pharos().args(["tsdb", "dump"]).args(args).arg(&b));
    assert!(!sel_a.is_empty());
    assert_eq!(sel_a, sel_b);
}

/// Replaces the ULIDs (26 characters at the start of each row) so listings
/// of different blocks compare.
fn without_ulids(list: &str) -> Vec<String> {
    list.lines()
        .map(|l| l.get(26..).unwrap_or(l).to_owned())
        .collect()
}

#[test]
fn list_and_analyze_match_promtool() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = backfill_both(tmp.path(), &promtool, 7);
    if std::env::var_os("KEEP_TMP").is_some() {
        let kept = tmp.keep();
        eprintln!("kept {}", kept.display());
    }
    for flags in [&[][..], &["-r"][..]] {
        let pt = run(Command::new(&promtool)
            .args(["tsdb", "list"])
            .args(flags)
            .arg(&a));
        let ph = run(pharos().args(["tsdb", "list"]).args(flags).arg(&b));
        assert_eq!(without_ulids(&ph), without_ulids(&pt), "list {flags:?}");
    }
    // Analyze the same (promtool's) block with both; ties within a list are
    // printed in Go's random map order, so compare each section as a set.
    let pt = run(Command::new(&promtool)
        .args(["tsdb", "analyze", "--extended", "--limit=1000"])
        .arg(&a));
    let ph = run(pharos()
        .args(["tsdb", "analyze", "--extended", "--limit=1000"])
        .arg(&a));
    let sections = |s: &str| -> Vec<Vec<String>> {
        s.split("\n\n")
            .map(|sec| {
                let mut lines: Vec<String> = sec.lines().map(str::to_owned).collect();
                lines.sort();
                lines
            })
            .collect()
    };
    assert_eq!(sections(&ph), sections(&pt));
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("bad.om");
    std::fs::write(
        &input,
        "# TYPE a counter\na_total 1 100\na_total{x=} 2 200\n# EOF\n",
    )
    .unwrap();
    let out = pharos()
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.om") && err.contains("3:"), "{err}");

    let out = pharos()
        .args(["tsdb", "dump", "--match", "{a="])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("parse error"));
}

/// A data directory the real Prometheus wrote and left after SIGKILL
/// (blocks, WAL, head chunks): `pharos tsdb dump` prints the samples
/// `promtool tsdb dump` prints, blocks and WAL alike.
#[test]
fn dump_reads_a_prometheus_data_directory_with_its_wal() {
    let (Some(prometheus), Some(promtool)) = (
        testkit::reference("prometheus"),
        testkit::reference("promtool"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let blocks = testkit::run_prometheus_until_killed(
        &prometheus,
        &data,
        "5s",
        std::time::Duration::from_secs(12),
        2,
    );
    assert!(blocks >= 2, "prometheus cut {blocks} blocks");
    if std::env::var_os("KEEP_TMP").is_some() {
        eprintln!("kept {}", tmp.keep().display());
    }
    // Order of series differs when promtool reads only the head (creation
    // order); compare the sorted lines.
    let sorted = |s: String| {
        let mut l: Vec<String> = s.lines().map(str::to_owned).collect();
        l.sort();
        l.dedup();
        l
    };
    let want = sorted(run(Command::new(&promtool)
        .args(["tsdb", "dump"])
        .arg(&data)));
    let got = sorted(run(pharos().args(["tsdb", "dump"]).arg(&data)));
    assert!(want.len() > 1000, "only {} samples", want.len());
    assert_eq!(got.len(), want.len());
    assert!(got == want, "dumps differ");
}
