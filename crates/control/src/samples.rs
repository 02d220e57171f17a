//! The latest replication sample of each replicating cluster, as the API, the CLI and
//! `/metrics` read it, its lag over the last [`HISTORY_POINTS`] samples (the console's
//! chart), and the notes a cutover leaves for the sampler. Written by the replication agents
//! ([`crate::replication`]), read by the service.
//!
//! Memory only: the history starts again when the instance's server (and so its agent)
//! starts, and is forgotten with the sample when the cluster stops replicating.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_replication::view::ReplicationView;
use time::OffsetDateTime;

use crate::model::ClusterId;

/// Samples kept per cluster for the lag history: 30 minutes at the agents' 2-second interval
/// (at 32 bytes a point, under 30 KiB a cluster).
pub const HISTORY_POINTS: usize = 900;

/// One point of a cluster's lag history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LagPoint {
    pub at: OffsetDateTime,
    /// `None` while the lag is unknown (the SQL thread stopped, the source unreachable).
    pub lag: Option<Duration>,
}

/// One replicating cluster: its latest sample and the lag of the ones before.
#[derive(Clone)]
struct Entry {
    view: ReplicationView,
    history: VecDeque<LagPoint>,
}

/// How long after a cutover the sampler's "not running" is taken as the cutover's own stop.
const QUIET_STOP_FOR: Duration = Duration::from_secs(30);

/// Latest samples by cluster (clusters that are not replicating have none).
#[derive(Default, Clone)]
pub(crate) struct Samples {
    views: Arc<std::sync::Mutex<HashMap<ClusterId, Entry>>>,
    /// Clusters whose next "not running" transition a cutover already announced: `None`
    /// while the cutover waits, then when it stopped replication (the note expires after
    /// [`QUIET_STOP_FOR`], so a later, unrelated stop is not swallowed).
    quiet: Arc<std::sync::Mutex<HashMap<ClusterId, Option<Instant>>>>,
}

impl Samples {
    /// Stores (or clears) a cluster's view while its agent is `alive`.
    pub(crate) fn set(
        &self,
        cluster: &ClusterId,
        view: Option<ReplicationView>,
        alive: &AtomicBool,
    ) {
        let mut map = self.views.lock().expect("samples lock poisoned");
        if !alive.load(Ordering::SeqCst) {
            return;
        }
        match view {
            Some(view) => {
                let point = LagPoint {
                    at: view.sampled_at,
                    lag: view.lag,
                };
                let entry = map.entry(cluster.clone()).or_insert_with(|| Entry {
                    view: view.clone(),
                    history: VecDeque::with_capacity(HISTORY_POINTS),
                });
                if entry.history.len() == HISTORY_POINTS {
                    entry.history.pop_front();
                }
                entry.history.push_back(point);
                entry.view = view;
            }
            None => {
                map.remove(cluster);
            }
        }
    }

    /// Marks an agent dead and forgets its cluster's view, under the samples lock, so a task
    /// still finishing a step cannot store after this.
    pub(crate) fn retire(&self, cluster: &ClusterId, alive: &AtomicBool) {
        let mut map = self.views.lock().expect("samples lock poisoned");
        alive.store(false, Ordering::SeqCst);
        map.remove(cluster);
    }

    /// Notes that a cutover is stopping `cluster`'s replication (its event will say so);
    /// `done` once it has.
    pub(crate) fn quiet_stop(&self, cluster: &ClusterId, done: bool) {
        self.quiet_stop_at(cluster, done.then(Instant::now));
    }

    fn quiet_stop_at(&self, cluster: &ClusterId, done_at: Option<Instant>) {
        self.quiet
            .lock()
            .expect("quiet lock poisoned")
            .insert(cluster.clone(), done_at);
    }

    /// Whether a "not running" seen now is the cutover's own stop (and forgets the note).
    pub(crate) fn take_quiet_stop(&self, cluster: &ClusterId) -> bool {
        self.take_quiet_stop_at(cluster, Instant::now())
    }

    fn take_quiet_stop_at(&self, cluster: &ClusterId, now: Instant) -> bool {
        match self
            .quiet
            .lock()
            .expect("quiet lock poisoned")
            .remove(cluster)
        {
            Some(None) => true,
            Some(Some(at)) => now.saturating_duration_since(at) < QUIET_STOP_FOR,
            None => false,
        }
    }

    pub(crate) fn get(&self, cluster: &ClusterId) -> Option<ReplicationView> {
        self.views
            .lock()
            .expect("samples lock poisoned")
            .get(cluster)
            .map(|e| e.view.clone())
    }

