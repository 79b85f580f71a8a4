//! Decoding XOR chunks.

use super::super::bstream::BitReader;
use super::super::varint::{unzigzag, UvarintDecoder, VarintStep};
use super::super::ChunkError;

/// Iterates over the samples of an XOR chunk in borrowed bytes (an open
/// [`super::XorChunk`] or an mmapped block chunk).
///
/// Yields `(timestamp, value)` in the order appended. It stops early on
/// corrupt bytes; [`error`](Self::error) then says why.
#[derive(Clone, Debug)]
pub struct XorIter<'a> {
    br: BitReader<'a>,
    num_total: u16,
    num_read: u16,
    t: i64,
    v: u64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    err: Option<ChunkError>,
}

/// What an appender needs to continue after the last decoded sample.
pub(super) struct AppenderState {
    pub(super) num: u16,
    pub(super) t: i64,
    pub(super) v: u64,
    pub(super) t_delta: u64,
    pub(super) leading: u8,
    pub(super) trailing: u8,
    /// Bits of sample data read, after the 2-byte header.
    pub(super) bit_pos: usize,
}

impl<'a> XorIter<'a> {
    /// Starts iterating over the chunk data `b` (without the encoding byte).
    ///
    /// Fails only if `b` is too short for the 2-byte sample count; other
    /// corruption shows while iterating.
    pub fn new(b: &'a [u8]) -> Result<Self, ChunkError> {
        if b.len() < 2 {
            return Err(ChunkError::MissingHeader { len: b.len() });
        }
        Ok(Self::from_valid(b))
    }

