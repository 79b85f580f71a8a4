//! The PromQL evaluator: instant and range queries over any
//! [`storage::Queryable`].
//!
//! A range query is evaluated as Prometheus defines it: the expression is
//! evaluated as an instant query at every step `start, start+step, … ≤ end`,
//! and the step results are joined into one matrix by label set. Before
//! evaluating, a planning walk (`engine/bounds.rs`) finds the time range
//! each selector needs (steps, `@`, `offset`, ranges, lookback,
//! subqueries); each selector's data is read from storage once, for that
//! range. The nodes whose values allow it — range functions over selectors
//! or subqueries, parameterless aggregations and `topk`/`bottomk` of such
//! nodes, subqueries' inner expressions — are then computed for all steps
//! at once, series by series (`engine/columns.rs`); everything else is one
//! tree walk per step, which finds those nodes' values ready.
//!
//! ```
//! use promql::engine::{Engine, EngineOptions, Value};
//! use storage::MemStorage;
//!
//! let engine = Engine::new(EngineOptions::default());
//! let expr = promql::parse("sum(vector(1) + 2)").unwrap();
//! let r = engine.instant_query(&MemStorage::new(), &expr, 60_000).unwrap();
//! assert!(matches!(r.value, Value::Vector(v) if v[0].value == 3.0));
//! ```
//!
//! Layout: `engine/value.rs` (intermediate values), `engine/eval.rs` (the
//! tree walk, range-query assembly), `engine/bounds.rs` (the read plan),
//! `engine/columns.rs` (column-wise evaluation; `columns/build.rs`),
//! `engine/selectors.rs` (vector and matrix selectors, subqueries),
//! `engine/extended.rs` (`anchored`/`smoothed`), `engine/binary.rs`,
//! `engine/aggregations.rs`, `engine/functions.rs` (dispatch, math, dates;
//! `functions/labels.rs`, `functions/histogram.rs` for classic buckets),
//! `engine/rangefn.rs` (range-vector functions), `engine/info.rs`.
//!
//! Not there yet: native histograms (the storage traits carry floats only),
//! start timestamps, and the `info`/`warning` annotations that concern
//! histograms or counter naming. Errors Prometheus words exactly (the
//! conformance scripts compare them) are [`EngineError::Query`].
//!
//! `__name__` removal is delayed, as Prometheus's test engine runs it
//! (`EnableDelayedNameRemoval`): operators that drop the metric name only
//! mark the element, and names are removed at the end of the query.

mod aggregations;
mod binary;
mod bounds;
mod columns;
mod eval;
mod extended;
mod functions;
mod info;
mod rangefn;
mod selectors;
mod value;

use model::Labels;
use storage::{Queryable, StorageError};

use crate::ast::Expr;
use eval::Evaluator;

/// Engine settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample, ms (5m).
    pub lookback_delta_ms: i64,
    /// The step of subqueries that give none, ms (Prometheus's evaluation
    /// interval, 1m).
    pub default_subquery_step_ms: i64,
    /// Bound on the samples one query may touch in total (selector
    /// results and subquery points), so a query cannot run away with the
    /// CPU. Prometheus bounds the samples held at once (`--query.max-samples`,
    /// 50,000,000); counting the total is stricter but simpler.
    pub max_samples: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 300_000,
            default_subquery_step_ms: 60_000,
            max_samples: 500_000_000,
        }
    }
}

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An evaluation error, worded exactly as Prometheus words it (clients
    /// and the conformance scripts compare the text).
    #[error("{0}")]
    Query(String),
    /// Storage failed.
    #[error("cannot read series: {0}")]
    Storage(#[from] StorageError),
    /// The query's range is not usable.
    #[error("cannot evaluate range query: step {step_ms}ms, start {start_ms}, end {end_ms}")]
    BadRange {
        /// Start, ms.
        start_ms: i64,
        /// End, ms.
        end_ms: i64,
        /// Step, ms.
        step_ms: i64,
    },
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub labels: Labels,
    /// Its value.
    pub value: f64,
}

/// One series of a matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// (ms, value) points in time order.
    pub points: Vec<(i64, f64)>,
}

/// A query result.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number.
    Scalar(f64),
    /// A string.
    String(String),
    /// An instant vector.
    Vector(Vec<Sample>),
    /// A range vector, or a range query's result (series sorted by labels).
    Matrix(Vec<Series>),
}

/// A warning raised while evaluating, with the part of the query it is
/// about (Prometheus appends its `line:col` to the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The text, without position.
    pub message: String,
    /// Where in the query.
    pub span: crate::Span,
}

/// A result with the annotations raised while computing it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// Warnings.
    pub warnings: Vec<Annotation>,
}

