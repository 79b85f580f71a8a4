//! The tree walk: one node at one step.

use std::collections::{HashMap, HashSet};

use model::Labels;
use storage::Queryable;

use super::limits::Budget;
use super::selectors::RawSeries;
use super::value::{final_labels, Elem, IVal};
use super::{EngineError, EngineOptions, Sample, Series, Value};
use crate::ast::{AtModifier, DurationExpr, Expr};

/// The state of one query.
pub(crate) struct Evaluator<'a> {
    pub(crate) db: &'a dyn Queryable,
    pub(crate) opts: &'a EngineOptions,
    /// The query's start and end (what `@ start()`/`@ end()` mean), ms.
    pub(crate) start: i64,
    pub(crate) end: i64,
    /// The query's step, ms (0 for instant queries).
    pub(crate) step: i64,
    /// Selector data read so far, by selector node address.
    pub(crate) cache: HashMap<usize, std::rc::Rc<Vec<RawSeries>>>,
    /// Warnings and infos raised so far.
    pub(crate) annotations: super::annotations::Annotations,
    /// The sample budget, deadline and cancel switch (see `limits.rs`).
    pub(crate) budget: Budget,
    /// The time range each selector reads (see `bounds.rs`).
    pub(crate) bounds: super::bounds::Bounds,
    /// Values of nodes computed for all steps at once, by node address,
    /// and of subqueries' inner expressions, by subquery address (see
    /// `columns.rs`).
    pub(crate) columns: HashMap<usize, super::columns::Columns>,
    pub(crate) subqueries: HashMap<usize, super::columns::Columns>,
}