    /// The cluster's lag over its last samples, oldest first (empty: not replicating).
    pub(crate) fn history(&self, cluster: &ClusterId) -> Vec<LagPoint> {
        self.views
            .lock()
            .expect("samples lock poisoned")
            .get(cluster)
            .map(|e| e.history.iter().copied().collect())
            .unwrap_or_default()
    }

    pub(crate) fn all(&self) -> Vec<(ClusterId, ReplicationView)> {
        let mut all: Vec<_> = self
            .views
            .lock()
            .expect("samples lock poisoned")
            .iter()
            .map(|(k, e)| (k.clone(), e.view.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid() -> ClusterId {
        ClusterId::new_unchecked("c1")
    }

    fn view(at_secs: i64, lag_ms: Option<u64>) -> ReplicationView {
        ReplicationView {
            sampled_at: OffsetDateTime::from_unix_timestamp(at_secs).unwrap(),
            source_host: "source".into(),
            source_port: 3306,
            source_user: "repl".into(),
            io_thread: ferry_replication::status::ThreadState::Yes,
            sql_thread_running: lag_ms.is_some(),
            seconds_behind_master: lag_ms.map(|ms| ms / 1000),
            lag: lag_ms.map(Duration::from_millis),
            lag_source: ferry_replication::monitor::LagSource::Heartbeat,
            read_log_file: "mysql-bin.000001".into(),
            read_log_position: 4,
            executed_log_file: "mysql-bin.000001".into(),
            executed_log_position: 4,
            source_log_file: None,
            source_log_position: None,
            using_gtid: false,
            gtid_io_pos: None,
            source_error: None,
            ssl: false,
            last_io_errno: 0,
            last_io_error: String::new(),
            last_sql_errno: 0,
            last_sql_error: String::new(),
        }
    }

    #[test]
    fn the_history_keeps_the_last_samples_lag_and_goes_with_the_sample() {
        let s = Samples::default();
        let alive = AtomicBool::new(true);
        let extra = 5;
        for i in 0..(HISTORY_POINTS + extra) as i64 {
            // Every tenth sample has no lag (SQL thread stopped): a gap in the chart.
            let lag = (i % 10 != 0).then_some(i as u64 * 10);
            s.set(&cid(), Some(view(i * 2, lag)), &alive);
        }
        let h = s.history(&cid());
        assert_eq!(h.len(), HISTORY_POINTS, "bounded");
        assert_eq!(
            h[0].at.unix_timestamp(),
            extra as i64 * 2,
            "oldest dropped first"
        );
        assert_eq!(h[0].lag, Some(Duration::from_millis(extra as u64 * 10)));
        let last = (HISTORY_POINTS + extra - 1) as i64;
        assert_eq!(h[HISTORY_POINTS - 1].at.unix_timestamp(), last * 2);
        assert_eq!(s.get(&cid()).unwrap().sampled_at.unix_timestamp(), last * 2);
        assert!(h.iter().any(|p| p.lag.is_none()));
        // Not replicating any more: the sample and its history go.
        s.set(&cid(), None, &alive);
        assert!(s.history(&cid()).is_empty() && s.get(&cid()).is_none());
        // A dead agent stores nothing.
        s.set(&cid(), Some(view(1, Some(1))), &alive);
        s.retire(&cid(), &alive);
        s.set(&cid(), Some(view(2, Some(1))), &alive);
        assert!(s.history(&cid()).is_empty());
    }

    #[test]
    fn a_cutovers_quiet_stop_holds_while_waiting_and_expires_after_it() {
        let s = Samples::default();
        let t0 = Instant::now();
        assert!(!s.take_quiet_stop_at(&cid(), t0), "nothing noted");
        // While the cutover waits, any stop is its own.
        s.quiet_stop_at(&cid(), None);
        assert!(s.take_quiet_stop_at(&cid(), t0 + Duration::from_secs(3600)));
        assert!(!s.take_quiet_stop_at(&cid(), t0), "taken once");
        // Once done, for QUIET_STOP_FOR only.
        s.quiet_stop_at(&cid(), Some(t0));
        assert!(s.take_quiet_stop_at(&cid(), t0 + QUIET_STOP_FOR - Duration::from_secs(1)));
        s.quiet_stop_at(&cid(), Some(t0));
        assert!(!s.take_quiet_stop_at(&cid(), t0 + QUIET_STOP_FOR));
    }
}
