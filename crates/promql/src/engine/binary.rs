//! Binary operators: scalar–scalar, vector–scalar, vector–vector matching
//! (`on`/`ignoring`, `group_left`/`group_right`) and the set operators.

use std::collections::{HashMap, HashSet};

use model::Labels;

use super::annotations::{self, AnnotationKind};
use super::eval::{qerr, Evaluator};
use super::value::{Elem, IVal};
use super::EngineError;
use crate::ast::{BinaryExpr, BinaryOp, Cardinality, VectorMatching};

/// `op` on two floats; for comparisons, 1 or 0.
pub(crate) fn arith(op: BinaryOp, a: f64, b: f64) -> f64 {
    let cmp = |c: bool| if c { 1.0 } else { 0.0 };
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Mod => a % b,
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Atan2 => a.atan2(b),
        BinaryOp::Eql => cmp(a == b),
        BinaryOp::Neq => cmp(a != b),
        BinaryOp::Gtr => cmp(a > b),
        BinaryOp::Lss => cmp(a < b),
        BinaryOp::Gte => cmp(a >= b),
        BinaryOp::Lte => cmp(a <= b),
        _ => f64::NAN,
    }
}

/// The labels two elements are matched on.
fn signature(l: &Labels, m: &VectorMatching) -> Labels {
    let names: Vec<&str> = m.matching_labels.iter().map(String::as_str).collect();
    if m.on {
        l.keep_only(&names)
    } else {
        let mut names = names;
        names.push("__name__");
        l.without(&names)
    }
}

fn default_matching(op: BinaryOp) -> VectorMatching {
    VectorMatching {
        card: if op.is_set() {
            Cardinality::ManyToMany
        } else {
            Cardinality::OneToOne
        },
        matching_labels: Vec::new(),
        on: false,
        include: Vec::new(),
        fill_lhs: None,
        fill_rhs: None,
    }
}

impl Evaluator<'_> {
    pub(crate) fn binary(&mut self, b: &BinaryExpr, t: i64) -> Result<IVal, EngineError> {
        let l = self.eval(&b.lhs, t)?;
        let r = self.eval(&b.rhs, t)?;
        let cmp = b.op.is_comparison();
        let trim = matches!(b.op, BinaryOp::TrimUpper | BinaryOp::TrimLower);
        let out = match (l, r) {
            // Prometheus fails such a query (its scalar arithmetic panics).
            (IVal::Scalar(_), IVal::Scalar(_)) if trim => {
                return Err(qerr(format!(
                    "operator {:?} not allowed for Scalar operations",
                    b.op.as_str()
                )))
            }
            (IVal::Scalar(x), IVal::Scalar(y)) => return Ok(IVal::Scalar(arith(b.op, x, y))),
            (IVal::Vector(v), IVal::Scalar(s)) => vector_scalar(b, v, s, false),
            (IVal::Scalar(s), IVal::Vector(v)) => vector_scalar(b, v, s, true),
            (IVal::Vector(lv), IVal::Vector(rv)) => {
                let m = b.matching.clone().unwrap_or_else(|| default_matching(b.op));
                match b.op {
                    BinaryOp::And => set_and(lv, &rv, &m, true),
                    BinaryOp::Unless => set_and(lv, &rv, &m, false),
                    BinaryOp::Or => set_or(lv, rv, &m),
                    _ => vector_vector(b, lv, rv, &m, cmp)?,
                }
            }
            _ => {
                return Err(qerr(format!(
                    "binary operator {:?} not defined on these operand types",
                    b.op.as_str()
                )))
            }
        };
        // The histogram trims mean nothing between floats: every pair that
        // met is dropped, and Prometheus says so once.
        if trim && !out.is_empty() {
            let op = b.op.as_str();
            let message = annotations::incompatible_types_in_bin_op("float", op, "float");
            self.annotate(AnnotationKind::Info, message, b.span);
            return Ok(IVal::Vector(Vec::new()));
        }
        Ok(IVal::Vector(out))
    }
}

fn vector_scalar(b: &BinaryExpr, v: Vec<Elem>, s: f64, swap: bool) -> Vec<Elem> {
    let cmp = b.op.is_comparison();
    let mut out = Vec::with_capacity(v.len());
    for mut el in v {
        let (x, y) = if swap { (s, el.v) } else { (el.v, s) };
        let r = arith(b.op, x, y);
        if cmp {
            if b.return_bool {
                el.v = r;
                el.drop_name = true;
            } else if r == 0.0 {
                continue;
            }
        } else {
            el.v = r;
            el.drop_name = true;
        }
        out.push(el);
    }
    out
}

