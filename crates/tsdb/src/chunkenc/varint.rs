//! Go's `encoding/binary` varints: little-endian base-128 groups, the high
//! bit of each byte set when more bytes follow; signed values zig-zag
//! encoded first. At most 10 bytes for 64 bits, and a 10th byte above 1
//! overflows, as Go's decoder rules.

/// Longest varint of a 64-bit value.
pub(crate) const MAX_VARINT_LEN64: usize = 10;

/// Writes `v` as an unsigned varint into `buf`; returns the bytes used.
#[inline]
pub(crate) fn put_uvarint(buf: &mut [u8; MAX_VARINT_LEN64], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        buf[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    buf[i] = v as u8;
    i + 1
}

/// Zig-zag encodes `v` so small magnitudes of either sign are short.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Outcome of feeding one more byte to a [`UvarintDecoder`].
pub(crate) enum VarintStep {
    /// More bytes are needed.
    More,
    /// The value is complete.
    Done(u64),
    /// The varint is longer than 64 bits.
    Overflow,
}

/// Decodes an unsigned varint one byte at a time, for sources that are not
/// byte slices (a bit stream).
#[derive(Default)]
pub(crate) struct UvarintDecoder {
    value: u64,
    shift: u32,
    count: usize,
}

impl UvarintDecoder {
    /// Feeds the next byte.
    #[inline]
    pub(crate) fn push(&mut self, b: u8) -> VarintStep {
        if self.count == MAX_VARINT_LEN64 {
            return VarintStep::Overflow;
        }
        self.count += 1;
        if b < 0x80 {
            if self.count == MAX_VARINT_LEN64 && b > 1 {
                return VarintStep::Overflow;
            }
            return VarintStep::Done(self.value | (u64::from(b) << self.shift));
        }
        if self.count == MAX_VARINT_LEN64 {
            return VarintStep::Overflow;
        }
        self.value |= u64::from(b & 0x7f) << self.shift;
        self.shift += 7;
        VarintStep::More
    }
}

/// Reads an unsigned varint from the start of `b`: the value and the bytes
/// it used, or `None` if `b` ends inside it or it overflows 64 bits.
#[inline]
pub(crate) fn read_uvarint_slice(b: &[u8]) -> Option<(u64, usize)> {
    let mut d = UvarintDecoder::default();
    for (i, &byte) in b.iter().enumerate() {
        match d.push(byte) {
            VarintStep::More => {}
            VarintStep::Done(v) => return Some((v, i + 1)),
            VarintStep::Overflow => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        // Values and bytes as Go's binary.PutUvarint/PutVarint produce them.
        let mut buf = [0u8; MAX_VARINT_LEN64];
        for (v, want) in [
            (0u64, &[0x00][..]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (1000, &[0xe8, 0x07]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let n = put_uvarint(&mut buf, v);
            assert_eq!(&buf[..n], want, "uvarint {v}");
        }
        for (v, want) in [(0i64, 0u64), (-1, 1), (1, 2), (-2, 3), (i64::MIN, u64::MAX)] {
            assert_eq!(zigzag(v), want, "zigzag {v}");
        }
    }

    #[test]
    fn rejects_overflow_and_truncation() {
        let eleven = [0x80u8; 11];
        assert_eq!(read_uvarint_slice(&eleven), None);
        let mut ten_big = [0xffu8; 10];
        ten_big[9] = 0x02;
        assert_eq!(read_uvarint_slice(&ten_big), None);
        assert_eq!(read_uvarint_slice(&[0x80, 0x80]), None);
        assert_eq!(read_uvarint_slice(&[]), None);
    }

    proptest! {
        #[test]
        fn round_trip(v in any::<u64>(), s in any::<i64>(), tail in proptest::collection::vec(any::<u8>(), 0..4)) {
            let mut buf = [0u8; MAX_VARINT_LEN64];
            let n = put_uvarint(&mut buf, v);
            let mut bytes = buf[..n].to_vec();
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(read_uvarint_slice(&bytes), Some((v, n)));
            prop_assert_eq!(unzigzag(zigzag(s)), s);
        }
    }
}
