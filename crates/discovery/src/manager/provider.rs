//! One provider's task: the discoverer and the loop that files its updates
//! into the manager's state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::State;
use crate::stats::SdStats;
use crate::Discoverer;

/// Starts provider `name`; aborting the task stops both halves.
pub(super) fn spawn(
    name: String,
    discoverer: Box<dyn Discoverer>,
    state: Arc<Mutex<State>>,
    changed: Arc<AtomicBool>,
    stats: Arc<SdStats>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (tx, mut rx) = mpsc::channel(1);
        let discover = discoverer.run(tx);
        let file_updates = async {
            while let Some(groups) = rx.recv().await {
                SdStats::inc(&stats.received_updates);
                state
                    .lock()
                    .unwrap_or_else(|e| panic!("BUG: discovery state poisoned: {e}"))
                    .update(&name, groups);
                changed.store(true, Ordering::Relaxed);
            }
        };
        // When the discoverer ends (a static one after its only send), its
        // groups stay until a new config drops the provider.
        tokio::join!(discover, file_updates);
    })
}
