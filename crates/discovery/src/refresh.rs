//! The loop shared by providers that poll (HTTP, DNS): refresh at start and
//! then every interval; send what a refresh found; after a failed refresh
//! send nothing, so the consumer keeps the last good groups.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::stats::{RefreshStats, SdStats};
use crate::{DiscoveryError, TargetGroup};

/// The shortest interval a poller runs at: a zero `refresh_interval` would
/// otherwise spin (Prometheus's ticker refuses it outright).
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// One poll of a refresh-based provider.
pub(crate) trait Refresh: Send + 'static {
    /// The mechanism's name for logs (`http`, `dns`).
    const MECHANISM: &'static str;

    /// The counters of this mechanism.
    fn refresh_stats(&self) -> &RefreshStats;

    /// Fetches the provider's current groups.
    fn refresh(
        &mut self,
    ) -> impl Future<Output = Result<Vec<TargetGroup>, DiscoveryError>> + Send + '_;
}

/// Polls `source` every `interval` until `tx` closes.
pub(crate) async fn run<R: Refresh>(
    mut source: R,
    interval: Duration,
    tx: mpsc::Sender<Vec<TargetGroup>>,
) {
    let mut ticker = tokio::time::interval(interval.max(MIN_INTERVAL));
    // Like Go's ticker: a slow refresh drops the ticks it overran.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = tx.closed() => return,
        }
        SdStats::inc(&source.refresh_stats().refreshes);
        let groups = tokio::select! {
            r = source.refresh() => r,
            () = tx.closed() => return,
        };
        match groups {
            Ok(groups) => {
                if tx.send(groups).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                SdStats::inc(&source.refresh_stats().failures);
                tracing::error!(mechanism = R::MECHANISM, error = %e, "Unable to refresh target groups");
            }
        }
    }
}
