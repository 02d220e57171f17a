//! What each procedure does, as RDS does it, on the agent's connection.

use std::time::Duration;

use ferry_base::error::flatten;
use ferry_base::Secret;
use mysql_async::prelude::Queryable;
use tokio::time::Instant;

use super::args::{self, SourceArgs, StartFrom};
use super::messages;
use super::realign::{self, Realigned};
use super::record::{self, IntendedState, StateRow};
use super::secret::SourceSecret;
use super::{AgentContext, Notice, FERRY_CALLER, START_WAIT};
use crate::error::ReplicationError;
use crate::procedures::Action;
use crate::ssl::SslMaterial;
use crate::status::{self, ReplicaStatus, ThreadState};

/// How long `rds_skip_repl_error` watches the SQL thread after skipping (RDS sleeps ~2 s).
const SKIP_WAIT: Duration = Duration::from_secs(2);
/// How often a wait re-reads `SHOW SLAVE STATUS`.
const STATUS_POLL: Duration = Duration::from_millis(100);

/// The result of one call.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    pub ok: bool,
    /// The answer the caller sees (rows, or the `SIGNAL` text).
    pub message: String,
    /// What the history records, when it says more than the answer (e.g. the thread error
    /// behind RDS's generic "Slave has encountered an error").
    pub history_message: Option<String>,
    /// The arguments for the history (no passwords or keys).
    pub arguments: String,
    pub notice: Option<Notice>,
    /// The intended state to record, when the call changed it.
    pub state: Option<StateRow>,
}

impl Outcome {
    fn done(message: &str) -> Outcome {
        Outcome {
            ok: true,
            message: message.to_owned(),
            history_message: None,
            arguments: String::new(),
            notice: None,
            state: None,
        }
    }

    pub(super) fn refuse(message: impl Into<String>) -> Outcome {
        Outcome {
            ok: false,
            ..Outcome::done(&message.into())
        }
    }

    fn notice(mut self, notice: Notice) -> Outcome {
        self.notice = Some(notice);
        self
    }

    fn state(mut self, state: StateRow) -> Outcome {
        self.state = Some(state);
        self
    }

    fn history(mut self, message: String) -> Outcome {
        self.history_message = Some(message);
        self
    }
}

/// Runs one action. A server error on a statement becomes a refusal naming the statement and
/// the server's error (with the password scrubbed from it), and so does anything else that
/// goes wrong on ferry's side (a file it cannot write, an answer it cannot read): the caller
/// hears about it now rather than as "interrupted" after a reconnect. Only connection
/// failures are returned.
pub(super) async fn run(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
    action: Action,
    raw_args: &str,
    no_backslash_escapes: bool,
) -> Result<Outcome, ReplicationError> {
    let mut secret: Option<Secret> = None;
    let result = match action {
        Action::SetExternalMaster | Action::SetExternalMasterWithAutoPosition => {
            let auto = action == Action::SetExternalMasterWithAutoPosition;
            match SourceArgs::parse(raw_args, auto) {
                Err(refusal) => Ok(Outcome::refuse(refusal)),
                Ok(source) => {
                    secret = Some(source.password.clone());
                    let summary = source.summary();
                    set_source(ctx, conn, source, no_backslash_escapes)
                        .await
                        .map(|outcome| Outcome {
                            arguments: summary,
                            ..outcome
                        })
                }
            }
        }
        Action::StartReplication => start(ctx, conn).await,
        Action::StopReplication => stop(conn).await,
        Action::ResetExternalMaster => reset(ctx, conn).await,
        Action::SkipReplError => skip_error(conn).await,
        Action::NextMasterLog => match args::next_log_number(raw_args) {
            Err(refusal) => Ok(Outcome::refuse(refusal)),
            Ok(number) => next_master_log(conn, number, no_backslash_escapes)
                .await
                .map(|outcome| Outcome {
                    arguments: format!("{{\"curr_master_log\":{number}}}"),
                    ..outcome
                }),
        },
        Action::ImportBinlogSslMaterial => Ok(import_ssl(ctx, raw_args)),
        Action::RemoveBinlogSslMaterial => remove_ssl(ctx, conn).await,
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(ReplicationError::Replica {
            what,
            source: mysql_async::Error::Server(server),
        }) => {
            let mut text = format!(
                "ferry could not {what}: error {}: {}",
                server.code, server.message
            );
            if let Some(secret) = &secret {
                text = scrub(&text, secret.expose());
            }
            tracing::warn!(action = action.as_str(), error = %text, "replication procedure failed on the server");
            Ok(Outcome::refuse(text))
        }
        // The connection to the server failed: `serve` reconnects.
        Err(error @ ReplicationError::Replica { .. }) => Err(error),
        Err(other) => {
            let mut text = flatten(&other);
            if let Some(secret) = &secret {
                text = scrub(&text, secret.expose());
            }
            tracing::error!(action = action.as_str(), error = %text, "replication procedure failed in ferry");
            Ok(Outcome::refuse(format!(
                "ferry's replication agent failed: {text}"
            )))
        }
    }
}

