//! Vector selectors (lookback, staleness), matrix selectors (left-open
//! ranges) and subqueries.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::mpsc;

use model::{is_stale_nan, Labels, Matcher, Sample};
use storage::StorageError;

use super::eval::{qerr, Evaluator};
use super::value::{Elem, IVal, RangeSeries};
use super::EngineError;
use crate::ast::{MatrixSelector, SubqueryExpr, VectorSelector};

/// Bound on the steps of one subquery evaluation, so that a query cannot
/// make the engine loop practically forever.
pub(crate) const MAX_SUBQUERY_STEPS: i64 = 1_000_000;

/// A series as read from storage, stale markers included.
pub(crate) struct RawSeries {
    pub(crate) labels: Labels,
    pub(crate) samples: Vec<Sample>,
}

/// The last sample at or before `rt` if it is within the lookback window
/// and not a staleness marker.
pub(crate) fn latest(samples: &[Sample], rt: i64, lookback: i64) -> Option<&Sample> {
    let i = samples.partition_point(|x| x.t <= rt);
    let last = samples.get(i.checked_sub(1)?)?;
    if last.t <= rt - lookback || is_stale_nan(last.v) {
        return None;
    }
    Some(last)
}

impl Evaluator<'_> {
    /// Every sample of the series `vs` selects, read once per query.
    // Only the range `plan` found for this node is read (everything when a
    // node was not planned, which would be a bug but not a wrong answer).
    pub(crate) fn series_for(
        &mut self,
        vs: &VectorSelector,
    ) -> Result<Rc<Vec<RawSeries>>, EngineError> {
        let key = vs as *const VectorSelector as usize;
        if let Some(s) = self.cache.get(&key) {
            return Ok(Rc::clone(s));
        }
        let (mint, maxt) = self
            .bounds
            .get(&key)
            .copied()
            .unwrap_or((i64::MIN, i64::MAX));
        let rc = Rc::new(self.fetch_range(&vs.matchers, mint, maxt)?);
        self.cache.insert(key, Rc::clone(&rc));
        Ok(rc)
    }

    /// Applies `work` to every series `vs` selects, with its samples in the
    /// planned range, and hands the results to `keep` in series order, on
    /// this thread; nothing is kept in between. For nodes computed
    /// column-wise, which need each series once (`columns.rs`).
    // The series are read and decoded, and `work` runs, on worker threads
    // (one per core, up to 4); a third thread walks the series set. What
    // `keep` builds is allocated here, where the query goes on using it.
    pub(crate) fn map_series<R: Send>(
        &mut self,
        vs: &VectorSelector,
        work: impl Fn(&Labels, &[Sample]) -> R + Sync,
        mut keep: impl FnMut(R),
    ) -> Result<(), EngineError> {
        let key = vs as *const VectorSelector as usize;
        if let Some(data) = self.cache.get(&key) {
            for s in data.iter() {
                keep(work(&s.labels, &s.samples));
            }
            return Ok(());
        }
        let (mint, maxt) = self
            .bounds
            .get(&key)
            .copied()
            .unwrap_or((i64::MIN, i64::MAX));
        let q = self.db.querier(mint, maxt)?;
        let set = q.select(true, None, &vs.matchers)?;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        type Done<R> = (usize, Result<R, StorageError>);
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::sync_channel::<Done<R>>(256);
            let mut jobs = Vec::with_capacity(workers);
            for _ in 0..workers {
                let (job_tx, job_rx) = mpsc::sync_channel::<(usize, storage::Series)>(64);
                jobs.push(job_tx);
                let (done_tx, work) = (done_tx.clone(), &work);
                scope.spawn(move || {
                    let mut samples = Vec::new();
                    for (n, mut s) in job_rx {
                        samples.clear();
                        while let Some(x) = s.samples.next() {
                            // Storage may hand out whole chunks that reach
                            // past the range.
                            if x.t >= mint && x.t <= maxt {
                                samples.push(x);
                            }
                        }
                        let r = match s.samples.err() {
                            Some(e) => Err(e),
                            None => Ok(work(&s.labels, &samples)),
                        };
                        // A closed channel means the query stopped early.
                        if done_tx.send((n, r)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            let walker = scope.spawn(move || -> Result<(), StorageError> {
                for (n, s) in set.enumerate() {
                    if jobs[n % jobs.len()].send((n, s?)).is_err() {
                        break;
                    }
                }
                Ok(())
            });
            // Results come back in any order; they are kept in order.
            let mut waiting: HashMap<usize, R> = HashMap::new();
            let mut next = 0;
            for (n, r) in done_rx {
                // The deadline and cancel switch are read here, on the
                // query's thread; returning drops the channels, which stops
                // the workers and the walker at their next hand-off.
                self.budget.tick()?;
                waiting.insert(n, r?);
                while let Some(r) = waiting.remove(&next) {
                    keep(r);
                    next += 1;
                }
            }
            match walker.join() {
                Ok(r) => r.map_err(EngineError::from),
                Err(_) => Err(qerr("BUG: the series walker panicked")),
            }
        })
    }

    /// Every sample of the series matching `matchers`.
    pub(crate) fn fetch(&self, matchers: &[Matcher]) -> Result<Vec<RawSeries>, EngineError> {
        self.fetch_range(matchers, i64::MIN, i64::MAX)
    }

    /// The samples in `[mint, maxt]` of the series matching `matchers`.
    pub(crate) fn fetch_range(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<RawSeries>, EngineError> {
        let q = self.db.querier(mint, maxt)?;
        let mut out = Vec::new();
        for s in q.select(true, None, matchers)? {
            let mut s = s?;
            let mut samples = s.collect_samples()?;
            // Storage may hand out whole chunks that reach past the range.
            samples.retain(|x| x.t >= mint && x.t <= maxt);
            self.budget.loaded(samples.len())?;
            // Held for the whole query: no room to grow is needed.
            samples.shrink_to_fit();
            out.push(RawSeries {
                labels: s.labels,
                samples,
            });
        }
        Ok(out)
    }

    /// The instant vector of `vs` at step time `t`.
    pub(crate) fn vector_selector(
        &mut self,
        vs: &VectorSelector,
        t: i64,
    ) -> Result<Vec<Elem>, EngineError> {
        let rt = self.ref_time(t, vs.at, vs.offset.as_ref())?;
        let lookback = self.opts.lookback_delta_ms;
        let data = self.series_for(vs)?;
        let mut out = Vec::new();
        for s in data.iter() {
            let Some(last) = latest(&s.samples, rt, lookback) else {
                continue;
            };
            let v = if vs.smoothed {
                super::extended::interpolate(&s.samples, rt, lookback, false).unwrap_or(last.v)
            } else {
                last.v
            };
            out.push(Elem {
                labels: s.labels.clone(),
                v,
                ts: last.t,
                drop_name: false,
            });
        }
        self.charge(out.len())?;
        Ok(out)
    }

    /// The range vector of `ms` at step time `t`: samples in `(rt-range, rt]`.
    pub(crate) fn matrix_selector(
        &mut self,
        ms: &MatrixSelector,
        t: i64,
    ) -> Result<Vec<RangeSeries>, EngineError> {
        let (lo, hi) = self.matrix_window(ms, t)?;
        let data = self.series_for(&ms.selector)?;
        let mut out = Vec::new();
        for s in data.iter() {
            let a = s.samples.partition_point(|x| x.t <= lo);
            let b = s.samples.partition_point(|x| x.t <= hi);
            let points: Vec<(i64, f64)> = s
                .samples
                .get(a..b)
                .unwrap_or_default()
                .iter()
                .filter(|x| !is_stale_nan(x.v))
                .map(|x| (x.t, x.v))
                .collect();
            if !points.is_empty() {
                self.charge(points.len())?;
                out.push(RangeSeries {
                    labels: s.labels.clone(),
                    points,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// The `(lo, hi]` window of a matrix selector at step time `t`.
    pub(crate) fn matrix_window(
        &self,
        ms: &MatrixSelector,
        t: i64,
    ) -> Result<(i64, i64), EngineError> {
        let hi = self.ref_time(t, ms.selector.at, ms.selector.offset.as_ref())?;
        let range = self.duration_ms(&ms.range)?;
        Ok((hi.saturating_sub(range), hi))
    }

    /// The `(lo, hi]` window of a subquery at step time `t`.
    pub(crate) fn subquery_window(
        &self,
        sq: &SubqueryExpr,
        t: i64,
    ) -> Result<(i64, i64), EngineError> {
        let hi = self.ref_time(t, sq.at, sq.offset.as_ref())?;
        let range = self.duration_ms(&sq.range)?;
        Ok((hi.saturating_sub(range), hi))
    }

    /// A subquery at step time `t`: the inner expression at every multiple
    /// of the step in `(rt-range, rt]`.
    pub(crate) fn subquery(
        &mut self,
        sq: &SubqueryExpr,
        t: i64,
    ) -> Result<Vec<RangeSeries>, EngineError> {
        let (lo, hi) = self.subquery_window(sq, t)?;
        let step = match &sq.step {
            Some(d) => self.duration_ms(d)?,
            None => self.opts.default_subquery_step_ms,
        };
        if step <= 0 {
            return Err(qerr(format!(
                "subquery step must be positive, got {step}ms"
            )));
        }
        if hi.saturating_sub(lo) / step > MAX_SUBQUERY_STEPS {
            return Err(qerr(format!(
                "subquery of {}ms at step {step}ms exceeds {MAX_SUBQUERY_STEPS} steps",
                hi.saturating_sub(lo)
            )));
        }
        if let Some(m) = self.subquery_from_columns(sq, lo, hi) {
            return Ok(m);
        }
        let mut first = lo.saturating_sub(lo.rem_euclid(step));
        if first <= lo {
            first = first.saturating_add(step);
        }
        let mut series: BTreeMap<Labels, RangeSeries> = BTreeMap::new();
        let mut ts = first;
        while ts <= hi {
            match self.eval(&sq.expr, ts)? {
                IVal::Scalar(x) => series
                    .entry(Labels::empty())
                    .or_insert_with(|| RangeSeries {
                        labels: Labels::empty(),
                        points: Vec::new(),
                        drop_name: false,
                    })
                    .points
                    .push((ts, x)),
                IVal::Vector(v) => {
                    for el in v {
                        let key = if el.drop_name {
                            el.labels.without_metric_name()
                        } else {
                            el.labels.clone()
                        };
                        series
                            .entry(key)
                            .or_insert_with(|| RangeSeries {
                                labels: el.labels.clone(),
                                points: Vec::new(),
                                drop_name: el.drop_name,
                            })
                            .points
                            .push((ts, el.v));
                    }
                }
                _ => return Err(qerr("subquery must be over an instant vector or scalar")),
            }
            match ts.checked_add(step) {
                Some(next) => ts = next,
                None => break,
            }
        }
        Ok(series.into_values().collect())
    }
}
