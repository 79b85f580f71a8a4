//! Running a parsed script against a PromQL engine.
//!
//! The engine is reached through the [`Engine`] trait, so this crate does not
//! depend on the `promql` crate; the binary wires the two together. For every
//! `eval` the runner does what the reference runner does:
//!
//! * instant evals: the main query at T, checked for failure, annotations
//!   and result; then the **range-mode check** (the same text as a range
//!   query from T−1m to T+1m, step 1m, whose points at T must give the same
//!   result); then, if the engine can pin `@` on the selectors
//!   ([`Engine::pin_at`]), the **`@` variants**: the pinned text at
//!   −10T, 0, T/5, T, 10T (or −1s, 0, 1s when T = 0), each checked like the
//!   main run and range-mode checked;
//! * range evals: one range query, checked.
//!
//! The first mismatch fails the eval with a reason "expected …, got …".
//!
//! ```
//! use promqltest::runner::{run_script, Engine, EngineError, QueryOutput, QueryValue};
//! use promqltest::script::Script;
//! use storage::{MemStorage, Queryable};
//!
//! /// Knows number literals and nothing else.
//! struct Numbers;
//!
//! impl Engine for Numbers {
//!     fn instant(&self, _: &dyn Queryable, expr: &str, _: i64) -> Result<QueryOutput, EngineError> {
//!         let v = expr.parse().map_err(|_| EngineError::new("not a number"))?;
//!         Ok(QueryOutput::new(QueryValue::Scalar(v)))
//!     }
//!     fn range(&self, _: &dyn Queryable, _: &str, _: i64, _: i64, _: i64) -> Result<QueryOutput, EngineError> {
//!         Err(EngineError::new("no range queries"))
//!     }
//! }
//!
//! let script = Script::parse("n.test", "eval instant at 1m 2\n  2\n\neval instant at 1m x\n  expect fail msg: not a number\n").unwrap();
//! let report = run_script(&Numbers, &script, MemStorage::new);
//! // The first eval fails in its range-mode check; the second passes.
//! assert_eq!(report.passed(), 1);
//! assert!(report.outcomes[0].failure.as_deref().unwrap().starts_with("range-mode check"));
//! ```

mod compare;
pub(crate) mod render;

pub use compare::{floats_equal, histograms_equal, values_equal};

use std::sync::LazyLock;

use model::Labels;
use regex::Regex;
use storage::{Appendable, Queryable};

use crate::load::{load, LoadStats};
use crate::script::{Command, Eval, EvalKind, Expected, Script};
use crate::values::Value;

/// A PromQL engine as the runner needs it. Times are ms since the epoch;
/// engine settings are those of the reference runner (lookback 5m, default
/// subquery step 1m, max 10000 samples, experimental features on).
pub trait Engine {
    /// Evaluates `expr` as an instant query at `at_ms`.
    fn instant(
        &self,
        db: &dyn Queryable,
        expr: &str,
        at_ms: i64,
    ) -> Result<QueryOutput, EngineError>;

    /// Evaluates `expr` as a range query at `start_ms, start_ms+step_ms, …
    /// ≤ end_ms`; the result must be a matrix.
    fn range(
        &self,
        db: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryOutput, EngineError>;

    /// The text of `expr` with `@ <at_ms/1000, 3 decimals>` attached to every
    /// vector selector, matrix selector and subquery that has none (not
    /// inside a subquery that has one) and `@ start()`/`@ end()` replaced by
    /// that time, printed as upstream's canonical formatter prints it (e.g.
    /// `rate(foo[5m] @ 3000.000)`). `None` (the default) skips the `@`
    /// variants: a runner without a PromQL printer loses only that check.
    fn pin_at(&self, expr: &str, at_ms: i64) -> Option<String> {
        let _ = (expr, at_ms);
        None
    }

    /// Parses `expr` without evaluating it. Upstream refuses a whole file
    /// whose eval expression does not parse, so `expect fail` can never be
    /// met by a syntax error; the runner fails such an eval whatever it
    /// expects. The default accepts everything.
    fn check_syntax(&self, expr: &str) -> Result<(), EngineError> {
        let _ = expr;
        Ok(())
    }
}

/// What a query returned, with its annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOutput {
    /// The result.
    pub value: QueryValue,
    /// Warnings as the HTTP API renders them:
    /// `PromQL warning: <text> (<line>:<col>)`.
    pub warnings: Vec<String>,
    /// Infos, rendered as `PromQL info: <text> (<line>:<col>)`.
    pub infos: Vec<String>,
}

