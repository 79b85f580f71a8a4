//! Binary-operator modifiers: `bool`, `on`/`ignoring`, `group_left`/`group_right`, `fill`, and label lists.

use super::{BinModifiers, Parser, Result};
use crate::ast::{Cardinality, VectorMatching};
use crate::error::{go_quote, Span};
use crate::lexer::TokenKind;

impl Parser<'_> {
    pub(super) fn parse_bin_modifiers(&mut self) -> Result<BinModifiers> {
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

    pub(super) fn peeked_followed_by_lparen(&self) -> bool {
        self.lexer.followed_by_lparen()
    }

    /// `( [+|-] number )` after a fill modifier.
    pub(super) fn parse_fill_value(&mut self) -> Result<f64> {
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
    pub(super) fn parse_grouping_labels(&mut self) -> Result<Vec<String>> {
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
                TokenKind::Word => {
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
}
