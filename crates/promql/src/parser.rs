//! A recursive-descent (Pratt) parser for PromQL with Prometheus 3.x's
//! grammar, precedence and error texts.
//!
//! Precedence, loosest first: `or`; `and` `unless`; comparisons (and the
//! histogram trims `</` `>/`); `+` `-`; `*` `/` `%` `atan2`; `^` (right
//! associative). Unary `+`/`-` binds like `*`, so `-a^b` is `-(a^b)` and
//! `-a*b` is `(-a)*b`; a sign directly on a number literal folds into it.
//! The postfix modifiers `[...]`, `offset`, `@`, `anchored`, `smoothed` bind
//! tighter than everything, so `-foo offset 5m` is `-(foo offset 5m)` and
//! `foo offset 1m + 2` is `(foo offset 1m) + 2`.
//!
//! Syntax errors stop parsing at once; semantic errors found while parsing
//! (a repeated `offset`, a range on a non-selector) are collected and the
//! first is reported, as Prometheus does, and only a query without them is
//! type-checked (`check.rs`).

use crate::ast::{
    AggregateOp, BinaryExpr, BinaryOp, Expr, ParenExpr, StringLiteral, UnaryExpr, VectorMatching,
};
use crate::error::{ParseError, Span};
use crate::lexer::{Lexer, Token, TokenKind};
use crate::ParseOptions;

mod binary;
mod call;
mod duration;
mod literal;
mod modifiers;
mod selector;

/// Parser state over one query.
pub(crate) struct Parser<'a> {
    input: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    /// End of the last consumed token (Prometheus's `lastClosing`).
    last_end: usize,
    /// Semantic errors found while parsing; the first one is reported.
    pub(crate) errors: Vec<ParseError>,
    pub(crate) opts: ParseOptions,
}

type Result<T> = std::result::Result<T, ParseError>;

/// Modifiers written after a binary operator.
struct BinModifiers {
    return_bool: bool,
    matching: Option<VectorMatching>,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(input: &'a str, opts: ParseOptions) -> Parser<'a> {
        Parser {
            input,
            lexer: Lexer::new(input),
            peeked: None,
            last_end: 0,
            errors: Vec::new(),
            opts,
        }
    }

    pub(crate) fn input(&self) -> &'a str {
        self.input
    }

