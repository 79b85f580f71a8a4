//! The WAL writer: pages, fragments, segment cuts. See [`crate::wal`] for the
//! format and the durability guarantee.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::repair::{repair_dir, scan_for_corruption, Repair};
use super::segment::{create_segment, file_size, list_segments, remove_file, segment_path};
use super::{
    Compression, Corruption, RepairScope, WalError, WalOptions, FRAGMENT_HEADER_SIZE, FRAG_FIRST,
    FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, PAGE_SIZE, SNAPPY_FLAG,
};

/// Whether the writer still accepts records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// A write failed; the page buffer and the file may disagree.
    Failed,
}

/// An open WAL directory, appending to its newest segment.
///
/// ```
/// use tsdb::wal::{Wal, WalOptions, WalReader};
///
/// let dir = tempfile::tempdir().unwrap();
/// let (mut wal, repair) = Wal::open(dir.path(), WalOptions::default()).unwrap();
/// assert!(repair.is_none());
/// wal.log(&[b"first", b"second"]).unwrap();
/// wal.close().unwrap();
///
/// let mut r = WalReader::open(dir.path(), None, None).unwrap();
/// assert_eq!(r.next().unwrap().unwrap(), b"first");
/// assert_eq!(r.next().unwrap().unwrap(), b"second");
/// assert!(r.next().is_none());
/// ```
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    file: File,
    segment: u32,
    /// Pages of the current segment already written in full.
    done_pages: u64,
    page: Box<[u8; PAGE_SIZE]>,
    /// Bytes of `page` filled with fragments.
    alloc: usize,
    /// Bytes of `page` already written to the file.
    flushed: usize,
    snappy: snap::raw::Encoder,
    compressed: Vec<u8>,
    state: State,
}

