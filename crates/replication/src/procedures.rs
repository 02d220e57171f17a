//! The `mysql.rds_*` procedures and the tables behind them, and their installation.
//!
//! Why procedures at all: a cluster's master user has no `SUPER` and cannot run
//! `CHANGE MASTER`; as on RDS, stored procedures owned by an account that can are its only
//! door. In ferry each procedure is a one-line `SQL SECURITY DEFINER` routine owned by ferry's
//! admin account that hands the call to a private helper, `mysql.ferry_rds_request`, which
//! writes a request row into the in-memory table `mysql.rds_agent_request` and waits for
//! ferry's agent ([`crate::agent`]) to answer it: the real work (validation, `CHANGE MASTER`,
//! SSL files) happens in Rust. The SQL text is in the private `sql` submodule.
//!
//! Tables (all in `mysql`, which the master user can read but not write):
//!
//! - `rds_agent_request` (`ENGINE=MEMORY`: never on disk, empty after a restart): calls in
//!   flight. Its arguments (which may hold a password or a private key) are blanked by the
//!   agent the moment it claims a row, and the row is deleted when the call returns.
//! - `rds_history` (InnoDB): one row per call: when, who, which action, the arguments without
//!   passwords or key material, the outcome and message, how long it took.
//! - `rds_replication_status` (InnoDB): one row per change of the replication's intended
//!   state (`set`, `started`, `stopped`, `reset`), the newest row wins; the agent reads it
//!   after a server start to resume replication that was running.
//!
//! Nothing here reaches the cluster's binary log: installation runs with `sql_log_bin = 0`,
//! the procedures turn it off around their own writes, and the agent's session has it off.

mod sql;

use mysql_async::prelude::Queryable;

use crate::error::ReplicationError;

pub use sql::{AGENT_TIMEOUT_SECS, MAX_ARGS_CHARS, MAX_MESSAGE_CHARS};

/// The schema everything lives in.
pub const SCHEMA: &str = "mysql";
/// Calls in flight (`ENGINE=MEMORY`).
pub const REQUEST_TABLE: &str = "rds_agent_request";
/// One row per call.
pub const HISTORY_TABLE: &str = "rds_history";
/// One row per change of the intended replication state.
pub const STATUS_TABLE: &str = "rds_replication_status";
/// The private helper every public procedure calls; granted to nobody.
pub const HELPER_PROCEDURE: &str = "ferry_rds_request";

/// What a caller asks for: one per public procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SetExternalMaster,
    SetExternalMasterWithAutoPosition,
    StartReplication,
    StopReplication,
    ResetExternalMaster,
    SkipReplError,
    NextMasterLog,
    ImportBinlogSslMaterial,
    RemoveBinlogSslMaterial,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::SetExternalMaster,
        Action::SetExternalMasterWithAutoPosition,
        Action::StartReplication,
        Action::StopReplication,
        Action::ResetExternalMaster,
        Action::SkipReplError,
        Action::NextMasterLog,
        Action::ImportBinlogSslMaterial,
        Action::RemoveBinlogSslMaterial,
    ];

    /// The procedure's name in `mysql`.
    pub fn procedure(self) -> &'static str {
        match self {
            Action::SetExternalMaster => "rds_set_external_master",
            Action::SetExternalMasterWithAutoPosition => {
                "rds_set_external_master_with_auto_position"
            }
            Action::StartReplication => "rds_start_replication",
            Action::StopReplication => "rds_stop_replication",
            Action::ResetExternalMaster => "rds_reset_external_master",
            Action::SkipReplError => "rds_skip_repl_error",
            Action::NextMasterLog => "rds_next_master_log",
            Action::ImportBinlogSslMaterial => "rds_import_binlog_ssl_material",
            Action::RemoveBinlogSslMaterial => "rds_remove_binlog_ssl_material",
        }
    }

    /// The name written into request and history rows: the procedure's without `rds_`.
    pub fn as_str(self) -> &'static str {
        let name = self.procedure();
        name.strip_prefix("rds_").unwrap_or(name)
    }

    /// The action a request row names.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == name)
    }
}

/// The names of the public procedures, in `mysql`.
pub const PROCEDURES: &[&str] = &[
    "rds_set_external_master",
    "rds_set_external_master_with_auto_position",
    "rds_start_replication",
    "rds_stop_replication",
    "rds_reset_external_master",
    "rds_skip_repl_error",
    "rds_next_master_log",
    "rds_import_binlog_ssl_material",
    "rds_remove_binlog_ssl_material",
];

/// What [`install_with_report`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallReport {
    /// Routines created or replaced because they were missing or their text had changed.
    pub created_routines: Vec<String>,
    /// Whether the request table was (re)created (a new server, or a new definition).
    pub recreated_request_table: bool,
}

/// Creates the tables and procedures (idempotent) and grants `EXECUTE` on every public
/// procedure to each `(user, host)` in `grantees` (the master user). See
/// [`install_with_report`].
pub async fn install(
    conn: &mut mysql_async::Conn,
    grantees: &[(&str, &str)],
) -> Result<(), ReplicationError> {
    install_with_report(conn, grantees).await.map(|_| ())
}

