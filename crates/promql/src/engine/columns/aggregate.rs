//! Column-wise aggregations (see `columns.rs`): parameterless ones with
//! incremental reductions, and `topk`/`bottomk` with a literal `k`.

use std::collections::HashMap;

use model::Labels;

use super::{node_key, ColSeries, Columns, Grid};
use crate::ast::{AggregateExpr, AggregateOp, Expr};
use crate::engine::aggregations::{kahan_add, rank_order, reduce};
use crate::engine::eval::Evaluator;
use crate::engine::functions::unparen;

/// Bound on the (group, step) accumulators of a column-wise aggregation
/// (~40 B each); aggregations with more groups gather per step instead.
const MAX_CELLS: usize = 4 << 20;

/// One group's aggregation state at one step, fed its values in input
/// order. Each operator's arithmetic is that of `aggregations::reduce`,
/// done incrementally: Kahan sum, fold for min and max, Welford's
/// variance, and the incremental mean `mean` falls back to on overflow.
#[derive(Clone, Copy)]
struct Acc {
    n: u32,
    /// Input position of the first value (the group's place in the
    /// step's vector).
    first: u32,
    /// Sum, minimum, maximum or Welford's mean.
    a: f64,
    /// Kahan compensation or Welford's M2.
    b: f64,
    /// The incremental mean (`avg`).
    m: f64,
    /// A value was not finite (`avg`).
    nonfinite: bool,
}

impl Default for Acc {
    fn default() -> Acc {
        Acc {
            n: 0,
            first: 0,
            a: 0.0,
            b: 0.0,
            m: 0.0,
            nonfinite: false,
        }
    }
}

impl Acc {
    fn add(&mut self, op: AggregateOp, v: f64, pos: u32) {
        if self.n == 0 {
            self.first = pos;
            if matches!(op, AggregateOp::Min | AggregateOp::Max) {
                self.a = f64::NAN;
            }
        }
        self.n += 1;
        let n = f64::from(self.n);
        match op {
            AggregateOp::Sum => (self.a, self.b) = kahan_add(v, self.a, self.b),
            AggregateOp::Avg => {
                (self.a, self.b) = kahan_add(v, self.a, self.b);
                self.nonfinite |= !v.is_finite();
                self.m += v / n - self.m / n;
            }
            AggregateOp::Min if self.a.is_nan() || v < self.a => self.a = v,
            AggregateOp::Max if self.a.is_nan() || v > self.a => self.a = v,
            AggregateOp::Stdvar | AggregateOp::Stddev => {
                let d = v - self.a;
                self.a += d / n;
                self.b += d * (v - self.a);
            }
            _ => {}
        }
    }

    fn value(&self, op: AggregateOp) -> Option<f64> {
        let n = f64::from(self.n);
        Some(match op {
            AggregateOp::Sum => self.a + self.b,
            AggregateOp::Avg => {
                let s = self.a + self.b;
                if s.is_finite() || self.nonfinite {
                    s / n
                } else {
                    self.m
                }
            }
            AggregateOp::Count => n,
            AggregateOp::Group => 1.0,
            AggregateOp::Min | AggregateOp::Max => self.a,
            AggregateOp::Stdvar => self.b / n,
            AggregateOp::Stddev => (self.b / n).sqrt(),
            _ => return None,
        })
    }
}

