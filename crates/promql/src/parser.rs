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
    AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality, DurationExpr,
    DurationOp, Expr, MatrixSelector, NumberLiteral, ParenExpr, StringLiteral, SubqueryExpr,
    UnaryExpr, VectorMatching, VectorSelector,
};
use crate::error::{go_quote, ParseError, Span};
use crate::functions;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::ParseOptions;
use model::{MatchType, Matcher};

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
            let op_tok = self.next()?;
            let mods = self.parse_bin_modifiers()?;
            let rhs = self.parse_expr(if op.right_associative() {
                prec - 1
            } else {
                prec
            })?;
            lhs = self.new_binary(lhs, op, op_tok.span, mods, rhs);
        }
        Ok(lhs)
    }

    fn new_binary(
        &mut self,
        lhs: Expr,
        op: BinaryOp,
        _op_span: Span,
        mods: BinModifiers,
        rhs: Expr,
    ) -> Expr {
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

    fn parse_bin_modifiers(&mut self) -> Result<BinModifiers> {
        let mut m = VectorMatching {
            card: Cardinality::OneToOne,
            matching_labels: Vec::new(),
            on: false,
            include: Vec::new(),
            fill_lhs: None,
            fill_rhs: None,
        };
        let mut return_bool = false;
        if self.peek_word()?.as_deref() == Some("bool") {
            self.next()?;
            return_bool = true;
        }
        if let Some(w @ ("on" | "ignoring")) = self.peek_word()?.as_deref() {
            m.on = w == "on";
            self.next()?;
            m.matching_labels = self.parse_grouping_labels()?;
            if let Some(w @ ("group_left" | "group_right")) = self.peek_word()?.as_deref() {
                m.card = if w == "group_left" {
                    Cardinality::ManyToOne
                } else {
                    Cardinality::OneToMany
                };
                self.next()?;
                if self.peek_kind(&TokenKind::LParen)? {
                    m.include = self.parse_grouping_labels()?;
                }
            }
        }
        // fill(v), fill_left(v), fill_right(v): keywords only before "(".
        let mut seen_fill = false;
        loop {
            let w = self.peek_word()?;
            let is_fill = matches!(w.as_deref(), Some("fill" | "fill_left" | "fill_right"))
                && self.peeked_followed_by_lparen();
            if !is_fill {
                break;
            }
            let w = w.unwrap_or_default();
            if seen_fill && (w == "fill" || m.fill_lhs.is_some() == m.fill_rhs.is_some()) {
                return Err(self.unexpected("", ""));
            }
            self.next()?;
            let v = self.parse_fill_value()?;
            match w.as_str() {
                "fill" => {
                    m.fill_lhs = Some(v);
                    m.fill_rhs = Some(v);
                }
                "fill_left" if m.fill_lhs.is_none() => m.fill_lhs = Some(v),
                "fill_right" if m.fill_rhs.is_none() => m.fill_rhs = Some(v),
                _ => {
                    return Err(self.err(
                        Span::new(self.last_end, self.last_end),
                        "unexpected fill modifier",
                    ))
                }
            }
            if w == "fill" {
                break;
            }
            seen_fill = true;
        }
        Ok(BinModifiers {
            return_bool,
            matching: Some(m),
        })
    }

    fn peeked_followed_by_lparen(&self) -> bool {
        self.lexer.followed_by_lparen()
    }

    /// `( [+|-] number )` after a fill modifier.
    fn parse_fill_value(&mut self) -> Result<f64> {
        if !self.peek_kind(&TokenKind::LParen)? {
            return Err(self.unexpected("fill modifier", "\"(\""));
        }
        self.next()?;
        let mut sign = 1.0;
        let t = self.peek()?;
        if t.is_op("-") || t.is_op("+") {
            if t.is_op("-") {
                sign = -1.0;
            }
            self.next()?;
        }
        let t = self.next()?;
        let v = match t.kind {
            TokenKind::Number => self.number_value(&t),
            TokenKind::Duration => self.duration_value(&t),
            _ => {
                self.peeked = Some(t);
                return Err(self.unexpected("fill modifier", "number"));
            }
        };
        if !self.peek_kind(&TokenKind::RParen)? {
            return Err(self.unexpected("fill modifier", "\")\""));
        }
        self.next()?;
        Ok(sign * v)
    }

    /// `( label, ... )` of `by`, `without`, `on`, `ignoring`, `group_*`.
    fn parse_grouping_labels(&mut self) -> Result<Vec<String>> {
        if !self.peek_kind(&TokenKind::LParen)? {
            return Err(self.unexpected("grouping opts", "\"(\""));
        }
        self.next()?;
        let mut labels = Vec::new();
        loop {
            let t = self.peek()?.clone();
            match &t.kind {
                TokenKind::RParen => {
                    self.next()?;
                    return Ok(labels);
                }
                TokenKind::Word if !t.text.contains(':') => {
                    self.next()?;
                    labels.push(t.text.clone());
                }
                TokenKind::Str(s) => {
                    self.next()?;
                    if s.is_empty() {
                        self.add_err(
                            t.span,
                            format!("invalid label name for grouping: {}", go_quote(s)),
                        );
                    }
                    labels.push(s.clone());
                }
                _ => return Err(self.unexpected("grouping opts", "label")),
            }
            let t = self.peek()?;
            match t.kind {
                TokenKind::Comma => {
                    self.next()?;
                }
                TokenKind::RParen => {}
                _ => return Err(self.unexpected("grouping opts", "\",\" or \")\"")),
            }
        }
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
        if self.peek_kind(&TokenKind::LParen)? {
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

    fn new_selector(
        &mut self,
        name: Option<String>,
        mut matchers: Vec<Matcher>,
        span: Span,
    ) -> VectorSelector {
        if let Some(n) = &name {
            // As Prometheus: the name becomes the last matcher.
            matchers.push(Matcher::equal(model::METRIC_NAME, n.clone()));
        }
        VectorSelector {
            name,
            matchers,
            offset: None,
            at: None,
            anchored: false,
            smoothed: false,
            span,
        }
    }

    /// `{ matcher, ... }`.
    fn parse_label_matchers(&mut self) -> Result<(Vec<Matcher>, Span)> {
        let open = self.next()?;
        let mut matchers = Vec::new();
        loop {
            let t = self.peek()?.clone();
            let name = match &t.kind {
                TokenKind::RBrace => {
                    let close = self.next()?;
                    return Ok((matchers, open.span.to(close.span)));
                }
                TokenKind::Word => t.text.clone(),
                TokenKind::Str(s) => s.clone(),
                _ => return Err(self.unexpected("label matching", "identifier or \"}\"")),
            };
            self.next()?;
            let op = self.peek()?.clone();
            let match_type = match op.kind {
                TokenKind::Eql => MatchType::Equal,
                TokenKind::Op if op.text == "!=" => MatchType::NotEqual,
                TokenKind::EqlRegex => MatchType::Regex,
                TokenKind::NeqRegex => MatchType::NotRegex,
                _ if matches!(t.kind, TokenKind::Str(_)) => {
                    // A lone quoted string is the metric name (3.x UTF-8 names).
                    matchers.push(Matcher::equal(model::METRIC_NAME, name));
                    self.after_matcher()?;
                    continue;
                }
                _ => return Err(self.unexpected("label matching", "label matching operator")),
            };
            self.next()?;
            let v = self.peek()?.clone();
            let TokenKind::Str(value) = &v.kind else {
                return Err(self.unexpected("label matching", "string"));
            };
            self.next()?;
            match Matcher::new(match_type, name, value.clone()) {
                Ok(m) => matchers.push(m),
                Err(e) => {
                    let msg = format!("{}", e.source);
                    self.add_err(t.span.to(v.span), msg);
                }
            }
            self.after_matcher()?;
        }
    }

    fn after_matcher(&mut self) -> Result<()> {
        match self.peek()?.kind {
            TokenKind::Comma => {
                self.next()?;
                Ok(())
            }
            TokenKind::RBrace => Ok(()),
            _ => Err(self.unexpected("label matching", "\",\" or \"}\"")),
        }
    }

    fn parse_aggregate(&mut self, op: AggregateOp, op_span: Span) -> Result<Expr> {
        let mut grouping = None;
        if let Some(w @ ("by" | "without")) = self.peek_word()?.as_deref() {
            let without = w == "without";
            self.next()?;
            grouping = Some((self.parse_grouping_labels()?, without));
        }
        if !self.peek_kind(&TokenKind::LParen)? {
            return Err(self.unexpected("aggregation", ""));
        }
        let mut args = self.parse_call_args()?;
        let mut span = op_span.to(Span::new(self.last_end, self.last_end));
        if grouping.is_none() {
            if let Some(w @ ("by" | "without")) = self.peek_word()?.as_deref() {
                let without = w == "without";
                self.next()?;
                grouping = Some((self.parse_grouping_labels()?, without));
            }
        }
        span = span.to(Span::new(self.last_end, self.last_end));
        let grouping_written = grouping.is_some();
        let (grouping, without) = grouping.unwrap_or_default();
        let mk_dummy = || {
            Expr::Number(NumberLiteral {
                value: 0.0,
                duration: false,
                span,
            })
        };
        let mut param = None;
        if args.is_empty() {
            self.add_err(span, "no arguments for aggregate expression provided");
            args.push(mk_dummy());
        } else {
            let want = if op.param_type().is_some() { 2 } else { 1 };
            if op.experimental() && !self.opts.experimental_functions {
                self.add_err(
                    span,
                    format!("{}() is experimental and must be enabled with --enable-feature=promql-experimental-functions", op.as_str()),
                );
            }
            if args.len() != want {
                self.add_err(
                    span,
                    format!("wrong number of arguments for aggregate expression provided, expected {want}, got {}", args.len()),
                );
            }
            if want == 2 && args.len() >= 2 {
                param = Some(Box::new(args.remove(0)));
            }
        }
        let expr = args.pop().unwrap_or_else(mk_dummy);
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr: Box::new(expr),
            param,
            grouping,
            without,
            grouping_written,
            span,
        }))
    }

    /// `( expr, ... )`.
    fn parse_call_args(&mut self) -> Result<Vec<Expr>> {
        self.next()?; // "("
        let mut args = Vec::new();
        if self.peek_kind(&TokenKind::RParen)? {
            self.next()?;
            return Ok(args);
        }
        loop {
            args.push(self.parse_expr(0)?);
            let t = self.peek()?.clone();
            match t.kind {
                TokenKind::Comma => {
                    self.next()?;
                    if self.peek_kind(&TokenKind::RParen)? {
                        self.add_err(t.span, "trailing commas not allowed in function call args");
                        self.next()?;
                        return Ok(args);
                    }
                }
                TokenKind::RParen => {
                    self.next()?;
                    return Ok(args);
                }
                _ => return Err(self.unexpected("", "")),
            }
        }
    }

    fn parse_call(&mut self, name: Token) -> Result<Expr> {
        let args = self.parse_call_args()?;
        let span = name.span.to(Span::new(self.last_end, self.last_end));
        let func = match functions::function(&name.text) {
            Some(f) => f,
            None => {
                return Err(self.err(
                    name.span,
                    format!("unknown function with name {}", go_quote(&name.text)),
                ));
            }
        };
        if func.experimental && !self.opts.experimental_functions {
            self.add_err(
                name.span,
                format!("function {} is not enabled", go_quote(&name.text)),
            );
        }
        Ok(Expr::Call(Call { func, args, span }))
    }

    fn number_value(&mut self, t: &Token) -> f64 {
        match parse_go_number(&t.text) {
            Some(v) if v.is_infinite() && !t.text.to_ascii_lowercase().contains("inf") => {
                let msg = format!(
                    "error parsing number: strconv.ParseFloat: parsing {}: value out of range",
                    go_quote(&t.text)
                );
                self.add_err(t.span, msg);
                v
            }
            Some(v) => v,
            None => {
                self.add_err(
                    t.span,
                    format!(
                        "error parsing number: strconv.ParseFloat: parsing {}: invalid syntax",
                        go_quote(&t.text)
                    ),
                );
                0.0
            }
        }
    }

    fn duration_value(&mut self, t: &Token) -> f64 {
        match model::parse_duration(&t.text) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => {
                let msg = unknown_unit(&t.text).unwrap_or_else(|| e.to_string());
                self.add_err(t.span, msg);
                0.0
            }
        }
    }

    fn number_literal(&mut self, t: &Token) -> NumberLiteral {
        let duration = t.kind == TokenKind::Duration;
        let value = if duration {
            self.duration_value(t)
        } else {
            self.number_value(t)
        };
        NumberLiteral {
            value,
            duration,
            span: t.span,
        }
    }

    /// `[range]`, `[range:step]`, `offset d`, `@ t`, `anchored`, `smoothed`.
    fn parse_postfix(&mut self, mut e: Expr) -> Result<Expr> {
        loop {
            let t = self.peek()?.clone();
            match t.kind {
                TokenKind::LBracket => e = self.parse_range(e)?,
                TokenKind::At => {
                    self.next()?;
                    e = self.parse_at(e)?;
                }
                TokenKind::Word => match t.text.to_ascii_lowercase().as_str() {
                    "offset" => {
                        self.next()?;
                        let d = self.parse_offset_duration()?;
                        self.set_offset(&mut e, d);
                    }
                    w @ ("anchored" | "smoothed") => {
                        self.next()?;
                        self.set_extended(&mut e, w == "anchored", t.span);
                    }
                    _ => return Ok(e),
                },
                _ => return Ok(e),
            }
        }
    }

    fn parse_range(&mut self, e: Expr) -> Result<Expr> {
        let open = self.next()?;
        if self.peek_kind(&TokenKind::RBracket)? || self.peek_kind(&TokenKind::Colon)? {
            return Err(self.unexpected(
                "subquery or range selector",
                "number, duration, step(), or range()",
            ));
        }
        let range = self.parse_positive_duration()?;
        let t = self.peek()?.clone();
        match t.kind {
            TokenKind::RBracket => {
                let close = self.next()?;
                let bracket_span = open.span.to(close.span);
                let span = e.span().to(close.span);
                let selector = match e {
                    Expr::VectorSelector(vs) => {
                        let msg = if vs.offset.is_some() {
                            Some("no offset modifiers allowed before range")
                        } else if vs.at.is_some() {
                            Some("no @ modifiers allowed before range")
                        } else {
                            None
                        };
                        if let Some(m) = msg {
                            self.add_err(bracket_span, m);
                        }
                        vs
                    }
                    other => {
                        self.add_err(bracket_span, "ranges only allowed for vector selectors");
                        // Keep going with a placeholder so later errors still show.
                        let mut vs = self.new_selector(None, Vec::new(), other.span());
                        vs.matchers.push(Matcher::equal("__invalid__", "x"));
                        vs
                    }
                };
                Ok(Expr::MatrixSelector(MatrixSelector {
                    selector,
                    range,
                    span,
                }))
            }
            TokenKind::Colon => {
                self.next()?;
                let step = if self.peek_kind(&TokenKind::RBracket)? {
                    None
                } else {
                    if self.peek_kind(&TokenKind::Eof)? {
                        return Err(self.unexpected(
                            "subquery selector",
                            "number, duration, step(), range(), or \"]\"",
                        ));
                    }
                    Some(self.parse_positive_duration()?)
                };
                if !self.peek_kind(&TokenKind::RBracket)? {
                    return Err(self.unexpected("subquery selector", "\"]\""));
                }
                let close = self.next()?;
                let span = e.span().to(close.span);
                Ok(Expr::Subquery(SubqueryExpr {
                    expr: Box::new(e),
                    range,
                    step,
                    offset: None,
                    at: None,
                    span,
                }))
            }
            _ => Err(self.unexpected("subquery or range", "\":\" or \"]\"")),
        }
    }

    /// A range or step: a duration expression; a plain literal must be > 0.
    fn parse_positive_duration(&mut self) -> Result<DurationExpr> {
        let start = self.peek()?.span;
        let d = self.parse_duration_expr(0)?;
        if let DurationExpr::Number(n) = &d {
            if n.value <= 0.0 {
                self.add_err(n.span, "duration must be greater than 0");
            }
        } else {
            self.check_duration_expr_enabled(start);
        }
        Ok(d)
    }

    fn check_duration_expr_enabled(&mut self, span: Span) {
        if !self.opts.duration_expressions {
            self.add_err(span, "experimental duration expression is not enabled");
        }
    }

    fn peek_duration_op(&mut self) -> Result<Option<DurationOp>> {
        let t = self.peek()?;
        if t.kind != TokenKind::Op {
            return Ok(None);
        }
        Ok(match t.text.as_str() {
            "+" => Some(DurationOp::Add),
            "-" => Some(DurationOp::Sub),
            "*" => Some(DurationOp::Mul),
            "/" => Some(DurationOp::Div),
            "%" => Some(DurationOp::Mod),
            "^" => Some(DurationOp::Pow),
            _ => None,
        })
    }

    /// Duration arithmetic with the usual precedence (`^` right-associative).
    fn parse_duration_expr(&mut self, min_prec: u8) -> Result<DurationExpr> {
        let mut lhs = self.parse_duration_unary()?;
        while let Some(op) = self.peek_duration_op()? {
            let prec = match op {
                DurationOp::Add | DurationOp::Sub => 4,
                DurationOp::Mul | DurationOp::Div | DurationOp::Mod => 5,
                DurationOp::Pow => 6,
            };
            if prec <= min_prec {
                break;
            }
            let op_tok = self.next()?;
            let rhs = self.parse_duration_expr(if op == DurationOp::Pow {
                prec - 1
            } else {
                prec
            })?;
            if let DurationExpr::Number(n) = &rhs {
                if n.value == 0.0 && op == DurationOp::Div {
                    self.add_err(op_tok.span, "division by zero");
                }
                if n.value == 0.0 && op == DurationOp::Mod {
                    self.add_err(op_tok.span, "modulo by zero");
                }
            }
            lhs = DurationExpr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_duration_unary(&mut self) -> Result<DurationExpr> {
        let t = self.peek()?.clone();
        if t.is_op("-") || t.is_op("+") {
            self.next()?;
            let operand = self.parse_duration_expr(5)?;
            return Ok(self.apply_duration_sign(t.is_op("-"), t.span, operand));
        }
        self.parse_duration_atom()
    }

    fn apply_duration_sign(
        &mut self,
        negate: bool,
        span: Span,
        operand: DurationExpr,
    ) -> DurationExpr {
        match operand {
            DurationExpr::Number(mut n) => {
                if negate {
                    n.value = -n.value;
                }
                n.span = span.to(n.span);
                DurationExpr::Number(n)
            }
            d if negate => DurationExpr::Unary(DurationOp::Sub, Box::new(d)),
            d => d,
        }
    }

    /// A literal, `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)` or `(d)`.
    fn parse_duration_atom(&mut self) -> Result<DurationExpr> {
        let t = self.peek()?.clone();
        match &t.kind {
            TokenKind::Number | TokenKind::Duration => {
                self.next()?;
                let n = self.number_literal(&t);
                if n.value.abs() > (i64::MAX as f64) / 1e9 {
                    self.add_err(n.span, "duration out of range");
                }
                Ok(DurationExpr::Number(n))
            }
            TokenKind::LParen => {
                self.next()?;
                let inner = self.parse_duration_expr(0)?;
                if !self.peek_kind(&TokenKind::RParen)? {
                    return Err(self.unexpected("", ""));
                }
                self.next()?;
                self.check_duration_expr_enabled(t.span);
                Ok(DurationExpr::Paren(Box::new(inner)))
            }
            TokenKind::Word => {
                let w = t.text.to_ascii_lowercase();
                let d = match w.as_str() {
                    "step" | "range" => {
                        self.next()?;
                        if !self.peek_kind(&TokenKind::LParen)? {
                            return Err(self.unexpected(
                                "subquery or range selector",
                                "number, duration, step(), or range()",
                            ));
                        }
                        self.expect_empty_parens()?;
                        if w == "step" {
                            DurationExpr::Step
                        } else {
                            DurationExpr::Range
                        }
                    }
                    "min_of" | "max_of" => {
                        self.next()?;
                        if !self.peek_kind(&TokenKind::LParen)? {
                            return Err(self.unexpected("", "\"(\""));
                        }
                        self.next()?;
                        let a = self.parse_duration_expr(0)?;
                        if !self.peek_kind(&TokenKind::Comma)? {
                            return Err(self.unexpected("", "\",\""));
                        }
                        self.next()?;
                        let b = self.parse_duration_expr(0)?;
                        if !self.peek_kind(&TokenKind::RParen)? {
                            return Err(self.unexpected("", "\")\""));
                        }
                        self.next()?;
                        if w == "min_of" {
                            DurationExpr::MinOf(Box::new(a), Box::new(b))
                        } else {
                            DurationExpr::MaxOf(Box::new(a), Box::new(b))
                        }
                    }
                    _ => return Err(self.unexpected("", "")),
                };
                self.check_duration_expr_enabled(t.span);
                Ok(d)
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn expect_empty_parens(&mut self) -> Result<()> {
        if !self.peek_kind(&TokenKind::LParen)? {
            return Err(self.unexpected("", "\"(\""));
        }
        self.next()?;
        if !self.peek_kind(&TokenKind::RParen)? {
            return Err(self.unexpected("", "\")\""));
        }
        self.next()?;
        Ok(())
    }

    /// The duration after `offset`: one signed atom, so that
    /// `foo offset 1m + 2` adds 2 to the selector's values.
    fn parse_offset_duration(&mut self) -> Result<DurationExpr> {
        let t = self.peek()?.clone();
        let negate = t.is_op("-");
        let signed = negate || t.is_op("+");
        if signed {
            self.next()?;
        }
        let next = self.peek()?;
        let ok = matches!(
            next.kind,
            TokenKind::Number | TokenKind::Duration | TokenKind::LParen
        ) || matches!(
            next.word().as_deref(),
            Some("step" | "range" | "min_of" | "max_of")
        );
        if !ok {
            return Err(self.unexpected("offset", "number, duration, step(), or range()"));
        }
        let atom = self.parse_duration_atom()?;
        Ok(if signed {
            self.apply_duration_sign(negate, t.span, atom)
        } else {
            atom
        })
    }

    fn set_offset(&mut self, e: &mut Expr, d: DurationExpr) {
        let span = e.span();
        let slot = match e {
            Expr::VectorSelector(vs) => &mut vs.offset,
            Expr::MatrixSelector(ms) => &mut ms.selector.offset,
            Expr::Subquery(sq) => &mut sq.offset,
            _ => {
                self.add_err(span, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery");
                return;
            }
        };
        if slot.is_some() {
            self.add_err(span, "offset may not be set multiple times");
            return;
        }
        *slot = Some(d);
        self.extend_span(e);
    }

    /// Modifiers are part of their node's span.
    fn extend_span(&mut self, e: &mut Expr) {
        let end = Span::new(self.last_end, self.last_end);
        match e {
            Expr::VectorSelector(vs) => vs.span = vs.span.to(end),
            Expr::MatrixSelector(ms) => ms.span = ms.span.to(end),
            Expr::Subquery(sq) => sq.span = sq.span.to(end),
            _ => {}
        }
    }

    fn parse_at(&mut self, mut e: Expr) -> Result<Expr> {
        let t = self.peek()?.clone();
        let at = match t.word().as_deref() {
            Some(w @ ("start" | "end")) => {
                self.next()?;
                self.expect_empty_parens()?;
                if w == "start" {
                    AtModifier::Start
                } else {
                    AtModifier::End
                }
            }
            _ => {
                let negate = t.is_op("-");
                if negate || t.is_op("+") {
                    self.next()?;
                }
                let n = self.peek()?.clone();
                if !matches!(n.kind, TokenKind::Number | TokenKind::Duration) {
                    return Err(self.unexpected("@", "timestamp"));
                }
                self.next()?;
                let mut v = self.number_literal(&n).value;
                if negate {
                    v = -v;
                }
                if !v.is_finite() || v >= i64::MAX as f64 || v <= i64::MIN as f64 {
                    let shown = if v.is_finite() {
                        format!("{v:.6}")
                    } else {
                        crate::printer::format_float(v)
                    };
                    self.add_err(
                        e.span(),
                        format!("timestamp out of bounds for @ modifier: {shown}"),
                    );
                }
                AtModifier::Timestamp((v * 1000.0).round() as i64)
            }
        };
        let span = e.span();
        let slot = match &mut e {
            Expr::VectorSelector(vs) => &mut vs.at,
            Expr::MatrixSelector(ms) => &mut ms.selector.at,
            Expr::Subquery(sq) => &mut sq.at,
            _ => {
                self.add_err(span, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
                return Ok(e);
            }
        };
        if slot.is_some() {
            self.add_err(span, "@ <timestamp> may not be set multiple times");
            return Ok(e);
        }
        *slot = Some(at);
        self.extend_span(&mut e);
        Ok(e)
    }

    fn set_extended(&mut self, e: &mut Expr, anchored: bool, _kw: Span) {
        let name = if anchored { "anchored" } else { "smoothed" };
        let span = e.span();
        if !self.opts.extended_range_selectors {
            self.add_err(
                span,
                format!("{name} modifier is experimental and not enabled"),
            );
            return;
        }
        let vs = match e {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &mut ms.selector,
            Expr::Subquery(_) => {
                self.add_err(
                    span,
                    format!("{name} modifier is not supported for subqueries"),
                );
                return;
            }
            _ => {
                self.add_err(span, format!("{name} modifier not implemented"));
                return;
            }
        };
        if anchored {
            vs.anchored = true;
        } else {
            vs.smoothed = true;
        }
        if vs.anchored && vs.smoothed {
            self.add_err(
                span,
                "anchored and smoothed modifiers cannot be used together",
            );
        }
    }
}

/// Prometheus's message for a duration with a unit it does not know
/// (`5y1hs`), which the model crate words generically.
fn unknown_unit(text: &str) -> Option<String> {
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit_len = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let unit = &rest[digits..digits + unit_len];
        if !matches!(unit, "y" | "w" | "d" | "h" | "m" | "s" | "ms") {
            return Some(format!("unknown unit {unit:?} in duration {text:?}"));
        }
        rest = &rest[digits + unit_len..];
        if digits == 0 {
            return None;
        }
    }
    None
}

/// Parses a number as Go's `strconv.ParseInt(s, 0, 64)` then
/// `strconv.ParseFloat(s, 64)` would: hex `0x1f`, octal `010`, `_`
/// separators, `Inf`, `NaN`, exponents.
pub(crate) fn parse_go_number(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let clean: String = lower.chars().filter(|&c| c != '_').collect();
    if let Some(hex) = clean.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16)
            .map(|v| v as f64)
            .ok()
            .or_else(|| u128::from_str_radix(hex, 16).ok().map(|v| v as f64));
    }
    if clean.len() > 1 && clean.starts_with('0') && clean.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = i64::from_str_radix(&clean[1..], 8) {
            return Some(v as f64);
        }
    }
    clean.parse::<f64>().ok()
}
