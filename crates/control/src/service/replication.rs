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
        let (c, mut conn) = self.writer_admin_conn(cluster, "cut over").await?;
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

    /// Points the cluster at `source` and starts replication, by calling
    /// `mysql.rds_set_external_master` then `mysql.rds_start_replication` on its writer as
    /// ferry's admin: the same procedures (and so the same agent, checks, history and events)
    /// as the master user's own calls. Returns the procedures' messages.
    pub async fn start_replication(
        &self,
        cluster: &ClusterId,
        source: &ExternalSource,
    ) -> Result<Vec<String>, ControlError> {
        let (_, mut conn) = self.writer_admin_conn(cluster, "start replication").await?;
        // The CALL carries the source's password: keep it out of the server's general log
        // should that log ever be on (its table is readable from inside the cluster).
        {
            use mysql_async::prelude::Queryable;
            conn.query_drop("SET SESSION sql_log_off = 1")
                .await
                .map_err(|e| ControlError::Unexpected(format!("SET sql_log_off: {e}")))?;
        }
        let set: mysql_async::Params = (
            source.host.as_str(),
            source.port,
            source.user.as_str(),
            source.password.expose(),
            source.log_file.as_str(),
            source.log_position,
            u8::from(source.ssl),
        )
            .into();
        let mut messages = call_procedure(&mut conn, "rds_set_external_master", set).await?;
        messages.extend(
            call_procedure(
                &mut conn,
                "rds_start_replication",
                mysql_async::Params::Empty,
            )
            .await?,
        );
        let _ = mysql_async::Conn::disconnect(conn).await;
        Ok(messages)
    }

    /// The cluster and ferry's admin connection to its writer, for an action that works on
    /// the running server (`to`: what it does, for the refusals). A client's mistake is
    /// refused before any file of the cluster is read: a cluster that is not available (a
    /// failed restore has no volume and no credentials) or has no available instance.
    async fn writer_admin_conn(
        &self,
        cluster: &ClusterId,
        to: &str,
    ) -> Result<(Cluster, mysql_async::Conn), ControlError> {
        let c = self
            .store()
            .get_cluster(cluster)?
            .ok_or_else(|| ControlError::ClusterNotFound(cluster.to_string()))?;
        self.running_writer(&c, to)?;
        let admin = secrets::read_admin(self.layout(), &c.id)?;
        let conn = self
            .inner
            .supervisor
            .admin_conn(&c.id, &admin)
            .await?
            .ok_or_else(|| {
                ControlError::InvalidClusterState(format!(
                    "DB cluster {} has no running instance to {to}",
                    c.id
                ))
            })?;
        Ok((c, conn))
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

/// Where a cluster replicates from, as `mysql.rds_set_external_master` takes it.
pub struct ExternalSource {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: ferry_base::Secret,
    pub log_file: String,
    pub log_position: u64,
    /// Replicate over TLS (`ssl_encryption` 1).
    pub ssl: bool,
}

/// `CALL mysql.<procedure>(params)`: the `Message` column of every row it returns; a refusal
/// (the procedure's `SIGNAL`) is [`ControlError::ReplicationRefused`] with its text.
async fn call_procedure(
    conn: &mut mysql_async::Conn,
    procedure: &str,
    params: mysql_async::Params,
) -> Result<Vec<String>, ControlError> {
    use mysql_async::prelude::Queryable;
    let marks = match &params {
        mysql_async::Params::Positional(p) => vec!["?"; p.len()].join(", "),
        _ => String::new(),
    };
    let sql = format!("CALL mysql.{procedure}({marks})");
    let refused = |e: mysql_async::Error| match e {
        mysql_async::Error::Server(s) => ControlError::ReplicationRefused {
            procedure: procedure.to_owned(),
            message: s.message,
        },
        other => ControlError::Unexpected(format!("CALL mysql.{procedure}: {other}")),
    };
    let mut result = conn.exec_iter(sql, params).await.map_err(refused)?;
    let mut messages = Vec::new();
    loop {
        let rows: Vec<mysql_async::Row> = result.collect().await.map_err(refused)?;
        for mut r in rows {
            if let Some(Ok(m)) = r.take_opt::<String, _>("Message") {
                messages.push(m);
            }
        }
        if result.is_empty() {
            break;
        }
    }
    Ok(messages)
}
