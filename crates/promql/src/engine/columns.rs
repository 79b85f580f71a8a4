//! Column-wise evaluation of the nodes of a range query that allow it.
//!
//! A range query is defined step by step, and most nodes are evaluated that
//! way (`eval.rs`). But the costly ones — a range function over a selector
//! (`rate(x[5m])`), a plain aggregation of such a node, the inner
//! expression of a subquery — give the same values whether asked one step
//! at a time or for all steps at once, and all at once is much cheaper:
//! a series' samples are walked once with two cursors that only move
//! forward, instead of being sliced, copied and labelled again at every
//! step; a group key is computed once per series instead of once per
//! series and step; a subquery's inner steps are evaluated once instead of
//! once per outer step that overlaps them (Prometheus also evaluates a
//! subquery once over its whole range).
//!
//! Before the step loop, [`Evaluator::precompute`] walks the tree with the
//! grid of times each node is evaluated at (the query's steps, or a
//! subquery's inner steps) and stores such nodes' values per series
//! ([`Columns`]). The step loop then finds them: a node with columns gives
//! its vector at a step from them (`eval.rs`), a subquery slices its
//! inner columns (`selectors.rs`), and a query whose root has columns is
//! assembled from them directly. Anything else still runs per step, so the
//! semantics stay those of the per-step walk; the builders are in
//! `columns/build.rs` and `columns/aggregate.rs`.

mod aggregate;
mod build;

use std::cell::Cell;
use std::collections::HashMap;

use model::Labels;

use super::eval::{dup_labelset, Evaluator};
use super::value::{final_labels, Elem, IVal, RangeSeries};
use super::{EngineError, Series};
use crate::ast::Expr;

/// The times a node is evaluated at: `start + i*step` for `i < len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    pub(crate) start: i64,
    pub(crate) step: i64,
    pub(crate) len: usize,
}

impl Grid {
    /// The steps from `start` to `end` inclusive; `None` when there are too
    /// many to index.
    pub(crate) fn spanning(start: i64, end: i64, step: i64) -> Option<Grid> {
        if step <= 0 || end < start {
            return None;
        }
        let n = end.checked_sub(start)? / step + 1;
        let len = usize::try_from(n)
            .ok()
            .filter(|&n| n <= u32::MAX as usize)?;
        Some(Grid { start, step, len })
    }

    /// The index of time `t`, if it is one of the grid's times.
    pub(crate) fn index(&self, t: i64) -> Option<u32> {
        let d = t.checked_sub(self.start)?;
        if d < 0 || d % self.step != 0 {
            return None;
        }
        let i = d / self.step;
        (i < self.len as i64).then_some(i as u32)
    }

    /// The time of index `i`.
    pub(crate) fn time(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }
}

/// One series of a node's values over a grid: the grid indices where it
/// has a value, and the values.
pub(crate) struct ColSeries {
    pub(crate) labels: Labels,
    pub(crate) drop_name: bool,
    pub(crate) idx: Vec<u32>,
    pub(crate) vals: Vec<f64>,
    /// For each value, the rank of the series at that step in the per-step
    /// vector (aggregation groups come in order of first appearance, which
    /// can change from step to step); empty when the order is this one.
    pub(crate) rank: Vec<u32>,
    /// Where the last lookup ended: steps are mostly asked in order, so a
    /// lookup usually finds its index here without searching.
    cursor: Cell<usize>,
}

impl ColSeries {
    pub(crate) fn new(labels: Labels, drop_name: bool) -> ColSeries {
        ColSeries {
            labels,
            drop_name,
            idx: Vec::new(),
            vals: Vec::new(),
            rank: Vec::new(),
            cursor: Cell::new(0),
        }
    }

    /// The position of grid index `i` in `idx`, if the series has a value
    /// there.
    fn position(&self, i: u32) -> Option<usize> {
        let c = self.cursor.get();
        let at = |p: usize| self.idx.get(p).copied();
        let after_prev = c == 0 || at(c - 1).is_some_and(|x| x < i);
        let p = match at(c) {
            Some(x) if x == i => c,
            Some(x) if x > i && after_prev => return None,
            None if after_prev => return None,
            _ => match self.idx.binary_search(&i) {
                Ok(p) => p,
                Err(p) => {
                    self.cursor.set(p);
                    return None;
                }
            },
        };
        self.cursor.set(p + 1);
        Some(p)
    }

