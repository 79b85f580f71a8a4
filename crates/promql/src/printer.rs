//! Prints a syntax tree back as PromQL text, the way Prometheus's
//! `Expr.String()` does: one space around binary operators, `by (a, b)`
//! before the arguments, matchers sorted, constant durations in Prometheus
//! duration notation (`[300]` prints as `[5m]`), `@` times with three
//! decimals. Parsing the output gives the same tree.

use std::fmt::{self, Write};

use crate::ast::{
    AggregateExpr, AtModifier, BinaryExpr, Cardinality, DurationExpr, Expr, NumberLiteral,
    SubqueryExpr, VectorSelector,
};
use crate::error::{go_quote, go_quote_bytes};

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// A duration in seconds as Prometheus's `model.Duration` prints it.
fn format_seconds(secs: f64) -> String {
    let ms = (secs * 1000.0).round();
    if ms < 0.0 {
        format!(
            "-{}",
            model::format_duration(std::time::Duration::from_millis((-ms) as u64))
        )
    } else {
        model::format_duration(std::time::Duration::from_millis(ms as u64))
    }
}

fn write_number(f: &mut impl Write, n: &NumberLiteral) -> fmt::Result {
    if n.duration {
        f.write_str(&format_seconds(n.value))
    } else {
        f.write_str(&format_float(n.value))
    }
}

/// Label names print bare when they are legacy names, else quoted.
fn write_label_list(f: &mut impl Write, labels: &[String]) -> fmt::Result {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        if model::labels::is_valid_legacy_label_name(l) {
            f.write_str(l)?;
        } else {
            f.write_str(&go_quote(l))?;
        }
    }
    Ok(())
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Number(n) => write_number(f, n),
            DurationExpr::Step => f.write_str("step()"),
            DurationExpr::Range => f.write_str("range()"),
            DurationExpr::Unary(op, d) => write!(f, "{}{d}", op.as_str()),
            DurationExpr::Binary(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            DurationExpr::MinOf(a, b) => write!(f, "min_of({a}, {b})"),
            DurationExpr::MaxOf(a, b) => write!(f, "max_of({a}, {b})"),
            DurationExpr::Paren(d) => write!(f, "({d})"),
        }
    }
}

/// A range, step or offset: constants in duration notation.
fn write_duration(f: &mut impl Write, d: &DurationExpr) -> fmt::Result {
    match d {
        DurationExpr::Number(n) => f.write_str(&format_seconds(n.value)),
        d => write!(f, "{d}"),
    }
}

fn write_at(f: &mut impl Write, at: Option<AtModifier>) -> fmt::Result {
    match at {
        Some(AtModifier::Timestamp(ms)) => write!(f, " @ {:.3}", ms as f64 / 1000.0),
        Some(AtModifier::Start) => f.write_str(" @ start()"),
        Some(AtModifier::End) => f.write_str(" @ end()"),
        None => Ok(()),
    }
}

fn write_offset(f: &mut impl Write, offset: &Option<DurationExpr>) -> fmt::Result {
    match offset {
        None => Ok(()),
        Some(DurationExpr::Number(n)) if n.value == 0.0 => Ok(()),
        Some(d) => {
            f.write_str(" offset ")?;
            write_duration(f, d)
        }
    }
}

/// The selector without its modifiers: name and sorted matchers.
fn write_selector_body(f: &mut impl Write, vs: &VectorSelector) -> fmt::Result {
    let mut parts: Vec<String> = Vec::with_capacity(vs.matchers.len());
    for m in &vs.matchers {
        let is_name = m.name == model::METRIC_NAME
            && m.match_type == model::MatchType::Equal
            && Some(m.value.as_str()) == vs.name.as_deref()
            && !m.value.is_empty();
        if is_name {
            continue;
        }
        let mut s = String::new();
        if model::labels::is_valid_legacy_label_name(&m.name) {
            s.push_str(&m.name);
        } else {
            s.push_str(&go_quote(&m.name));
        }
        s.push_str(m.match_type.as_str());
        s.push_str(&go_quote(&m.value));
        parts.push(s);
    }
    if let Some(n) = &vs.name {
        f.write_str(n)?;
    }
    if !parts.is_empty() {
        parts.sort();
        write!(f, "{{{}}}", parts.join(","))?;
    }
    Ok(())
}

