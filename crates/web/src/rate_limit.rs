//! `rate_limit`: a token bucket over all requests of a server, as
//! exporter-toolkit's (`golang.org/x/time/rate`): one token every
//! `interval`, at most `burst` saved up; a request without a token gets
//! 429. Like exporter-toolkit, it is set up from the config at start.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The bucket.
pub(crate) struct RateLimiter {
    every: Duration,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    /// A limiter, or `None` when `every` is zero (no limit).
    pub(crate) fn new(every: Duration, burst: u32) -> Option<RateLimiter> {
        if every.is_zero() {
            return None;
        }
        let burst = f64::from(burst);
        Some(RateLimiter {
            every,
            burst,
            state: Mutex::new((burst, Instant::now())),
        })
    }

    /// Takes a token if there is one.
    pub(crate) fn allow(&self) -> bool {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> bool {
        let mut s = self.state.lock();
        let earned = now.saturating_duration_since(s.1).as_secs_f64() / self.every.as_secs_f64();
        s.0 = (s.0 + earned).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_per_interval() {
        let l = RateLimiter::new(Duration::from_secs(1), 2).unwrap();
        let t0 = Instant::now();
        assert!(l.allow_at(t0));
        assert!(l.allow_at(t0));
        assert!(!l.allow_at(t0));
        assert!(!l.allow_at(t0 + Duration::from_millis(500)));
        assert!(l.allow_at(t0 + Duration::from_millis(1000)));
        assert!(!l.allow_at(t0 + Duration::from_millis(1000)));
        // Saved tokens never exceed the burst.
        assert!(l.allow_at(t0 + Duration::from_secs(60)));
        assert!(l.allow_at(t0 + Duration::from_secs(60)));
        assert!(!l.allow_at(t0 + Duration::from_secs(60)));
        assert!(RateLimiter::new(Duration::ZERO, 5).is_none());
    }

    #[test]
    fn zero_burst_allows_nothing() {
        // As golang.org/x/time/rate with burst 0 and a finite rate.
        let l = RateLimiter::new(Duration::from_millis(1), 0).unwrap();
        assert!(!l.allow_at(Instant::now() + Duration::from_secs(1)));
    }
}
