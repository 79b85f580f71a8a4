//! Chunk encodings: how a run of samples of one series is compressed.
//!
//! A chunk is an opaque byte string plus a one-byte [`Encoding`] that is
//! stored next to it (in a chunk segment file, see [`crate::chunks`], or in
//! the head's memory-mapped chunk files). Only the float encoding, XOR, is
//! implemented; the histogram encodings are named so readers can recognise
//! and skip them ([`ChunkError::UnsupportedEncoding`]).
//!
//! # The XOR chunk
//!
//! This is Prometheus's `EncXOR` chunk (`tsdb/chunkenc/xor.go`), which is
//! Facebook's Gorilla compression with millisecond timestamps; pharos writes
//! exactly the bytes Prometheus writes for the same samples. The whole chunk
//! is a bit stream, packed most significant bit first, its last byte
//! padded with zero bits:
//!
//! ```text
//! ┌──────────────────────┬───────────┬───────────┬───────────┬─────┐
//! │ num samples <2 byte> │ sample 0  │ sample 1  │ sample 2  │ ... │
//! └──────────────────────┴───────────┴───────────┴───────────┴─────┘
//! ```
//!
//! * `num samples`: big-endian `u16`, rewritten after every append.
//! * sample 0: timestamp as a signed zig-zag varint (Go's `PutVarint`),
//!   then the value's 64 IEEE-754 bits.
//! * sample 1: `t1 - t0` as an unsigned varint (the delta wraps as a
//!   `u64`), then the value as a XOR delta (below).
//! * sample n ≥ 2: the delta of deltas `dod = (tn - tn-1) - (tn-1 - tn-2)`
//!   under a prefix code, then the value as a XOR delta:
//!
//!   | prefix | payload            | used when                     |
//!   |--------|--------------------|-------------------------------|
//!   | `0`    | none               | `dod == 0`                    |
//!   | `10`   | 14-bit two's compl.| `-(2^13 - 1) <= dod <= 2^13`  |
//!   | `110`  | 17-bit two's compl.| `-(2^16 - 1) <= dod <= 2^16`  |
//!   | `1110` | 20-bit two's compl.| `-(2^19 - 1) <= dod <= 2^19`  |
//!   | `1111` | 64-bit             | anything else                 |
//!
//!   The ranges are lopsided on purpose: Prometheus decodes a payload equal
//!   to `2^(n-1)` as positive, so that value is allowed on the positive side
//!   and `-2^(n-1)` is not allowed on the negative side.
//!
//! XOR delta of a value `v` against the previous value `p`, with
//! `x = bits(v) ^ bits(p)`:
//!
//! * `0` if `x == 0` (the value repeats);
//! * `10` then the meaningful bits of `x` if they fit in the window of
//!   leading and trailing zeros written last (`lz(x) >= L` and
//!   `tz(x) >= T`): `64 - L - T` bits of `x >> T`;
//! * otherwise `11`, then `L = min(lz(x), 31)` in 5 bits, then the number of
//!   meaningful bits `64 - L - T` in 6 bits (64 is written as 0), then those
//!   bits. This opens a new window that later values may reuse.
//!
//! The first window is opened by the first non-repeating value after
//! sample 0. A chunk resumed from bytes ([`XorChunk::from_bytes`]) takes its
//! window from the last one written, or `L = T = 0` if none was, as
//! Prometheus's appender does; so a resumed chunk may encode later samples
//! differently from one that never left memory, and both decode the same.

mod bstream;
mod varint;
mod xor;

pub use xor::{XorChunk, XorIter};

pub(crate) use varint::{put_uvarint, read_uvarint_slice};

/// How a chunk's bytes are encoded; stored as one byte next to the chunk.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// No encoding; never written by Prometheus, kept for its value 0.
    None = 0,
    /// Gorilla XOR floats ([`XorChunk`]).
    Xor = 1,
    /// Prometheus's native integer histograms (not implemented).
    Histogram = 2,
    /// Prometheus's native float histograms (not implemented).
    FloatHistogram = 3,
}

