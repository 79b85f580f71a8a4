//! String literals: `"..."` and `'...'` with Go's escapes, validated while
//! lexing as Prometheus's lexer does, and raw `` `...` `` strings.

use super::{Lexer, Token, TokenKind};
use crate::error::ParseError;

impl Lexer<'_> {
    pub(super) fn string(&mut self, start: usize, quote: u8) -> Result<Token, ParseError> {
        loop {
            match self.peek_byte() {
                None | Some(b'\n') => {
                    return Err(self.err(start, "unterminated quoted string"));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.check_escape(start, quote)?;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += self.char_len(self.pos),
            }
        }
        let raw = self.input.get(start..self.pos).unwrap_or_default();
        let value = unquote(raw).map_err(|e| self.err(start, e))?;
        Ok(self.tok(TokenKind::Str(value), start))
    }

    /// Validates the escape after a backslash as Prometheus's lexer does.
    pub(super) fn check_escape(&mut self, start: usize, quote: u8) -> Result<(), ParseError> {
        let Some(c) = self.input.get(self.pos..).and_then(|s| s.chars().next()) else {
            return Err(self.err(start, "escape sequence not terminated"));
        };
        self.pos += c.len_utf8();
        let (mut n, base, max) = match c {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return Ok(()),
            c if c as u32 == quote as u32 => return Ok(()),
            '0'..='7' => {
                self.pos -= 1;
                (3, 8, 255)
            }
            'x' => (2, 16, 255),
            'u' => (4, 16, 0x10ffff),
            'U' => (8, 16, 0x10ffff),
            c => return Err(self.err(start, format!("unknown escape sequence {}", go_rune_u(c)))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let Some(d) = self.input.get(self.pos..).and_then(|s| s.chars().next()) else {
                return Err(self.err(start, "escape sequence not terminated"));
            };
            let Some(v) = d.to_digit(base) else {
                return Err(self.err(
                    start,
                    format!("illegal character {} in escape sequence", go_rune_u(d)),
                ));
            };
            self.pos += d.len_utf8();
            x = x * base + v;
            n -= 1;
        }
        if x > max || (0xd800..0xe000).contains(&x) {
            return Err(self.err(start, "escape sequence is an invalid Unicode code point"));
        }
        Ok(())
    }

    pub(super) fn raw_string(&mut self, start: usize) -> Result<Token, ParseError> {
        loop {
            match self.peek_byte() {
                None => return Err(self.err(start, "unterminated raw string")),
                Some(b'`') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += self.char_len(self.pos),
            }
        }
        let value = self
            .input
            .get(start + 1..self.pos - 1)
            .unwrap_or_default()
            .to_owned();
        Ok(self.tok(TokenKind::Str(value), start))
    }
}

/// A rune as Go's `%#U` prints it: `U+0063 'c'`.
pub(crate) fn go_rune_u(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

/// Unquotes a `"..."` or `'...'` literal with Go's escape rules into
/// bytes: like Go strings, `\xff` and `\377` may produce bytes that are not
/// UTF-8.
pub(crate) fn unquote_bytes(raw: &str) -> Result<Vec<u8>, String> {
    let quote = raw.chars().next().unwrap_or('"');
    let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default();
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    let bad = |what: &str| format!("error unquoting string {raw:?}: {what}");
    let push = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err(bad("escape sequence not terminated"));
        };
        let digits = |chars: &mut std::str::Chars<'_>, n: usize, radix: u32| -> Option<u32> {
            let s: String = chars.take(n).collect();
            (s.chars().count() == n)
                .then(|| u32::from_str_radix(&s, radix).ok())
                .flatten()
        };
        match e {
            'a' => out.push(0x07),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(0x0b),
            '\\' => out.push(b'\\'),
            '"' | '\'' if e == quote => push(&mut out, e),
            'x' => {
                let v = digits(&mut chars, 2, 16).ok_or_else(|| bad("invalid syntax"))?;
                out.push(u8::try_from(v).map_err(|_| bad("invalid syntax"))?);
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let v = digits(&mut chars, n, 16).ok_or_else(|| bad("invalid syntax"))?;
                push(
                    &mut out,
                    char::from_u32(v).ok_or_else(|| bad("invalid syntax"))?,
                );
            }
            '0'..='7' => {
                let rest = digits(&mut chars, 2, 8).ok_or_else(|| bad("invalid syntax"))?;
                let v = e.to_digit(8).unwrap_or(0) * 64 + rest;
                out.push(u8::try_from(v).map_err(|_| bad("invalid syntax"))?);
            }
            _ => return Err(bad("invalid syntax")),
        }
    }
    Ok(out)
}

/// [`unquote_bytes`], with bytes that are not UTF-8 replaced by U+FFFD.
pub(crate) fn unquote(raw: &str) -> Result<String, String> {
    unquote_bytes(raw).map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\nb""#).as_deref(), Ok("a\nb"));
        assert_eq!(unquote(r#"'a\'b'"#).as_deref(), Ok("a'b"));
        assert_eq!(unquote(r#""\u00e9\x41""#).as_deref(), Ok("éA"));
        assert!(unquote(r#""\q""#).is_err());
        assert_eq!(
            unquote_bytes(r#""a\xffb\377""#),
            Ok(vec![b'a', 0xff, b'b', 0xff])
        );
    }
}
