//! Running one query: admission through the gate, the active query log,
//! the deadline and budget, and evaluation (Prometheus's `exec`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use storage::Queryable;

use super::active_log::{ActiveQueryLog, ActiveQueryLogError};
use super::eval::Evaluator;
use super::gate::QueryGate;
use super::limits::{self, Budget, QueryOptions, ENV_EXECUTION};
use super::{Engine, EngineError, EngineOptions, QueryResult, Value};
use crate::ast::Expr;

impl Engine {
    /// An engine with these settings.
    pub fn new(opts: EngineOptions) -> Engine {
        let gate = Arc::new(QueryGate::new(opts.max_concurrency));
        Engine {
            opts,
            gate,
            log: None,
        }
    }

    /// An engine that keeps the queries it is evaluating in the active
    /// query log at `path` (Prometheus's `<data dir>/queries.active`, one
    /// slot per `max_concurrency` place). Also returns what the previous
    /// process left there: the JSON array of the queries that were running
    /// when it stopped, for the caller to log.
    pub fn with_active_query_log(
        opts: EngineOptions,
        path: &Path,
    ) -> Result<(Engine, Option<String>), ActiveQueryLogError> {
        let (log, unfinished) = ActiveQueryLog::open(path, opts.max_concurrency)?;
        let mut engine = Engine::new(opts);
        engine.log = Some(Arc::new(log));
        Ok((engine, unfinished))
    }

    /// The engine's settings.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `expr` at `t_ms` with the engine's settings.
    pub fn instant_query(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        t_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        self.instant_query_with(db, expr, t_ms, &QueryOptions::default())
    }

    /// Evaluates `expr` at `t_ms`, with a deadline, cancel switch or
    /// lookback of its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use promql::engine::{CancelToken, Engine, EngineError, QueryOptions};
    /// use storage::MemStorage;
    ///
    /// let engine = Engine::default();
    /// let cancel = CancelToken::new();
    /// let opts = QueryOptions {
    ///     timeout: Some(Duration::from_secs(10)),
    ///     cancel: Some(cancel.clone()),
    ///     ..QueryOptions::default()
    /// };
    /// let expr = promql::parse("vector(1)").unwrap();
    /// let r = engine.instant_query_with(&MemStorage::new(), &expr, 0, &opts).unwrap();
    /// assert_eq!(r.stats.total_samples, 0);
    /// // The client went away: the handler throws the switch.
    /// cancel.cancel();
    /// let err = engine.instant_query_with(&MemStorage::new(), &expr, 0, &opts).unwrap_err();
    /// assert!(matches!(err, EngineError::Canceled { env: "query execution" }));
    /// ```
    pub fn instant_query_with(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        t_ms: i64,
        qo: &QueryOptions,
    ) -> Result<QueryResult, EngineError> {
        self.run(db, expr, qo, (t_ms, t_ms, 0), |ev| {
            let v = ev.eval(expr, t_ms)?;
            ev.finish_instant(v)
        })
    }

    /// Evaluates `expr` at every step from `start_ms` to `end_ms` with the
    /// engine's settings; the result is a matrix.
    pub fn range_query(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        self.range_query_with(
            db,
            expr,
            start_ms,
            end_ms,
            step_ms,
            &QueryOptions::default(),
        )
    }

    /// [`range_query`](Self::range_query) with a deadline, cancel switch
    /// or lookback of its own.
    pub fn range_query_with(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        qo: &QueryOptions,
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
        self.run(db, expr, qo, (start_ms, end_ms, step_ms), |ev| {
            ev.eval_range(expr)
        })
    }

    /// Admits the query, evaluates it with `body` under its budget and
    /// deadline, and turns a panic into an error.
    fn run(
        &self,
        db: &dyn Queryable,
        expr: &Expr,
        qo: &QueryOptions,
        (start, end, step): (i64, i64, i64),
        body: impl FnOnce(&mut Evaluator<'_>) -> Result<Value, EngineError>,
    ) -> Result<QueryResult, EngineError> {
        let deadline = qo.deadline_from(Instant::now(), self.opts.timeout);
        let cancel = qo.cancel.as_ref();
        let permit = self.gate.enter(deadline, cancel)?;
        let _logged = match (&self.log, permit.slot) {
            (Some(log), Some(slot)) => Some(LogEntry::new(log, slot, expr)),
            _ => None,
        };
        limits::check(deadline, cancel, ENV_EXECUTION)?;
        let overridden;
        let opts = match qo.lookback_delta_ms {
            // As Prometheus: a lookback of 0 or less means the engine's.
            Some(l) if l > 0 => {
                overridden = EngineOptions {
                    lookback_delta_ms: l,
                    ..self.opts.clone()
                };
                &overridden
            }
            _ => &self.opts,
        };
        let mut ev = Evaluator::new(db, opts, start, end, step);
        ev.budget = Budget::new(opts.max_samples).with_interrupts(deadline, qo.cancel.clone());
        // A bug in one query must not take down a server running many:
        // the evaluator is dropped right after, so no broken state is seen.
        let value = catch_unwind(AssertUnwindSafe(|| {
            ev.plan(expr)?;
            body(&mut ev)
        }))
        .map_err(|p| EngineError::Internal(panic_message(p.as_ref())))??;
        Ok(QueryResult {
            value,
            annotations: ev.annotations.finish(),
            stats: ev.budget.stats(),
        })
    }
}

/// A query's line in the active query log, removed when dropped.
struct LogEntry<'a> {
    log: &'a ActiveQueryLog,
    slot: usize,
}

impl<'a> LogEntry<'a> {
    fn new(log: &'a ActiveQueryLog, slot: usize, expr: &Expr) -> LogEntry<'a> {
        // The printed query, not the caller's text: the engine gets a tree.
        log.insert(slot, &expr.to_string());
        LogEntry { log, slot }
    }
}

impl Drop for LogEntry<'_> {
    fn drop(&mut self) {
        self.log.remove(self.slot);
    }
}

/// The text a panic was raised with.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".to_owned()
    }
}
