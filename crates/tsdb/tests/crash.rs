//! Kill -9 at random moments: a child process appends batches through `Db`
//! (committing each, then printing its timestamp) and compacts now and
//! then; the parent SIGKILLs it — sometimes while it is still opening and
//! replaying, mostly while it appends or compacts — then reopens the
//! directory. Every reopen must succeed and every batch the child reported
//! must be readable: a commit that returned survives a crash.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::{Labels, MatchType, Matcher};
use storage::{Appendable, Queryable};
use tsdb::db::{Db, DbOptions};

const SERIES: usize = 20;
/// Ten minutes between batches: the head becomes compactable every 18
/// batches and leveled compaction follows.
const STEP: i64 = 10 * 60 * 1000;
const ITERATIONS: u64 = 60;

fn opts() -> DbOptions {
    DbOptions {
        background_compaction: false,
        retention_time: 0,
        wal_segment_size: 128 * 1024,
        ..DbOptions::default()
    }
}

fn lbl(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "crash"), ("i", &i.to_string())])
}

/// The child: appends forever from after the newest stored sample.
#[test]
#[ignore = "run as a child process by crash"]
fn crash_child() {
    let Ok(dir) = std::env::var("PHAROS_DB_CRASH_DIR") else {
        return;
    };
    let (db, _) = Db::open(Path::new(&dir), opts()).unwrap();
    let newest = db
        .blocks()
        .iter()
        .map(|b| b.meta().max_time - 1)
        .chain(std::iter::once(db.head().max_time()))
        .max()
        .unwrap_or(i64::MIN);
    let mut t = if newest == i64::MIN { 0 } else { newest + STEP };
    let mut out = std::io::stdout().lock();
    let mut app = db.appender();
    for batch in 0u64.. {
        for i in 0..SERIES {
            app.append(None, &lbl(i), t, t as f64).unwrap();
        }
        app.commit().unwrap();
        writeln!(out, "{t}").unwrap();
        out.flush().unwrap();
        t += STEP;
        // Paced, so a release build does not write years of data (and
        // hundreds of blocks) per run.
        std::thread::sleep(std::time::Duration::from_millis(2));
        if batch % 6 == 5 {
            db.compact().unwrap();
        }
    }
}

/// A small xorshift: no dependency for a few random delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn read_all(dir: &Path) -> HashMap<String, HashMap<i64, f64>> {
    let (db, _) = Db::open(dir, opts()).unwrap_or_else(|e| panic!("reopen failed: {e}"));
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", "crash").unwrap();
    let mut out = HashMap::new();
    for s in q.select(true, None, &[m]).unwrap() {
        let mut s = s.unwrap();
        let samples = s.collect_samples().unwrap();
        out.insert(
            s.labels.get_or_empty("i").to_owned(),
            samples.iter().map(|s| (s.t, s.v)).collect(),
        );
    }
    db.close().unwrap();
    out
}

#[test]
#[ignore = "slow: crash test, run by .ci/run"]
fn crash() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let mut committed: HashSet<i64> = HashSet::new();
    let start = Instant::now();
    for it in 0..ITERATIONS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--ignored", "--nocapture"])
            .env("PHAROS_DB_CRASH_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut ts = Vec::new();
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(t) = line.trim().parse::<i64>() {
                    ts.push(t);
                }
            }
            ts
        });
        // A third of the kills land during start-up, open and replay.
        let delay = if it % 3 == 0 {
            rng.next(40)
        } else {
            60 + rng.next(700)
        };
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let reported = reader.join().unwrap();
        let n = reported.len();
        committed.extend(reported);

        let data = read_all(dir.path());
        for i in 0..SERIES {
            let got = data.get(&i.to_string());
            for &t in &committed {
                let v = got.and_then(|m| m.get(&t));
                assert_eq!(
                    v,
                    Some(&(t as f64)),
                    "iteration {it} (seed {seed}): series {i} lost committed batch at t={t}"
                );
            }
        }
        let blocks = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().join("meta.json").exists())
            })
            .count();
        eprintln!(
            "iteration {it}: killed after {delay} ms, {n} batches reported, {} committed in all, {blocks} blocks",
            committed.len()
        );
    }
    eprintln!("{ITERATIONS} iterations in {:?}", start.elapsed());
    assert!(
        committed.len() > 200,
        "the child committed too little to test anything"
    );
}
