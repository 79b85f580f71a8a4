//! Aggregations (`sum by (a) (x)`, `topk(3, x)`) and function calls, with
//! Prometheus's argument-count rules for aggregations.

use super::{Parser, Result};
use crate::ast::{AggregateExpr, AggregateOp, Call, Expr, NumberLiteral};
use crate::error::{go_quote, Span};
use crate::functions;
use crate::lexer::{Token, TokenKind};

impl Parser<'_> {
    pub(super) fn parse_aggregate(&mut self, op: AggregateOp, op_span: Span) -> Result<Expr> {
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
    pub(super) fn parse_call_args(&mut self) -> Result<Vec<Expr>> {
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

    pub(super) fn parse_call(&mut self, name: Token) -> Result<Expr> {
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
}
