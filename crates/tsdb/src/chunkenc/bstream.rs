//! Bit streams: the most-significant-bit-first bit packing that XOR chunks use.
//!
//! Bits are written into bytes from the most significant bit down, so the
//! first bit of the stream is bit 7 of byte 0, the ninth bit is bit 7 of
//! byte 1, and so on. A value of `n` bits is written most significant bit
//! first. The last byte of a stream is padded with zero bits. This is the
//! layout of Prometheus's `bstream`, and every XOR chunk on disk uses it.
//!
//! The writer does not own its buffer: [`super::XorChunk`] keeps the buffer
//! and the bit length as its own fields so that its inline size stays at 48
//! bytes (a nested struct would add padding), and borrows them into a
//! [`BitWriter`] for the duration of one append.

/// Writes bits at the end of a zero-filled byte buffer.
///
/// Invariant: every bit of `buf` at or after `*bit_len` is zero, so writing is
/// a plain OR. Capacity is the caller's job ([`BitWriter::reserve`]); writing
/// past the buffer is a bug and panics on the slice index.
pub(crate) struct BitWriter<'a> {
    buf: &'a mut Box<[u8]>,
    bit_len: &'a mut u32,
}

impl<'a> BitWriter<'a> {
    /// Borrows a buffer whose first `*bit_len` bits are the stream so far.
    #[inline]
    pub(crate) fn new(buf: &'a mut Box<[u8]>, bit_len: &'a mut u32) -> Self {
        Self { buf, bit_len }
    }

    /// Makes room for `extra_bytes` more bytes after the stream's last byte.
    ///
    /// Growth is by half the current capacity (at least `min_cap`), not by
    /// doubling: a million open head chunks each keep their slack, so a
    /// modest factor saves more memory than it costs in copies.
    #[inline]
    pub(crate) fn reserve(&mut self, extra_bytes: usize, min_cap: usize) {
        let needed = byte_len(*self.bit_len) + extra_bytes;
        if needed <= self.buf.len() {
            return;
        }
        self.grow(needed, min_cap);
    }

    #[cold]
    fn grow(&mut self, needed: usize, min_cap: usize) {
        let cap = self.buf.len();
        let new_cap = needed.max(cap + cap / 2).max(min_cap);
        let mut new_buf = vec![0u8; new_cap].into_boxed_slice();
        let used = byte_len(*self.bit_len).min(cap);
        new_buf[..used].copy_from_slice(&self.buf[..used]);
        *self.buf = new_buf;
    }

    /// Appends the low `n` bits of `value`, most significant first.
    ///
    /// `n` must be in `1..=64`.
    #[inline]
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!((1..=64).contains(&n), "BUG: write_bits({n})");
        let pos = *self.bit_len as usize;
        let byte = pos >> 3;
        let off = (pos & 7) as u32;
        // Place the n bits right after `off` bits of a 128-bit window that
        // starts at the current byte; the window's tail is zero.
        let masked = if n == 64 {
            value
        } else {
            value & ((1u64 << n) - 1)
        };
        let window = (u128::from(masked) << (128 - off - n)).to_be_bytes();
        let touched = ((off + n + 7) >> 3) as usize;
        for (dst, src) in self.buf[byte..byte + touched]
            .iter_mut()
            .zip(&window[..touched])
        {
            *dst |= *src;
        }
        *self.bit_len += n;
    }

    /// Appends one bit.
    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        let pos = *self.bit_len as usize;
        if bit {
            self.buf[pos >> 3] |= 0x80 >> (pos & 7);
        }
        *self.bit_len += 1;
    }

    /// Appends eight bits.
    #[inline]
    pub(crate) fn write_byte(&mut self, b: u8) {
        self.write_bits(u64::from(b), 8);
    }
}

/// Number of bytes that hold `bit_len` bits.
#[inline]
pub(crate) fn byte_len(bit_len: u32) -> usize {
    (bit_len as usize).div_ceil(8)
}

