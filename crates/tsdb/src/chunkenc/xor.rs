//! The XOR float chunk and its appender state (format: see [`super`]).

mod iter;

pub use iter::XorIter;

use super::bstream::{byte_len, BitWriter};
use super::varint::{put_uvarint, zigzag, MAX_VARINT_LEN64};
use super::ChunkError;

/// Capacity of a new chunk's buffer, as Prometheus's `NewXORChunk`; a
/// 120-sample chunk of a slowly moving series fits in it.
const INITIAL_CAPACITY: usize = 128;

/// Most bytes one append can add: a 64-bit timestamp escape (4 + 64 bits)
/// plus a value with a new window (2 + 5 + 6 + 64 bits) is 145 bits; the
/// first sample, a 10-byte varint and 8 bytes of value, is less.
const MAX_SAMPLE_BYTES: usize = 19;

/// Largest chunk [`XorChunk::from_bytes`] accepts; bit positions must fit
/// a `u32`, and a full chunk of 65535 samples is under 1.2 MiB anyway.
const MAX_CHUNK_BYTES: usize = 64 << 20;

/// Sentinel for "no value window written yet" (Prometheus uses 0xff too).
const NO_WINDOW: u8 = 0xff;

/// Bits of the 2-byte sample count header.
const HEADER_BITS: u32 = 16;

/// An XOR-encoded float chunk that can be appended to in place.
///
/// It owns its bytes and keeps the appender's state inline, so the head can
/// hold one open chunk per series without a separate appender object.
/// `size_of::<XorChunk>()` is 48 bytes on 64-bit targets (a 16-byte boxed
/// buffer, three 8-byte fields, a 4-byte bit length and two window bytes);
/// the buffer starts at 128 bytes and grows by half when full.
#[derive(Clone)]
pub struct XorChunk {
    /// The chunk bytes followed by zeroed spare capacity.
    buf: Box<[u8]>,
    /// Last appended timestamp.
    t: i64,
    /// Bits of the last appended value.
    v: u64,
    /// Last timestamp delta, as Prometheus keeps it (wrapping `u64`).
    t_delta: u64,
    /// Length of the stream in bits, header included.
    bit_len: u32,
    /// Leading zeros of the current value window, or [`NO_WINDOW`].
    leading: u8,
    /// Trailing zeros of the current value window.
    trailing: u8,
}

impl XorChunk {
    /// Creates an empty chunk.
    pub fn new() -> Self {
        Self {
            buf: vec![0u8; INITIAL_CAPACITY].into_boxed_slice(),
            t: 0,
            v: 0,
            t_delta: 0,
            bit_len: HEADER_BITS,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Resumes appending to a chunk read back from its bytes.
    ///
    /// Decodes every sample to recover the appender state, and fails if the
    /// bytes are corrupt. Bytes after the last sample are dropped, so
    /// [`bytes`](Self::bytes) may be shorter than `b`.
    pub fn from_bytes(b: Vec<u8>) -> Result<Self, ChunkError> {
        if b.len() > MAX_CHUNK_BYTES {
            return Err(ChunkError::TooLarge { len: b.len() });
        }
        let mut it = XorIter::new(&b)?;
        for _ in it.by_ref() {}
        if let Some(err) = it.error() {
            return Err(err.clone());
        }
        let state = it.appender_state();
        let bit_len = HEADER_BITS + state.bit_pos as u32;
        let mut buf = b;
        buf.truncate(byte_len(bit_len));
        // Bits after the stream's end must be zero for appends to OR into.
        let pad = (buf.len() * 8) as u32 - bit_len;
        if let Some(last) = buf.last_mut() {
            *last &= 0xffu8 << pad;
        }
        Ok(Self {
            buf: buf.into_boxed_slice(),
            t: state.t,
            v: state.v,
            t_delta: state.t_delta,
            bit_len,
            // Prometheus's appender takes the iterator's window, which is
            // (0, 0) until one is read, and "none" only for an empty chunk.
            leading: if state.num == 0 {
                NO_WINDOW
            } else {
                state.leading
            },
            trailing: state.trailing,
        })
    }

    /// Number of samples in the chunk.
    pub fn num_samples(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    /// Whether no more samples fit (the count is a `u16`).
    pub fn is_full(&self) -> bool {
        self.num_samples() == u16::MAX
    }

    /// The last appended sample, if any.
    pub fn last(&self) -> Option<(i64, f64)> {
        (self.num_samples() > 0).then(|| (self.t, f64::from_bits(self.v)))
    }

    /// Timestamp of the first sample, if any.
    pub fn first_time(&self) -> Option<i64> {
        let mut it = self.iter();
        it.next().map(|(t, _)| t)
    }

    /// The chunk data exactly as stored on disk (without the encoding byte).
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..byte_len(self.bit_len)]
    }

    /// Iterates over the samples.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::from_valid(self.bytes())
    }

