//! Writes an index file, in the order the format dictates: every symbol
//! (sorted), then every series (sorted by labels), then [`IndexWriter::finish`]
//! derives the label indices, postings and tables from the series already on
//! disk.
//!
//! Like Prometheus, the writer keeps neither the symbols nor the series in
//! memory: symbol refs are found by binary search in the symbol table it
//! wrote (mapped back from the file), and postings are built by rescanning
//! the written series section in batches of label names whose lists together
//! hold no more refs than there are series. What it does keep is a count per
//! distinct label pair, which lets it place every postings list before
//! writing one and so avoid Prometheus's temporary files; the output is the
//! same byte for byte.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use model::Labels;

use super::codec::{
    put_be32, put_uvarint, put_uvarint_bytes, put_varint, uvarint_section_at, Decbuf,
};
use super::symbols::Symbols;
use super::{ChunkMeta, IndexError, SeriesRef, FORMAT_V2, MAGIC_INDEX};

/// Largest index file: series refs are 4 bytes and count 16-byte units.
const MAX_FILE_SIZE: u64 = 16 * u32::MAX as u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    None,
    Symbols,
    Series,
    Done,
}

/// Offsets of the sections, as the TOC records them.
#[derive(Default)]
struct Toc {
    symbols: u64,
    series: u64,
    label_indices: u64,
    label_indices_table: u64,
    postings: u64,
    postings_table: u64,
}

/// The last value a label name was seen with, to skip most symbol searches
/// when consecutive series share values (they are sorted, so they do).
struct SymbolCacheEntry {
    name_ref: u32,
    last_value: String,
    last_value_ref: u32,
}

/// Writes one index file in format v2.
///
/// Call [`add_symbol`](Self::add_symbol) for every label name and value in
/// ascending order, then [`add_series`](Self::add_series) for every series in
/// ascending label order, then [`finish`](Self::finish). A writer dropped
/// without `finish` leaves an incomplete file behind.
pub struct IndexWriter {
    path: PathBuf,
    file: BufWriter<File>,
    pos: u64,
    stage: Stage,
    toc: Toc,
    buf1: Vec<u8>,
    buf2: Vec<u8>,

    num_symbols: u32,
    last_symbol: String,
    /// The file mapped after the symbol table was complete, and the table.
    symbols: Option<(Mmap, Symbols)>,
    symbol_cache: HashMap<String, SymbolCacheEntry>,

    /// Series count per label name symbol.
    label_names: HashMap<u32, u64>,
    last_series: Option<Labels>,
    series_refs: Vec<u32>,
}

