//! Writing `mysql.rds_history` and `mysql.rds_replication_status`, and reading the intended
//! state back. Always on a session with `sql_log_bin = 0` ([`without_binlog`]): the record is
//! the cluster's own business and must not reach its binary log (or a replica of it).

use mysql_async::prelude::Queryable;

use crate::error::ReplicationError;
use crate::procedures::{HISTORY_TABLE, SCHEMA, STATUS_TABLE};

/// The intended replication state after an action (`rds_replication_status.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntendedState {
    Set,
    Started,
    Stopped,
    Reset,
}

impl IntendedState {
    fn as_str(self) -> &'static str {
        match self {
            IntendedState::Set => "set",
            IntendedState::Started => "started",
            IntendedState::Stopped => "stopped",
            IntendedState::Reset => "reset",
        }
    }

    fn parse(text: &str) -> Option<IntendedState> {
        [
            IntendedState::Set,
            IntendedState::Started,
            IntendedState::Stopped,
            IntendedState::Reset,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One row of `rds_replication_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRow {
    pub state: IntendedState,
    pub master_host: Option<String>,
    pub master_port: Option<u16>,
    pub master_log_file: Option<String>,
    pub master_log_pos: Option<u64>,
    pub using_gtid: Option<bool>,
    pub ssl: Option<bool>,
}

impl StateRow {
    pub fn bare(state: IntendedState) -> StateRow {
        StateRow {
            state,
            master_host: None,
            master_port: None,
            master_log_file: None,
            master_log_pos: None,
            using_gtid: None,
            ssl: None,
        }
    }

    /// A row describing the link `status` shows.
    pub fn from_status(state: IntendedState, status: &crate::status::ReplicaStatus) -> StateRow {
        StateRow {
            state,
            master_host: Some(status.master_host.clone()),
            master_port: Some(status.master_port),
            master_log_file: Some(status.relay_master_log_file.clone()),
            master_log_pos: Some(status.exec_master_log_pos),
            using_gtid: Some(status.using_gtid.is_gtid()),
            ssl: Some(status.master_ssl_allowed),
        }
    }
}

/// One history row. `called_at` is the server time of the call (`None`: now).
#[derive(Debug, Clone)]
pub struct HistoryRow<'a> {
    pub called_at: Option<&'a str>,
    pub caller: &'a str,
    pub action: &'a str,
    pub arguments: &'a str,
    pub ok: bool,
    pub message: &'a str,
}

fn replica_error(what: &'static str) -> impl FnOnce(mysql_async::Error) -> ReplicationError {
    move |source| ReplicationError::Replica {
        what: what.to_owned(),
        source,
    }
}

/// Turns binary logging off for `conn`'s session (the agent's connection keeps it off).
pub async fn without_binlog(conn: &mut mysql_async::Conn) -> Result<(), ReplicationError> {
    conn.query_drop("SET SESSION sql_log_bin = 0")
        .await
        .map_err(replica_error(
            "turn off binary logging for the agent's session",
        ))
}

/// Appends a history row. The session must have `sql_log_bin = 0`.
pub async fn history(
    conn: &mut mysql_async::Conn,
    row: &HistoryRow<'_>,
) -> Result<(), ReplicationError> {
    let arguments: String = row.arguments.chars().take(2000).collect();
    let message: String = row.message.chars().take(1000).collect();
    conn.exec_drop(
        format!(
            "INSERT INTO {SCHEMA}.{HISTORY_TABLE} \
             (called_at, caller, action, arguments, result, message, duration_ms) \
             VALUES (COALESCE(?, NOW(6)), ?, ?, ?, ?, ?, \
             GREATEST(0, TIMESTAMPDIFF(MICROSECOND, COALESCE(?, NOW(6)), NOW(6)) DIV 1000))"
        ),
        (
            row.called_at,
            row.caller,
            row.action,
            arguments,
            if row.ok { "ok" } else { "error" },
            message,
            row.called_at,
        ),
    )
    .await
    .map_err(replica_error("record the call in mysql.rds_history"))
}

/// Appends a replication state row. The session must have `sql_log_bin = 0`.
pub async fn state(
    conn: &mut mysql_async::Conn,
    caller: &str,
    action: &str,
    row: &StateRow,
) -> Result<(), ReplicationError> {
    conn.exec_drop(
        format!(
            "INSERT INTO {SCHEMA}.{STATUS_TABLE} (called_at, caller, action, state, master_host, \
             master_port, master_log_file, master_log_pos, using_gtid, ssl_encryption) \
             VALUES (NOW(6), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        (
            caller,
            action,
            row.state.as_str(),
            row.master_host.as_deref(),
            row.master_port,
            row.master_log_file.as_deref(),
            row.master_log_pos,
            row.using_gtid,
            row.ssl,
        ),
    )
    .await
    .map_err(replica_error(
        "record the state in mysql.rds_replication_status",
    ))
}

/// The newest intended state; `None` when nothing was recorded (or the table is missing:
/// the procedures were never installed).
pub async fn latest_state(
    conn: &mut mysql_async::Conn,
) -> Result<Option<IntendedState>, ReplicationError> {
    let result: Result<Option<String>, _> = conn
        .query_first(format!(
            "SELECT state FROM {SCHEMA}.{STATUS_TABLE} ORDER BY id DESC LIMIT 1"
        ))
        .await;
    match result {
        Ok(state) => Ok(state.as_deref().and_then(IntendedState::parse)),
        Err(mysql_async::Error::Server(error)) if error.code == ER_NO_SUCH_TABLE => Ok(None),
        Err(source) => Err(replica_error("read mysql.rds_replication_status")(source)),
    }
}

pub(crate) const ER_NO_SUCH_TABLE: u16 = 1146;