impl Evaluator<'_> {
    /// The group of each input series of an aggregation, and each group's
    /// key and members, groups in order of first member.
    fn groups_of(a: &AggregateExpr, input: &Columns) -> Vec<(Labels, Vec<usize>)> {
        let mut names: Vec<&str> = a.grouping.iter().map(String::as_str).collect();
        if a.without {
            names.push("__name__");
        }
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut groups: Vec<(Labels, Vec<usize>)> = Vec::new();
        for (n, s) in input.series.iter().enumerate() {
            let k = if a.without {
                s.labels.without(&names)
            } else {
                s.labels.keep_only(&names)
            };
            let g = *index.entry(k.clone()).or_insert_with(|| {
                groups.push((k, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(n);
        }
        groups
    }

    /// `topk`/`bottomk` with a literal `k` over a node with columns: per
    /// group and step the best `k` values, ties to the earlier series —
    /// what the per-step stable sort keeps.
    pub(super) fn select_columns(&self, a: &AggregateExpr, grid: Grid) -> Option<Columns> {
        let Expr::Number(k) = unparen(a.param.as_deref()?) else {
            return None;
        };
        // NaN and k < 1 (an error, an empty result) stay with the per-step
        // walk; so do k beyond what the bounded buffers are for.
        if !(k.value >= 1.0 && k.value <= 10_000.0) {
            return None;
        }
        let k = k.value as usize;
        let input = self.columns.get(&node_key(&a.expr))?;
        let groups = Self::groups_of(a, input);
        let cells = groups.len().checked_mul(grid.len)?;
        if cells.checked_mul(k)? > MAX_CELLS
            || input.series.len().checked_mul(k)? > u32::MAX as usize
        {
            return None;
        }
        let mut group_of = vec![0; input.series.len()];
        for (g, (_, members)) in groups.iter().enumerate() {
            for &m in members {
                group_of[m] = g;
            }
        }
        // Per (group, step): how many are kept, the group's first input
        // position, and up to k (position, value), best first.
        let mut kept = vec![0usize; cells];
        let mut first = vec![0u32; cells];
        let mut best: Vec<(u32, f64)> = vec![(0, 0.0); cells * k];
        for (n, s) in input.series.iter().enumerate() {
            let g = group_of[n];
            for (&i, &v) in s.idx.iter().zip(&s.vals) {
                let c = g * grid.len + i as usize;
                let list = &mut best[c * k..][..k];
                let len = kept[c];
                if len == 0 {
                    first[c] = n as u32;
                }
                // Later series lose ties, so only a strictly better value
                // gets in.
                let better = |x: &(u32, f64)| rank_order(a.op, v, x.1).is_lt();
                let at = list[..len].iter().position(better).unwrap_or(len);
                if at == k {
                    continue;
                }
                let end = (len + 1).min(k);
                list.copy_within(at..end - 1, at + 1);
                list[at] = (n as u32, v);
                kept[c] = end;
            }
        }
        let mut out: Vec<Option<ColSeries>> = (0..input.series.len()).map(|_| None).collect();
        for i in 0..grid.len {
            for g in 0..groups.len() {
                let c = g * grid.len + i;
                for (j, &(n, v)) in best[c * k..][..kept[c]].iter().enumerate() {
                    let s = &input.series[n as usize];
                    let col = out[n as usize]
                        .get_or_insert_with(|| ColSeries::new(s.labels.clone(), s.drop_name));
                    col.idx.push(i as u32);
                    col.vals.push(v);
                    col.rank.push(first[c] * k as u32 + j as u32);
                }
            }
        }
        Some(Columns {
            grid,
            series: out.into_iter().flatten().collect(),
        })
    }

    /// A parameterless aggregation of a node with columns: each input
    /// series' group found once, the groups' values gathered per step in
    /// input order, as the per-step aggregation gathers them.
    pub(super) fn aggregate_columns(&self, a: &AggregateExpr, grid: Grid) -> Option<Columns> {
        use AggregateOp::*;
        if a.param.is_some()
            || !matches!(
                a.op,
                Sum | Avg | Count | Group | Min | Max | Stddev | Stdvar
            )
        {
            return None;
        }
        let input = self.columns.get(&node_key(&a.expr))?;
        let groups = Self::groups_of(a, input);
        let mut out = Vec::with_capacity(groups.len());
        for (k, members) in &groups {
            // A group keeping `__name__` loses it if a member was marked;
            // that can differ from step to step only with mixed members.
            let marked = members
                .iter()
                .filter(|&&m| input.series[m].drop_name)
                .count();
            if k.has("__name__") && marked != 0 && marked != members.len() {
                return None;
            }
            out.push(ColSeries::new(k.clone(), k.has("__name__") && marked != 0));
        }
        if groups.len().saturating_mul(grid.len) <= MAX_CELLS {
            // Series by series: each input's points read in one sweep.
            // Every (group, step) still receives its values in input order.
            let mut group_of = vec![0; input.series.len()];
            for (g, (_, members)) in groups.iter().enumerate() {
                for &m in members {
                    group_of[m] = g;
                }
            }
            let mut acc = vec![Acc::default(); groups.len() * grid.len];
            for (n, s) in input.series.iter().enumerate() {
                let row = &mut acc[group_of[n] * grid.len..][..grid.len];
                for (&i, &v) in s.idx.iter().zip(&s.vals) {
                    row[i as usize].add(a.op, v, n as u32);
                }
            }
            for (g, col) in out.iter_mut().enumerate() {
                for (i, c) in acc[g * grid.len..][..grid.len].iter().enumerate() {
                    if c.n > 0 {
                        col.idx.push(i as u32);
                        col.vals.push(c.value(a.op)?);
                        col.rank.push(c.first);
                    }
                }
            }
            return Some(Columns { grid, series: out });
        }
        let mut vals = Vec::new();
        for i in 0..grid.len as u32 {
            for ((_, members), col) in groups.iter().zip(out.iter_mut()) {
                vals.clear();
                let mut first = None;
                for &m in members {
                    if let Some(v) = input.series[m].at(i) {
                        first.get_or_insert(m);
                        vals.push(v);
                    }
                }
                let Some(first) = first else { continue };
                col.idx.push(i);
                col.vals.push(reduce(a.op, &vals)?);
                col.rank.push(first as u32);
            }
        }
        Some(Columns { grid, series: out })
    }
}
