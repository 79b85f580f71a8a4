//! Writes the seed inputs of the `tsdb_*` fuzz targets with pharos's real
//! writers, so the fuzzer starts from valid files and mutates inward:
//!
//! ```sh
//! cd fuzz && cargo run -p pharos-fuzz-seeds -- seeds
//! ```
//!
//! Files are named by what they hold and overwritten on each run; the
//! output is deterministic except for the block ULID inside `meta.json`.

use std::fs;
use std::path::{Path, PathBuf};

use model::{Labels, MetricType};
use tsdb::backfill::Backfill;
use tsdb::chunkenc::XorChunk;
use tsdb::meta::BlockMeta;
use tsdb::record::{
    self, RefExemplar, RefMetadata, RefMmapMarker, RefSample, RefSeries, Tombstone,
};
use tsdb::tombstones::{Interval, Tombstones};
use tsdb::wal::{Compression, RepairScope, Wal, WalOptions, PAGE_SIZE};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "seeds".into()));
    let tmp = std::env::temp_dir().join(format!("pharos-fuzz-seedgen-{}", std::process::id()));
    fs::create_dir_all(&tmp)?;
    let res = generate(&out, &tmp);
    let _ = fs::remove_dir_all(&tmp);
    res
}

fn write(out: &Path, target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = out.join(target);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(name), bytes)?;
    println!("{target}/{name}: {} bytes", bytes.len());
    Ok(())
}

fn generate(out: &Path, tmp: &Path) -> Result<()> {
    block_seeds(out, &tmp.join("blocks"))?;
    xor_seeds(out)?;
    wal_seeds(out, tmp)?;
    tombstone_seeds(out)?;
    Ok(())
}

/// A two-hour block of a few series: its index, chunk segment and meta.json.
fn block_seeds(out: &Path, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    let mut b = Backfill::new();
    let series = [
        vec![
            ("__name__", "up"),
            ("instance", "a:9090"),
            ("job", "prometheus"),
        ],
        vec![("__name__", "up"), ("instance", "b:9100"), ("job", "node")],
        vec![
            ("__name__", "http_requests_total"),
            ("code", "200"),
            ("job", "api"),
        ],
        vec![
            ("__name__", "http_requests_total"),
            ("code", "500"),
            ("job", "api"),
        ],
        vec![("__name__", "temp"), ("room", "ünïcødé")],
    ];
    for (i, s) in series.iter().enumerate() {
        let id = b.add_series(Labels::from_pairs(s))?;
        for k in 0..(20 + 15 * i as i64) {
            let v = match i {
                0 | 1 => 1.0,
                4 => 20.0 + (k as f64) * 0.25,
                _ => (k * k) as f64,
            };
            b.add_sample(id, 1_700_000_000_000 + k * 15_000 + (k % 3), v);
        }
    }
    let metas = b.write_blocks(dir, 2 * 3600 * 1000, 1, &|_, _| {})?;
    let meta = metas.first().ok_or("backfill wrote no block")?;
    let block = dir.join(meta.ulid.to_string());
    write(
        out,
        "tsdb_index",
        "block_index",
        &fs::read(block.join("index"))?,
    )?;
    write(
        out,
        "tsdb_chunks",
        "block_000001",
        &fs::read(block.join("chunks/000001"))?,
    )?;
    let json = fs::read(block.join("meta.json"))?;
    write(out, "tsdb_meta", "block_meta.json", &json)?;
    // A compacted block's meta, with parents and a Thanos section.
    let mut m = BlockMeta::parse(&json, &block)?;
    m.compaction.level = 2;
    m.compaction.sources.push(m.ulid);
    m.compaction.parents.push(tsdb::meta::BlockDesc {
        ulid: m.ulid,
        min_time: m.min_time,
        max_time: m.max_time,
    });
    m.compaction.hints.push("from-out-of-order".into());
    m.thanos = Some(serde_json::value::RawValue::from_string(
        r#"{"labels":{"replica":"a"},"downsample":{"resolution":0},"source":"sidecar"}"#.into(),
    )?);
    write(out, "tsdb_meta", "compacted_meta.json", &m.to_json())?;
    Ok(())
}

/// Raw XOR chunks: the fuzz target also reads its input as chunk bytes.
fn xor_seeds(out: &Path) -> Result<()> {
    let mut c = XorChunk::new();
    for (k, v) in [
        (0, 1.0),
        (15_000, 1.0),
        (30_001, 2.5),
        (44_999, f64::NAN),
        (120_000, -3.0),
    ] {
        c.append(1_700_000_000_000 + k, v);
    }
    write(out, "tsdb_chunks", "xor_5_samples", c.bytes())?;
    let mut c = XorChunk::new();
    for k in 0..120 {
        c.append(k * 1000 + (k % 7) * 300, (k as f64).sin() * 1e6);
    }
    write(out, "tsdb_chunks", "xor_120_samples", c.bytes())?;
    write(out, "tsdb_chunks", "xor_empty", XorChunk::new().bytes())?;
    Ok(())
}