impl Encoding {
    /// Name of the encoding as Prometheus prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::None => "none",
            Encoding::Xor => "XOR",
            Encoding::Histogram => "histogram",
            Encoding::FloatHistogram => "floathistogram",
        }
    }
}

impl TryFrom<u8> for Encoding {
    type Error = ChunkError;

    fn try_from(b: u8) -> Result<Self, ChunkError> {
        match b {
            0 => Ok(Encoding::None),
            1 => Ok(Encoding::Xor),
            2 => Ok(Encoding::Histogram),
            3 => Ok(Encoding::FloatHistogram),
            other => Err(ChunkError::UnknownEncoding(other)),
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a chunk's bytes could not be decoded.
///
/// Sample numbers count from 0 within the chunk.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The encoding byte names no encoding Prometheus defines.
    #[error("cannot decode chunk: unknown encoding byte {0}")]
    UnknownEncoding(u8),
    /// The encoding is known but pharos cannot decode it (native histograms).
    #[error("cannot decode chunk: unsupported encoding {0}")]
    UnsupportedEncoding(u8),
    /// Fewer bytes than the 2-byte sample count.
    #[error("cannot decode XOR chunk: {len} bytes is shorter than its 2-byte header")]
    MissingHeader {
        /// Length of the chunk data.
        len: usize,
    },
    /// The bit stream ended before the sample count said it would.
    #[error(
        "cannot decode sample {sample} of {total} in XOR chunk: \
         the bit stream ends at bit {bit}"
    )]
    Truncated {
        /// The sample being decoded.
        sample: u16,
        /// The sample count in the header.
        total: u16,
        /// Bit position (after the header) where the data ran out.
        bit: usize,
    },
    /// A varint timestamp (sample 0) or delta (sample 1) is longer than 64 bits.
    #[error("cannot decode sample {sample} in XOR chunk: varint overflows 64 bits")]
    VarintOverflow {
        /// The sample being decoded.
        sample: u16,
    },
    /// A value window claims more than 64 bits.
    #[error(
        "cannot decode sample {sample} in XOR chunk: {leading} leading zeros \
         and {significant} significant bits exceed 64 bits"
    )]
    BadValueWindow {
        /// The sample being decoded.
        sample: u16,
        /// Leading zero bits read.
        leading: u8,
        /// Significant bits read.
        significant: u8,
    },
    /// The chunk is too large to be appended to (more than 64 MiB).
    #[error("cannot resume XOR chunk: {len} bytes exceeds the 64 MiB limit")]
    TooLarge {
        /// Length of the chunk data.
        len: usize,
    },
}

/// Iterates over the float samples of a chunk of any encoding.
///
/// Returns [`ChunkError::UnsupportedEncoding`] for the histogram
/// encodings, so callers can skip such chunks and go on.
pub fn float_iter(encoding: Encoding, data: &[u8]) -> Result<XorIter<'_>, ChunkError> {
    match encoding {
        Encoding::Xor => XorIter::new(data),
        other => Err(ChunkError::UnsupportedEncoding(other as u8)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_bytes() {
        for (b, want) in [
            (0u8, Ok(Encoding::None)),
            (1, Ok(Encoding::Xor)),
            (2, Ok(Encoding::Histogram)),
            (3, Ok(Encoding::FloatHistogram)),
            (4, Err(ChunkError::UnknownEncoding(4))),
            (255, Err(ChunkError::UnknownEncoding(255))),
        ] {
            assert_eq!(Encoding::try_from(b), want, "byte {b}");
            if let Ok(e) = want {
                assert_eq!(e as u8, b);
            }
        }
    }

    #[test]
    fn histograms_are_skippable() {
        let err = float_iter(Encoding::Histogram, &[0, 1, 2]).err();
        assert_eq!(err, Some(ChunkError::UnsupportedEncoding(2)));
        assert_eq!(
            err.map(|e| e.to_string()).unwrap_or_default(),
            "cannot decode chunk: unsupported encoding 2"
        );
        assert!(float_iter(Encoding::Xor, &[0, 0]).is_ok());
    }
}