/// The shortest prefix of a password [`scrub`] looks for: shorter ones are too likely to be
/// ordinary words of a message, and the server only cuts values much longer than this.
const MIN_SCRUBBED_PREFIX_CHARS: usize = 8;

/// `text` without `secret`: the whole of it, and any prefix of it at least
/// [`MIN_SCRUBBED_PREFIX_CHARS`] long (the server quotes a long value's first bytes followed
/// by `...`), each replaced by `<redacted>`.
fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    let mut text = text.replace(secret, "<redacted>");
    let mut ends: Vec<usize> = secret
        .char_indices()
        .map(|(at, _)| at)
        .skip(MIN_SCRUBBED_PREFIX_CHARS)
        .collect();
    ends.reverse();
    for end in ends {
        let prefix = &secret[..end];
        if text.contains(prefix) {
            text = text.replace(prefix, "<redacted>");
        }
    }
    text
}

/// Gives a stopped replica configured with another `MASTER_CONNECT_RETRY` (before the operator
/// changed `[replication] connect_retry_seconds`) the configured one, so that the setting holds
/// for every replica ferry starts or resumes, not only those configured after the change. Only
/// the retry is named: the server then keeps the executed position and fetches again from it
/// (its own rule for exactly this kind of change), as a restart with `relay-log-recovery` does.
/// A refusal by the server is logged and the replica starts with the retry it had: the
/// setting must never keep replication from starting. Only a lost connection is an `Err`.
async fn keep_connect_retry(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
    current: &ReplicaStatus,
) -> Result<(), ReplicationError> {
    if current.connect_retry == ctx.connect_retry_secs {
        return Ok(());
    }
    let statement = format!(
        "CHANGE MASTER TO MASTER_CONNECT_RETRY = {}",
        ctx.connect_retry_secs
    );
    match sql(
        conn,
        &statement,
        "set the configured connect retry (CHANGE MASTER)",
    )
    .await
    {
        Err(ReplicationError::Replica {
            source: mysql_async::Error::Server(server),
            ..
        }) => {
            tracing::warn!(
                code = server.code,
                error = %server.message,
                kept = current.connect_retry,
                configured = ctx.connect_retry_secs,
                "the replica keeps its connect retry: the server refused the configured one"
            );
            Ok(())
        }
        other => other,
    }
}

async fn sql(
    conn: &mut mysql_async::Conn,
    statement: &str,
    what: &str,
) -> Result<(), ReplicationError> {
    conn.query_drop(statement)
        .await
        .map_err(|source| ReplicationError::Replica {
            what: what.to_owned(),
            source,
        })
}

