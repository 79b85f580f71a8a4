//! The series notation of load and expected-result lines:
//! `<label set> <item> <item> …`, where an item expands to one or more value
//! positions: `5`, `NaN`, `-Inf`, `1x3` (four 1s), `0+10x5`, `10-2x3`, `_`
//! (no sample), `_x3` (three gaps), `stale` (the staleness marker) and
//! native histograms `{{…}}`, `{{…}}x3`, `{{A}}+{{B}}x3`.

mod histogram;
mod labelset;

pub use histogram::{Buckets, CounterResetHint, Histogram, CUSTOM_BUCKETS_SCHEMA};
pub(crate) use labelset::{parse_label_set, unquote_prefix};

use model::{Labels, STALE_NAN};

/// One sample value: a float or a native histogram.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A float (possibly the stale-NaN marker).
    Float(f64),
    /// A float histogram.
    Histogram(Box<Histogram>),
}

/// A parsed series line: the label set and one entry per position, `None`
/// where the notation leaves a gap (`_`).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesLine {
    /// The exact label set (`__name__` included).
    pub labels: Labels,
    /// The values by position; position k belongs to `start + k × step`.
    pub values: Vec<Option<Value>>,
}

/// Parses `metric{…} items…`; the error text names the problem.
pub fn parse_series_line(line: &str) -> Result<SeriesLine, String> {
    let (labels, end) =
        parse_label_set(line).map_err(|(m, pos)| format!("{m} at column {}", pos + 1))?;
    let values = parse_values(&line[end..])?;
    Ok(SeriesLine { labels, values })
}

/// Expands the value items of a series line into positions.
pub fn parse_values(s: &str) -> Result<Vec<Option<Value>>, String> {
    let mut out = Vec::new();
    for item in items(s)? {
        expand_item(item, &mut out)?;
    }
    Ok(out)
}

