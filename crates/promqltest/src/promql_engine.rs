//! The runner's engine: pharos's PromQL evaluator (`promql::engine`)
//! adapted to [`crate::runner::Engine`], with the `@`-pinning rewrite the
//! runner's re-checks use.

use promql::ast::AtModifier;
use promql::engine::{AnnotationKind, Engine, EngineOptions, QueryResult, Value};
use promql::Expr;
use storage::Queryable;

use crate::runner::{
    Engine as RunnerEngine, EngineError, MatrixSeries, QueryOutput, QueryValue, VectorSample,
};
use crate::values::Value as TestValue;

/// pharos's PromQL engine behind the runner's [`Engine`](RunnerEngine) trait:
/// parses each expression, evaluates it over the script's store, and turns
/// results and annotations into the runner's types (as Prometheus's API
/// prints them, `PromQL warning: <text> (line:col)` and
/// `PromQL info: <text> (line:col)`).
pub struct PromqlEngine(Engine);

impl PromqlEngine {
    /// An engine with the settings the scripts assume (lookback 5m,
    /// subquery step 1m).
    pub fn new(opts: EngineOptions) -> PromqlEngine {
        PromqlEngine(Engine::new(opts))
    }
}

impl Default for PromqlEngine {
    fn default() -> PromqlEngine {
        PromqlEngine::new(EngineOptions::default())
    }
}

fn convert(v: Value) -> QueryValue {
    match v {
        Value::Scalar(x) => QueryValue::Scalar(x),
        Value::String(s) => QueryValue::String(s),
        Value::Vector(v) => QueryValue::Vector(
            v.into_iter()
                .map(|s| VectorSample {
                    labels: s.labels,
                    value: TestValue::Float(s.value),
                })
                .collect(),
        ),
        Value::Matrix(m) => QueryValue::Matrix(
            m.into_iter()
                .map(|s| MatrixSeries {
                    labels: s.labels,
                    points: s
                        .points
                        .into_iter()
                        .map(|(t, v)| (t, TestValue::Float(v)))
                        .collect(),
                })
                .collect(),
        ),
    }
}

/// The result with its annotations rendered as Prometheus's API renders
/// them for `expr`, warnings and infos apart.
fn output(expr: &str, r: QueryResult) -> QueryOutput {
    let mut out = QueryOutput::new(convert(r.value));
    for a in r.annotations {
        let text = a.render(expr);
        match a.kind {
            AnnotationKind::Warning => out.warnings.push(text),
            AnnotationKind::Info => out.infos.push(text),
        }
    }
    out
}

fn parse(expr: &str) -> Result<Expr, EngineError> {
    promql::parse(expr).map_err(|e| EngineError::new(e.to_string()))
}

impl RunnerEngine for PromqlEngine {
    fn instant(
        &self,
        db: &dyn Queryable,
        expr: &str,
        at_ms: i64,
    ) -> Result<QueryOutput, EngineError> {
        let e = parse(expr)?;
        let r = self
            .0
            .instant_query(db, &e, at_ms)
            .map_err(|e| EngineError::new(e.to_string()))?;
        Ok(output(expr, r))
    }

    fn range(
        &self,
        db: &dyn Queryable,
        expr: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryOutput, EngineError> {
        let e = parse(expr)?;
        let r = self
            .0
            .range_query(db, &e, start_ms, end_ms, step_ms)
            .map_err(|e| EngineError::new(e.to_string()))?;
        Ok(output(expr, r))
    }

    fn pin_at(&self, expr: &str, at_ms: i64) -> Option<String> {
        let mut e = promql::parse(expr).ok()?;
        if uses_time(&e) {
            return None;
        }
        pin(&mut e, at_ms);
        Some(e.to_string())
    }

    fn check_syntax(&self, expr: &str) -> Result<(), EngineError> {
        parse(expr).map(|_| ())
    }
}

/// Functions whose result depends on the evaluation time itself, so that
/// pinning `@` changes the answer (upstream skips the `@` variants then).
const TIME_DEPENDENT: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Number(_) | Expr::String(_) | Expr::VectorSelector(_) | Expr::MatrixSelector(_) => {
            Vec::new()
        }
        Expr::Subquery(s) => vec![&s.expr],
        Expr::Aggregate(a) => {
            let mut v = vec![a.expr.as_ref()];
            v.extend(a.param.as_deref());
            v
        }
        Expr::Binary(b) => vec![&b.lhs, &b.rhs],
        Expr::Unary(u) => vec![&u.expr],
        Expr::Paren(p) => vec![&p.expr],
        Expr::Call(c) => c.args.iter().collect(),
    }
}

fn uses_time(e: &Expr) -> bool {
    if let Expr::Call(c) = e {
        if TIME_DEPENDENT.contains(&c.func.name) {
            return true;
        }
    }
    children(e).into_iter().any(uses_time)
}

/// Sets `@ ms` unless a fixed `@` is already there.
fn pin_one(at: &mut Option<AtModifier>, ms: i64) {
    if !matches!(at, Some(AtModifier::Timestamp(_))) {
        *at = Some(AtModifier::Timestamp(ms));
    }
}

/// Attaches `@ ms` where there is none and resolves `start()`/`end()`.
fn pin(e: &mut Expr, ms: i64) {
    match e {
        Expr::Number(_) | Expr::String(_) => {}
        Expr::VectorSelector(v) => pin_one(&mut v.at, ms),
        Expr::MatrixSelector(m) => pin_one(&mut m.selector.at, ms),
        // The inner expression is evaluated at the subquery's own steps:
        // its selectors stay unpinned.
        Expr::Subquery(s) => pin_one(&mut s.at, ms),
        Expr::Aggregate(a) => {
            pin(&mut a.expr, ms);
            if let Some(p) = a.param.as_deref_mut() {
                pin(p, ms);
            }
        }
        Expr::Binary(b) => {
            pin(&mut b.lhs, ms);
            pin(&mut b.rhs, ms);
        }
        Expr::Unary(u) => pin(&mut u.expr, ms),
        Expr::Paren(p) => pin(&mut p.expr, ms),
        Expr::Call(c) => c.args.iter_mut().for_each(|a| pin(a, ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;
    use storage::{Appendable, MemStorage};

    #[test]
    fn warnings_and_infos_go_to_their_own_lists() {
        let db = MemStorage::new();
        {
            let mut app = db.appender();
            let l = Labels::from_pairs(&[("__name__", "foo")]);
            for i in 0..5 {
                app.append(None, &l, i * 60_000, i as f64).expect("append");
            }
            app.commit().expect("commit");
        }
        let engine = PromqlEngine::default();
        let q = "quantile(2, rate(foo[5m]))";
        let out = engine.instant(&db, q, 240_000).expect("query");
        assert_eq!(
            out.warnings,
            ["PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)"]
        );
        assert_eq!(
            out.infos,
            ["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:18)"]
        );
        let out = engine.instant(&db, "sum(foo)", 240_000).expect("query");
        assert!(out.warnings.is_empty() && out.infos.is_empty());
    }
}