/// `rds_set_external_master` and `rds_set_external_master_with_auto_position`.
async fn set_source(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
    source: SourceArgs,
    no_backslash_escapes: bool,
) -> Result<Outcome, ReplicationError> {
    if status::read(conn).await?.is_some_and(|s| s.any_running()) {
        return Ok(Outcome::refuse(messages::MODIFY_WHILE_RUNNING));
    }
    if source.ssl && !ctx.ssl.is_present() {
        return Ok(Outcome::refuse(messages::SSL_MATERIAL_MISSING));
    }
    if source.start == StartFrom::GtidSlavePos {
        let position: Option<String> = conn
            .query_first("SELECT @@GLOBAL.gtid_slave_pos")
            .await
            .map_err(|source| ReplicationError::Replica {
                what: "read gtid_slave_pos".to_owned(),
                source,
            })?;
        if position.unwrap_or_default().trim().is_empty() {
            return Ok(Outcome::refuse(messages::AUTO_POSITION_WITHOUT_GTID));
        }
    }
    let paths = ctx.ssl.paths();
    let statement =
        source.change_master(Some(&paths), ctx.connect_retry_secs, no_backslash_escapes);
    sql(
        conn,
        &statement,
        "set the replication source (CHANGE MASTER)",
    )
    .await?;
    // The link is configured now; not keeping the credentials only costs the true lag (the
    // monitor falls back to Seconds_Behind_Master and says why), so the call still succeeds.
    let kept = SourceSecret {
        host: source.host.clone(),
        port: source.port,
        user: source.user.clone(),
        password: source.password.clone(),
        ssl: source.ssl,
        gtid: source.start == StartFrom::GtidSlavePos,
    }
    .store(&ctx.source_secret);
    let not_kept = kept.err().map(|error| {
        // Older credentials must not stand in for these.
        let _ = SourceSecret::remove(&ctx.source_secret);
        let text = flatten(&error);
        tracing::error!(file = %ctx.source_secret, error = %text, "cannot keep the replication source's credentials; the lag falls back to Seconds_Behind_Master");
        text
    });
    let (file, pos) = match &source.start {
        StartFrom::Coordinates { file, pos } => (Some(file.clone()), Some(*pos)),
        StartFrom::GtidSlavePos => (None, None),
    };
    let gtid = source.start == StartFrom::GtidSlavePos;
    let from = match (&file, pos) {
        (Some(file), Some(pos)) => format!("from {file}:{pos}"),
        _ => "from gtid_slave_pos".to_owned(),
    };
    let mut history = format!(
        "Replication source set to {}:{} {from}{}.",
        source.host,
        source.port,
        if source.ssl { " over SSL" } else { "" }
    );
    if let Some(error) = not_kept {
        history.push_str(&format!(
            " ferry could not keep the source's credentials for measuring the lag: {error}"
        ));
    }
    Ok(Outcome::done("")
        .history(history)
        .state(StateRow {
            state: IntendedState::Set,
            master_host: Some(source.host.clone()),
            master_port: Some(source.port),
            master_log_file: file,
            master_log_pos: pos,
            using_gtid: Some(gtid),
            ssl: Some(source.ssl),
        })
        .notice(Notice::Configured {
            host: source.host,
            port: source.port,
            ssl: source.ssl,
            gtid,
        }))
}

/// `rds_start_replication`.
async fn start(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
) -> Result<Outcome, ReplicationError> {
    let Some(current) = status::read(conn).await? else {
        return Ok(Outcome::refuse(messages::START_NOT_CONFIGURED));
    };
    if current.io_running.is_running() && current.sql_running {
        return Ok(Outcome::refuse(messages::START_ALREADY_RUNNING));
    }
    if current.any_running() {
        return Ok(Outcome::refuse(messages::START_PARTLY_RUNNING));
    }
    if current.master_ssl_allowed && !ctx.ssl.is_present() {
        return Ok(Outcome::refuse(messages::START_SSL_MATERIAL_MISSING));
    }
    keep_connect_retry(ctx, conn, &current).await?;
    sql(conn, "START SLAVE", "start replication (START SLAVE)").await?;
    let state = StateRow::from_status(IntendedState::Started, &current);
    match wait_for_start(conn, START_WAIT).await? {
        Ok(()) => Ok(Outcome::done(messages::STARTED)
            .state(state)
            .notice(Notice::Started)),
        Err(error) => Ok(Outcome::refuse(messages::START_ERROR)
            .history(format!("{} ({error})", messages::START_ERROR))
            .state(state)
            .notice(Notice::Started)),
    }
}

/// Waits until the IO thread is connected and the SQL thread runs (`Ok(Ok)`), a thread
/// reports an error or stops (`Ok(Err(text))`), or `within` passes while the IO thread is
/// still connecting without an error (`Ok(Ok)`, as RDS: the link may come up later).
async fn wait_for_start(
    conn: &mut mysql_async::Conn,
    within: Duration,
) -> Result<Result<(), String>, ReplicationError> {
    let deadline = Instant::now() + within;
    loop {
        let Some(now) = status::read(conn).await? else {
            return Ok(Err("replication is no longer configured".to_owned()));
        };
        if let Some(error) = now.error_text() {
            return Ok(Err(error));
        }
        if !now.sql_running || now.io_running == ThreadState::No {
            return Ok(Err("a replication thread stopped".to_owned()));
        }
        if now.io_running == ThreadState::Yes || Instant::now() >= deadline {
            return Ok(Ok(()));
        }
        tokio::time::sleep(STATUS_POLL).await;
    }
}

