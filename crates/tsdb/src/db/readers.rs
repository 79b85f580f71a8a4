//! Keeping head truncation from pulling data out from under queriers.
//!
//! A querier takes the list of blocks when it is created but reads the head
//! only when it selects. If head compaction wrote a block and truncated the
//! head in between, the querier would see the window in neither. So every
//! querier registers under the current epoch; head compaction bumps the
//! epoch once the new block is visible and waits for the queriers of older
//! epochs to finish before truncating (Prometheus's
//! `WaitForPendingReadersInTimeRange`, by epoch instead of time range).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::Matcher;
use parking_lot::{Condvar, Mutex};
use storage::{Querier, SelectHints, SeriesSet, StorageError};

/// Live queriers by the epoch they were created in.
#[derive(Default)]
pub(crate) struct Readers {
    state: Mutex<ReadersState>,
    changed: Condvar,
}

#[derive(Default)]
struct ReadersState {
    epoch: u64,
    live: BTreeMap<u64, usize>,
}

impl Readers {
    /// Registers a reader in the current epoch.
    pub(crate) fn enter(self: &Arc<Readers>) -> ReaderGuard {
        let mut st = self.state.lock();
        let epoch = st.epoch;
        *st.live.entry(epoch).or_default() += 1;
        ReaderGuard {
            readers: self.clone(),
            epoch,
        }
    }

    /// Starts a new epoch and waits up to `limit` for every reader of the
    /// earlier ones to finish; returns whether they all did.
    pub(crate) fn wait_for_older(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut st = self.state.lock();
        st.epoch += 1;
        let current = st.epoch;
        while st.live.range(..current).next().is_some() {
            if self.changed.wait_until(&mut st, deadline).timed_out() {
                return st.live.range(..current).next().is_none();
            }
        }
        true
    }
}

/// Unregisters its reader when dropped.
pub(crate) struct ReaderGuard {
    readers: Arc<Readers>,
    epoch: u64,
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        let mut st = self.readers.state.lock();
        if let Some(n) = st.live.get_mut(&self.epoch) {
            *n -= 1;
            if *n == 0 {
                st.live.remove(&self.epoch);
            }
        }
        drop(st);
        self.readers.changed.notify_all();
    }
}

/// A querier that holds its registration for as long as it lives.
pub(crate) struct GuardedQuerier {
    pub(crate) inner: Box<dyn Querier>,
    pub(crate) _guard: ReaderGuard,
}

impl Querier for GuardedQuerier {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        self.inner.select(sorted, hints, matchers)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_values(name, matchers)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_names(matchers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_older_readers_only() {
        let r = Arc::new(Readers::default());
        let old = r.enter();
        assert!(!r.wait_for_older(Duration::from_millis(20)));
        // A reader of the new epoch does not hold up the next wait for
        // the previous epoch... but the old one still does.
        let new = r.enter();
        let r2 = r.clone();
        let t = std::thread::spawn(move || r2.wait_for_older(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        drop(old);
        drop(new);
        assert!(t.join().unwrap());
        assert!(r.wait_for_older(Duration::from_millis(1)));
    }
}
