//! Floats as the exposition formats spell them.
//!
//! Reading follows Prometheus, which reads values with Go's
//! `strconv.ParseFloat` but refuses `p`, `P` and `_` (so no hex floats and no
//! digit separators): an optional sign, digits with an optional point and
//! exponent, `Inf`/`Infinity` with an optional sign and `NaN` without one, all
//! case-insensitive. A finite literal too large for an `f64` is an error, as
//! Go reports `ErrRange`. Every NaN becomes Prometheus's "normal" NaN so the
//! stale marker can never be smuggled in through a scrape.
//!
//! Writing lives in `float/format.rs`.

use model::sample::NORMAL_NAN_BITS;

mod format;

pub use format::{format_go_float, format_openmetrics_float};

/// Why a float token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatError {
    /// `p`, `P` or `_`: syntax Go has but Prometheus refuses.
    Unsupported,
    /// Not a float at all.
    Syntax,
    /// A finite literal beyond the range of `f64`.
    Range,
}

impl FloatError {
    /// The reason as it appears in error messages.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            FloatError::Unsupported => "unsupported character in float",
            FloatError::Syntax => "invalid syntax",
            FloatError::Range => "value out of range",
        }
    }
}

/// Powers of ten that are exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Reads a sample value.
#[inline]
pub(crate) fn parse_value(b: &[u8]) -> Result<f64, FloatError> {
    match fast_decimal(b) {
        Some(v) => Ok(v),
        None => parse_general(b),
    }
}

