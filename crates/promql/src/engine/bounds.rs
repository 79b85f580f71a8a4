//! The time range each selector of a query reads, found before evaluating
//! so that storage is asked for no more than the query can use (as
//! Prometheus's `FindMinMaxTime` does, per selector).

use std::collections::HashMap;

use super::eval::Evaluator;
use super::EngineError;
use crate::ast::{AtModifier, DurationExpr, Expr, VectorSelector};

/// Inclusive `[mint, maxt]` per selector node address.
pub(crate) type Bounds = HashMap<usize, (i64, i64)>;

impl Evaluator<'_> {
    /// The evaluation-time interval `[s, e]` moved by `@` and `offset`.
    fn shifted(
        &self,
        s: i64,
        e: i64,
        at: Option<AtModifier>,
        offset: Option<&DurationExpr>,
    ) -> Result<(i64, i64), EngineError> {
        Ok((self.ref_time(s, at, offset)?, self.ref_time(e, at, offset)?))
    }

    fn note(bounds: &mut Bounds, vs: &VectorSelector, lo: i64, hi: i64) {
        let key = vs as *const VectorSelector as usize;
        let b = bounds.entry(key).or_insert((lo, hi));
        b.0 = b.0.min(lo);
        b.1 = b.1.max(hi);
    }

    /// Records what every selector under `e` reads when `e` is evaluated
    /// at times in `[s, e_]`.
    pub(crate) fn find_bounds(
        &self,
        e: &Expr,
        s: i64,
        e_: i64,
        out: &mut Bounds,
    ) -> Result<(), EngineError> {
        let lookback = self.opts.lookback_delta_ms;
        match e {
            Expr::Number(_) | Expr::String(_) => {}
            Expr::VectorSelector(vs) => {
                let (a, b) = self.shifted(s, e_, vs.at, vs.offset.as_ref())?;
                // A smoothed selector also looks at the next sample.
                let ahead = if vs.smoothed { lookback } else { 0 };
                Self::note(out, vs, a.saturating_sub(lookback), b.saturating_add(ahead));
            }
            Expr::MatrixSelector(ms) => {
                let vs = &ms.selector;
                let (a, b) = self.shifted(s, e_, vs.at, vs.offset.as_ref())?;
                let range = self.duration_ms(&ms.range)?.max(0);
                // Anchored and smoothed ranges reach past both edges.
                let extra = if vs.anchored || vs.smoothed {
                    lookback
                } else {
                    0
                };
                Self::note(
                    out,
                    vs,
                    a.saturating_sub(range).saturating_sub(extra),
                    b.saturating_add(extra),
                );
            }
            Expr::Subquery(sq) => {
                let (a, b) = self.shifted(s, e_, sq.at, sq.offset.as_ref())?;
                let range = self.duration_ms(&sq.range)?.max(0);
                self.find_bounds(&sq.expr, a.saturating_sub(range), b, out)?;
            }
            Expr::Aggregate(a) => {
                self.find_bounds(&a.expr, s, e_, out)?;
                if let Some(p) = &a.param {
                    self.find_bounds(p, s, e_, out)?;
                }
            }
            Expr::Binary(b) => {
                self.find_bounds(&b.lhs, s, e_, out)?;
                self.find_bounds(&b.rhs, s, e_, out)?;
            }
            Expr::Unary(u) => self.find_bounds(&u.expr, s, e_, out)?,
            Expr::Paren(p) => self.find_bounds(&p.expr, s, e_, out)?,
            Expr::Call(c) => {
                for a in &c.args {
                    self.find_bounds(a, s, e_, out)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineOptions;
    use storage::MemStorage;

    /// The single planned range of `q` evaluated over `[s, e]` with step.
    fn plan(q: &str, s: i64, e: i64, step: i64) -> Vec<(i64, i64)> {
        let db = MemStorage::new();
        let opts = EngineOptions::default();
        let expr = crate::parse(q).expect("parse");
        let mut ev = Evaluator::new(&db, &opts, s, e, step);
        ev.plan(&expr).expect("plan");
        let mut v: Vec<(i64, i64)> = ev.bounds.values().copied().collect();
        v.sort();
        v
    }

    #[test]
    fn selector_ranges_follow_offset_at_and_lookback() {
        assert_eq!(plan("foo", 600_000, 600_000, 0), vec![(300_000, 600_000)]);
        assert_eq!(
            plan("rate(foo[5m] offset 1m)", 600_000, 900_000, 60_000),
            vec![(240_000, 840_000)]
        );
        assert_eq!(
            plan("foo @ 100", 0, 900_000, 60_000),
            vec![(-200_000, 100_000)]
        );
    }

    #[test]
    fn subqueries_widen_the_inner_range() {
        // Inner steps from 10m-10m to 10m, each looking back 5m.
        assert_eq!(
            plan("max_over_time(foo[10m:1m])", 600_000, 600_000, 0),
            vec![(-300_000, 600_000)]
        );
    }
}
