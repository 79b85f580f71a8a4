//! The database end to end: lock, append/reopen, head and leveled
//! compaction, overlapping blocks, deletion, retention, corrupt blocks.

use std::path::Path;

use model::{Labels, MatchType, Matcher, Sample};
use storage::{Appendable, Queryable};
use tsdb::db::{Db, DbError, DbOptions};

const H: i64 = 3_600_000;
const STEP: i64 = 60_000;

fn opts() -> DbOptions {
    DbOptions {
        background_compaction: false,
        retention_time: 0,
        ..DbOptions::default()
    }
}

fn lbl(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())])
}

/// Appends `series` series with one sample per STEP in `[from, to)`, value = t.
fn fill(db: &Db, series: usize, from: i64, to: i64) {
    let mut app = db.appender();
    let mut t = from;
    while t < to {
        for i in 0..series {
            app.append(None, &lbl(i), t, t as f64).unwrap();
        }
        t += STEP;
        if (t / STEP) % 100 == 0 {
            app.commit().unwrap();
        }
    }
    app.commit().unwrap();
}

fn all(db: &Db, mint: i64, maxt: i64) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(mint, maxt).unwrap();
    let m = Matcher::new(MatchType::Regex, "__name__", ".+").unwrap();
    q.select(true, None, &[m])
        .unwrap()
        .map(|s| {
            let mut s = s.unwrap();
            let v = s.collect_samples().unwrap();
            (s.labels, v)
        })
        .collect()
}

fn expect_full(db: &Db, series: usize, from: i64, to: i64) {
    let got = all(db, i64::MIN, i64::MAX);
    assert_eq!(got.len(), series);
    for (l, samples) in &got {
        let want: Vec<i64> = (from / STEP..to / STEP).map(|k| k * STEP).collect();
        let ts: Vec<i64> = samples.iter().map(|s| s.t).collect();
        assert_eq!(ts, want, "{l}");
        assert!(samples.iter().all(|s| s.v == s.t as f64));
    }
}

fn ranges(db: &Db) -> Vec<(i64, i64)> {
    db.blocks()
        .iter()
        .map(|b| (b.meta().min_time / H, b.meta().max_time / H))
        .collect()
}

#[test]
fn lock_contention() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    let err = Db::open(dir.path(), opts()).unwrap_err();
    assert!(matches!(err, DbError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    db.close().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    drop(db);
    // Dropping released the lock as well.
    Db::open(dir.path(), opts()).unwrap();
}

#[test]
fn append_close_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 3, 0, H);
    expect_full(&db, 3, 0, H);
    db.close().unwrap();
    drop(db);
    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.replay.series, 3);
    expect_full(&db, 3, 0, H);
    // Appends go on after the reopen.
    fill(&db, 3, H, H + 10 * STEP);
    expect_full(&db, 3, 0, H + 10 * STEP);
}

#[test]
fn head_compaction_cuts_the_oldest_window() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 3, 0, 3 * H);
    db.compact().unwrap();
    assert!(
        db.blocks().is_empty(),
        "3h is not more than 1.5 block ranges"
    );
    fill(&db, 3, 3 * H, 3 * H + 2 * STEP);
    db.compact().unwrap();
    assert_eq!(ranges(&db), [(0, 2)]);
    let b = &db.blocks()[0];
    assert_eq!(b.meta().compaction.level, 1);
    assert_eq!(b.meta().compaction.sources, [b.meta().ulid]);
    assert_eq!(b.meta().stats.num_series, 3);
    assert_eq!(b.meta().stats.num_samples, 3 * 120);
    assert_eq!(db.head().min_time(), 2 * H);
    expect_full(&db, 3, 0, 3 * H + 2 * STEP);
    drop(db);
    // The head was truncated and checkpointed; a reopen sees the same data.
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    expect_full(&db, 3, 0, 3 * H + 2 * STEP);
    assert_eq!(ranges(&db), [(0, 2)]);
}

