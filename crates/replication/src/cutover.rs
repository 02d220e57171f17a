//! The last step of a migration: wait until the cluster has executed everything the source
//! wrote, then stop replication.
//!
//! "Caught up" by `Seconds_Behind_Master = 0` is not enough (it is 0 on an idle link that lost
//! its source). Cutover waits for a *position*: the caller reads the source's position (after
//! setting it read-only, so it stops moving) and [`wait_and_stop`] waits until the replica has
//! executed up to it, with `MASTER_GTID_WAIT` when the link uses GTID and the position has one
//! (exact across binlog rotations and reconnects), else `MASTER_POS_WAIT` on the source's file
//! and offset. It waits in slices of [`WAIT_SLICE`], reading `SHOW SLAVE STATUS` between
//! them, so a replica that breaks during the wait is reported at once with its error rather
//! than after the whole timeout. Then `STOP SLAVE`, and the call is recorded in
//! `mysql.rds_history` (action `cutover`) and `mysql.rds_replication_status` (`stopped`), so
//! replication is not resumed after a restart.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use tokio::time::Instant;

use crate::agent::record::{self, HistoryRow, IntendedState, StateRow};
use crate::agent::FERRY_CALLER;
use crate::error::ReplicationError;
use crate::source::{BinlogCoord, SourcePosition};
use crate::status::{self, ReplicaStatus};

/// The longest single `MASTER_*_WAIT` call.
pub const WAIT_SLICE: Duration = Duration::from_secs(1);

/// How the wait knew the target was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitMethod {
    /// `MASTER_GTID_WAIT(<source's gtid_binlog_pos>)`.
    Gtid,
    /// `MASTER_POS_WAIT(<file>, <position>)`.
    Position,
}

/// Where replication stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoverOutcome {
    /// The replica's executed position in the source's coordinates
    /// (`Relay_Master_Log_File:Exec_Master_Log_Pos`) after `STOP SLAVE`.
    pub executed: BinlogCoord,
    /// `@@gtid_slave_pos` after `STOP SLAVE` (`None` when empty).
    pub gtid: Option<String>,
    pub method: WaitMethod,
    /// How long the wait took (from the call to the target being reached).
    pub waited: Duration,
}

/// Waits until the replica on `conn` (ferry's admin connection) has executed up to `target`,
/// at most `timeout` (by position, up to a second more: that wait takes whole seconds), then
/// stops replication and records it. On timeout replication keeps running and
/// [`ReplicationError::Timeout`] says how far it got; a replica that is not configured, not
/// running or breaks during the wait is [`ReplicationError::NotConfigured`] /
/// [`ReplicationError::NotRunning`] (with the thread's error).
pub async fn wait_and_stop(
    conn: &mut mysql_async::Conn,
    target: &SourcePosition,
    timeout: Duration,
) -> Result<CutoverOutcome, ReplicationError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let status = check_running(conn).await?;
    let gtid_target = target
        .gtid
        .as_deref()
        .filter(|gtid| !gtid.trim().is_empty() && status.using_gtid.is_gtid());
    let method = match gtid_target {
        Some(_) => WaitMethod::Gtid,
        None => WaitMethod::Position,
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let reached = match gtid_target {
            Some(gtid) => {
                let slice = left.min(WAIT_SLICE).as_secs_f64().max(0.001);
                let result: Option<Option<i64>> = conn
                    .exec_first("SELECT MASTER_GTID_WAIT(?, ?)", (gtid, slice))
                    .await
                    .map_err(replica_error(
                        "wait for the source's GTID (MASTER_GTID_WAIT)",
                    ))?;
                result.flatten() == Some(0)
            }
            None => {
                let result: Option<Option<i64>> = conn
                    .exec_first(
                        "SELECT MASTER_POS_WAIT(?, ?, ?)",
                        (&target.coord.file, target.coord.pos, pos_wait_seconds(left)),
                    )
                    .await
                    .map_err(replica_error(
                        "wait for the source's position (MASTER_POS_WAIT)",
                    ))?;
                // NULL: the SQL thread is not running; checked below.
                result.flatten().is_some_and(|events| events >= 0)
            }
        };
        if reached {
            break;
        }
        let now = check_running(conn).await?;
        if Instant::now() >= deadline {
            let executed = BinlogCoord::new(now.relay_master_log_file, now.exec_master_log_pos);
            return Err(ReplicationError::Timeout(format!(
                "the cluster had not executed up to the source's position {}{} within {} s \
                 (it is at {executed}); replication keeps running",
                target.coord,
                gtid_target
                    .map(|gtid| format!(" (GTID {gtid})"))
                    .unwrap_or_default(),
                timeout.as_secs()
            )));
        }
    }
    let waited = started.elapsed();

    conn.query_drop("STOP SLAVE")
        .await
        .map_err(replica_error("stop replication (STOP SLAVE)"))?;
    let after = status::read(conn)
        .await?
        .ok_or(ReplicationError::NotConfigured)?;
    let executed = BinlogCoord::new(
        after.relay_master_log_file.clone(),
        after.exec_master_log_pos,
    );
    let gtid: Option<String> = conn
        .query_first("SELECT @@GLOBAL.gtid_slave_pos")
        .await
        .map_err(replica_error("read gtid_slave_pos"))?;
    let gtid = gtid.filter(|g| !g.is_empty());
    // Recorded first: replication is stopped whatever follows, and must stay stopped across a
    // restart.
    record_cutover(conn, target, &after, &executed, gtid.as_deref(), waited).await?;
    if method == WaitMethod::Position && executed < target.coord {
        return Err(ReplicationError::Unexpected(format!(
            "MASTER_POS_WAIT reported {} reached, but after STOP SLAVE the replica is at \
             {executed}; replication is stopped",
            target.coord
        )));
    }
    tracing::info!(executed = %executed, gtid = gtid.as_deref().unwrap_or(""), waited_ms = waited.as_millis() as u64, "cutover: replication stopped at the source's position");
    Ok(CutoverOutcome {
        executed,
        gtid,
        method,
        waited,
    })
}

