//! The head's appender: a transaction of samples, checked when appended,
//! logged to the WAL and applied to the series on commit.
//!
//! Rules, as Prometheus's `headAppender`:
//! - a sample older than the head's minimum valid time (the end of the
//!   newest block, or half a chunk range behind the newest sample) is
//!   [`AppendError::OutOfBounds`];
//! - older than the series' newest sample (committed or pending in this
//!   transaction) is [`AppendError::OutOfOrder`];
//! - the same timestamp with other value bits is
//!   [`AppendError::DuplicateTimestamp`]; with identical bits it is accepted
//!   and dropped (a re-scrape of an unchanged target is no error);
//! - an empty label set or one with repeated names is
//!   [`AppendError::InvalidLabels`].
//!
//! A series is created (and becomes visible to label queries) on its first
//! append; its WAL series record is logged at commit, before the samples
//! record, in the same batch. A rollback still logs the records of series it
//! created, because they stay in memory and another appender may already
//! use their refs. The transaction's buffers are reused between commits and
//! pooled by the head between appenders: the hot path allocates nothing.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use model::{Labels, Timestamp};
use storage::{AppendError, Appender, SeriesRef, StorageError};

use super::series::{Appended, MemSeries, U64Map};
use super::Head;
use crate::record::{encode_samples, encode_series, RefSample, RefSeries};

/// The reusable memory of an appender.
#[derive(Default)]
pub(crate) struct Buffers {
    samples: Vec<RefSample>,
    series: Vec<Arc<MemSeries>>,
    created: Vec<RefSeries>,
    /// Newest pending sample (time, value bits) per series ref, to check
    /// order within the transaction.
    pending: U64Map<(i64, u64)>,
    series_rec: Vec<u8>,
    samples_rec: Vec<u8>,
}

impl Buffers {
    fn clear(&mut self) {
        self.samples.clear();
        self.series.clear();
        self.created.clear();
        self.pending.clear();
    }
}

/// An appender to the [`Head`]; see the module documentation.
pub struct HeadAppender<'a> {
    head: &'a Head,
    /// Samples before this are out of bounds; fixed when the appender is
    /// made, as in Prometheus.
    min_valid: i64,
    buf: Buffers,
    /// Time range of the pending samples.
    mint: i64,
    maxt: i64,
}