impl Wal {
    /// Opens (creating if needed) the WAL in `dir`, repairs a torn or corrupt
    /// tail (see the module doc) and starts a new segment after the last one.
    /// The second value says what a repair dropped, for the caller to log.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, Option<Repair>), WalError> {
        if opts.segment_size == 0 || opts.segment_size % PAGE_SIZE as u64 != 0 {
            return Err(WalError::InvalidSegmentSize(opts.segment_size));
        }
        std::fs::create_dir_all(dir).map_err(|e| WalError::io("create", dir, e))?;
        let segs = list_segments(dir)?;
        let mut repair = None;
        if let (Some(&first), Some(&last)) = (segs.first(), segs.last()) {
            let from = match opts.repair_scope {
                // The last segment with data: a crash right after a segment
                // cut (or right after an open) leaves an empty last one.
                RepairScope::LastSegment => {
                    let mut i = last;
                    while i > first && file_size(&segment_path(dir, i))? == 0 {
                        i -= 1;
                    }
                    i
                }
                RepairScope::AllSegments => first,
            };
            if let Some(c) = scan_for_corruption(dir, from, last)? {
                repair = Some(repair_dir(dir, &c)?);
            }
        }
        let next = match list_segments(dir)?.last() {
            Some(&l) => next_index(dir, l)?,
            None => 0,
        };
        let wal = Wal::with_segment(dir.to_owned(), opts, next)?;
        Ok((wal, repair))
    }

    fn with_segment(dir: PathBuf, opts: WalOptions, index: u32) -> Result<Wal, WalError> {
        let mut file = create_segment(&dir, index)?;
        let path = segment_path(&dir, index);
        let size = file_size(&path)?;
        // The segment is new, so this never runs unless something else wrote
        // it; then pad its torn last page, as Prometheus does, so that our
        // fragments stay page-aligned.
        let torn = (size % PAGE_SIZE as u64) as usize;
        if torn != 0 {
            file.write_all(&vec![0; PAGE_SIZE - torn])
                .map_err(|e| WalError::io("pad", &path, e))?;
        }
        let done_pages = size.div_ceil(PAGE_SIZE as u64);
        Ok(Wal {
            dir,
            opts,
            file,
            segment: index,
            done_pages,
            page: Box::new([0; PAGE_SIZE]),
            alloc: 0,
            flushed: 0,
            snappy: snap::raw::Encoder::new(),
            compressed: Vec::new(),
            state: State::Open,
        })
    }

    /// The WAL's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Index of the segment being written.
    pub fn current_segment(&self) -> u32 {
        self.segment
    }

    /// Appends `records` as one batch: they are written to the segment file
    /// with as few `write(2)` calls as the pages allow, the last one before
    /// this returns. See the module doc for what survives a crash.
    pub fn log(&mut self, records: &[&[u8]]) -> Result<(), WalError> {
        if self.state == State::Failed {
            return Err(WalError::NotWritable(
                "an earlier write failed; reopen the WAL",
            ));
        }
        for (i, rec) in records.iter().enumerate() {
            if let Err(e) = self.log_one(rec, i + 1 == records.len()) {
                self.state = State::Failed;
                return Err(e);
            }
        }
        Ok(())
    }

    fn log_one(&mut self, rec: &[u8], final_in_batch: bool) -> Result<(), WalError> {
        if self.page_full() {
            self.flush_page(true)?;
        }
        let mut compressed = std::mem::take(&mut self.compressed);
        let mut flag = 0u8;
        let mut data = rec;
        if self.opts.compression == Compression::Snappy {
            compressed.resize(snap::raw::max_compress_len(rec.len()), 0);
            let n = self
                .snappy
                .compress(rec, &mut compressed)
                .map_err(|e| WalError::Compress {
                    len: rec.len(),
                    cause: e.to_string(),
                })?;
            // Small records can grow under snappy; store those as they are,
            // as Prometheus does.
            if n < rec.len() {
                data = &compressed[..n];
                flag = SNAPPY_FLAG;
            }
        }
        let res = self.write_fragments(data, flag, final_in_batch);
        self.compressed = compressed;
        res
    }

    fn write_fragments(
        &mut self,
        mut data: &[u8],
        flag: u8,
        final_in_batch: bool,
    ) -> Result<(), WalError> {
        // Records never cross segments: cut a new one if this one cannot
        // hold the record (unless it is empty, in which case the record gets
        // an oversized segment to itself).
        let pages_per_segment = (self.opts.segment_size / PAGE_SIZE as u64) as i64;
        let per_page = (PAGE_SIZE - FRAGMENT_HEADER_SIZE) as i64;
        let left = (PAGE_SIZE - self.alloc) as i64 - FRAGMENT_HEADER_SIZE as i64
            + per_page * (pages_per_segment - self.done_pages as i64 - 1);
        if data.len() as i64 > left && (self.done_pages > 0 || self.alloc > 0) {
            self.next_segment()?;
        }
        let mut first = true;
        loop {
            let room = PAGE_SIZE - self.alloc - FRAGMENT_HEADER_SIZE;
            let n = data.len().min(room);
            let (part, rest) = data.split_at(n);
            let typ = match (first, rest.is_empty()) {
                (true, true) => FRAG_FULL,
                (true, false) => FRAG_FIRST,
                (false, true) => FRAG_LAST,
                (false, false) => FRAG_MIDDLE,
            };
            let at = self.alloc;
            let hdr = &mut self.page[at..at + FRAGMENT_HEADER_SIZE];
            hdr[0] = typ | flag;
            hdr[1..3].copy_from_slice(&(n as u16).to_be_bytes());
            hdr[3..7].copy_from_slice(&crc32c::crc32c(part).to_be_bytes());
            self.page[at + FRAGMENT_HEADER_SIZE..at + FRAGMENT_HEADER_SIZE + n]
                .copy_from_slice(part);
            self.alloc += FRAGMENT_HEADER_SIZE + n;
            if self.page_full() {
                self.flush_page(true)?;
            }
            data = rest;
            first = false;
            if data.is_empty() {
                break;
            }
        }
        if final_in_batch && self.alloc > self.flushed {
            self.flush_page(false)?;
        }
        Ok(())
    }

    fn page_full(&self) -> bool {
        PAGE_SIZE - self.alloc < FRAGMENT_HEADER_SIZE
    }

    /// Writes the unwritten part of the page; when `clear` (or the page is
    /// full) pads it with zeros to its end and starts a new page.
    fn flush_page(&mut self, clear: bool) -> Result<(), WalError> {
        let clear = clear || self.page_full();
        if clear {
            // The tail of the page is already zero: pages are zeroed on reset.
            self.alloc = PAGE_SIZE;
        }
        let path = || segment_path(&self.dir, self.segment);
        self.file
            .write_all(&self.page[self.flushed..self.alloc])
            .map_err(|e| WalError::io("write", &path(), e))?;
        self.flushed = self.alloc;
        if clear {
            self.page.fill(0);
            self.alloc = 0;
            self.flushed = 0;
            self.done_pages += 1;
        }
        Ok(())
    }

    /// Completes the current segment (padding its last page, fsyncing it)
    /// and starts the next one. Returns the new segment's index.
    pub fn next_segment(&mut self) -> Result<u32, WalError> {
        if self.state == State::Failed {
            return Err(WalError::NotWritable(
                "an earlier write failed; reopen the WAL",
            ));
        }
        if self.alloc > 0 {
            self.flush_page(true)?;
        }
        self.sync()?;
        let next = next_index(&self.dir, self.segment)?;
        self.file = create_segment(&self.dir, next)?;
        self.segment = next;
        self.done_pages = 0;
        Ok(next)
    }

    /// fsyncs the current segment.
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.file
            .sync_data()
            .map_err(|e| WalError::io("sync", &segment_path(&self.dir, self.segment), e))
    }

    /// The first and last segment indexes present (the last is the current one).
    pub fn segments(&self) -> Result<(u32, u32), WalError> {
        let segs = list_segments(&self.dir)?;
        match (segs.first(), segs.last()) {
            (Some(&f), Some(&l)) => Ok((f, l)),
            _ => Ok((self.segment, self.segment)),
        }
    }

    /// Deletes every segment whose index is below `before`, never the
    /// current one. Used after a checkpoint has taken over their content.
    pub fn truncate(&mut self, before: u32) -> Result<(), WalError> {
        let before = before.min(self.segment);
        for i in list_segments(&self.dir)? {
            if i >= before {
                break;
            }
            remove_file(&segment_path(&self.dir, i))?;
        }
        super::segment::sync_dir(&self.dir)
    }

    /// Cuts the WAL at a corruption found while replaying it (see the module
    /// doc) and continues writing in a fresh segment after the cut one.
    pub fn repair(&mut self, corruption: &Corruption) -> Result<Repair, WalError> {
        if corruption.dir != self.dir {
            return Err(WalError::ForeignCorruption {
                wal: self.dir.clone(),
                corrupt: corruption.dir.clone(),
            });
        }
        // Until a fresh segment is open, the one held may be deleted.
        self.state = State::Failed;
        let report = repair_dir(&self.dir, corruption)?;
        let next = next_index(&self.dir, corruption.segment)?;
        *self = Wal::with_segment(self.dir.clone(), self.opts, next)?;
        Ok(report)
    }

    /// Pads the last page, fsyncs and closes the current segment.
    pub fn close(mut self) -> Result<(), WalError> {
        if self.state == State::Failed {
            return Err(WalError::NotWritable(
                "an earlier write failed; reopen the WAL",
            ));
        }
        if self.alloc > 0 {
            self.flush_page(true)?;
        }
        self.sync()
    }
}