/// Splits on whitespace, keeping a histogram literal (which contains
/// spaces) with its `+{{…}}` and `xK` suffixes as one item.
fn items(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let mut end = 0;
        while rest[end..].starts_with("{{") {
            let close = rest[end..]
                .find("}}")
                .ok_or_else(|| format!("unclosed histogram literal in {rest:?}"))?;
            end += close + 2;
            if rest[end..].starts_with("+{{") || rest[end..].starts_with("-{{") {
                end += 1;
            }
        }
        end += rest[end..]
            .find(char::is_whitespace)
            .unwrap_or(rest.len() - end);
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

/// The most values one series line may expand to. The corpus's largest
/// repetition is 10,000; a bound keeps a typo like `0+1x6666666666` from
/// exhausting memory (found by fuzzing) and gives it a clear error instead.
const MAX_VALUES: usize = 100_000;

/// Parses the `K` of `xK`, refusing counts that would take the line (with
/// `have` values so far) over [`MAX_VALUES`].
fn repeat_count(text: &str, have: usize) -> Result<usize, String> {
    let k: usize = text
        .parse()
        .map_err(|_| "repetition count is not an unsigned integer".to_owned())?;
    if k.saturating_add(have) >= MAX_VALUES {
        return Err(format!(
            "repetition count {k} takes the line over {MAX_VALUES} values"
        ));
    }
    Ok(k)
}

fn expand_item(item: &str, out: &mut Vec<Option<Value>>) -> Result<(), String> {
    let bad = |why: &str| format!("invalid value {item:?}: {why}");
    if item == "stale" {
        out.push(Some(Value::Float(STALE_NAN)));
        return Ok(());
    }
    if let Some(body) = item.strip_prefix("{{") {
        return expand_histogram(body, out).map_err(|e| bad(&e));
    }
    let (seq, times) = match item.find('x') {
        Some(x) => {
            let k = repeat_count(&item[x + 1..], out.len()).map_err(|e| bad(&e))?;
            (&item[..x], Some(k))
        }
        None => (item, None),
    };
    if seq == "_" {
        // `_xK` is K gaps, not K+1 as for values.
        out.extend(std::iter::repeat_n(None, times.unwrap_or(1)));
        return Ok(());
    }
    let Some(k) = times else {
        let v = parse_number(seq).ok_or_else(|| bad("not a number"))?;
        out.push(Some(Value::Float(v)));
        return Ok(());
    };
    let (start, step) = match split_sign(seq) {
        Some(op) => {
            let a = parse_number(&seq[..op]).ok_or_else(|| bad("start is not a number"))?;
            let b = parse_number(&seq[op + 1..]).ok_or_else(|| bad("step is not a number"))?;
            (a, if seq.as_bytes()[op] == b'-' { -b } else { b })
        }
        None => (parse_number(seq).ok_or_else(|| bad("not a number"))?, 0.0),
    };
    // Repeated addition, not start + k×step: the reference runner does so,
    // and e.g. 0+0.1x10 differs in the last bits.
    let mut v = start;
    out.push(Some(Value::Float(v)));
    for _ in 0..k {
        v += step;
        out.push(Some(Value::Float(v)));
    }
    Ok(())
}

/// The byte offset of the `+`/`-` between the start and the step of
/// `A+B`, skipping a leading sign and exponent signs.
fn split_sign(seq: &str) -> Option<usize> {
    let b = seq.as_bytes();
    (1..b.len()).find(|&i| matches!(b[i], b'+' | b'-') && !matches!(b[i - 1], b'e' | b'E'))
}

fn expand_histogram(body: &str, out: &mut Vec<Option<Value>>) -> Result<(), String> {
    let close = body.find("}}").ok_or("unclosed histogram literal")?;
    let first = histogram::parse_histogram_body(&body[..close])?;
    let rest = &body[close + 2..];
    if rest.is_empty() {
        out.push(Some(Value::Histogram(Box::new(first))));
        return Ok(());
    }
    let (step, sign, rest) = if let Some(r) = rest.strip_prefix("+{{").or(rest.strip_prefix("-{{"))
    {
        let sign = if rest.starts_with('-') { -1.0 } else { 1.0 };
        let close = r.find("}}").ok_or("unclosed histogram literal")?;
        let step = histogram::parse_histogram_body(&r[..close])?;
        (Some(step), sign, &r[close + 2..])
    } else {
        (None, 1.0, rest)
    };
    let k = repeat_count(
        rest.strip_prefix('x')
            .ok_or("expected xK after histogram literal")?,
        out.len(),
    )?;
    let mut cur = first;
    if let Some(step) = &step {
        // Every produced value takes the "hint specified" flag of the step.
        cur.hint_specified = step.hint_specified;
    }
    out.push(Some(Value::Histogram(Box::new(cur.clone()))));
    for _ in 0..k {
        if let Some(step) = &step {
            cur = cur.combine(step, sign)?;
        }
        out.push(Some(Value::Histogram(Box::new(cur.clone()))));
    }
    Ok(())
}

/// A number of the series notation: decimal with optional exponent and `_`
/// separators, leading `.` allowed, `Inf`/`NaN` in any case, optionally
/// signed. Hex is refused. (Go's lexer would read a leading-zero integer
/// such as `010` as octal; the corpus never writes one, so it reads as 10.)
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if body.eq_ignore_ascii_case("inf") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else {
        let ok = !body.is_empty()
            && body.as_bytes()[0] != b'_'
            && body.bytes().all(|c| {
                c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_')
            });
        if !ok {
            return None;
        }
        body.replace('_', "").parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// A bare number line in an eval body (a scalar expectation): Go integer
/// syntax with base prefixes (`0x1f`, `0o17`, `0b1`, legacy octal `010`) or a
/// Go float (`1e-6`, `Inf`, `+Inf`, `NaN`).
pub fn parse_scalar_line(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let int = |digits: &str, radix| {
        let d = digits.replace('_', "");
        (!d.is_empty()).then(|| i64::from_str_radix(&d, radix).ok().map(|v| v as f64))?
    };
    let v = if let Some(h) = lower.strip_prefix("0x") {
        int(h, 16)?
    } else if let Some(o) = lower.strip_prefix("0o") {
        int(o, 8)?
    } else if let Some(b) = lower.strip_prefix("0b") {
        int(b, 2)?
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        int(&lower[1..], 8)?
    } else if matches!(lower.as_str(), "inf" | "infinity" | "nan")
        || lower
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        lower.parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders positions compactly: floats with `{:?}`, `_` for gaps,
    /// `stale`, `H(count)` for histograms.
    fn render(vals: &[Option<Value>]) -> String {
        let parts: Vec<String> = vals
            .iter()
            .map(|v| match v {
                None => "_".into(),
                Some(Value::Float(f)) if model::is_stale_nan(*f) => "stale".into(),
                Some(Value::Float(f)) => format!("{f:?}"),
                Some(Value::Histogram(h)) => format!("H({:?})", h.count),
            })
            .collect();
        parts.join(" ")
    }

    fn check(input: &str, want: &str) {
        match parse_values(input) {
            Ok(v) => assert_eq!(render(&v), want, "{input}"),
            Err(e) => assert_eq!(format!("error: {e}"), want, "{input}"),
        }
    }

    fn bad(input: &str) {
        assert!(parse_values(input).is_err(), "{input} should fail");
    }

    #[test]
    fn float_items() {
        check("5", "5.0");
        check("NaN nan inF -Inf +0.5", "NaN NaN inf -inf 0.5");
        check("1e3 .5 1_000 -2", "1000.0 0.5 1000.0 -2.0");
        check("1x3", "1.0 1.0 1.0 1.0");
        check("0+10x5", "0.0 10.0 20.0 30.0 40.0 50.0");
        check("10-2x3", "10.0 8.0 6.0 4.0");
        check("-2+4x3", "-2.0 2.0 6.0 10.0");
        check("1-1x3", "1.0 0.0 -1.0 -2.0");
        check("1e-1+1e+0x1", "0.1 1.1");
        check("_ _x3 1", "_ _ _ _ 1.0");
        check("stale 1 stale", "stale 1.0 stale");
        check("0x0", "0.0");
        check("", "");
        check("\t1 \t 2 ", "1.0 2.0");
        check("0+0.1x3", "0.0 0.1 0.2 0.30000000000000004");
        check("Inf+1x1", "inf inf");
    }

    #[test]
    fn bad_float_items() {
        for input in [
            "stalex3",
            "0x1f",
            "5m",
            "1 x3",
            "1+2",
            "1x-1",
            "abc",
            "1#",
            "_1",
            "1+x2",
            "1xx",
            "0+10x666666666666610",
            "_x99999999999",
        ] {
            bad(input);
        }
    }

    #[test]
    fn histogram_items() {
        check("{{}}", "H(0.0)");
        check(
            "{{schema:0 sum:5 count:5 buckets:[1 2]}}x2",
            "H(5.0) H(5.0) H(5.0)",
        );
        check(
            "{{count:1}}+{{count:2}}x3 7",
            "H(1.0) H(3.0) H(5.0) H(7.0) 7.0",
        );
        check("{{count:9}}-{{count:2}}x1", "H(9.0) H(7.0)");
        check("0 50 {{count:2 buckets:[1 1 1]}} _", "0.0 50.0 H(2.0) _");
        bad("{{count:1");
        bad("{{count:1}}+{{count:2}}");
        bad("{{count:1}}y");
        bad("{{count:1 count:2}}");
    }

    #[test]
    fn hint_flag_of_sequences_comes_from_the_step() {
        let v = parse_values("{{counter_reset_hint:gauge}}+{{count:1}}x1").unwrap();
        let Some(Value::Histogram(h)) = &v[0] else {
            panic!("want histogram")
        };
        assert!(!h.hint_specified);
    }

    #[test]
    fn series_lines() {
        let l = parse_series_line("foo{a=\"b\"} 1 _ 3").unwrap();
        assert_eq!(
            l.labels,
            Labels::from_pairs(&[("__name__", "foo"), ("a", "b")])
        );
        assert_eq!(render(&l.values), "1.0 _ 3.0");
        assert!(parse_series_line("{a=b} 1").is_err());
    }

    #[test]
    fn scalar_lines() {
        for (input, want) in [
            ("1", Some(1.0)),
            ("-0.5", Some(-0.5)),
            ("0x1f", Some(31.0)),
            ("010", Some(8.0)),
            ("+Inf", Some(f64::INFINITY)),
            ("1e-6", Some(1e-6)),
            ("foo", None),
            ("{} 1", None),
            ("1 2", None),
        ] {
            assert_eq!(parse_scalar_line(input), want, "{input}");
        }
        assert!(parse_scalar_line("NaN").is_some_and(f64::is_nan));
    }
}
