//! Merging blocks into one (leveled compaction and tombstone cleaning).
//!
//! Series are merged by labels across the source blocks, which each list
//! their series in label order. A series' chunks are copied byte for byte
//! when they do not overlap one another and no tombstone touches them;
//! otherwise its samples are decoded, the deleted ones dropped, duplicates
//! (same timestamp in several blocks) reduced to the first block's sample,
//! and the rest re-encoded with the head's chunk cutting rule.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use model::Labels;

use crate::block::{Block, BlockError, BlockWriter, ChunkData};
use crate::chunkenc::cut::encode_chunks;
use crate::chunkenc::{Encoding, XorChunk};
use crate::chunks::ChunkMeta;
use crate::index::{expand, SeriesRef};
use crate::meta::{BlockDesc, BlockMeta, BlockMetaCompaction};
use crate::tombstones::Interval;

/// How the merged block's history is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MergeKind {
    /// Leveled compaction: level = max parent level + 1.
    Compact,
    /// Rewriting one block without its deleted data: level unchanged.
    Rewrite,
}

/// One source block's cursor over its series in label order.
struct Cursor<'a> {
    block: &'a Block,
    refs: std::vec::IntoIter<SeriesRef>,
    cur: Option<(SeriesRef, Labels, Vec<ChunkMeta>)>,
}

impl Cursor<'_> {
    fn advance(&mut self) -> Result<(), BlockError> {
        self.cur = match self.refs.next() {
            None => None,
            Some(r) => {
                let mut metas = Vec::new();
                let l = self.block.index().series(r, &mut metas).map_err(|source| {
                    BlockError::Index {
                        dir: self.block.dir().to_path_buf(),
                        source,
                    }
                })?;
                Some((r, l, metas))
            }
        };
        Ok(())
    }
}

/// Merges `sources` (sorted by min time) into one new block under `dir`.
/// `chunk_range` is the range re-encoded chunks are cut at. An empty
/// result is written marked deletable, so the next reload removes it.
pub(crate) fn merge_blocks(
    dir: &Path,
    sources: &[Arc<Block>],
    kind: MergeKind,
    chunk_range: i64,
) -> Result<BlockMeta, BlockError> {
    let index_err = |b: &Block| {
        let dir = b.dir().to_path_buf();
        move |source| BlockError::Index { dir, source }
    };
    let mut symbols = BTreeSet::new();
    for b in sources {
        for s in b.index().symbols() {
            symbols.insert(s.map_err(index_err(b))?.to_owned());
        }
    }
    let mint = sources.iter().map(|b| b.meta().min_time).min().unwrap_or(0);
    let maxt = sources.iter().map(|b| b.meta().max_time).max().unwrap_or(1);
    let mut w = BlockWriter::create(dir, mint, maxt, symbols.iter().map(String::as_str))?;

    let mut cursors = Vec::with_capacity(sources.len());
    for b in sources {
        let refs = expand(b.index().all_postings().map_err(index_err(b))?);
        let mut c = Cursor {
            block: b,
            refs: refs.into_iter(),
            cur: None,
        };
        c.advance()?;
        cursors.push(c);
    }

    let mut group: Vec<(usize, SeriesRef, Vec<ChunkMeta>)> = Vec::new();
    let mut owned: Vec<(i64, i64, XorChunk)> = Vec::new();
    let mut samples: Vec<(i64, f64)> = Vec::new();
    while let Some(labels) = cursors
        .iter()
        .filter_map(|c| c.cur.as_ref().map(|(_, l, _)| l))
        .min()
        .cloned()
    {
        group.clear();
        for (i, c) in cursors.iter_mut().enumerate() {
            if c.cur.as_ref().is_some_and(|(_, l, _)| *l == labels) {
                if let Some((r, _, metas)) = c.cur.take() {
                    group.push((i, r, metas));
                }
                c.advance()?;
            }
        }
        write_series(
            &mut w,
            sources,
            &labels,
            &group,
            chunk_range,
            &mut owned,
            &mut samples,
        )?;
    }

    let mut ulids: Vec<ulid::Ulid> = sources
        .iter()
        .flat_map(|b| b.meta().compaction.sources.iter().copied())
        .collect();
    ulids.sort();
    ulids.dedup();
    let level = sources
        .iter()
        .map(|b| b.meta().compaction.level)
        .max()
        .unwrap_or(1);
    let compaction = BlockMetaCompaction {
        level: match kind {
            MergeKind::Compact => level + 1,
            MergeKind::Rewrite => level,
        },
        sources: ulids,
        parents: sources
            .iter()
            .map(|b| BlockDesc {
                ulid: b.meta().ulid,
                min_time: b.meta().min_time,
                max_time: b.meta().max_time,
            })
            .collect(),
        ..Default::default()
    };
    let mut meta = w.finish(Some(compaction))?;
    if meta.stats.num_samples == 0 {
        let bdir = dir.join(meta.ulid.to_string());
        meta.compaction.deletable = true;
        meta.write(&bdir)
            .map_err(|source| BlockError::Meta { dir: bdir, source })?;
    }
    Ok(meta)
}

