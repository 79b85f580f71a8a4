//! Reads an index file in place (memory-mapped), validating as it goes: the
//! header, the TOC and the offset tables when opened, each series and
//! postings list (bounds and CRC) when it is read. Nothing in a corrupt file
//! can make the reader panic; it returns [`IndexError`] instead.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
use model::{Label, Labels};

use super::codec::{section_at, uvarint_section_at, Decbuf};
use super::postings::{merge, BigEndianPostings, BoxPostings, EmptyPostings};
use super::symbols::Symbols;
use super::{
    ChunkMeta, IndexError, SeriesRef, FORMAT_V2, HEADER_LEN, MAGIC_INDEX, SAMPLING, TOC_LEN,
};

/// The bytes of an index: a mapped file, or a buffer (tests, fuzzing).
enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    fn get(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// The section offsets recorded at the end of the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Toc {
    /// Start of the symbol table.
    pub symbols: u64,
    /// Start of the first series.
    pub series: u64,
    /// Start of the first label index.
    pub label_indices: u64,
    /// Start of the label offset table.
    pub label_indices_table: u64,
    /// Start of the postings (possibly at padding before the first list).
    pub postings: u64,
    /// Start of the postings offset table.
    pub postings_table: u64,
}

/// Where a lookup stopped in the postings offset table.
struct TableWalk<'a> {
    d: Decbuf<'a>,
    /// An entry read but greater than the value looked up: (value, postings
    /// offset, entry offset).
    peeked: Option<(&'a [u8], u64, usize)>,
}

impl TableWalk<'_> {
    /// File offset of the next entry to consider.
    fn pos(&self) -> usize {
        self.peeked.map_or(self.d.pos(), |p| p.2)
    }
}

/// A read-only view of one block's index.
pub struct IndexReader {
    bytes: Bytes,
    toc: Toc,
    symbols: Symbols,
    /// Every label name (the empty one first, for all postings), sorted, with
    /// every 32nd of its postings offset entries plus the last.
    names: Vec<(Box<str>, Vec<SampledEntry>)>,
    /// File range of the postings offset table's entries.
    table: (usize, usize),
    /// Symbol ref of each label name → its index in `names`: names are half
    /// of all symbol lookups and few, so they skip the table walk (as
    /// Prometheus's `nameSymbols`).
    name_symbols: HashMap<u32, usize>,
}

impl std::fmt::Debug for IndexReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexReader")
            .field("size", &self.size())
            .field("toc", &self.toc)
            .finish_non_exhaustive()
    }
}

impl IndexReader {
    /// Maps and validates the index file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<IndexReader, IndexError> {
        let path = path.as_ref();
        let io = |op, source| IndexError::Io {
            op,
            path: path.to_path_buf(),
            source,
        };
        let f = File::open(path).map_err(|e| io("open", e))?;
        // SAFETY: block files are immutable once written; pharos never
        // modifies an index in place (a rewrite goes to a new block).
        let map = unsafe { Mmap::map(&f) }.map_err(|e| io("mmap", e))?;
        Self::new(Bytes::Mapped(map)).map_err(|source| IndexError::InFile {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }

    /// Validates and reads an index held in memory.
    pub fn from_vec(bytes: Vec<u8>) -> Result<IndexReader, IndexError> {
        Self::new(Bytes::Owned(bytes))
    }

    fn new(bytes: Bytes) -> Result<IndexReader, IndexError> {
        let data = bytes.get();
        let mut d = Decbuf::new(data, 0, "header");
        if data.len() < HEADER_LEN + TOC_LEN {
            return Err(d.err(format!("file of {} bytes is too short", data.len())));
        }
        let magic = d.be32()?;
        if magic != MAGIC_INDEX {
            return Err(IndexError::corrupt(
                "header",
                0,
                format!("invalid magic number {magic:#010x}"),
            ));
        }
        let version = d.byte()?;
        if version != FORMAT_V2 {
            return Err(IndexError::corrupt(
                "header",
                4,
                format!("unsupported index format version {version} (only 2 is)"),
            ));
        }
        let toc = read_toc(data)?;
        let symbols = Symbols::new(data, to_usize(toc.symbols))?;
        let (names, table) = read_postings_table(data, to_usize(toc.postings_table))?;
        let mut name_symbols = HashMap::with_capacity(names.len());
        for (i, (n, _)) in names.iter().enumerate() {
            if let Some(r) = symbols.reverse_lookup(data, n)? {
                name_symbols.insert(r, i);
            }
        }
        Ok(IndexReader {
            bytes,
            toc,
            symbols,
            names,
            table,
            name_symbols,
        })
    }

    fn data(&self) -> &[u8] {
        self.bytes.get()
    }

    /// The table of contents.
    pub fn toc(&self) -> Toc {
        self.toc
    }

    /// Size of the index in bytes.
    pub fn size(&self) -> usize {
        self.data().len()
    }

    /// Memory the sampled symbol positions take.
    pub fn symbol_table_size(&self) -> usize {
        self.symbols.size()
    }

    /// Number of symbols.
    pub fn num_symbols(&self) -> u32 {
        self.symbols.len()
    }

    /// All symbols, in order.
    pub fn symbols(&self) -> impl Iterator<Item = Result<&str, IndexError>> + '_ {
        self.symbols.iter(self.data())
    }