/// WAL segments holding every record type, uncompressed and snappy, one
/// with records split over pages.
fn wal_seeds(out: &Path, tmp: &Path) -> Result<()> {
    let labels = |s: &[(&str, &str)]| Labels::from_pairs(s);
    let mut recs: Vec<Vec<u8>> = Vec::new();
    let mut buf = Vec::new();
    record::encode_series(
        &[
            RefSeries {
                series_ref: 1,
                labels: labels(&[("__name__", "up"), ("job", "node")]),
            },
            RefSeries {
                series_ref: 2,
                labels: labels(&[("__name__", "go_goroutines")]),
            },
        ],
        &mut buf,
    );
    recs.push(std::mem::take(&mut buf));
    let samples: Vec<RefSample> = (0..10)
        .map(|k| RefSample {
            series_ref: 1 + k % 2,
            t: 1_700_000_000_000 + k as i64 * 15_000,
            v: k as f64,
        })
        .collect();
    record::encode_samples(&samples, &mut buf);
    recs.push(std::mem::take(&mut buf));
    record::encode_tombstones(
        &[Tombstone {
            series_ref: 1,
            mint: 0,
            maxt: 1_700_000_000_000,
        }],
        &mut buf,
    );
    recs.push(std::mem::take(&mut buf));
    record::encode_exemplars(
        &[RefExemplar {
            series_ref: 2,
            t: 1_700_000_000_000,
            v: 0.5,
            labels: labels(&[("trace_id", "abc")]),
        }],
        &mut buf,
    );
    recs.push(std::mem::take(&mut buf));
    record::encode_mmap_markers(
        &[RefMmapMarker {
            series_ref: 1,
            mmap_ref: 0x0000_0001_0000_0008,
        }],
        &mut buf,
    );
    recs.push(std::mem::take(&mut buf));
    record::encode_metadata(
        &[RefMetadata {
            series_ref: 2,
            metric_type: MetricType::Gauge,
            unit: String::new(),
            help: "Number of goroutines.".into(),
        }],
        &mut buf,
    );
    recs.push(std::mem::take(&mut buf));

    for (name, compression) in [
        ("records_plain", Compression::None),
        ("records_snappy", Compression::Snappy),
    ] {
        let dir = tmp.join(name);
        let opts = WalOptions {
            segment_size: 4 * PAGE_SIZE as u64,
            compression,
            repair_scope: RepairScope::LastSegment,
        };
        let (mut w, _) = Wal::open(&dir, opts)?;
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        w.log(&refs)?;
        // Dropped, not closed: the segment ends right after the last record,
        // as after a kill, instead of being padded to a whole page.
        drop(w);
        let seg = fs::read(dir.join("00000000"))?;
        write(out, "tsdb_wal", name, &seg)?;
        // The same, torn inside its last record.
        write(
            out,
            "tsdb_wal",
            &format!("{name}_torn"),
            &seg[..seg.len() - 3],
        )?;
    }

    // A record larger than a page, split into first/middle/last fragments;
    // the segment is cut after the second page to keep the seed small.
    let dir = tmp.join("fragments");
    let opts = WalOptions {
        segment_size: 4 * PAGE_SIZE as u64,
        compression: Compression::None,
        repair_scope: RepairScope::LastSegment,
    };
    let (mut w, _) = Wal::open(&dir, opts)?;
    let mut big = Vec::new();
    let many: Vec<RefSample> = (0..3000)
        .map(|k| RefSample {
            series_ref: 1,
            t: k,
            v: 1.0,
        })
        .collect();
    record::encode_samples(&many, &mut big);
    w.log(&[recs[0].as_slice(), big.as_slice(), recs[1].as_slice()])?;
    drop(w);
    let seg = fs::read(dir.join("00000000"))?;
    write(out, "tsdb_wal", "records_fragmented", &seg)?;
    Ok(())
}

fn tombstone_seeds(out: &Path) -> Result<()> {
    write(out, "tsdb_tombstones", "empty", &Tombstones::new().encode())?;
    let mut t = Tombstones::new();
    t.add_interval(
        16,
        Interval {
            min_time: 0,
            max_time: 1000,
        },
    );
    t.add_interval(
        16,
        Interval {
            min_time: 5000,
            max_time: 6000,
        },
    );
    t.add_interval(
        32,
        Interval {
            min_time: i64::MIN,
            max_time: i64::MAX,
        },
    );
    t.add_interval(
        48,
        Interval {
            min_time: -5,
            max_time: 5,
        },
    );
    write(out, "tsdb_tombstones", "three_series", &t.encode())?;
    Ok(())
}