impl<'a> HeadAppender<'a> {
    pub(crate) fn new(head: &'a Head) -> HeadAppender<'a> {
        let buf = head.pool.lock().pop().unwrap_or_default();
        HeadAppender {
            head,
            min_valid: appendable_min_valid_time(head),
            buf,
            mint: i64::MAX,
            maxt: i64::MIN,
        }
    }

    /// The series for `labels`, through the hint when it is right.
    fn series_for(
        &mut self,
        hint: Option<SeriesRef>,
        labels: &Labels,
    ) -> Result<Arc<MemSeries>, AppendError> {
        let data = &self.head.data;
        if let Some(SeriesRef(r)) = hint {
            if let Some(s) = data.series.get_by_ref(r) {
                if s.labels == *labels {
                    return Ok(s);
                }
            }
        }
        let hash = labels.hash64();
        if let Some(s) = data.series.get_by_labels(hash, labels) {
            return Ok(s);
        }
        validate_labels(labels)?;
        let (s, created) = data.get_or_create(labels, None);
        if created {
            self.buf.created.push(RefSeries {
                series_ref: s.series_ref,
                labels: s.labels.clone(),
            });
        }
        Ok(s)
    }

    /// Clears the pending flags of the transaction's series.
    fn release(&mut self) {
        for s in &self.buf.series {
            s.chunks.lock().pending = false;
        }
        self.buf.clear();
        self.mint = i64::MAX;
        self.maxt = i64::MIN;
    }

    /// Logs `created` series (and `samples`, when given) to the WAL.
    fn log(&mut self, with_samples: bool) -> Result<(), StorageError> {
        let mut wal = self.head.wal.lock();
        let Some(w) = wal.as_mut() else {
            return Ok(());
        };
        let b = &mut self.buf;
        b.series_rec.clear();
        b.samples_rec.clear();
        if !b.created.is_empty() {
            encode_series(&b.created, &mut b.series_rec);
        }
        if with_samples && !b.samples.is_empty() {
            encode_samples(&b.samples, &mut b.samples_rec);
        }
        let recs: [&[u8]; 2] = [&b.series_rec, &b.samples_rec];
        let n = recs.iter().filter(|r| !r.is_empty()).count();
        let result = match n {
            0 => Ok(()),
            1 => w.log(&[if b.series_rec.is_empty() {
                recs[1]
            } else {
                recs[0]
            }]),
            _ => w.log(&recs),
        };
        result.map_err(|e| StorageError::Io(format!("cannot commit to the WAL: {e}")))
    }
}

/// Checks `t` against the newest sample of `s` (at `newest`, with the value
/// bits `value_at_newest` gives; read only when needed, as it costs a visit
/// to the chunk's bytes): `Ok(false)` for an exact duplicate (accepted,
/// nothing to store), `Ok(true)` for a new sample.
fn check(
    s: &MemSeries,
    t: Timestamp,
    bits: u64,
    newest: Option<i64>,
    value_at_newest: impl FnOnce() -> u64,
) -> Result<bool, AppendError> {
    let Some(lt) = newest else {
        return Ok(true);
    };
    if t > lt {
        return Ok(true);
    }
    if t < lt {
        return Err(AppendError::OutOfOrder {
            labels: s.labels.clone(),
            t,
            newest: lt,
        });
    }
    let lv = value_at_newest();
    if lv == bits {
        return Ok(false);
    }
    Err(AppendError::DuplicateTimestamp {
        labels: s.labels.clone(),
        t,
        existing: f64::from_bits(lv),
        new: f64::from_bits(bits),
    })
}

/// Prometheus's `appendableMinValidTime`: the later of the minimum valid
/// time and half a chunk range before the newest sample.
fn appendable_min_valid_time(head: &Head) -> i64 {
    let d = &head.data;
    let min_valid = d.min_valid_time.load(Ordering::Relaxed);
    let maxt = d.max_time.load(Ordering::Relaxed);
    if maxt == i64::MIN {
        return min_valid;
    }
    min_valid.max(maxt.saturating_sub(d.chunk_range / 2))
}

/// Label sets that cannot name a series: empty, or names not strictly
/// increasing (a repeated name; `Labels` built by the builder are sorted).
fn validate_labels(labels: &Labels) -> Result<(), AppendError> {
    let invalid = |reason| AppendError::InvalidLabels {
        labels: labels.clone(),
        reason,
    };
    if labels.is_empty() {
        return Err(invalid("label set is empty"));
    }
    let mut prev: Option<&str> = None;
    for l in labels.iter() {
        if l.name.is_empty() {
            return Err(invalid("label name is empty"));
        }
        if let Some(p) = prev {
            if p == l.name {
                return Err(invalid("label name is repeated"));
            }
            if p > l.name {
                return Err(invalid("labels are not sorted by name"));
            }
        }
        prev = Some(l.name);
    }
    Ok(())
}

impl Appender for HeadAppender<'_> {
    fn append(
        &mut self,
        series_ref: Option<SeriesRef>,
        labels: &Labels,
        t: Timestamp,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        if t < self.min_valid {
            return Err(AppendError::OutOfBounds {
                labels: labels.clone(),
                t,
                min_valid: self.min_valid,
            });
        }
        let mut hint = series_ref;
        let (s, is_new) = loop {
            let s = self.series_for(hint, labels)?;
            let r = s.series_ref;
            let bits = v.to_bits();
            // A series already in this transaction is checked against its
            // pending sample (newer than anything committed); any other one
            // against its committed newest sample, under its lock, where it
            // is also marked pending once the sample is accepted.
            let is_new = match self.buf.pending.get(&r) {
                Some(&(pt, pv)) => check(&s, t, bits, Some(pt), || pv)?,
                None => {
                    let mut c = s.chunks.lock();
                    if c.removed {
                        // Collected between lookup and lock: look again.
                        hint = None;
                        continue;
                    }
                    let newest = c.newest_time();
                    let ok = check(&s, t, bits, newest, || {
                        c.newest().map_or(0, |(_, v)| v.to_bits())
                    })?;
                    if ok {
                        c.pending = true;
                    }
                    ok
                }
            };
            break (s, is_new);
        };
        let (r, bits) = (s.series_ref, v.to_bits());
        if !is_new {
            return Ok(SeriesRef(r));
        }
        self.buf.pending.insert(r, (t, bits));
        self.buf.samples.push(RefSample {
            series_ref: r,
            t,
            v,
        });
        self.buf.series.push(s);
        self.mint = self.mint.min(t);
        self.maxt = self.maxt.max(t);
        Ok(SeriesRef(r))
    }

