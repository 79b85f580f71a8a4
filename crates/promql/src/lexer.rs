//! The PromQL lexer: turns query text into tokens on demand.
//!
//! It is pulled by the parser one token at a time, as Prometheus's lexer
//! is, so that a syntax error early in a query is reported before a lexical
//! error later in it. Like Prometheus's, it is modal: inside `{...}` every
//! word is a label name, inside `[...]` only numbers, durations, operators,
//! `:` and the duration keywords (`step`, `range`, `min_of`, `max_of`) exist.

use crate::error::{ParseError, Span};

mod string;
pub(crate) use string::unquote_bytes;

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    /// An identifier or keyword, with its text as written (keywords are
    /// recognised case-insensitively by the parser).
    Word,
    /// A number literal (decimal, hex, `Inf`, `NaN`), its text in `Token::text`.
    Number,
    /// A duration literal such as `1h30m`.
    Duration,
    /// A quoted string; the unquoted value.
    Str(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    /// `=` (label matching only).
    Eql,
    /// `=~`
    EqlRegex,
    /// `!~`
    NeqRegex,
    /// `@`
    At,
    /// `+ - * / % ^ == != > < >= <= </ >/`
    Op,
    Eof,
}

/// One token: its kind, where it is, and its text.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) span: Span,
    pub(crate) text: String,
}

impl Token {
    /// The token as Prometheus's "unexpected ..." errors describe it.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Eof => "end of input".into(),
            TokenKind::Word => match self.text.to_ascii_lowercase().as_str() {
                w if crate::ast::AggregateOp::from_name(w).is_some() => {
                    format!("<aggr:{}>", self.text)
                }
                "and" | "or" | "unless" | "atan2" => format!("<op:{}>", self.text),
                w if KEYWORDS.contains(&w) => format!("<{}>", self.text),
                _ => format!("identifier \"{}\"", self.text),
            },
            TokenKind::Number => format!("number \"{}\"", self.text),
            TokenKind::Duration => format!("duration \"{}\"", self.text),
            TokenKind::Str(_) => format!("string {}", self.text),
            TokenKind::LParen => "\"(\"".into(),
            TokenKind::RParen => "\")\"".into(),
            TokenKind::LBrace => "\"{\"".into(),
            TokenKind::RBrace => "\"}\"".into(),
            TokenKind::LBracket => "\"[\"".into(),
            TokenKind::RBracket => "\"]\"".into(),
            TokenKind::Comma => "\",\"".into(),
            TokenKind::Colon => "\":\"".into(),
            TokenKind::Eql => "\"=\"".into(),
            TokenKind::EqlRegex => "\"=~\"".into(),
            TokenKind::NeqRegex => "\"!~\"".into(),
            TokenKind::At => "<op:@>".into(),
            TokenKind::Op => format!("<op:{}>", self.text),
        }
    }

    /// The lowercase word if this is a word token.
    pub(crate) fn word(&self) -> Option<String> {
        (self.kind == TokenKind::Word).then(|| self.text.to_ascii_lowercase())
    }

    /// Whether this is the operator `op`.
    pub(crate) fn is_op(&self, op: &str) -> bool {
        self.kind == TokenKind::Op && self.text == op
    }
}

/// Words that are keywords (besides aggregators and word operators).
const KEYWORDS: &[&str] = &[
    "bool",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "anchored",
    "smoothed",
    "start",
    "end",
    "step",
    "range",
    "max_of",
    "min_of",
];

/// The keywords that may appear inside a `[...]` duration expression.
const DURATION_KEYWORDS: &[&str] = &["step", "range", "min_of", "max_of"];

/// The lexer's position and mode.
pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    paren_depth: usize,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    /// Prometheus's lexer uses its duration-expression state right after
    /// `[` and after operators and parentheses in it, but its statement
    /// state after a number; the error texts differ between the two.
    duration_state: bool,
}

