//! Reading the head: the [`HeadQuerier`] behind [`storage::Querier`], and
//! the index-like reads (label names and values, postings, series with their
//! chunk metas, chunk bytes) through which a block writer persists the head.
//!
//! Readers never see a chunk being appended to: under the series lock they
//! take the closed chunks by reference count and a copy of the open chunk's
//! bytes, then decode without any lock.

use std::sync::Arc;

use model::{Labels, Matcher, Sample, Timestamp};
use storage::{Querier, SampleIterator, SelectHints, Series, SeriesSet, StorageError};

use super::chunk_files::ChunkBytes;
use super::series::{ClosedChunk, MemSeries};
use super::{Head, HeadData};
use crate::chunkenc::XorIter;
use crate::chunks::ChunkMeta;

/// A chunk of the head as readers get it: its time range and bytes (XOR
/// encoding, without the encoding byte).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadChunk {
    /// Time of the first sample.
    pub min_time: i64,
    /// Time of the last sample.
    pub max_time: i64,
    /// The chunk's bytes.
    pub data: ChunkBytes,
}

const CHUNK_ID_BITS: u32 = 24;
const CHUNK_ID_MASK: u64 = (1 << CHUNK_ID_BITS) - 1;

/// The chunks of `s` overlapping `[mint, maxt]`, with their ids, taken
/// under the series lock.
fn snapshot(s: &MemSeries, mint: i64, maxt: i64) -> Vec<(u32, HeadChunk)> {
    let c = s.chunks.lock();
    let mut out = Vec::with_capacity(c.num_chunks());
    let overlaps = |lo: i64, hi: i64| lo <= maxt && hi >= mint;
    for (i, cc) in c.closed.iter().enumerate() {
        if overlaps(cc.min_time, cc.max_time) {
            let ClosedChunk {
                min_time,
                max_time,
                data,
            } = cc.clone();
            let id = c.first_chunk_id.wrapping_add(i as u32);
            out.push((
                id,
                HeadChunk {
                    min_time,
                    max_time,
                    data,
                },
            ));
        }
    }
    if let (Some(h), Some(first)) = (&c.head, c.head_min_time()) {
        if overlaps(first, c.max_time) {
            let id = c.first_chunk_id.wrapping_add(c.closed.len() as u32);
            out.push((
                id,
                HeadChunk {
                    min_time: first,
                    max_time: c.max_time,
                    data: ChunkBytes::heap(h.bytes()),
                },
            ));
        }
    }
    out
}

impl Head {
    /// Sorted label names of all series.
    pub fn label_names(&self) -> Vec<String> {
        self.data.postings.read().label_names()
    }

    /// Sorted values of label `name` over all series.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.data.postings.read().label_values(name)
    }

    /// Refs of the series with `name=value`, sorted by ref.
    pub fn postings(&self, name: &str, value: &str) -> Vec<u64> {
        self.data.postings.read().get(name, value).to_vec()
    }

    /// Refs of the series satisfying every matcher, sorted by ref, with
    /// Prometheus's semantics: an absent label matches as the empty value;
    /// matchers that do not match `""` intersect, the others subtract; and a
    /// selection in which every matcher matches `""` (`{}`, `{a=~".*"}`)
    /// is refused as [`StorageError::Invalid`], since it would select every
    /// series.
    pub fn postings_for_matchers(&self, matchers: &[Matcher]) -> Result<Vec<u64>, StorageError> {
        self.data.postings.read().postings_for_matchers(matchers)
    }

    /// Every series ref, sorted by the series' labels: the order in which a
    /// block's index lists series.
    pub fn sorted_series_refs(&self) -> Vec<u64> {
        let all = self.data.postings.read().all().to_vec();
        sort_by_labels(&self.data, &all)
            .into_iter()
            .map(|s| s.series_ref)
            .collect()
    }

    /// Labels of series `r` and the metas of its chunks overlapping
    /// `[mint, maxt]`, oldest first; `None` if there is no such series.
    /// A head chunk ref is `series_ref << 24 | chunk id` (ids are per series
    /// and wrap at 2^24), as Prometheus's `HeadChunkRef`; it names a chunk
    /// for [`Head::chunk`], not a place in a block's segment files.
    pub fn series(&self, r: u64, mint: i64, maxt: i64) -> Option<(Labels, Vec<ChunkMeta>)> {
        let s = self.data.series.get_by_ref(r)?;
        let metas = snapshot(&s, mint, maxt)
            .into_iter()
            .map(|(id, c)| ChunkMeta {
                min_time: c.min_time,
                max_time: c.max_time,
                chunk_ref: (r << CHUNK_ID_BITS) | (u64::from(id) & CHUNK_ID_MASK),
            })
            .collect();
        Some((s.labels.clone(), metas))
    }

    /// Labels of series `r` and its chunks overlapping `[mint, maxt]` with
    /// their bytes, oldest first, in one step.
    pub fn series_chunks(&self, r: u64, mint: i64, maxt: i64) -> Option<(Labels, Vec<HeadChunk>)> {
        let s = self.data.series.get_by_ref(r)?;
        let chunks = snapshot(&s, mint, maxt)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        Some((s.labels.clone(), chunks))
    }

    /// The chunk a [`ChunkMeta::chunk_ref`] from [`Head::series`] names, if it still exists.
    pub fn chunk(&self, chunk_ref: u64) -> Option<HeadChunk> {
        let s = self.data.series.get_by_ref(chunk_ref >> CHUNK_ID_BITS)?;
        let want = (chunk_ref & CHUNK_ID_MASK) as u32;
        snapshot(&s, i64::MIN, i64::MAX)
            .into_iter()
            .find(|(id, _)| id & CHUNK_ID_MASK as u32 == want)
            .map(|(_, c)| c)
    }
}

