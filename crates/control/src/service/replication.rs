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

    /// The cluster's lag over its last samples (up to [`crate::samples::HISTORY_POINTS`]),
    /// oldest first; empty when it is not replicating.
    pub fn replication_history(&self, cluster: &ClusterId) -> Vec<crate::samples::LagPoint> {
        self.ctx().samples.history(cluster)
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
        // A client's mistake is refused here, before any file of the cluster is read: a
        // cluster that is not available (a failed restore has no volume and no credentials)
        // or has no available instance.
        self.running_writer(&c, "cut over")?;
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
        ferry_base::fail_point!("cutover.before-stop");
        self.ctx().samples.quiet_stop(&c.id, false);
        let outcome =
            match ferry_replication::cutover::wait_and_stop(&mut conn, target, timeout).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    self.ctx().samples.take_quiet_stop(&c.id);
                    return Err(ControlError::InvalidClusterState(flatten(&e)));
                }
            };
        // Replication is stopped now. Should anything fail before the cutover's event, the
        // note is taken back, so the sampler's own "stopped" event tells what happened.
        let after_stop = || -> Result<(), ControlError> {
            ferry_base::fail_point!("cutover.after-stop");
            Ok(())
        };
        if let Err(e) = after_stop() {
            self.ctx().samples.take_quiet_stop(&c.id);
            return Err(e);
        }
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

    /// The cluster's available writer, for an action that needs a running server; else
    /// `InvalidDBClusterStateFault` naming the cluster and its status (or its instance's).
    pub(super) fn running_writer(&self, c: &Cluster, to: &str) -> Result<Instance, ControlError> {
        match c.status {
            ClusterStatus::Available => {}
            ClusterStatus::Creating
            | ClusterStatus::MigrationFailed
            | ClusterStatus::ResettingMasterCredentials
            | ClusterStatus::Deleting => {
                return Err(ControlError::InvalidClusterState(format!(
                    "DB cluster {} is not in the available state (it is {}): it cannot {to}.",
                    c.id,
                    c.status.as_str()
                )))
            }
        }
        let members = self.store().instances_of(&c.id)?;
        let Some(writer) = members.iter().find(|i| i.is_writer) else {
            return Err(ControlError::InvalidClusterState(format!(
                "DB cluster {} has no DB instance: it cannot {to}.",
                c.id
            )));
        };
        match writer.status {
            InstanceStatus::Available => Ok(writer.clone()),
            InstanceStatus::Creating
            | InstanceStatus::Starting
            | InstanceStatus::Failed
            | InstanceStatus::Deleting => Err(ControlError::InvalidClusterState(format!(
                "DB instance {} of DB cluster {} is {}: the cluster cannot {to} until it is available.",
                writer.id,
                c.id,
                writer.status.as_str()
            ))),
        }
    }
}