    fn commit(&mut self) -> Result<(), StorageError> {
        if let Err(e) = self.log(true) {
            self.release();
            return Err(e);
        }
        let d = &self.head.data;
        let (range, per_chunk) = (d.chunk_range, d.samples_per_chunk);
        let (mut stored, mut new_chunks, mut rejected) = (0u64, 0u64, 0u64);
        for (s, smp) in self.buf.series.iter().zip(&self.buf.samples) {
            let mut c = s.chunks.lock();
            match c.append(smp.t, smp.v, range, per_chunk) {
                Appended::Sample => stored += 1,
                Appended::NewChunk => {
                    stored += 1;
                    new_chunks += 1;
                }
                // Another appender committed the same sample first.
                Appended::Duplicate => {}
                Appended::Rejected => rejected += 1,
            }
            c.pending = false;
        }
        if stored > 0 {
            d.widen(self.mint, self.maxt);
        }
        d.chunks_created.fetch_add(new_chunks, Ordering::Relaxed);
        d.samples_appended.fetch_add(stored, Ordering::Relaxed);
        d.out_of_order_at_commit
            .fetch_add(rejected, Ordering::Relaxed);
        self.buf.clear();
        self.mint = i64::MAX;
        self.maxt = i64::MIN;
        self.min_valid = appendable_min_valid_time(self.head);
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), StorageError> {
        let logged = self.log(false);
        self.release();
        self.min_valid = appendable_min_valid_time(self.head);
        logged
    }
}

