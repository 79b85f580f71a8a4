//! Numbers and times in annotation texts, as Go's `fmt` and `time` print
//! them (Prometheus formats its annotations with `%g`, `%.2g` and RFC 3339).

/// `v` as Go's `fmt` prints it with `%g` (`prec` = None) or `%.<prec>g`:
/// shortest (or `prec`) significant digits, exponent form when the decimal
/// exponent is below -4 or at least the precision (6 for shortest), and
/// `+Inf`, `-Inf`, `NaN`.
pub(super) fn go_g(v: f64, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits and `{:.Ne}`
    // rounds half to even on the exact value, as Go's decimal does.
    let sci = match prec {
        None => format!("{:e}", v.abs()),
        Some(p) => format!("{:.*e}", p.max(1) - 1, v.abs()),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    let nd = digits.len() as i64;
    let dp = if digits == [b'0'] { 1 } else { exp + 1 };
    let mut p = prec.map_or(nd, |p| p.max(1) as i64);
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if prec.is_none() {
        eprec = 6;
    }
    let digit = |i: i64| -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or('0', |&d| d as char)
    };
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    let e = dp - 1;
    if e < -4 || e >= eprec {
        p = p.min(nd);
        out.push(digit(0));
        if p > 1 {
            out.push('.');
            (1..p).for_each(|i| out.push(digit(i)));
        }
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        let ea = e.unsigned_abs();
        if ea < 10 {
            out.push('0');
        }
        out.push_str(&ea.to_string());
    } else {
        if p > dp {
            p = nd;
        }
        if dp > 0 {
            (0..dp).for_each(|i| out.push(digit(i)));
        } else {
            out.push('0');
        }
        let frac = (p - dp).max(0);
        if frac > 0 {
            out.push('.');
            (0..frac).for_each(|i| out.push(digit(dp + i)));
        }
    }
    out
}

/// A millisecond time as Go's `time.Unix(ms/1000, 0).UTC()` in RFC 3339.
pub(super) fn rfc3339(ms: i64) -> String {
    // Go's integer division truncates towards zero.
    let secs = ms / 1000;
    let (y, mo, d, h, mi, _, _, _) = crate::engine::functions::civil(secs);
    let s = secs.rem_euclid(60);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_matches_fmt() {
        // What Go's fmt.Sprintf("%g") / ("%.2g") print for these values.
        let cases: &[(f64, Option<usize>, &str)] = &[
            (2.0, None, "2"),
            (-0.5, None, "-0.5"),
            (1.1, None, "1.1"),
            (100000.0, None, "100000"),
            (1_000_000.0, None, "1e+06"),
            (1.5e-5, None, "1.5e-05"),
            (0.0001, None, "0.0001"),
            (0.0, None, "0"),
            (f64::NAN, None, "NaN"),
            (f64::INFINITY, None, "+Inf"),
            (f64::NEG_INFINITY, None, "-Inf"),
            (0.5, Some(2), "0.5"),
            (1.0, Some(2), "1"),
            (10.0, Some(2), "10"),
            (100.0, Some(2), "1e+02"),
            (123.0, Some(2), "1.2e+02"),
            (0.125, Some(2), "0.12"),
            (0.25, Some(2), "0.25"),
            (0.00001, Some(2), "1e-05"),
            (2.0 / 3.0, Some(2), "0.67"),
        ];
        for &(v, p, want) in cases {
            assert_eq!(go_g(v, p), want, "{v} {p:?}");
        }
    }

    #[test]
    fn rfc3339_truncates_towards_zero() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(3_000_999), "1970-01-01T00:50:00Z");
        assert_eq!(rfc3339(-1_500), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