fn is_alpha(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: u8) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(input: &'a str) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            paren_depth: 0,
            brace_open: false,
            bracket_open: false,
            got_colon: false,
            got_duration: false,
            duration_state: false,
        }
    }

    fn peek_byte(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn byte_at(&self, i: usize) -> Option<u8> {
        self.input.as_bytes().get(i).copied()
    }

    /// Tracks nesting for `(` and `)` (`c` is one of them), the same in
    /// every lexer state.
    fn paren(&mut self, c: u8) -> Result<TokenKind, ParseError> {
        if c == b'(' {
            self.paren_depth += 1;
            return Ok(TokenKind::LParen);
        }
        if self.paren_depth == 0 {
            // Prometheus reports this after the parenthesis.
            let end = self.pos;
            return Err(self.err(end, "unexpected right parenthesis ')'"));
        }
        self.paren_depth -= 1;
        Ok(TokenKind::RParen)
    }

    fn err(&self, start: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.input, Span::new(start, self.pos.max(start)), msg)
    }

    fn tok(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            span: Span::new(start, self.pos),
            text: self
                .input
                .get(start..self.pos)
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// The character at `pos` for error messages, as Go's `%q` prints a rune.
    fn char_at(&self, pos: usize) -> String {
        let c = self
            .input
            .get(pos..)
            .and_then(|s| s.chars().next())
            .unwrap_or('\0');
        match c {
            '\'' => "'\\''".into(),
            '\\' => "'\\\\'".into(),
            '\n' => "'\\n'".into(),
            '\t' => "'\\t'".into(),
            c => format!("'{c}'"),
        }
    }

    fn char_len(&self, pos: usize) -> usize {
        self.input
            .get(pos..)
            .and_then(|s| s.chars().next())
            .map_or(1, char::len_utf8)
    }

    /// Skips whitespace and `#` comments.
    fn skip_space(&mut self) {
        while let Some(c) = self.peek_byte() {
            if is_space(c) {
                self.pos += 1;
            } else if c == b'#' && !self.brace_open && !(self.bracket_open && self.duration_state) {
                while let Some(c) = self.peek_byte() {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Whether the next non-space character is `(`: `fill`, `fill_left` and
    /// `fill_right` are keywords only then, so they stay usable as metric
    /// names (Prometheus 3.x does the same).
    pub(crate) fn followed_by_lparen(&self) -> bool {
        let mut i = self.pos;
        while self.byte_at(i).is_some_and(is_space) {
            i += 1;
        }
        self.byte_at(i) == Some(b'(')
    }

    /// The next token, or the lexical error Prometheus would report.
    pub(crate) fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_space();
        let start = self.pos;
        let Some(c) = self.peek_byte() else {
            if self.brace_open {
                return Err(self.err(start, "unexpected end of input inside braces"));
            }
            if self.bracket_open && self.duration_state {
                return Err(self.err(start, "unexpected end of input in duration expression"));
            }
            if self.paren_depth != 0 {
                return Err(self.err(start, "unclosed left parenthesis"));
            }
            if self.bracket_open {
                return Err(self.err(start, "unclosed left bracket"));
            }
            return Ok(self.tok(TokenKind::Eof, start));
        };
        if self.brace_open {
            return self.inside_braces(start, c);
        }
        if self.bracket_open && self.duration_state {
            return self.inside_brackets(start, c);
        }
        if self.bracket_open && (is_alpha(c) || c == b':') {
            return self.bracket_statement_word(start, c);
        }
        self.pos += 1;
        let kind = match c {
            b',' => TokenKind::Comma,
            b'*' | b'/' | b'%' | b'+' | b'-' | b'^' => TokenKind::Op,
            b'=' => match self.peek_byte() {
                Some(b'=') => {
                    self.pos += 1;
                    TokenKind::Op
                }
                Some(b'~') => {
                    let q = self.char_at(self.pos);
                    return Err(self.err(start, format!("unexpected character after '=': {q}")));
                }
                _ => TokenKind::Eql,
            },
            b'!' => {
                if self.peek_byte() != Some(b'=') {
                    let q = self.char_at(self.pos);
                    return Err(self.err(start, format!("unexpected character after '!': {q}")));
                }
                self.pos += 1;
                TokenKind::Op
            }
            b'<' | b'>' => {
                if matches!(self.peek_byte(), Some(b'=') | Some(b'/')) {
                    self.pos += 1;
                }
                TokenKind::Op
            }
            b'0'..=b'9' => return self.number_or_duration(start),
            b'.' if self.peek_byte().is_some_and(|c| c.is_ascii_digit()) => {
                return self.number_or_duration(start)
            }
            b'"' | b'\'' => return self.string(start, c),
            b'`' => return self.raw_string(start),
            c if is_alpha(c) || c == b':' => return Ok(self.word(start)),
            b'(' | b')' => self.paren(c)?,
            b'{' => {
                self.brace_open = true;
                TokenKind::LBrace
            }
            b'[' => {
                if self.bracket_open {
                    return Err(self.err(start, "unexpected left bracket '['"));
                }
                self.bracket_open = true;
                self.got_colon = false;
                self.got_duration = false;
                self.duration_state = true;
                TokenKind::LBracket
            }
            b']' => {
                if !self.bracket_open {
                    return Err(self.err(start, "unexpected right bracket ']'"));
                }
                self.bracket_open = false;
                self.got_colon = false;
                TokenKind::RBracket
            }
            b'@' => TokenKind::At,
            _ => {
                self.pos = start + self.char_len(start);
                let q = self.char_at(start);
                return Err(self.err(start, format!("unexpected character: {q}")));
            }
        };
        Ok(self.tok(kind, start))
    }

    /// Inside `[...]`: a duration expression, optionally `:` and a step.
    fn inside_brackets(&mut self, start: usize, c: u8) -> Result<Token, ParseError> {
        self.pos += 1;
        let kind = match c {
            b']' => {
                self.bracket_open = false;
                self.got_colon = false;
                TokenKind::RBracket
            }
            b':' => {
                if !self.got_duration {
                    return Err(self.err(
                        self.pos,
                        "unexpected colon before duration in duration expression",
                    ));
                }
                if self.got_colon {
                    return Err(
                        self.err(self.pos, "unexpected repeated colon in duration expression")
                    );
                }
                self.got_colon = true;
                TokenKind::Colon
            }
            b'(' | b')' => self.paren(c)?,
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' => TokenKind::Op,
            b',' => TokenKind::Comma,
            b'0'..=b'9' => {
                self.got_duration = true;
                self.duration_state = false;
                return self.number_or_duration(start);
            }
            b'.' if self.peek_byte().is_some_and(|c| c.is_ascii_digit()) => {
                self.got_duration = true;
                self.duration_state = false;
                return self.number_or_duration(start);
            }
            c if is_alpha(c) => {
                while self.peek_byte().is_some_and(is_alpha) {
                    self.pos += 1;
                }
                let w = self.input.get(start..self.pos).unwrap_or_default();
                if !DURATION_KEYWORDS.contains(&w.to_ascii_lowercase().as_str()) {
                    let q = self.char_at(start);
                    return Err(self.err(
                        start,
                        format!("unexpected character in duration expression: {q}"),
                    ));
                }
                TokenKind::Word
            }
            _ => {
                let q = self.char_at(start);
                return Err(self.err(
                    start,
                    format!("unexpected character in duration expression: {q}"),
                ));
            }
        };
        Ok(self.tok(kind, start))
    }

    /// A word or `:` in statement state inside brackets.
    fn bracket_statement_word(&mut self, start: usize, c: u8) -> Result<Token, ParseError> {
        self.pos += 1;
        if c == b':' {
            if self.got_colon {
                return Err(self.err(start, "unexpected colon ':'"));
            }
            self.got_colon = true;
            return Ok(self.tok(TokenKind::Colon, start));
        }
        while self.peek_byte().is_some_and(is_alpha) {
            self.pos += 1;
        }
        let w = self.input.get(start..self.pos).unwrap_or_default();
        if DURATION_KEYWORDS.contains(&w.to_ascii_lowercase().as_str()) {
            return Ok(self.tok(TokenKind::Word, start));
        }
        self.pos = start + 1;
        let q = self.char_at(start);
        Err(self.err(start, format!("unexpected character: {q}, expected ':'")))
    }

    fn inside_braces(&mut self, start: usize, c: u8) -> Result<Token, ParseError> {
        self.pos += 1;
        let kind = match c {
            b',' => TokenKind::Comma,
            b'"' | b'\'' => return self.string(start, c),
            b'`' => return self.raw_string(start),
            b'=' => {
                if self.peek_byte() == Some(b'~') {
                    self.pos += 1;
                    TokenKind::EqlRegex
                } else {
                    TokenKind::Eql
                }
            }
            b'!' => match self.peek_byte() {
                Some(b'~') => {
                    self.pos += 1;
                    TokenKind::NeqRegex
                }
                Some(b'=') => {
                    self.pos += 1;
                    TokenKind::Op
                }
                _ => {
                    let q = self.char_at(self.pos);
                    return Err(self.err(
                        start,
                        format!("unexpected character after '!' inside braces: {q}"),
                    ));
                }
            },
            b'{' => return Err(self.err(start, "unexpected left brace '{'")),
            b'}' => {
                self.brace_open = false;
                TokenKind::RBrace
            }
            c if is_alpha(c) => {
                // Label names never contain ':'.
                while self.peek_byte().is_some_and(is_alnum) {
                    self.pos += 1;
                }
                TokenKind::Word
            }
            _ => {
                self.pos = start + self.char_len(start);
                let q = self.char_at(start);
                return Err(self.err(start, format!("unexpected character inside braces: {q}")));
            }
        };
        Ok(self.tok(kind, start))
    }

    fn word(&mut self, start: usize) -> Token {
        while self.peek_byte().is_some_and(|c| is_alnum(c) || c == b':') {
            self.pos += 1;
        }
        let w = self.input.get(start..self.pos).unwrap_or_default();
        if w.eq_ignore_ascii_case("inf") || w.eq_ignore_ascii_case("nan") {
            return self.tok(TokenKind::Number, start);
        }
        self.tok(TokenKind::Word, start)
    }

    fn accept(&mut self, set: &[u8]) -> bool {
        match self.peek_byte() {
            Some(c) if set.contains(&c) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Scans a number the way Prometheus's lexer does (decimal, hex, `_`
    /// separators, exponents); returns whether it is complete and not followed
    /// by an alphanumeric character.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits: &[u8] = b"0123456789";
        if self.accept(b"0") && self.accept(b"xX") {
            self.accept(b"_");
            digits = b"0123456789abcdefABCDEF";
        }
        self.accept(b".");
        self.accept(digits);
        let (mut dot, mut exp) = (false, false);
        while let Some(c) = self.peek_byte() {
            if c == b'.' {
                if dot || digits.len() > 10 {
                    self.pos += 1;
                    return false;
                }
                dot = true;
                self.pos += 1;
                if self.accept(b"_.") {
                    return false;
                }
            } else if (c == b'e' || c == b'E') && digits.len() == 10 {
                if exp {
                    self.pos += 1;
                    return false;
                }
                exp = true;
                self.pos += 1;
                self.accept(b"+-");
                if self.accept(b"._eE") || self.peek_byte().is_none() {
                    return false;
                }
            } else if c == b'_' {
                self.pos += 1;
                if self.accept(b"._eE") || self.peek_byte().is_none() {
                    return false;
                }
            } else if digits.contains(&c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.pos != initial && !self.peek_byte().is_some_and(is_alnum)
    }

    fn number_or_duration(&mut self, start: usize) -> Result<Token, ParseError> {
        self.pos = start;
        if self.scan_number() {
            return Ok(self.tok(TokenKind::Number, start));
        }
        // Not a complete number: the rest may make it a duration (`5m`,
        // `1h30m`); Prometheus continues from where the number scan stopped,
        // and the error text shows exactly what both scans consumed.
        let mut ok = self.accept(b"smhdwy");
        if ok {
            self.accept(b"s");
            while ok && self.peek_byte().is_some_and(|c| c.is_ascii_digit()) {
                while self.peek_byte().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                ok = self.accept(b"smhdw");
                if ok {
                    self.accept(b"s");
                }
            }
            if ok {
                match self.peek_byte() {
                    Some(c) if is_alnum(c) => self.pos += 1,
                    _ => return Ok(self.tok(TokenKind::Duration, start)),
                }
            }
        }
        let text = self.input.get(start..self.pos).unwrap_or_default();
        Err(self.err(start, format!("bad number or duration syntax: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Result<Vec<(TokenKind, String)>, String> {
        let mut lx = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token().map_err(|e| e.to_string())?;
            if t.kind == TokenKind::Eof {
                return Ok(out);
            }
            out.push((t.kind, t.text));
        }
    }

    fn check(input: &str, want: &str) {
        let got = match kinds(input) {
            Ok(ts) => ts
                .iter()
                .map(|(k, t)| format!("{k:?}:{t}"))
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => e,
        };
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    fn tokens() {
        check(
            "foo 1 0x1f 1e3 .5 Inf",
            "Word:foo Number:1 Number:0x1f Number:1e3 Number:.5 Number:Inf",
        );
        check("a[1h30m]", "Word:a LBracket:[ Duration:1h30m RBracket:]");
        check(
            "a[5m:step()]",
            "Word:a LBracket:[ Duration:5m Colon:: Word:step LParen:( RParen:) RBracket:]",
        );
        check("a </ 1", "Word:a Op:</ Number:1");
        check(
            r#"{a=~"x",b!~'y'}"#,
            r#"LBrace:{ Word:a EqlRegex:=~ Str("x"):"x" Comma:, Word:b NeqRegex:!~ Str("y"):'y' RBrace:}"#,
        );
        check("a # comment\n+ b", "Word:a Op:+ Word:b");
        check("job:rate5m", "Word:job:rate5m");
    }

    #[test]
    fn errors() {
        let e = |s: &str| format!("1:{s}");
        check("(foo", &e("5: parse error: unclosed left parenthesis"));
        check(
            "foo{",
            &e("5: parse error: unexpected end of input inside braces"),
        );
        check("a[5m", &e("5: parse error: unclosed left bracket"));
        check(
            "a[",
            &e("3: parse error: unexpected end of input in duration expression"),
        );
        check(
            "1a",
            &e(r#"1: parse error: bad number or duration syntax: "1""#),
        );
        check(
            "2.5.",
            &e(r#"1: parse error: bad number or duration syntax: "2.5.""#),
        );
        check(
            "a[5m1]",
            &e(r#"3: parse error: bad number or duration syntax: "5m1""#),
        );
        check(
            r#"a["5m"]"#,
            &e(r#"3: parse error: unexpected character in duration expression: '"'"#),
        );
        check(
            r#""\c""#,
            &e("1: parse error: unknown escape sequence U+0063 'c'"),
        );
        check(
            r#""\x.""#,
            &e("1: parse error: illegal character U+002E '.' in escape sequence"),
        );
        check(
            "(1))",
            &e("5: parse error: unexpected right parenthesis ')'"),
        );
        check("\"abc", &e("1: parse error: unterminated quoted string"));
        check(
            "a ! b",
            &e("3: parse error: unexpected character after '!': ' '"),
        );
        check("a ~ b", &e("3: parse error: unexpected character: '~'"));
        check("a)", &e("3: parse error: unexpected right parenthesis ')'"));
        check(
            "a[x]",
            &e("3: parse error: unexpected character in duration expression: 'x'"),
        );
    }
}