#[test]
fn leveled_compaction_of_2h_blocks_into_6h() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 4, 0, 11 * H);
    db.compact().unwrap();
    // Head windows 0-2..6-8 became blocks; 0-6 then merged; 6-8 is the
    // newest block and waits.
    assert_eq!(ranges(&db), [(0, 6), (6, 8)]);
    let merged = &db.blocks()[0];
    assert_eq!(merged.meta().compaction.level, 2);
    assert_eq!(merged.meta().compaction.sources.len(), 3);
    assert_eq!(merged.meta().compaction.parents.len(), 3);
    assert_eq!(merged.meta().stats.num_samples, 4 * 360);
    expect_full(&db, 4, 0, 11 * H);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "2 blocks, wal, lock: {names:?}");
    drop(db);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    expect_full(&db, 4, 0, 11 * H);
}

/// Writes a block of `series` with samples at `ts` (value = t + offset).
fn write_block(dir: &Path, series: &[Labels], ts: &[i64], offset: f64) {
    use tsdb::block::{BlockWriter, ChunkData};
    use tsdb::chunkenc::{Encoding, XorChunk};
    let mut syms = std::collections::BTreeSet::new();
    for l in series {
        for p in l {
            syms.insert(p.name.to_owned());
            syms.insert(p.value.to_owned());
        }
    }
    let (mint, maxt) = (ts[0], ts[ts.len() - 1] + 1);
    let mut w = BlockWriter::create(dir, mint, maxt, syms.iter().map(String::as_str)).unwrap();
    let mut sorted = series.to_vec();
    sorted.sort();
    for l in &sorted {
        let mut c = XorChunk::new();
        for &t in ts {
            c.append(t, t as f64 + offset);
        }
        let d = ChunkData {
            min_time: mint,
            max_time: maxt - 1,
            encoding: Encoding::Xor,
            data: c.bytes(),
        };
        w.add_series(l, &[d]).unwrap();
    }
    w.finish(None).unwrap();
}

#[test]
fn overlapping_blocks_are_merged() {
    let dir = tempfile::tempdir().unwrap();
    let a: Vec<i64> = (0..100).map(|k| k * STEP).collect();
    let b: Vec<i64> = (50..150).map(|k| k * STEP).collect();
    write_block(dir.path(), &[lbl(0), lbl(1)], &a, 0.0);
    write_block(dir.path(), &[lbl(1), lbl(2)], &b, 0.0);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.blocks().len(), 2);
    db.compact().unwrap();
    assert_eq!(db.blocks().len(), 1);
    let m = db.blocks()[0].meta().clone();
    assert_eq!((m.min_time, m.max_time), (0, 149 * STEP + 1));
    assert_eq!(m.stats.num_series, 3);
    assert_eq!(m.stats.num_samples, 100 + 150 + 100);
    let got = all(&db, i64::MIN, i64::MAX);
    let lens: Vec<usize> = got.iter().map(|(_, s)| s.len()).collect();
    assert_eq!(lens, [100, 150, 100]);
    let ts: Vec<i64> = got[1].1.iter().map(|s| s.t).collect();
    assert_eq!(ts, (0..150).map(|k| k * STEP).collect::<Vec<_>>());
}

#[test]
fn tombstones_hide_data_and_clean_tombstones_drops_it() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 2, 0, 3 * H + 2 * STEP);
    db.compact().unwrap();
    assert_eq!(ranges(&db), [(0, 2)]);
    // Delete 1h..2h30 of series 0: half in the block, half in the head.
    let sel = [Matcher::equal("i", "0")];
    db.delete(H, 2 * H + 30 * 60_000, &sel).unwrap();
    let got = all(&db, i64::MIN, i64::MAX);
    assert_eq!(got[0].1.len(), (3 * H / STEP + 2 - 91) as usize);
    assert!(got[0]
        .1
        .iter()
        .all(|s| s.t < H || s.t > 2 * H + 30 * 60_000));
    assert_eq!(got[1].1.len(), (3 * H / STEP + 2) as usize);
    assert_eq!(db.blocks()[0].meta().stats.num_tombstones, 1);

    // Head tombstones survive a reopen (they are in the WAL).
    drop(db);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    let again = all(&db, i64::MIN, i64::MAX);
    assert_eq!(again[0].1, got[0].1);

    let before = db.blocks()[0].meta().clone();
    db.clean_tombstones().unwrap();
    let after = db.blocks()[0].meta().clone();
    assert_ne!(before.ulid, after.ulid);
    assert_eq!(after.stats.num_tombstones, 0);
    assert_eq!(after.stats.num_samples, before.stats.num_samples - 60);
    assert_eq!(after.compaction.parents[0].ulid, before.ulid);
    assert!(!dir.path().join(before.ulid.to_string()).exists());
    assert_eq!(all(&db, i64::MIN, i64::MAX), got);
}

