//! Byte-level encoding shared by the index writer and reader: Go-compatible
//! varints, big-endian integers, and a bounds-checked decoding cursor.

use super::IndexError;

pub(crate) use crate::encoding::{push_uvarint as put_uvarint, push_varint as put_varint};

/// Appends a length-prefixed byte string.
#[inline]
pub(crate) fn put_uvarint_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

/// Appends `v` as 4 big-endian bytes.
#[inline]
pub(crate) fn put_be32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Appends `v` as 8 big-endian bytes.
#[inline]
pub(crate) fn put_be64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_be_bytes());
}

pub(crate) use crate::encoding::read_uvarint_slice as uvarint;

/// A cursor over a slice of the file that never reads past its end; every
/// failure names the section and the file offset.
#[derive(Clone, Copy)]
pub(crate) struct Decbuf<'a> {
    b: &'a [u8],
    /// File offset of `b[0]`.
    pos: usize,
    what: &'static str,
}

impl<'a> Decbuf<'a> {
    pub(crate) fn new(b: &'a [u8], pos: usize, what: &'static str) -> Self {
        Decbuf { b, pos, what }
    }

    /// Bytes left.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.b.len()
    }

    /// File offset of the next byte.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes not yet consumed.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.b
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> IndexError {
        IndexError::corrupt(self.what, self.pos, reason)
    }

    #[inline]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let out = self
            .b
            .get(..n)
            .ok_or_else(|| self.err(format!("need {n} bytes, {} left", self.b.len())))?;
        self.b = &self.b[n..];
        self.pos += n;
        Ok(out)
    }

    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8, IndexError> {
        Ok(self.bytes(1)?[0])
    }

    #[inline]
    pub(crate) fn be32(&mut self) -> Result<u32, IndexError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    pub(crate) fn be64(&mut self) -> Result<u64, IndexError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    #[inline]
    pub(crate) fn uvarint64(&mut self) -> Result<u64, IndexError> {
        let (v, n) = uvarint(self.b).ok_or_else(|| self.err("invalid uvarint"))?;
        self.b = &self.b[n..];
        self.pos += n;
        Ok(v)
    }

    /// A uvarint that must fit in 32 bits (symbol refs).
    #[inline]
    pub(crate) fn uvarint32(&mut self) -> Result<u32, IndexError> {
        let at = self.pos;
        let v = self.uvarint64()?;
        u32::try_from(v)
            .map_err(|_| IndexError::corrupt(self.what, at, format!("{v} does not fit 32 bits")))
    }

    /// A uvarint used as a count or length: at most the bytes left, so a
    /// corrupt count cannot make a caller reserve absurd amounts of memory.
    #[inline]
    pub(crate) fn uvarint_len(&mut self) -> Result<usize, IndexError> {
        let at = self.pos;
        let v = self.uvarint64()?;
        match usize::try_from(v) {
            Ok(n) if n <= self.b.len() => Ok(n),
            _ => Err(IndexError::corrupt(
                self.what,
                at,
                format!("length {v} exceeds the {} bytes left", self.b.len()),
            )),
        }
    }

    #[inline]
    pub(crate) fn varint64(&mut self) -> Result<i64, IndexError> {
        let u = self.uvarint64()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A uvarint-length-prefixed byte string.
    #[inline]
    pub(crate) fn uvarint_bytes(&mut self) -> Result<&'a [u8], IndexError> {
        let n = self.uvarint_len()?;
        self.bytes(n)
    }
}

/// The contents of a `len <4b> | contents | CRC <4b>` section at `off`, after
/// checking its bounds and CRC.
pub(crate) fn section_at<'a>(
    data: &'a [u8],
    off: usize,
    what: &'static str,
) -> Result<Decbuf<'a>, IndexError> {
    let mut d = Decbuf::new(data.get(off..).unwrap_or_default(), off, what);
    if off > data.len() {
        return Err(IndexError::corrupt(what, off, "offset beyond end of file"));
    }
    let len = d.be32()? as usize;
    let body = d.bytes(len)?;
    let stored = d.be32()?;
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(IndexError::Checksum {
            what,
            offset: off,
            stored,
            computed,
        });
    }
    Ok(Decbuf::new(body, off + 4, what))
}

/// The contents of a `len <uvarint> | contents | CRC <4b>` entry at `off` (a
/// series), after checking bounds and CRC.
pub(crate) fn uvarint_section_at<'a>(
    data: &'a [u8],
    off: usize,
    what: &'static str,
) -> Result<Decbuf<'a>, IndexError> {
    if off > data.len() {
        return Err(IndexError::corrupt(what, off, "offset beyond end of file"));
    }
    let mut d = Decbuf::new(&data[off..], off, what);
    let len = d.uvarint64()?;
    if d.pos() - off > 5 {
        return Err(d.err("length prefix longer than 5 bytes"));
    }
    let len = usize::try_from(len).map_err(|_| d.err("length overflows"))?;
    let start = d.pos();
    let body = d.bytes(len)?;
    let stored = d.be32()?;
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Err(IndexError::Checksum {
            what,
            offset: off,
            stored,
            computed,
        });
    }
    Ok(Decbuf::new(body, start, what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn go_varint_bytes() {
        // Values checked against Go's binary.PutUvarint / PutVarint.
        let check_u = |v: u64, want: &[u8]| {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b, want, "uvarint {v}");
        };
        check_u(0, &[0]);
        check_u(127, &[0x7f]);
        check_u(128, &[0x80, 0x01]);
        check_u(300, &[0xac, 0x02]);
        let check_s = |v: i64, want: &[u8]| {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b, want, "varint {v}");
        };
        check_s(0, &[0]);
        check_s(-1, &[1]);
        check_s(1, &[2]);
        check_s(-64, &[0x7f]);
        check_s(64, &[0x80, 0x01]);
    }

    #[test]
    fn uvarint_rejects_overflow_and_truncation() {
        assert!(uvarint(&[0x80]).is_none());
        assert!(uvarint(&[0xff; 10]).is_none());
        assert!(uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).is_none());
        assert_eq!(
            uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Some((u64::MAX, 10))
        );
    }

    #[test]
    fn section_checks_crc_and_bounds() {
        let mut f = vec![0u8; 3];
        put_be32(&mut f, 2);
        f.extend_from_slice(b"hi");
        put_be32(&mut f, crc32c::crc32c(b"hi"));
        assert_eq!(section_at(&f, 3, "t").unwrap().rest(), b"hi");
        assert!(section_at(&f, 4, "t").is_err());
        assert!(section_at(&f, 100, "t").is_err());
        let last = f.len() - 1;
        f[last] ^= 1;
        assert!(matches!(
            section_at(&f, 3, "t"),
            Err(IndexError::Checksum { .. })
        ));
    }

    proptest! {
        #[test]
        fn varints_round_trip(u in any::<u64>(), s in any::<i64>()) {
            let mut b = Vec::new();
            put_uvarint(&mut b, u);
            put_varint(&mut b, s);
            let mut d = Decbuf::new(&b, 0, "t");
            prop_assert_eq!(d.uvarint64().unwrap(), u);
            prop_assert_eq!(d.varint64().unwrap(), s);
            prop_assert_eq!(d.len(), 0);
        }
    }
}