    fn peek(&mut self) -> Result<&Token> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        match &self.peeked {
            Some(t) => Ok(t),
            None => Err(ParseError::new(
                self.input,
                Span::default(),
                "BUG: no token",
            )),
        }
    }

    fn next(&mut self) -> Result<Token> {
        let t = match self.peeked.take() {
            Some(t) => t,
            None => self.lexer.next_token()?,
        };
        self.last_end = t.span.end;
        Ok(t)
    }

    fn err(&self, span: Span, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.input, span, msg)
    }

    /// Records a semantic error and goes on parsing.
    pub(crate) fn add_err(&mut self, span: Span, msg: impl Into<String>) {
        let e = self.err(span, msg);
        self.errors.push(e);
    }

    /// Prometheus's "unexpected <token> in <context>, expected <what>".
    fn unexpected(&mut self, context: &str, expected: &str) -> ParseError {
        let t = match self.peek() {
            Ok(t) => t.clone(),
            Err(e) => return e,
        };
        let mut msg = format!("unexpected {}", t.describe());
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        self.err(t.span, msg)
    }

    fn peek_kind(&mut self, kind: &TokenKind) -> Result<bool> {
        Ok(&self.peek()?.kind == kind)
    }

    fn peek_word(&mut self) -> Result<Option<String>> {
        Ok(self.peek()?.word())
    }

    /// The whole query.
    pub(crate) fn parse_query(&mut self) -> Result<Expr> {
        if self.peek_kind(&TokenKind::Eof)? {
            return Err(self.err(Span::default(), "no expression found in input"));
        }
        let e = self.parse_expr(0)?;
        if !self.peek_kind(&TokenKind::Eof)? {
            return Err(self.unexpected("", ""));
        }
        Ok(e)
    }

    /// The binary operator at the current token, if any.
    fn peek_binop(&mut self) -> Result<Option<BinaryOp>> {
        let t = self.peek()?;
        Ok(match t.kind {
            TokenKind::Op => BinaryOp::from_str_op(&t.text),
            TokenKind::Word => match t.text.to_ascii_lowercase().as_str() {
                w @ ("and" | "or" | "unless" | "atan2") => BinaryOp::from_str_op(w),
                _ => None,
            },
            _ => None,
        })
    }

    /// Parses operators binding tighter than `min_prec`.
    pub(crate) fn parse_expr(&mut self, min_prec: u8) -> Result<Expr> {
        let mut lhs = self.parse_unary()?;
        while let Some(op) = self.peek_binop()? {
            let prec = op.precedence();
            if prec <= min_prec {
                break;
            }
            self.next()?;
            let mods = self.parse_bin_modifiers()?;
            let rhs = self.parse_expr(if op.right_associative() {
                prec - 1
            } else {
                prec
            })?;
            lhs = self.new_binary(lhs, op, mods, rhs);
        }
        Ok(lhs)
    }

    fn new_binary(&mut self, lhs: Expr, op: BinaryOp, mods: BinModifiers, rhs: Expr) -> Expr {
        let span = lhs.span().to(rhs.span());
        if let Some(m) = &mods.matching {
            if !self.opts.binop_fill_modifiers && (m.fill_lhs.is_some() || m.fill_rhs.is_some()) {
                self.add_err(
                    span,
                    "binop fill modifiers are experimental and not enabled",
                );
            }
        }
        Expr::Binary(BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            matching: mods.matching,
            return_bool: mods.return_bool,
            span,
        })
    }

    fn parse_unary(&mut self) -> Result<Expr> {
        let t = self.peek()?;
        if t.is_op("-") || t.is_op("+") {
            let negate = t.is_op("-");
            let op = self.next()?;
            // Unary operators bind like `*`: only `^` and postfix modifiers
            // are tighter.
            let operand = self.parse_expr(5)?;
            let span = op.span.to(operand.span());
            return Ok(match operand {
                Expr::Number(mut n) => {
                    if negate {
                        n.value = -n.value;
                    }
                    n.span = span;
                    Expr::Number(n)
                }
                e => Expr::Unary(UnaryExpr {
                    negate,
                    expr: Box::new(e),
                    span,
                }),
            });
        }
        let e = self.parse_primary()?;
        self.parse_postfix(e)
    }

    fn parse_primary(&mut self) -> Result<Expr> {
        let t = self.peek()?.clone();
        match &t.kind {
            TokenKind::Number | TokenKind::Duration => {
                self.next()?;
                Ok(Expr::Number(self.number_literal(&t)))
            }
            TokenKind::Str(s) => {
                self.next()?;
                let bytes = crate::lexer::unquote_bytes(&t.text).unwrap_or_default();
                let invalid_utf8 = std::str::from_utf8(&bytes).is_err().then_some(bytes);
                Ok(Expr::String(StringLiteral {
                    value: s.clone(),
                    invalid_utf8,
                    span: t.span,
                }))
            }
            TokenKind::LParen => {
                self.next()?;
                let inner = self.parse_expr(0)?;
                if !self.peek_kind(&TokenKind::RParen)? {
                    return Err(self.unexpected("", ""));
                }
                let close = self.next()?;
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    span: t.span.to(close.span),
                }))
            }
            TokenKind::LBrace => {
                let (matchers, span) = self.parse_label_matchers()?;
                Ok(Expr::VectorSelector(
                    self.new_selector(None, matchers, span),
                ))
            }
            TokenKind::Word => self.parse_word_expr(t),
            _ => Err(self.unexpected("", "")),
        }
    }

    /// An expression starting with a word: aggregation, call or selector.
    fn parse_word_expr(&mut self, t: Token) -> Result<Expr> {
        let lw = t.text.to_ascii_lowercase();
        if matches!(
            lw.as_str(),
            "bool"
                | "on"
                | "ignoring"
                | "group_left"
                | "group_right"
                | "and"
                | "or"
                | "unless"
                | "atan2"
        ) {
            return Err(self.unexpected("", ""));
        }
        self.next()?;
        if let Some(op) = AggregateOp::from_name(&lw) {
            let next = self.peek()?;
            let is_agg = next.kind == TokenKind::LParen
                || matches!(next.word().as_deref(), Some("by" | "without"));
            if is_agg {
                return self.parse_aggregate(op, t.span);
            }
        }
        // Keywords that may name a metric but never a function: Prometheus
        // reads `by(...)` as the selector `by` followed by a stray "(".
        let never_function = matches!(
            lw.as_str(),
            "by" | "without"
                | "offset"
                | "anchored"
                | "smoothed"
                | "fill"
                | "fill_left"
                | "fill_right"
        );
        if !never_function && self.peek_kind(&TokenKind::LParen)? {
            return self.parse_call(t);
        }
        let mut span = t.span;
        let mut matchers = Vec::new();
        if self.peek_kind(&TokenKind::LBrace)? {
            let (m, s) = self.parse_label_matchers()?;
            matchers = m;
            span = span.to(s);
        }
        Ok(Expr::VectorSelector(self.new_selector(
            Some(t.text),
            matchers,
            span,
        )))
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::{DurationExpr, Expr};
    use crate::ParseOptions;

    /// The tree with every operation parenthesised, to show its shape.
    fn tree(e: &Expr) -> String {
        match e {
            Expr::Binary(b) => {
                let full = e.to_string();
                let lhs_len = b.lhs.to_string().len();
                let rhs_len = b.rhs.to_string().len();
                let op = full.get(lhs_len..full.len() - rhs_len).unwrap_or("?");
                format!("({}{op}{})", tree(&b.lhs), tree(&b.rhs))
            }
            Expr::Unary(u) => format!("({}{})", if u.negate { "-" } else { "+" }, tree(&u.expr)),
            Expr::Paren(p) => format!("[{}]", tree(&p.expr)),
            e => e.to_string(),
        }
    }

    fn check_with(opts: ParseOptions, input: &str, want: &str) {
        let got = match crate::parse_with(input, opts) {
            Ok(e) => tree(&e),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, want, "input {input:?}");
    }

    fn check(input: &str, want: &str) {
        check_with(ParseOptions::default(), input, want);
    }

    #[test]
    fn precedence_and_associativity() {
        check("1 + 2 * 3", "(1 + (2 * 3))");
        check("a - b - c", "((a - b) - c)");
        check("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))");
        check("-a ^ b", "(-(a ^ b))");
        check("-a * b", "((-a) * b)");
        check("-2 ^ 2", "(-(2 ^ 2))");
        check("- -1", "1");
        check("a atan2 b * c", "((a atan2 b) * c)");
        check("a or b and c", "(a or (b and c))");
        check("a and b unless c", "((a and b) unless c)");
        check("a > b + 1", "(a > (b + 1))");
        check("a == bool b", "(a == bool b)");
        check("(a + b) * c", "([(a + b)] * c)");
        check("-foo offset 5m", "(-foo offset 5m)");
        check("foo offset 1m + 2", "(foo offset 1m + 2)");
        check("foo offset -2 ^ 2", "(foo offset -2s ^ 2)");
        check("foo offset (-2 ^ 2)", "foo offset (-2 ^ 2)");
        check("a </ 5 >/ 1", "((a </ 5) >/ 1)");
    }

    #[test]
    fn printing_normalises() {
        check("sum(x) by (a,b)", "sum by (a, b) (x)");
        check("sum without(a) (x)", "sum without (a) (x)");
        check("sum by () (x)", "sum(x)");
        check("topk(5, x)", "topk(5, x)");
        check("count_values('v', x)", "count_values(\"v\", x)");
        check("quantile by (a) (0.9, x)", "quantile by (a) (0.9, x)");
        check("limit_ratio(-0.5, x)", "limit_ratio(-0.5, x)");
        check("a + on(b) group_left(c) d", "(a + on (b) group_left (c) d)");
        check(
            "a + ignoring(b) group_right d",
            "(a + ignoring (b) group_right () d)",
        );
        check("a + fill(0) b", "(a + fill (0) b)");
        check(
            "a + fill_left(1) fill_right(-2) b",
            "(a + fill_left (1) fill_right (-2) b)",
        );
        check("fill + fill", "(fill + fill)");
        check("rate(x[300])[30m:1m]", "rate(x[5m])[30m:1m]");
        check("x[5m:]", "x[5m:]");
        check("foo offset 5m @ 100", "foo @ 100.000 offset 5m");
        check("foo @ start()", "foo @ start()");
        check("foo[1m] @ end() offset -1h", "foo[1m] @ end() offset -1h");
        check("foo[5m+1m]", "foo[5m + 1m]");
        check(
            "foo[STep()*2:min_of(1m, range())]",
            "foo[step() * 2:min_of(1m, range())]",
        );
        check("foo offset (1h*2)", "foo offset (1h * 2)");
        check("foo[1h] anchored", "foo[1h] anchored");
        check("foo smoothed", "foo smoothed");
        check(
            r#"{"my.metric", a!~"x"}"#,
            r#"{__name__="my.metric",a!~"x"}"#,
        );
        check(r#"foo{b="1",a=~"2"}"#, r#"foo{a=~"2",b="1"}"#);
        check("0x1f + 010 + 1e3 + 1_000", "(((31 + 8) + 1000) + 1000)");
        check("Inf - nan", "(+Inf - NaN)");
        check("1h + 90s", "(1h + 1m30s)");
        check(
            r#"label_replace(x, "a\x41", `b\n`, 'c', "")"#,
            r#"label_replace(x, "aA", "b\\n", "c", "")"#,
        );
        check("# comment only\nfoo", "foo");
    }

    #[test]
    fn go_numbers() {
        use super::literal::parse_go_number as n;
        assert_eq!(n("1_000"), Some(1000.0));
        assert_eq!(n("010"), Some(8.0));
        assert_eq!(n("09"), Some(9.0));
        assert_eq!(n("0X_1F"), Some(31.0));
        assert_eq!(n("1e-3"), Some(0.001));
        assert_eq!(n(".5"), Some(0.5));
        assert_eq!(n("1_000.5"), None);
        assert_eq!(n("0xffffffffffffffffff"), None);
        assert!(n("NaN").is_some_and(f64::is_nan));
        check(
            "1_0.5",
            r#"1:1: parse error: error parsing number: strconv.ParseFloat: parsing "1_0.5": invalid syntax"#,
        );
        check("by (a:b) + 1", r#"1:4: parse error: unexpected "(""#);
        check("sum by (a:b) (x)", r#"sum by ("a:b") (x)"#);
    }

    #[test]
    fn duration_constants() {
        let e = crate::parse("foo[2m*(10+5)] offset -(1m)").unwrap_or_else(|e| panic!("{e}"));
        let Expr::MatrixSelector(m) = e else {
            panic!("not a matrix selector: {e:?}")
        };
        assert_eq!(m.range.constant(), Some(1800.0));
        assert_eq!(
            m.selector.offset.as_ref().and_then(DurationExpr::constant),
            Some(-60.0)
        );
        let e = crate::parse("foo offset step()").unwrap_or_else(|e| panic!("{e}"));
        let Expr::VectorSelector(v) = e else {
            panic!("not a selector")
        };
        let off = v.offset.unwrap_or(DurationExpr::Range);
        assert_eq!(off.constant(), None);
        assert_eq!(off.eval(Some(15.0), None), Some(15.0));
    }

    #[test]
    fn semantic_errors() {
        let e = |s: &str| format!("1:{s}");
        check(
            "{}",
            &e("1: parse error: vector selector must contain at least one non-empty matcher"),
        );
        check(
            r#"{a=~".*"}"#,
            &e("1: parse error: vector selector must contain at least one non-empty matcher"),
        );
        check(
            "rate(foo)",
            &e(
                r#"6: parse error: expected type range vector in call to function "rate", got instant vector"#,
            ),
        );
        check(
            "1 < 2",
            &e("3: parse error: comparisons between scalars must use BOOL modifier"),
        );
        check(
            "a + bool b",
            &e("3: parse error: bool modifier can only be used on comparison operators"),
        );
        check(
            "a and 1",
            &e(r#"1: parse error: set operator "and" not allowed in binary scalar expression"#),
        );
        check(
            "a and on(b) group_left c",
            &e(r#"1: parse error: no grouping allowed for "and" operation"#),
        );
        check(
            "1 + on(a) 2",
            &e("1: parse error: vector matching only allowed between instant vectors"),
        );
        check(
            "a + on(b) group_left(b) c",
            &e(r#"3: parse error: label "b" must not occur in ON and GROUP clause at once"#),
        );
        check(
            "foo offset 1m offset 2m",
            &e("1: parse error: offset may not be set multiple times"),
        );
        check(
            "foo @ 1 @ 2",
            &e("1: parse error: @ <timestamp> may not be set multiple times"),
        );
        check(
            "unknown(x)",
            &e(r#"1: parse error: unknown function with name "unknown""#),
        );
        check(
            "foo[0]",
            &e("5: parse error: duration must be greater than 0"),
        );
        check("sum(a, b)", &e("1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"));
        check("topk(a)", &e("1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"));
        check(
            "sum()",
            &e("1: parse error: no arguments for aggregate expression provided"),
        );
        check(
            "(foo + bar)[5m]",
            &e("12: parse error: ranges only allowed for vector selectors"),
        );
        check(
            "foo offset 1m [5m]",
            &e("15: parse error: no offset modifiers allowed before range"),
        );
        check(
            "x[5m:1m] anchored",
            &e("1: parse error: anchored modifier is not supported for subqueries"),
        );
        check(
            "foo[1m] anchored smoothed",
            &e("1: parse error: anchored and smoothed modifiers cannot be used together"),
        );
        check(
            "label_join(a)",
            &e(r#"1: parse error: expected at least 3 argument(s) in call to "label_join", got 1"#),
        );
        check(
            "round(a, 1, 2)",
            &e(r#"1: parse error: expected at most 2 argument(s) in call to "round", got 3"#),
        );
        check(
            "time(1)",
            &e(r#"1: parse error: expected 0 argument(s) in call to "time", got 1"#),
        );
        check(
            r#"-"s""#,
            &e(
                r#"1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string""#,
            ),
        );
        check(r#""a" + 1"#, &e("1: parse error: binary expression must contain only scalar and instant vector types"));
        check(
            r#"foo{__name__="bar"}"#,
            &e(r#"1: parse error: metric name must not be set twice: "foo" or "bar""#),
        );
        check("sum(x) offset 1m", &e("1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"));
        check(
            "foo[5m][5m:1m]",
            &e("1: parse error: subquery is only allowed on instant vector, got matrix instead"),
        );
        check(
            "topk(\"a\", x)",
            &e("6: parse error: expected type scalar in aggregation parameter, got string"),
        );
        check("sum(x[5m])", &e("5: parse error: expected type instant vector in aggregation expression, got range vector"));
        check("foo[1m/0]", &e("7: parse error: division by zero"));
        check(
            "rate(x[5m],)",
            &e("11: parse error: trailing commas not allowed in function call args"),
        );
        check(
            r#"info(a, b)"#,
            &e("9: parse error: expected label selectors only, got vector selector instead"),
        );
    }

    #[test]
    fn syntax_errors() {
        let e = |s: &str| format!("1:{s}");
        check("", &e("1: parse error: no expression found in input"));
        check("foo +", &e("6: parse error: unexpected end of input"));
        check(
            "foo bar",
            &e(r#"5: parse error: unexpected identifier "bar""#),
        );
        check(
            "sum by (a",
            &e(r#"10: parse error: unclosed left parenthesis"#),
        );
        check("foo offset", &e("11: parse error: unexpected end of input in offset, expected number, duration, step(), or range()"));
        check(
            "foo @ bar",
            &e(r#"7: parse error: unexpected identifier "bar" in @, expected timestamp"#),
        );
        check("foo[5m", &e("7: parse error: unclosed left bracket"));
        check(
            "a{b}",
            &e(
                r#"4: parse error: unexpected "}" in label matching, expected label matching operator"#,
            ),
        );
        check(
            "a{b=c}",
            &e(r#"5: parse error: unexpected identifier "c" in label matching, expected string"#),
        );
        check(
            "sum by a (x)",
            &e(r#"8: parse error: unexpected identifier "a" in grouping opts, expected "(""#),
        );
        check(
            "a\n  + (",
            &e("2:6: parse error: unclosed left parenthesis").replacen("1:", "", 1),
        );
    }

    #[test]
    fn feature_flags() {
        let stable = ParseOptions::stable();
        let e = |s: &str| format!("1:{s}");
        check_with(stable, "limitk(1, x)", &e("1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions"));
        check_with(
            stable,
            "sort_by_label(x, \"a\")",
            &e(r#"1: parse error: function "sort_by_label" is not enabled"#),
        );
        check_with(
            stable,
            "foo[5m] smoothed",
            &e("1: parse error: smoothed modifier is experimental and not enabled"),
        );
        check_with(
            stable,
            "foo[5m+1m]",
            &e("5: parse error: experimental duration expression is not enabled"),
        );
        check_with(
            stable,
            "a + fill(0) b",
            &e("1: parse error: binop fill modifiers are experimental and not enabled"),
        );
        check_with(stable, "rate(foo[5m]) + 1", "(rate(foo[5m]) + 1)");
    }
}
