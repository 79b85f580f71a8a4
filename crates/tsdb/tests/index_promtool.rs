//! Index, meta.json and tombstones compatibility with Prometheus, judged by
//! promtool 2.42: pharos reads the blocks promtool writes, and promtool reads
//! (and dumps identically) a block whose index pharos rewrote. The rewritten
//! index must also be byte-identical to promtool's.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use model::{Labels, MatchType, Matcher};
use tsdb::index::{expand, postings_for_matchers, ChunkMeta, IndexReader, IndexWriter};
use tsdb::meta::BlockMeta;
use tsdb::tombstones::Tombstones;

const PROMTOOL: &str = "/usr/bin/promtool";
/// 2023-11-14T22:13:20Z; all samples fall in one 2h block.
const START_S: i64 = 1_700_000_000;
const SAMPLES: i64 = 300;

fn promtool_present() -> bool {
    if testkit::reference("promtool").is_some() {
        return true;
    }
    println!("skipping: {PROMTOOL} is not installed");
    false
}

/// The series the test writes, as label sets.
fn series() -> Vec<Labels> {
    let mut out = Vec::new();
    for code in ["200", "404", "500"] {
        for method in ["get", "post"] {
            for handler in ["/api", "/metrics", "/"] {
                out.push(Labels::from_pairs(&[
                    ("__name__", "http_requests_total"),
                    ("code", code),
                    ("method", method),
                    ("handler", handler),
                ]));
            }
        }
    }
    for i in 0..70 {
        let mut pairs = vec![
            ("__name__".to_owned(), "up".to_owned()),
            ("job".to_owned(), format!("job{}", i % 3)),
            ("instance".to_owned(), format!("host-{i:03}:9100")),
        ];
        if i % 4 == 0 {
            pairs.push(("zone".into(), "eu".into()));
        }
        out.push(Labels::from_pairs(&pairs));
    }
    out.push(Labels::from_pairs(&[
        ("__name__", "build_info"),
        ("le", "+Inf"),
        ("note", "café ☕"),
    ]));
    out.sort();
    out
}