    /// The value at grid index `i`.
    pub(crate) fn at(&self, i: u32) -> Option<f64> {
        self.position(i).map(|p| self.vals[p])
    }

    /// The values at grid indices in `[from, to)`, as `(time, value)`.
    fn points_between(&self, grid: &Grid, from: u32, to: u32, out: &mut Vec<(i64, f64)>) {
        let a = self.idx.partition_point(|&x| x < from);
        let b = self.idx.partition_point(|&x| x < to);
        out.extend(
            self.idx[a..b]
                .iter()
                .zip(&self.vals[a..b])
                .map(|(&i, &v)| (grid.time(i as usize), v)),
        );
    }
}

/// A node's values at every time of a grid, per series. Series are in the
/// order the node's per-step vector has them (see [`ColSeries::rank`]).
pub(crate) struct Columns {
    pub(crate) grid: Grid,
    pub(crate) series: Vec<ColSeries>,
}

impl Columns {
    /// The values held, for the sample budget.
    pub(crate) fn points(&self) -> usize {
        self.series.iter().map(|s| s.vals.len()).sum()
    }

    /// The node's instant vector at time `t`, if `t` is on the grid.
    fn vector_at(&self, t: i64) -> Option<Vec<Elem>> {
        let i = self.grid.index(t)?;
        let mut out = Vec::with_capacity(self.series.len());
        let mut ranks: Vec<u32> = Vec::new();
        for s in &self.series {
            let Some(p) = s.position(i) else { continue };
            if let Some(&r) = s.rank.get(p) {
                ranks.push(r);
            }
            out.push(Elem {
                labels: s.labels.clone(),
                v: s.vals[p],
                ts: t,
                drop_name: s.drop_name,
            });
        }
        if ranks.len() == out.len() && !ranks.is_sorted() {
            let mut both: Vec<(u32, Elem)> = ranks.into_iter().zip(out).collect();
            both.sort_by_key(|x| x.0);
            out = both.into_iter().map(|x| x.1).collect();
        }
        Some(out)
    }
}

/// Where a node's columns are kept: by the address of the node (the tree
/// outlives the query), parentheses looked through.
pub(crate) fn node_key(e: &Expr) -> usize {
    super::functions::unparen(e) as *const Expr as usize
}

impl Evaluator<'_> {
    /// The value of a node that has columns, at `t`.
    pub(crate) fn value_from_columns(&self, e: &Expr, t: i64) -> Option<IVal> {
        let cols = self.columns.get(&node_key(e))?;
        cols.vector_at(t).map(IVal::Vector)
    }

    /// A subquery's range vector at `t`, from its inner expression's
    /// columns: the points in `(lo, hi]`, series in label order (the order
    /// of the per-step subquery).
    pub(crate) fn subquery_from_columns(
        &self,
        sq: &crate::ast::SubqueryExpr,
        lo: i64,
        hi: i64,
    ) -> Option<Vec<RangeSeries>> {
        let key = sq as *const crate::ast::SubqueryExpr as usize;
        let inner = self.subqueries.get(&key)?;
        let g = &inner.grid;
        // Not planned for this window (a time the planning walk did not
        // foresee): the per-step subquery answers instead.
        let last = g.time(g.len - 1);
        if lo < g.start - g.step || hi >= last.saturating_add(g.step) {
            return None;
        }
        // Grid indices in (lo, hi]: the first time above lo, to the first
        // time above hi.
        let above = |x: i64| -> u32 {
            if x < g.start {
                return 0;
            }
            let i = (x - g.start) / g.step + 1;
            i.min(g.len as i64) as u32
        };
        let (from, to) = (above(lo), above(hi));
        let mut out = Vec::new();
        for s in &inner.series {
            let mut points = Vec::new();
            s.points_between(g, from, to, &mut points);
            if !points.is_empty() {
                out.push(RangeSeries {
                    labels: s.labels.clone(),
                    points,
                    drop_name: s.drop_name,
                });
            }
        }
        Some(out)
    }

    /// A range query's result straight from the root's columns; `None`
    /// when the root has none.
    pub(crate) fn matrix_from_columns(
        &mut self,
        e: &Expr,
    ) -> Option<Result<Vec<Series>, EngineError>> {
        let cols = self.columns.remove(&node_key(e))?;
        // The result is all there: what it was computed from can go before
        // it is assembled, which lowers the query's peak memory.
        self.cache.clear();
        self.columns.clear();
        self.subqueries.clear();
        Some(assemble(cols))
    }
}