/// Reads bits from a borrowed byte slice, most significant bit first.
///
/// Every read is bounds checked and returns `None` past the end of the
/// slice, so corrupt input ends a decode instead of reading garbage.
#[derive(Clone, Debug)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position of the next bit to read.
    pos: usize,
    /// Length of `data` in bits.
    end: usize,
}

impl<'a> BitReader<'a> {
    /// Reads `data` from its first bit.
    #[inline]
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            end: data.len().saturating_mul(8),
        }
    }

    /// Position of the next bit to read, counted from the first bit.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Reads `n` bits (`1..=64`) as the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Option<u64> {
        debug_assert!((1..=64).contains(&n), "BUG: read_bits({n})");
        let new_pos = self.pos + n as usize;
        if new_pos > self.end {
            return None;
        }
        let byte = self.pos >> 3;
        let off = (self.pos & 7) as u32;
        let fast = if off + n <= 64 {
            self.data
                .get(byte..)
                .and_then(|s| s.first_chunk::<8>())
                .map(|w| (u64::from_be_bytes(*w) << off) >> (64 - n))
        } else {
            None
        };
        let v = match fast {
            Some(v) => v,
            None => self.read_bits_slow(byte, off, n),
        };
        self.pos = new_pos;
        Some(v)
    }

    /// Reads near the end of the slice, or a read that spans nine bytes.
    #[cold]
    fn read_bits_slow(&self, byte: usize, off: u32, n: u32) -> u64 {
        let mut window = [0u8; 16];
        let avail = self.data.get(byte..).unwrap_or_default();
        let take = avail.len().min(16);
        window[..take].copy_from_slice(&avail[..take]);
        ((u128::from_be_bytes(window) << off) >> (128 - n)) as u64
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        let b = *self.data.get(self.pos >> 3)?;
        let bit = b & (0x80 >> (self.pos & 7)) != 0;
        self.pos += 1;
        Some(bit)
    }

    /// Reads eight bits.
    #[inline]
    pub(crate) fn read_byte(&mut self) -> Option<u8> {
        self.read_bits(8).map(|b| b as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_msb_first() {
        let mut buf = vec![0u8; 4].into_boxed_slice();
        let mut len = 0u32;
        let mut w = BitWriter::new(&mut buf, &mut len);
        w.write_bit(true);
        w.write_bits(0b01, 2);
        w.write_byte(0xff);
        w.write_bits(0b1_0000_0001, 9);
        assert_eq!(len, 20);
        assert_eq!(&buf[..], &[0b1011_1111, 0b1111_0000, 0b0001_0000, 0]);
    }

    #[test]
    fn reads_past_end_give_none() {
        let data = [0xab, 0xcd];
        let mut r = BitReader::new(&data);
        assert_eq!(r.read_bits(12), Some(0xabc));
        assert_eq!(r.read_bits(5), None);
        assert_eq!(r.read_bits(4), Some(0xd));
        assert_eq!(r.read_bit(), None);
        assert_eq!(r.position(), 16);
    }

    proptest! {
        #[test]
        fn round_trip(fields in proptest::collection::vec((any::<u64>(), 1u32..=64), 0..200)) {
            let mut buf = Box::<[u8]>::default();
            let mut len = 0u32;
            for &(v, n) in &fields {
                let mut w = BitWriter::new(&mut buf, &mut len);
                w.reserve(9, 16);
                w.write_bits(v, n);
            }
            let total: u32 = fields.iter().map(|f| f.1).sum();
            prop_assert_eq!(len, total);
            let bytes = &buf[..byte_len(len)];
            let mut r = BitReader::new(bytes);
            for &(v, n) in &fields {
                let want = if n == 64 { v } else { v & ((1 << n) - 1) };
                prop_assert_eq!(r.read_bits(n), Some(want));
            }
            // Padding bits of the last byte are zero.
            let pad = (bytes.len() * 8) as u32 - total;
            if pad > 0 {
                prop_assert_eq!(r.read_bits(pad), Some(0));
            }
            prop_assert_eq!(r.read_bit(), None);
        }
    }
}
