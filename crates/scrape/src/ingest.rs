//! Storing one scrape: the body's samples under their final labels, stale
//! markers for series that went away, and the report series, in one
//! transaction (Prometheus's `scrapeAndReport`, `append` and `report`).

mod append;
mod format;

use std::sync::Arc;
use std::time::{Duration, Instant};

use model::{Labels, Timestamp};
use storage::{Appendable, Appender};

use crate::cache::ScrapeCache;
use crate::metadata::MetadataStore;
use crate::report::{Report, ReportValues};
use crate::series_labels::{LabelLimits, LabelRules, SeriesLabeler};
use crate::{ScrapeError, ScrapeOptions};

pub(crate) use format::Format;

/// How long after the scrape a sample's own timestamp may lie, as
/// Prometheus's `maxAheadTime`.
const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// What a scrape fetched: the body and its `Content-Type`, or why not.
#[derive(Debug, Clone, Copy)]
pub enum Fetched<'a> {
    /// A body (possibly empty) and its `Content-Type` header (`""` if none).
    Body {
        /// The uncompressed body.
        body: &'a [u8],
        /// The `Content-Type` header.
        content_type: &'a str,
    },
    /// The fetch failed.
    Failed(&'a ScrapeError),
}

/// What one scrape stored and reported.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeSummary {
    /// Why the scrape failed (`up` 0), or `None`.
    pub error: Option<ScrapeError>,
    /// `scrape_samples_scraped`.
    pub samples_scraped: usize,
    /// `scrape_samples_post_metric_relabeling`.
    pub samples_post_relabel: usize,
    /// `scrape_series_added`.
    pub series_added: usize,
    /// `scrape_body_size_bytes`: the body size, -1 if the body size limit
    /// was hit, 0 after other failures.
    pub body_bytes: i64,
    /// `scrape_duration_seconds`.
    pub duration: Duration,
    /// Why the scrape's transaction failed to commit (its samples and
    /// report are then lost), if it did.
    pub commit_error: Option<String>,
}

/// Counts of one append pass.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) total: usize,
    pub(crate) added: usize,
    pub(crate) series_added: usize,
}

/// Stores the scrapes of one target: owns its cache and reusable buffers.
#[derive(Debug)]
pub struct Ingester {
    target_labels: Labels,
    opts: IngestOptions,
    cache: ScrapeCache,
    labeler: SeriesLabeler,
    report: Report,
}

/// The options the ingester reads, copied out of [`ScrapeOptions`].
#[derive(Debug)]
pub(crate) struct IngestOptions {
    pub(crate) rules: LabelRules,
    pub(crate) honor_timestamps: bool,
    pub(crate) track_timestamps_staleness: bool,
    pub(crate) sample_limit: usize,
    pub(crate) fallback: Option<&'static str>,
    pub(crate) timeout: Duration,
}

impl Ingester {
    /// An ingester for a target whose series carry `target_labels` (see
    /// [`crate::Target::labels`]); `timeout` is reported as
    /// `scrape_timeout_seconds`.
    pub fn new(target_labels: Labels, opts: &ScrapeOptions, timeout: Duration) -> Ingester {
        Ingester {
            report: Report::new(opts.extra_scrape_metrics),
            target_labels,
            opts: IngestOptions {
                rules: LabelRules {
                    honor_labels: opts.honor_labels,
                    metric_relabel: opts.metric_relabel_configs.clone(),
                    limits: LabelLimits {
                        labels: opts.label_limit,
                        name_length: opts.label_name_length_limit,
                        value_length: opts.label_value_length_limit,
                    },
                    validation: opts.name_validation,
                },
                honor_timestamps: opts.honor_timestamps,
                track_timestamps_staleness: opts.track_timestamps_staleness,
                sample_limit: opts.sample_limit,
                fallback: opts.fallback_protocol.map(|p| p.media_type()),
                timeout,
            },
            cache: ScrapeCache::default(),
            labeler: SeriesLabeler::default(),
        }
    }

