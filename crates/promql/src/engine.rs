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
//! `engine/rangefn.rs` (range-vector functions), `engine/info.rs`,
//! `engine/annotations.rs` (warnings and infos); limits: `engine/exec.rs`
//! (running one query), `engine/limits.rs` (sample budget, deadline,
//! cancel), `engine/gate.rs` (concurrency), `engine/active_log.rs` (the
//! `queries.active` file).
//!
//! Not there yet: native histograms (the storage traits carry floats only),
//! start timestamps, and the annotations that concern them (the list is in
//! `engine/annotations.rs`). Errors Prometheus words exactly (the
//! conformance scripts compare them) are [`EngineError::Query`].
//!
//! `__name__` removal is delayed, as Prometheus's test engine runs it
//! (`EnableDelayedNameRemoval`): operators that drop the metric name only
//! mark the element, and names are removed at the end of the query.
//!
//! # Limits
//!
//! An [`Engine`] and its clones admit at most
//! [`EngineOptions::max_concurrency`] queries at once; the others wait in
//! arrival order (`engine/gate.rs`). Every query has a deadline
//! ([`EngineOptions::timeout`] from the call, or earlier by
//! [`QueryOptions`]) that covers the wait, and may carry a [`CancelToken`].
//! The errors are Prometheus's, with its `env` words: "query timed out in
//! query queue" while waiting, "… in query execution" if the deadline has
//! passed when the query is admitted, "… in expression evaluation" while
//! evaluating; "query was canceled in …" likewise. While evaluating, the
//! cancel switch is read at every node and selector series and the clock at
//! every 16th, so a query stops within a few milliseconds of its deadline
//! (or later by one storage read or one large aggregation, which have no
//! check inside).
//!
//! [`EngineOptions::max_samples`] bounds the samples a query holds in
//! memory at once, as `--query.max-samples` does; over it the query fails
//! with "query processing would load too many samples into memory in query
//! execution". Prometheus evaluates a range query node by node, each node
//! for all steps, and counts the points of the matrices alive at a time.
//! This engine walks the tree once per step, so it counts what it holds
//! (`engine/limits.rs`):
//!
//! * every sample decoded from storage into the per-query selector cache,
//!   until the query ends;
//! * what each selector hands out at a step (one sample per series for an
//!   instant selector, the window's points for a range selector), held
//!   until the node that consumes it returns;
//! * the value each node returns (one per scalar, per vector element, per
//!   range-vector point), held by its parent; while a node builds its value
//!   its inputs count too;
//! * what a subquery and the range query have gathered so far over their
//!   steps.
//!
//! The per-step values are never more than Prometheus holds for the same
//! nodes (it holds every step of them at once), so without the cache a range
//! query would count less than in Prometheus. The decoded cache has no
//! counterpart there (Prometheus streams samples from compressed chunks); it
//! is memory this engine really holds, and the limit is there to protect
//! memory, so it counts. In sum: an instant query counts more than in
//! Prometheus (every sample of each selector's lookback window or range is
//! decoded, where Prometheus counts one per series), and a range query
//! about as much (the decoded ranges stand in for the selector matrices
//! Prometheus keeps; `tests/stats_prometheus.rs` compares the two).
//! [`QueryResult::stats`] reports the peak of this count and the total the
//! selectors handed out over all steps (Prometheus's `peakSamples` and
//! `totalQueryableSamples`, counted as Prometheus 3.x counts them: the
//! reference Prometheus gives the same totals outside subqueries, where its
//! 2.42 differs from 3.x).
//!
//! A panic while evaluating (a bug) fails that query with
//! [`EngineError::Internal`] instead of unwinding into the caller.

mod active_log;
mod aggregations;
mod annotations;
mod binary;
mod bounds;
mod columns;
mod eval;
mod exec;
mod extended;
mod functions;
mod gate;
mod info;
mod limits;
mod rangefn;
mod selectors;
mod value;

pub use annotations::{Annotation, AnnotationKind};
use std::sync::Arc;
use std::time::Duration;

use model::Labels;
use storage::StorageError;

use active_log::ActiveQueryLog;
use gate::QueryGate;

pub use active_log::ActiveQueryLogError;
pub use limits::{CancelToken, QueryOptions, QueryStats};

/// Engine settings (Prometheus's `--query.*` flags).
#[derive(Clone, Debug, PartialEq)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample, ms (5m,
    /// `--query.lookback-delta`).
    pub lookback_delta_ms: i64,
    /// The step of subqueries that give none, ms (Prometheus's evaluation
    /// interval, 1m).
    pub default_subquery_step_ms: i64,
    /// The most samples one query may hold in memory at once
    /// (`--query.max-samples`, 50,000,000); see the module doc for what is
    /// counted.
    pub max_samples: u64,
    /// Prometheus's `type-and-unit-labels` feature: `rate`/`increase` judge
    /// whether a metric is a counter by its `__type__` label instead of its
    /// name's suffix (off by default, as in Prometheus).
    pub type_and_unit_labels: bool,
    /// The time a query may take from the call, queueing included
    /// (`--query.timeout`, 2m).
    pub timeout: Duration,
    /// The most queries evaluated at once by one engine and its clones
    /// (`--query.max-concurrency`, 20); 0 admits all.
    pub max_concurrency: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 300_000,
            default_subquery_step_ms: 60_000,
            type_and_unit_labels: false,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            max_concurrency: 20,
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
    /// The query's deadline passed; `env` says where it was (`query queue`,
    /// `query execution` or `expression evaluation`, as Prometheus says).
    #[error("query timed out in {env}")]
    Timeout {
        /// Where the query was.
        env: &'static str,
    },
    /// The query's [`CancelToken`] was thrown; `env` as for `Timeout`.
    #[error("query was canceled in {env}")]
    Canceled {
        /// Where the query was.
        env: &'static str,
    },
    /// The query would hold more than `max_samples` samples at once
    /// (`env` is always `query execution`, as in Prometheus).
    #[error("query processing would load too many samples into memory in {env}")]
    TooManySamples {
        /// Where the query was.
        env: &'static str,
    },
    /// Evaluation hit a bug (a panic); the query fails, the process lives.
    #[error("unexpected error: {0}")]
    Internal(String),
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

/// A result with the annotations raised while computing it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// Warnings and infos (see [`Annotation`]).
    pub annotations: Vec<Annotation>,
    /// Sample statistics (the API's `stats=all`).
    pub stats: QueryStats,
}

/// The PromQL engine: settings and the admission gate. Clones share the
/// gate, so one engine cloned into every request handler admits at most
/// `max_concurrency` queries in all.
#[derive(Clone, Debug)]
pub struct Engine {
    opts: EngineOptions,
    gate: Arc<QueryGate>,
    log: Option<Arc<ActiveQueryLog>>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineOptions::default())
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
        // The 6 samples of the 1m window are decoded into memory.
        assert!(matches!(r, Err(EngineError::TooManySamples { .. })));
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
