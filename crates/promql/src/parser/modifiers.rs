//! Postfix modifiers: ranges and subqueries `[...]`, `offset`, `@`, `anchored`, `smoothed`,
//! with Prometheus's rules on what they may follow.

use super::{Parser, Result};
use crate::ast::{AtModifier, DurationExpr, Expr, MatrixSelector, SubqueryExpr};
use crate::error::Span;
use crate::lexer::TokenKind;
use model::Matcher;

impl Parser<'_> {
    /// `[range]`, `[range:step]`, `offset d`, `@ t`, `anchored`, `smoothed`.
    pub(super) fn parse_postfix(&mut self, mut e: Expr) -> Result<Expr> {
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
                        self.set_extended(&mut e, w == "anchored");
                    }
                    _ => return Ok(e),
                },
                _ => return Ok(e),
            }
        }
    }

    pub(super) fn parse_range(&mut self, e: Expr) -> Result<Expr> {
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

    pub(super) fn set_offset(&mut self, e: &mut Expr, d: DurationExpr) {
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
    pub(super) fn extend_span(&mut self, e: &mut Expr) {
        let end = Span::new(self.last_end, self.last_end);
        match e {
            Expr::VectorSelector(vs) => vs.span = vs.span.to(end),
            Expr::MatrixSelector(ms) => ms.span = ms.span.to(end),
            Expr::Subquery(sq) => sq.span = sq.span.to(end),
            _ => {}
        }
    }

    pub(super) fn parse_at(&mut self, mut e: Expr) -> Result<Expr> {
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

    pub(super) fn set_extended(&mut self, e: &mut Expr, anchored: bool) {
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
