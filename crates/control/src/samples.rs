//! The latest replication sample of each replicating cluster, as the API, the CLI and
//! `/metrics` read it, and the notes a cutover leaves for the sampler. Written by the
//! replication agents ([`crate::replication`]), read by the service.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_replication::view::ReplicationView;

use crate::model::ClusterId;

/// How long after a cutover the sampler's "not running" is taken as the cutover's own stop.
const QUIET_STOP_FOR: Duration = Duration::from_secs(30);

/// Latest samples by cluster (clusters that are not replicating have none).
#[derive(Default, Clone)]
pub(crate) struct Samples {
    views: Arc<std::sync::Mutex<HashMap<ClusterId, ReplicationView>>>,
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
                map.insert(cluster.clone(), view);
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
            .cloned()
    }

    pub(crate) fn all(&self) -> Vec<(ClusterId, ReplicationView)> {
        let mut all: Vec<_> = self
            .views
            .lock()
            .expect("samples lock poisoned")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
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