pub(crate) fn qerr(msg: impl Into<String>) -> EngineError {
    EngineError::Query(msg.into())
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(
        db: &'a dyn Queryable,
        opts: &'a EngineOptions,
        start: i64,
        end: i64,
        step: i64,
    ) -> Evaluator<'a> {
        Evaluator {
            db,
            opts,
            start,
            end,
            step,
            cache: HashMap::new(),
            annotations: Default::default(),
            bounds: HashMap::new(),
            budget: Budget::new(opts.max_samples),
            columns: HashMap::new(),
            subqueries: HashMap::new(),
        }
    }

    /// Finds the time range each selector of `e` needs.
    pub(crate) fn plan(&mut self, e: &Expr) -> Result<(), EngineError> {
        let mut b = super::bounds::Bounds::new();
        self.find_bounds(e, self.start, self.end, &mut b)?;
        self.bounds = b;
        self.annotations.plan(e, self.start != self.end);
        Ok(())
    }

    /// A selector produced `n` samples at this step: counts them in the
    /// query's total and as held until the parent node returns.
    pub(crate) fn charge(&mut self, n: usize) -> Result<(), EngineError> {
        self.budget.produced(n)
    }

    /// A duration expression in ms.
    pub(crate) fn duration_ms(&self, d: &DurationExpr) -> Result<i64, EngineError> {
        let step = self.step as f64 / 1000.0;
        let range = (self.end - self.start) as f64 / 1000.0;
        let s = d
            .eval(Some(step), Some(range))
            .ok_or_else(|| qerr("cannot evaluate duration expression"))?;
        if !s.is_finite() {
            return Err(qerr(format!("duration out of range: {s}")));
        }
        Ok((s * 1000.0).round() as i64)
    }

    /// The time a node with `at` and `offset` reads at, given the step time.
    pub(crate) fn ref_time(
        &self,
        t: i64,
        at: Option<AtModifier>,
        offset: Option<&DurationExpr>,
    ) -> Result<i64, EngineError> {
        let base = match at {
            None => t,
            Some(AtModifier::Timestamp(ms)) => ms,
            Some(AtModifier::Start) => self.start,
            Some(AtModifier::End) => self.end,
        };
        let off = match offset {
            Some(d) => self.duration_ms(d)?,
            None => 0,
        };
        Ok(base.saturating_sub(off))
    }

    /// Evaluates `e` at step time `t`.
    // Every node is one tick of the interrupt checks and one scope of the
    // sample budget: what its children returned is released when it
    // returns, and its own value is held by its parent instead.
    pub(crate) fn eval(&mut self, e: &Expr, t: i64) -> Result<IVal, EngineError> {
        self.budget.tick()?;
        let mark = self.budget.mark();
        let total = self.budget.total();
        let v = self.eval_node(e, t)?;
        if let Expr::Subquery(_) = e {
            self.budget.subquery_total(total, &v);
        }
        // Leaves were charged for what they return, and these nodes hand on
        // a value they did not build beside their input.
        let built = !matches!(
            e,
            Expr::Number(_)
                | Expr::String(_)
                | Expr::Paren(_)
                | Expr::Unary(_)
                | Expr::VectorSelector(_)
                | Expr::MatrixSelector(_)
                | Expr::Subquery(_)
        );
        self.budget.settle(mark, &v, built)?;
        Ok(v)
    }

    fn eval_node(&mut self, e: &Expr, t: i64) -> Result<IVal, EngineError> {
        match e {
            Expr::Number(n) => Ok(IVal::Scalar(n.value)),
            Expr::String(s) => Ok(IVal::Str(s.value.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => {
                let v = self.eval(&u.expr, t)?;
                if !u.negate {
                    return Ok(v);
                }
                Ok(match v {
                    IVal::Scalar(x) => IVal::Scalar(-x),
                    IVal::Vector(mut v) => {
                        for el in &mut v {
                            el.v = -el.v;
                            el.drop_name = true;
                        }
                        IVal::Vector(v)
                    }
                    other => other,
                })
            }
            Expr::VectorSelector(vs) => self.vector_selector(vs, t).map(IVal::Vector),
            Expr::MatrixSelector(ms) => self.matrix_selector(ms, t).map(IVal::Matrix),
            Expr::Subquery(sq) => self.subquery(sq, t).map(IVal::Matrix),
            Expr::Binary(b) => self.binary(b, t),
            Expr::Aggregate(a) => match self.value_from_columns(e, t) {
                Some(v) => Ok(v),
                None => self.aggregate(a, t).map(IVal::Vector),
            },
            Expr::Call(c) => match self.value_from_columns(e, t) {
                Some(v) => Ok(v),
                None => self.call(c, t),
            },
        }
    }

    /// Evaluates `e` at `t` and requires a scalar.
    pub(crate) fn eval_scalar(&mut self, e: &Expr, t: i64) -> Result<f64, EngineError> {
        match self.eval(e, t)? {
            IVal::Scalar(x) => Ok(x),
            _ => Err(qerr("expected scalar")),
        }
    }

    /// Evaluates `e` at `t` and requires an instant vector.
    pub(crate) fn eval_vector(&mut self, e: &Expr, t: i64) -> Result<Vec<Elem>, EngineError> {
        match self.eval(e, t)? {
            IVal::Vector(v) => Ok(v),
            _ => Err(qerr("expected instant vector")),
        }
    }

    /// Turns an instant query's value into the result, removing marked
    /// names and rejecting duplicate label sets.
    pub(crate) fn finish_instant(&mut self, v: IVal) -> Result<Value, EngineError> {
        Ok(match v {
            IVal::Scalar(x) => Value::Scalar(x),
            IVal::Str(s) => Value::String(s),
            IVal::Vector(v) => Value::Vector(finish_vector(v)?),
            IVal::Matrix(m) => {
                let mut seen = HashSet::new();
                let mut out = Vec::with_capacity(m.len());
                for s in m {
                    let labels = final_labels(&s.labels, s.drop_name);
                    if !seen.insert(labels.clone()) {
                        return Err(dup_labelset());
                    }
                    out.push(Series {
                        labels,
                        points: s.points,
                    });
                }
                Value::Matrix(out)
            }
        })
    }

    /// Runs a range query: the expression at every step, joined by labels.
    // Nodes that can are first computed for all steps at once
    // (`columns.rs`); a root computed so is the result without a step loop.
    pub(crate) fn eval_range(&mut self, e: &Expr) -> Result<Value, EngineError> {
        if let Some(grid) = super::columns::Grid::spanning(self.start, self.end, self.step) {
            self.precompute(e, grid)?;
            if let Some(m) = self.matrix_from_columns(e) {
                return Ok(Value::Matrix(m?));
            }
        }
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut push = |labels: Labels, t: i64, v: f64| match index.get(&labels) {
            Some(&n) => series[n].points.push((t, v)),
            None => {
                index.insert(labels.clone(), series.len());
                series.push(Series {
                    labels,
                    points: vec![(t, v)],
                });
            }
        };
        let mut t = self.start;
        while t <= self.end {
            match self.eval(e, t)? {
                IVal::Scalar(x) => push(Labels::empty(), t, x),
                IVal::Vector(v) => {
                    for s in finish_vector(v)? {
                        push(s.labels, t, s.value);
                    }
                }
                _ => {
                    return Err(qerr(format!(
                        "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                        e.value_type().documented()
                    )))
                }
            }
            match t.checked_add(self.step) {
                Some(next) => t = next,
                None => break,
            }
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(Value::Matrix(series))
    }
}

pub(crate) fn dup_labelset() -> EngineError {
    qerr("vector cannot contain metrics with the same labelset")
}

/// Removes marked names; two elements with one label set is an error.
pub(crate) fn finish_vector(v: Vec<Elem>) -> Result<Vec<Sample>, EngineError> {
    let mut seen = HashSet::with_capacity(v.len());
    let mut out = Vec::with_capacity(v.len());
    for el in v {
        let labels = final_labels(&el.labels, el.drop_name);
        if !seen.insert(labels.clone()) {
            return Err(dup_labelset());
        }
        out.push(Sample {
            labels,
            value: el.v,
        });
    }
    Ok(out)
}
