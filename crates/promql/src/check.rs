//! Prometheus's semantic checks on a parsed query (`checkAST`): types of
//! operands and arguments, argument counts, vector-matching rules, and the
//! non-empty-matcher rule for selectors. Messages are Prometheus's.

use crate::ast::{Cardinality, Expr, ValueType};
use crate::error::{go_quote, Span};
use crate::parser::Parser;

impl Parser<'_> {
    /// Checks `e` and everything below it, recording errors; returns its type.
    pub(crate) fn check(&mut self, e: &mut Expr) -> ValueType {
        let typ = e.value_type();
        match e {
            Expr::Aggregate(a) => {
                self.expect_type(&mut a.expr, ValueType::Vector, "aggregation expression");
                if let (Some(want), Some(p)) = (a.op.param_type(), a.param.as_mut()) {
                    self.expect_type(p, want, "aggregation parameter");
                }
            }
            Expr::Binary(b) => {
                let lt = self.check(&mut b.lhs);
                let rt = self.check(&mut b.rhs);
                let op_span = self.op_span(b.lhs.span(), b.rhs.span());
                if b.return_bool && !b.op.is_comparison() {
                    self.add_err(
                        op_span,
                        "bool modifier can only be used on comparison operators",
                    );
                }
                if b.op.is_comparison()
                    && !b.return_bool
                    && lt == ValueType::Scalar
                    && rt == ValueType::Scalar
                {
                    self.add_err(
                        op_span,
                        "comparisons between scalars must use BOOL modifier",
                    );
                }
                if let Some(m) = b.matching.as_mut() {
                    if b.op.is_set() && m.card == Cardinality::OneToOne {
                        m.card = Cardinality::ManyToMany;
                    }
                    if m.on {
                        if let Some(l) = m.matching_labels.iter().find(|l| m.include.contains(l)) {
                            let msg = format!(
                                "label {} must not occur in ON and GROUP clause at once",
                                go_quote(l)
                            );
                            self.add_err(op_span, msg);
                        }
                    }
                }
                if lt != ValueType::Scalar && lt != ValueType::Vector {
                    self.add_err(
                        b.lhs.span(),
                        "binary expression must contain only scalar and instant vector types",
                    );
                }
                if rt != ValueType::Scalar && rt != ValueType::Vector {
                    self.add_err(
                        b.rhs.span(),
                        "binary expression must contain only scalar and instant vector types",
                    );
                }
                let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
                if !both_vectors {
                    if let Some(m) = b.matching.take() {
                        if !m.matching_labels.is_empty() {
                            self.add_err(
                                b.span,
                                "vector matching only allowed between instant vectors",
                            );
                        }
                        if m.fill_lhs.is_some() || m.fill_rhs.is_some() {
                            self.add_err(
                                b.span,
                                "filling in missing series only allowed between instant vectors",
                            );
                        }
                    }
                } else if b.op.is_set() {
                    if let Some(m) = &b.matching {
                        if matches!(m.card, Cardinality::OneToMany | Cardinality::ManyToOne) {
                            self.add_err(
                                b.span,
                                format!(
                                    "no grouping allowed for {} operation",
                                    go_quote(b.op.as_str())
                                ),
                            );
                        }
                        if m.card != Cardinality::ManyToMany {
                            self.add_err(b.span, "set operations must always be many-to-many");
                        }
                        if m.fill_lhs.is_some() || m.fill_rhs.is_some() {
                            self.add_err(
                                b.span,
                                "filling in missing series not allowed for set operators",
                            );
                        }
                    }
                }
                if (lt == ValueType::Scalar || rt == ValueType::Scalar) && b.op.is_set() {
                    self.add_err(
                        b.span,
                        format!(
                            "set operator {} not allowed in binary scalar expression",
                            go_quote(b.op.as_str())
                        ),
                    );
                }
            }
            Expr::Call(c) => {
                let f = c.func;
                let nargs = f.arg_types.len();
                let got = c.args.len();
                if f.variadic == 0 {
                    if nargs != got {
                        self.add_err(
                            c.span,
                            format!(
                                "expected {nargs} argument(s) in call to {}, got {got}",
                                go_quote(f.name)
                            ),
                        );
                    }
                } else {
                    let na = nargs.saturating_sub(1);
                    if na > got {
                        self.add_err(
                            c.span,
                            format!(
                                "expected at least {na} argument(s) in call to {}, got {got}",
                                go_quote(f.name)
                            ),
                        );
                    } else if f.variadic > 0 && na + f.variadic as usize <= got.saturating_sub(1) {
                        let max = na + f.variadic as usize;
                        self.add_err(
                            c.span,
                            format!(
                                "expected at most {max} argument(s) in call to {}, got {got}",
                                go_quote(f.name)
                            ),
                        );
                    }
                }
                if f.name == "info" && got > 1 {
                    let arg_type = c.args[1].value_type();
                    if arg_type != ValueType::Vector {
                        self.add_err(
                            c.span,
                            format!(
                                "expected type instant vector in call to function \"info\", got {}",
                                arg_type.documented()
                            ),
                        );
                    }
                    let span = c.args[1].span();
                    match &mut c.args[1] {
                        Expr::VectorSelector(vs) if vs.name.is_some() => {
                            self.add_err(
                                span,
                                "expected label selectors only, got vector selector instead",
                            );
                        }
                        Expr::VectorSelector(_) => {}
                        _ => self.add_err(span, "expected label selectors only"),
                    }
                }
                for (i, arg) in c.args.iter_mut().enumerate() {
                    let want = match f.arg_types.get(i) {
                        Some(t) => *t,
                        None if f.variadic == 0 => break,
                        None => match f.arg_types.last() {
                            Some(t) => *t,
                            None => break,
                        },
                    };
                    // info's label-only selector may match everything.
                    let t = if f.name == "info"
                        && i == 1
                        && matches!(arg, Expr::VectorSelector(vs) if vs.name.is_none())
                    {
                        ValueType::Vector
                    } else {
                        self.check(arg)
                    };
                    if t != want {
                        let msg = format!(
                            "expected type {} in call to function {}, got {}",
                            want.documented(),
                            go_quote(f.name),
                            t.documented()
                        );
                        self.add_err(arg.span(), msg);
                    }
                }
            }
            Expr::Paren(p) => {
                self.check(&mut p.expr);
            }
            Expr::Unary(u) => {
                let t = self.check(&mut u.expr);
                if t != ValueType::Scalar && t != ValueType::Vector {
                    self.add_err(u.span, format!("unary expression only allowed on expressions of type scalar or instant vector, got {}", go_quote(t.documented())));
                }
            }
            Expr::Subquery(s) => {
                let t = self.check(&mut s.expr);
                if t != ValueType::Vector {
                    self.add_err(
                        s.span,
                        format!(
                            "subquery is only allowed on instant vector, got {} instead",
                            t.api_name()
                        ),
                    );
                }
            }
            Expr::MatrixSelector(m) => {
                let span = m.selector.span;
                self.check_selector_matchers(&m.selector, span);
            }
            Expr::VectorSelector(vs) => {
                let span = vs.span;
                let vs = vs.clone();
                self.check_selector_matchers(&vs, span);
            }
            Expr::Number(_) | Expr::String(_) => {}
        }
        typ
    }

    fn check_selector_matchers(&mut self, vs: &crate::ast::VectorSelector, span: Span) {
        if let Some(name) = &vs.name {
            let others = vs.matchers.len().saturating_sub(1);
            if let Some(m) = vs
                .matchers
                .iter()
                .take(others)
                .find(|m| m.name == model::METRIC_NAME)
            {
                self.add_err(
                    span,
                    format!(
                        "metric name must not be set twice: {} or {}",
                        go_quote(name),
                        go_quote(&m.value)
                    ),
                );
            }
            return;
        }
        if !vs.matchers.iter().any(|m| !m.matches("")) {
            self.add_err(
                span,
                "vector selector must contain at least one non-empty matcher",
            );
        }
    }

    fn expect_type(&mut self, e: &mut Expr, want: ValueType, context: &str) {
        let t = self.check(e);
        if t != want {
            let msg = format!(
                "expected type {} in {context}, got {}",
                want.documented(),
                t.documented()
            );
            self.add_err(e.span(), msg);
        }
    }

    /// The operator between two operands, whitespace trimmed.
    fn op_span(&self, lhs: Span, rhs: Span) -> Span {
        let b = self.input().as_bytes();
        let mut start = lhs.end;
        while b.get(start).is_some_and(|c| c.is_ascii_whitespace()) {
            start += 1;
        }
        let mut end = rhs.start;
        while end > start && b.get(end - 1).is_some_and(|c| c.is_ascii_whitespace()) {
            end -= 1;
        }
        Span::new(start, end)
    }
}