    /// Like [`new`](Self::new) for bytes known to hold the header.
    pub(super) fn from_valid(b: &'a [u8]) -> Self {
        let (num_total, rest) = match b {
            [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
            _ => (0, &[][..]),
        };
        Self {
            br: BitReader::new(rest),
            num_total,
            num_read: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0,
            trailing: 0,
            err: None,
        }
    }

    /// Number of samples the chunk header announces.
    pub fn num_samples(&self) -> u16 {
        self.num_total
    }

    /// Why iteration stopped before the announced number of samples, if it did.
    pub fn error(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// The sample last returned by [`next`](Iterator::next) or
    /// [`seek`](Self::seek); `(0, 0.0)` before the first.
    pub fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.v))
    }

    /// Advances to the first sample with timestamp `>= t` and returns it.
    ///
    /// Does not move if the current sample already qualifies, and never
    /// moves backwards; `None` once the chunk is exhausted.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if self.err.is_some() {
            return None;
        }
        if self.num_read > 0 && self.t >= t {
            return Some(self.at());
        }
        loop {
            let s = self.next()?;
            if s.0 >= t {
                return Some(s);
            }
        }
    }

    pub(super) fn appender_state(&self) -> AppenderState {
        AppenderState {
            num: self.num_read,
            t: self.t,
            v: self.v,
            t_delta: self.t_delta,
            leading: self.leading,
            trailing: self.trailing,
            bit_pos: self.br.position(),
        }
    }

    #[cold]
    fn fail(&mut self, err: ChunkError) -> Option<(i64, f64)> {
        self.err = Some(err);
        None
    }

    #[cold]
    fn truncated(&mut self) -> Option<(i64, f64)> {
        let err = ChunkError::Truncated {
            sample: self.num_read,
            total: self.num_total,
            bit: self.br.position(),
        };
        self.fail(err)
    }

    /// Reads a varint byte by byte (the stream is byte aligned here, but the
    /// reader does not rely on it).
    fn read_uvarint(&mut self) -> Result<u64, ChunkError> {
        let mut d = UvarintDecoder::default();
        loop {
            let Some(b) = self.br.read_byte() else {
                return Err(ChunkError::Truncated {
                    sample: self.num_read,
                    total: self.num_total,
                    bit: self.br.position(),
                });
            };
            match d.push(b) {
                VarintStep::More => {}
                VarintStep::Done(v) => return Ok(v),
                VarintStep::Overflow => {
                    return Err(ChunkError::VarintOverflow {
                        sample: self.num_read,
                    })
                }
            }
        }
    }

    /// Reads the delta of deltas of the timestamp: `None` at end of data.
    #[inline]
    fn read_dod(&mut self) -> Option<i64> {
        // Count the leading one bits of the prefix, up to four: all four
        // prefix bits at once when there are four left, else one by one.
        let ones = if let Some(p) = self.br.peek_bits(4) {
            let ones = (p << 60).leading_ones().min(4);
            self.br.skip((ones + 1).min(4));
            ones
        } else {
            let mut ones = 0;
            while ones < 4 && self.br.read_bit()? {
                ones += 1;
            }
            ones
        };
        let size = match ones {
            0 => return Some(0),
            1 => 14,
            2 => 17,
            3 => 20,
            _ => return self.br.read_bits(64).map(|b| b as i64),
        };
        let mut bits = self.br.read_bits(size)?;
        // Payloads above 2^(size-1) are negative (two's complement).
        if bits > 1 << (size - 1) {
            bits = bits.wrapping_sub(1 << size);
        }
        Some(bits as i64)
    }

    /// Reads a XOR-encoded value into `self.v`.
    #[inline]
    fn read_value(&mut self) -> Result<(), ChunkError> {
        let trunc = |it: &Self| ChunkError::Truncated {
            sample: it.num_read,
            total: it.num_total,
            bit: it.br.position(),
        };
        if !self.br.read_bit().ok_or_else(|| trunc(self))? {
            return Ok(());
        }
        if self.br.read_bit().ok_or_else(|| trunc(self))? {
            // Five bits of leading zeros, six of significant bits.
            let window = self.br.read_bits(11).ok_or_else(|| trunc(self))?;
            let leading = (window >> 6) as u8;
            let mut significant = (window & 0x3f) as u8;
            if significant == 0 {
                significant = 64;
            }
            if u32::from(leading) + u32::from(significant) > 64 {
                return Err(ChunkError::BadValueWindow {
                    sample: self.num_read,
                    leading,
                    significant,
                });
            }
            self.leading = leading;
            self.trailing = 64 - leading - significant;
        }
        let significant = 64 - u32::from(self.leading) - u32::from(self.trailing);
        let bits = self.br.read_bits(significant).ok_or_else(|| trunc(self))?;
        self.v ^= bits << self.trailing;
        Ok(())
    }
}

impl Iterator for XorIter<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        if self.err.is_some() || self.num_read == self.num_total {
            return None;
        }
        match self.num_read {
            0 => {
                let t = match self.read_uvarint() {
                    Ok(u) => unzigzag(u),
                    Err(e) => return self.fail(e),
                };
                let Some(v) = self.br.read_bits(64) else {
                    return self.truncated();
                };
                self.t = t;
                self.v = v;
            }
            1 => {
                let t_delta = match self.read_uvarint() {
                    Ok(d) => d,
                    Err(e) => return self.fail(e),
                };
                self.t_delta = t_delta;
                self.t = self.t.wrapping_add(t_delta as i64);
                if let Err(e) = self.read_value() {
                    return self.fail(e);
                }
            }
            _ => {
                let Some(dod) = self.read_dod() else {
                    return self.truncated();
                };
                self.t_delta = self.t_delta.wrapping_add(dod as u64);
                self.t = self.t.wrapping_add(self.t_delta as i64);
                if let Err(e) = self.read_value() {
                    return self.fail(e);
                }
            }
        }
        self.num_read += 1;
        Some(self.at())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.num_total - self.num_read);
        if self.err.is_some() {
            (0, Some(0))
        } else {
            (0, Some(left))
        }
    }
}

impl std::iter::FusedIterator for XorIter<'_> {}
