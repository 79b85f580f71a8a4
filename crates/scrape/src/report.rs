//! The series every scrape reports about itself: `up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added` and, with
//! `extra_scrape_metrics`, `scrape_timeout_seconds`, `scrape_sample_limit`
//! and `scrape_body_size_bytes`, each with the target's labels.

use std::time::Duration;

use model::{Labels, Timestamp, STALE_NAN};
use storage::{AppendError, Appender, SeriesRef};

use crate::ingest::Counts;
use crate::series_labels::report_labels;

/// Report series names, in the order Prometheus appends them.
const NAMES: [&str; 8] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
];

/// The values one scrape reports.
pub(crate) struct ReportValues {
    pub(crate) up: bool,
    pub(crate) duration: Duration,
    pub(crate) counts: Counts,
    pub(crate) timeout: Duration,
    pub(crate) sample_limit: usize,
    pub(crate) body_bytes: i64,
}

/// The report series of one target, with their labels and references
/// cached after the first scrape.
#[derive(Debug)]
pub(crate) struct Report {
    count: usize,
    series: [Option<(Option<SeriesRef>, Labels)>; 8],
}

impl Report {
    /// Report series for a target; `extra` adds the three of
    /// `extra_scrape_metrics`.
    pub(crate) fn new(extra: bool) -> Report {
        Report {
            count: if extra { 8 } else { 5 },
            series: Default::default(),
        }
    }

    /// Appends one scrape's report at `t`.
    pub(crate) fn append(
        &mut self,
        app: &mut dyn Appender,
        target: &Labels,
        t: Timestamp,
        v: &ReportValues,
    ) -> Result<(), AppendError> {
        let values = [
            if v.up { 1.0 } else { 0.0 },
            v.duration.as_secs_f64(),
            v.counts.total as f64,
            v.counts.added as f64,
            v.counts.series_added as f64,
            v.timeout.as_secs_f64(),
            v.sample_limit as f64,
            v.body_bytes as f64,
        ];
        for (i, value) in values.into_iter().enumerate().take(self.count) {
            self.append_one(app, target, i, t, value)?;
        }
        Ok(())
    }

    /// Appends a stale marker at `t` to every report series that was
    /// reported.
    pub(crate) fn append_stale(
        &mut self,
        app: &mut dyn Appender,
        t: Timestamp,
    ) -> Result<(), AppendError> {
        for i in 0..self.count {
            let Some((hint, labels)) = &self.series[i] else {
                continue;
            };
            match app.append(*hint, labels, t, STALE_NAN) {
                Ok(_)
                | Err(AppendError::OutOfOrder { .. } | AppendError::DuplicateTimestamp { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn append_one(
        &mut self,
        app: &mut dyn Appender,
        target: &Labels,
        i: usize,
        t: Timestamp,
        value: f64,
    ) -> Result<(), AppendError> {
        let slot = &mut self.series[i];
        let (hint, labels) = slot.get_or_insert_with(|| (None, report_labels(NAMES[i], target)));
        match app.append(*hint, labels, t, value) {
            Ok(r) => {
                *hint = Some(r);
                Ok(())
            }
            // Expected when a target comes back under a new loop.
            Err(AppendError::OutOfOrder { .. } | AppendError::DuplicateTimestamp { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