/// `rds_stop_replication`.
async fn stop(conn: &mut mysql_async::Conn) -> Result<Outcome, ReplicationError> {
    let Some(current) = status::read(conn).await? else {
        return Ok(Outcome::refuse(messages::STOP_NOT_CONFIGURED));
    };
    if !current.any_running() {
        // Threads that stopped on an error are still "started" for ferry (it would restart
        // them after a server restart): record the stop, as the caller means it.
        if record::latest_state(conn).await? == Some(IntendedState::Started) {
            return Ok(Outcome::done(messages::STOPPED)
                .state(StateRow::from_status(IntendedState::Stopped, &current))
                .notice(Notice::Stopped));
        }
        return Ok(Outcome::refuse(messages::STOP_ALREADY_STOPPED));
    }
    sql(conn, "STOP SLAVE", "stop replication (STOP SLAVE)").await?;
    let after = status::read(conn).await?.unwrap_or(current);
    Ok(Outcome::done(messages::STOPPED)
        .state(StateRow::from_status(IntendedState::Stopped, &after))
        .notice(Notice::Stopped))
}

/// `rds_reset_external_master`.
async fn reset(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
) -> Result<Outcome, ReplicationError> {
    let Some(current) = status::read(conn).await? else {
        return Ok(Outcome::refuse(messages::RESET_NOT_CONFIGURED));
    };
    if current.any_running() {
        sql(conn, "STOP SLAVE", "stop replication (STOP SLAVE)").await?;
    }
    sql(
        conn,
        "RESET SLAVE ALL",
        "reset replication (RESET SLAVE ALL)",
    )
    .await?;
    // The replica is reset whatever happens to the file; a file left behind is reported.
    let mut history = format!(
        "{} (was replicating from {}:{}).",
        messages::RESET,
        current.master_host,
        current.master_port
    );
    if let Err(error) = SourceSecret::remove(&ctx.source_secret) {
        let text = flatten(&error);
        tracing::error!(file = %ctx.source_secret, error = %text, "cannot erase the replication source's credentials");
        history.push_str(&format!(
            " ferry could not erase the source's credentials: {text}"
        ));
    }
    Ok(Outcome::done(messages::RESET)
        .history(history)
        .state(StateRow::bare(IntendedState::Reset))
        .notice(Notice::Reset))
}

