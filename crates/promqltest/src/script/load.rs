//! `load <interval>` / `load_with_nhcb <interval>` blocks, including the
//! start-timestamp lines `metric{…}@st <offsets>` that precede a series line.

use std::sync::LazyLock;

use model::Labels;
use regex::Regex;

use super::{parse_millis, Block};
use crate::values::{parse_label_set, parse_values, Value};

/// A `load` block.
#[derive(Clone, Debug)]
pub struct Load {
    /// Line of the header.
    pub line: usize,
    /// The interval between value positions, in milliseconds.
    pub interval_ms: i64,
    /// `load_with_nhcb`: classic histogram series also become NHCB series.
    pub with_nhcb: bool,
    /// The series lines in file order.
    pub series: Vec<LoadSeries>,
}

/// One series line of a `load` block.
#[derive(Clone, Debug)]
pub struct LoadSeries {
    /// Line of the series (not of its `@st` line).
    pub line: usize,
    /// The label set.
    pub labels: Labels,
    /// Values by position; position k lands at k × interval.
    pub values: Vec<Option<Value>>,
    /// Start-timestamp offsets from an `@st` line, one per position
    /// (`None` = unknown start), as many as `values`.
    pub start_offsets: Option<Vec<Option<i64>>>,
}

static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^load(_with_nhcb)?\s+(.+)$").expect("BUG: load header regex"));

/// Parses the block at `b`; returns the load and the index of the next line.
pub(super) fn parse_load(b: &Block<'_>) -> Result<(Load, usize), (usize, String)> {
    let line = b.line_no();
    let caps = HEADER
        .captures(b.header())
        .ok_or_else(|| (line, format!("invalid load command {:?}", b.header())))?;
    let interval = caps.get(2).map_or("", |m| m.as_str());
    let interval_ms =
        parse_millis(interval).map_err(|e| (line, format!("invalid load interval: {e}")))?;
    let mut load = Load {
        line,
        interval_ms,
        with_nhcb: caps.get(1).is_some(),
        series: Vec::new(),
    };
    let mut pending_st: Option<(usize, Labels, Vec<Option<i64>>)> = None;
    for (i, text) in b.body() {
        let at = |m: String| (i + 1, m);
        let (labels, end) =
            parse_label_set(text).map_err(|(m, pos)| at(format!("{m} at column {}", pos + 1)))?;
        let rest = &text[end..];
        if let Some(st) = rest
            .strip_prefix("@st")
            .filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
        {
            if pending_st.is_some() {
                return Err(at("@st line follows another @st line".into()));
            }
            let offsets = parse_start_offsets(st).map_err(at)?;
            pending_st = Some((i + 1, labels, offsets));
            continue;
        }
        let values = parse_values(rest).map_err(at)?;
        let start_offsets = match pending_st.take() {
            None => None,
            Some((_, st_labels, offs)) => {
                if st_labels != labels {
                    return Err(at(format!(
                        "@st line is for {st_labels}, the series line for {labels}"
                    )));
                }
                if offs.len() != values.len() {
                    return Err(at(format!(
                        "@st line has {} positions, the series line {}",
                        offs.len(),
                        values.len()
                    )));
                }
                Some(offs)
            }
        };
        load.series.push(LoadSeries {
            line: i + 1,
            labels,
            values,
            start_offsets,
        });
    }
    if let Some((st_line, _, _)) = pending_st {
        return Err((st_line, "@st line without a following series line".into()));
    }
    Ok((load, b.end()))
}