    /// Bytes allocated for the buffer (what the chunk costs beyond its
    /// inline size).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Drops spare capacity, for a chunk that will take no more samples.
    pub fn shrink_to_fit(&mut self) {
        let len = byte_len(self.bit_len);
        if len < self.buf.len() {
            self.buf = self.buf[..len].into();
        }
    }

    /// Appends a sample.
    ///
    /// The caller guarantees that `t` is greater than the last timestamp;
    /// otherwise the chunk stays decodable but yields samples out of order.
    ///
    /// # Panics
    ///
    /// If the chunk already holds `u16::MAX` samples (see
    /// [`is_full`](Self::is_full)); the head cuts chunks long before that.
    pub fn append(&mut self, t: i64, v: f64) {
        let num = self.num_samples();
        assert!(num < u16::MAX, "BUG: append to a full XOR chunk");
        let v = v.to_bits();
        let mut w = BitWriter::new(&mut self.buf, &mut self.bit_len);
        w.reserve(MAX_SAMPLE_BYTES, INITIAL_CAPACITY);
        let mut varint = [0u8; MAX_VARINT_LEN64];
        let mut t_delta = 0;
        match num {
            0 => {
                let n = put_uvarint(&mut varint, zigzag(t));
                for &b in &varint[..n] {
                    w.write_byte(b);
                }
                w.write_bits(v, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let n = put_uvarint(&mut varint, t_delta);
                for &b in &varint[..n] {
                    w.write_byte(b);
                }
                write_value(&mut w, v, self.v, &mut self.leading, &mut self.trailing);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                write_dod(&mut w, dod);
                write_value(&mut w, v, self.v, &mut self.leading, &mut self.trailing);
            }
        }
        self.t = t;
        self.v = v;
        self.t_delta = t_delta;
        let [hi, lo] = (num + 1).to_be_bytes();
        self.buf[0] = hi;
        self.buf[1] = lo;
    }
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for XorChunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XorChunk")
            .field("num_samples", &self.num_samples())
            .field("len", &self.bytes().len())
            .finish_non_exhaustive()
    }
}

/// Whether `x` fits the `nbits`-bit bucket, with Prometheus's bounds.
#[inline]
fn bit_range(x: i64, nbits: u32) -> bool {
    -((1i64 << (nbits - 1)) - 1) <= x && x <= 1i64 << (nbits - 1)
}

/// Writes a delta of timestamp deltas with the prefix code of the format.
///
/// Prefix and payload go out in one write where they fit.
#[inline]
fn write_dod(w: &mut BitWriter<'_>, dod: i64) {
    let d = dod as u64;
    if dod == 0 {
        w.write_bit(false);
    } else if bit_range(dod, 14) {
        w.write_bits((0b10 << 14) | (d & 0x3fff), 16);
    } else if bit_range(dod, 17) {
        w.write_bits((0b110 << 17) | (d & 0x1_ffff), 20);
    } else if bit_range(dod, 20) {
        w.write_bits((0b1110 << 20) | (d & 0xf_ffff), 24);
    } else {
        w.write_bits(0b1111, 4);
        w.write_bits(d, 64);
    }
}

/// Writes value bits `v` as a XOR delta against `prev`, updating the window.
#[inline]
fn write_value(w: &mut BitWriter<'_>, v: u64, prev: u64, leading: &mut u8, trailing: &mut u8) {
    let delta = v ^ prev;
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    // The count of leading zeros has 5 bits on disk.
    let lz = (delta.leading_zeros() as u8).min(31);
    let tz = delta.trailing_zeros() as u8;
    if *leading != NO_WINDOW && lz >= *leading && tz >= *trailing {
        // `10`, then the delta within the current window.
        let sig = 64 - u32::from(*leading) - u32::from(*trailing);
        let bits = delta >> *trailing;
        if sig <= 62 {
            w.write_bits((0b10 << sig) | bits, sig + 2);
        } else {
            w.write_bits(0b10, 2);
            w.write_bits(bits, sig);
        }
    } else {
        *leading = lz;
        *trailing = tz;
        let sig = 64 - u32::from(lz) - u32::from(tz);
        // `11`, 5 bits of leading zeros, 6 bits of significant bits (64 is
        // written as 0, which cannot otherwise occur as delta != 0), then
        // the significant bits.
        let head = (0b11 << 11) | (u64::from(lz) << 6) | u64::from(sig & 0x3f);
        let bits = delta >> tz;
        if sig <= 51 {
            w.write_bits((head << sig) | bits, sig + 13);
        } else {
            w.write_bits(head, 13);
            w.write_bits(bits, sig);
        }
    }
}

#[cfg(test)]
mod tests;
