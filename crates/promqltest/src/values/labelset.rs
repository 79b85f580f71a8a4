//! The label-set part of a series line: PromQL selector syntax with `=`
//! only (`name{a="b"}`, `{"quoted.name", "l.x"="v"}`, `{}`), and the string
//! literals it uses (`"…"`/`'…'` with Go escapes, `` `…` `` raw).

use model::{Labels, LabelsBuilder, METRIC_NAME};

/// Parses the label set at the start of `s`; returns it and the byte offset
/// just after it. Errors carry a message and a 0-based byte offset.
pub(crate) fn parse_label_set(s: &str) -> Result<(Labels, usize), (String, usize)> {
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    let mut lb = LabelsBuilder::new();
    let mut any = false;
    if b.get(i).is_some_and(|&c| is_ident_start(c, true)) {
        let end = ident_end(b, i, true);
        lb.set(METRIC_NAME, &s[i..end]);
        i = end;
        any = true;
    }
    if b.get(i) == Some(&b'{') {
        i += 1;
        any = true;
        loop {
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b'}') => {
                    i += 1;
                    break;
                }
                None => return Err(("unclosed label set".into(), i)),
                _ => {}
            }
            let (name, quoted) = match b.get(i) {
                Some(b'"' | b'\'' | b'`') => {
                    let (v, end) = unquote_prefix(s, i)?;
                    i = end;
                    (v, true)
                }
                Some(&c) if is_ident_start(c, false) => {
                    let end = ident_end(b, i, false);
                    let v = s[i..end].to_owned();
                    i = end;
                    (v, false)
                }
                _ => return Err(("expected label name".into(), i)),
            };
            i = skip_ws(b, i);
            if b.get(i) == Some(&b'=') {
                i = skip_ws(b, i + 1);
                if !matches!(b.get(i), Some(b'"' | b'\'' | b'`')) {
                    return Err(("expected quoted label value".into(), i));
                }
                let (v, end) = unquote_prefix(s, i)?;
                lb.set(&name, &v);
                i = skip_ws(b, end);
            } else if quoted {
                // A bare quoted string inside the braces is the metric name.
                lb.set(METRIC_NAME, &name);
            } else {
                return Err((format!("expected '=' after label name {name:?}"), i));
            }
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {}
                _ => return Err(("expected ',' or '}' in label set".into(), i)),
            }
        }
    }
    if !any {
        return Err(("expected metric name or '{'".into(), i));
    }
    Ok((lb.build(), i))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

fn is_ident_start(c: u8, colon: bool) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || (colon && c == b':')
}

fn ident_end(b: &[u8], mut i: usize, colon: bool) -> usize {
    while b
        .get(i)
        .is_some_and(|&c| is_ident_start(c, colon) || c.is_ascii_digit())
    {
        i += 1;
    }
    i
}

/// Unquotes the PromQL string literal starting at byte `start` of `s`;
/// returns the value and the offset after the closing quote.
pub(crate) fn unquote_prefix(s: &str, start: usize) -> Result<(String, usize), (String, usize)> {
    let b = s.as_bytes();
    let Some(&q) = b.get(start) else {
        return Err(("expected a quoted string".into(), start));
    };
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    loop {
        let Some(&c) = b.get(i) else {
            return Err(("unterminated string".into(), start));
        };
        i += 1;
        if c == q {
            break;
        }
        if c != b'\\' || q == b'`' {
            out.push(c);
            continue;
        }
        let Some(&e) = b.get(i) else {
            return Err(("unterminated escape".into(), i));
        };
        i += 1;
        let simple = match e {
            b'a' => Some(7),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            b'"' if q == b'"' => Some(b'"'),
            b'\'' if q == b'\'' => Some(b'\''),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            continue;
        }
        let (radix, len) = match e {
            b'x' => (16, 2),
            b'u' => (16, 4),
            b'U' => (16, 8),
            b'0'..=b'7' => (8, 3),
            _ => return Err((format!("unknown escape \\{}", e as char), i - 2)),
        };
        let digits_start = if radix == 8 { i - 1 } else { i };
        let digits = s
            .get(digits_start..digits_start + len)
            .ok_or_else(|| ("short escape".to_owned(), i - 2))?;
        let n = u32::from_str_radix(digits, radix).map_err(|_| ("bad escape".to_owned(), i - 2))?;
        i = digits_start + len;
        if e == b'x' || radix == 8 {
            // Go's \xNN and \NNN denote single bytes, not code points.
            let byte = u8::try_from(n).map_err(|_| ("octal escape above 255".to_owned(), i))?;
            out.push(byte);
        } else {
            let ch = char::from_u32(n).ok_or_else(|| ("invalid code point".to_owned(), i))?;
            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
    let v = String::from_utf8(out).map_err(|_| ("string is not valid UTF-8".to_owned(), start))?;
    Ok((v, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, want: &str, rest: &str) {
        let (l, end) = parse_label_set(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(format!("{l}"), want, "{input}");
        assert_eq!(&input[end..], rest, "{input}");
    }

    fn bad(input: &str) {
        assert!(parse_label_set(input).is_err(), "{input} should fail");
    }

    #[test]
    fn label_sets() {
        check("foo 1 2", "{__name__=\"foo\"}", " 1 2");
        check("a:b:c{x=\"y\"} 1", "{__name__=\"a:b:c\", x=\"y\"}", " 1");
        check("{} 1", "{}", " 1");
        check("sum{by='x',} 1", "{__name__=\"sum\", by=\"x\"}", " 1");
        check("{l=\"v\"}", "{l=\"v\"}", "");
        check(
            "{\"http.requests\", \"service.name\"=\"api\"} 3",
            "{__name__=\"http.requests\", service.name=\"api\"}",
            " 3",
        );
        check("m{a=`r\\aw`}", "{__name__=\"m\", a=\"r\\\\aw\"}", "");
        check(
            "m{a=\"\\x41\\101\\u00e9\\n\"}",
            "{__name__=\"m\", a=\"AAé\\n\"}",
            "",
        );
        check(
            "m{b=\"2\", a=\"1\"}",
            "{__name__=\"m\", a=\"1\", b=\"2\"}",
            "",
        );
        bad("1 2");
        bad("m{a=\"1\"");
        bad("m{a=1}");
        bad("m{a}");
        bad("m{a=\"\\xc5\"}");
        bad("m{a=\"\\q\"}");
    }
}