/// [`install`], telling what changed.
///
/// `conn` must be ferry's admin account (the procedures' definer). Routines are re-created
/// only when missing or when their text, definer or security differ from this build's (each
/// carries a hash of its text in its comment); `CREATE OR REPLACE PROCEDURE` keeps the
/// `EXECUTE` grants on MariaDB 10.11 (only `DROP PROCEDURE` removes them), and the grants are
/// re-issued anyway. The history and status tables are created if missing and never dropped;
/// the request table is re-created when its definition changed. The session's `sql_log_bin`
/// and `sql_mode` are set for the installation and restored afterwards.
pub async fn install_with_report(
    conn: &mut mysql_async::Conn,
    grantees: &[(&str, &str)],
) -> Result<InstallReport, ReplicationError> {
    for (user, host) in grantees {
        if user.is_empty() || user.chars().chain(host.chars()).any(char::is_control) {
            return Err(ReplicationError::InvalidArgument(
                "a grantee of the replication procedures has an empty user name or control \
                 characters"
                    .to_owned(),
            ));
        }
    }
    let saved: Option<(i64, String)> = run_first(
        conn,
        "SELECT @@session.sql_log_bin, @@session.sql_mode",
        "read the session's sql_log_bin and sql_mode",
    )
    .await?;
    let (saved_log_bin, saved_mode) = saved.ok_or_else(|| {
        ReplicationError::Unexpected("SELECT @@session.sql_log_bin returned no row".to_owned())
    })?;
    run(
        conn,
        format!(
            "SET SESSION sql_log_bin = 0, SESSION sql_mode = '{}'",
            sql::SQL_MODE
        ),
        "prepare the session for installing the replication procedures",
    )
    .await?;
    let result = install_inner(conn, grantees).await;
    let restore = format!(
        "SET SESSION sql_log_bin = {}, SESSION sql_mode = {}",
        if saved_log_bin == 0 { 0 } else { 1 },
        mysql_async::Value::from(saved_mode).as_sql(false)
    );
    let restored = run(
        conn,
        restore,
        "restore the session's sql_log_bin and sql_mode",
    )
    .await;
    let report = result?;
    restored?;
    Ok(report)
}

async fn install_inner(
    conn: &mut mysql_async::Conn,
    grantees: &[(&str, &str)],
) -> Result<InstallReport, ReplicationError> {
    let mut report = InstallReport::default();
    for statement in sql::persistent_tables() {
        run(conn, statement, "create a replication table").await?;
    }
    let request_comment: Option<String> = run_first(
        conn,
        format!(
            "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{SCHEMA}' \
             AND TABLE_NAME = '{REQUEST_TABLE}'"
        ),
        "look up the request table",
    )
    .await?;
    let wanted_comment = sql::request_table_comment();
    if request_comment.as_deref() != Some(wanted_comment.as_str()) {
        run(
            conn,
            format!("DROP TABLE IF EXISTS {SCHEMA}.{REQUEST_TABLE}"),
            "drop the outdated request table",
        )
        .await?;
        run(conn, sql::request_table(), "create the request table").await?;
        report.recreated_request_table = true;
    }
    // Open the MEMORY table now, with sql_log_bin off: the first open after a server start
    // writes a `TRUNCATE TABLE` to the binary log of whichever session does it.
    run(
        conn,
        format!("SELECT COUNT(*) FROM {SCHEMA}.{REQUEST_TABLE}"),
        "open the request table",
    )
    .await?;

    let existing: Vec<(String, String, String, String)> = conn
        .query(format!(
            "SELECT ROUTINE_NAME, ROUTINE_COMMENT, DEFINER, SECURITY_TYPE \
             FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = '{SCHEMA}' AND ROUTINE_TYPE = 'PROCEDURE'"
        ))
        .await
        .map_err(replica_error("list the procedures in mysql"))?;
    let definer = sql::definer_for_information_schema();
    for routine in sql::routines() {
        let current = existing
            .iter()
            .find(|(name, ..)| name.eq_ignore_ascii_case(&routine.name));
        let up_to_date = matches!(current, Some((_, comment, who, security))
            if *comment == routine.comment && *who == definer && security == "DEFINER");
        if up_to_date {
            continue;
        }
        run(
            conn,
            routine.create.clone(),
            "create a replication procedure",
        )
        .await
        .map_err(|error| match error {
            ReplicationError::Replica { source, .. } => ReplicationError::Replica {
                what: format!("CREATE PROCEDURE {SCHEMA}.{}", routine.name),
                source,
            },
            other => other,
        })?;
        report.created_routines.push(routine.name.clone());
    }

    for (user, host) in grantees {
        let account = format!(
            "{}@{}",
            mysql_async::Value::from(*user).as_sql(false),
            mysql_async::Value::from(*host).as_sql(false)
        );
        for procedure in PROCEDURES {
            run(
                conn,
                format!("GRANT EXECUTE ON PROCEDURE {SCHEMA}.{procedure} TO {account}"),
                "grant EXECUTE on a replication procedure to the master user",
            )
            .await?;
        }
    }
    if !report.created_routines.is_empty() || report.recreated_request_table {
        tracing::info!(
            routines = ?report.created_routines,
            request_table = report.recreated_request_table,
            "replication procedures installed"
        );
    }
    Ok(report)
}

fn replica_error(what: &str) -> impl FnOnce(mysql_async::Error) -> ReplicationError + '_ {
    move |source| ReplicationError::Replica {
        what: what.to_owned(),
        source,
    }
}

async fn run(
    conn: &mut mysql_async::Conn,
    statement: String,
    what: &str,
) -> Result<(), ReplicationError> {
    conn.query_drop(statement)
        .await
        .map_err(replica_error(what))
}

async fn run_first<T: mysql_async::prelude::FromRow + Send + 'static>(
    conn: &mut mysql_async::Conn,
    statement: impl AsRef<str>,
    what: &str,
) -> Result<Option<T>, ReplicationError> {
    conn.query_first(statement.as_ref())
        .await
        .map_err(replica_error(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_procedure_names_agree() {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.procedure()).collect();
        assert_eq!(names, PROCEDURES);
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
            assert!(action.as_str().len() <= 64);
        }
        assert_eq!(
            Action::parse("set_external_master"),
            Some(Action::SetExternalMaster)
        );
        assert_eq!(Action::parse("drop_everything"), None);
    }
}
