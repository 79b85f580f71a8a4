//! Reading records back from segments, page by page.
//!
//! The reader checks what the format promises: every fragment's CRC, the
//! fragment sequence (full, or first, middle…, last), zero padding after a
//! padding marker, fragments inside their page and records inside their
//! segment. A file that ends mid-page is read as if zero-padded, since that
//! is what a segment looks like when its writer was killed between pages.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::segment::{list_segments, segment_path};
use super::{
    Corruption, CorruptionReason, WalError, FRAGMENT_HEADER_SIZE, FRAG_FIRST, FRAG_FULL, FRAG_LAST,
    FRAG_MIDDLE, FRAG_PADDING, PAGE_SIZE, SNAPPY_FLAG, TYPE_MASK, ZSTD_FLAG,
};

/// Which buffer holds the record last returned.
#[derive(Clone, Copy)]
enum Current {
    /// An uncompressed single-fragment record, still in the page: no copy.
    Page(usize, usize),
    /// Fragments joined in `rec`.
    Joined,
    /// Decompressed into `decoded`.
    Decoded,
}

/// Reads the records of a run of segments in order.
///
/// `next` returns a borrowed record that is valid until the following call;
/// all buffers are reused, so a replay loop allocates only when a record is
/// larger than any before it. After an error, `next` returns `None`.
pub struct WalReader {
    segs: Vec<(PathBuf, u32)>,
    /// Index into `segs` of the segment being read.
    cur: usize,
    file: Option<File>,
    page: Box<[u8; PAGE_SIZE]>,
    /// Valid bytes in `page`; fewer than a page only at the end of a file.
    page_len: usize,
    /// File offset of `page[0]`.
    page_off: u64,
    /// Next byte of `page` to parse.
    pos: usize,
    rec: Vec<u8>,
    decoded: Vec<u8>,
    current: Current,
    rec_segment: u32,
    rec_offset: u64,
    snappy: snap::raw::Decoder,
    done: bool,
}

impl WalReader {
    /// A reader over the segments of `dir` from `first` to `last` (inclusive;
    /// `None` leaves that end open).
    pub fn open(dir: &Path, first: Option<u32>, last: Option<u32>) -> Result<WalReader, WalError> {
        let segs = list_segments(dir)?
            .into_iter()
            .filter(|&i| first.is_none_or(|f| i >= f) && last.is_none_or(|l| i <= l))
            .map(|i| (dir.to_owned(), i))
            .collect();
        Ok(WalReader::from_segments(segs))
    }

    /// A reader over the given `(directory, index)` segments, in that order;
    /// used to chain a checkpoint's segments with the WAL's.
    pub fn from_segments(segs: Vec<(PathBuf, u32)>) -> WalReader {
        WalReader {
            segs,
            cur: 0,
            file: None,
            page: Box::new([0; PAGE_SIZE]),
            page_len: 0,
            page_off: 0,
            pos: 0,
            rec: Vec::new(),
            decoded: Vec::new(),
            current: Current::Joined,
            rec_segment: 0,
            rec_offset: 0,
            snappy: snap::raw::Decoder::new(),
            done: false,
        }
    }