#[test]
fn time_and_size_retention() {
    // Three separate 2h blocks: no leveled compaction with a 2h max range.
    let dir = tempfile::tempdir().unwrap();
    let o = DbOptions {
        max_block_duration: Some(2 * H),
        ..opts()
    };
    let (db, _) = Db::open(dir.path(), o.clone()).unwrap();
    fill(&db, 2, 0, 9 * H);
    db.compact().unwrap();
    assert_eq!(ranges(&db), [(0, 2), (2, 4), (4, 6)]);
    let sizes: Vec<u64> = db.blocks().iter().map(|b| b.size()).collect();
    drop(db);

    // Time: a block ending 4h or more before the newest's end goes.
    let (db, _) = Db::open(
        dir.path(),
        DbOptions {
            retention_time: 4 * H,
            ..o.clone()
        },
    )
    .unwrap();
    assert_eq!(ranges(&db), [(2, 4), (4, 6)]);
    drop(db);

    // Size: WAL + newest block fit, WAL + both do not.
    let wal: u64 = dir_size(&dir.path().join("wal"));
    let (db, _) = Db::open(
        dir.path(),
        DbOptions {
            retention_size: wal + sizes[2] + sizes[1] / 2,
            ..o
        },
    )
    .unwrap();
    assert_eq!(ranges(&db), [(4, 6)]);
    expect_partial(&db, 4 * H);
}

fn expect_partial(db: &Db, from: i64) {
    let got = all(db, i64::MIN, i64::MAX);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1[0].t, from);
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

#[test]
fn corrupt_blocks_give_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 2, 0, 4 * H);
    db.compact().unwrap();
    let bdir = db.blocks()[0].dir().to_path_buf();
    drop(db);

    std::fs::write(bdir.join("meta.json"), b"{\"ulid\": 12").unwrap();
    let err = Db::open(dir.path(), opts()).unwrap_err().to_string();
    assert!(err.contains(&bdir.display().to_string()), "{err}");

    let dir2 = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir2.path(), opts()).unwrap();
    fill(&db, 2, 0, 4 * H);
    db.compact().unwrap();
    let bdir = db.blocks()[0].dir().to_path_buf();
    drop(db);
    let index = bdir.join("index");
    let mut bytes = std::fs::read(&index).unwrap();
    let n = bytes.len();
    bytes.truncate(n / 2);
    std::fs::write(&index, &bytes).unwrap();
    let err = Db::open(dir2.path(), opts()).unwrap_err().to_string();
    assert!(err.contains(&bdir.display().to_string()), "{err}");
}

#[test]
fn leftover_temporary_directories_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    for n in [
        "01H00000000000000000000000.tmp-for-creation",
        "01H00000000000000000000001.tmp-for-deletion",
        "x.tmp",
    ] {
        std::fs::create_dir_all(dir.path().join(n).join("chunks")).unwrap();
    }
    let (_db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.removed_tmp.len(), 3);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
}

