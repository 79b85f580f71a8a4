//! Duration expressions (3.x): arithmetic, `step()`, `range()`, `min_of`, `max_of` in ranges,
//! subquery steps and offsets.

use super::{Parser, Result};
use crate::ast::{DurationExpr, DurationOp};
use crate::error::Span;
use crate::lexer::TokenKind;

impl Parser<'_> {
    /// A range or step: a duration expression; a plain literal must be > 0.
    pub(super) fn parse_positive_duration(&mut self) -> Result<DurationExpr> {
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

    pub(super) fn check_duration_expr_enabled(&mut self, span: Span) {
        if !self.opts.duration_expressions {
            self.add_err(span, "experimental duration expression is not enabled");
        }
    }

    pub(super) fn peek_duration_op(&mut self) -> Result<Option<DurationOp>> {
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
    pub(super) fn parse_duration_expr(&mut self, min_prec: u8) -> Result<DurationExpr> {
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

    pub(super) fn parse_duration_unary(&mut self) -> Result<DurationExpr> {
        let t = self.peek()?.clone();
        if t.is_op("-") || t.is_op("+") {
            self.next()?;
            let operand = self.parse_duration_expr(5)?;
            return Ok(self.apply_duration_sign(t.is_op("-"), t.span, operand));
        }
        self.parse_duration_atom()
    }

    pub(super) fn apply_duration_sign(
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
    pub(super) fn parse_duration_atom(&mut self) -> Result<DurationExpr> {
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

    pub(super) fn expect_empty_parens(&mut self) -> Result<()> {
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
    pub(super) fn parse_offset_duration(&mut self) -> Result<DurationExpr> {
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
}
