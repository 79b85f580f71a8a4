//! Binary operators: scalar–scalar, vector–scalar, vector–vector matching
//! (`on`/`ignoring`, `group_left`/`group_right`) and the set operators.

use std::collections::{HashMap, HashSet};

use model::Labels;

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
        match (l, r) {
            (IVal::Scalar(x), IVal::Scalar(y)) => Ok(IVal::Scalar(arith(b.op, x, y))),
            (IVal::Vector(v), IVal::Scalar(s)) => Ok(IVal::Vector(vector_scalar(b, v, s, false))),
            (IVal::Scalar(s), IVal::Vector(v)) => Ok(IVal::Vector(vector_scalar(b, v, s, true))),
            (IVal::Vector(lv), IVal::Vector(rv)) => {
                let m = b.matching.clone().unwrap_or_else(|| default_matching(b.op));
                let out = match b.op {
                    BinaryOp::And => set_and(lv, &rv, &m, true),
                    BinaryOp::Unless => set_and(lv, &rv, &m, false),
                    BinaryOp::Or => set_or(lv, rv, &m),
                    _ => vector_vector(b, lv, rv, &m, cmp)?,
                };
                Ok(IVal::Vector(out))
            }
            _ => Err(qerr(format!(
                "binary operator {:?} not defined on these operand types",
                b.op.as_str()
            ))),
        }
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
    let mut matched: HashMap<Labels, usize> = HashMap::new();
    let mut result_sets: HashSet<Labels> = HashSet::new();
    let mut out = Vec::new();
    for e in many {
        let sig = signature(&e.labels, m);
        let Some(&j) = index.get(&sig) else {
            continue;
        };
        let Some(o) = one.get(j) else { continue };
        if m.card == Cardinality::OneToOne {
            let n = matched.entry(sig.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                return Err(qerr(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
        }
        let (x, y) = if swapped { (o.v, e.v) } else { (e.v, o.v) };
        let r = arith(b.op, x, y);
        let mut value = r;
        if cmp && !b.return_bool {
            if r == 0.0 {
                continue;
            }
            value = x;
        }
        let drop_name = !cmp || b.return_bool || e.drop_name;
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
            match o.labels.get(n) {
                Some(v) => lb.set(n, v),
                None => lb.del(n),
            };
        }
        let labels = lb.build();
        if m.card != Cardinality::OneToOne {
            let key = if drop_name {
                labels.without_metric_name()
            } else {
                labels.clone()
            };
            if !result_sets.insert(key) {
                return Err(qerr(
                    "multiple matches for labels: grouping labels must ensure unique matches",
                ));
            }
        }
        out.push(Elem {
            labels,
            v: value,
            ts: e.ts,
            drop_name,
        });
    }
    Ok(out)
}
