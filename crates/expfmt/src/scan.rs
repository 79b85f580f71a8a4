//! Byte-level building blocks shared by both parsers: character classes,
//! quoted strings and unescaping.
//!
//! Both formats quote label values (and, since Prometheus 3, names that are
//! not legacy identifiers) as `"` … `"` with backslash escapes. The lexers of
//! Prometheus accept a backslash before any byte but a newline; only `\\`,
//! `\"` and `\n` mean something, and any other escape is kept verbatim
//! (backslash included) when the value is unescaped.

use std::borrow::Cow;

use crate::error::{utf8_error, ParseError};

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
    name_end(b, pos + 1, true)
}

/// End of the label name `[a-zA-Z_][a-zA-Z0-9_]*` whose first byte is at
/// `pos` (already checked).
#[inline]
pub(crate) fn label_name_end(b: &[u8], pos: usize) -> usize {
    name_end(b, pos + 1, false)
}

/// First offset from `i` on that is not a name character. Metric names run
/// to 30 bytes and more, so eight bytes are classified at a time (SWAR);
/// the byte loop finishes the tail and any chunk with a non-ASCII byte.
#[inline]
fn name_end(b: &[u8], mut i: usize, colon: bool) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let Ok(arr) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(arr);
        if x & HI != 0 {
            break;
        }
        let mut ok = in_range(x, b'a', b'z')
            | in_range(x, b'A', b'Z')
            | in_range(x, b'0', b'9')
            | in_range(x, b'_', b'_');
        if colon {
            ok |= in_range(x, b':', b':');
        }
        let stop = !ok & HI;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let class = if colon { METRIC_CHAR } else { LABEL_CHAR };
    while i < b.len() && CLASS[b[i] as usize] & class != 0 {
        i += 1;
    }
    i
}

/// For eight ASCII bytes, the high bit of each byte in `lo..=hi`. No byte
/// sum exceeds 0xff, so no carry crosses into a neighbour.
#[inline(always)]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let ge_lo = x + LO * u64::from(0x80 - lo);
    let gt_hi = x + LO * u64::from(0x7f - hi);
    ge_lo & !gt_hi & HI
}

/// A quoted string that ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quoted {
    /// Offset just past the closing quote.
    pub(crate) end: usize,
    /// Whether the content holds a backslash (and may need unescaping).
    pub(crate) escaped: bool,
    /// Whether a byte of 0x80 or above may be among the content (and the
    /// string must be checked for UTF-8). Never false when such a byte is
    /// there; may be true when it is not.
    pub(crate) maybe_non_ascii: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bytes of `x` equal to `c` have their high bit set in the result; the
/// lowest set bit marks the first match exactly (higher ones may be false
/// positives, which is all a "find the first" needs).
#[inline(always)]
fn match_byte(x: u64, c: u8) -> u64 {
    let v = x ^ (LO * u64::from(c));
    v.wrapping_sub(LO) & !v & HI
}

/// Scans the quoted string whose opening quote is at `pos`. Returns `Err`
/// with the offset of the offending byte when the string is unterminated,
/// has a backslash before a newline or the end, or — when `newline_ok` is
/// false, as in OpenMetrics — holds a raw newline.
///
/// Values are short and scanned millions of times per second, so this reads
/// eight bytes at a time (SWAR) instead of calling into `memchr`, whose set-up
/// costs more than such strings.
#[inline]
pub(crate) fn scan_quoted(b: &[u8], pos: usize, newline_ok: bool) -> Result<Quoted, usize> {
    let mut i = pos + 1;
    let mut escaped = false;
    let mut high = 0u64;
    loop {
        // Jump to the next quote, backslash or (in OpenMetrics) newline.
        while let Some(chunk) = b.get(i..i + 8) {
            let Ok(arr) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let x = u64::from_le_bytes(arr);
            let mut m = match_byte(x, b'"') | match_byte(x, b'\\');
            if !newline_ok {
                m |= match_byte(x, b'\n');
            }
            if m != 0 {
                let k = (m.trailing_zeros() / 8) as usize;
                // Only the bytes before the stop are content.
                if k > 0 {
                    high |= x & (u64::MAX >> (8 * (8 - k)));
                }
                i += k;
                break;
            }
            high |= x;
            i += 8;
        }
        let Some(&c) = b.get(i) else {
            return Err(b.len());
        };
        match c {
            b'"' => {
                return Ok(Quoted {
                    end: i + 1,
                    escaped,
                    maybe_non_ascii: high & HI != 0,
                })
            }
            b'\\' => match b.get(i + 1) {
                None | Some(b'\n') => return Err(i + 1),
                Some(&next) => {
                    escaped = true;
                    high |= u64::from(next);
                    i += 2;
                }
            },
            b'\n' if !newline_ok => return Err(i),
            c => {
                high |= u64::from(c);
                i += 1;
            }
        }
    }
}