fn set_and(lv: Vec<Elem>, rv: &[Elem], m: &VectorMatching, keep_matching: bool) -> Vec<Elem> {
    let sigs: HashSet<Labels> = rv.iter().map(|e| signature(&e.labels, m)).collect();
    lv.into_iter()
        .filter(|e| sigs.contains(&signature(&e.labels, m)) == keep_matching)
        .collect()
}

fn set_or(lv: Vec<Elem>, rv: Vec<Elem>, m: &VectorMatching) -> Vec<Elem> {
    let sigs: HashSet<Labels> = lv.iter().map(|e| signature(&e.labels, m)).collect();
    let mut out = lv;
    out.extend(
        rv.into_iter()
            .filter(|e| !sigs.contains(&signature(&e.labels, m))),
    );
    out
}

/// One result element of a vector–vector operation, `None` when a
/// comparison filters it out. `pair` is (left value, right value).
fn combine(
    b: &BinaryExpr,
    cmp: bool,
    labels: Labels,
    pair: (f64, f64),
    ts: i64,
    drop: bool,
) -> Option<Elem> {
    let (x, y) = pair;
    let r = arith(b.op, x, y);
    let mut value = r;
    if cmp && !b.return_bool {
        if r == 0.0 {
            return None;
        }
        value = x;
    }
    Some(Elem {
        labels,
        v: value,
        ts,
        drop_name: !cmp || b.return_bool || drop,
    })
}

fn vector_vector(
    b: &BinaryExpr,
    lv: Vec<Elem>,
    rv: Vec<Elem>,
    m: &VectorMatching,
    cmp: bool,
) -> Result<Vec<Elem>, EngineError> {
    // The "one" side is indexed; with group_right the sides swap roles.
    let swapped = m.card == Cardinality::OneToMany;
    let (many, one) = if swapped { (rv, lv) } else { (lv, rv) };
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(one.len());
    for (i, e) in one.iter().enumerate() {
        let sig = signature(&e.labels, m);
        if let Some(&j) = index.get(&sig) {
            let side = if swapped { "left" } else { "right" };
            let (a, c) = (&one[j].labels, &e.labels);
            return Err(qerr(format!(
                "found duplicate series for the match group {sig} on the {side} hand-side of the operation: [{a}, {c}];many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
        index.insert(sig, i);
    }
    // As in Prometheus, the fill values are tied to the matching roles
    // (right = the "one" side, left = the "many" side) even when
    // group_right swaps which operand plays them.
    let (fill_one, fill_many) = (m.fill_rhs, m.fill_lhs);
    let mut matched: HashMap<Labels, usize> = HashMap::new();
    let mut one_used = vec![false; one.len()];
    let mut result_sets: HashSet<Labels> = HashSet::new();
    let mut out = Vec::new();
    for e in many {
        let sig = signature(&e.labels, m);
        let o = match index.get(&sig) {
            Some(&j) => {
                if let Some(u) = one_used.get_mut(j) {
                    *u = true;
                }
                one.get(j).map(|o| (o.v, Some(&o.labels)))
            }
            None => fill_one.map(|f| (f, None)),
        };
        let Some((ov, olabels)) = o else { continue };
        if m.card == Cardinality::OneToOne && olabels.is_some() {
            let n = matched.entry(sig.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                return Err(qerr(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        }
        let mut lb = e.labels.to_builder();
        if m.card == Cardinality::OneToOne {
            if m.on {
                let keep: Vec<&str> = m.matching_labels.iter().map(String::as_str).collect();
                lb.retain(|n, _| n == "__name__" || keep.contains(&n));
            } else {
                for n in &m.matching_labels {
                    lb.del(n);
                }
            }
        }
        for n in &m.include {
            match olabels.and_then(|l| l.get(n)) {
                Some(v) => lb.set(n, v),
                None => lb.del(n),
            };
        }
        let pair = if swapped { (ov, e.v) } else { (e.v, ov) };
        if let Some(el) = combine(b, cmp, lb.build(), pair, e.ts, e.drop_name) {
            if m.card != Cardinality::OneToOne {
                let key = if el.drop_name {
                    el.labels.without_metric_name()
                } else {
                    el.labels.clone()
                };
                if !result_sets.insert(key) {
                    return Err(qerr(
                        "multiple matches for labels: grouping labels must ensure unique matches",
                    ));
                }
            }
            out.push(el);
        }
    }
    // With a fill for the many side, unmatched one-side series pair with it
    // and carry only their match group's labels.
    if let Some(f) = fill_many {
        for (o, used) in one.iter().zip(one_used) {
            if used {
                continue;
            }
            let pair = if swapped { (o.v, f) } else { (f, o.v) };
            let sig = signature(&o.labels, m);
            if let Some(mut el) = combine(b, cmp, sig, pair, o.ts, true) {
                el.drop_name = true;
                out.push(el);
            }
        }
    }
    Ok(out)
}