impl IndexWriter {
    /// Creates (replacing any existing file) the index at `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<IndexWriter, IndexError> {
        let path = path.as_ref().to_path_buf();
        let io = |op, source| IndexError::Io {
            op,
            path: path.clone(),
            source,
        };
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("remove", e)),
            _ => {}
        }
        let f = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io("create", e))?;
        let mut w = IndexWriter {
            file: BufWriter::with_capacity(1 << 20, f),
            path,
            pos: 0,
            stage: Stage::None,
            toc: Toc::default(),
            buf1: Vec::with_capacity(1 << 10),
            buf2: Vec::with_capacity(1 << 10),
            num_symbols: 0,
            last_symbol: String::new(),
            symbols: None,
            symbol_cache: HashMap::new(),
            label_names: HashMap::new(),
            last_series: None,
            series_refs: Vec::new(),
        };
        let mut head = Vec::with_capacity(5);
        put_be32(&mut head, MAGIC_INDEX);
        head.push(FORMAT_V2);
        w.write(&head)?;
        Ok(w)
    }

    fn io(&self, op: &'static str, source: std::io::Error) -> IndexError {
        IndexError::Io {
            op,
            path: self.path.clone(),
            source,
        }
    }

    fn write(&mut self, b: &[u8]) -> Result<(), IndexError> {
        self.file.write_all(b).map_err(|e| IndexError::Io {
            op: "write",
            path: self.path.clone(),
            source: e,
        })?;
        self.pos += b.len() as u64;
        if self.pos > MAX_FILE_SIZE {
            return Err(IndexError::TooLarge(format!(
                "{} exceeds the maximum index size of 64 GiB",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// Writes the first `n` bytes of `buf1`, without giving up its storage.
    fn write_buf1(&mut self) -> Result<(), IndexError> {
        let b = std::mem::take(&mut self.buf1);
        let r = self.write(&b);
        self.buf1 = b;
        r
    }

    fn write_at(&mut self, b: &[u8], at: u64) -> Result<(), IndexError> {
        self.file.flush().map_err(|e| self.io("write", e))?;
        self.file
            .get_ref()
            .write_all_at(b, at)
            .map_err(|e| self.io("write", e))
    }

    fn pad(&mut self, align: u64) -> Result<(), IndexError> {
        let rem = self.pos % align;
        if rem != 0 {
            const ZEROS: [u8; 16] = [0; 16];
            self.write(&ZEROS[..(align - rem) as usize])?;
        }
        Ok(())
    }

    fn map_file(&mut self) -> Result<Mmap, IndexError> {
        self.file.flush().map_err(|e| self.io("write", e))?;
        let f = File::open(&self.path).map_err(|e| self.io("open", e))?;
        // SAFETY: the file is ours alone while the writer lives; the mapped
        // part is never written again (writes only append past it, or patch
        // bytes we do not read through this map).
        unsafe { Mmap::map(&f) }.map_err(|e| self.io("mmap", e))
    }

    fn ensure_stage(&mut self, s: Stage) -> Result<(), IndexError> {
        if self.stage == s {
            return Ok(());
        }
        if self.stage > s {
            return Err(IndexError::Order(format!(
                "cannot go back to stage {s:?} from stage {:?} in {}",
                self.stage,
                self.path.display()
            )));
        }
        while self.stage < s {
            match self.stage {
                Stage::None => {
                    self.toc.symbols = self.pos;
                    // Length and count are patched in when the table ends.
                    self.write(&[0; 8])?;
                    self.stage = Stage::Symbols;
                }
                Stage::Symbols => {
                    self.finish_symbols()?;
                    self.toc.series = self.pos;
                    self.stage = Stage::Series;
                }
                Stage::Series => {
                    self.finish_index()?;
                    self.stage = Stage::Done;
                }
                Stage::Done => unreachable!("BUG: no stage after Done"),
            }
        }
        Ok(())
    }

    /// Adds the next symbol; symbols must come in strictly ascending order.
    ///
    /// The empty string is always added as the first symbol, whether or not
    /// the caller adds it: Prometheus's indexes all have it (it comes from the
    /// all-series postings key), and an index without it would differ from
    /// theirs in every symbol ref.
    pub fn add_symbol(&mut self, sym: &str) -> Result<(), IndexError> {
        self.ensure_stage(Stage::Symbols)?;
        if self.num_symbols == 0 && !sym.is_empty() {
            self.push_symbol("")?;
        }
        self.push_symbol(sym)
    }

    fn push_symbol(&mut self, sym: &str) -> Result<(), IndexError> {
        if self.num_symbols > 0 && sym <= self.last_symbol.as_str() {
            return Err(IndexError::Order(format!(
                "symbol {sym:?} added after {:?}; symbols must be sorted and unique",
                self.last_symbol
            )));
        }
        if self.num_symbols == u32::MAX {
            return Err(IndexError::TooLarge("more than 2^32-1 symbols".into()));
        }
        self.last_symbol.clear();
        self.last_symbol.push_str(sym);
        self.num_symbols += 1;
        self.buf1.clear();
        put_uvarint_bytes(&mut self.buf1, sym.as_bytes());
        self.write_buf1()
    }

    fn finish_symbols(&mut self) -> Result<(), IndexError> {
        let len = self.pos - self.toc.symbols - 4;
        let len = u32::try_from(len).map_err(|_| {
            IndexError::TooLarge(format!("symbol table of {len} bytes exceeds 4 GiB"))
        })?;
        let mut head = Vec::with_capacity(8);
        put_be32(&mut head, len);
        put_be32(&mut head, self.num_symbols);
        self.write_at(&head, self.toc.symbols)?;
        let map = self.map_file()?;
        let start = self.toc.symbols as usize + 4;
        let crc = crc32c::crc32c(map.get(start..).unwrap_or_default());
        self.write(&crc.to_be_bytes())?;
        let map = self.map_file()?;
        let symbols = Symbols::new(&map, self.toc.symbols as usize)?;
        self.symbols = Some((map, symbols));
        Ok(())
    }

    fn symbol_ref(&self, s: &str, series: &Labels) -> Result<u32, IndexError> {
        let (map, symbols) = self
            .symbols
            .as_ref()
            .expect("BUG: symbol table not mapped in series stage");
        symbols.reverse_lookup(map, s)?.ok_or_else(|| {
            IndexError::Order(format!(
                "symbol {s:?} of series {series} was not added before the series"
            ))
        })
    }

    /// Adds the next series with its chunks and returns its ref in this index.
    /// Series must come in strictly ascending label order, and every name and
    /// value must have been added as a symbol.
    pub fn add_series(
        &mut self,
        labels: &Labels,
        chunks: &[ChunkMeta],
    ) -> Result<SeriesRef, IndexError> {
        self.ensure_stage(Stage::Series)?;
        if let Some(last) = &self.last_series {
            if labels <= last {
                return Err(IndexError::Order(format!(
                    "series {labels} added after {last}; series must be sorted and unique"
                )));
            }
        } else if labels.is_empty() {
            return Err(IndexError::Order("series with no labels".into()));
        }
        self.pad(16)?;
        let id = u32::try_from(self.pos / 16)
            .map_err(|_| IndexError::TooLarge("series ref exceeds 32 bits".into()))?;

        self.buf2.clear();
        put_uvarint(&mut self.buf2, labels.len() as u64);
        for l in labels {
            let (name_ref, value_ref) = match self.symbol_cache.get(l.name) {
                Some(e) if e.last_value == l.value => (e.name_ref, e.last_value_ref),
                cached => {
                    let name_ref = match cached {
                        Some(e) => e.name_ref,
                        None => self.symbol_ref(l.name, labels)?,
                    };
                    let value_ref = self.symbol_ref(l.value, labels)?;
                    let e =
                        self.symbol_cache
                            .entry(l.name.to_owned())
                            .or_insert(SymbolCacheEntry {
                                name_ref,
                                last_value: String::new(),
                                last_value_ref: 0,
                            });
                    e.last_value.clear();
                    e.last_value.push_str(l.value);
                    e.last_value_ref = value_ref;
                    (name_ref, value_ref)
                }
            };
            *self.label_names.entry(name_ref).or_insert(0) += 1;
            put_uvarint(&mut self.buf2, u64::from(name_ref));
            put_uvarint(&mut self.buf2, u64::from(value_ref));
        }
        encode_chunks(&mut self.buf2, chunks);

        self.buf1.clear();
        put_uvarint(&mut self.buf1, self.buf2.len() as u64);
        self.buf1.extend_from_slice(&self.buf2);
        put_be32(&mut self.buf1, crc32c::crc32c(&self.buf2));
        self.write_buf1()?;

        self.last_series = Some(labels.clone());
        self.series_refs.push(id);
        Ok(SeriesRef::from(id))
    }

    /// Writes the label indices, postings, offset tables and TOC, and syncs
    /// the file to disk.
    pub fn finish(mut self) -> Result<(), IndexError> {
        self.ensure_stage(Stage::Done)?;
        self.file.flush().map_err(|e| self.io("write", e))?;
        self.file
            .get_ref()
            .sync_all()
            .map_err(|e| self.io("sync", e))
    }

    fn finish_index(&mut self) -> Result<(), IndexError> {
        self.toc.label_indices = self.pos;
        let map = self.map_file()?;
        let symbols = match self.symbols.take() {
            Some((_, s)) => s,
            None => unreachable!("BUG: series stage without a symbol table"),
        };
        let refs = std::mem::take(&mut self.series_refs);
        let scan = SeriesScan {
            map: &map,
            refs: &refs,
        };
        let keys = scan.count_pairs()?;
        finish::write_rest(self, &map, &symbols, &scan, &keys)
    }
}

/// Appends a series' chunk metas: the first absolute, the rest as deltas.
fn encode_chunks(buf: &mut Vec<u8>, chunks: &[ChunkMeta]) {
    put_uvarint(buf, chunks.len() as u64);
    let Some(first) = chunks.first() else {
        return;
    };
    // Wrapping arithmetic: Prometheus encodes whatever the deltas are
    // (as Go's int64 → uint64 conversions do) and so do we.
    put_varint(buf, first.min_time);
    put_uvarint(buf, first.max_time.wrapping_sub(first.min_time) as u64);
    put_uvarint(buf, first.chunk_ref);
    let (mut t0, mut ref0) = (first.max_time, first.chunk_ref as i64);
    for c in &chunks[1..] {
        put_uvarint(buf, c.min_time.wrapping_sub(t0) as u64);
        put_uvarint(buf, c.max_time.wrapping_sub(c.min_time) as u64);
        put_varint(buf, (c.chunk_ref as i64).wrapping_sub(ref0));
        t0 = c.max_time;
        ref0 = c.chunk_ref as i64;
    }
}

/// One distinct label pair, by symbol refs, with its number of series.
#[derive(Clone, Copy)]
struct PairCount {
    name: u32,
    value: u32,
    count: u32,
}

/// Reads back the series section that was just written.
struct SeriesScan<'a> {
    map: &'a [u8],
    refs: &'a [u32],
}

impl SeriesScan<'_> {
    /// Calls `f(series ref, name ref, value ref)` for every label of every series.
    fn for_each_label(
        &self,
        mut f: impl FnMut(u32, u32, u32) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        for &id in self.refs {
            let mut d: Decbuf<'_> = uvarint_section_at(self.map, id as usize * 16, "series")?;
            let n = d.uvarint_len()?;
            for _ in 0..n {
                let name = d.uvarint32()?;
                let value = d.uvarint32()?;
                f(id, name, value)?;
            }
        }
        Ok(())
    }

    /// Every distinct label pair with its series count, sorted by symbol refs
    /// (and so by name, then value).
    fn count_pairs(&self) -> Result<Vec<PairCount>, IndexError> {
        let mut counts: HashMap<(u32, u32), u32> = HashMap::new();
        self.for_each_label(|_, n, v| {
            *counts.entry((n, v)).or_insert(0) += 1;
            Ok(())
        })?;
        let mut keys: Vec<PairCount> = counts
            .into_iter()
            .map(|((name, value), count)| PairCount { name, value, count })
            .collect();
        keys.sort_unstable_by_key(|k| (k.name, k.value));
        Ok(keys)
    }
}

mod finish;

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs)
    }

    fn writer() -> (tempfile::TempDir, IndexWriter) {
        let dir = tempfile::tempdir().unwrap();
        let w = IndexWriter::create(dir.path().join("index")).unwrap();
        (dir, w)
    }

    fn order_error(r: Result<impl std::fmt::Debug, IndexError>, want: &str) {
        match r {
            Err(IndexError::Order(m)) => assert!(m.contains(want), "{m:?} lacks {want:?}"),
            other => panic!("want an order error containing {want:?}, got {other:?}"),
        }
    }

    #[test]
    fn refuses_calls_out_of_order() {
        let (_d, mut w) = writer();
        w.add_symbol("b").unwrap();
        order_error(w.add_symbol("a"), r#"symbol "a" added after "b""#);
        order_error(w.add_symbol("b"), "sorted and unique");

        let (_d, mut w) = writer();
        for s in ["a", "b", "x"] {
            w.add_symbol(s).unwrap();
        }
        w.add_series(&ls(&[("a", "b")]), &[]).unwrap();
        order_error(w.add_symbol("y"), "cannot go back to stage Symbols");
        order_error(w.add_series(&ls(&[("a", "b")]), &[]), "sorted and unique");
        order_error(
            w.add_series(&ls(&[("a", "a")]), &[]),
            r#"series {a="a"} added after {a="b"}"#,
        );
        order_error(
            w.add_series(&ls(&[("a", "z")]), &[]),
            r#"symbol "z" of series {a="z"} was not added"#,
        );
        order_error(w.add_series(&ls(&[("q", "x")]), &[]), r#"symbol "q""#);
    }

    #[test]
    fn series_are_16_byte_aligned_with_sequential_refs() {
        let (d, mut w) = writer();
        for s in ["a", "b", "c"] {
            w.add_symbol(s).unwrap();
        }
        let r1 = w.add_series(&ls(&[("a", "b")]), &[]).unwrap();
        let chunks = [
            ChunkMeta {
                min_time: -5,
                max_time: 10,
                chunk_ref: 8,
            },
            ChunkMeta {
                min_time: 11,
                max_time: 20,
                chunk_ref: 100,
            },
        ];
        let r2 = w.add_series(&ls(&[("a", "c")]), &chunks).unwrap();
        w.finish().unwrap();
        let b = std::fs::read(d.path().join("index")).unwrap();
        // Header 5 + symbol table 4+4+7 (symbols "", a, b, c)+4 = 24 → first
        // series at 32.
        assert_eq!((r1, r2), (2, 3));
        // len, 1 label (a=b as refs 1,2), 0 chunks, CRC.
        assert_eq!(&b[32..37], &[4, 1, 1, 2, 0]);
        assert_eq!(&b[37..41], &crc32c::crc32c(&[1, 1, 2, 0]).to_be_bytes());
        // Second series: 1 label (1,3), 2 chunks: mint -5 (zig-zag 9),
        // maxt-mint 15, ref 8; then mint-prev maxt 1, 9, ref delta +92 (184).
        let body = [1, 1, 3, 2, 9, 15, 8, 1, 9, 184, 1];
        assert_eq!(b[48] as usize, body.len());
        assert_eq!(&b[49..49 + body.len()], &body);
    }

    #[test]
    fn an_existing_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index");
        std::fs::write(&p, vec![7u8; 10_000]).unwrap();
        let w = IndexWriter::create(&p).unwrap();
        w.finish().unwrap();
        let r = super::super::IndexReader::open(&p).unwrap();
        assert!(r.label_names().is_empty());
    }
}