    /// The string with symbol ref `r`, borrowed from the index.
    pub fn lookup_symbol(&self, r: u32) -> Result<&str, IndexError> {
        self.symbols.lookup(self.data(), r)
    }

    /// All label names, sorted.
    pub fn label_names(&self) -> Vec<&str> {
        self.names
            .iter()
            .map(|(n, _)| &**n)
            .filter(|n| !n.is_empty())
            .collect()
    }

    fn sampled(&self, name: &str) -> Option<&[SampledEntry]> {
        let i = self.names.binary_search_by(|(n, _)| (**n).cmp(name)).ok()?;
        Some(&self.names[i].1)
    }

    /// A cursor on the postings offset table from the entry at `off`.
    fn table_at(&self, off: usize) -> Decbuf<'_> {
        let b = self.data().get(off..self.table.1).unwrap_or_default();
        Decbuf::new(b, off, "postings offset table")
    }

    /// The values of label `name`, sorted; empty when no series has it.
    pub fn label_values(&self, name: &str) -> Result<Vec<&str>, IndexError> {
        let Some(e) = self.sampled(name) else {
            return Ok(Vec::new());
        };
        let (Some(first), Some(last)) = (e.first(), e.last()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(e.len() * SAMPLING);
        let mut d = self.table_at(first.entry_off);
        loop {
            let (v, _) = read_entry(&mut d)?;
            let v = utf8(v, d.pos())?;
            out.push(v);
            if v == &*last.value {
                return Ok(out);
            }
        }
    }

    /// The file offset of the postings list of `name=value`, if any.
    /// Successive calls for one name must ask for strictly ascending
    /// values: `walk` then carries on through the table where the previous
    /// lookup stopped instead of searching from a sampled entry again, so
    /// looking up many values costs one pass, as in Prometheus.
    fn postings_offset<'a>(
        &'a self,
        e: &[SampledEntry],
        value: &str,
        walk: &mut Option<TableWalk<'a>>,
    ) -> Result<Option<u64>, IndexError> {
        let i = e.partition_point(|s| &*s.value < value);
        let from = match e.get(i) {
            Some(s) if &*s.value == value => s.entry_off,
            // Before the first value, or after the last (always sampled).
            _ if i == 0 || i == e.len() => return Ok(None),
            _ => e[i - 1].entry_off,
        };
        let w = match walk {
            Some(w) if w.pos() >= from => w,
            _ => walk.insert(TableWalk {
                d: self.table_at(from),
                peeked: None,
            }),
        };
        for _ in 0..=SAMPLING {
            let (v, off, at) = match w.peeked.take() {
                Some(p) => p,
                None => {
                    let at = w.d.pos();
                    let (v, off) = read_entry(&mut w.d)?;
                    (v, off, at)
                }
            };
            match v.cmp(value.as_bytes()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok(Some(off)),
                std::cmp::Ordering::Greater => {
                    w.peeked = Some((v, off, at));
                    return Ok(None);
                }
            }
        }
        Ok(None)
    }

    /// The postings list at file offset `off`.
    fn postings_at(&self, off: u64) -> Result<BigEndianPostings<'_>, IndexError> {
        let mut d = section_at(self.data(), to_usize(off), "postings")?;
        let n = d.be32()? as usize;
        let rest = d.rest();
        if rest.len() != n.saturating_mul(4) {
            return Err(d.err(format!(
                "postings list of {n} refs has {} bytes",
                rest.len()
            )));
        }
        Ok(BigEndianPostings::new(rest))
    }

    /// The series having label `name` with any of `values`, merged.
    pub fn postings(&self, name: &str, values: &[&str]) -> Result<BoxPostings<'_>, IndexError> {
        let Some(e) = self.sampled(name) else {
            return Ok(Box::new(EmptyPostings));
        };
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut lists: Vec<BoxPostings<'_>> = Vec::with_capacity(sorted.len());
        let mut walk = None;
        for v in sorted {
            if let Some(off) = self.postings_offset(e, v, &mut walk)? {
                lists.push(Box::new(self.postings_at(off)?));
            }
        }
        Ok(merge(lists))
    }

    /// Every series in the index.
    pub fn all_postings(&self) -> Result<BoxPostings<'_>, IndexError> {
        self.postings("", &[""])
    }

    /// The CRC-checked entry of series `id`.
    fn series_entry(&self, id: SeriesRef) -> Result<Decbuf<'_>, IndexError> {
        let off = id
            .checked_mul(16)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| {
                IndexError::corrupt(
                    "series",
                    usize::MAX,
                    format!("series ref {id} out of range"),
                )
            })?;
        uvarint_section_at(self.data(), off, "series")
    }

    /// Walks the labels at the start of a series entry, calling `f` with
    /// each name and value symbol ref until it returns `false`.
    fn walk_labels<'a>(
        &'a self,
        d: &mut Decbuf<'a>,
        mut f: impl FnMut(&'a str, u32) -> Result<bool, IndexError>,
    ) -> Result<(), IndexError> {
        let n = d.uvarint_len()?;
        let mut prev: Option<&str> = None;
        for _ in 0..n {
            let at = d.pos();
            let name_ref = d.uvarint32()?;
            let name = match self.name_symbols.get(&name_ref) {
                Some(&i) => &*self.names[i].0,
                None => self.lookup_symbol(name_ref)?,
            };
            let value_ref = d.uvarint32()?;
            if prev.is_some_and(|p| p >= name) {
                return Err(IndexError::corrupt(
                    "series",
                    at,
                    "labels not sorted or not unique",
                ));
            }
            prev = Some(name);
            if !f(name, value_ref)? {
                break;
            }
        }
        Ok(())
    }

    /// The labels of series `id`; its chunk metas replace the contents of `chunks`.
    pub fn series(&self, id: SeriesRef, chunks: &mut Vec<ChunkMeta>) -> Result<Labels, IndexError> {
        chunks.clear();
        let mut d = self.series_entry(id)?;
        let mut pairs: Vec<Label<'_>> = Vec::new();
        self.walk_labels(&mut d, |name, v| {
            pairs.push(Label {
                name,
                value: self.lookup_symbol(v)?,
            });
            Ok(true)
        })?;
        let labels = Labels::from_sorted_unchecked(pairs);
        decode_chunks(&mut d, chunks)?;
        Ok(labels)
    }

    /// The value of label `name` of series `id`, if it has the label.
    pub fn label_value_for(&self, id: SeriesRef, name: &str) -> Result<Option<&str>, IndexError> {
        let mut d = self.series_entry(id)?;
        let mut found = None;
        self.walk_labels(&mut d, |n, v| {
            if n == name {
                found = Some(v);
            }
            Ok(n < name)
        })?;
        found.map(|v| self.lookup_symbol(v)).transpose()
    }

    /// The label names used by any of the series `ids`, sorted.
    pub fn label_names_for(
        &self,
        ids: impl IntoIterator<Item = SeriesRef>,
    ) -> Result<Vec<&str>, IndexError> {
        let mut names = std::collections::BTreeSet::new();
        for id in ids {
            let mut d = self.series_entry(id)?;
            self.walk_labels(&mut d, |n, _| {
                names.insert(n);
                Ok(true)
            })?;
        }
        Ok(names.into_iter().collect())
    }
}

