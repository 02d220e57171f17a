//! Replication as the API sees it: the latest samples and the cutover.

use std::time::Duration;

use ferry_base::error::flatten;
use ferry_replication::source::SourcePosition;

use super::*;
use ferry_replication::view::ReplicationView;

impl ControlPlane {
    /// The latest replication sample of a cluster (`None`: not replicating, or no instance).
    pub fn replication_view(&self, cluster: &ClusterId) -> Option<ReplicationView> {
        self.ctx().samples.get(cluster)
    }

    /// Every replicating cluster's latest sample, by cluster identifier.
    pub fn replication_views(&self) -> Vec<(ClusterId, ReplicationView)> {
        self.ctx().samples.all()
    }

    /// Waits until the cluster has executed the source up to `target`, then stops
    /// replication (recorded like `mysql.rds_stop_replication`, so it stays stopped across
    /// restarts).
    pub async fn cutover(
        &self,
        cluster: &ClusterId,
        target: &SourcePosition,
        timeout: Duration,
    ) -> Result<ferry_replication::cutover::CutoverOutcome, ControlError> {
        let c = self
            .store()
            .get_cluster(cluster)?
            .ok_or_else(|| ControlError::ClusterNotFound(cluster.to_string()))?;
        let admin = secrets::read_admin(self.layout(), &c.id)?;
        let mut conn = self
            .inner
            .supervisor
            .admin_conn(&c.id, &admin)
            .await?
            .ok_or_else(|| {
                ControlError::InvalidClusterState(format!(
                    "DB cluster {} has no running instance to cut over",
                    c.id
                ))
            })?;
        // Before the wait, not after: the sampler may see the stop the moment `STOP SLAVE`
        // returns, and the cutover's own event below says it. Taken back if the cutover fails.
        self.ctx().samples.quiet_stop(&c.id, false);
        let outcome =
            match ferry_replication::cutover::wait_and_stop(&mut conn, target, timeout).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    self.ctx().samples.take_quiet_stop(&c.id);
                    return Err(ControlError::InvalidClusterState(flatten(&e)));
                }
            };
        self.ctx().samples.quiet_stop(&c.id, true);
        self.ctx().cluster_event(
            &c.id,
            ClusterEvent::Cutover {
                file: &outcome.executed.file,
                position: outcome.executed.pos,
            },
        );
        Ok(outcome)
    }
}