/// An OpenMetrics exposition of every series, one family at a time, with
/// `SAMPLES` samples 10 s apart (so series get several chunks).
fn openmetrics(series: &[Labels]) -> String {
    let mut s = String::new();
    for l in series {
        let name = l.metric_name().unwrap_or_default();
        let mut sel = String::new();
        for (i, p) in l.iter().filter(|p| p.name != "__name__").enumerate() {
            if i > 0 {
                sel.push(',');
            }
            write!(sel, "{}=\"{}\"", p.name, p.value).unwrap();
        }
        for t in 0..SAMPLES {
            writeln!(s, "{name}{{{sel}}} {} {}", t % 7, START_S + t * 10).unwrap();
        }
    }
    s.push_str("# EOF\n");
    s
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("promtool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Creates a promtool block from `series()` under `dir/db`; returns its path.
fn promtool_block(dir: &Path) -> PathBuf {
    let input = dir.join("in.om");
    std::fs::write(&input, openmetrics(&series())).unwrap();
    let db = dir.join("db");
    run(Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&db));
    let blocks: Vec<PathBuf> = std::fs::read_dir(&db)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    assert_eq!(blocks.len(), 1, "want one block, got {blocks:?}");
    blocks[0].clone()
}

/// `promtool tsdb dump` of a data directory (it needs a `wal` folder).
fn dump(db: &Path) -> String {
    std::fs::create_dir_all(db.join("wal")).unwrap();
    run(Command::new(PROMTOOL).args(["tsdb", "dump"]).arg(db))
}

fn matcher(t: MatchType, n: &str, v: &str) -> Matcher {
    Matcher::new(t, n, v).unwrap()
}

#[test]
fn pharos_reads_promtool_blocks() {
    if !promtool_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let block = promtool_block(tmp.path());
    let want = series();

    let (meta, _) = BlockMeta::read(&block).unwrap();
    assert_eq!(meta.stats.num_series, want.len() as u64);
    assert_eq!(meta.stats.num_samples, want.len() as u64 * SAMPLES as u64);
    assert_eq!(meta.min_time, START_S * 1000);
    assert_eq!(meta.max_time, (START_S + (SAMPLES - 1) * 10) * 1000 + 1);
    assert_eq!(meta.compaction.level, 1);
    assert_eq!(
        meta.ulid.to_string(),
        block.file_name().unwrap().to_str().unwrap()
    );
    let (stones, _) = Tombstones::read(&block).unwrap();
    assert!(stones.is_empty());
    assert_eq!(
        std::fs::read(block.join("tombstones")).unwrap(),
        stones.encode(),
        "empty tombstones file differs from promtool's"
    );

    let r = IndexReader::open(block.join("index")).unwrap();
    assert_eq!(
        r.label_names(),
        ["__name__", "code", "handler", "instance", "job", "le", "method", "note", "zone"]
    );
    assert_eq!(
        r.label_values("__name__").unwrap(),
        ["build_info", "http_requests_total", "up"]
    );
    assert_eq!(r.label_values("instance").unwrap().len(), 70);
    assert_eq!(r.label_values("zone").unwrap(), ["eu"]);

    // Every series, in order, with chunks covering its samples.
    let all = expand(r.all_postings().unwrap());
    let mut chunks = Vec::new();
    let mut got = Vec::new();
    for &id in &all {
        got.push(r.series(id, &mut chunks).unwrap());
        assert!(chunks.len() >= 2, "{} samples span several chunks", SAMPLES);
        assert_eq!(chunks[0].min_time, START_S * 1000);
        assert_eq!(
            chunks.last().unwrap().max_time,
            (START_S + (SAMPLES - 1) * 10) * 1000
        );
        assert!(chunks.windows(2).all(|w| w[0].max_time < w[1].min_time));
    }
    assert_eq!(got, want);

    // Matchers select what a scan of the series would.
    use MatchType::*;
    let cases: Vec<Vec<Matcher>> = vec![
        vec![matcher(Equal, "__name__", "up")],
        vec![matcher(Equal, "__name__", "up"), matcher(Equal, "zone", "")],
        vec![
            matcher(Equal, "__name__", "up"),
            matcher(NotEqual, "zone", ""),
        ],
        vec![
            matcher(Equal, "__name__", "up"),
            matcher(NotEqual, "zone", "eu"),
        ],
        vec![
            matcher(Regex, "job", "job1|job2"),
            matcher(NotRegex, "instance", "host-00.*"),
        ],
        vec![matcher(Regex, "instance", "host-01.*")],
        vec![
            matcher(Regex, "instance", ".*:9100"),
            matcher(Equal, "job", "job0"),
        ],
        vec![
            matcher(Regex, "code", "[45].."),
            matcher(NotEqual, "method", "get"),
        ],
        vec![matcher(NotRegex, "__name__", "up|http.*")],
        vec![matcher(Regex, "zone", ".*")],
        vec![matcher(Regex, "zone", ".+")],
        vec![matcher(Equal, "__name__", "nope")],
        vec![matcher(NotEqual, "nope", "x")],
    ];
    for ms in &cases {
        let refs = expand(postings_for_matchers(&r, ms).unwrap());
        let got: Vec<Labels> = refs
            .iter()
            .map(|&id| r.series(id, &mut chunks).unwrap())
            .collect();
        let want: Vec<Labels> = want
            .iter()
            .filter(|l| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
            .cloned()
            .collect();
        assert_eq!(got, want, "matchers {ms:?}");
    }
}

#[test]
fn promtool_reads_pharos_index_and_it_is_byte_identical() {
    if !promtool_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let block = promtool_block(tmp.path());
    let name = block.file_name().unwrap();

    // A copy of the block whose index pharos writes: symbols and series from
    // our own list, only the chunk refs from promtool's index.
    let db2 = tmp.path().join("db2");
    let copy = db2.join(name);
    std::fs::create_dir_all(copy.join("chunks")).unwrap();
    for f in ["meta.json", "tombstones", "chunks/000001"] {
        std::fs::copy(block.join(f), copy.join(f)).unwrap();
    }
    let orig = IndexReader::open(block.join("index")).unwrap();
    let series = series();
    let symbols: BTreeSet<&str> = series
        .iter()
        .flat_map(|l| l.iter().flat_map(|p| [p.name, p.value]))
        .collect();
    let mut w = IndexWriter::create(copy.join("index")).unwrap();
    for s in &symbols {
        w.add_symbol(s).unwrap();
    }
    let mut chunks = Vec::new();
    for (id, l) in expand(orig.all_postings().unwrap())
        .into_iter()
        .zip(&series)
    {
        assert_eq!(&orig.series(id, &mut chunks).unwrap(), l);
        w.add_series(l, &chunks).unwrap();
    }
    w.finish().unwrap();

    let theirs = std::fs::read(block.join("index")).unwrap();
    let ours = std::fs::read(copy.join("index")).unwrap();
    assert_eq!(ours.len(), theirs.len(), "index sizes differ");
    if let Some(i) = ours.iter().zip(&theirs).position(|(a, b)| a != b) {
        panic!("indexes differ first at byte {i:#x}");
    }

    let db1 = block.parent().unwrap();
    let want = dump(db1);
    assert_eq!(want.lines().count(), series.len() * SAMPLES as usize);
    assert_eq!(dump(&db2), want);
    let analyze = run(Command::new(PROMTOOL).args(["tsdb", "analyze"]).arg(&db2));
    assert!(
        analyze.contains(&format!("Series: {}", series.len())),
        "{analyze}"
    );
    assert!(analyze.contains("Label names: 9"), "{analyze}");
}

/// A larger index pharos writes from scratch (no promtool block behind it):
/// promtool's reader must agree on its series, names and postings.
#[test]
fn promtool_analyzes_a_large_pharos_index() {
    if !promtool_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let ulid = ulid::Ulid::from_parts(1_700_000_000_000, 42);
    let block = db.join(ulid.to_string());
    std::fs::create_dir_all(block.join("chunks")).unwrap();
    let n = 5_000usize;
    let series: Vec<Labels> = {
        let mut v: Vec<Labels> = (0..n)
            .map(|i| {
                Labels::from_pairs(&[
                    ("__name__", format!("metric_{}", i % 50)),
                    ("pod", format!("pod-{i:05}")),
                    ("ns", format!("ns{}", i % 7)),
                ])
            })
            .collect();
        v.sort();
        v
    };
    let symbols: BTreeSet<&str> = series
        .iter()
        .flat_map(|l| l.iter().flat_map(|p| [p.name, p.value]))
        .collect();
    let mut w = IndexWriter::create(block.join("index")).unwrap();
    for s in &symbols {
        w.add_symbol(s).unwrap();
    }
    // promtool analyze assumes every series has a chunk; it does not read them.
    for (i, l) in series.iter().enumerate() {
        let c = ChunkMeta {
            min_time: 0,
            max_time: 999,
            chunk_ref: i as u64 * 64,
        };
        w.add_series(l, &[c]).unwrap();
    }
    w.finish().unwrap();
    let mut meta = BlockMeta::parse(
        format!(r#"{{"ulid":"{ulid}","minTime":0,"maxTime":1000,"stats":{{"numSeries":{n}}},"compaction":{{"level":1,"sources":["{ulid}"]}},"version":1}}"#).as_bytes(),
        Path::new("meta.json"),
    )
    .unwrap();
    meta.write(&block).unwrap();
    Tombstones::new().write(&block).unwrap();

    let out = run(Command::new(PROMTOOL).args(["tsdb", "analyze"]).arg(&db));
    assert!(out.contains(&format!("Series: {n}")), "{out}");
    assert!(out.contains("Label names: 3"), "{out}");
    // 50 names + 5000 pods + 7 namespaces.
    assert!(out.contains("Postings (unique label pairs): 5057"), "{out}");
    assert!(
        out.contains(&format!("Postings entries (total label pairs): {}", 3 * n)),
        "{out}"
    );
    assert!(
        out.contains("Highest cardinality labels:\n5000 pod\n50 __name__\n7 ns\n"),
        "{out}"
    );
}
