//! Parse errors that print as Prometheus prints them:
//! `<line>:<column>: parse error: <message>`.

use std::fmt;

/// A byte range `[start, end)` of the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `[start, end)`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest range covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A query that cannot be parsed, or that parses but is not valid PromQL
/// (wrong types, misplaced modifiers).
///
/// `Display` gives Prometheus's text, e.g.
/// `1:5: parse error: unclosed left parenthesis`: the line and column (both
/// 1-based, the column counted in bytes, as Prometheus does) of the start of
/// the offending range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Where in the query the problem is.
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based byte column of `span.start` within its line.
    pub column: usize,
    /// The message after `parse error: `, worded as Prometheus words it.
    pub message: String,
}

impl ParseError {
    /// An error at `span` of `input`.
    pub(crate) fn new(input: &str, span: Span, message: impl Into<String>) -> ParseError {
        let start = span.start.min(input.len());
        let before = input.as_bytes().get(..start).unwrap_or_default();
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        // Prometheus counts the column from the last newline, which sits at
        // column 0, so the first byte of a line is column 1.
        let column = match before.iter().rposition(|&b| b == b'\n') {
            Some(nl) => start - nl,
            None => start + 1,
        };
        ParseError {
            span,
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: parse error: {}",
            self.line, self.column, self.message
        )
    }
}

/// Writes `s` as Go's `%q` would: double quotes, Go escapes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // The model crate already implements Go's quoting for label values.
    let _ = model::labels::write_go_quoted(&mut out, s);
    out
}

/// Writes bytes as Go's `strconv.Quote` does: valid UTF-8 as text with
/// escapes, other bytes as `\xNN`.
pub(crate) fn go_quote_bytes(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in b.utf8_chunks() {
        let q = go_quote(chunk.valid());
        out.push_str(q.get(1..q.len() - 1).unwrap_or_default());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, start: usize, want: &str) {
        let e = ParseError::new(input, Span::new(start, start + 1), "boom");
        assert_eq!(e.to_string(), want, "input {input:?} at {start}");
    }

    #[test]
    fn positions() {
        check("(foo", 4, "1:5: parse error: boom");
        check("foo", 0, "1:1: parse error: boom");
        check("a\nbc", 3, "2:2: parse error: boom");
        check("a\nbc", 2, "2:1: parse error: boom");
    }

    #[test]
    fn quoting() {
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
        assert_eq!(go_quote_bytes(b"a\xc5z\n"), r#""a\xc5z\n""#);
    }
}