/// Clinger's fast path: a decimal of at most 15 significant digits is an
/// exact integer `m` in an `f64`, and `m × 10^e` or `m / 10^e` for
/// `|e| <= 22` is one correctly rounded IEEE operation on exact operands,
/// hence exactly what a full parser returns. Most scraped values
/// (`0`, `460.07`, `1.6e+10`) take this path; anything else returns `None`.
#[inline]
fn fast_decimal(b: &[u8]) -> Option<f64> {
    let (neg, mut i) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut mant: u64 = 0;
    let mut digits = 0u32;
    let mut frac = 0i32;
    let mut seen_point = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                mant = mant * 10 + u64::from(c - b'0');
                digits += 1;
                frac += i32::from(seen_point);
                if digits > 15 {
                    return None;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    let mut exp = 0i32;
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let exp_neg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            if i - start >= 3 {
                return None;
            }
            exp = exp * 10 + i32::from(c - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        if exp_neg {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    let e = exp - frac;
    let m = mant as f64;
    let v = if e >= 0 {
        m * *POW10.get(e as usize)?
    } else {
        m / *POW10.get(e.unsigned_abs() as usize)?
    };
    Some(if neg { -v } else { v })
}

/// The full grammar, for everything the fast path does not take.
fn parse_general(b: &[u8]) -> Result<f64, FloatError> {
    if b.iter().any(|&c| matches!(c, b'p' | b'P' | b'_')) {
        return Err(FloatError::Unsupported);
    }
    let (neg, body) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Ok(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if body.eq_ignore_ascii_case(b"nan") {
        // Go's ParseFloat takes no sign before NaN.
        if body.len() != b.len() {
            return Err(FloatError::Syntax);
        }
        return Ok(f64::from_bits(NORMAL_NAN_BITS));
    }
    if !is_decimal(body) {
        return Err(FloatError::Syntax);
    }
    // `is_decimal` admits only ASCII, so this cannot fail; map rather than
    // unwrap all the same.
    let s = std::str::from_utf8(b).map_err(|_| FloatError::Syntax)?;
    let v: f64 = s.parse().map_err(|_| FloatError::Syntax)?;
    if v.is_infinite() {
        return Err(FloatError::Range);
    }
    Ok(v)
}

/// `digits [. digits*] | . digits` followed by an optional `e[+-]digits`.
fn is_decimal(b: &[u8]) -> bool {
    let mut i = 0;
    let int_digits = count_digits(&b[i..]);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(&b[i..]);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(&b[i..]);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

fn count_digits(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Reads an OpenMetrics timestamp (float seconds) as milliseconds, as
/// Prometheus does: `int64(seconds * 1000)`, truncating. For a decimal such
/// as `1.005` the product rounds to `1004.999…` and truncates to 1004 ms;
/// Prometheus stores that, so pharos stores that too — a backfill or scrape
/// must give the same samples as the reference.
pub(crate) fn parse_om_timestamp(b: &[u8]) -> Result<i64, FloatError> {
    let secs = parse_general(b)?;
    if !secs.is_finite() {
        return Err(FloatError::Range);
    }
    // `as` saturates where Go's conversion is undefined; both are garbage in.
    Ok((secs * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_syntax_minus_hex_and_underscores() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1", -1.0),
            ("+1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("1e-400", 0.0),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_value(s.as_bytes()), Ok(want), "parsing {s}");
        }
        let nan = parse_value(b"NaN").unwrap();
        assert_eq!(nan.to_bits(), NORMAL_NAN_BITS);
        assert_eq!(parse_value(b"nan").unwrap().to_bits(), NORMAL_NAN_BITS);
        let bad: &[(&str, FloatError)] = &[
            ("", FloatError::Syntax),
            ("true", FloatError::Syntax),
            (".", FloatError::Syntax),
            ("1e", FloatError::Syntax),
            ("-nan", FloatError::Syntax),
            ("1_2", FloatError::Unsupported),
            ("0x1p-3", FloatError::Unsupported),
            ("0x10", FloatError::Syntax),
            ("1e400", FloatError::Range),
            ("infinit", FloatError::Syntax),
            ("1\t2", FloatError::Syntax),
        ];
        for &(s, want) in bad {
            assert_eq!(parse_value(s.as_bytes()), Err(want), "parsing {s:?}");
        }
    }

    #[test]
    fn fast_path_agrees_with_the_full_parser() {
        let cases = [
            "0",
            "-0",
            "460.07",
            "1.6482816e+10",
            "3.2561e-05",
            "0.000124",
            "123456789012345",
            "1e22",
            "1e-22",
            "9.99999999999999e-7",
            "+5.5",
            "1.",
            ".5",
            "1e+1",
            "0.1",
            "2.5E3",
        ];
        for c in cases {
            let fast = fast_decimal(c.as_bytes()).expect(c);
            let full: f64 = c.parse().unwrap();
            assert_eq!(fast.to_bits(), full.to_bits(), "{c}");
        }
        for c in [
            "1234567890123456",
            "1e23",
            "1e-23",
            "1e",
            "1.2.3",
            "e5",
            "-",
            "1e1000",
            ".",
        ] {
            assert_eq!(fast_decimal(c.as_bytes()), None, "{c}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_matches_std(m in 0u64..1_000_000_000_000_000, point in 0usize..17, e in proptest::option::of(-30i32..30), neg: bool) {
            let digits = m.to_string();
            let point = point.min(digits.len());
            let mut s = format!("{}{}.{}", if neg { "-" } else { "" }, &digits[..point], &digits[point..]);
            if let Some(e) = e {
                s += &format!("e{e}");
            }
            let full: f64 = s.parse().unwrap();
            if let Some(fast) = fast_decimal(s.as_bytes()) {
                proptest::prop_assert_eq!(fast.to_bits(), full.to_bits(), "{}", s);
            }
            proptest::prop_assert_eq!(parse_value(s.as_bytes()).map(f64::to_bits), Ok(full.to_bits()));
        }

    }

    #[test]
    fn openmetrics_timestamps_in_millis() {
        assert_eq!(parse_om_timestamp(b"1520879607.789"), Ok(1520879607789));
        assert_eq!(parse_om_timestamp(b"1520879607.7899"), Ok(1520879607789));
        // Float arithmetic, truncated, as Prometheus: 1.005 * 1000 < 1005.
        assert_eq!(parse_om_timestamp(b"1.005"), Ok(1004));
        assert_eq!(parse_om_timestamp(b"1"), Ok(1000));
        assert_eq!(parse_om_timestamp(b"-1.5"), Ok(-1500));
        assert_eq!(parse_om_timestamp(b"1.5e3"), Ok(1_500_000));
        assert_eq!(parse_om_timestamp(b"NaN"), Err(FloatError::Range));
        assert_eq!(parse_om_timestamp(b"+Inf"), Err(FloatError::Range));
        assert_eq!(parse_om_timestamp(b"1x"), Err(FloatError::Syntax));
    }
}
