//! Runs Prometheus's PromQL test scripts (`shared/conformance/promql`)
//! through the promqltest runner against this crate's engine and prints the
//! pass/fail counts per file. No pass count is asserted yet; the test fails
//! only if the runner does not finish every file (a panic in the engine).

use std::path::{Path, PathBuf};

use promql::engine::{Engine, EngineOptions, QueryResult, Value};
use promqltest::runner::{
    Engine as RunnerEngine, EngineError, MatrixSeries, QueryOutput, QueryValue, VectorSample,
};
use promqltest::values::Value as TestValue;
use storage::{MemStorage, Queryable};

struct Adapter(Engine);

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

/// Prometheus's `line:col` of a byte offset (1-based column).
fn position(expr: &str, at: usize) -> String {
    let before = expr
        .as_bytes()
        .get(..at.min(expr.len()))
        .unwrap_or_default();
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => at - nl,
        None => at + 1,
    };
    format!("{line}:{col}")
}

fn output(expr: &str, r: QueryResult) -> QueryOutput {
    let mut out = QueryOutput::new(convert(r.value));
    out.warnings = r
        .warnings
        .into_iter()
        .map(|w| {
            format!(
                "PromQL warning: {} ({})",
                w.message,
                position(expr, w.span.start)
            )
        })
        .collect();
    out
}

fn parse(expr: &str) -> Result<promql::Expr, EngineError> {
    promql::parse(expr).map_err(|e| EngineError::new(e.to_string()))
}

impl RunnerEngine for Adapter {
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

    fn check_syntax(&self, expr: &str) -> Result<(), EngineError> {
        parse(expr).map(|_| ())
    }
}

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promql")
}

#[test]
fn conformance_scripts_run_to_the_end() {
    let dir = conformance_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: no conformance scripts at {}", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let adapter = Adapter(Engine::new(EngineOptions::default()));
    let (mut passed, mut failed, mut finished) = (0, 0, 0);
    for f in &files {
        // One file at a time so that a panic names its file.
        let report = promqltest::report::run_files(&adapter, &[f.as_path()], MemStorage::new);
        let Some(fr) = report.files.first() else {
            panic!("no report for {}", f.display());
        };
        println!(
            "{:28} passed {:4} failed {:4}",
            fr.name,
            fr.passed(),
            fr.outcomes.len() - fr.passed()
        );
        if std::env::var_os("SHOW_FAILURES").is_some() {
            for o in fr.outcomes.iter().filter(|o| o.failure.is_some()) {
                println!(
                    "  {}:{} {} => {}",
                    fr.name,
                    o.line,
                    o.expr,
                    o.failure.as_deref().unwrap_or("")
                );
            }
        }
        finished += 1;
        passed += fr.passed();
        failed += fr.outcomes.len() - fr.passed();
    }
    println!("TOTAL passed {passed} failed {failed}");
    assert_eq!(finished, files.len(), "the runner must finish every file");
}