impl QueryOutput {
    /// A result without annotations.
    pub fn new(value: QueryValue) -> QueryOutput {
        QueryOutput {
            value,
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }
}

/// A query result.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    /// A scalar.
    Scalar(f64),
    /// A string.
    String(String),
    /// An instant vector.
    Vector(Vec<VectorSample>),
    /// A range vector or a range query's result, series sorted by labels.
    Matrix(Vec<MatrixSeries>),
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSample {
    /// The series' labels.
    pub labels: Labels,
    /// Its value.
    pub value: Value,
}

/// One series of a matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Points (ms, value) in time order; floats and histograms may mix.
    pub points: Vec<(i64, Value)>,
}

/// A failed query: `message` is the plain error text (no position), which
/// `expect fail msg:` compares verbatim.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    /// The error text.
    pub message: String,
}

impl EngineError {
    /// An error with this text.
    pub fn new(message: impl Into<String>) -> EngineError {
        EngineError {
            message: message.into(),
        }
    }
}

/// The outcome of one eval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalOutcome {
    /// Line of the eval header (or of the error that stopped the file).
    pub line: usize,
    /// The expression.
    pub expr: String,
    /// `None` when the eval passed, else why it failed.
    pub failure: Option<String>,
}

/// The outcomes of one script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileReport {
    /// The script's name (file name).
    pub name: String,
    /// One outcome per eval, in file order.
    pub outcomes: Vec<EvalOutcome>,
    /// What the loads of the file left out (histograms, start timestamps),
    /// summed: explains failures of evals that need them.
    pub left_out: LoadStats,
}

impl FileReport {
    /// Evals that passed.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.failure.is_none()).count()
    }

    /// Evals that failed.
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed()
    }
}

/// Functions whose result depends on the evaluation time, so the `@`
/// variants would change the answer. Textual: upstream walks the AST.
static TIME_DEPENDENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(time|timestamp|minute|hour|day_of_month|day_of_week|day_of_year|days_in_month|month|year|predict_linear|start|end|range|step)\s*\(")
        .expect("BUG: time-dependent regex")
});

/// Runs every command of `script` against `engine`, with a fresh store from
/// `new_store` at the start and after each `clear`.
pub fn run_script<S, F>(engine: &dyn Engine, script: &Script, new_store: F) -> FileReport
where
    S: Appendable + Queryable,
    F: Fn() -> S,
{
    let mut db = new_store();
    let mut outcomes = Vec::new();
    let mut broken: Option<String> = None;
    let mut left_out = LoadStats::default();
    for cmd in &script.commands {
        match cmd {
            Command::Clear { .. } => db = new_store(),
            Command::Load(l) => {
                if broken.is_none() {
                    match load(l, &db) {
                        Ok(st) => {
                            left_out.skipped_histograms += st.skipped_histograms;
                            left_out.skipped_start_timestamps += st.skipped_start_timestamps;
                        }
                        Err(e) => broken = Some(e.to_string()),
                    }
                }
            }
            Command::Eval(e) => {
                // Upstream abandons the file after a failed load; its evals
                // count as failed here so the totals stay those of the file.
                let failure = match &broken {
                    Some(why) => Some(format!("not run: {why}")),
                    None => run_eval(engine, &db, e).err(),
                };
                outcomes.push(EvalOutcome {
                    line: e.line,
                    expr: e.expr.clone(),
                    failure,
                });
            }
        }
    }
    FileReport {
        name: script.name.clone(),
        outcomes,
        left_out,
    }
}

/// Runs one eval with all its checks; `Err` is the first mismatch.
pub fn run_eval(engine: &dyn Engine, db: &dyn Queryable, e: &Eval) -> Result<(), String> {
    engine
        .check_syntax(&e.expr)
        .map_err(|err| format!("expected a valid expression, got parse error: {err}"))?;
    match e.kind {
        EvalKind::Range {
            start_ms,
            end_ms,
            step_ms,
        } => {
            let out = engine.range(db, &e.expr, start_ms, end_ms, step_ms);
            check_outcome(e, out, |v| match (v, &e.expected) {
                (QueryValue::Matrix(m), Expected::Series(want)) => {
                    compare::check_matrix(m, want, (start_ms, end_ms, step_ms), e.expect.ordered)
                }
                (QueryValue::Matrix(_), Expected::Scalar(_)) => {
                    Err("expected a bare number in a range eval: write it as {} v v …".into())
                }
                (other, _) => Err(format!(
                    "expected matrix, got {}",
                    compare::type_name(other)
                )),
            })
        }
        EvalKind::Instant { at_ms } => {
            check_instant(engine, db, e, &e.expr, at_ms)?;
            if TIME_DEPENDENT.is_match(&e.expr) {
                return Ok(());
            }
            let Some(pinned) = engine.pin_at(&e.expr, at_ms) else {
                return Ok(());
            };
            let times = if at_ms == 0 {
                vec![-1000, 0, 1000]
            } else {
                vec![-10 * at_ms, 0, at_ms / 5, at_ms, 10 * at_ms]
            };
            for t in times {
                check_instant(engine, db, e, &pinned, t)
                    .map_err(|why| format!("with @ pinned ({pinned} at {t}ms): {why}"))?;
            }
            Ok(())
        }
    }
}