    /// Stores what a scrape that began at `started` (and is stamped `t`)
    /// fetched, with its report, in one commit. A failed fetch or append
    /// stores none of the body's samples, marks the series of the previous
    /// scrape stale (after a failed append, only those the body had not
    /// reached yet, as Prometheus) and reports `up` 0.
    pub fn ingest(
        &mut self,
        storage: &dyn Appendable,
        fetched: Fetched<'_>,
        t: Timestamp,
        started: Instant,
    ) -> ScrapeSummary {
        let mut app = storage.appender();
        let (body, fetch_err) = match fetched {
            Fetched::Body { body, content_type } => (Some((body, content_type)), None),
            Fetched::Failed(e) => (None, Some(e.clone())),
        };
        let body_bytes = match (body, &fetch_err) {
            (Some((b, _)), _) => i64::try_from(b.len()).unwrap_or(i64::MAX),
            (None, Some(ScrapeError::BodySizeLimit)) => -1,
            (None, _) => 0,
        };
        let result = match body {
            Some((b, ct)) if !b.is_empty() => self.append_body(app.as_mut(), b, ct, t),
            _ => self
                .append_empty(app.as_mut(), t)
                .map(|()| Counts::default()),
        };
        let (counts, append_err) = match result {
            Ok(c) => (c, None),
            Err((e, c)) => {
                let _ = app.rollback();
                // The series the failed pass stored before it failed stay
                // "current" although their samples were rolled back, so they
                // are not marked stale now but by the next scrape that lacks
                // them — as Prometheus does (its scrape cache keeps them).
                app = storage.appender();
                if let Err((e, _)) = self.append_empty(app.as_mut(), t) {
                    tracing::warn!(error = %e, "cannot append stale markers");
                    let _ = app.rollback();
                    app = storage.appender();
                }
                (c, Some(e))
            }
        };
        let error = fetch_err.or(append_err);
        let duration = started.elapsed();
        let values = ReportValues {
            up: error.is_none(),
            duration,
            counts,
            timeout: self.opts.timeout,
            sample_limit: self.opts.sample_limit,
            body_bytes,
        };
        let reported = self
            .report
            .append(app.as_mut(), &self.target_labels, t, &values);
        let commit_error = match reported {
            Err(e) => {
                let _ = app.rollback();
                Some(e.to_string())
            }
            Ok(()) => app.commit().err().map(|e| e.to_string()),
        };
        if let Some(e) = &commit_error {
            tracing::warn!(error = %e, "scrape commit failed");
        }
        ScrapeSummary {
            error,
            samples_scraped: counts.total,
            samples_post_relabel: counts.added,
            series_added: counts.series_added,
            body_bytes,
            duration,
            commit_error,
        }
    }

    /// Shares `store` as this target's metadata (the target's, so the API
    /// reads what the loop writes).
    pub fn set_metadata_store(&mut self, store: Arc<MetadataStore>) {
        self.cache.metadata = store;
    }

    /// The metadata of the families the target exposed.
    pub fn metadata(&self) -> &MetadataStore {
        &self.cache.metadata
    }

    /// Marks every series of the last scrape and the report series stale at
    /// `t`, as Prometheus does when a target goes away.
    pub fn mark_all_stale(&mut self, storage: &dyn Appendable, t: Timestamp) {
        let mut app = storage.appender();
        if let Err((e, _)) = self.append_empty(app.as_mut(), t) {
            tracing::warn!(error = %e, "cannot append stale markers");
            let _ = app.rollback();
            app = storage.appender();
        }
        if let Err(e) = self.report.append_stale(app.as_mut(), t) {
            tracing::warn!(error = %e, "cannot append stale report markers");
        }
        if let Err(e) = app.commit() {
            tracing::warn!(error = %e, "stale marker commit failed");
        }
    }

    /// An empty scrape: every series of the previous one goes stale.
    fn append_empty(
        &mut self,
        app: &mut dyn Appender,
        t: Timestamp,
    ) -> Result<(), (ScrapeError, Counts)> {
        let r = append::stale_markers(&mut self.cache, app, t);
        self.cache.iter_done(false);
        r.map_err(|e| (e, Counts::default()))
    }
}