/// `b` as a `&str` without a second validation pass.
///
/// # Safety
/// Every byte of `b` must be below 0x80 (the scanners establish this: names
/// come from ASCII-only character classes, punctuation and blanks are ASCII,
/// and [`scan_quoted`] reports any quoted string that may not be).
#[inline]
pub(crate) unsafe fn ascii_str_unchecked(b: &[u8]) -> &str {
    debug_assert!(b.is_ascii(), "BUG: non-ASCII bytes passed as ASCII");
    // SAFETY: ASCII is valid UTF-8, and the caller guarantees ASCII.
    unsafe { std::str::from_utf8_unchecked(b) }
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

/// Bytes the scanner has seen to be ASCII name characters.
pub(crate) fn ascii_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// The content of a quoted string at `start`, checked for UTF-8 and
/// unescaped when needed.
pub(crate) fn quoted_str<'a>(
    b: &'a [u8],
    start: usize,
    q: Quoted,
    what: &'static str,
) -> Result<Cow<'a, str>, ParseError> {
    let inner = &b[start + 1..q.end - 1];
    let s = std::str::from_utf8(inner).map_err(|e| utf8_error(b, start + 1, inner, e, what))?;
    Ok(if q.escaped {
        unescape_label(s)
    } else {
        Cow::Borrowed(s)
    })
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
        // Every byte value, at every position of a chunk and in the tail.
        for c in 0..=255u8 {
            for at in 1..12 {
                let mut v = vec![b'a'; 14];
                v[at] = c;
                let want_metric = if CLASS[c as usize] & METRIC_CHAR != 0 {
                    14
                } else {
                    at
                };
                let want_label = if CLASS[c as usize] & LABEL_CHAR != 0 {
                    14
                } else {
                    at
                };
                assert_eq!(metric_name_end(&v, 0), want_metric, "byte {c} at {at}");
                assert_eq!(label_name_end(&v, 0), want_label, "byte {c} at {at}");
            }
        }
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(
            scan_quoted(br#""ab" x"#, 0, false),
            Ok(Quoted {
                end: 4,
                escaped: false,
                maybe_non_ascii: false
            })
        );
        assert_eq!(
            scan_quoted(br#""a\"b""#, 0, false),
            Ok(Quoted {
                end: 6,
                escaped: true,
                maybe_non_ascii: false
            })
        );
        assert_eq!(scan_quoted(b"\"a\nb\"", 0, true).map(|q| q.end), Ok(5));
        assert_eq!(scan_quoted(b"\"a\nb\"", 0, false), Err(2));
        assert_eq!(scan_quoted(b"\"a\\\nb\"", 0, true), Err(3));
        assert_eq!(scan_quoted(b"\"ab", 0, true), Err(3));
        assert_eq!(scan_quoted(b"\"ab\\", 0, true), Err(4));
    }

    #[test]
    fn quoted_strings_long_and_non_ascii() {
        let s = b"\"0123456789abcdef\\\"xyz\" tail \xff";
        let q = scan_quoted(s, 0, false).unwrap();
        assert_eq!((q.end, q.escaped, q.maybe_non_ascii), (23, true, false));
        for at in 1..22 {
            let mut v = s.to_vec();
            v[at] = 0xc3;
            if at == 17 || at == 18 {
                continue; // the escape itself
            }
            let q = scan_quoted(&v, 0, false);
            assert!(q.is_ok_and(|q| q.maybe_non_ascii), "non-ASCII at {at}");
        }
        let q = scan_quoted(b"\"0123456\"\xff\xff\xff\xff", 0, true).unwrap();
        assert!(!q.maybe_non_ascii);
        assert_eq!(scan_quoted(b"\"0123456789\nabc\"", 0, false), Err(11));
        assert_eq!(scan_quoted(b"\"0123456789abcdef", 0, true), Err(17));
    }

    #[test]
    fn unescaping() {
        assert!(matches!(unescape_label("plain"), Cow::Borrowed("plain")));
        assert_eq!(unescape_label(r#"a\\b\"c\nd\te"#), "a\\b\"c\nd\\te");
        assert_eq!(unescape_label(r"\\n"), "\\n");
        assert_eq!(unescape_text_help(r#"a\"b\\c\nd"#), "a\\\"b\\c\nd");
    }
}