fn sort_by_labels(data: &HeadData, refs: &[u64]) -> Vec<Arc<MemSeries>> {
    let mut series: Vec<Arc<MemSeries>> = refs
        .iter()
        .filter_map(|&r| data.series.get_by_ref(r))
        .collect();
    series.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
    series
}

/// A [`Querier`] over the head's samples with `mint <= t <= maxt`.
pub struct HeadQuerier {
    data: Arc<HeadData>,
    mint: i64,
    maxt: i64,
}

impl HeadQuerier {
    pub(crate) fn new(data: Arc<HeadData>, mint: i64, maxt: i64) -> HeadQuerier {
        HeadQuerier { data, mint, maxt }
    }

    /// Whether the querier's range meets the head's. Label queries answer
    /// from the index without looking at samples, so, like Prometheus's
    /// head index reader, they answer for every series when the ranges meet
    /// and for none when they do not.
    fn overlaps_head(&self) -> bool {
        let d = &self.data;
        let (lo, hi) = (
            d.min_time.load(std::sync::atomic::Ordering::Relaxed),
            d.max_time.load(std::sync::atomic::Ordering::Relaxed),
        );
        lo <= hi && self.mint <= hi && self.maxt >= lo
    }

    fn matching(&self, matchers: &[Matcher]) -> Result<Vec<Arc<MemSeries>>, StorageError> {
        let refs = self.data.postings.read().postings_for_matchers(matchers)?;
        Ok(refs
            .iter()
            .filter_map(|&r| self.data.series.get_by_ref(r))
            .collect())
    }
}

impl Querier for HeadQuerier {
    fn select(
        &self,
        sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let mut series = self.matching(matchers)?;
        if sorted {
            series.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        }
        let (mint, maxt) = (self.mint, self.maxt);
        Ok(Box::new(series.into_iter().filter_map(move |s| {
            let chunks: Vec<HeadChunk> = snapshot(&s, mint, maxt)
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            if chunks.is_empty() {
                return None;
            }
            // A chunk may overlap the range without a sample inside it; such
            // a series is left out rather than returned empty.
            let mut it = HeadIterator::new(chunks, mint, maxt);
            if !it.prime() {
                return None;
            }
            Some(Ok(Series {
                labels: s.labels.clone(),
                samples: Box::new(it),
            }))
        })))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if !self.overlaps_head() {
            return Ok(Vec::new());
        }
        if matchers.is_empty() {
            return Ok(self.data.postings.read().label_values(name));
        }
        let mut vals: Vec<String> = self
            .matching(matchers)?
            .iter()
            .filter_map(|s| s.labels.get(name).map(str::to_owned))
            .collect();
        vals.sort_unstable();
        vals.dedup();
        Ok(vals)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if !self.overlaps_head() {
            return Ok(Vec::new());
        }
        if matchers.is_empty() {
            return Ok(self.data.postings.read().label_names());
        }
        let mut names: Vec<String> = Vec::new();
        for s in self.matching(matchers)? {
            names.extend(s.labels.iter().map(|l| l.name.to_owned()));
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }
}

/// Iterates the samples of a snapshot of chunks within `[mint, maxt]`,
/// decoding one chunk at a time into a reused buffer.
pub(crate) struct HeadIterator {
    chunks: Vec<HeadChunk>,
    /// Index of the next chunk to decode.
    next_chunk: usize,
    buf: Vec<Sample>,
    /// Index in `buf` of the next sample to return.
    pos: usize,
    /// The sample most recently returned.
    cur: Option<Sample>,
    mint: i64,
    maxt: i64,
    err: Option<StorageError>,
}

impl HeadIterator {
    pub(crate) fn new(chunks: Vec<HeadChunk>, mint: i64, maxt: i64) -> HeadIterator {
        HeadIterator {
            chunks,
            next_chunk: 0,
            buf: Vec::new(),
            pos: 0,
            cur: None,
            mint,
            maxt,
            err: None,
        }
    }

