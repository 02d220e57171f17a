//! The agent's side of `mysql.rds_agent_request`: finding calls, claiming them (which blanks
//! their arguments at once), answering them, and clearing rows nobody waits for any more.

use std::collections::HashSet;

use ferry_base::Secret;
use mysql_async::prelude::Queryable;

use super::messages;
use crate::error::ReplicationError;
use crate::procedures::{AGENT_TIMEOUT_SECS, REQUEST_TABLE, SCHEMA};

/// Answered rows whose caller still runs a statement but not this call any more (it deletes
/// its own row otherwise) are removed after this long.
const ANSWERED_ROW_TTL_SECS: u32 = 600;

/// A call, as claimed. The arguments are a [`Secret`]: they may hold a password or a key.
#[derive(Debug)]
pub struct Request {
    pub id: u64,
    pub action: String,
    pub caller: String,
    /// Server time of the call, as the server prints it.
    pub created_at: String,
    pub args: Secret,
}

/// `id, action, caller, connection_id, state, created_at, args, expired`.
type Row = (u64, String, String, u64, String, String, String, bool);

fn replica_error(what: &'static str) -> impl FnOnce(mysql_async::Error) -> ReplicationError {
    move |source| ReplicationError::Replica {
        what: what.to_owned(),
        source,
    }
}

/// Claims every pending call whose caller still waits for it, oldest first, after clearing
/// rows nobody waits for and failing rows an earlier agent run claimed but never answered.
/// The session must have `sql_log_bin = 0`.
///
/// A caller waits while its connection runs the procedure. A call interrupted by the caller
/// (Ctrl-C in the client sends `KILL QUERY`) leaves its row behind: a connection that is gone
/// or idle (`Sleep`) abandoned its call, and so did one whose call is older than the
/// procedure's own deadline. Such a call is dropped, never performed later: a reset the user
/// gave up on must not happen minutes afterwards, when ferry's agent comes back.
pub async fn claim_pending(conn: &mut mysql_async::Conn) -> Result<Vec<Request>, ReplicationError> {
    let rows: Vec<Row> = conn
        .query(format!(
            "SELECT id, action, caller, connection_id, state, \
             DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), args, \
             created_at < NOW(6) - INTERVAL {AGENT_TIMEOUT_SECS} SECOND \
             FROM {SCHEMA}.{REQUEST_TABLE} ORDER BY id"
        ))
        .await
        .map_err(replica_error("read mysql.rds_agent_request"))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let waiting: HashSet<u64> = conn
        .query::<u64, _>("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Sleep'")
        .await
        .map_err(replica_error("list the server's connections"))?
        .into_iter()
        .collect();

    let mut claimed = Vec::new();
    for (id, action, caller, connection_id, state, created_at, args, expired) in rows {
        if !waiting.contains(&connection_id) || (state == "pending" && expired) {
            delete(conn, id).await?;
            continue;
        }
        match state.as_str() {
            "pending" => {
                conn.exec_drop(
                    format!(
                        "UPDATE {SCHEMA}.{REQUEST_TABLE} SET state = 'working', args = '' \
                         WHERE id = ? AND state = 'pending'"
                    ),
                    (id,),
                )
                .await
                .map_err(replica_error("claim a call in mysql.rds_agent_request"))?;
                if conn.affected_rows() == 1 {
                    claimed.push(Request {
                        id,
                        action,
                        caller,
                        created_at,
                        args: args.into(),
                    });
                }
            }
            // Every call this agent claims is answered before `serve` returns, so a row still
            // `working` was claimed by a run that died or lost its connection.
            "working" => answer(conn, id, false, messages::LOST).await?,
            _ => {
                conn.exec_drop(
                    format!(
                        "DELETE FROM {SCHEMA}.{REQUEST_TABLE} WHERE id = ? \
                         AND created_at < NOW(6) - INTERVAL {ANSWERED_ROW_TTL_SECS} SECOND"
                    ),
                    (id,),
                )
                .await
                .map_err(replica_error(
                    "clear an old answer in mysql.rds_agent_request",
                ))?;
            }
        }
    }
    Ok(claimed)
}

/// Opens the request table (a `SELECT`), so that its first open after a server start happens
/// on this session, whose `sql_log_bin` is 0: that open writes `TRUNCATE TABLE` to the binary
/// log of the session that does it. Fine when the table does not exist (not installed yet).
pub async fn open_table(conn: &mut mysql_async::Conn) -> Result<(), ReplicationError> {
    let opened: Result<Option<u64>, _> = conn
        .query_first(format!("SELECT COUNT(*) FROM {SCHEMA}.{REQUEST_TABLE}"))
        .await;
    match opened {
        Ok(_) => Ok(()),
        Err(mysql_async::Error::Server(error)) if error.code == super::record::ER_NO_SUCH_TABLE => {
            Ok(())
        }
        Err(source) => Err(replica_error("open mysql.rds_agent_request")(source)),
    }
}

/// Answers a call: `ok` sets `done` (the message is shown as rows), otherwise `failed` (the
/// message is `SIGNAL`led). The message is cut to fit a `SIGNAL`.
pub async fn answer(
    conn: &mut mysql_async::Conn,
    id: u64,
    ok: bool,
    message: &str,
) -> Result<(), ReplicationError> {
    conn.exec_drop(
        format!("UPDATE {SCHEMA}.{REQUEST_TABLE} SET state = ?, message = ? WHERE id = ?"),
        (
            if ok { "done" } else { "failed" },
            messages::fit(message),
            id,
        ),
    )
    .await
    .map_err(replica_error("answer a call in mysql.rds_agent_request"))
}

async fn delete(conn: &mut mysql_async::Conn, id: u64) -> Result<(), ReplicationError> {
    conn.exec_drop(
        format!("DELETE FROM {SCHEMA}.{REQUEST_TABLE} WHERE id = ?"),
        (id,),
    )
    .await
    .map_err(replica_error(
        "clear an abandoned call in mysql.rds_agent_request",
    ))
}