/// Decodes a series' chunk metas (see the module doc of `index`).
fn decode_chunks(d: &mut Decbuf<'_>, chunks: &mut Vec<ChunkMeta>) -> Result<(), IndexError> {
    let n = d.uvarint_len()?;
    if n == 0 {
        return Ok(());
    }
    chunks.reserve(n);
    // Wrapping arithmetic, as Go's: corrupt deltas give odd times, not panics.
    let min_time = d.varint64()?;
    let max_time = min_time.wrapping_add(d.uvarint64()? as i64);
    let mut r = d.uvarint64()? as i64;
    chunks.push(ChunkMeta {
        min_time,
        max_time,
        chunk_ref: r as u64,
    });
    let mut t0 = max_time;
    for _ in 1..n {
        let min_time = t0.wrapping_add(d.uvarint64()? as i64);
        let max_time = min_time.wrapping_add(d.uvarint64()? as i64);
        r = r.wrapping_add(d.varint64()?);
        t0 = max_time;
        chunks.push(ChunkMeta {
            min_time,
            max_time,
            chunk_ref: r as u64,
        });
    }
    Ok(())
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn utf8(b: &[u8], at: usize) -> Result<&str, IndexError> {
    std::str::from_utf8(b)
        .map_err(|_| IndexError::corrupt("postings offset table", at, "value is not UTF-8"))
}

fn read_toc(data: &[u8]) -> Result<Toc, IndexError> {
    let at = data.len() - TOC_LEN;
    let mut d = Decbuf::new(&data[at..], at, "TOC");
    let body = &data[at..data.len() - 4];
    let mut toc = Toc::default();
    for f in [
        &mut toc.symbols,
        &mut toc.series,
        &mut toc.label_indices,
        &mut toc.label_indices_table,
        &mut toc.postings,
        &mut toc.postings_table,
    ] {
        *f = d.be64()?;
        if *f > at as u64 {
            return Err(IndexError::corrupt(
                "TOC",
                at,
                format!("section offset {f} beyond the TOC"),
            ));
        }
    }
    let stored = d.be32()?;
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(IndexError::Checksum {
            what: "TOC",
            offset: at,
            stored,
            computed,
        });
    }
    Ok(toc)
}

