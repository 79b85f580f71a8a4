//! Which `sort` calls are ineffective: those Prometheus evaluates over more
//! than one instant. That is every call in a range query (start ≠ end) or
//! inside a subquery, except calls in a step-invariant part of the query,
//! which Prometheus evaluates once, at a single instant.

use crate::ast::Expr;
use crate::Span;

/// Functions whose value depends on the evaluation time itself, so that no
/// call of them is step-invariant (Prometheus's `AtModifierUnsafeFunctions`).
const TIME_DEPENDENT: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "end",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "range",
    "start",
    "step",
    "time",
    "timestamp",
];

/// The spans of the `sort`, `sort_desc`, `sort_by_label` and
/// `sort_by_label_desc` calls of `root` that run over several instants;
/// `range` says whether the query itself spans more than one instant.
pub(super) fn ineffective_sorts(root: &Expr, range: bool) -> Vec<Span> {
    let mut out = Vec::new();
    walk(root, range, &mut out);
    out
}

fn walk(e: &Expr, mut several: bool, out: &mut Vec<Span>) {
    // A step-invariant node is evaluated once, at one instant, with
    // everything under it (but for what subqueries re-spread).
    if several && step_invariant(e) {
        several = false;
    }
    match e {
        Expr::Number(_) | Expr::String(_) | Expr::VectorSelector(_) | Expr::MatrixSelector(_) => {}
        Expr::Subquery(s) => walk(&s.expr, true, out),
        Expr::Aggregate(a) => {
            walk(&a.expr, several, out);
            if let Some(p) = &a.param {
                walk(p, several, out);
            }
        }
        Expr::Binary(b) => {
            walk(&b.lhs, several, out);
            walk(&b.rhs, several, out);
        }
        Expr::Unary(u) => walk(&u.expr, several, out),
        Expr::Paren(p) => walk(&p.expr, several, out),
        Expr::Call(c) => {
            if several && c.func.name.starts_with("sort") {
                out.push(c.span);
            }
            for a in &c.args {
                walk(a, several, out);
            }
        }
    }
}

/// Whether `e` has the same value at every step: its selectors all carry
/// `@` and it calls no function that reads the evaluation time (as
/// Prometheus's preprocessing decides; an aggregation's parameter does not
/// count).
pub(crate) fn step_invariant(e: &Expr) -> bool {
    match e {
        Expr::Number(_) | Expr::String(_) => true,
        Expr::VectorSelector(v) => v.at.is_some(),
        Expr::MatrixSelector(m) => m.selector.at.is_some(),
        Expr::Subquery(s) => s.at.is_some(),
        Expr::Aggregate(a) => step_invariant(&a.expr),
        Expr::Binary(b) => step_invariant(&b.lhs) && step_invariant(&b.rhs),
        Expr::Unary(u) => step_invariant(&u.expr),
        Expr::Paren(p) => step_invariant(&p.expr),
        Expr::Call(c) => {
            let args = c.args.iter().all(step_invariant);
            // `timestamp(foo @ t)` is invariant although `timestamp` is not.
            let timestamp_of_pinned = c.func.name == "timestamp"
                && c.args
                    .iter()
                    .all(|a| matches!(a, Expr::VectorSelector(v) if v.at.is_some()));
            (!TIME_DEPENDENT.contains(&c.func.name) && args) || timestamp_of_pinned
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorts(q: &str, range: bool) -> Vec<usize> {
        let e = crate::parse(q).expect("parse");
        ineffective_sorts(&e, range)
            .into_iter()
            .map(|s| s.start)
            .collect()
    }

    #[test]
    fn range_queries_and_subqueries_spread_sorts() {
        assert_eq!(sorts("sort(foo)", true), [0]);
        assert_eq!(sorts("sort(foo)", false), Vec::<usize>::new());
        assert_eq!(sorts("sum(sort_desc(foo))", true), [4]);
        assert_eq!(sorts("max_over_time(sort(foo)[5m:1m])", false), [14]);
        // Pinned down, the call runs once.
        assert_eq!(sorts("sort(foo @ 100)", true), Vec::<usize>::new());
        assert_eq!(sorts("sort(vector(1))", true), Vec::<usize>::new());
        assert_eq!(sorts("sort(vector(time()))", true), [0]);
        // A pinned subquery still spreads what it contains.
        assert_eq!(sorts("max_over_time(sort(foo)[5m:1m] @ 100)", false), [14]);
    }

    #[test]
    fn step_invariance() {
        let inv = |q: &str| step_invariant(&crate::parse(q).expect("parse"));
        assert!(inv("rate(foo[5m] @ 10)"));
        assert!(inv("timestamp(foo @ 10)"));
        assert!(!inv("timestamp(abs(foo @ 10))"));
        assert!(!inv("foo @ 10 + bar"));
        assert!(inv("sum(foo @ end())"));
        assert!(!inv("hour()"));
    }
}