/// One instant run of `expr` at `t` against the eval's expectations,
/// followed by its range-mode check.
fn check_instant(
    engine: &dyn Engine,
    db: &dyn Queryable,
    e: &Eval,
    expr: &str,
    t: i64,
) -> Result<(), String> {
    let out = engine.instant(db, expr, t);
    let failed = out.is_err();
    check_outcome(e, out, |v| check_instant_value(e, v))?;
    if failed || e.expect.range_vector.is_some() || e.expect.string.is_some() {
        return Ok(());
    }
    if ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| expr.contains(f))
    {
        return Ok(());
    }
    let m = match engine.range(db, expr, t - 60_000, t + 60_000, 60_000) {
        Ok(QueryOutput {
            value: QueryValue::Matrix(m),
            ..
        }) => m,
        Ok(other) => {
            return Err(format!(
                "range-mode check: expected matrix, got {}",
                compare::type_name(&other.value)
            ))
        }
        Err(err) => {
            return Err(format!(
                "range-mode check: expected success, got error: {err}"
            ))
        }
    };
    // Range results are label-sorted, so an ordered expectation cannot be
    // checked here; upstream skips before even asserting the sort order.
    if e.expect.ordered {
        return Ok(());
    }
    compare::check_sorted(&m).map_err(|why| format!("range-mode check: {why}"))?;
    let at_t = compare::points_at(&m, t);
    let r = match &e.expected {
        Expected::Scalar(want) => match at_t.first().map(|s| &s.value) {
            Some(Value::Float(v)) => compare::check_scalar(*v, *want),
            Some(Value::Histogram(_)) => Err("expected a scalar, got a histogram".into()),
            None => Err(format!(
                "expected scalar {}, got no point",
                render::fmt_float(*want)
            )),
        },
        Expected::Series(want) => compare::check_vector(&at_t, want, false),
    };
    r.map_err(|why| format!("range-mode check at {t}ms: {why}"))
}

fn check_instant_value(e: &Eval, v: &QueryValue) -> Result<(), String> {
    if let QueryValue::String(s) = v {
        let want = e.expect.string.as_deref().unwrap_or("");
        return if s == want {
            Ok(())
        } else {
            Err(format!("expected string {want:?}, got {s:?}"))
        };
    }
    match (&e.expected, v) {
        (Expected::Scalar(want), QueryValue::Scalar(got)) => compare::check_scalar(*got, *want),
        (Expected::Scalar(_), other) => Err(format!(
            "expected scalar, got {}",
            compare::type_name(other)
        )),
        (Expected::Series(want), QueryValue::Vector(got)) => {
            compare::check_vector(got, want, e.expect.ordered)
        }
        (Expected::Series(want), QueryValue::Matrix(got)) => match e.expect.range_vector {
            Some(grid) => compare::check_matrix(got, want, grid, e.expect.ordered),
            None if got.is_empty() && want.is_empty() => Ok(()),
            None => Err("expected vector, got matrix (add `expect range vector`)".into()),
        },
        (Expected::Series(_), other) => Err(format!(
            "expected vector or matrix, got {}",
            compare::type_name(other)
        )),
    }
}

/// The failure and annotation expectations, then `check_value` on success.
fn check_outcome(
    e: &Eval,
    out: Result<QueryOutput, EngineError>,
    check_value: impl FnOnce(&QueryValue) -> Result<(), String>,
) -> Result<(), String> {
    let out = match (out, &e.expect.fail) {
        (Err(err), Some(m)) if m.matches(&err.message) => return Ok(()),
        (Err(err), Some(m)) => {
            return Err(format!(
                "expected error {}, got error: {err}",
                compare::describe(m)
            ))
        }
        (Err(err), None) => return Err(format!("expected success, got error: {err}")),
        (Ok(out), Some(m)) => {
            return Err(format!(
                "expected error {}, got success ({})",
                compare::describe(m),
                compare::type_name(&out.value)
            ))
        }
        (Ok(out), None) => out,
    };
    compare::check_annotations("warning", &e.expect.warn, e.expect.no_warn, &out.warnings)?;
    compare::check_annotations("info", &e.expect.info, e.expect.no_info, &out.infos)?;
    check_value(&out.value)
}
