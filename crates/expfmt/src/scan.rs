//! Byte-level building blocks shared by both parsers: character classes,
//! quoted strings and unescaping.
//!
//! Both formats quote label values (and, since Prometheus 3, names that are
//! not legacy identifiers) as `"` … `"` with backslash escapes. The lexers of
//! Prometheus accept a backslash before any byte but a newline; only `\\`,
//! `\"` and `\n` mean something, and any other escape is kept verbatim
//! (backslash included) when the value is unescaped.

use std::borrow::Cow;

/// Classes of a byte, looked up in one table so the hot loops do one load
/// per byte.
const METRIC_START: u8 = 1;
const METRIC_CHAR: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CHAR: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        let mut v = 0;
        if alpha || b == b':' {
            v |= METRIC_START | METRIC_CHAR;
        }
        if digit {
            v |= METRIC_CHAR | LABEL_CHAR;
        }
        if alpha {
            v |= LABEL_START | LABEL_CHAR;
        }
        t[c] = v;
        c += 1;
    }
    t
};

/// `[a-zA-Z_:]`
#[inline]
pub(crate) fn is_metric_start(c: u8) -> bool {
    CLASS[c as usize] & METRIC_START != 0
}

/// `[a-zA-Z_]`
#[inline]
pub(crate) fn is_label_start(c: u8) -> bool {
    CLASS[c as usize] & LABEL_START != 0
}

/// End of the metric name `[a-zA-Z_:][a-zA-Z0-9_:]*` whose first byte is at
/// `pos` (already checked).
#[inline]
pub(crate) fn metric_name_end(b: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while i < b.len() && CLASS[b[i] as usize] & METRIC_CHAR != 0 {
        i += 1;
    }
    i
}

/// End of the label name `[a-zA-Z_][a-zA-Z0-9_]*` whose first byte is at
/// `pos` (already checked).
#[inline]
pub(crate) fn label_name_end(b: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while i < b.len() && CLASS[b[i] as usize] & LABEL_CHAR != 0 {
        i += 1;
    }
    i
}

/// A quoted string that ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quoted {
    /// Offset just past the closing quote.
    pub(crate) end: usize,
    /// Whether the content holds a backslash (and may need unescaping).
    pub(crate) escaped: bool,
}

/// Scans the quoted string whose opening quote is at `pos`. Returns `Err`
/// with the offset of the offending byte when the string is unterminated,
/// has a backslash before a newline or the end, or — when `newline_ok` is
/// false, as in OpenMetrics — holds a raw newline.
#[inline]
pub(crate) fn scan_quoted(b: &[u8], pos: usize, newline_ok: bool) -> Result<Quoted, usize> {
    let mut i = pos + 1;
    let mut escaped = false;
    loop {
        let rest = b.get(i..).unwrap_or_default();
        let found = if newline_ok {
            memchr::memchr2(b'"', b'\\', rest)
        } else {
            memchr::memchr3(b'"', b'\\', b'\n', rest)
        };
        let Some(k) = found else {
            return Err(b.len());
        };
        i += k;
        match b[i] {
            b'"' => {
                return Ok(Quoted {
                    end: i + 1,
                    escaped,
                })
            }
            b'\\' => match b.get(i + 1) {
                None | Some(b'\n') => return Err(i + 1),
                Some(_) => {
                    escaped = true;
                    i += 2;
                }
            },
            _ => return Err(i),
        }
    }
}

/// Unescapes a label value or quoted name: `\\`, `\"` and `\n`.
#[inline]
pub(crate) fn unescape_label(s: &str) -> Cow<'_, str> {
    unescape(s, true)
}

/// Unescapes text-format help: only `\\` and `\n` (a quote needs no escape
/// there, and `\"` stays as written, as Prometheus reads it).
pub(crate) fn unescape_text_help(s: &str) -> Cow<'_, str> {
    unescape(s, false)
}

fn unescape(s: &str, quote: bool) -> Cow<'_, str> {
    if memchr::memchr(b'\\', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('\\') => {
                out.push('\\');
                chars.next();
            }
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            Some('"') if quote => {
                out.push('"');
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_metric_start(b':') && !is_label_start(b':'));
        assert!(!is_metric_start(b'1') && !is_label_start(b'1'));
        assert_eq!(metric_name_end(b"a:b_1{", 0), 5);
        assert_eq!(label_name_end(b"a:b", 0), 1);
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(
            scan_quoted(br#""ab" x"#, 0, false),
            Ok(Quoted {
                end: 4,
                escaped: false
            })
        );
        assert_eq!(
            scan_quoted(br#""a\"b""#, 0, false),
            Ok(Quoted {
                end: 6,
                escaped: true
            })
        );
        assert_eq!(scan_quoted(b"\"a\nb\"", 0, true).map(|q| q.end), Ok(5));
        assert_eq!(scan_quoted(b"\"a\nb\"", 0, false), Err(2));
        assert_eq!(scan_quoted(b"\"a\\\nb\"", 0, true), Err(3));
        assert_eq!(scan_quoted(b"\"ab", 0, true), Err(3));
        assert_eq!(scan_quoted(b"\"ab\\", 0, true), Err(4));
    }

    #[test]
    fn unescaping() {
        assert!(matches!(unescape_label("plain"), Cow::Borrowed("plain")));
        assert_eq!(unescape_label(r#"a\\b\"c\nd\te"#), "a\\b\"c\nd\\te");
        assert_eq!(unescape_label(r"\\n"), "\\n");
        assert_eq!(unescape_text_help(r#"a\"b\\c\nd"#), "a\\\"b\\c\nd");
    }
}
