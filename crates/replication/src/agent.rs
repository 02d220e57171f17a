//! ferry's replication agent: the Rust side of the `mysql.rds_*` procedures.
//!
//! The procedures ([`crate::procedures`]) only queue a request row and wait. The agent, on
//! ferry's admin connection to the cluster's server (unix socket, `sql_log_bin = 0`), claims
//! each pending request ([`Agent::serve`], called by the control plane about every
//! [`POLL_INTERVAL`]), blanks its arguments in the same statement, does the work with real SQL
//! (`CHANGE MASTER`, `START SLAVE`, `SHOW SLAVE STATUS`, ...) or on disk (SSL material, the
//! source file), records the call in `mysql.rds_history` and the intended state in
//! `mysql.rds_replication_status`, and answers with RDS's texts ([`messages`]).
//!
//! Cluster servers run with `skip-slave-start`; after each start the control plane calls
//! [`Agent::resume`], which restarts replication if it had been started and not stopped since.
//!
//! The agent keeps the source endpoint (host, port, user, password, TLS) in a 0600 file
//! ([`SourceSecret`], path in [`AgentContext::source_secret`]) so the monitor
//! ([`crate::monitor`]) can read the source's binlog position for the true lag.

mod actions;
mod args;
pub mod messages;
pub mod realign;
pub(crate) mod record;
mod request;
mod secret;

use std::time::Duration;

use camino::Utf8PathBuf;

use crate::error::ReplicationError;
use crate::procedures::Action;
use crate::ssl::SslDir;

pub use args::DEFAULT_CONNECT_RETRY_SECS;
pub use secret::SourceSecret;

/// How often the control plane should call [`Agent::serve`]: the latency a procedure call
/// adds on top of the work itself.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long `rds_start_replication` waits for the IO thread to connect (or fail).
pub const START_WAIT: Duration = Duration::from_secs(3);
/// The caller recorded for what ferry does on its own (resume after a restart, cutover).
pub const FERRY_CALLER: &str = "ferry";

/// Where the agent keeps what it writes outside the server, per cluster server.
#[derive(Debug, Clone)]
pub struct AgentContext {
    /// The replication SSL material (`rds_import_binlog_ssl_material`).
    pub ssl: SslDir,
    /// A 0600 JSON file with the source endpoint ([`SourceSecret`]): written when a
    /// `rds_set_external_master*` call succeeds, removed on reset.
    pub source_secret: Utf8PathBuf,
    /// `MASTER_CONNECT_RETRY` of the replica the procedures configure, start or resume: seconds
    /// between its attempts to reach a lost source ([`DEFAULT_CONNECT_RETRY_SECS`], as RDS,
    /// unless the operator sets another).
    pub connect_retry_secs: u32,
}

/// Something a procedure call (or [`Agent::resume`]) changed, for events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The replica was pointed at a source.
    Configured {
        host: String,
        port: u16,
        ssl: bool,
        gtid: bool,
    },
    /// Replication was started (it may still be connecting, or have failed to: the monitor
    /// reports that).
    Started,
    Stopped,
    /// The replica's source configuration was removed.
    Reset,
    /// `rds_skip_repl_error` skipped the event that stopped the SQL thread.
    ErrorSkipped {
        error: String,
    },
    SslMaterialImported,
    SslMaterialRemoved,
    /// Replication was restarted after the server started.
    Resumed {
        /// A file-and-position replica whose `relay-log.info` was behind what it had
        /// committed (its server was killed between the two) resumed after the last
        /// transaction it committed instead ([`realign`]).
        realigned: Option<realign::Realigned>,
        /// Why ferry could not check that (the source could not be asked); the replica
        /// resumed from `relay-log.info`.
        unchecked: Option<String>,
    },
    /// Replication should have been restarted after the server started, but the server
    /// refused `START SLAVE` (e.g. error 1201 when its relay logs are damaged). The procedures
    /// keep working, so the master user can stop or reset replication.
    ResumeFailed {
        error: String,
    },
    /// `rds_next_master_log` moved the replica to the start of `file`.
    MasterLogAdvanced {
        file: String,
    },
}

/// The agent for one cluster server. Not shared: one per server, driven by one task.
#[derive(Debug)]
pub struct Agent {
    ctx: AgentContext,
}

impl Agent {
    pub fn new(ctx: AgentContext) -> Self {
        Agent { ctx }
    }

    pub fn context(&self) -> &AgentContext {
        &self.ctx
    }

    /// After the server started: opens the request table with binary logging off (the first
    /// open of a MEMORY table after a restart writes a `TRUNCATE` to the binary log otherwise)
    /// and restarts replication if `rds_replication_status` says it was started and not
    /// stopped, and it is configured and not running; a replica positioned by file and
    /// position first moves past a transaction it committed after `relay-log.info` was last
    /// written ([`realign`]). `Some(Notice::Resumed)` when it did,
    /// `Some(Notice::ResumeFailed)` when the server refused (recorded in the history; not an
    /// `Err`, which would keep the agent from ever answering a procedure call).
    pub async fn resume(
        &mut self,
        conn: &mut mysql_async::Conn,
    ) -> Result<Option<Notice>, ReplicationError> {
        record::without_binlog(conn).await?;
        request::open_table(conn).await?;
        let no_backslash_escapes = no_backslash_escapes(conn).await?;
        actions::resume(&self.ctx, conn, no_backslash_escapes).await
    }

    /// Handles every pending procedure call, in order, and answers each. Returns what changed.
    /// `Err` only when the server connection fails; a call that cannot be done is answered
    /// with an error for its caller instead.
    pub async fn serve(
        &mut self,
        conn: &mut mysql_async::Conn,
    ) -> Result<Vec<Notice>, ReplicationError> {
        record::without_binlog(conn).await?;
        let requests = request::claim_pending(conn).await?;
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let no_backslash_escapes = no_backslash_escapes(conn).await?;
        let mut notices = Vec::new();
        for req in requests {
            let outcome = match Action::parse(&req.action) {
                Some(action) => {
                    tracing::info!(action = action.as_str(), caller = %req.caller, "replication procedure called");
                    actions::run(
                        &self.ctx,
                        conn,
                        action,
                        req.args.expose(),
                        no_backslash_escapes,
                    )
                    .await?
                }
                None => actions::Outcome::refuse(messages::UNKNOWN_ACTION),
            };
            if let Some(state) = &outcome.state {
                record::state(conn, &req.caller, &req.action, state).await?;
            }
            record::history(
                conn,
                &record::HistoryRow {
                    called_at: Some(&req.created_at),
                    caller: &req.caller,
                    action: &req.action,
                    arguments: &outcome.arguments,
                    ok: outcome.ok,
                    message: outcome
                        .history_message
                        .as_deref()
                        .unwrap_or(&outcome.message),
                },
            )
            .await?;
            request::answer(conn, req.id, outcome.ok, &outcome.message).await?;
            if !outcome.ok {
                tracing::info!(action = %req.action, answer = %outcome.message, "replication procedure refused");
            }
            notices.extend(outcome.notice);
        }
        Ok(notices)
    }
}

/// Whether the session's SQL mode makes backslashes literal (it changes how strings are
/// quoted).
async fn no_backslash_escapes(conn: &mut mysql_async::Conn) -> Result<bool, ReplicationError> {
    use mysql_async::prelude::Queryable;
    let flag: Option<i64> = conn
        .query_first("SELECT @@session.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'")
        .await
        .map_err(|source| ReplicationError::Replica {
            what: "read the session's SQL mode".to_owned(),
            source,
        })?;
    Ok(flag == Some(1))
}