fn write_extended(f: &mut impl Write, vs: &VectorSelector) -> fmt::Result {
    if vs.anchored {
        f.write_str(" anchored")
    } else if vs.smoothed {
        f.write_str(" smoothed")
    } else {
        Ok(())
    }
}

/// The operator and grouping, `sum by (a) ` (Prometheus's `ShortString`).
pub(crate) fn write_aggregate_op(f: &mut impl Write, a: &AggregateExpr) -> fmt::Result {
    f.write_str(a.op.as_str())?;
    if a.without {
        f.write_str(" without (")?;
        write_label_list(f, &a.grouping)?;
        f.write_str(") ")?;
    } else if !a.grouping.is_empty() {
        f.write_str(" by (")?;
        write_label_list(f, &a.grouping)?;
        f.write_str(") ")?;
    }
    Ok(())
}

fn write_aggregate(f: &mut impl Write, a: &AggregateExpr) -> fmt::Result {
    write_aggregate_op(f, a)?;
    f.write_str("(")?;
    if let Some(p) = &a.param {
        write!(f, "{p}, ")?;
    }
    write!(f, "{})", a.expr)
}

/// `on (..) group_left (..) fill (..)` of a binary operation.
pub(crate) fn write_matching(f: &mut impl Write, b: &BinaryExpr) -> fmt::Result {
    let Some(m) = &b.matching else {
        return Ok(());
    };
    let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
    if !m.matching_labels.is_empty() || m.on || grouped {
        f.write_str(if m.on { " on (" } else { " ignoring (" })?;
        write_label_list(f, &m.matching_labels)?;
        f.write_str(")")?;
    }
    if grouped {
        let side = if m.card == Cardinality::ManyToOne {
            "left"
        } else {
            "right"
        };
        write!(f, " group_{side} (")?;
        write_label_list(f, &m.include)?;
        f.write_str(")")?;
    }
    match (m.fill_lhs, m.fill_rhs) {
        (Some(l), Some(r)) if l == r => write!(f, " fill ({})", format_float(l)),
        (l, r) => {
            if let Some(l) = l {
                write!(f, " fill_left ({})", format_float(l))?;
            }
            if let Some(r) = r {
                write!(f, " fill_right ({})", format_float(r))?;
            }
            Ok(())
        }
    }
}

fn write_binary(f: &mut impl Write, b: &BinaryExpr) -> fmt::Result {
    write!(f, "{} {}", b.lhs, b.op.as_str())?;
    if b.return_bool {
        f.write_str(" bool")?;
    }
    write_matching(f, b)?;
    write!(f, " {}", b.rhs)
}

/// `[range:step] @ t offset d` of a subquery.
pub(crate) fn write_subquery_suffix(f: &mut impl Write, sq: &SubqueryExpr) -> fmt::Result {
    f.write_char('[')?;
    write_duration(f, &sq.range)?;
    f.write_char(':')?;
    if let Some(s) = &sq.step {
        write_duration(f, s)?;
    }
    f.write_char(']')?;
    write_at(f, sq.at)?;
    write_offset(f, &sq.offset)
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => write_number(f, n),
            Expr::String(s) => match &s.invalid_utf8 {
                Some(b) => f.write_str(&go_quote_bytes(b)),
                None => f.write_str(&go_quote(&s.value)),
            },
            Expr::VectorSelector(vs) => {
                write_selector_body(f, vs)?;
                write_at(f, vs.at)?;
                write_extended(f, vs)?;
                write_offset(f, &vs.offset)
            }
            Expr::MatrixSelector(ms) => {
                write_selector_body(f, &ms.selector)?;
                f.write_char('[')?;
                write_duration(f, &ms.range)?;
                f.write_char(']')?;
                write_extended(f, &ms.selector)?;
                write_at(f, ms.selector.at)?;
                write_offset(f, &ms.selector.offset)
            }
            Expr::Subquery(sq) => {
                write!(f, "{}", sq.expr)?;
                write_subquery_suffix(f, sq)
            }
            Expr::Aggregate(a) => write_aggregate(f, a),
            Expr::Binary(b) => write_binary(f, b),
            Expr::Unary(u) => write!(f, "{}{}", if u.negate { "-" } else { "+" }, u.expr),
            Expr::Paren(p) => write!(f, "({})", p.expr),
            Expr::Call(c) => {
                write!(f, "{}(", c.func.name)?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
        }
    }
}
