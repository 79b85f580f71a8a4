//! Prometheus duration syntax: `1y2w3d4h5m6s7ms`, units in that order, each
//! at most once, integers only; `0` alone is allowed. A year is 365 days and
//! a week 7 days, as in Prometheus's `model.ParseDuration`.

use std::time::Duration;

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not of the form `1y2w3d4h5m6s7ms`.
    #[error("not a valid duration string: {0:?}")]
    Invalid(String),
    /// Too large for a 64-bit count of milliseconds.
    #[error("duration out of range: {0:?}")]
    Overflow(String),
}

/// Parses a Prometheus duration such as `1h30m` or `15d`.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(s.to_owned());
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut next_unit = 0; // index into UNITS: units must appear in order
    let mut total: u64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(invalid());
        }
        let n: u64 = s[start..i]
            .parse()
            .map_err(|_| DurationError::Overflow(s.to_owned()))?;
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(invalid)?;
        let mult = UNITS[next_unit + pos].1;
        next_unit += pos + 1;
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .filter(|v| *v <= i64::MAX as u64)
            .ok_or_else(|| DurationError::Overflow(s.to_owned()))?;
    }
    Ok(Duration::from_millis(total))
}

/// Formats a duration as Prometheus prints it: largest units first, years
/// and weeks only when they divide evenly (so 90 days prints `90d`, not
/// `12w6d`), `0s` for zero. Sub-millisecond parts are dropped.
pub fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis().min(u64::MAX as u128) as u64;
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (i, (unit, mult)) in UNITS.iter().enumerate() {
        let exact_only = i < 2;
        if exact_only && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            out.push_str(&v.to_string());
            out.push_str(unit);
            ms -= v * mult;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(s: &str) -> Result<u128, DurationError> {
        parse_duration(s).map(|d| d.as_millis())
    }

    #[test]
    fn parse_table() {
        let h = 3_600_000u128;
        for (input, want) in [
            ("0", Some(0)),
            ("0s", Some(0)),
            ("1h30m", Some(h + 30 * 60_000)),
            ("15d", Some(15 * 24 * h)),
            ("1y", Some(365 * 24 * h)),
            ("2w", Some(14 * 24 * h)),
            (
                "1y2w3d4h5m6s7ms",
                Some(((((365 + 17) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7),
            ),
            ("500ms", Some(500)),
            ("", None),
            ("1", None),
            ("h", None),
            ("1.5h", None),
            ("-1h", None),
            ("1m1h", None),
            ("1h1h", None),
            ("1x", None),
            (" 1h", None),
        ] {
            assert_eq!(ms(input).ok(), want, "{input:?}");
        }
        assert!(matches!(
            ms("99999999999999999999y"),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(ms("9999999999y"), Err(DurationError::Overflow(_))));
    }

    #[test]
    fn format_table() {
        for (input, want) in [
            ("0", "0s"),
            ("90d", "90d"),
            ("14d", "2w"),
            ("365d", "1y"),
            ("1h30m", "1h30m"),
            ("1500ms", "1s500ms"),
            ("25h", "1d1h"),
        ] {
            assert_eq!(
                format_duration(parse_duration(input).unwrap()),
                want,
                "{input:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(ms in 0u64..(1u64 << 50)) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }
}