/// Expands the items of an `@st` line: `_`, `_xN`, `D`, `DxN`, `D+ExN`,
/// `D-ExN` with single-unit signed durations.
pub(crate) fn parse_start_offsets(s: &str) -> Result<Vec<Option<i64>>, String> {
    let mut out = Vec::new();
    for item in s.split_whitespace() {
        let bad = |why: &str| format!("invalid start-timestamp item {item:?}: {why}");
        if item == "_" {
            out.push(None);
            continue;
        }
        if let Some(n) = item.strip_prefix("_x") {
            let n: usize = n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad("bad count"))?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        let (d, rest) = signed_duration(item).ok_or_else(|| bad("expected a duration"))?;
        if rest.is_empty() {
            out.push(Some(d));
            continue;
        }
        let (step, rest) = match rest.as_bytes()[0] {
            b'+' | b'-' => {
                let (e, r) =
                    unsigned_duration(&rest[1..]).ok_or_else(|| bad("expected a step duration"))?;
                (if rest.starts_with('-') { -e } else { e }, r)
            }
            _ => (0, rest),
        };
        let n: usize = rest
            .strip_prefix('x')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad("expected xN"))?;
        let mut v = d;
        for k in 0..=n {
            if k > 0 {
                v += step;
            }
            out.push(Some(v));
        }
    }
    Ok(out)
}

fn signed_duration(s: &str) -> Option<(i64, &str)> {
    match s.as_bytes().first()? {
        b'-' => unsigned_duration(&s[1..]).map(|(d, r)| (-d, r)),
        b'+' => unsigned_duration(&s[1..]),
        _ => unsigned_duration(s),
    }
}

/// Digits and one unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`), or a bare `0`.
fn unsigned_duration(s: &str) -> Option<(i64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: i64 = s[..digits].parse().ok()?;
    let rest = &s[digits..];
    const UNITS: [(&str, i64); 7] = [
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
        ("w", 604_800_000),
        ("y", 31_536_000_000),
    ];
    for (u, mult) in UNITS {
        if let Some(r) = rest.strip_prefix(u) {
            return Some((n.checked_mul(mult)?, r));
        }
    }
    (n == 0).then_some((0, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{Command, Script};

    fn check(input: &str, want: &str) {
        let got = match parse_start_offsets(input) {
            Ok(v) => v
                .iter()
                .map(|o| o.map_or("_".to_owned(), |d| d.to_string()))
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, want, "{input}");
    }

    #[test]
    fn start_offsets() {
        check(
            "_ _ -30s-1mx2 -1m-1mx2",
            "_ _ -30000 -90000 -150000 -60000 -120000 -180000",
        );
        check("_x3 0 -0ms 1ms", "_ _ _ 0 0 1");
        check("-59999msx1 1m+1sx2", "-59999 -59999 60000 61000 62000");
        check(
            "1m30s",
            "error: invalid start-timestamp item \"1m30s\": expected xN",
        );
        check(
            "_x0",
            "error: invalid start-timestamp item \"_x0\": bad count",
        );
        check(
            "abc",
            "error: invalid start-timestamp item \"abc\": expected a duration",
        );
    }

    fn load_of(text: &str) -> Result<Load, String> {
        let s = Script::parse("t.test", text).map_err(|e| e.to_string())?;
        match s.commands.into_iter().next() {
            Some(Command::Load(l)) => Ok(l),
            other => panic!("want a load, got {other:?}"),
        }
    }

    #[test]
    fn load_blocks() {
        let l = load_of("load_with_nhcb 5m\n m{a=\"1\"}@st _ -1s\n m{a=\"1\"} 1 2\n n 3").unwrap();
        assert_eq!(
            (l.line, l.interval_ms, l.with_nhcb, l.series.len()),
            (1, 300_000, true, 2)
        );
        assert_eq!(l.series[0].line, 3);
        assert_eq!(l.series[0].start_offsets, Some(vec![None, Some(-1000)]));
        assert_eq!(l.series[1].start_offsets, None);
        let e = |t: &str| load_of(t).unwrap_err();
        assert!(e("load 1m\n m@st 0\n n 1").contains("t.test:3: @st line is for"));
        assert!(e("load 1m\n m@st 0 0\n m 1").contains("t.test:3: @st line has 2 positions"));
        assert!(e("load 1m\n m@st 0").contains("t.test:2: @st line without"));
        assert!(e("load 1m30\n m 1").contains("t.test:1: invalid load interval"));
        assert!(e("load\n m 1").contains("t.test:1: invalid load command"));
        assert!(e("load 1m\n m 1 x").contains("t.test:2: invalid value"));
    }
}
