//! The hot path: every sample of a body through the cache into the appender.
//!
//! A series the cache knows costs one hash look-up of its raw text, one
//! append with the cached reference and one insert into the set of current
//! series; nothing is allocated. Only new texts are unescaped, labeled and
//! checked against the limits.

use expfmt::{Entry, OpenMetricsParser, ParseError, TextParser};
use model::{MetricType, Timestamp, STALE_NAN};
use storage::{AppendError, Appender};

use super::{Counts, Format, Ingester, MAX_AHEAD_MS};
use crate::cache::{CacheEntry, ScrapeCache};
use crate::metadata::MetaChange;
use crate::series_labels::Labeled;
use crate::ScrapeError;

/// How one sample's append ended.
enum Outcome {
    /// Stored under this reference.
    Added(storage::SeriesRef),
    /// Refused but not fatal (out of order, duplicate, too far ahead, over
    /// the sample limit): the scrape goes on.
    Skipped,
}

impl Ingester {
    /// Appends every sample of a non-empty body stamped `t` (unless it has
    /// its own timestamp and those are honored), then stale markers for the
    /// series the previous scrape had and this one lacks.
    pub(super) fn append_body(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        content_type: &str,
        t: Timestamp,
    ) -> Result<Counts, (ScrapeError, Counts)> {
        let format =
            Format::detect(content_type, self.opts.fallback).map_err(|e| (e, Counts::default()))?;
        let result = match format {
            Format::Text => self.append_entries(app, TextParser::new(body), t),
            Format::OpenMetrics => self.append_entries(app, OpenMetricsParser::new(body), t),
        };
        let counts = result?;
        stale_markers(&mut self.cache, app, t).map_err(|e| (e, counts))?;
        self.cache.iter_done(true);
        Ok(counts)
    }

    fn append_entries<'a>(
        &mut self,
        app: &mut dyn Appender,
        entries: impl Iterator<Item = Result<Entry<'a>, ParseError>>,
        default_t: Timestamp,
    ) -> Result<Counts, (ScrapeError, Counts)> {
        let mut counts = Counts::default();
        let mut metric_type = MetricType::Unknown;
        let mut appended = 0usize;
        let mut over_limit = false;
        let max_t = default_t.saturating_add(MAX_AHEAD_MS);
        let opts = &self.opts;
        let ScrapeCache {
            iter,
            series,
            dropped,
            cur,
            metadata,
            ..
        } = &mut self.cache;
        let iter = *iter;
        for entry in entries {
            let s = match entry {
                Ok(Entry::Series(s)) => s,
                Ok(Entry::Type {
                    name,
                    metric_type: m,
                }) => {
                    metric_type = m;
                    metadata.set(&name, iter, MetaChange::Type(m));
                    continue;
                }
                Ok(Entry::Help { name, help }) => {
                    metadata.set(&name, iter, MetaChange::Help(&help));
                    continue;
                }
                Ok(Entry::Unit { name, unit }) => {
                    metadata.set(&name, iter, MetaChange::Unit(unit));
                    continue;
                }
                Ok(_) => continue,
                Err(e) => return Err((e.into(), counts)),
            };
            counts.total += 1;
            let own_t = if opts.honor_timestamps {
                s.timestamp()
            } else {
                None
            };
            let t = own_t.unwrap_or(default_t);
            let raw = s.raw();
            if !dropped.is_empty() {
                if let Some(seen) = dropped.get_mut(raw) {
                    *seen = iter;
                    continue;
                }
            }
            let mut entry = series.get_mut(raw);
            let already = match entry.as_deref_mut() {
                Some(e) => {
                    let already = e.last_iter == iter;
                    e.last_iter = iter;
                    already
                }
                None => false,
            };
            let new_labels = match entry {
                Some(_) => None,
                None => {
                    let labeled = self
                        .labeler
                        .label(&s, metric_type, &self.target_labels, &opts.rules)
                        .map_err(|e| (e, counts))?;
                    match labeled {
                        Labeled::Keep(l) => Some(l),
                        Labeled::Dropped => {
                            dropped.insert(raw.into(), iter);
                            continue;
                        }
                    }
                }
            };
            let (labels, hint) = match (&entry, &new_labels) {
                (Some(e), _) => (&e.labels, e.series_ref),
                (None, Some(l)) => (l, None),
                (None, None) => unreachable!("BUG: a series is either cached or labeled"),
            };
            // A second sample of one series in one scrape without its own
            // timestamp would collide with the first; Prometheus counts it
            // as a duplicate and goes on.
            let outcome = if already && own_t.is_none() {
                Outcome::Skipped
            } else {
                appended += 1;
                if opts.sample_limit > 0 && appended > opts.sample_limit {
                    over_limit = true;
                    Outcome::Skipped
                } else if t > max_t {
                    Outcome::Skipped
                } else {
                    match app.append(hint, labels, t, s.value()) {
                        Ok(r) => {
                            if own_t.is_none() || opts.track_timestamps_staleness {
                                cur.insert(r, labels.clone());
                            }
                            if let Some(e) = entry {
                                e.series_ref = Some(r);
                            }
                            Outcome::Added(r)
                        }
                        Err(
                            AppendError::OutOfOrder { .. }
                            | AppendError::DuplicateTimestamp { .. }
                            | AppendError::OutOfBounds { .. },
                        ) => Outcome::Skipped,
                        Err(e) => return Err((ScrapeError::Storage(e.to_string()), counts)),
                    }
                }
            };
            if let (Some(labels), Outcome::Added(r)) = (new_labels, outcome) {
                series.insert(
                    raw.into(),
                    CacheEntry {
                        series_ref: Some(r),
                        labels,
                        last_iter: iter,
                    },
                );
                if !over_limit {
                    counts.series_added += 1;
                }
            }
            counts.added += 1;
        }
        if over_limit {
            return Err((ScrapeError::SampleLimit, counts));
        }
        Ok(counts)
    }
}

/// Appends a stale marker at `t` for every series of the previous scrape
/// that the current one did not store. Out-of-order and duplicate refusals
/// are expected (the target came back under a new loop) and ignored.
pub(super) fn stale_markers(
    cache: &mut ScrapeCache,
    app: &mut dyn Appender,
    t: Timestamp,
) -> Result<(), ScrapeError> {
    for (r, labels) in &cache.prev {
        if cache.cur.contains_key(r) {
            continue;
        }
        match app.append(Some(*r), labels, t, STALE_NAN) {
            Ok(_)
            | Err(AppendError::OutOfOrder { .. } | AppendError::DuplicateTimestamp { .. }) => {}
            Err(e) => return Err(ScrapeError::Storage(e.to_string())),
        }
    }
    Ok(())
}