/// The timeout of one `MASTER_POS_WAIT` slice, in whole seconds from 1 to [`WAIT_SLICE`].
/// MariaDB reads that argument as an integer, rounding, and 0 means "no timeout": a slice of
/// 0.4 s would wait until the position is reached, however long that takes.
fn pos_wait_seconds(left: Duration) -> u64 {
    let whole = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    whole.clamp(1, WAIT_SLICE.as_secs().max(1))
}

fn replica_error(what: &'static str) -> impl FnOnce(mysql_async::Error) -> ReplicationError {
    move |source| ReplicationError::Replica {
        what: what.to_owned(),
        source,
    }
}

/// The status, if replication is configured, running and without an error.
async fn check_running(conn: &mut mysql_async::Conn) -> Result<ReplicaStatus, ReplicationError> {
    let status = status::read(conn)
        .await?
        .ok_or(ReplicationError::NotConfigured)?;
    if let Some(error) = status.error_text() {
        return Err(ReplicationError::NotRunning { error: Some(error) });
    }
    if !status.sql_running {
        return Err(ReplicationError::NotRunning { error: None });
    }
    Ok(status)
}

/// History and state rows, with binary logging off for those two statements only (the
/// session's setting is restored).
async fn record_cutover(
    conn: &mut mysql_async::Conn,
    target: &SourcePosition,
    after: &ReplicaStatus,
    executed: &BinlogCoord,
    gtid: Option<&str>,
    waited: Duration,
) -> Result<(), ReplicationError> {
    let saved: Option<i64> = conn
        .query_first("SELECT @@session.sql_log_bin")
        .await
        .map_err(replica_error("read sql_log_bin"))?;
    record::without_binlog(conn).await?;
    let arguments = serde_json::json!({
        "source_file": target.coord.file,
        "source_position": target.coord.pos,
        "source_gtid": target.gtid,
    })
    .to_string();
    let message = format!(
        "Replication stopped for cutover at {executed}{} after waiting {:.1} s for the \
         source's position {}.",
        gtid.map(|g| format!(" (GTID {g})")).unwrap_or_default(),
        waited.as_secs_f64(),
        target.coord
    );
    let result = async {
        record::state(
            conn,
            FERRY_CALLER,
            "cutover",
            &StateRow::from_status(IntendedState::Stopped, after),
        )
        .await?;
        record::history(
            conn,
            &HistoryRow {
                called_at: None,
                caller: FERRY_CALLER,
                action: "cutover",
                arguments: &arguments,
                ok: true,
                message: &message,
            },
        )
        .await
    }
    .await;
    if saved != Some(0) {
        conn.query_drop("SET SESSION sql_log_bin = 1")
            .await
            .map_err(replica_error("restore sql_log_bin"))?;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_waits_never_ask_for_zero_seconds() {
        for (left_ms, seconds) in [(0, 1), (1, 1), (400, 1), (999, 1), (1000, 1), (5000, 1)] {
            assert_eq!(
                pos_wait_seconds(Duration::from_millis(left_ms)),
                seconds,
                "{left_ms} ms left"
            );
        }
    }
}
