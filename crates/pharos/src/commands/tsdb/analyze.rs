//! `pharos tsdb analyze`: promtool's cardinality and churn report for one
//! block (the newest unless a ULID is given).
//!
//! promtool sorts each list by count only, so the order of ties depends on
//! Go's map iteration; pharos breaks ties by name to stay deterministic.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context as _};
use tsdb::chunks::ChunkMeta;
use tsdb::index::Postings as _;
use tsdb::readonly::ReadOnlyDb;

use crate::gofmt::go_duration_ms;

pub(super) fn run(
    db_path: &Path,
    block_id: Option<&str>,
    limit: usize,
    extended: bool,
) -> anyhow::Result<()> {
    let db =
        ReadOnlyDb::open(db_path).with_context(|| format!("cannot open {}", db_path.display()))?;
    let block = match block_id {
        Some(id) => db.blocks().iter().find(|b| b.meta().ulid.to_string() == id),
        None => db.blocks().last(),
    };
    let Some(block) = block else {
        bail!("block {} not found", block_id.unwrap_or(""));
    };
    let meta = block.meta();
    let ix = block.index();
    let range = meta.max_time - meta.min_time;
    let mut out = String::new();
    writeln!(out, "Block ID: {}", meta.ulid)?;
    writeln!(out, "Duration: {}", go_duration_ms(range))?;
    writeln!(out, "Series: {}", meta.stats.num_series)?;
    let names = ix.label_names();
    writeln!(out, "Label names: {}", names.len())?;

    let mut uncovered_names: HashMap<String, u64> = HashMap::new();
    let mut uncovered_pairs: HashMap<String, u64> = HashMap::new();
    let mut pair_counts: HashMap<String, u64> = HashMap::new();
    let mut entries = 0u64;
    let mut chunks: Vec<ChunkMeta> = Vec::new();
    let mut all = ix.all_postings()?;
    let mut refs = Vec::new();
    while let Some(r) = all.next() {
        refs.push(r);
        let labels = ix.series(r, &mut chunks)?;
        let covered = match (chunks.first(), chunks.last()) {
            (Some(f), Some(l)) => l.max_time - f.min_time,
            _ => 0,
        };
        // Time of the block not covered by the series (Go's uint64 wrap-around included).
        let uncovered = (range as u64).wrapping_sub(covered as u64);
        for l in &labels {
            let key = format!("{}={}", l.name, l.value);
            *uncovered_names.entry(l.name.to_owned()).or_default() += uncovered;
            *uncovered_pairs.entry(key.clone()).or_default() += uncovered;
            *pair_counts.entry(key).or_default() += 1;
            entries += 1;
        }
    }
    writeln!(
        out,
        "Postings (unique label pairs): {}",
        uncovered_pairs.len()
    )?;
    writeln!(out, "Postings entries (total label pairs): {entries}")?;

    let churn = |m: HashMap<String, u64>| -> Vec<(String, u64)> {
        m.into_iter()
            .map(|(k, v)| (k, (v as f64 / range as f64) as u64))
            .collect()
    };
    section(
        &mut out,
        "Label pairs most involved in churning",
        churn(uncovered_pairs),
        limit,
    );
    section(
        &mut out,
        "Label names most involved in churning",
        churn(uncovered_names),
        limit,
    );
    section(
        &mut out,
        "Most common label pairs",
        pair_counts.into_iter().collect(),
        limit,
    );

    let mut lengths = Vec::new();
    let mut cardinality = Vec::new();
    for n in &names {
        let values = ix.label_values(n)?;
        lengths.push((n.to_string(), values.iter().map(|v| v.len() as u64).sum()));
        cardinality.push((n.to_string(), values.len() as u64));
    }
    section(
        &mut out,
        "Label names with highest cumulative label value length",
        lengths,
        limit,
    );
    section(&mut out, "Highest cardinality labels", cardinality, limit);

    let mut per_metric = Vec::new();
    for name in ix.label_values(model::METRIC_NAME)? {
        let n = tsdb::index::expand(ix.postings(model::METRIC_NAME, &[name])?).len();
        per_metric.push((name.to_owned(), n as u64));
    }
    section(
        &mut out,
        "Highest cardinality metric names",
        per_metric,
        limit,
    );

    if extended {
        compaction_analysis(&mut out, block, &refs)?;
    }
    print!("{out}");
    Ok(())
}

/// One ranked list: a blank line, the title, then `count key` lines.
fn section(out: &mut String, title: &str, mut items: Vec<(String, u64)>, limit: usize) {
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.push_str(&format!("\n{title}:\n"));
    for (k, v) in items.into_iter().take(limit) {
        out.push_str(&format!("{v} {k}\n"));
    }
}

/// promtool's `--extended` histogram of chunk fullness (120 samples = 100%).
fn compaction_analysis(
    out: &mut String,
    block: &tsdb::block::Block,
    refs: &[u64],
) -> anyhow::Result<()> {
    const MAX_SAMPLES: f64 = 120.0;
    const BUCKETS: usize = 10;
    let mut histogram = [0usize; BUCKETS];
    let mut total = 0usize;
    let mut chunks = Vec::new();
    for &r in refs {
        block.index().series(r, &mut chunks)?;
        for c in &chunks {
            let raw = block.chunks().chunk(c.chunk_ref)?;
            let n = raw
                .data
                .get(..2)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            let size = f64::from(n).min(MAX_SAMPLES);
            let bucket =
                ((BUCKETS as f64 * size / MAX_SAMPLES).ceil() as usize).clamp(1, BUCKETS) - 1;
            histogram[bucket] += 1;
            total += 1;
        }
    }
    out.push_str("\nCompaction analysis:\n");
    out.push_str("Fullness: Amount of samples in chunks (100% is 120 samples)\n");
    for (i, count) in histogram.iter().enumerate() {
        let pct = (100 * count).checked_div(total).unwrap_or(0);
        out.push_str(&format!("{:7}%: {}\n", (i + 1) * 10, "#".repeat(pct)));
    }
    Ok(())
}
