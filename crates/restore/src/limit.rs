//! The one bound on requests in flight over a whole restore, adaptive to object size and to
//! what the store says.
//!
//! Every GET of a restore (every block of every file of every set, and every stream block)
//! takes a [`Slot`] from the restore's single [`Limiter`] for the time of the request. The
//! bound is kept in shares: a request for a large range takes `share` of them, a request for
//! a small object (see `Fetcher`) one, so `max` large requests or `max * share` small ones
//! are in flight at once. A backup of many small tables is bound by per-request latency, not
//! bytes, and gets many small GETs going; a large object stays at `max` ranged GETs of one
//! block each. With `share` 1 every request counts the same (what an explicit `--parallel`
//! asks for). The limit (in large requests) starts at `max` and follows AIMD, as TCP does:
//! - a throttling answer (503 SlowDown, 429, other 5xx) that survived the client's own
//!   retries halves the limit (at most once per `cooldown`, so one burst of failures of the
//!   requests that were in flight together counts once), down to 1;
//! - each `limit` successful requests in a row raise it by one, back up to `max`.
//!
//! Shrinking does not cancel requests: the semaphore keeps a debt (in shares) that slots
//! returned later pay off instead of going back to the pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The restore-wide bound on requests in flight.
#[derive(Debug)]
pub struct Limiter {
    /// Free shares.
    permits: Arc<Semaphore>,
    /// The bound in large requests.
    max: usize,
    /// Shares a large request takes (small requests per large one).
    share: usize,
    cooldown: Duration,
    state: Mutex<State>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

#[derive(Debug)]
struct State {
    /// The current bound in large requests (1..=max).
    limit: usize,
    /// Shares to drop instead of returning, after the limit was lowered.
    debt: usize,
    /// Successes since the last change of the limit.
    successes: usize,
    last_cut: Option<Instant>,
}

/// One request's right to be in flight; returned on drop.
#[derive(Debug)]
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    shares: usize,
    limiter: Arc<Limiter>,
}

