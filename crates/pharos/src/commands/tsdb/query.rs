//! `pharos tsdb query`: evaluates a PromQL expression over a data directory
//! opened read-only (its blocks and the head replayed from its WAL) and
//! prints the result as Prometheus's `/api/v1/query` or `/api/v1/query_range`
//! answer: `{"status":"success","data":{"resultType":…,"result":…}}`.
//!
//! Numbers are written as that API writes them: sample values as strings in
//! Go's shortest `'f'` form (`"1.5"`, `"+Inf"`, `"NaN"`), timestamps as Unix
//! seconds with the milliseconds after a point only when there are any
//! (`1700000000`, `1700000000.015`).

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use promql::engine::{AnnotationKind, Engine, EngineOptions, QueryResult, Value};
use tsdb::readonly::ReadOnlyDb;

/// When to evaluate: one instant, or a range of steps.
#[derive(Clone, Copy, Debug)]
pub(super) enum When {
    /// An instant query at this time, ms.
    Instant(i64),
    /// A range query, ms.
    Range { start: i64, end: i64, step: i64 },
}

pub(super) fn run(db_path: &Path, expr: &str, when: When) -> anyhow::Result<()> {
    let parsed = promql::parse(expr).map_err(|e| anyhow::anyhow!("cannot parse {expr:?}: {e}"))?;
    let mut db =
        ReadOnlyDb::open(db_path).with_context(|| format!("cannot open {}", db_path.display()))?;
    db.load_head()
        .with_context(|| format!("cannot read the WAL of {}", db_path.display()))?;
    let engine = Engine::new(EngineOptions::default());
    let result = match when {
        When::Instant(t) => engine.instant_query(&db, &parsed, t),
        When::Range { start, end, step } => engine.range_query(&db, &parsed, start, end, step),
    }
    .with_context(|| format!("cannot evaluate {expr:?}"))?;
    // `write_result` hands over large pieces: no second buffer.
    let mut out = std::io::stdout().lock();
    let t = match when {
        When::Instant(t) => t,
        When::Range { .. } => 0,
    };
    write_result(&mut out, &result, t, expr)?;
    out.flush()?;
    Ok(())
}

