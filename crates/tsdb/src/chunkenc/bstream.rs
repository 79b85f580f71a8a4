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
        let masked = if n == 64 {
            value
        } else {
            value & ((1u64 << n) - 1)
        };
        // Fast path: the bits land in the 8 bytes from the current one.
        if off + n <= 64 {
            if let Some(w) = self
                .buf
                .get_mut(byte..)
                .and_then(|s| s.first_chunk_mut::<8>())
            {
                let cur = u64::from_be_bytes(*w);
                *w = (cur | (masked << (64 - off - n))).to_be_bytes();
                *self.bit_len += n;
                return;
            }
        }
        self.write_bits_slow(masked, n);
    }

    /// Writes that span nine bytes or reach the buffer's last 8 bytes.
    #[cold]
    fn write_bits_slow(&mut self, masked: u64, n: u32) {
        let pos = *self.bit_len as usize;
        let byte = pos >> 3;
        let off = (pos & 7) as u32;
        // Place the n bits right after `off` bits of a 128-bit window that
        // starts at the current byte; the window's tail is zero.
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
/// Bits are loaded eight bytes at a time into a 64-bit register, so most
/// reads are a shift. Every read is bounds checked and returns `None` past
/// the end of the slice, so corrupt input ends a decode instead of reading
/// garbage.
#[derive(Clone, Debug)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `buf`.
    next: usize,
    /// Unread bits, left-aligned. Bits after the first `valid` are zero or
    /// copies of the data that follows, so loading more is an OR.
    buf: u64,
    /// Number of unread bits in `buf`.
    valid: u32,
}

impl<'a> BitReader<'a> {
    /// Reads `data` from its first bit.
    #[inline]
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            next: 0,
            buf: 0,
            valid: 0,
        }
    }

    /// Position of the next bit to read, counted from the first bit.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.next * 8 - self.valid as usize
    }

    /// Loads as many whole bytes as fit into the register.
    #[inline]
    fn refill(&mut self) {
        if let Some(w) = self
            .data
            .get(self.next..)
            .and_then(|s| s.first_chunk::<8>())
        {
            let bytes = (64 - self.valid) / 8;
            if bytes > 0 {
                // Also ORs in part of one more byte: harmless, see `buf`.
                self.buf |= u64::from_be_bytes(*w) >> self.valid;
                self.valid += bytes * 8;
                self.next += bytes as usize;
            }
        } else {
            while self.valid <= 56 {
                let Some(&b) = self.data.get(self.next) else {
                    break;
                };
                self.buf |= u64::from(b) << (56 - self.valid);
                self.valid += 8;
                self.next += 1;
            }
        }
    }

    /// Takes `n` (`1..=64`, at most `valid`) bits from the register.
    #[inline]
    fn take(&mut self, n: u32) -> u64 {
        let v = self.buf >> (64 - n);
        self.buf = self.buf.checked_shl(n).unwrap_or(0);
        self.valid -= n;
        v
    }

    /// Reads `n` bits (`1..=64`) as the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Option<u64> {
        debug_assert!((1..=64).contains(&n), "BUG: read_bits({n})");
        if n > self.valid {
            self.refill();
            if n > self.valid {
                return self.read_bits_split(n);
            }
        }
        Some(self.take(n))
    }

    /// Reads `n` bits that straddle a refill: a 64-bit read when the
    /// register holds 57 to 63 bits, or a read at the end of the data.
    #[cold]
    fn read_bits_split(&mut self, n: u32) -> Option<u64> {
        let remaining = self.valid as usize + (self.data.len() - self.next) * 8;
        if n as usize > remaining {
            return None;
        }
        let hi_n = self.valid;
        let hi = if hi_n == 0 { 0 } else { self.take(hi_n) };
        self.refill();
        let lo_n = n - hi_n;
        let lo = self.take(lo_n);
        Some(hi.checked_shl(lo_n).unwrap_or(0) | lo)
    }

    /// Returns the next `n` bits (`1..=57`) without consuming them, or
    /// `None` if fewer remain.
    #[inline]
    pub(crate) fn peek_bits(&mut self, n: u32) -> Option<u64> {
        debug_assert!((1..=57).contains(&n), "BUG: peek_bits({n})");
        if n > self.valid {
            self.refill();
            if n > self.valid {
                return None;
            }
        }
        Some(self.buf >> (64 - n))
    }

    /// Skips `n` bits that [`peek_bits`](Self::peek_bits) has shown exist.
    #[inline]
    pub(crate) fn skip(&mut self, n: u32) {
        debug_assert!(n <= self.valid, "BUG: skip past peeked bits");
        self.take(n);
    }

    /// Reads one bit.
    #[inline]
    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        self.read_bits(1).map(|b| b == 1)
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
