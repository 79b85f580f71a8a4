//! The loop that scrapes one target every interval (Prometheus's
//! `scrapeLoop.run`): a first scrape at an offset derived from the target's
//! hash, then one per tick with timestamps aligned to the ticks, and stale
//! markers for everything when the target goes away.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use model::Timestamp;
use storage::Appendable;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::fetch::{Fetcher, HttpClient};
use crate::health::Health;
use crate::ingest::{Fetched, Ingester, ScrapeSummary};
use crate::{ScrapeError, ScrapeOptions, Target};

/// How far a scrape's start may lie from its tick and still be stamped with
/// the tick's time, so that timestamps stay evenly spaced and compress well
/// (Prometheus's `ScrapeTimestampTolerance`; at most 1% of the interval).
const ALIGN_TOLERANCE: Duration = Duration::from_millis(2);

/// Scrapes one target and stores what it finds.
pub struct ScrapeLoop {
    target: Arc<Target>,
    storage: Arc<dyn Appendable>,
    fetcher: Fetcher,
    ingester: Ingester,
    /// When the last scrape was stamped, if there was one.
    last: Option<SystemTime>,
    /// Set by the pool while the job is over its `target_limit`.
    forced: ForcedError,
}

/// An error a pool forces on all its loops (today only the target limit):
/// `(active targets, limit)` while set. Shared, so the pool can set and
/// clear it without reaching into running loops.
pub(crate) type ForcedError = Arc<std::sync::Mutex<Option<(usize, usize)>>>;

impl ScrapeLoop {
    /// A loop for `target` of a job with options `opts`, storing into
    /// `storage` through `client`.
    pub fn new(
        target: Arc<Target>,
        opts: &ScrapeOptions,
        storage: Arc<dyn Appendable>,
        client: &HttpClient,
    ) -> ScrapeLoop {
        let fetcher = Fetcher::new(client, target.url(), opts, target.timeout());
        let mut ingester = Ingester::new(target.labels(), opts, target.timeout());
        ingester.set_metadata_store(target.metadata().clone());
        ScrapeLoop {
            target,
            storage,
            fetcher,
            ingester,
            last: None,
            forced: ForcedError::default(),
        }
    }

    /// Shares the pool's forced error with this loop.
    pub(crate) fn with_forced_error(mut self, forced: ForcedError) -> ScrapeLoop {
        self.forced = forced;
        self
    }

    /// The target scraped.
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// Scrapes once, stamping the samples with `at`, stores the result and
    /// its report in one commit and updates the target's state.
    pub async fn scrape_once(&mut self, at: SystemTime) -> ScrapeSummary {
        let started = Instant::now();
        let t = millis(at);
        let forced = *self.forced.lock().unwrap_or_else(|p| p.into_inner());
        let fetched = match forced {
            // Over the target limit no request is made; the failed scrape
            // marks the last scrape's series stale and reports `up` 0.
            Some((targets, limit)) => Err(ScrapeError::TargetLimit { targets, limit }),
            None => self.fetcher.fetch().await,
        };
        let summary = match &fetched {
            Ok(content_type) => self.ingester.ingest(
                self.storage.as_ref(),
                Fetched::Body {
                    body: &self.fetcher.body,
                    content_type,
                },
                t,
                started,
            ),
            Err(e) => self
                .ingester
                .ingest(self.storage.as_ref(), Fetched::Failed(e), t, started),
        };
        if let Some(e) = &summary.error {
            tracing::debug!(target_url = self.target.url(), error = %e, "scrape failed");
        }
        let mut state = self.target.lock_state();
        state.health = if summary.error.is_none() {
            Health::Up
        } else {
            Health::Down
        };
        state.last_error = summary.error.as_ref().map(ToString::to_string);
        state.last_scrape = Some(at);
        state.last_duration = summary.duration;
        drop(state);
        self.last = Some(at);
        summary
    }

    /// Marks every series of the last scrape and the report series stale
    /// at `at`, as when the target is removed.
    pub fn mark_stale(&mut self, at: SystemTime) {
        self.ingester
            .mark_all_stale(self.storage.as_ref(), millis(at));
    }

