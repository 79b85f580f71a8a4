//! Writing floats as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, which
//! is how Prometheus's text encoder writes values: the shortest digits that
//! read back to the same `f64` (taken from `ryu`), in `%e` form (`1e+06`,
//! `1.5e-07`) when the decimal exponent is below -4 or at least 6, plain
//! decimal otherwise (`123456`, `0.0001`).

/// Appends `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, with
/// Prometheus's spelling of the specials: `+Inf`, `-Inf`, `NaN`.
pub fn format_go_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if v.is_sign_negative() {
        out.push(b'-');
    }
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    let mut buf = ryu::Buffer::new();
    let (digits, dp) = shortest_digits(buf.format_finite(v.abs()));
    let digits = digits.as_slice();
    // Go's 'g' picks %e when the exponent is below -4 or at least the
    // precision, and takes 6 as the precision when asked for the shortest.
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(e.to_string().as_bytes());
    } else if dp <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + dp.unsigned_abs() as usize, b'0');
        out.extend_from_slice(digits);
    } else {
        let dp = dp as usize;
        if dp >= digits.len() {
            out.extend_from_slice(digits);
            out.resize(out.len() + dp - digits.len(), b'0');
        } else {
            out.extend_from_slice(&digits[..dp]);
            out.push(b'.');
            out.extend_from_slice(&digits[dp..]);
        }
    }
}

/// Appends `v` as OpenMetrics writers do (`labels.FormatOpenMetricsFloat`):
/// Go's shortest form with `.0` added when it would otherwise read as an
/// integer.
pub fn format_openmetrics_float(out: &mut Vec<u8>, v: f64) {
    let start = out.len();
    format_go_float(out, v);
    if v.is_finite() && !out[start..].iter().any(|&c| c == b'.' || c == b'e') {
        out.extend_from_slice(b".0");
    }
}

/// The significant digits of ryu's output (no leading or trailing zeros)
/// and the position of the decimal point relative to them: the value is
/// `0.d1d2d3… × 10^dp`.
fn shortest_digits(s: &str) -> (Vec<u8>, i32) {
    let (mant, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let mut digits: Vec<u8> = Vec::with_capacity(int.len() + frac.len());
    digits.extend_from_slice(int.as_bytes());
    digits.extend_from_slice(frac.as_bytes());
    let mut dp = int.len() as i32 + exp;
    let lead = digits.iter().take_while(|&&c| c == b'0').count();
    digits.drain(..lead);
    dp -= lead as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        // Only zero has no significant digits; callers handle zero first.
        digits.push(b'0');
        dp = 1;
    }
    (digits, dp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::float::parse_value;

    fn go(v: f64) -> String {
        let mut out = Vec::new();
        format_go_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn om(v: f64) -> String {
        let mut out = Vec::new();
        format_openmetrics_float(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_like_go_g_shortest() {
        // Expected strings are what Go 1.22's strconv.FormatFloat(v,'g',-1,64) prints.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (12.5, "12.5"),
            (-3.25, "-3.25"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (2.5e+07, "2.5e+07"),
            (8.009312817000001, "8.009312817000001"),
        ];
        for &(v, want) in cases {
            assert_eq!(go(v), want, "formatting {v:e}");
        }
    }

    #[test]
    fn openmetrics_adds_point_zero() {
        assert_eq!(om(17.0), "17.0");
        assert_eq!(om(1e6), "1e+06");
        assert_eq!(om(0.5), "0.5");
        assert_eq!(om(f64::INFINITY), "+Inf");
        assert_eq!(om(f64::NAN), "NaN");
    }

    proptest::proptest! {
        #[test]
        fn format_reads_back(v: f64) {
            let mut out = Vec::new();
            format_go_float(&mut out, v);
            let back = parse_value(&out).unwrap();
            proptest::prop_assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
        }
    }
}
