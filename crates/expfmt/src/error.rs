//! Parse errors with a line:column position.
//!
//! Parsers track only a byte offset while they run; the line and column are
//! computed from the input when an error is built, so the hot path pays
//! nothing for positions.

use std::fmt;

/// An error in an exposition body, positioned at the byte where parsing
/// stopped.
///
/// Displays as `line:column: message`, e.g.
/// `3:14: expected equal, got "INVALID" while parsing "foo{a"`, in the spirit
/// of Prometheus's `textparse` messages.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{line}:{column}: {kind}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in bytes from the start of the line.
    pub column: usize,
    /// Byte offset of the error in the whole input.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong, with the values involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    /// The grammar wanted something else at this point.
    #[error("expected {expected}, got {got} while parsing {context:?}")]
    Unexpected {
        /// What the grammar wanted, e.g. "equal" or "label value".
        expected: &'static str,
        /// A short, quoted rendering of what was found.
        got: Token,
        /// The line so far, up to and including the offending byte.
        context: String,
    },
    /// A sample value or exemplar value is not a float as Prometheus reads one.
    #[error("cannot parse float {text:?}: {reason}")]
    InvalidFloat {
        /// The offending token.
        text: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A timestamp is malformed or out of range.
    #[error("cannot parse timestamp {text:?}: {reason}")]
    InvalidTimestamp {
        /// The offending token.
        text: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A name, label value, help text or unit is not UTF-8.
    #[error("invalid UTF-8 in {what}: \"{bytes}\"")]
    InvalidUtf8 {
        /// Which part of the line.
        what: &'static str,
        /// The offending byte sequence, escaped like `\xff`.
        bytes: String,
    },
    /// `# TYPE` names a type the format does not have.
    #[error("invalid metric type {0:?}")]
    InvalidMetricType(String),
    /// A quoted metric name inside braces when the name was already given.
    #[error("metric name already set while parsing {0:?}")]
    MetricNameAlreadySet(String),
    /// A series without any metric name.
    #[error("metric name not set while parsing {0:?}")]
    MetricNameNotSet(String),
    /// OpenMetrics: `# UNIT` that is not a `_`-separated suffix of the name.
    #[error("unit {unit:?} not a suffix of metric {metric:?}")]
    UnitNotSuffix {
        /// The unit.
        unit: String,
        /// The metric family name.
        metric: String,
    },
    /// OpenMetrics: the body stops before `# EOF`.
    #[error("data does not end with # EOF")]
    MissingEof,
    /// OpenMetrics: bytes after `# EOF`.
    #[error("unexpected data after # EOF")]
    DataAfterEof,
    /// OpenMetrics: exemplar label set longer than the spec allows.
    #[error("exemplar label set has {runes} runes, more than the limit of 128")]
    ExemplarTooLong {
        /// Code points in the label names and values.
        runes: usize,
    },
    /// The same label name twice in one series (reported by the collecting
    /// helpers, which build label sets; the streaming parsers pass labels on
    /// as written).
    #[error("label name {0:?} is not unique")]
    DuplicateLabel(String),
    /// An empty metric or label name (`{""} 1`): the grammar allows the
    /// quoted form, but no series can have one, so the collecting helpers
    /// refuse it as Prometheus's scrape does.
    #[error("empty {0} name")]
    EmptyName(&'static str),
}

/// What a parser found where it wanted something else, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// The end of the input.
    EndOfInput,
    /// Some bytes, shown quoted and escaped.
    Text(String),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::EndOfInput => f.write_str("end of input"),
            Token::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// Longest excerpt of the input kept in an error, so a hostile multi-megabyte
/// line does not become a multi-megabyte message.
const MAX_EXCERPT: usize = 256;

impl ParseError {
    /// Builds an error at `offset` of `input`, computing line and column.
    pub(crate) fn at(input: &[u8], offset: usize, kind: ErrorKind) -> ParseError {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = memchr::memchr_iter(b'\n', before).count() + 1;
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        ParseError {
            line,
            column: offset - line_start + 1,
            offset,
            kind,
        }
    }

    /// Builds an [`ErrorKind::Unexpected`] at `offset`, with the line from
    /// `line_start` up to the offending byte as context.
    pub(crate) fn unexpected(
        input: &[u8],
        line_start: usize,
        offset: usize,
        expected: &'static str,
    ) -> ParseError {
        let got = token_at(input, offset);
        let end = (offset + 1).min(input.len());
        let context = excerpt(input.get(line_start..end).unwrap_or_default());
        ParseError::at(
            input,
            offset,
            ErrorKind::Unexpected {
                expected,
                got,
                context,
            },
        )
    }
}

/// A lossy, length-capped rendering of `bytes` for messages.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(MAX_EXCERPT)];
    String::from_utf8_lossy(cut).into_owned()
}

/// The token starting at `offset`: up to the next blank or delimiter, or the
/// single delimiter byte itself.
fn token_at(input: &[u8], offset: usize) -> Token {
    let Some(rest) = input.get(offset..).filter(|r| !r.is_empty()) else {
        return Token::EndOfInput;
    };
    let is_delim = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'{' | b'}' | b',' | b'=' | b'"');
    let len = if is_delim(rest[0]) {
        1
    } else {
        rest.iter().position(|&c| is_delim(c)).unwrap_or(rest.len())
    };
    Token::Text(excerpt(&rest[..len.min(32)]))
}

/// An invalid-UTF-8 error pointing at the first bad byte of `part`, which
/// starts at `offset` in `b`.
pub(crate) fn utf8_error(
    b: &[u8],
    offset: usize,
    part: &[u8],
    e: std::str::Utf8Error,
    what: &'static str,
) -> ParseError {
    ParseError::at(
        b,
        offset + e.valid_up_to(),
        ErrorKind::InvalidUtf8 {
            what,
            bytes: part[e.valid_up_to()..]
                .iter()
                .take(e.error_len().unwrap_or(4))
                .copied()
                .flat_map(std::ascii::escape_default)
                .map(char::from)
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let input = b"a 1\nb 2\nfoo{a 1\n";
        let e = ParseError::unexpected(input, 8, 14, "equal");
        assert_eq!((e.line, e.column), (3, 7));
        assert_eq!(
            e.to_string(),
            r#"3:7: expected equal, got "1" while parsing "foo{a 1""#
        );
        let e = ParseError::at(input, 0, ErrorKind::MissingEof);
        assert_eq!(e.to_string(), "1:1: data does not end with # EOF");
    }

    #[test]
    fn tokens_at_the_end_and_delimiters() {
        assert_eq!(token_at(b"ab", 2), Token::EndOfInput);
        assert_eq!(token_at(b"a}b", 1), Token::Text("}".into()));
        assert_eq!(token_at(b"a\xffb c", 1), Token::Text("\u{fffd}b".into()));
    }
}