mod table;

use table::{read_entry, read_postings_table, SampledEntry};

#[cfg(test)]
mod corruption_tests;

#[cfg(test)]
pub(crate) mod tests {
    use super::super::postings::expand;
    use super::super::writer::IndexWriter;
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Writes `series` (sorted here) with generated chunk metas; returns the
    /// file's bytes.
    pub(crate) fn write_index(series: &[Labels]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let mut series = series.to_vec();
        series.sort();
        series.dedup();
        let mut syms = BTreeSet::new();
        for s in &series {
            for l in s {
                syms.insert(l.name.to_owned());
                syms.insert(l.value.to_owned());
            }
        }
        let mut w = IndexWriter::create(&path).unwrap();
        for s in &syms {
            w.add_symbol(s).unwrap();
        }
        for (i, s) in series.iter().enumerate() {
            w.add_series(s, &chunks_for(i)).unwrap();
        }
        w.finish().unwrap();
        std::fs::read(&path).unwrap()
    }

    fn chunks_for(i: usize) -> Vec<ChunkMeta> {
        (0..i % 4)
            .map(|c| ChunkMeta {
                min_time: -1000 + (i * 100 + c * 10) as i64,
                max_time: -1000 + (i * 100 + c * 10 + 5) as i64,
                chunk_ref: (i * 1000 + c * 8) as u64,
            })
            .collect()
    }