/// Run by hand (`cargo test -p tsdb --release -- --ignored million`) with
/// `/usr/bin/time -v` to see the writer's peak memory on a large index.
#[cfg(test)]
mod scale_tests {
    use super::*;

    #[test]
    #[ignore = "slow; for measuring memory by hand"]
    fn million_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let n = 1_000_000usize;
        // Series are generated in label order on the fly, so the test itself
        // holds none of them: the peak RSS is the writer's.
        let name = |i: usize| format!("metric_{:03}", i / 10_000);
        let inst = |i: usize| format!("host-{:06}", i % 10_000);
        let mut symbols: Vec<String> = (0..n / 10_000).map(|j| name(j * 10_000)).collect();
        symbols.extend((0..10_000).map(inst));
        symbols.extend(["__name__", "instance", "job", "a", "b"].map(String::from));
        symbols.sort();
        let mut w = IndexWriter::create(&path).unwrap();
        for s in &symbols {
            w.add_symbol(s).unwrap();
        }
        drop(symbols);
        for i in 0..n {
            let l = Labels::from_pairs(&[
                ("__name__", name(i).as_str()),
                ("instance", inst(i).as_str()),
                ("job", if i % 2 == 0 { "a" } else { "b" }),
            ]);
            let c = ChunkMeta {
                min_time: 0,
                max_time: 7_200_000,
                chunk_ref: i as u64 * 100,
            };
            w.add_series(&l, &[c]).unwrap();
        }
        w.finish().unwrap();
        let r = super::super::IndexReader::open(&path).unwrap();
        let all = super::super::expand(r.all_postings().unwrap());
        assert_eq!(all.len(), n);
        eprintln!("index of {n} series: {} bytes", r.size());
    }
}
