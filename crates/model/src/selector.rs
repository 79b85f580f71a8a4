//! Series selectors as flags and API parameters take them (`up`,
//! `{job="node"}`, `http_requests_total{code=~"5.."}`): the `match[]` and
//! `--match` syntax of Prometheus's `ParseMetricSelector`.
//!
//! Unlike a PromQL query, a selector here may consist only of matchers that
//! accept the empty string (promtool's default `{__name__=~'(?s:.*)'}`
//! selects everything); the caller decides whether that is allowed. String
//! literals use PromQL's quoting: `"…"` and `'…'` with Go's escapes, or
//! `` `…` `` raw.

use crate::labels::METRIC_NAME;
use crate::matcher::{MatchType, Matcher, MatcherError};

/// Why a selector was refused; `pos` is a 0-based byte offset.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SelectorError {
    /// The text does not follow the grammar.
    #[error("1:{}: parse error: {msg}", pos + 1)]
    Syntax {
        /// Where the problem is.
        pos: usize,
        /// What was expected or found.
        msg: String,
    },
    /// A regular expression did not compile.
    #[error(transparent)]
    Regex(#[from] MatcherError),
}

/// Parses a series selector into matchers (the metric name, if written
/// before the braces, becomes a `__name__` equality matcher, first).
pub fn parse_metric_selector(s: &str) -> Result<Vec<Matcher>, SelectorError> {
    let mut p = Parser { s, pos: 0 };
    let mut out = Vec::new();
    p.ws();
    if p.peek()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
    {
        let name = p.ident(true);
        out.push(Matcher::equal(METRIC_NAME, name));
    }
    p.ws();
    if p.eat(b'{') {
        loop {
            p.ws();
            if p.eat(b'}') {
                break;
            }
            let quoted = matches!(p.peek(), Some(b'"' | b'\'' | b'`'));
            let name = match p.peek() {
                _ if quoted => p.string()?,
                Some(c) if c.is_ascii_alphabetic() || c == b'_' => p.ident(false).to_owned(),
                _ => return Err(p.err("expected label name")),
            };
            p.ws();
            let op = if p.eat_str("=~") {
                Some(MatchType::Regex)
            } else if p.eat_str("!~") {
                Some(MatchType::NotRegex)
            } else if p.eat_str("!=") {
                Some(MatchType::NotEqual)
            } else if p.eat(b'=') {
                Some(MatchType::Equal)
            } else {
                None
            };
            match op {
                Some(op) => {
                    p.ws();
                    let value = p.string()?;
                    out.push(Matcher::new(op, name, value)?);
                }
                // A lone quoted string is the metric name (Prometheus 3.x).
                None if quoted && out.iter().all(|m| m.name != METRIC_NAME) => {
                    out.push(Matcher::equal(METRIC_NAME, name));
                }
                None => return Err(p.err("expected label matching operator")),
            }
            p.ws();
            if p.eat(b',') {
                continue;
            }
            if p.eat(b'}') {
                break;
            }
            return Err(p.err("expected comma or closing brace"));
        }
    }
    p.ws();
    if p.pos < s.len() {
        return Err(p.err("unexpected characters after the selector"));
    }
    if out.is_empty() {
        return Err(p.err("empty selector"));
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let ok = self.peek() == Some(c);
        self.pos += usize::from(ok);
        ok
    }

    fn eat_str(&mut self, t: &str) -> bool {
        let ok = self.s[self.pos..].starts_with(t);
        if ok {
            self.pos += t.len();
        }
        ok
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn ident(&mut self, colons: bool) -> &'a str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || (colons && c == b':'))
        {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    fn err(&self, msg: &str) -> SelectorError {
        let found = self.s[self.pos..].chars().next();
        let msg = match found {
            Some(c) => format!("{msg}, got {c:?}"),
            None => format!("{msg}, got end of input"),
        };
        SelectorError::Syntax { pos: self.pos, msg }
    }

    /// A PromQL string literal.
    fn string(&mut self) -> Result<String, SelectorError> {
        let Some(q) = self.peek().filter(|c| matches!(c, b'"' | b'\'' | b'`')) else {
            return Err(self.err("expected string"));
        };
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let rest = &self.s[self.pos..];
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            if c as u32 == u32::from(q) {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' && q != b'`' {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'f' => Some('\x0c'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\x0b'),
                    '\\' | '"' | '\'' => Some(e),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    continue;
                }
                let digits = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    '0'..='7' => 2,
                    _ => {
                        return Err(SelectorError::Syntax {
                            pos: self.pos + i,
                            msg: format!("unknown escape sequence \\{e}"),
                        })
                    }
                };
                let mut code = String::new();
                if e.is_ascii_digit() {
                    code.push(e);
                }
                for _ in 0..digits {
                    match chars.next() {
                        Some((_, d)) => code.push(d),
                        None => break,
                    }
                }
                let radix = if e.is_ascii_digit() { 8 } else { 16 };
                let ch = u32::from_str_radix(&code, radix)
                    .ok()
                    .and_then(char::from_u32);
                match ch {
                    Some(c) => out.push(c),
                    None => {
                        return Err(SelectorError::Syntax {
                            pos: self.pos + i,
                            msg: format!(
                                "invalid escape sequence \\{e}{}",
                                &code[usize::from(e.is_ascii_digit())..]
                            ),
                        })
                    }
                }
                continue;
            }
            if c == '\n' && q != b'`' {
                break;
            }
            out.push(c);
        }
        Err(SelectorError::Syntax {
            pos: start,
            msg: "unterminated quoted string".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> Result<Vec<String>, String> {
        parse_metric_selector(s)
            .map(|ms| ms.iter().map(ToString::to_string).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn selector_table() {
        let ok = |s: &str, want: &[&str]| {
            assert_eq!(
                shown(s),
                Ok(want.iter().map(|w| w.to_string()).collect()),
                "{s}"
            )
        };
        ok("up", &[r#"__name__="up""#]);
        ok("{__name__=~'(?s:.*)'}", &[r#"__name__=~"(?s:.*)""#]);
        ok(
            r#"up{job="a", instance!~`x\d`,}"#,
            &[r#"__name__="up""#, r#"job="a""#, r#"instance!~"x\\d""#],
        );
        ok(
            r#"{"my.metric", "a.b"="c\n\x41\u00e9"}"#,
            &[r#"__name__="my.metric""#, "a.b=\"c\\nAé\""],
        );
        ok(" a:b { } ", &[r#"__name__="a:b""#]);
        for bad in [
            "",
            "{}",
            "{a}",
            r#"{a="b""#,
            r#"{a=b}"#,
            "up extra",
            r#"{a=~"("}"#,
            r#"{a="\q"}"#,
        ] {
            assert!(parse_metric_selector(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(
            shown(r#"{a="b" c="d"}"#).unwrap_err(),
            "1:8: parse error: expected comma or closing brace, got 'c'"
        );
    }
}
