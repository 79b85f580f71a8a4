//! What one query may use: its sample budget, its deadline and its cancel
//! switch, and the statistics the budget keeps.
//!
//! The budget counts samples *held in memory at once*, as Prometheus's
//! `--query.max-samples` does; see the module doc of `engine.rs` for what is
//! counted. Checks of the clock and the cancel switch sit on the paths the
//! evaluator walks anyway (every node, every selector series), so they cost
//! a counter increment most of the time.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::value::IVal;
use super::EngineError;

/// Where a query was when it failed: the `env` of Prometheus's errors.
pub(crate) const ENV_QUEUE: &str = "query queue";
/// After admission, before the first node is evaluated.
pub(crate) const ENV_EXECUTION: &str = "query execution";
/// While evaluating.
pub(crate) const ENV_EVALUATION: &str = "expression evaluation";

/// The clock is read on every this many ticks; a tick is one node or one
/// selector series, so the overshoot past a deadline is that much work.
const CLOCK_EVERY: u32 = 16;

/// A switch that stops a running or queued query, e.g. when the HTTP client
/// that asked for it has gone away. Clones share the switch.
///
/// ```
/// use promql::engine::CancelToken;
/// let token = CancelToken::new();
/// let for_handler = token.clone();
/// for_handler.cancel();
/// assert!(token.is_canceled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A switch that is not yet thrown.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Throws the switch: the query fails with "query was canceled in …" at
    /// its next check (within a few milliseconds of work).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Settings of one query that override the engine's
/// ([`EngineOptions`](super::EngineOptions)).
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// Time allowed from the call, queueing included; the engine's
    /// `timeout` when `None`.
    pub timeout: Option<Duration>,
    /// A point in time the query must finish by (e.g. the HTTP request's
    /// own deadline); the earlier of this and `timeout` applies.
    pub deadline: Option<Instant>,
    /// Stops the query from another thread.
    pub cancel: Option<CancelToken>,
    /// How far back an instant selector looks, ms (the API's
    /// `lookback_delta`); the engine's when `None`.
    pub lookback_delta_ms: Option<i64>,
}

impl QueryOptions {
    /// The instant the query must finish by, timed from `now`.
    pub(crate) fn deadline_from(&self, now: Instant, engine_timeout: Duration) -> Option<Instant> {
        // An absurd timeout means no deadline rather than an overflow.
        let by_timeout = now.checked_add(self.timeout.unwrap_or(engine_timeout));
        match (by_timeout, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Sample statistics of one query, as Prometheus reports them with
/// `stats=all` (`totalQueryableSamples`, `peakSamples`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples the selectors handed to the query, summed over the steps: a
    /// series counts once per step for an instant selector and with every
    /// point in its window for a range selector or subquery (whose inner
    /// selectors do not count).
    pub total_samples: u64,
    /// The most samples held in memory at once (what `max_samples` bounds).
    pub peak_samples: u64,
}

/// The budget and interrupt checks of one running query.
///
/// Two counts make up what is held: `resident`, the samples decoded from
/// storage into the selector cache (kept until the query ends), and
/// `current`, the values of nodes already evaluated whose parent still
/// holds them (released when the parent returns).
// Cells, because storage reads happen behind `&Evaluator`.
#[derive(Debug)]
pub(crate) struct Budget {
    max: u64,
    resident: Cell<u64>,
    current: Cell<u64>,
    peak: Cell<u64>,
    total: Cell<u64>,
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
    ticks: Cell<u32>,
}

impl Budget {
    /// A budget of `max` samples held at once, without deadline or cancel.
    pub(crate) fn new(max: u64) -> Budget {
        Budget {
            max,
            resident: Cell::new(0),
            current: Cell::new(0),
            peak: Cell::new(0),
            total: Cell::new(0),
            deadline: None,
            cancel: None,
            ticks: Cell::new(0),
        }
    }

    /// The same budget, interrupted at `deadline` or by `cancel`.
    pub(crate) fn with_interrupts(
        mut self,
        deadline: Option<Instant>,
        cancel: Option<CancelToken>,
    ) -> Budget {
        self.deadline = deadline;
        self.cancel = cancel;
        self
    }

    /// One unit of work done: checks the cancel switch, and the clock every
    /// [`CLOCK_EVERY`] ticks.
    pub(crate) fn tick(&self) -> Result<(), EngineError> {
        let n = self.ticks.get().wrapping_add(1);
        self.ticks.set(n);
        if self.cancel.as_ref().is_some_and(CancelToken::is_canceled) {
            return Err(EngineError::Canceled {
                env: ENV_EVALUATION,
            });
        }
        if n % CLOCK_EVERY == 0 && self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(EngineError::Timeout {
                env: ENV_EVALUATION,
            });
        }
        Ok(())
    }

    /// A selector produced `n` samples for this step: they count in the
    /// total and are held until their parent node returns.
    pub(crate) fn produced(&self, n: usize) -> Result<(), EngineError> {
        let n = n as u64;
        self.total.set(self.total.get().saturating_add(n));
        self.current.set(self.current.get().saturating_add(n));
        self.tick()?;
        self.over_limit(0)
    }

    /// `n` samples were walked without being kept (windows of a range
    /// function computed for all steps at once): they count in the total
    /// only.
    pub(crate) fn touched(&self, n: usize) -> Result<(), EngineError> {
        self.total.set(self.total.get().saturating_add(n as u64));
        self.tick()
    }

    /// `n` samples were decoded from storage into the selector cache, or
    /// computed for all steps of a node, held until the query ends.
    pub(crate) fn loaded(&self, n: usize) -> Result<(), EngineError> {
        self.resident
            .set(self.resident.get().saturating_add(n as u64));
        self.tick()?;
        self.over_limit(0)
    }

    /// What is held before a node is evaluated, to return to afterwards.
    pub(crate) fn mark(&self) -> u64 {
        self.current.get()
    }

    /// A node evaluated since `mark` returned `out`. Its inputs are
    /// released and its value is held instead; with `built`, the node made
    /// `out` while still holding its inputs, so both count towards the peak
    /// (as in Prometheus, where a node's output grows while its arguments'
    /// matrices are alive).
    pub(crate) fn settle(&self, mark: u64, out: &IVal, built: bool) -> Result<(), EngineError> {
        let n = samples_in(out);
        if built {
            self.over_limit(n)?;
        }
        self.current.set(mark.saturating_add(n));
        self.over_limit(0)
    }

    /// Updates the peak with `extra` more than is held now, and fails if
    /// that is over the budget.
    fn over_limit(&self, extra: u64) -> Result<(), EngineError> {
        let held = self
            .resident
            .get()
            .saturating_add(self.current.get())
            .saturating_add(extra);
        if held > self.peak.get() {
            self.peak.set(held);
        }
        if held > self.max {
            return Err(EngineError::TooManySamples { env: ENV_EXECUTION });
        }
        Ok(())
    }

    /// The total so far (see [`QueryStats::total_samples`]).
    pub(crate) fn total(&self) -> u64 {
        self.total.get()
    }

    /// A subquery evaluated since the total was `before` returned `out`:
    /// as in Prometheus 3.x, what its inner selectors handed out does not
    /// count, the points it returns do (like a range selector's window).
    pub(crate) fn subquery_total(&self, before: u64, out: &IVal) {
        self.total.set(before.saturating_add(samples_in(out)));
    }

    /// The statistics so far.
    pub(crate) fn stats(&self) -> QueryStats {
        QueryStats {
            total_samples: self.total.get(),
            peak_samples: self.peak.get(),
        }
    }
}

/// Fails if `cancel` is thrown or `deadline` has passed, naming `env`.
pub(crate) fn check(
    deadline: Option<Instant>,
    cancel: Option<&CancelToken>,
    env: &'static str,
) -> Result<(), EngineError> {
    if cancel.is_some_and(CancelToken::is_canceled) {
        return Err(EngineError::Canceled { env });
    }
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(EngineError::Timeout { env });
    }
    Ok(())
}

