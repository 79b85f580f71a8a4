//! The planning walk that finds nodes to evaluate column-wise, and the
//! builders of range-function and subquery columns (aggregations are in
//! `aggregate.rs`).

use std::collections::HashMap;

use model::{is_stale_nan, Labels};

use super::{node_key, ColSeries, Columns, Grid};
use crate::ast::{AggregateOp, Call, Expr, SubqueryExpr};
use crate::engine::eval::Evaluator;
use crate::engine::functions::{keeps_name, unparen};
use crate::engine::rangefn::{window_fn, WindowFn};
use crate::engine::value::IVal;
use crate::engine::EngineError;

/// Range functions whose value depends only on the window's points, the
/// window and the evaluation time (no scalar argument, no modifier rules).
const COLUMN_FNS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "avg_over_time",
    "sum_over_time",
    "count_over_time",
    "min_over_time",
    "max_over_time",
    "last_over_time",
    "first_over_time",
    "present_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "mad_over_time",
    "ts_of_last_over_time",
    "ts_of_first_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
    "changes",
    "resets",
];

/// The value of range function `name` over `(lo, hi]` windows of `pts`
/// (stale markers already left out), one window per grid step; the
/// windows never move backwards. `used` counts the points the windows held.
fn window_values(
    f: WindowFn,
    pts: &[(i64, f64)],
    windows: &[(i64, i64)],
    grid: &Grid,
    col: &mut ColSeries,
    used: &mut usize,
) {
    // Room for a value at every step, then none to spare: columns are
    // held until the query ends.
    col.idx.reserve_exact(windows.len());
    col.vals.reserve_exact(windows.len());
    let (mut a, mut b) = (0, 0);
    for (i, &(lo, hi)) in windows.iter().enumerate() {
        while a < pts.len() && pts[a].0 <= lo {
            a += 1;
        }
        b = b.max(a);
        while b < pts.len() && pts[b].0 <= hi {
            b += 1;
        }
        let window = &pts[a..b];
        if window.is_empty() {
            continue;
        }
        *used += window.len();
        if let Some(v) = f.call(window, lo, hi, grid.time(i)) {
            col.idx.push(i as u32);
            col.vals.push(v);
        }
    }
    col.idx.shrink_to_fit();
    col.vals.shrink_to_fit();
}

/// Whether every window starts and ends no earlier than the one before.
fn monotonic(windows: &[(i64, i64)]) -> bool {
    windows
        .windows(2)
        .all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1)
}

