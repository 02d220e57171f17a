//! True replication lag from positions: a "position heartbeat" that needs nothing but
//! `SHOW MASTER STATUS` on the source.
//!
//! `Seconds_Behind_Master` is computed from event timestamps by the SQL thread: it is 0 on an
//! idle link even when the IO thread is disconnected, jumps after reconnects, and says nothing
//! until the first event arrives. ferry instead samples the source's binlog position at known
//! instants ([`LagTracker::record_source`]) and compares the replica's executed position with
//! those samples: the replica is behind by the time since the source first reached a position
//! the replica has not executed yet ([`LagTracker::lag`]). That is exact to within the sampling
//! interval, 0 when the replica has executed everything the source had, and it grows with time
//! while a replica is stuck, which is what a person watching lag needs to see.
//!
//! Memory is bounded: only the first sample of each distinct position is kept, samples the
//! replica has executed can be dropped ([`LagTracker::forget_through`]), and past
//! [`MAX_SAMPLES`] older samples are merged pairwise. Merging keeps the earlier time with the
//! later position, so the lag it reports can only err towards "more behind", never towards
//! "caught up".
//!
//! Pure logic, no I/O: the monitor feeds it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::source::BinlogCoord;

/// The most samples kept (a day of one sample per 30 s fits without merging).
pub const MAX_SAMPLES: usize = 4096;

/// Samples of the source's position over time, and the lag they imply.
#[derive(Debug, Clone, Default)]
pub struct LagTracker {
    /// `(first seen, position)`, both ascending.
    samples: VecDeque<(Instant, BinlogCoord)>,
}