    fn ls(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs)
    }

    #[test]
    fn small_index_reads_back() {
        let series = vec![
            ls(&[("__name__", "up"), ("job", "a"), ("instance", "x")]),
            ls(&[("__name__", "up"), ("job", "b"), ("instance", "y")]),
            ls(&[("__name__", "req_total"), ("code", "200")]),
        ];
        let r = IndexReader::from_vec(write_index(&series)).unwrap();
        assert_eq!(r.label_names(), vec!["__name__", "code", "instance", "job"]);
        assert_eq!(r.label_values("__name__").unwrap(), vec!["req_total", "up"]);
        assert_eq!(r.label_values("job").unwrap(), vec!["a", "b"]);
        assert!(r.label_values("nope").unwrap().is_empty());
        let syms: Vec<&str> = r.symbols().map(Result::unwrap).collect();
        assert_eq!(
            syms,
            [
                "",
                "200",
                "__name__",
                "a",
                "b",
                "code",
                "instance",
                "job",
                "req_total",
                "up",
                "x",
                "y"
            ]
        );

        let all = expand(r.all_postings().unwrap());
        assert_eq!(all.len(), 3);
        let mut chunks = Vec::new();
        let got: Vec<Labels> = all
            .iter()
            .map(|&id| r.series(id, &mut chunks).unwrap())
            .collect();
        let mut want = series.clone();
        want.sort();
        assert_eq!(got, want);
        // Series 1 (index order) has 1 chunk, series 2 has 2.
        r.series(all[2], &mut chunks).unwrap();
        assert_eq!(chunks, chunks_for(2));

        assert_eq!(r.label_value_for(all[1], "job").unwrap(), Some("a"));
        assert_eq!(r.label_value_for(all[1], "code").unwrap(), None);
        assert_eq!(r.label_value_for(all[0], "code").unwrap(), Some("200"));
        assert_eq!(
            r.label_names_for(all[..1].iter().copied()).unwrap(),
            ["__name__", "code"]
        );
        assert_eq!(
            r.label_names_for(all.iter().copied()).unwrap(),
            ["__name__", "code", "instance", "job"]
        );
        assert!(r.label_value_for(1, "job").is_err());
        let up = expand(r.postings("__name__", &["up"]).unwrap());
        assert_eq!(up, all[1..].to_vec());
        let both = expand(r.postings("job", &["b", "a", "zzz"]).unwrap());
        assert_eq!(both, all[1..].to_vec());
        assert!(expand(r.postings("job", &["c"]).unwrap()).is_empty());
    }

    #[test]
    fn open_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index");
        std::fs::write(&p, vec![0u8; 100]).unwrap();
        let e = IndexReader::open(&p).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot open index {}: cannot read index header at offset 0: invalid magic number 0x00000000",
                p.display()
            )
        );
    }

    #[test]
    fn empty_index() {
        let r = IndexReader::from_vec(write_index(&[])).unwrap();
        assert!(r.label_names().is_empty());
        assert!(expand(r.all_postings().unwrap()).is_empty());
        assert_eq!(r.num_symbols(), 0);
    }

    #[test]
    fn many_values_cross_sampling() {
        let series: Vec<Labels> = (0..500)
            .map(|i| {
                ls(&[
                    ("__name__", "m"),
                    ("i", &format!("{i:04}")),
                    ("odd", if i % 2 == 1 { "1" } else { "" }),
                ])
            })
            .collect();
        let r = IndexReader::from_vec(write_index(&series)).unwrap();
        let vals = r.label_values("i").unwrap();
        assert_eq!(vals.len(), 500);
        assert!(vals.windows(2).all(|w| w[0] < w[1]));
        let mut chunks = Vec::new();
        for (n, v) in vals.iter().enumerate() {
            let p = expand(r.postings("i", &[v]).unwrap());
            assert_eq!(p.len(), 1, "value {v}");
            let s = r.series(p[0], &mut chunks).unwrap();
            assert_eq!(s.get("i"), Some(*v));
            assert_eq!(s.has("odd"), n % 2 == 1);
        }
        assert_eq!(expand(r.postings("odd", &["1"]).unwrap()).len(), 250);
        // Many values at once, unsorted, with duplicates and absent ones.
        let all = expand(r.postings("i", &vals).unwrap());
        assert_eq!(all, expand(r.all_postings().unwrap()));
        for step in [1, 2, 7, 31, 32, 33, 100] {
            let mut some: Vec<&str> = vals.iter().copied().step_by(step).collect();
            let want: Vec<u64> = all.iter().copied().step_by(step).collect();
            some.extend(["", "0000x", "0250", "0031a", "zzz"]);
            some.reverse();
            let mut want = want;
            want.push(all[250]);
            want.sort();
            want.dedup();
            assert_eq!(expand(r.postings("i", &some).unwrap()), want, "step {step}");
        }
        assert!(expand(r.postings("i", &["0500", "-1", "00"]).unwrap()).is_empty());
    }

    fn label_set() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map("[a-c_]{1,3}", "[a-z0-9é]{0,4}", 1..5)
            .prop_map(|m| Labels::from_pairs(&m.into_iter().collect::<Vec<_>>()))
            .prop_filter("non-empty", |l| !l.is_empty())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn round_trip(series in proptest::collection::vec(label_set(), 0..40)) {
            let bytes = write_index(&series);
            let r = IndexReader::from_vec(bytes).unwrap();
            let mut want: Vec<Labels> = series.clone();
            want.sort();
            want.dedup();
            let all = expand(r.all_postings().unwrap());
            let mut chunks = Vec::new();
            let got: Vec<Labels> = all.iter().map(|&id| r.series(id, &mut chunks).unwrap()).collect();
            prop_assert_eq!(&got, &want);
            for (i, &id) in all.iter().enumerate() {
                r.series(id, &mut chunks).unwrap();
                prop_assert_eq!(&chunks, &chunks_for(i));
            }
            // Every label pair's postings are exactly the series having it.
            let mut pairs: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
            for (s, &id) in want.iter().zip(&all) {
                for l in s {
                    pairs.entry((l.name.into(), l.value.into())).or_default().push(id);
                }
            }
            let names: BTreeSet<&str> = pairs.keys().map(|(n, _)| n.as_str()).collect();
            prop_assert_eq!(r.label_names(), names.into_iter().collect::<Vec<_>>());
            for ((n, v), ids) in &pairs {
                prop_assert_eq!(&expand(r.postings(n, &[v]).unwrap()), ids);
                prop_assert!(r.label_values(n).unwrap().contains(&v.as_str()));
            }
        }
    }
}