/// The PromQL engine; cheap to create, holds only settings.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with these settings.
    pub fn new(opts: EngineOptions) -> Engine {
        Engine { opts }
    }

    /// Evaluates `expr` at `t_ms`.
    pub fn instant_query(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        t_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        let mut ev = Evaluator::new(db, &self.opts, t_ms, t_ms, 0);
        ev.plan(expr)?;
        let v = ev.eval(expr, t_ms)?;
        let value = ev.finish_instant(v)?;
        Ok(QueryResult {
            value,
            warnings: ev.warnings,
        })
    }

    /// Evaluates `expr` at every step from `start_ms` to `end_ms`; the
    /// result is a matrix.
    pub fn range_query(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        if step_ms <= 0 || end_ms < start_ms {
            return Err(EngineError::BadRange {
                start_ms,
                end_ms,
                step_ms,
            });
        }
        // Prometheus's API limit: a longer range needs a coarser step.
        if end_ms.saturating_sub(start_ms) / step_ms > 11_000 {
            return Err(EngineError::Query(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".to_owned(),
            ));
        }
        let mut ev = Evaluator::new(db, &self.opts, start_ms, end_ms, step_ms);
        ev.plan(expr)?;
        let value = ev.eval_range(expr)?;
        Ok(QueryResult {
            value,
            warnings: ev.warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::STALE_NAN;
    use storage::{Appendable, MemStorage};

    /// `foo{a="x"}` at 0, 10s, …, 50s with values 0, 1, …, 5, then a stale
    /// marker at 60s.
    fn db() -> MemStorage {
        let db = MemStorage::new();
        let l = Labels::from_pairs(&[("__name__", "foo"), ("a", "x")]);
        {
            let mut app = db.appender();
            for i in 0..6 {
                app.append(None, &l, i * 10_000, i as f64).expect("append");
            }
            app.append(None, &l, 60_000, STALE_NAN).expect("append");
            app.commit().expect("commit");
        }
        db
    }

    fn instant(q: &str, t: i64) -> Value {
        let e = crate::parse(q).expect("parse");
        Engine::default()
            .instant_query(&db(), &e, t)
            .expect("query")
            .value
    }

    #[test]
    fn selector_looks_back_and_stops_at_staleness() {
        let Value::Vector(v) = instant("foo", 55_000) else {
            panic!("not a vector")
        };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].value, 5.0);
        assert_eq!(instant("foo", 65_000), Value::Vector(Vec::new()));
        assert_eq!(instant("foo offset 10s", 65_000), Value::Vector(v));
    }

    #[test]
    fn matrix_range_is_left_open() {
        let Value::Matrix(m) = instant("foo[20s]", 40_000) else {
            panic!("not a matrix")
        };
        assert_eq!(m[0].points, vec![(30_000, 3.0), (40_000, 4.0)]);
    }

    #[test]
    fn functions_drop_the_name_and_arithmetic_works() {
        let Value::Vector(v) = instant("rate(foo[1m]) * 10", 50_000) else {
            panic!("not a vector")
        };
        assert_eq!(v[0].labels, Labels::from_pairs(&[("a", "x")]));
        // An increase of 5 that extrapolates no further back than the
        // counter's zero point (the first sample is 0), over 60s.
        assert!((v[0].value - 50.0 / 60.0).abs() < 1e-9, "{}", v[0].value);
        assert_eq!(instant("1 + 2 * 3", 0), Value::Scalar(7.0));
    }

    #[test]
    fn range_query_yields_one_point_per_step() {
        let e = crate::parse("sum(foo)").expect("parse");
        let r = Engine::default()
            .range_query(&db(), &e, 0, 70_000, 20_000)
            .expect("query");
        let Value::Matrix(m) = r.value else {
            panic!("not a matrix")
        };
        assert_eq!(m[0].points, vec![(0, 0.0), (20_000, 2.0), (40_000, 4.0)]);
    }

    #[test]
    fn sample_budget_stops_a_query() {
        let e = crate::parse("count_over_time(foo[1m])").expect("parse");
        let engine = Engine::new(EngineOptions {
            max_samples: 3,
            ..EngineOptions::default()
        });
        let r = engine.instant_query(&db(), &e, 50_000);
        assert!(matches!(r, Err(EngineError::Query(m)) if m.contains("too many samples")));
        let e = crate::parse("count_over_time(foo[1m:1ms])").expect("parse");
        let r = Engine::default().instant_query(&db(), &e, 50_000);
        assert!(
            r.is_ok(),
            "60,000 subquery steps are within the default budget"
        );
    }

    #[test]
    fn bad_step_is_an_error() {
        let e = crate::parse("foo").expect("parse");
        let r = Engine::default().range_query(&db(), &e, 0, 10, 0);
        assert!(matches!(r, Err(EngineError::BadRange { .. })));
    }
}