#[test]
fn deletable_and_superseded_blocks_are_removed_at_open() {
    use tsdb::meta::{BlockDesc, BlockMeta};
    let dir = tempfile::tempdir().unwrap();
    let a: Vec<i64> = (0..10).map(|k| k * STEP).collect();
    let b: Vec<i64> = (20..30).map(|k| k * STEP).collect();
    let c: Vec<i64> = (40..50).map(|k| k * STEP).collect();
    write_block(dir.path(), &[lbl(0)], &a, 0.0);
    write_block(dir.path(), &[lbl(0)], &b, 0.0);
    write_block(dir.path(), &[lbl(0)], &c, 0.0);
    let dirs = tsdb::readonly::block_dirs(dir.path()).unwrap();
    let metas: Vec<BlockMeta> = dirs.iter().map(|d| BlockMeta::read(d).unwrap().0).collect();
    let by_min = |t: i64| metas.iter().position(|m| m.min_time == t).unwrap();
    let (ia, ib, ic) = (by_min(0), by_min(20 * STEP), by_min(40 * STEP));
    // a is marked deletable; b names c as its parent (a compaction that
    // stopped before deleting its source).
    let mut m = metas[ia].clone();
    m.compaction.deletable = true;
    m.write(&dirs[ia]).unwrap();
    let mut m = metas[ib].clone();
    m.compaction.parents.push(BlockDesc {
        ulid: metas[ic].ulid,
        min_time: metas[ic].min_time,
        max_time: metas[ic].max_time,
    });
    m.write(&dirs[ib]).unwrap();

    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(report.removed_blocks.len(), 2, "{report:?}");
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(db.blocks()[0].meta().ulid, metas[ib].ulid);
    assert!(!dirs[ia].exists() && !dirs[ic].exists());
}

#[test]
fn head_tombstones_survive_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 2, 0, H);
    db.delete(10 * STEP, 19 * STEP, &[Matcher::equal("i", "1")])
        .unwrap();
    fill(&db, 2, H, 4 * H);
    db.compact().unwrap();
    assert_eq!(ranges(&db), [(0, 2)]);
    // The block left the deleted samples out.
    assert_eq!(db.blocks()[0].meta().stats.num_samples, 2 * 120 - 10);
    // More deletions in the head after the checkpoint; then reopen.
    db.delete(3 * H, 3 * H + 4 * STEP, &[Matcher::equal("i", "0")])
        .unwrap();
    let want = all(&db, i64::MIN, i64::MAX);
    assert_eq!(want[0].1.len(), 240 - 5);
    assert_eq!(want[1].1.len(), 240 - 10);
    drop(db);
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(all(&db, i64::MIN, i64::MAX), want);
}

#[test]
fn head_truncation_waits_for_open_queriers() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 2, 0, 3 * H + 2 * STEP);
    // Taken before the block exists: sees the first window only in the head.
    let q = db.querier(0, H).unwrap();
    std::thread::scope(|s| {
        let t = s.spawn(|| db.compact().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(!t.is_finished(), "truncation waits for the querier");
        let n: usize = q
            .select(true, None, &[Matcher::equal("__name__", "m")])
            .unwrap()
            .map(|s| s.unwrap().collect_samples().unwrap().len())
            .sum();
        assert_eq!(n, 2 * 61);
        drop(q);
        t.join().unwrap();
    });
    assert_eq!(ranges(&db), [(0, 2)]);
    assert_eq!(db.head().min_time(), 2 * H);
}

#[test]
fn a_second_deletion_merging_into_the_first_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 1, 0, 3 * H + 2 * STEP);
    db.compact().unwrap();
    let sel = [Matcher::equal("i", "0")];
    db.delete(0, 9 * STEP, &sel).unwrap();
    // Overlaps the first interval: still one interval, a wider one.
    db.delete(5 * STEP, 19 * STEP, &sel).unwrap();
    assert_eq!(db.blocks()[0].meta().stats.num_tombstones, 1);
    let got = all(&db, 0, H);
    assert_eq!(got[0].1[0].t, 20 * STEP);
}

#[test]
fn a_torn_wal_tail_is_repaired_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 2, 0, H);
    drop(db);
    // A torn write: a record header promising more than is there.
    let wal = dir.path().join("wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    bytes.extend_from_slice(&[1, 0, 200, 0, 0, 0, 0, 7, 7]);
    std::fs::write(last, &bytes).unwrap();

    let (db, report) = Db::open(dir.path(), opts()).unwrap();
    let repair = report.replay.repair.expect("a repair");
    assert!(repair.bytes_dropped > 0, "{repair:?}");
    expect_full(&db, 2, 0, H);
}