    /// Runs the loop on the current tokio runtime until the handle stops it.
    /// `seed` spreads the targets of different servers apart (Prometheus
    /// hashes its external labels into it).
    pub fn spawn(self, seed: u64) -> ScrapeHandle {
        let (tx, rx) = watch::channel(Signal::Run);
        let target = self.target.clone();
        let task = tokio::spawn(self.run(seed, rx));
        ScrapeHandle { tx, task, target }
    }

    async fn run(mut self, seed: u64, mut rx: watch::Receiver<Signal>) {
        let interval = self.target.interval();
        let now_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let offset = self.target.offset(interval, seed, now_nanos);
        tokio::select! {
            _ = tokio::time::sleep(offset) => {}
            _ = rx.changed() => return,
        }
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let tolerance = ALIGN_TOLERANCE.min(interval / 100);
        let mut aligned = SystemTime::now();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = rx.changed() => break,
            }
            let mut at = SystemTime::now();
            while at.duration_since(aligned).is_ok_and(|d| d >= interval) {
                aligned += interval;
            }
            if at.duration_since(aligned).is_ok_and(|d| d <= tolerance) {
                at = aligned;
            }
            self.scrape_once(at).await;
        }
        if *rx.borrow() == Signal::Stop && self.last.is_some() {
            self.end_of_run(ticker, interval, rx).await;
        }
    }

    /// Waits until the next two scrapes would have happened (a target that
    /// was only re-created has stored samples by then, which the markers
    /// then cannot overwrite) and 10% more, then marks everything stale at
    /// the time of the first. A shutdown meanwhile writes nothing, since the
    /// server will resume where it was.
    async fn end_of_run(
        &mut self,
        mut ticker: tokio::time::Interval,
        interval: Duration,
        mut rx: watch::Receiver<Signal>,
    ) {
        let mut stale_at = SystemTime::now();
        for i in 0..3 {
            let wait = async {
                if i < 2 {
                    ticker.tick().await;
                } else {
                    tokio::time::sleep(interval / 10).await;
                }
            };
            tokio::select! {
                _ = wait => {}
                _ = shutdown_signal(&mut rx) => return,
            }
            if i == 0 {
                stale_at = SystemTime::now();
            }
        }
        self.mark_stale(stale_at);
    }
}

/// Resolves when a shutdown is signalled; never if the handle is dropped
/// (a stopped loop then still writes its markers).
async fn shutdown_signal(rx: &mut watch::Receiver<Signal>) {
    loop {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        if *rx.borrow() == Signal::Shutdown {
            return;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Run,
    /// The target went away: write end-of-run stale markers.
    Stop,
    /// The server is shutting down: write nothing more.
    Shutdown,
}

/// Controls a running [`ScrapeLoop`]. Dropping it stops the loop without
/// stale markers.
#[derive(Debug)]
pub struct ScrapeHandle {
    tx: watch::Sender<Signal>,
    task: JoinHandle<()>,
    target: Arc<Target>,
}

impl ScrapeHandle {
    /// The target the loop scrapes (its state reads the last scrape).
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// Stops the loop because its target went away. Returns at once; the
    /// loop writes end-of-run stale markers about two intervals later (as
    /// Prometheus does, so that a target that was only re-created wins), and
    /// [`ScrapeHandle::finished`] waits for that.
    pub fn stop(&self) {
        let _ = self.tx.send(Signal::Stop);
    }

    /// Stops the loop for a server shutdown: no stale markers (also none
    /// still pending after [`ScrapeHandle::stop`]), so a restarted server
    /// continues the series.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Signal::Shutdown);
    }

    /// Whether the loop has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until the loop has ended (after a stop, once its stale markers
    /// are written). Without a stop or shutdown first, waits forever.
    pub async fn finished(self) {
        let _ = self.task.await;
    }
}

/// Milliseconds since the epoch (negative before it).
pub(crate) fn millis(t: SystemTime) -> Timestamp {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}