impl Evaluator<'_> {
    /// Computes columns for the nodes of `e` that allow it, `e` being
    /// evaluated at the times of `grid`.
    pub(crate) fn precompute(&mut self, e: &Expr, grid: Grid) -> Result<(), EngineError> {
        match e {
            Expr::Number(_) | Expr::String(_) => {}
            Expr::VectorSelector(_) | Expr::MatrixSelector(_) => {}
            Expr::Paren(p) => self.precompute(&p.expr, grid)?,
            Expr::Unary(u) => self.precompute(&u.expr, grid)?,
            Expr::Binary(b) => {
                self.precompute(&b.lhs, grid)?;
                self.precompute(&b.rhs, grid)?;
            }
            Expr::Aggregate(a) => {
                self.precompute(&a.expr, grid)?;
                if let Some(p) = &a.param {
                    self.precompute(p, grid)?;
                }
                let cols = match a.op {
                    AggregateOp::Topk | AggregateOp::Bottomk => self.select_columns(a, grid),
                    _ => self.aggregate_columns(a, grid),
                };
                if let Some(cols) = cols {
                    self.budget.loaded(cols.points())?;
                    self.columns.insert(node_key(e), cols);
                }
            }
            Expr::Call(c) => {
                for a in &c.args {
                    self.precompute(a, grid)?;
                }
                if let Some(cols) = self.range_fn_columns(c, grid)? {
                    self.budget.loaded(cols.points())?;
                    self.columns.insert(node_key(e), cols);
                }
            }
            Expr::Subquery(sq) => self.precompute_subquery(sq, grid)?,
        }
        Ok(())
    }

    /// A range function over a plain selector, or over a subquery whose
    /// inner values were computed.
    fn range_fn_columns(&mut self, c: &Call, grid: Grid) -> Result<Option<Columns>, EngineError> {
        let name = c.func.name;
        if !COLUMN_FNS.contains(&name) {
            return Ok(None);
        }
        let Some(arg) = c.args.first() else {
            return Ok(None);
        };
        let Some(f) = window_fn(name) else {
            return Ok(None);
        };
        let keep = keeps_name(name);
        let mut out = Vec::new();
        let mut pts: Vec<(i64, f64)> = Vec::new();
        match unparen(arg) {
            Expr::MatrixSelector(ms) if !ms.selector.smoothed && !ms.selector.anchored => {
                let windows = (0..grid.len)
                    .map(|i| self.matrix_window(ms, grid.time(i)))
                    .collect::<Result<Vec<_>, _>>()?;
                if !monotonic(&windows) {
                    return Ok(None);
                }
                let mut used = 0;
                let work = |labels: &Labels, samples: &[model::Sample]| {
                    // Leaving stale markers out first gives every window
                    // what leaving them out of each window would.
                    let pts: Vec<(i64, f64)> = samples
                        .iter()
                        .filter(|x| !is_stale_nan(x.v))
                        .map(|x| (x.t, x.v))
                        .collect();
                    // A selector's series keep their name unless dropped.
                    let mut col = ColSeries::new(labels.clone(), !keep);
                    let mut n = 0;
                    window_values(f, &pts, &windows, &grid, &mut col, &mut n);
                    (col, n)
                };
                self.map_series(&ms.selector, work, |(col, n)| {
                    used += n;
                    if !col.idx.is_empty() {
                        // Copied so the columns live in this thread's heap.
                        let mut here = ColSeries::new(col.labels, col.drop_name);
                        here.idx = col.idx.to_vec();
                        here.vals = col.vals.to_vec();
                        out.push(here);
                    }
                })?;
                // The windows were walked, not held: they count in the
                // total only; the columns count as held (see `precompute`).
                self.budget.touched(used)?;
            }
            Expr::Subquery(sq) => {
                let windows = (0..grid.len)
                    .map(|i| self.subquery_window(sq, grid.time(i)))
                    .collect::<Result<Vec<_>, _>>()?;
                let key = sq as *const SubqueryExpr as usize;
                let Some(inner) = self.subqueries.get(&key) else {
                    return Ok(None);
                };
                let g = inner.grid;
                let last = g.time(g.len - 1);
                let covered = windows
                    .iter()
                    .all(|&(lo, hi)| lo >= g.start - g.step && hi < last.saturating_add(g.step));
                if !covered || !monotonic(&windows) {
                    return Ok(None);
                }
                let mut used = 0;
                for s in &inner.series {
                    pts.clear();
                    pts.extend(
                        s.idx
                            .iter()
                            .zip(&s.vals)
                            .map(|(&i, &v)| (g.time(i as usize), v)),
                    );
                    let mut col = ColSeries::new(s.labels.clone(), !keep || s.drop_name);
                    window_values(f, &pts, &windows, &grid, &mut col, &mut used);
                    if !col.idx.is_empty() {
                        out.push(col);
                    }
                }
                self.budget.touched(used)?;
            }
            _ => return Ok(None),
        }
        // The non-counter info, as the step-by-step path raises it for
        // every series that produced a value (a subquery argument has no
        // position in Prometheus, so its annotations say 1:1).
        let span = match unparen(arg) {
            Expr::Subquery(_) => crate::Span::new(0, 0),
            e => e.span(),
        };
        for s in &out {
            self.check_counter(name, &s.labels, span);
        }
        Ok(Some(Columns { grid, series: out }))
    }

    /// Plans a subquery evaluated at the times of `grid`: its inner
    /// expression over the union of its windows, once per inner step.
    fn precompute_subquery(&mut self, sq: &SubqueryExpr, grid: Grid) -> Result<(), EngineError> {
        let (lo, hi0) = self.subquery_window(sq, grid.start)?;
        let (lo1, hi) = self.subquery_window(sq, grid.time(grid.len - 1))?;
        // Windows shorter than the steps leave gaps that the per-step walk
        // never evaluates; keep to it then.
        if grid.len > 1 && hi0.saturating_sub(lo) < grid.step && lo1 != lo {
            return Ok(());
        }
        let step = match &sq.step {
            Some(d) => self.duration_ms(d)?,
            None => self.opts.default_subquery_step_ms,
        };
        if step <= 0 || lo1 < lo || hi < hi0 {
            return Ok(());
        }
        let mut first = lo.saturating_sub(lo.rem_euclid(step));
        if first <= lo {
            first = first.saturating_add(step);
        }
        let last = hi.saturating_sub(hi.rem_euclid(step));
        let Some(inner) = Grid::spanning(first, last, step) else {
            return Ok(());
        };
        if inner.len as i64 > super::super::selectors::MAX_SUBQUERY_STEPS {
            return Ok(());
        }
        self.precompute(&sq.expr, inner)?;
        if let Some(cols) = self.materialize(&sq.expr, inner)? {
            self.budget.loaded(cols.points())?;
            self.subqueries
                .insert(sq as *const SubqueryExpr as usize, cols);
        }
        Ok(())
    }

    /// `e` at every time of `grid`, as the per-step subquery collects it:
    /// series keyed by their labels (without the name when it is to be
    /// dropped), sorted by that key. `None` when a key's elements differ in
    /// labels or marking, or meet twice at a step: the per-step subquery
    /// then keeps its own bookkeeping.
    fn materialize(&mut self, e: &Expr, grid: Grid) -> Result<Option<Columns>, EngineError> {
        let mut series: Vec<ColSeries> = Vec::new();
        let mut keys: Vec<Labels> = Vec::new();
        let mut by_key: HashMap<Labels, usize> = HashMap::new();
        // Most steps hand out the very same label sets (shared, not copied):
        // found by address without computing the key. Addresses stay
        // unique because `series` holds every label set indexed here.
        let mut by_addr: HashMap<usize, usize> = HashMap::new();
        let addr = |l: &Labels| l.as_bytes().as_ptr() as usize;
        for i in 0..grid.len {
            let elems = match self.eval(e, grid.time(i))? {
                IVal::Scalar(x) => vec![crate::engine::value::Elem {
                    labels: Labels::empty(),
                    v: x,
                    ts: 0,
                    drop_name: false,
                }],
                IVal::Vector(v) => v,
                _ => return Ok(None),
            };
            for el in elems {
                let n = match by_addr.get(&addr(&el.labels)) {
                    Some(&n) => n,
                    None => {
                        let key = if el.drop_name {
                            el.labels.without_metric_name()
                        } else {
                            el.labels.clone()
                        };
                        let n = *by_key.entry(key.clone()).or_insert_with(|| {
                            series.push(ColSeries::new(el.labels.clone(), el.drop_name));
                            keys.push(key);
                            series.len() - 1
                        });
                        let s = &series[n];
                        if s.labels.as_bytes().as_ptr() == el.labels.as_bytes().as_ptr() {
                            by_addr.insert(addr(&el.labels), n);
                        }
                        n
                    }
                };
                let s = &mut series[n];
                if s.labels != el.labels
                    || s.drop_name != el.drop_name
                    || s.idx.last() == Some(&(i as u32))
                {
                    return Ok(None);
                }
                s.idx.push(i as u32);
                s.vals.push(el.v);
            }
        }
        let mut order: Vec<usize> = (0..series.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        let mut slots: Vec<Option<ColSeries>> = series.into_iter().map(Some).collect();
        let series = order.into_iter().filter_map(|n| slots[n].take()).collect();
        Ok(Some(Columns { grid, series }))
    }
}
