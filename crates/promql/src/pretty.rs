//! Multi-line formatting of queries, as Prometheus's `Prettify` does for
//! the `/api/v1/format_query` endpoint and `promtool promql format`: a node
//! whose one-line form fits in 100 bytes stays on one line; a longer one
//! is split with its operands (or arguments) indented two spaces per level.

use crate::ast::Expr;
use crate::printer::{write_aggregate_op, write_matching, write_subquery_suffix};

/// Longest line Prometheus keeps unsplit.
const MAX_LINE: usize = 100;

/// The query formatted over several lines where it is long, exactly as
/// Prometheus formats it.
pub fn pretty(e: &Expr) -> String {
    pretty_width(e, MAX_LINE)
}

/// [`pretty`] with another line limit (Prometheus's tests use 10).
#[doc(hidden)]
pub fn pretty_width(e: &Expr, max: usize) -> String {
    let mut out = String::new();
    write_pretty(&mut out, e, 0, max);
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_pretty(out: &mut String, e: &Expr, level: usize, max: usize) {
    let flat = e.to_string();
    let split = flat.len() > max;
    match e {
        Expr::Aggregate(a) if split => {
            indent(out, level);
            // Writing into a String cannot fail.
            let _ = write_aggregate_op(out, a);
            out.push_str("(\n");
            if let Some(p) = &a.param {
                write_pretty(out, p, level + 1, max);
                out.push_str(",\n");
            }
            write_pretty(out, &a.expr, level + 1, max);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Binary(b) if split => {
            write_pretty(out, &b.lhs, level + 1, max);
            out.push('\n');
            indent(out, level);
            out.push_str(b.op.as_str());
            if b.return_bool {
                out.push_str(" bool");
            }
            let _ = write_matching(out, b);
            out.push('\n');
            write_pretty(out, &b.rhs, level + 1, max);
        }
        Expr::Call(c) if split => {
            indent(out, level);
            out.push_str(c.func.name);
            out.push_str("(\n");
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                write_pretty(out, a, level + 1, max);
            }
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Paren(p) if split => {
            indent(out, level);
            out.push_str("(\n");
            write_pretty(out, &p.expr, level + 1, max);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        // Prometheus indents neither a short subquery nor the suffix of a long one.
        Expr::Subquery(_) if !split => out.push_str(&flat),
        Expr::Subquery(s) => {
            write_pretty(out, &s.expr, level, max);
            let _ = write_subquery_suffix(out, s);
        }
        Expr::Unary(u) => {
            let mut child = String::new();
            write_pretty(&mut child, &u.expr, level, max);
            indent(out, level);
            out.push(if u.negate { '-' } else { '+' });
            out.push_str(child.trim());
        }
        _ => {
            indent(out, level);
            out.push_str(&flat);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{pretty, pretty_width};

    fn check(width: usize, input: &str, want: &str) {
        let e = crate::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(pretty_width(&e, width), want, "input {input:?}");
    }

    #[test]
    fn short_stays_flat() {
        check(100, "sum by (a)(rate(x[5m]))", "sum by (a) (rate(x[5m]))");
        check(10, "a + b", "a + b");
        check(10, "-foo", "-foo");
        let e = crate::parse("x[5m:1m]").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pretty(&e), "x[5m:1m]");
    }

    #[test]
    fn long_splits() {
        check(10, "sum by (a) (foo)", "sum by (a) (\n  foo\n)");
        check(10, "foo_bar + baz_qux", "  foo_bar\n+\n  baz_qux");
        check(
            10,
            "rate(x[5m]) * 2 * on(a) y",
            "    rate(\n      x[5m]\n    )\n  *\n    2\n* on (a)\n  y",
        );
        check(10, "topk(3, foo_bar)", "topk(\n  3,\n  foo_bar\n)");
        check(10, "-(foo_bar + b)", "-(\n    foo_bar\n  +\n    b\n)");
        check(
            10,
            "max_over_time(foo_bar[5m:])",
            "max_over_time(\n  foo_bar[5m:]\n)",
        );
    }
}