impl Drop for HeadAppender<'_> {
    /// An appender dropped mid-transaction rolls back, so no series stays
    /// marked pending (and safe from garbage collection) forever.
    fn drop(&mut self) {
        if !self.buf.samples.is_empty() || !self.buf.created.is_empty() {
            let _ = self.rollback();
        }
        let mut pool = self.head.pool.lock();
        if pool.len() < 64 {
            pool.push(std::mem::take(&mut self.buf));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::HeadOptions;
    use model::STALE_NAN;
    use storage::{Appendable, Queryable};

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs)
    }

    /// The error kind of an append, as a word, for one-line table rows.
    fn kind(r: Result<SeriesRef, AppendError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(AppendError::OutOfOrder { .. }) => "out-of-order",
            Err(AppendError::OutOfBounds { .. }) => "out-of-bounds",
            Err(AppendError::DuplicateTimestamp { .. }) => "duplicate",
            Err(AppendError::InvalidLabels { .. }) => "invalid-labels",
            Err(AppendError::Storage(_)) => "storage",
        }
    }

    #[test]
    fn append_errors() {
        let a = l(&[("__name__", "a")]);
        // `Labels` refuses repeated names in debug builds already (and the
        // head checks again in release builds); an empty name gets through.
        let empty_name = l(&[("", "1"), ("x", "2")]);
        // Each row: committed samples of series `a`, then the append checked.
        #[allow(clippy::type_complexity)]
        let rows: &[(&[(i64, f64)], &Labels, i64, f64, &str)] = &[
            (&[], &a, 100, 1.0, "ok"),
            (&[(100, 1.0)], &a, 101, 1.0, "ok"),
            (&[(100, 1.0)], &a, 99, 1.0, "out-of-order"),
            (&[(100, 1.0)], &a, 100, 2.0, "duplicate"),
            (&[(100, 1.0)], &a, 100, 1.0, "ok"),
            (&[(100, STALE_NAN)], &a, 100, f64::NAN, "duplicate"),
            (&[(100, STALE_NAN)], &a, 100, STALE_NAN, "ok"),
            (&[(100, 0.0)], &a, 100, -0.0, "duplicate"),
            (
                &[(10_000_000, 1.0)],
                &a,
                10_000_000 - 3_600_001,
                1.0,
                "out-of-bounds",
            ),
            (
                &[(10_000_000, 1.0)],
                &a,
                10_000_000 - 3_600_000,
                1.0,
                "out-of-order",
            ),
            (&[], &Labels::empty(), 100, 1.0, "invalid-labels"),
            (&[], &empty_name, 100, 1.0, "invalid-labels"),
        ];
        for (i, &(before, labels, t, v, want)) in rows.iter().enumerate() {
            let head = Head::new(HeadOptions::default(), None);
            let mut app = head.head_appender();
            for &(bt, bv) in before {
                app.append(None, &a, bt, bv).unwrap();
            }
            app.commit().unwrap();
            drop(app);
            let mut app = head.head_appender();
            assert_eq!(kind(app.append(None, labels, t, v)), want, "row {i}");
        }
    }

    #[test]
    fn errors_within_one_transaction() {
        let head = Head::new(HeadOptions::default(), None);
        let a = l(&[("__name__", "a")]);
        let mut app = head.head_appender();
        let r = app.append(None, &a, 100, 1.0).unwrap();
        assert_eq!(kind(app.append(Some(r), &a, 99, 1.0)), "out-of-order");
        assert_eq!(kind(app.append(Some(r), &a, 100, 2.0)), "duplicate");
        assert_eq!(kind(app.append(Some(r), &a, 100, 1.0)), "ok");
        assert_eq!(kind(app.append(Some(r), &a, 101, 1.0)), "ok");
        app.commit().unwrap();
        assert_eq!(head.stats().samples_appended, 2);
    }

    #[test]
    fn wrong_hint_is_not_trusted() {
        let head = Head::new(HeadOptions::default(), None);
        let (a, b) = (l(&[("n", "a")]), l(&[("n", "b")]));
        let mut app = head.head_appender();
        let ra = app.append(None, &a, 1, 1.0).unwrap();
        let rb = app.append(Some(ra), &b, 1, 2.0).unwrap();
        assert_ne!(ra, rb);
        app.commit().unwrap();
        let q = head.querier(0, 10).unwrap();
        let mut set = q
            .select(true, None, &[model::Matcher::equal("n", "b")])
            .unwrap();
        let got = set.next().unwrap().unwrap().collect_samples().unwrap();
        assert_eq!(got, [model::Sample::new(1, 2.0)]);
    }

    #[test]
    fn rollback_discards_samples_but_keeps_series() {
        let head = Head::new(HeadOptions::default(), None);
        let a = l(&[("n", "a")]);
        let mut app = head.appender();
        app.append(None, &a, 1, 1.0).unwrap();
        app.rollback().unwrap();
        app.append(None, &a, 1, 5.0).unwrap();
        app.commit().unwrap();
        drop(app);
        let q = head.querier(0, 10).unwrap();
        let mut set = q
            .select(false, None, &[model::Matcher::equal("n", "a")])
            .unwrap();
        let got = set.next().unwrap().unwrap().collect_samples().unwrap();
        assert_eq!(got, [model::Sample::new(1, 5.0)]);
        assert_eq!(head.stats().num_series, 1);
        // Dropping an appender mid-transaction rolls back too, leaving no
        // series pinned against garbage collection.
        let mut app = head.head_appender();
        app.append(None, &l(&[("n", "b")]), 2, 1.0).unwrap();
        drop(app);
        assert_eq!(head.stats().num_series, 2);
        head.truncate(i64::MIN + 1).unwrap();
        assert_eq!(head.stats().num_series, 1, "empty series b is collected");
    }
}
