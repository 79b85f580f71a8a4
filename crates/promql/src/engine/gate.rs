//! The admission gate: at most `max_concurrency` queries evaluate at once
//! (`--query.max-concurrency`); the others wait in arrival order. Waiting
//! counts against the query's deadline and can be canceled, failing with
//! "query timed out in query queue" / "query was canceled in query queue"
//! as Prometheus's active query tracker does.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::limits::{check, CancelToken, ENV_QUEUE};
use super::EngineError;

/// How long a waiter sleeps before looking at its cancel switch again: a
/// cancel does not wake the condition variable, so this bounds how late a
/// canceled waiter notices.
const CANCEL_POLL: Duration = Duration::from_millis(5);

/// Counts running queries and orders the waiting ones.
#[derive(Debug)]
pub(crate) struct QueryGate {
    /// 0 admits everything.
    max: usize,
    state: Mutex<GateState>,
    wake: Condvar,
}

#[derive(Debug)]
struct GateState {
    running: usize,
    /// Places not in use, by number (what the active query log's slots
    /// are numbered by).
    free: Vec<usize>,
    /// Tickets of waiting queries, oldest first.
    waiting: VecDeque<u64>,
    next_ticket: u64,
}

/// A place in the gate, given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    gate: Option<&'a QueryGate>,
    /// The place's number, `0..max` (`None` without a limit).
    pub(crate) slot: Option<usize>,
}

impl QueryGate {
    /// A gate admitting `max` queries at once (0: no limit).
    pub(crate) fn new(max: usize) -> QueryGate {
        QueryGate {
            max,
            state: Mutex::new(GateState {
                running: 0,
                free: (0..max).rev().collect(),
                waiting: VecDeque::new(),
                next_ticket: 0,
            }),
            wake: Condvar::new(),
        }
    }

    // The state is a counter and a queue that every holder leaves
    // consistent before it can panic, so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a place, until `deadline` or until `cancel` is thrown.
    pub(crate) fn enter(
        &self,
        deadline: Option<Instant>,
        cancel: Option<&CancelToken>,
    ) -> Result<Permit<'_>, EngineError> {
        if self.max == 0 {
            return Ok(Permit {
                gate: None,
                slot: None,
            });
        }
        let mut st = self.lock();
        if st.waiting.is_empty() && st.running < self.max {
            return Ok(self.admit(&mut st));
        }
        let ticket = st.next_ticket;
        st.next_ticket = st.next_ticket.wrapping_add(1);
        st.waiting.push_back(ticket);
        loop {
            if st.waiting.front() == Some(&ticket) && st.running < self.max {
                st.waiting.pop_front();
                // The next in line may fit too (several places freed).
                self.wake.notify_all();
                return Ok(self.admit(&mut st));
            }
            if let Err(e) = check(deadline, cancel, ENV_QUEUE) {
                st.waiting.retain(|&t| t != ticket);
                // Whoever was behind this ticket may now be first.
                self.wake.notify_all();
                return Err(e);
            }
            let mut wait = CANCEL_POLL;
            if let Some(d) = deadline {
                wait = wait.min(d.saturating_duration_since(Instant::now()));
            }
            st = self
                .wake
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl QueryGate {
    fn admit(&self, st: &mut GateState) -> Permit<'_> {
        st.running += 1;
        Permit {
            gate: Some(self),
            slot: st.free.pop(),
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.gate {
            let mut st = g.lock();
            st.running = st.running.saturating_sub(1);
            if let Some(slot) = self.slot {
                st.free.push(slot);
            }
            drop(st);
            g.wake.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_full_gate_times_out_and_a_freed_place_admits() {
        let g = QueryGate::new(1);
        let p = g.enter(None, None).expect("first");
        let soon = Instant::now() + Duration::from_millis(20);
        let err = g.enter(Some(soon), None).expect_err("full");
        assert_eq!(err.to_string(), "query timed out in query queue");
        drop(p);
        g.enter(Some(Instant::now() + Duration::from_secs(5)), None)
            .expect("freed");
    }

    #[test]
    fn a_waiter_can_be_canceled_and_waiters_enter_in_order() {
        let g = Arc::new(QueryGate::new(1));
        let first = g.enter(None, None).expect("first");
        let c = CancelToken::new();
        let (g2, c2) = (Arc::clone(&g), c.clone());
        let canceled = std::thread::spawn(move || g2.enter(None, Some(&c2)).map(|_| ()));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..3 {
            let (gi, order) = (Arc::clone(&g), Arc::clone(&order));
            waiters.push(std::thread::spawn(move || {
                let _p = gi.enter(None, None).expect("admitted");
                order.lock().expect("order").push(i);
            }));
            // Let waiter i take its ticket before i + 1.
            while g.lock().waiting.len() < i + 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        c.cancel();
        let err = canceled.join().expect("thread").expect_err("canceled");
        assert_eq!(err.to_string(), "query was canceled in query queue");
        drop(first);
        for w in waiters {
            w.join().expect("waiter");
        }
        assert_eq!(*order.lock().expect("order"), vec![0, 1, 2]);
        assert_eq!(g.lock().running, 0);
    }
}