impl Limiter {
    /// A limiter allowing `max` large requests at once (at least 1), each counting for
    /// `share` small ones (at least 1); after a throttling answer the limit is not lowered
    /// again for `cooldown`.
    pub fn new(max: usize, share: usize, cooldown: Duration) -> Arc<Limiter> {
        let max = max.max(1);
        let share = share.max(1);
        Arc::new(Limiter {
            permits: Arc::new(Semaphore::new(max * share)),
            max,
            share,
            cooldown,
            state: Mutex::new(State {
                limit: max,
                debt: 0,
                successes: 0,
                last_cut: None,
            }),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Counters only: consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for room for one request (first come, first served): one share if `small`,
    /// else a large request's. `None` if the semaphore was closed.
    pub async fn acquire(self: &Arc<Self>, small: bool) -> Option<Slot> {
        let shares = if small { 1 } else { self.share };
        let permit = self
            .permits
            .clone()
            .acquire_many_owned(u32::try_from(shares).ok()?)
            .await
            .ok()?;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Some(Slot {
            permit: Some(permit),
            shares,
            limiter: self.clone(),
        })
    }

    /// The current bound, in large requests.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The most requests that were in flight at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// A request succeeded: after `limit` of them in a row the limit grows by one.
    pub fn on_success(&self) {
        let mut s = self.lock();
        s.successes += 1;
        if s.successes >= s.limit && s.limit < self.max {
            s.successes = 0;
            s.limit += 1;
            let pay = s.debt.min(self.share);
            s.debt -= pay;
            self.permits.add_permits(self.share - pay);
        }
    }

    /// The store said it is overloaded: halve the limit (once per cooldown). Returns the new
    /// limit when it changed.
    pub fn on_throttled(&self) -> Option<usize> {
        let mut s = self.lock();
        s.successes = 0;
        let now = Instant::now();
        if s.last_cut
            .is_some_and(|t| now.duration_since(t) < self.cooldown)
            || s.limit == 1
        {
            return None;
        }
        s.last_cut = Some(now);
        let lower = (s.limit / 2).max(1);
        let cut = (s.limit - lower) * self.share;
        s.limit = lower;
        // Take what is free now; the rest is paid off by slots as they come back.
        let mut taken = 0;
        while taken < cut {
            match self.permits.try_acquire() {
                Ok(p) => {
                    p.forget();
                    taken += 1;
                }
                Err(_) => break,
            }
        }
        s.debt += cut - taken;
        Some(lower)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limiter.in_flight.fetch_sub(1, Ordering::SeqCst);
        let Some(permit) = self.permit.take() else {
            return;
        };
        let mut s = self.limiter.lock();
        let pay = s.debt.min(self.shares);
        if pay == 0 {
            drop(s);
            drop(permit);
            return;
        }
        s.debt -= pay;
        permit.forget();
        self.limiter.permits.add_permits(self.shares - pay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_more_than_the_limit_and_halves_on_throttling() {
        let l = Limiter::new(8, 1, Duration::from_secs(60));
        let mut slots = Vec::new();
        for _ in 0..8 {
            slots.push(l.acquire(false).await.expect("open"));
        }
        assert_eq!(l.peak(), 8);
        assert!(l.permits.available_permits() == 0);
        assert_eq!(l.on_throttled(), Some(4));
        // Within the cooldown a second failure of the same burst does not cut again.
        assert_eq!(l.on_throttled(), None);
        // Returning all 8 pays off the debt of 4: only 4 can be taken again.
        slots.clear();
        assert_eq!(l.permits.available_permits(), 4);
        for _ in 0..4 {
            slots.push(l.acquire(false).await.expect("open"));
        }
        assert!(l.permits.try_acquire().is_err());
        slots.clear();
    }

    #[tokio::test]
    async fn grows_back_one_per_window_of_successes() {
        let l = Limiter::new(4, 1, Duration::ZERO);
        assert_eq!(l.on_throttled(), Some(2));
        assert_eq!(l.permits.available_permits(), 2);
        l.on_success();
        assert_eq!(l.limit(), 2);
        l.on_success();
        assert_eq!(l.limit(), 3);
        assert_eq!(l.permits.available_permits(), 3);
        for _ in 0..3 {
            l.on_success();
        }
        assert_eq!(l.limit(), 4);
        for _ in 0..10 {
            l.on_success();
        }
        assert_eq!(l.limit(), 4, "never above the configured bound");
        assert_eq!(l.permits.available_permits(), 4);
    }

    #[tokio::test]
    async fn floor_is_one() {
        let l = Limiter::new(2, 1, Duration::ZERO);
        assert_eq!(l.on_throttled(), Some(1));
        assert_eq!(l.on_throttled(), None);
        assert_eq!(l.limit(), 1);
        let s = l.acquire(false).await.expect("open");
        assert!(l.permits.try_acquire().is_err());
        drop(s);
    }

    #[tokio::test]
    async fn small_requests_take_a_share_of_a_large_one() {
        let l = Limiter::new(2, 4, Duration::ZERO);
        // 8 small, or 2 large, or a mix worth 8 shares.
        let mut small = Vec::new();
        for _ in 0..8 {
            small.push(l.acquire(true).await.expect("open"));
        }
        assert_eq!(l.peak(), 8);
        assert!(l.permits.try_acquire().is_err());
        small.truncate(4);
        let large = l.acquire(false).await.expect("open");
        assert!(l.permits.try_acquire().is_err());
        drop(small);
        drop(large);
        assert_eq!(l.permits.available_permits(), 8);
        // Halving the limit (2 -> 1) takes one large request's shares.
        assert_eq!(l.on_throttled(), Some(1));
        assert_eq!(l.permits.available_permits(), 4);
        l.on_success();
        assert_eq!(l.limit(), 2);
        assert_eq!(l.permits.available_permits(), 8);
    }

    #[tokio::test]
    async fn a_cut_while_small_requests_are_out_is_paid_back_by_them() {
        let l = Limiter::new(2, 4, Duration::ZERO);
        let mut small = Vec::new();
        for _ in 0..8 {
            small.push(l.acquire(true).await.expect("open"));
        }
        assert_eq!(l.on_throttled(), Some(1));
        drop(small);
        assert_eq!(l.permits.available_permits(), 4, "4 shares paid the debt");
    }
}