/// Samples in a node's value: one per scalar, one per vector element, every
/// point of a range vector.
fn samples_in(v: &IVal) -> u64 {
    match v {
        IVal::Scalar(_) => 1,
        IVal::Str(_) => 0,
        IVal::Vector(v) => v.len() as u64,
        IVal::Matrix(m) => m
            .iter()
            .fold(0u64, |n, s| n.saturating_add(s.points.len() as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(n: usize) -> IVal {
        IVal::Vector(
            (0..n)
                .map(|_| super::super::value::Elem {
                    labels: model::Labels::empty(),
                    v: 0.0,
                    ts: 0,
                    drop_name: false,
                })
                .collect(),
        )
    }

    #[test]
    fn released_inputs_make_room_and_the_peak_remembers_them() {
        let b = Budget::new(10);
        let mark = b.mark();
        b.produced(6).expect("6 of 10");
        b.settle(mark, &vector(1), true).expect("6 + 1 of 10");
        assert_eq!(b.mark(), 1, "the input is released");
        b.produced(8).expect("1 + 8 of 10");
        let err = b.produced(2).expect_err("1 + 8 + 2 > 10");
        assert_eq!(
            err.to_string(),
            "query processing would load too many samples into memory in query execution"
        );
        assert_eq!(
            b.stats(),
            QueryStats {
                total_samples: 16,
                peak_samples: 11
            }
        );
    }

    #[test]
    fn resident_samples_stay_counted() {
        let b = Budget::new(10);
        b.loaded(7).expect("7 of 10");
        let mark = b.mark();
        b.produced(3).expect("7 + 3 of 10");
        b.settle(mark, &vector(0), true).expect("released");
        assert!(b.produced(4).is_err(), "7 resident + 4 > 10");
    }

    #[test]
    fn cancel_and_deadline_interrupt_ticks() {
        let c = CancelToken::new();
        let b = Budget::new(10).with_interrupts(None, Some(c.clone()));
        b.tick().expect("not canceled yet");
        c.cancel();
        assert_eq!(
            b.tick().expect_err("canceled").to_string(),
            "query was canceled in expression evaluation"
        );
        let past = Instant::now();
        let b = Budget::new(10).with_interrupts(Some(past), None);
        let err = (0..CLOCK_EVERY).find_map(|_| b.tick().err());
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("query timed out in expression evaluation")
        );
    }

    #[test]
    fn the_earlier_deadline_wins() {
        let now = Instant::now();
        let soon = now + Duration::from_secs(1);
        let o = QueryOptions {
            deadline: Some(soon),
            ..QueryOptions::default()
        };
        assert_eq!(o.deadline_from(now, Duration::from_secs(120)), Some(soon));
        let o = QueryOptions {
            timeout: Some(Duration::from_millis(10)),
            deadline: Some(soon),
            ..QueryOptions::default()
        };
        assert_eq!(
            o.deadline_from(now, Duration::from_secs(120)),
            Some(now + Duration::from_millis(10))
        );
        assert_eq!(
            QueryOptions::default().deadline_from(now, Duration::MAX),
            None
        );
    }
}