/// Whether any interval of `ivs` overlaps `[mint, maxt]`.
fn touched(ivs: &[Interval], mint: i64, maxt: i64) -> bool {
    ivs.iter().any(|d| d.min_time <= maxt && mint <= d.max_time)
}

/// Writes one merged series: `group` holds, per source block that has it,
/// the block's index, the series ref and its chunk metas.
fn write_series(
    w: &mut BlockWriter,
    sources: &[Arc<Block>],
    labels: &Labels,
    group: &[(usize, SeriesRef, Vec<ChunkMeta>)],
    chunk_range: i64,
    owned: &mut Vec<(i64, i64, XorChunk)>,
    samples: &mut Vec<(i64, f64)>,
) -> Result<(), BlockError> {
    let chunk_err = |b: &Block| {
        let dir = b.dir().to_path_buf();
        move |source| BlockError::Chunks { dir, source }
    };
    // Every chunk with its block, in time order.
    let mut all: Vec<(usize, SeriesRef, ChunkMeta)> = group
        .iter()
        .flat_map(|(i, r, ms)| ms.iter().map(move |m| (*i, *r, *m)))
        .collect();
    all.sort_by_key(|(i, _, m)| (m.min_time, m.max_time, *i));
    let overlapping = all.windows(2).any(|p| p[1].2.min_time <= p[0].2.max_time);
    let deleted = all
        .iter()
        .any(|(i, r, m)| touched(sources[*i].tombstones().get(*r), m.min_time, m.max_time));

    if !overlapping && !deleted {
        let mut data = Vec::with_capacity(all.len());
        for (i, _, m) in &all {
            let b = &*sources[*i];
            let raw = b.chunks().chunk(m.chunk_ref).map_err(chunk_err(b))?;
            data.push(ChunkData {
                min_time: m.min_time,
                max_time: m.max_time,
                encoding: raw.encoding,
                data: raw.data,
            });
        }
        return w.add_series(labels, &data);
    }

    // Decode, drop deleted samples, keep the first block's sample per
    // timestamp, re-encode.
    samples.clear();
    let mut verbatim: Vec<ChunkData<'_>> = Vec::new();
    for (i, r, m) in &all {
        let b = &*sources[*i];
        let ivs = b.tombstones().get(*r);
        let raw = b.chunks().chunk(m.chunk_ref).map_err(chunk_err(b))?;
        if raw.encoding != Encoding::Xor {
            // Histogram chunks cannot be re-encoded yet; kept as they are
            // unless wholly deleted.
            if !ivs
                .iter()
                .any(|d| d.min_time <= m.min_time && m.max_time <= d.max_time)
            {
                tracing::warn!(block = %b.dir().display(), %labels, "kept a non-float chunk as is while merging");
                verbatim.push(ChunkData {
                    min_time: m.min_time,
                    max_time: m.max_time,
                    encoding: raw.encoding,
                    data: raw.data,
                });
            }
            continue;
        }
        let mut it = raw.float_iter().map_err(|e| {
            BlockError::Invalid(format!(
                "cannot decode chunk {:#x} of block {}: {e}",
                m.chunk_ref,
                b.dir().display()
            ))
        })?;
        for (t, v) in it.by_ref() {
            if !ivs.iter().any(|d| d.contains(t)) {
                samples.push((t, v));
            }
        }
        if let Some(e) = it.error() {
            return Err(BlockError::Invalid(format!(
                "cannot decode chunk {:#x} of block {}: {e}",
                m.chunk_ref,
                b.dir().display()
            )));
        }
    }
    // Stable: for equal timestamps the earlier source (sorted first) wins.
    samples.sort_by_key(|s| s.0);
    samples.dedup_by_key(|s| s.0);
    encode_chunks(samples, chunk_range, owned);
    let mut data: Vec<ChunkData<'_>> = owned.iter().map(ChunkData::xor).collect();
    data.extend(verbatim);
    data.sort_by_key(|c| c.min_time);
    w.add_series(labels, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touched_is_inclusive() {
        let iv = [Interval {
            min_time: 10,
            max_time: 20,
        }];
        assert!(touched(&iv, 20, 30));
        assert!(touched(&iv, 0, 10));
        assert!(!touched(&iv, 21, 30));
        assert!(!touched(&[], 0, 100));
    }

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use storage::Querier;

    use crate::block::BlockQuerier;
    use crate::tombstones::Tombstones;

    type Spec = Vec<(u8, Vec<i64>)>;

    /// Writes a block of the series `spec` (label value, timestamps) with
    /// value = t, and tombstones `dels` (label value, interval).
    fn block(dir: &Path, spec: &Spec, dels: &[(u8, Interval)]) -> Arc<Block> {
        let mut series: BTreeMap<Labels, Vec<i64>> = BTreeMap::new();
        for (k, ts) in spec {
            let l = Labels::from_pairs(&[("__name__", "m"), ("k", &k.to_string())]);
            series.entry(l).or_default().extend(ts);
        }
        let mut syms = BTreeSet::new();
        for l in series.keys() {
            for p in l {
                syms.insert(p.name.to_owned());
                syms.insert(p.value.to_owned());
            }
        }
        let all_ts = series.values().flatten();
        let mint = all_ts.clone().min().copied().unwrap_or(0);
        let maxt = all_ts.max().copied().unwrap_or(0) + 1;
        let mut w = BlockWriter::create(dir, mint, maxt, syms.iter().map(String::as_str)).unwrap();
        let mut owned = Vec::new();
        for (l, ts) in &mut series {
            ts.sort_unstable();
            ts.dedup();
            let s: Vec<(i64, f64)> = ts.iter().map(|&t| (t, t as f64)).collect();
            encode_chunks(&s, 1000, &mut owned);
            let data: Vec<ChunkData<'_>> = owned.iter().map(ChunkData::xor).collect();
            w.add_series(l, &data).unwrap();
        }
        let meta = w.finish(None).unwrap();
        let bdir = dir.join(meta.ulid.to_string());
        let b = Block::open(&bdir).unwrap();
        let mut stones = Tombstones::new();
        let mut metas = Vec::new();
        for r in expand(b.index().all_postings().unwrap()) {
            let l = b.index().series(r, &mut metas).unwrap();
            for (k, iv) in dels {
                if l.get("k") == Some(&k.to_string()) {
                    stones.add_interval(r, *iv);
                }
            }
        }
        stones.write(&bdir).unwrap();
        Block::open(&bdir).unwrap()
    }

    fn read(b: Arc<Block>) -> BTreeMap<String, Vec<i64>> {
        let q = BlockQuerier::new(b, i64::MIN, i64::MAX);
        let mut out = BTreeMap::new();
        for s in q
            .select(true, None, &[model::Matcher::equal("__name__", "m")])
            .unwrap()
        {
            let mut s = s.unwrap();
            let v = s.collect_samples().unwrap();
            assert!(v.iter().all(|x| x.v == x.t as f64));
            out.insert(
                s.labels.get_or_empty("k").to_owned(),
                v.iter().map(|x| x.t).collect(),
            );
        }
        out
    }

    fn spec() -> impl Strategy<Value = Spec> {
        prop::collection::vec((0u8..3, prop::collection::vec(0i64..3000, 1..200)), 1..3)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Merging keeps exactly the union of what the sources return
        /// through their queriers (tombstones applied per source).
        #[test]
        fn merge_keeps_the_union(
            specs in prop::collection::vec(spec(), 1..4),
            dels in prop::collection::vec((0usize..3, 0u8..3, 0i64..3000, 0i64..500), 0..3),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut blocks = Vec::new();
            for (i, sp) in specs.iter().enumerate() {
                let d: Vec<(u8, Interval)> = dels
                    .iter()
                    .filter(|(bi, ..)| *bi == i)
                    .map(|&(_, k, t, len)| (k, Interval { min_time: t, max_time: t + len }))
                    .collect();
                blocks.push(block(dir.path(), sp, &d));
            }
            let mut want: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for b in &blocks {
                for (k, ts) in read(b.clone()) {
                    want.entry(k).or_default().extend(ts);
                }
            }
            for ts in want.values_mut() {
                ts.sort_unstable();
                ts.dedup();
            }
            blocks.sort_by_key(|b| (b.meta().min_time, b.meta().ulid));
            let out = tempfile::tempdir().unwrap();
            let meta = merge_blocks(out.path(), &blocks, MergeKind::Compact, 1000).unwrap();
            prop_assert_eq!(meta.compaction.level, 2);
            prop_assert_eq!(meta.compaction.parents.len(), blocks.len());
            let merged = Block::open(out.path().join(meta.ulid.to_string())).unwrap();
            let n: usize = want.values().map(Vec::len).sum();
            prop_assert_eq!(merged.meta().stats.num_samples as usize, n);
            prop_assert_eq!(meta.compaction.deletable, n == 0);
            prop_assert_eq!(read(merged), want);
        }
    }
}