    /// The next record, `None` at the end of the last segment or after an error.
    #[allow(clippy::should_implement_trait)] // Lending: the record borrows the reader.
    pub fn next(&mut self) -> Option<Result<&[u8], WalError>> {
        if self.done {
            return None;
        }
        loop {
            if self.file.is_none() {
                let Some((dir, idx)) = self.segs.get(self.cur) else {
                    self.done = true;
                    return None;
                };
                let path = segment_path(dir, *idx);
                match File::open(&path) {
                    Ok(f) => self.file = Some(f),
                    Err(e) => {
                        self.done = true;
                        return Some(Err(WalError::io("open", &path, e)));
                    }
                }
                self.page_len = 0;
                self.page_off = 0;
                self.pos = 0;
            }
            match self.read_record() {
                Ok(true) => break,
                Ok(false) => {
                    self.file = None;
                    self.cur += 1;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        Some(Ok(match self.current {
            Current::Page(a, b) => &self.page[a..b],
            Current::Joined => &self.rec,
            Current::Decoded => &self.decoded,
        }))
    }

    /// Segment index and byte offset of the record last returned.
    pub fn position(&self) -> (u32, u64) {
        (self.rec_segment, self.rec_offset)
    }

    fn seg(&self) -> (&Path, u32) {
        let (d, i) = &self.segs[self.cur];
        (d, *i)
    }

    fn corrupt(&self, offset: u64, reason: CorruptionReason) -> WalError {
        let (dir, segment) = self.seg();
        WalError::Corrupt(Corruption {
            dir: dir.to_owned(),
            segment,
            offset,
            reason,
        })
    }

    /// Fills `page` with the next page of the file. Returns false at the end.
    fn load_page(&mut self) -> Result<bool, WalError> {
        self.page_off += self.page_len as u64;
        self.pos = 0;
        let mut n = 0;
        let (dir, idx) = self.seg();
        let path = segment_path(dir, idx);
        let Some(file) = self.file.as_mut() else {
            panic!("BUG: load_page without an open segment");
        };
        while n < PAGE_SIZE {
            match file.read(&mut self.page[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(WalError::io("read", &path, e)),
            }
        }
        self.page_len = n;
        Ok(n > 0)
    }

    /// Reads one record of the current segment into `current`. Returns false
    /// at a clean end of the segment.
    fn read_record(&mut self) -> Result<bool, WalError> {
        self.rec.clear();
        let mut start: Option<u64> = None;
        let mut compressed;
        loop {
            if self.pos >= self.page_len {
                // A short page is the end of the file; so is an empty read.
                let at_eof = self.page_len < PAGE_SIZE && (self.page_len > 0 || self.page_off > 0);
                if at_eof || !self.load_page()? {
                    return match start {
                        Some(s) => Err(self.corrupt(s, CorruptionReason::Torn)),
                        None => Ok(false),
                    };
                }
                continue;
            }
            let frag_off = self.page_off + self.pos as u64;
            let bad_at = start.unwrap_or(frag_off);
            let short_page = self.page_len < PAGE_SIZE;
            let h = self.page[self.pos];
            let typ = h & TYPE_MASK;
            if typ == FRAG_PADDING {
                if self.page[self.pos + 1..self.page_len]
                    .iter()
                    .any(|&b| b != 0)
                {
                    return Err(self.corrupt(bad_at, CorruptionReason::NonZeroPadding));
                }
                self.pos = self.page_len;
                continue;
            }
            let beyond = |r: CorruptionReason| {
                if short_page {
                    CorruptionReason::Torn
                } else {
                    r
                }
            };
            let Some(hdr) =
                self.page[..self.page_len].get(self.pos..self.pos + FRAGMENT_HEADER_SIZE)
            else {
                return Err(self.corrupt(bad_at, beyond(CorruptionReason::CrossesPage)));
            };
            let len = u16::from_be_bytes([hdr[1], hdr[2]]) as usize;
            let want = u32::from_be_bytes([hdr[3], hdr[4], hdr[5], hdr[6]]);
            let data_start = self.pos + FRAGMENT_HEADER_SIZE;
            let data_end = data_start + len;
            if data_end > self.page_len {
                return Err(self.corrupt(bad_at, beyond(CorruptionReason::CrossesPage)));
            }
            let data = &self.page[data_start..data_end];
            let got = crc32c::crc32c(data);
            if got != want {
                return Err(self.corrupt(bad_at, CorruptionReason::Checksum { want, got }));
            }
            let in_sequence = match typ {
                FRAG_FULL | FRAG_FIRST => start.is_none(),
                FRAG_MIDDLE | FRAG_LAST => start.is_some(),
                t => return Err(self.corrupt(bad_at, CorruptionReason::BadFragmentType(t))),
            };
            if !in_sequence {
                return Err(self.corrupt(bad_at, CorruptionReason::UnexpectedFragment(typ)));
            }
            // Checked only once the fragment is known to be genuine, so that
            // garbage is reported as corruption rather than as zstd.
            if h & ZSTD_FLAG != 0 {
                let (dir, segment) = self.seg();
                return Err(WalError::ZstdUnsupported {
                    dir: dir.to_owned(),
                    segment,
                    offset: bad_at,
                });
            }
            start.get_or_insert(frag_off);
            // Prometheus sets the flag on every fragment; the last one decides.
            compressed = h & SNAPPY_FLAG != 0;
            self.pos = data_end;
            if typ == FRAG_FULL && !compressed {
                self.current = Current::Page(data_start, data_end);
                self.set_position(frag_off);
                return Ok(true);
            }
            self.rec.extend_from_slice(&self.page[data_start..data_end]);
            if typ == FRAG_FULL || typ == FRAG_LAST {
                break;
            }
        }
        let rec_start = start.unwrap_or(0);
        self.set_position(rec_start);
        if !compressed {
            self.current = Current::Joined;
            return Ok(true);
        }
        let n = snap::raw::decompress_len(&self.rec)
            .map_err(|e| self.corrupt(rec_start, CorruptionReason::Snappy(e.to_string())))?;
        // No snappy element expands more than ~21 times, so a larger claimed
        // length is corrupt; checking first keeps hostile bytes from making
        // us allocate gigabytes.
        if n > self.rec.len().saturating_mul(32) {
            let msg = format!("claims {n} bytes from {}", self.rec.len());
            return Err(self.corrupt(rec_start, CorruptionReason::Snappy(msg)));
        }
        self.decoded.resize(n, 0);
        self.snappy
            .decompress(&self.rec, &mut self.decoded)
            .map_err(|e| self.corrupt(rec_start, CorruptionReason::Snappy(e.to_string())))?;
        self.current = Current::Decoded;
        Ok(true)
    }

    fn set_position(&mut self, offset: u64) {
        self.rec_segment = self.seg().1;
        self.rec_offset = offset;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fragment: header (type byte with flags, length, CRC) and data.
    fn frag(typ: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![typ];
        v.extend_from_slice(&(data.len() as u16).to_be_bytes());
        v.extend_from_slice(&crc32c::crc32c(data).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    /// Reads segment 0 of a directory holding `bytes`; returns the records
    /// read and the error that ended the read, if any.
    fn read(bytes: &[u8]) -> (Vec<Vec<u8>>, Option<WalError>) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(segment_path(d.path(), 0), bytes).unwrap();
        let mut r = WalReader::open(d.path(), None, None).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next() {
            match rec {
                Ok(rec) => out.push(rec.to_vec()),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    fn reason(e: Option<WalError>) -> (u64, CorruptionReason) {
        match e {
            Some(WalError::Corrupt(c)) => (c.offset, c.reason),
            other => panic!("not a corruption: {other:?}"),
        }
    }

    #[test]
    fn joins_fragments_and_skips_padding() {
        let mut b = frag(FRAG_FIRST, b"ab");
        b.extend(frag(FRAG_MIDDLE, b"cd"));
        b.extend(frag(FRAG_LAST, b"e"));
        b.extend(frag(FRAG_FULL, b""));
        b.resize(PAGE_SIZE, 0);
        b.extend(frag(FRAG_FULL, b"next page"));
        let (recs, err) = read(&b);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(recs, [b"abcde".to_vec(), vec![], b"next page".to_vec()]);
    }

    #[test]
    fn snappy_records_decompress() {
        let mut z = snap::raw::Encoder::new().compress_vec(&[7u8; 500]).unwrap();
        let (first, last) = z.split_at_mut(3);
        let mut b = frag(FRAG_FIRST | SNAPPY_FLAG, first);
        b.extend(frag(FRAG_LAST | SNAPPY_FLAG, last));
        let (recs, err) = read(&b);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(recs, [vec![7u8; 500]]);
    }

    #[test]
    fn corruptions_point_at_the_record_start() {
        let ok = frag(FRAG_FULL, b"ok");
        let n = ok.len() as u64;
        let case = |tail: Vec<u8>| {
            let mut b = ok.clone();
            b.extend(tail);
            let (recs, err) = read(&b);
            assert_eq!(recs, [b"ok".to_vec()]);
            reason(err)
        };
        assert_eq!(
            case(frag(FRAG_MIDDLE, b"x")),
            (n, CorruptionReason::UnexpectedFragment(3))
        );
        assert_eq!(
            case(frag(6, b"x")),
            (n, CorruptionReason::BadFragmentType(6))
        );
        let mut two_firsts = frag(FRAG_FIRST, b"x");
        two_firsts.extend(frag(FRAG_FIRST, b"y"));
        assert_eq!(
            case(two_firsts),
            (n, CorruptionReason::UnexpectedFragment(2))
        );
        assert_eq!(case(frag(FRAG_FIRST, b"torn")), (n, CorruptionReason::Torn));
        let mut bad_crc = frag(FRAG_FULL, b"x");
        bad_crc[7] = b'y';
        assert!(matches!(case(bad_crc), (o, CorruptionReason::Checksum { .. }) if o == n));
        assert_eq!(case(vec![0, 0, 1]), (n, CorruptionReason::NonZeroPadding));
        // Header cut by the end of the file.
        assert_eq!(case(vec![FRAG_FULL, 0]), (n, CorruptionReason::Torn));
        // Snappy flag on bytes that are not snappy.
        let not_snappy = frag(FRAG_FULL | SNAPPY_FLAG, &[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(case(not_snappy), (o, CorruptionReason::Snappy(_)) if o == n));
    }

    #[test]
    fn fragment_running_past_a_full_page_is_corrupt() {
        let mut b = frag(FRAG_FULL, &vec![1u8; PAGE_SIZE - 20 - 7]);
        // A header claiming more than is left of the page, in a full page.
        b.extend(frag(FRAG_FULL, &[2u8; 30])[..13].iter());
        b.resize(PAGE_SIZE, 0);
        b.extend(vec![0u8; PAGE_SIZE]);
        let (recs, err) = read(&b);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            reason(err),
            ((PAGE_SIZE - 20) as u64, CorruptionReason::CrossesPage)
        );
    }

    #[test]
    fn zstd_is_not_corruption() {
        let b = frag(FRAG_FULL | ZSTD_FLAG, b"whatever");
        let (_, err) = read(&b);
        assert!(matches!(
            err,
            Some(WalError::ZstdUnsupported {
                segment: 0,
                offset: 0,
                ..
            })
        ));
    }

    #[test]
    fn ranges_and_chains_of_segments() {
        let d = tempfile::tempdir().unwrap();
        let e = tempfile::tempdir().unwrap();
        for i in 0..4u8 {
            std::fs::write(segment_path(d.path(), i.into()), frag(FRAG_FULL, &[i])).unwrap();
        }
        std::fs::write(segment_path(e.path(), 0), frag(FRAG_FULL, b"cp")).unwrap();
        let collect = |mut r: WalReader| {
            let mut v = Vec::new();
            while let Some(rec) = r.next() {
                let rec = rec.unwrap().to_vec();
                v.push((rec, r.position()));
            }
            v
        };
        let got = collect(WalReader::open(d.path(), Some(1), Some(2)).unwrap());
        assert_eq!(got, [(vec![1], (1, 0)), (vec![2], (2, 0))]);
        let chain = vec![(e.path().to_owned(), 0), (d.path().to_owned(), 3)];
        let got = collect(WalReader::from_segments(chain));
        assert_eq!(got, [(b"cp".to_vec(), (0, 0)), (vec![3], (3, 0))]);
    }
}