    /// Decodes the first chunk with samples in range: false if there is
    /// none (and no error to report).
    fn prime(&mut self) -> bool {
        self.load(i64::MIN) || self.err.is_some()
    }

    /// Decodes the next chunk whose samples may reach `from`; false at the
    /// end or on error.
    fn load(&mut self, from: i64) -> bool {
        self.buf.clear();
        self.pos = 0;
        while self.err.is_none() {
            let Some(c) = self.chunks.get(self.next_chunk) else {
                return false;
            };
            self.next_chunk += 1;
            if c.max_time < from.max(self.mint) {
                continue;
            }
            let mut it = match XorIter::new(&c.data) {
                Ok(it) => it,
                Err(e) => {
                    self.err = Some(StorageError::Corruption(format!(
                        "cannot read head chunk [{}, {}]: {e}",
                        c.min_time, c.max_time
                    )));
                    return false;
                }
            };
            let (lo, hi) = (self.mint, self.maxt);
            self.buf.extend(
                it.by_ref()
                    .filter(|&(t, _)| t >= lo && t <= hi)
                    .map(|(t, v)| Sample::new(t, v)),
            );
            if let Some(e) = it.error() {
                self.err = Some(StorageError::Corruption(format!(
                    "cannot read head chunk [{}, {}]: {e}",
                    c.min_time, c.max_time
                )));
                return false;
            }
            if !self.buf.is_empty() {
                return true;
            }
        }
        false
    }
}

impl SampleIterator for HeadIterator {
    fn next(&mut self) -> Option<Sample> {
        if self.pos >= self.buf.len() && !self.load(i64::MIN) {
            self.buf.clear();
            return None;
        }
        let s = self.buf[self.pos];
        self.pos += 1;
        self.cur = Some(s);
        Some(s)
    }

    fn seek(&mut self, t: Timestamp) -> Option<Sample> {
        if let Some(c) = self.cur {
            if c.t >= t {
                return Some(c);
            }
        }
        loop {
            let rest = &self.buf[self.pos.min(self.buf.len())..];
            let i = rest.partition_point(|s| s.t < t);
            if i < rest.len() {
                let s = rest[i];
                self.pos += i + 1;
                self.cur = Some(s);
                return Some(s);
            }
            if !self.load(t) {
                self.buf.clear();
                return None;
            }
        }
    }