/// The index after `i`; a directory holding segment `u32::MAX` is refused
/// rather than wrapped around.
fn next_index(dir: &Path, i: u32) -> Result<u32, WalError> {
    i.checked_add(1)
        .ok_or_else(|| WalError::SegmentIndexOverflow(dir.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::WalReader;
    use super::*;
    use proptest::prelude::*;

    fn opts(compression: Compression, pages: u64) -> WalOptions {
        WalOptions {
            segment_size: pages * PAGE_SIZE as u64,
            compression,
            repair_scope: RepairScope::LastSegment,
        }
    }

    fn read_all(dir: &Path) -> Vec<Vec<u8>> {
        let mut r = WalReader::open(dir, None, None).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next() {
            out.push(rec.unwrap().to_vec());
        }
        out
    }

    /// Bytes that snappy cannot shrink.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn golden_small_record_then_padding() {
        let d = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(d.path(), opts(Compression::None, 4)).unwrap();
        w.log(&[b"abc"]).unwrap();
        let seg = segment_path(d.path(), 0);
        let crc = crc32c::crc32c(b"abc").to_be_bytes();
        let want = [1, 0, 3, crc[0], crc[1], crc[2], crc[3], b'a', b'b', b'c'];
        // Written (not buffered) as soon as log returns.
        assert_eq!(std::fs::read(&seg).unwrap(), want);
        w.close().unwrap();
        let bytes = std::fs::read(&seg).unwrap();
        assert_eq!(bytes.len(), PAGE_SIZE);
        assert_eq!(bytes[..10], want);
        assert!(bytes[10..].iter().all(|&b| b == 0));
    }

    #[test]
    fn golden_split_over_pages_and_compression_flag() {
        let d = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(d.path(), opts(Compression::Snappy, 4)).unwrap();
        let big = noise(PAGE_SIZE, 7);
        w.log(&[&big, &[0u8; 1000], b"x"]).unwrap();
        let bytes = std::fs::read(segment_path(d.path(), 0)).unwrap();
        // First fragment fills page 0; no compression since noise does not shrink.
        assert_eq!(bytes[0], FRAG_FIRST);
        assert_eq!(
            u16::from_be_bytes([bytes[1], bytes[2]]) as usize,
            PAGE_SIZE - 7
        );
        let p1 = &bytes[PAGE_SIZE..];
        assert_eq!(p1[0], FRAG_LAST);
        assert_eq!(u16::from_be_bytes([p1[1], p1[2]]), 7);
        // The zeros compress: full fragment with the snappy flag.
        assert_eq!(p1[14], FRAG_FULL | SNAPPY_FLAG);
        let n = u16::from_be_bytes([p1[15], p1[16]]) as usize;
        assert!(n < 100, "{n}");
        // A one-byte record would grow: stored plain.
        assert_eq!(p1[14 + 7 + n], FRAG_FULL);
        drop(w);
        assert_eq!(read_all(d.path()), [big, vec![0; 1000], b"x".to_vec()]);
    }

    #[test]
    fn records_never_cross_segments() {
        let d = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(d.path(), opts(Compression::None, 2)).unwrap();
        let recs: Vec<Vec<u8>> = (0..10).map(|i| noise(20_000, i)).collect();
        for r in &recs {
            w.log(&[r]).unwrap();
        }
        // An oversized record gets a segment of its own.
        let huge = noise(5 * PAGE_SIZE, 99);
        w.log(&[&huge]).unwrap();
        w.log(&[b"after"]).unwrap();
        let (first, last) = w.segments().unwrap();
        w.close().unwrap();
        assert_eq!(first, 0);
        // Three records per two-page segment, then the huge one alone, then "after".
        assert_eq!(last, 5);
        for i in first..last {
            let len = file_size(&segment_path(d.path(), i)).unwrap();
            assert_eq!(len % PAGE_SIZE as u64, 0, "segment {i}");
        }
        let mut want = recs;
        want.push(huge);
        want.push(b"after".to_vec());
        assert_eq!(read_all(d.path()), want);
    }

    #[test]
    fn reopen_starts_a_new_segment_and_truncate_drops_old_ones() {
        let d = tempfile::tempdir().unwrap();
        let (mut w, _) = Wal::open(d.path(), WalOptions::default()).unwrap();
        w.log(&[b"one"]).unwrap();
        drop(w); // no close: as after a crash
        let (mut w, repair) = Wal::open(d.path(), WalOptions::default()).unwrap();
        assert_eq!(repair, None);
        assert_eq!(w.current_segment(), 1);
        w.log(&[b"two"]).unwrap();
        assert_eq!(w.next_segment().unwrap(), 2);
        w.log(&[b"three"]).unwrap();
        assert_eq!(w.segments().unwrap(), (0, 2));
        assert_eq!(
            read_all(d.path()),
            [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
        );
        w.truncate(2).unwrap();
        assert_eq!(w.segments().unwrap(), (2, 2));
        w.truncate(100).unwrap(); // never the current segment
        assert_eq!(w.segments().unwrap(), (2, 2));
        w.close().unwrap();
        assert_eq!(read_all(d.path()), [b"three".to_vec()]);
    }

    #[test]
    fn refuses_to_wrap_segment_indexes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(segment_path(d.path(), u32::MAX), b"").unwrap();
        let e = Wal::open(d.path(), WalOptions::default()).err().unwrap();
        assert!(matches!(e, WalError::SegmentIndexOverflow(_)), "{e}");
    }

    #[test]
    fn rejects_bad_segment_size() {
        let d = tempfile::tempdir().unwrap();
        let o = WalOptions {
            segment_size: 1000,
            ..WalOptions::default()
        };
        assert!(matches!(
            Wal::open(d.path(), o),
            Err(WalError::InvalidSegmentSize(1000))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn round_trip(
            batches in proptest::collection::vec(
                proptest::collection::vec((0usize..70_000, any::<bool>(), any::<u64>()), 1..4),
                1..12,
            ),
            snappy in any::<bool>(),
        ) {
            let d = tempfile::tempdir().unwrap();
            let c = if snappy { Compression::Snappy } else { Compression::None };
            let (mut w, _) = Wal::open(d.path(), opts(c, 3)).unwrap();
            let mut want = Vec::new();
            for batch in &batches {
                let recs: Vec<Vec<u8>> = batch
                    .iter()
                    .map(|&(n, compressible, seed)| if compressible { vec![seed as u8; n] } else { noise(n, seed) })
                    .collect();
                let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
                w.log(&refs).unwrap();
                want.extend(recs);
            }
            drop(w);
            prop_assert_eq!(read_all(d.path()), want);
        }
    }

    /// The child half of `killed_writer_loses_nothing_it_acknowledged`: logs
    /// numbered batches forever, printing each number after `log` returns.
    #[test]
    #[ignore = "run as a child process by killed_writer_loses_nothing_it_acknowledged"]
    fn crash_child() {
        let Ok(dir) = std::env::var("PHAROS_WAL_CRASH_DIR") else {
            return;
        };
        let (mut w, _) = Wal::open(Path::new(&dir), opts(Compression::Snappy, 4)).unwrap();
        let mut out = std::io::stdout().lock();
        for i in 0u64.. {
            let a = format!("record {i} a").repeat((i % 50) as usize + 1);
            let b = noise((i % 7000) as usize, i);
            w.log(&[a.as_bytes(), &b]).unwrap();
            writeln!(out, "{i}").unwrap();
            out.flush().unwrap();
        }
    }

    #[test]
    fn killed_writer_loses_nothing_it_acknowledged() {
        use std::io::BufRead;
        let d = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "wal::writer::tests::crash_child",
                "--ignored",
                "--nocapture",
            ])
            .env("PHAROS_WAL_CRASH_DIR", d.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acked = None;
        for line in std::io::BufReader::new(stdout).lines() {
            if let Ok(i) = line.unwrap().trim().parse::<u64>() {
                acked = Some(i);
                if i >= 3000 {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acked = acked.expect("child logged nothing");

        let (w, repair) = Wal::open(d.path(), WalOptions::default()).unwrap();
        drop(w);
        let recs = read_all(d.path());
        // Everything acknowledged is there, in order; a batch in flight at the
        // kill may or may not be, and a torn one is cut by the repair.
        assert!(
            recs.len() as u64 >= 2 * (acked + 1),
            "{} records, {acked} acked, {repair:?}",
            recs.len()
        );
        for (i, pair) in recs.chunks(2).enumerate() {
            let i = i as u64;
            let a = format!("record {i} a").repeat((i % 50) as usize + 1);
            assert_eq!(pair[0], a.as_bytes());
            if pair.len() == 2 {
                assert_eq!(pair[1], noise((i % 7000) as usize, i));
            }
        }
    }
}