/// `rds_skip_repl_error`.
async fn skip_error(conn: &mut mysql_async::Conn) -> Result<Outcome, ReplicationError> {
    let Some(current) = status::read(conn).await? else {
        return Ok(Outcome::refuse(messages::SKIP_NOT_CONFIGURED));
    };
    let Some(error) = current.last_sql_error.clone() else {
        return Ok(Outcome::refuse(if current.sql_running {
            messages::SKIP_NO_ERROR
        } else {
            messages::SKIP_DOWN
        }));
    };
    if current.any_running() {
        sql(conn, "STOP SLAVE", "stop replication (STOP SLAVE)").await?;
    }
    sql(
        conn,
        "SET GLOBAL sql_slave_skip_counter = 1",
        "skip the failed event (sql_slave_skip_counter)",
    )
    .await?;
    sql(conn, "START SLAVE", "start replication (START SLAVE)").await?;
    let skipped = format!("SQL thread {error}");
    let state = StateRow::from_status(IntendedState::Started, &current);
    // Watch the SQL thread for a moment: the next event may fail too.
    let deadline = Instant::now() + SKIP_WAIT;
    loop {
        let now = status::read(conn).await?;
        let failed = match &now {
            None => Some("replication is no longer configured".to_owned()),
            Some(now) => match &now.last_sql_error {
                Some(new) => Some(format!("SQL thread {new}")),
                None if !now.sql_running => Some("the SQL thread stopped".to_owned()),
                None => None,
            },
        };
        if let Some(new_error) = failed {
            return Ok(Outcome::refuse(messages::SKIP_NEW_ERROR)
                .history(format!(
                    "{} (skipped {skipped}; now {new_error})",
                    messages::SKIP_NEW_ERROR
                ))
                .state(state)
                .notice(Notice::ErrorSkipped { error: skipped }));
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(STATUS_POLL).await;
    }
    Ok(Outcome::done(messages::SKIPPED)
        .history(format!("Skipped {skipped}."))
        .state(state)
        .notice(Notice::ErrorSkipped { error: skipped }))
}

/// `rds_next_master_log(curr_master_log)`.
async fn next_master_log(
    conn: &mut mysql_async::Conn,
    number: u64,
    no_backslash_escapes: bool,
) -> Result<Outcome, ReplicationError> {
    let Some(current) = status::read(conn).await? else {
        return Ok(Outcome::refuse(messages::NEXT_LOG_NOT_CONFIGURED));
    };
    if current.using_gtid.is_gtid() {
        return Ok(Outcome::refuse(messages::NEXT_LOG_WITH_GTID));
    }
    let next = match args::next_log_file(&current.master_log_file, number) {
        Ok(next) => next,
        Err(refusal) => return Ok(Outcome::refuse(refusal)),
    };
    if current.any_running() {
        sql(conn, "STOP SLAVE", "stop replication (STOP SLAVE)").await?;
    }
    let statement = format!(
        "CHANGE MASTER TO MASTER_LOG_FILE = {}, MASTER_LOG_POS = 4",
        args::quote(&next, no_backslash_escapes)
    );
    sql(
        conn,
        &statement,
        "move to the next master log (CHANGE MASTER)",
    )
    .await?;
    sql(conn, "START SLAVE", "start replication (START SLAVE)").await?;
    let mut state = StateRow::from_status(IntendedState::Started, &current);
    state.master_log_file = Some(next.clone());
    state.master_log_pos = Some(4);
    Ok(Outcome::done(messages::NEXT_LOG)
        .history(format!("{} ({next}).", messages::NEXT_LOG))
        .state(state)
        .notice(Notice::MasterLogAdvanced { file: next }))
}

/// `rds_import_binlog_ssl_material(ssl_material)`.
fn import_ssl(ctx: &AgentContext, material: &str) -> Outcome {
    let arguments = "{\"ssl_material\":\"<redacted>\"}".to_owned();
    let outcome = match SslMaterial::parse(material) {
        Err(invalid) => Outcome::refuse(invalid.to_string()),
        Ok(material) => match ctx.ssl.store(&material) {
            Ok(()) => Outcome::done(messages::SSL_IMPORTED).notice(Notice::SslMaterialImported),
            Err(error) => {
                tracing::error!(dir = %ctx.ssl.dir(), "cannot store replication SSL material: {error}");
                Outcome::refuse("ferry could not store the SSL material; see ferry's log.")
                    .history(format!("ferry could not store the SSL material: {error}"))
            }
        },
    };
    Outcome {
        arguments,
        ..outcome
    }
}

/// `rds_remove_binlog_ssl_material`.
async fn remove_ssl(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
) -> Result<Outcome, ReplicationError> {
    if status::read(conn)
        .await?
        .is_some_and(|s| s.master_ssl_allowed && s.any_running())
    {
        return Ok(Outcome::refuse(messages::REMOVE_SSL_WHILE_RUNNING));
    }
    match ctx.ssl.remove() {
        Ok(true) => Ok(Outcome::done(messages::SSL_REMOVED).notice(Notice::SslMaterialRemoved)),
        Ok(false) => Ok(Outcome::done(messages::SSL_NOTHING_TO_REMOVE)),
        Err(error) => {
            tracing::error!(dir = %ctx.ssl.dir(), "cannot remove replication SSL material: {error}");
            Ok(
                Outcome::refuse("ferry could not remove the SSL material; see ferry's log.")
                    .history(format!("ferry could not remove the SSL material: {error}")),
            )
        }
    }
}

/// [`super::Agent::resume`]'s work, on a session with binary logging off.
pub(super) async fn resume(
    ctx: &AgentContext,
    conn: &mut mysql_async::Conn,
    no_backslash_escapes: bool,
) -> Result<Option<Notice>, ReplicationError> {
    if record::latest_state(conn).await? != Some(IntendedState::Started) {
        return Ok(None);
    }
    let Some(current) = status::read(conn).await? else {
        return Ok(None);
    };
    if current.any_running() {
        return Ok(None);
    }
    let (realigned, unchecked) = match realign::find(ctx, conn, &current).await {
        Ok(found) => (found, None),
        // The agent's own connection failed: `serve` reconnects and resumes again.
        Err(error @ ReplicationError::Replica { .. }) => return Err(error),
        Err(other) => {
            let text = flatten(&other);
            tracing::warn!(error = %text, "cannot check the replica's position against the source's binary log; resuming from relay-log.info");
            (None, Some(text))
        }
    };
    if let Some(r) = &realigned {
        let statement = format!(
            "CHANGE MASTER TO MASTER_LOG_FILE = {}, MASTER_LOG_POS = {}",
            args::quote(&r.to.file, no_backslash_escapes),
            r.to.pos
        );
        sql(
            conn,
            &statement,
            "move past the last committed transaction (CHANGE MASTER)",
        )
        .await?;
        tracing::warn!(
            gtid = %r.gtid,
            recorded = %format!("{}:{}", r.from.file, r.from.pos),
            resumed_at = %format!("{}:{}", r.to.file, r.to.pos),
            "the replica had committed a transaction relay-log.info did not record (an unclean stop); resuming after it"
        );
    }
    keep_connect_retry(ctx, conn, &current).await?;
    match sql(conn, "START SLAVE", "resume replication (START SLAVE)").await {
        Ok(()) => {}
        Err(ReplicationError::Replica {
            source: mysql_async::Error::Server(server),
            ..
        }) => {
            let error = format!("error {}: {}", server.code, server.message);
            record::history(
                conn,
                &record::HistoryRow {
                    called_at: None,
                    caller: FERRY_CALLER,
                    action: "resume_replication",
                    arguments: "",
                    ok: false,
                    message: &format!(
                        "Replication could not be resumed after the server started: {error}"
                    ),
                },
            )
            .await?;
            tracing::warn!(
                source = %format!("{}:{}", current.master_host, current.master_port),
                error = %error,
                "replication could not be resumed after the server started"
            );
            return Ok(Some(Notice::ResumeFailed { error }));
        }
        Err(other) => return Err(other),
    }
    record::history(
        conn,
        &record::HistoryRow {
            called_at: None,
            caller: FERRY_CALLER,
            action: "resume_replication",
            arguments: "",
            ok: true,
            message: &resumed_history(realigned.as_ref(), unchecked.as_deref()),
        },
    )
    .await?;
    tracing::info!(
        source = %format!("{}:{}", current.master_host, current.master_port),
        "replication resumed after the server started"
    );
    Ok(Some(Notice::Resumed {
        realigned,
        unchecked,
    }))
}

/// The history's message for a resume.
fn resumed_history(realigned: Option<&Realigned>, unchecked: Option<&str>) -> String {
    let mut text = "Replication resumed after the server started.".to_owned();
    if let Some(r) = realigned {
        text.push_str(&format!(
            " It resumed at {}:{}, after transaction {} which it had committed, rather than at {}:{} as relay-log.info said.",
            r.to.file, r.to.pos, r.gtid, r.from.file, r.from.pos
        ));
    }
    if let Some(why) = unchecked {
        text.push_str(&format!(
            " ferry could not check its position against the source's binary log: {why}"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_password_and_long_prefixes_of_it() {
        let secret = "éééééééééé-long-password";
        // What the server answers to a MASTER_PASSWORD over 96 bytes: its first bytes.
        let server = "error 1470: String 'éééééééééé-lon...' is too long for MASTER_PASSWORD \
                      (should be no longer than 96)";
        let text = scrub(server, secret);
        assert!(!text.contains("ééééééé"), "{text}");
        assert!(text.contains("String '<redacted>...'"), "{text}");
        assert_eq!(
            scrub(&format!("a {secret} b {secret}"), secret),
            "a <redacted> b <redacted>"
        );
        // Short words of a message that begin like the password stay.
        assert_eq!(scrub("error repl: no", "replication"), "error repl: no");
        assert_eq!(scrub("nothing to hide", ""), "nothing to hide");
    }
}