    fn err(&mut self) -> Option<StorageError> {
        self.err.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::HeadOptions;
    use model::MatchType;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use storage::{Appendable, Queryable};

    fn small_chunks() -> HeadOptions {
        HeadOptions {
            chunk_range: 1000,
            samples_per_chunk: 5,
            stripe_size: 4,
            ..HeadOptions::default()
        }
    }

    fn read_all(head: &Head, mint: i64, maxt: i64) -> BTreeMap<Labels, Vec<Sample>> {
        let q = head.querier(mint, maxt).unwrap();
        let m = Matcher::new(MatchType::Regex, "s", ".+").unwrap();
        let mut out = BTreeMap::new();
        let mut prev: Option<Labels> = None;
        for s in q.select(true, None, &[m]).unwrap() {
            let mut s = s.unwrap();
            assert!(prev.as_ref() < Some(&s.labels), "sorted select");
            prev = Some(s.labels.clone());
            out.insert(s.labels.clone(), s.collect_samples().unwrap());
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn appended_samples_read_back(
            steps in proptest::collection::vec((0usize..6, 1i64..400, any::<u64>()), 1..300),
            commit_every in 1usize..50,
            mint in 0i64..3000,
            len in 0i64..150_000,
        ) {
            let head = Head::new(small_chunks(), None);
            let mut app = head.appender();
            let mut want: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
            let mut last = [0i64; 6];
            for (i, &(series, dt, bits)) in steps.iter().enumerate() {
                let labels = Labels::from_pairs(&[("s", series.to_string())]);
                last[series] += dt;
                let v = f64::from_bits(bits);
                // A series left far behind the others falls out of bounds
                // (half a chunk range behind the newest sample).
                match app.append(None, &labels, last[series], v) {
                    Ok(_) => want.entry(labels).or_default().push(Sample::new(last[series], v)),
                    Err(storage::AppendError::OutOfBounds { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
                if i % commit_every == 0 {
                    app.commit().unwrap();
                }
            }
            app.commit().unwrap();
            drop(app);
            let maxt = mint + len;
            let want: BTreeMap<Labels, Vec<Sample>> = want
                .into_iter()
                .map(|(l, s)| (l, s.into_iter().filter(|s| s.t >= mint && s.t <= maxt).collect::<Vec<_>>()))
                .filter(|(_, s)| !s.is_empty())
                .collect();
            let got = read_all(&head, mint, maxt);
            // Compare value bits: NaNs must come back exactly.
            let bits = |m: &BTreeMap<Labels, Vec<Sample>>| -> Vec<(Labels, Vec<(i64, u64)>)> {
                m.iter().map(|(l, s)| (l.clone(), s.iter().map(|s| (s.t, s.v.to_bits())).collect())).collect()
            };
            prop_assert_eq!(bits(&got), bits(&want));
        }
    }

    #[test]
    fn seek_moves_across_chunks_and_never_back() {
        let head = Head::new(small_chunks(), None);
        let mut app = head.appender();
        let a = Labels::from_pairs(&[("s", "a")]);
        for t in 0..40 {
            app.append(None, &a, t * 10, t as f64).unwrap();
        }
        app.commit().unwrap();
        drop(app);
        let q = head.querier(0, 1000).unwrap();
        let mut s = q
            .select(false, None, &[Matcher::equal("s", "a")])
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(s.samples.seek(95).map(|s| s.t), Some(100));
        assert_eq!(s.samples.seek(50).map(|s| s.t), Some(100));
        assert_eq!(s.samples.next().map(|s| s.t), Some(110));
        assert_eq!(s.samples.seek(333).map(|s| s.t), Some(340));
        assert_eq!(s.samples.seek(390).map(|s| s.t), Some(390));
        assert_eq!(s.samples.seek(391), None);
        assert!(s.samples.err().is_none());
    }

    #[test]
    fn index_reads_for_the_block_writer() {
        let head = Head::new(small_chunks(), None);
        let mut app = head.appender();
        let (a, b) = (
            Labels::from_pairs(&[("s", "b"), ("x", "1")]),
            Labels::from_pairs(&[("s", "a")]),
        );
        for t in 0..12 {
            app.append(None, &a, t, 1.0).unwrap();
        }
        let rb = app.append(None, &b, 3, 2.0).unwrap().0;
        app.commit().unwrap();
        drop(app);
        assert_eq!(head.label_names(), ["s", "x"]);
        assert_eq!(head.label_values("s"), ["a", "b"]);
        assert_eq!(head.postings("s", "a"), [rb]);
        let refs = head.sorted_series_refs();
        assert_eq!(refs[0], rb, "sorted by labels, not by ref");
        let (labels, metas) = head.series(refs[1], 0, 100).unwrap();
        assert_eq!(labels, a);
        let ranges: Vec<(i64, i64)> = metas.iter().map(|m| (m.min_time, m.max_time)).collect();
        assert_eq!(ranges, [(0, 3), (4, 7), (8, 11)]);
        let c = head.chunk(metas[1].chunk_ref).unwrap();
        let got: Vec<i64> = XorIter::new(&c.data).unwrap().map(|(t, _)| t).collect();
        assert_eq!(got, [4, 5, 6, 7]);
        assert_eq!(head.series(refs[1], 6, 7).unwrap().1.len(), 1);
        let (_, chunks) = head.series_chunks(refs[1], 0, 100).unwrap();
        assert_eq!(chunks[1], c);
        head.truncate(5).unwrap();
        assert!(head.chunk(metas[0].chunk_ref).is_none(), "truncated");
        assert_eq!(
            head.chunk(metas[1].chunk_ref).unwrap(),
            c,
            "refs survive truncation"
        );
    }

    #[test]
    fn label_queries_with_matchers() {
        let head = Head::new(small_chunks(), None);
        let mut app = head.appender();
        for (s, j) in [("a", "x"), ("b", "y"), ("c", "x")] {
            let l = Labels::from_pairs(&[("s", s), ("job", j)]);
            app.append(None, &l, 1, 1.0).unwrap();
        }
        app.append(None, &Labels::from_pairs(&[("other", "1")]), 1, 1.0)
            .unwrap();
        app.commit().unwrap();
        drop(app);
        let q = head.querier(0, 10).unwrap();
        let x = [Matcher::equal("job", "x")];
        assert_eq!(q.label_values("s", &x).unwrap(), ["a", "c"]);
        assert_eq!(q.label_values("s", &[]).unwrap(), ["a", "b", "c"]);
        assert_eq!(q.label_names(&x).unwrap(), ["job", "s"]);
        assert_eq!(q.label_names(&[]).unwrap(), ["job", "other", "s"]);
        let all = Matcher::new(MatchType::Regex, "job", ".*").unwrap();
        assert_eq!(q.select(false, None, &[all]).unwrap().count(), 4);
        // Out of the querier's range: nothing.
        let q = head.querier(2, 10).unwrap();
        assert_eq!(q.select(false, None, &x).unwrap().count(), 0);
        assert!(q.label_names(&[]).unwrap().is_empty());
        assert!(q.label_values("s", &x).unwrap().is_empty());
    }
}
