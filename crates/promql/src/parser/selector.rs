//! Vector selectors: `name{label="v", ...}`, with quoted UTF-8 names.

use super::{Parser, Result};
use crate::ast::VectorSelector;
use crate::error::Span;
use crate::lexer::TokenKind;
use model::{MatchType, Matcher};

impl Parser<'_> {
    pub(super) fn new_selector(
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
    pub(super) fn parse_label_matchers(&mut self) -> Result<(Vec<Matcher>, Span)> {
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

    pub(super) fn after_matcher(&mut self) -> Result<()> {
        match self.peek()?.kind {
            TokenKind::Comma => {
                self.next()?;
                Ok(())
            }
            TokenKind::RBrace => Ok(()),
            _ => Err(self.unexpected("label matching", "\",\" or \"}\"")),
        }
    }
}
