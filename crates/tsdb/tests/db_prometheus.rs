//! Opens a data directory written by the real Prometheus (Debian's 2.42 at
//! `/usr/bin/prometheus`): blocks and a WAL. Prometheus scrapes itself every
//! second for ~15 s with 5 s blocks (so it cuts a few blocks of its own),
//! is killed with SIGKILL, and `Db::open` must return exactly the samples
//! `promtool tsdb dump` reads from the same directory (blocks + head).

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testkit::Dump;

use model::{MatchType, Matcher};
use tsdb::db::{Db, DbOptions};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

/// Parses `promtool tsdb dump`; promtool prints blocks then head, so a
/// series may come twice: sorted and de-duplicated by timestamp.
fn parse_dump(text: &str) -> Dump {
    let mut out = testkit::parse_promtool_dump(text);
    for v in out.values_mut() {
        v.sort_by_key(|s| s.0);
        v.dedup_by_key(|s| s.0);
    }
    out
}

#[test]
fn opens_a_data_directory_written_by_prometheus() {
    if testkit::reference("prometheus").is_none() || testkit::reference("promtool").is_none() {
        assert!(
            std::env::var_os("PHAROS_REQUIRE_REFERENCE").is_none(),
            "{PROMETHEUS} or {PROMTOOL} is not installed"
        );
        eprintln!("skipped: {PROMETHEUS} or {PROMTOOL} is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let blocks = testkit::run_prometheus_until_killed(
        Path::new(PROMETHEUS),
        &data,
        "5s",
        Duration::from_secs(15),
        2,
    );
    assert!(blocks >= 2, "prometheus cut {blocks} blocks in 90 s");

    // What Prometheus's own code reads, before opening changes the WAL.
    let out = Command::new(PROMTOOL)
        .arg("tsdb")
        .arg("dump")
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool tsdb dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = parse_dump(&String::from_utf8_lossy(&out.stdout));

    let (db, report) = Db::open(
        &data,
        DbOptions {
            background_compaction: false,
            ..DbOptions::default()
        },
    )
    .expect("open Prometheus's data directory");
    eprintln!("{report:?}");
    assert!(report.blocks >= 2, "{report:?}");
    assert!(report.replay.series > 100, "{report:?}");
    let got = testkit::dump_queryable(&db);
    assert!(
        got.keys().any(|k| k.starts_with("{__name__=\"up\"")),
        "the scrape's up series"
    );
    let n: usize = want.values().map(Vec::len).sum();
    assert!(n > 1000, "{n} samples");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "series"
    );
    for (labels, samples) in &want {
        assert_eq!(got.get(labels), Some(samples), "samples of {labels}");
    }

    // The directory stays usable: compaction of Prometheus's blocks works
    // and keeps every sample.
    db.compact().expect("compact");
    assert_eq!(testkit::dump_queryable(&db), got);
    db.close().expect("close");
}

/// The other direction: a data directory pharos wrote — blocks cut from the
/// head, a 6h block from leveled compaction, a deletion, and a WAL with a
/// checkpoint — read by promtool gives exactly what pharos reads.
#[test]
fn promtool_reads_a_data_directory_written_by_pharos() {
    use model::Labels;
    use storage::Appendable;
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    const H: i64 = 3_600_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let opts = DbOptions {
        background_compaction: false,
        retention_time: 0,
        ..DbOptions::default()
    };
    let (db, _) = Db::open(&data, opts.clone()).expect("open");
    let mut app = db.appender();
    // 12h of 30s samples for 50 series, values with awkward floats.
    for k in 0..(12 * H / 30_000) {
        let t = k * 30_000;
        for i in 0..50 {
            let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]);
            let v = if k % 97 == 0 {
                f64::NAN
            } else {
                (t as f64 / 7.0) * (i as f64 + 0.5)
            };
            app.append(None, &l, t, v).expect("append");
        }
        if k % 50 == 0 {
            app.commit().expect("commit");
            db.compact().expect("compact");
        }
    }
    app.commit().expect("commit");
    drop(app);
    db.compact().expect("compact");
    let del = Matcher::new(MatchType::Equal, "i", "7").expect("matcher");
    db.delete(H, 2 * H, &[del]).expect("delete");
    let levels: Vec<u32> = db
        .blocks()
        .iter()
        .map(|b| b.meta().compaction.level)
        .collect();
    assert!(
        levels.iter().any(|&l| l >= 2),
        "no compacted block: {levels:?}"
    );
    let ours = testkit::dump_queryable(&db);
    db.close().expect("close");

    let out = Command::new(&promtool)
        .args(["tsdb", "dump"])
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = parse_dump(&String::from_utf8(out.stdout).expect("utf-8"));
    assert_eq!(theirs.len(), 50);
    assert!(
        theirs == ours,
        "promtool reads different samples than pharos"
    );
}