impl LagTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the source was at `coord` at `at`. A position equal to the last one adds
    /// nothing (an idle source); a position *before* the last one means the source's binlog was
    /// reset or a different server answered, so earlier samples are discarded.
    pub fn record_source(&mut self, at: Instant, coord: BinlogCoord) {
        if let Some((last_at, last)) = self.samples.back() {
            if coord == *last {
                return;
            }
            if coord < *last || at < *last_at {
                self.samples.clear();
            }
        }
        self.samples.push_back((at, coord));
        if self.samples.len() > MAX_SAMPLES {
            self.thin();
        }
    }

    /// How far behind the source a replica that has executed up to `executed` is at `now`:
    /// the time since the earliest sample beyond `executed`; zero if `executed` is at or past
    /// the latest sample; `None` without any sample.
    pub fn lag(&self, now: Instant, executed: &BinlogCoord) -> Option<Duration> {
        let (_, latest) = self.samples.back()?;
        if executed >= latest {
            return Some(Duration::ZERO);
        }
        let first_ahead = self.samples.partition_point(|(_, coord)| coord <= executed);
        let (since, _) = self.samples.get(first_ahead)?;
        Some(now.saturating_duration_since(*since))
    }

    /// Drops samples the replica has executed (`<= executed`), keeping the latest one, which
    /// [`LagTracker::lag`] needs to say "caught up".
    pub fn forget_through(&mut self, executed: &BinlogCoord) {
        while self.samples.len() > 1 && self.samples.front().is_some_and(|(_, c)| c <= executed) {
            self.samples.pop_front();
        }
    }

    /// The latest position recorded.
    pub fn latest(&self) -> Option<&BinlogCoord> {
        self.samples.back().map(|(_, coord)| coord)
    }

    /// How many samples are held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Forgets everything (replication was reset or pointed at another source).
    pub fn reset(&mut self) {
        self.samples.clear();
    }

    /// Merges the older half pairwise: `(t1, c1), (t2, c2)` becomes `(t1, c2)`.
    fn thin(&mut self) {
        let old_half = self.samples.len() / 2;
        let mut kept = VecDeque::with_capacity(self.samples.len());
        let mut drain = self.samples.drain(..);
        for _ in 0..old_half / 2 {
            if let (Some((t1, _)), Some((_, c2))) = (drain.next(), drain.next()) {
                kept.push_back((t1, c2));
            }
        }
        kept.extend(drain);
        self.samples = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, pos: u64) -> BinlogCoord {
        BinlogCoord::new(file, pos)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn no_samples_no_answer() {
        let tracker = LagTracker::new();
        assert_eq!(tracker.lag(Instant::now(), &at("bin.000001", 4)), None);
    }

    #[test]
    fn an_idle_link_has_no_lag() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        for n in 0..100 {
            tracker.record_source(t0 + secs(n), at("bin.000003", 1234));
        }
        assert_eq!(tracker.len(), 1, "an unchanged position is one sample");
        let executed = at("bin.000003", 1234);
        assert_eq!(tracker.lag(t0 + secs(500), &executed), Some(Duration::ZERO));
        // Also when the replica's position is ahead of the last sample (sampled a bit ago).
        assert_eq!(
            tracker.lag(t0 + secs(500), &at("bin.000003", 2000)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_stuck_replica_falls_further_behind_as_time_passes() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        tracker.record_source(t0, at("bin.000001", 100));
        tracker.record_source(t0 + secs(10), at("bin.000001", 500));
        tracker.record_source(t0 + secs(20), at("bin.000001", 900));
        let executed = at("bin.000001", 100);
        assert_eq!(tracker.lag(t0 + secs(30), &executed), Some(secs(20)));
        assert_eq!(tracker.lag(t0 + secs(90), &executed), Some(secs(80)));
        // Executing part of it: behind by the time since 900 was first seen.
        assert_eq!(
            tracker.lag(t0 + secs(90), &at("bin.000001", 600)),
            Some(secs(70))
        );
        // Executing exactly a sampled position counts as having it.
        assert_eq!(
            tracker.lag(t0 + secs(90), &at("bin.000001", 500)),
            Some(secs(70))
        );
        assert_eq!(
            tracker.lag(t0 + secs(90), &at("bin.000001", 900)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn file_rotation_orders_by_file_number() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        tracker.record_source(t0, at("bin.000009", 90_000));
        tracker.record_source(t0 + secs(5), at("bin.000010", 4));
        tracker.record_source(t0 + secs(10), at("bin.000010", 800));
        assert_eq!(tracker.len(), 3, "a rotation is progress, not a reset");
        assert_eq!(
            tracker.lag(t0 + secs(12), &at("bin.000009", 95_000)),
            Some(secs(7)),
            "the end of file 9 is before anything in file 10"
        );
        assert_eq!(
            tracker.lag(t0 + secs(12), &at("bin.000009", 1)),
            Some(secs(12))
        );
        assert_eq!(
            tracker.lag(t0 + secs(12), &at("bin.000010", 800)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_position_going_backwards_starts_over() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        tracker.record_source(t0, at("bin.000005", 100));
        tracker.record_source(t0 + secs(1), at("bin.000005", 200));
        tracker.record_source(t0 + secs(2), at("bin.000001", 4));
        assert_eq!(tracker.len(), 1);
        assert_eq!(tracker.latest(), Some(&at("bin.000001", 4)));
    }

    #[test]
    fn memory_stays_bounded_and_merging_never_understates_lag() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        let total = 5 * MAX_SAMPLES as u64;
        for n in 0..total {
            tracker.record_source(t0 + secs(n), at("bin.000001", 1000 + n));
        }
        assert!(tracker.len() <= MAX_SAMPLES, "{}", tracker.len());
        let now = t0 + secs(total);
        assert_eq!(tracker.lag(now, &at("bin.000001", 999)), Some(secs(total)));
        for executed in [1000, 1500, 5000, 12_000, 1000 + total - 2] {
            // The source first passed `executed` when it reached `executed + 1`.
            let true_lag = now - (t0 + secs(executed + 1 - 1000));
            let lag = tracker.lag(now, &at("bin.000001", executed)).unwrap();
            assert!(
                lag >= true_lag,
                "executed {executed}: {lag:?} < {true_lag:?}"
            );
        }
        // Recent samples keep full resolution.
        assert_eq!(
            tracker.lag(now, &at("bin.000001", 1000 + total - 2)),
            Some(secs(1))
        );
    }

    #[test]
    fn forgetting_executed_samples_keeps_the_answer() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        for n in 0..10 {
            tracker.record_source(t0 + secs(n), at("bin.000001", 100 * (n + 1)));
        }
        let executed = at("bin.000001", 550);
        let before = tracker.lag(t0 + secs(20), &executed);
        tracker.forget_through(&executed);
        assert_eq!(tracker.len(), 5);
        assert_eq!(tracker.lag(t0 + secs(20), &executed), before);
        tracker.forget_through(&at("bin.000002", 4));
        assert_eq!(tracker.len(), 1, "the latest sample stays");
        assert_eq!(
            tracker.lag(t0 + secs(20), &at("bin.000002", 4)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn reset_forgets_everything() {
        let t0 = Instant::now();
        let mut tracker = LagTracker::new();
        tracker.record_source(t0, at("bin.000001", 100));
        tracker.reset();
        assert!(tracker.is_empty());
        assert_eq!(tracker.lag(t0, &at("bin.000001", 4)), None);
    }
}