/// Writes `r` as the API's JSON answer; `t` is the evaluation time of an
/// instant query (scalars and strings carry it); `query` is the text the
/// annotations' positions refer to.
fn write_result(out: &mut impl Write, r: &QueryResult, t: i64, query: &str) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(br#"{"status":"success","data":{"resultType":"#);
    match &r.value {
        Value::Scalar(v) => {
            buf.extend_from_slice(br#""scalar","result":"#);
            point(&mut buf, t, *v);
        }
        Value::String(s) => {
            buf.extend_from_slice(br#""string","result":["#);
            timestamp(&mut buf, t);
            buf.push(b',');
            json_string(&mut buf, s);
            buf.push(b']');
        }
        Value::Vector(v) => {
            buf.extend_from_slice(br#""vector","result":["#);
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                metric(&mut buf, &s.labels);
                buf.extend_from_slice(br#","value":"#);
                point(&mut buf, t, s.value);
                buf.push(b'}');
            }
            buf.push(b']');
        }
        Value::Matrix(m) => {
            buf.extend_from_slice(br#""matrix","result":["#);
            for (i, s) in m.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                metric(&mut buf, &s.labels);
                buf.extend_from_slice(br#","values":["#);
                for (j, &(pt, pv)) in s.points.iter().enumerate() {
                    if j > 0 {
                        buf.push(b',');
                    }
                    point(&mut buf, pt, pv);
                    if buf.len() > 1 << 16 {
                        out.write_all(&buf)?;
                        buf.clear();
                    }
                }
                buf.extend_from_slice(b"]}");
            }
            buf.push(b']');
        }
    }
    buf.extend_from_slice(b"}");
    // Prometheus puts warnings and infos after `data`, in the outer object.
    for (key, kind) in [
        ("warnings", AnnotationKind::Warning),
        ("infos", AnnotationKind::Info),
    ] {
        let mut first = true;
        for a in r.annotations.iter().filter(|a| a.kind == kind) {
            buf.extend_from_slice(if first { b",\"" } else { b"," });
            if first {
                buf.extend_from_slice(key.as_bytes());
                buf.extend_from_slice(b"\":[");
                first = false;
            }
            json_string(&mut buf, &a.render(query));
        }
        if !first {
            buf.push(b']');
        }
    }
    buf.extend_from_slice(b"}\n");
    out.write_all(&buf)
}

/// `{"metric":{"name":"value",…}` (the object is left open).
fn metric(buf: &mut Vec<u8>, labels: &model::Labels) {
    buf.extend_from_slice(br#"{"metric":{"#);
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        json_string(buf, l.name);
        buf.push(b':');
        json_string(buf, l.value);
    }
    buf.push(b'}');
}

/// `[<seconds>,"<value>"]`.
fn point(buf: &mut Vec<u8>, t: i64, v: f64) {
    buf.push(b'[');
    timestamp(buf, t);
    buf.extend_from_slice(b",\"");
    go_float_f(buf, v);
    buf.extend_from_slice(b"\"]");
}

/// Milliseconds as seconds: the integer part, then `.mmm` only when the
/// milliseconds are not zero (the API writes 3 digits, zeros kept).
fn timestamp(buf: &mut Vec<u8>, t: i64) {
    let abs = t.unsigned_abs();
    if t < 0 {
        buf.push(b'-');
    }
    decimal(buf, abs / 1000);
    let ms = abs % 1000;
    if ms != 0 {
        buf.extend_from_slice(&[
            b'.',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
    }
}

/// `n` in decimal; `write!` costs more than the digits here, where a
/// result has millions of timestamps.
fn decimal(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`, with the API's spellings of
/// the infinities: the shortest digits that read back as `v`, never an
/// exponent. ryu finds the same shortest digits, faster than `Display`, but
/// writes `1.0` and switches to exponents for large and small magnitudes;
/// those cases are fixed up or left to `Display` (also shortest, no
/// exponent).
fn go_float_f(buf: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        buf.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        buf.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else {
        let mut r = ryu::Buffer::new();
        let s = r.format_finite(v);
        // ryu writes plain decimals for magnitudes in [1e-5, 1e16); only
        // near and beyond those bounds is there an exponent to look for.
        let a = v.abs();
        let plain = a == 0.0 || (1e-4..1e15).contains(&a);
        if !plain && s.as_bytes().contains(&b'e') {
            let _ = write!(buf, "{v}");
        } else {
            buf.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
        }
    }
}

/// A JSON string escaped as Go's encoder escapes it (HTML-significant
/// characters and the JavaScript line separators included).
fn json_string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

/// A time given as Unix seconds (fractions allowed), in ms.
pub(super) fn parse_time_secs(s: &str) -> Result<i64, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("cannot parse {s:?} as a Unix time in seconds"))?;
    let ms = (secs * 1000.0).round();
    if !ms.is_finite() || ms.abs() > 9.2e18 {
        return Err(format!("time {s:?} is out of range"));
    }
    Ok(ms as i64)
}

/// A step given as a duration (`15s`, `1m`) or as seconds (`15`, `0.5`), in ms.
pub(super) fn parse_step(s: &str) -> Result<i64, String> {
    if let Ok(ms) = parse_time_secs(s) {
        return Ok(ms);
    }
    model::parse_duration(s)
        .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
        .map_err(|e| format!("cannot parse step {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;
    use promql::engine::{Sample, Series};

    fn json(v: Value, t: i64) -> String {
        let mut out = Vec::new();
        let r = QueryResult {
            value: v,
            annotations: Vec::new(),
            stats: Default::default(),
        };
        write_result(&mut out, &r, t, "").expect("write");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn warnings_and_infos_follow_data() {
        let q = "rate(foo[5m])";
        let e = promql::parse(q).expect("parse");
        let db = storage::MemStorage::new();
        {
            use storage::Appendable;
            let mut app = db.appender();
            let l = Labels::from_pairs(&[("__name__", "foo")]);
            for i in 0..5 {
                app.append(None, &l, i * 60_000, i as f64).expect("append");
            }
            app.commit().expect("commit");
        }
        let r = Engine::default()
            .instant_query(&db, &e, 240_000)
            .expect("query");
        let mut out = Vec::new();
        write_result(&mut out, &r, 240_000, q).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.trim_end().ends_with(
                r#"]},"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)"]}"#
            ),
            "{text}"
        );
    }

    #[test]
    fn matrix_as_the_api_writes_it() {
        let m = Value::Matrix(vec![Series {
            labels: Labels::from_pairs(&[("job", "a<b"), ("__name__", "up")]),
            points: vec![(1_000, 1.0), (1_015, 0.1), (-2_500, f64::INFINITY)],
        }]);
        assert_eq!(
            json(m, 0),
            concat!(
                r#"{"status":"success","data":{"resultType":"matrix","result":["#,
                r#"{"metric":{"__name__":"up","job":"a\u003cb"},"#,
                r#""values":[[1,"1"],[1.015,"0.1"],[-2.500,"+Inf"]]}]}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn vector_scalar_and_empty() {
        let v = Value::Vector(vec![Sample {
            labels: Labels::empty(),
            value: 1e21,
        }]);
        assert_eq!(
            json(v, 5_000),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[5,\"1000000000000000000000\"]}]}}\n"
        );
        assert_eq!(
            json(Value::Scalar(f64::NAN), 1),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[0.001,\"NaN\"]}}\n"
        );
        assert_eq!(
            json(Value::Matrix(Vec::new()), 0),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}\n"
        );
    }

    #[test]
    fn floats_as_go_formats_them() {
        let f = |v: f64| {
            let mut b = Vec::new();
            go_float_f(&mut b, v);
            String::from_utf8(b).expect("utf8")
        };
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(2.4826711993956363), "2.4826711993956363");
        assert_eq!(f(1e21), "1000000000000000000000");
        assert_eq!(f(1.5e-7), "0.00000015");
        assert_eq!(f(123456789.125), "123456789.125");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
        // `Display` is the slow reference: shortest digits, no exponent.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for e in -330..310 {
            for _ in 0..20 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let m = 1.0 + (x % 1_000_000) as f64 / 1e6;
                let v = m * 10f64.powi(e) * if x % 3 == 0 { -1.0 } else { 1.0 };
                if v.is_finite() {
                    assert_eq!(f(v), format!("{v}"), "{v:e}");
                }
            }
        }
    }

    #[test]
    fn times_and_steps() {
        assert_eq!(parse_time_secs("1700000000.5"), Ok(1_700_000_000_500));
        assert_eq!(parse_step("15s"), Ok(15_000));
        assert_eq!(parse_step("0.25"), Ok(250));
        assert!(parse_time_secs("soon").is_err());
    }
}