/// The result series of columns: final labels, and series whose final
/// labels are equal merged — an error if both have a value at one step.
fn assemble(cols: Columns) -> Result<Vec<Series>, EngineError> {
    let g = &cols.grid;
    let mut out: Vec<Series> = Vec::with_capacity(cols.series.len());
    let mut parts: Vec<Vec<usize>> = Vec::with_capacity(cols.series.len());
    let mut by_labels: HashMap<Labels, usize> = HashMap::with_capacity(cols.series.len());
    for (n, s) in cols.series.iter().enumerate() {
        if s.idx.is_empty() {
            continue;
        }
        let labels = final_labels(&s.labels, s.drop_name);
        match by_labels.get(&labels) {
            Some(&o) => parts[o].push(n),
            None => {
                by_labels.insert(labels.clone(), out.len());
                out.push(Series {
                    labels,
                    points: Vec::new(),
                });
                parts.push(vec![n]);
            }
        }
    }
    // Each series' columns are freed as soon as its points are built.
    let mut series: Vec<Option<ColSeries>> = cols.series.into_iter().map(Some).collect();
    for (o, members) in out.iter_mut().zip(&parts) {
        for &n in members {
            let Some(s) = series[n].take() else { continue };
            o.points.reserve_exact(s.idx.len());
            o.points.extend(
                s.idx
                    .iter()
                    .zip(&s.vals)
                    .map(|(&i, &v)| (g.time(i as usize), v)),
            );
        }
        if members.len() > 1 {
            o.points.sort_by_key(|p| p.0);
            if o.points.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(dup_labelset());
            }
        }
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Value};
    use model::STALE_NAN;
    use storage::{Appendable, MemStorage};

    /// Counters and gauges with gaps, a reset, a stale marker and two
    /// metrics that differ only by name.
    fn db() -> MemStorage {
        let db = MemStorage::new();
        let mut app = db.appender();
        for (name, job, inst, every, skip) in [
            ("a_total", "x", "1", 10_000, 7),
            ("a_total", "x", "2", 15_000, 5),
            ("a_total", "y", "1", 20_000, 3),
            ("b_total", "x", "1", 30_000, 4),
        ] {
            let l = Labels::from_pairs(&[("__name__", name), ("job", job), ("inst", inst)]);
            let mut v = 0.0;
            for i in 0..60_i64 {
                if i % 17 == skip {
                    continue; // a gap
                }
                v = if i == 31 {
                    1.0
                } else {
                    v + (i % every.min(7)) as f64
                };
                let t = i * every + i % 3;
                let v = if i == 40 && job == "y" { STALE_NAN } else { v };
                app.append(None, &l, t, v).expect("append");
            }
        }
        app.commit().expect("commit");
        drop(app);
        db
    }

    /// A range query equals the instant queries at its steps, each alone.
    fn same_as_steps(q: &str, start: i64, end: i64, step: i64) {
        let db = db();
        let e = crate::parse(q).expect("parse");
        let engine = Engine::default();
        let range = engine.range_query(&db, &e, start, end, step);
        let mut want: Vec<Series> = Vec::new();
        let mut err = None;
        let mut t = start;
        while t <= end && err.is_none() {
            match engine.instant_query(&db, &e, t).map(|r| r.value) {
                Ok(Value::Vector(v)) => {
                    for s in v {
                        match want.iter_mut().find(|w| w.labels == s.labels) {
                            Some(w) => w.points.push((t, s.value)),
                            None => want.push(Series {
                                labels: s.labels,
                                points: vec![(t, s.value)],
                            }),
                        }
                    }
                }
                Ok(other) => panic!("{q}: not a vector: {other:?}"),
                Err(e) => err = Some(e.to_string()),
            }
            t += step;
        }
        want.sort_by(|a, b| a.labels.cmp(&b.labels));
        match (range, err) {
            (Ok(r), None) => assert_eq!(r.value, Value::Matrix(want), "{q}"),
            (Err(a), Some(b)) => assert_eq!(a.to_string(), b, "{q}"),
            (r, e) => panic!("{q}: range {r:?}, steps {e:?}"),
        }
    }

    #[test]
    fn column_wise_results_equal_step_by_step_results() {
        for q in [
            "rate(a_total[1m])",
            "increase(a_total[45s] offset 20s)",
            "irate(a_total[1m])",
            "deriv(a_total[2m])",
            "max_over_time(a_total[1m])",
            "last_over_time(a_total[1m])",
            "resets(a_total[5m])",
            "rate(a_total[1m] @ 300)",
            "sum by (job) (rate(a_total[1m]))",
            "avg without (inst) (rate(a_total[1m]))",
            "count(rate(a_total[1m]))",
            "min by (__name__) (last_over_time({__name__=~\"a_total|b_total\"}[1m]))",
            "stddev(rate(a_total[1m])) + 1",
            "topk(2, rate(a_total[1m]))",
            "bottomk by (job) (1, rate(a_total[1m]))",
            "topk(2.5, last_over_time({__name__=~\"a_total|b_total\"}[1m]))",
            "sum(topk(3, rate(a_total[1m])))",
            "topk(1, count_over_time(a_total[1m]))",
            "max_over_time(rate(a_total[1m])[5m:30s])",
            "avg_over_time(sum by (job) (rate(a_total[1m]))[3m:20s] offset 1m)",
            "max_over_time(max_over_time(rate(a_total[1m])[2m:20s])[4m:1m])",
            "sum_over_time(rate(a_total[1m])[10s:5s])",
            "rate({__name__=~\"a_total|b_total\"}[1m])",
            "last_over_time({__name__=~\"a_total|b_total\"}[1m])",
            "rate(a_total[1m] offset -30s)",
            "max_over_time(rate(a_total[1m])[2m:20s] @ 400)",
            "sum(sum by (job) (rate(a_total[1m])))",
            "sum by (job) (rate(a_total[1m])) > bool 0.5",
            "count_values(\"v\", count_over_time(a_total[1m]))",
            "quantile(0.5, rate(a_total[1m]))",
            "absent_over_time(nothing[1m])",
            "stdvar_over_time(a_total[2m]) - stddev(rate(a_total[1m]))",
            "group without (inst) (resets(a_total[2m]))",
        ] {
            same_as_steps(q, 0, 700_000, 15_000);
            same_as_steps(q, 3_000, 600_000, 37_000);
        }
    }

    fn series(idx: &[u32]) -> ColSeries {
        let mut s = ColSeries::new(Labels::empty(), false);
        s.idx = idx.to_vec();
        s.vals = idx.iter().map(|&i| f64::from(i)).collect();
        s
    }

    #[test]
    fn lookups_in_order_and_out_of_order_agree_with_a_search() {
        let s = series(&[1, 2, 5, 9]);
        let want = |i: u32| [1, 2, 5, 9].contains(&i).then_some(f64::from(i));
        for i in (0..12)
            .chain((0..12).rev())
            .chain([5, 1, 9, 3, 2, 2, 11, 0])
        {
            assert_eq!(s.at(i), want(i), "index {i}");
        }
    }

    #[test]
    fn grid_indices() {
        let g = Grid::spanning(1_000, 61_000, 15_000).expect("grid");
        assert_eq!(g.len, 5);
        assert_eq!(g.index(16_000), Some(1));
        assert_eq!(g.index(17_000), None);
        assert_eq!(g.index(76_000), None);
        assert_eq!(g.index(-14_000), None);
        assert_eq!(g.time(4), 61_000);
    }

    #[test]
    fn slices_of_a_subquery_are_left_open() {
        let g = Grid::spanning(0, 100, 10).expect("grid");
        let s = series(&[0, 1, 2, 3, 7]);
        let mut pts = Vec::new();
        s.points_between(&g, 1, 4, &mut pts);
        assert_eq!(pts, vec![(10, 1.0), (20, 2.0), (30, 3.0)]);
    }
}
