//! Samples, timestamps and the stale marker.

/// Milliseconds since the Unix epoch, as Prometheus stores time.
pub type Timestamp = i64;

/// The bit pattern Prometheus writes as a staleness marker: a signalling NaN
/// that no arithmetic produces (`value.StaleNaN`, `0x7ff0000000000002`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`. Compare with [`is_stale_nan`], never
/// with `==` (NaN is unequal to itself) or `is_nan` (any NaN is not stale).
pub const STALE_NAN: f64 = f64::from_bits(STALE_NAN_BITS);

/// The NaN Prometheus writes for a literal `NaN` value (`value.NormalNaN`).
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// Whether `v` is exactly the staleness marker.
#[inline]
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample: a value at a millisecond timestamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Timestamp in milliseconds since the epoch.
    pub t: Timestamp,
    /// The value; may be [`STALE_NAN`].
    pub v: f64,
}

impl Sample {
    /// A sample at `t` with value `v`.
    pub fn new(t: Timestamp, v: f64) -> Sample {
        Sample { t, v }
    }

    /// Whether this sample is a staleness marker.
    pub fn is_stale(&self) -> bool {
        is_stale_nan(self.v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_nan_is_distinguished() {
        assert!(is_stale_nan(STALE_NAN));
        assert!(STALE_NAN.is_nan());
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(f64::from_bits(NORMAL_NAN_BITS)));
        assert!(!is_stale_nan(1.0));
    }
}
