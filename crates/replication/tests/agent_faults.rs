//! Failures on the way, with one pair of servers:
//!
//! - a request nobody waits for any more (its caller idle, or older than the procedure's
//!   deadline) is dropped, not performed;
//! - the in-memory request table is full: a call fails, and leaves the caller's binary
//!   logging on;
//! - ferry's own side fails rather than the server: the source's credentials cannot be
//!   written or erased (here their directory is a regular file). The procedures still do what
//!   they say on the server and answer at once; the history says what ferry could not do.
//!   Before, such a failure dropped the agent's connection and the caller got "interrupted"
//!   after the server had already been changed;
//! - the server refuses `START SLAVE` when ferry resumes replication after a restart (its
//!   relay logs are gone): reported, and the procedures keep answering, so the master user
//!   can reset. Before, the agent retried for ever and never answered a call again.

mod common;

use anyhow::Context as _;
use camino::Utf8PathBuf;
use common::*;
use ferry_replication::agent::{messages, Agent, AgentContext, Notice};
use ferry_replication::source;
use ferry_testkit::TestServerOptions;
use mysql_async::prelude::Queryable;

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_request_table_unkept_credentials_and_a_refused_resume() -> anyhow::Result<()> {
    let mut pair = Pair::start(
        TestServerOptions::with_binlog(1),
        TestServerOptions::with_binlog(2),
    )
    .await?;
    let mut master = pair.master().await?;
    abandoned_requests_are_dropped(&pair).await?;
    a_call_can_be_interrupted(&pair).await?;
    table_full_keeps_binary_logging_on(&pair, &mut master).await?;

    let blocker = pair.files.path().join("not-a-directory");
    std::fs::write(&blocker, "").context("create the blocking file")?;
    let ctx = AgentContext {
        ssl: pair.ctx.ssl.clone(),
        source_secret: Utf8PathBuf::from_path_buf(blocker.join("source.json"))
            .map_err(|p| anyhow::anyhow!("{} is not UTF-8", p.display()))?,
        connect_retry_secs: pair.ctx.connect_retry_secs,
    };
    let agent = AgentTask::spawn(&pair.replica, ctx.clone());
    let mut src = pair.source.admin_conn().await?;
    let start = source::read_position(&mut src).await?.coord;

    let password = mysql_async::Value::from(REPL_PASSWORD).as_sql(false);
    let set = format!(
        "rds_set_external_master('127.0.0.1', {}, '{REPL_USER}', {password}, '{}', {}, 0)",
        pair.source.port(),
        start.file,
        start.pos
    );
    expect_rows(&mut master, &set, &[]).await;
    let status = replica_status(&mut master).await?;
    assert_eq!(status.master_port, pair.source.port());
    expect_rows(&mut master, "rds_start_replication()", &[messages::STARTED]).await;
    let running = Deadline::new("replication running", WAIT);
    while !replica_status(&mut master).await?.is_running() {
        running.tick().await?;
    }
    agent.stop().await;
    drop(master);

    // The replica restarts without its relay logs: START SLAVE fails with error 1201.
    pair.replica.stop().await?;
    for entry in std::fs::read_dir(pair.replica.datadir())? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| n.contains("relay-bin.0")) {
            std::fs::remove_file(&path)?;
        }
    }
    pair.replica.start_again().await?;
    let mut admin = pair.replica.admin_conn().await?;
    match Agent::new(ctx.clone()).resume(&mut admin).await? {
        Some(Notice::ResumeFailed { error }) => {
            assert!(error.starts_with("error 1201:"), "{error}")
        }
        other => anyhow::bail!("expected a refused resume, got {other:?}"),
    }

    // The procedures still answer: the master user can reset.
    let agent = AgentTask::spawn(&pair.replica, ctx);
    let mut master = pair.master().await?;
    expect_rows(
        &mut master,
        "rds_reset_external_master()",
        &[messages::RESET],
    )
    .await;
    assert!(ferry_replication::status::read(&mut master)
        .await?
        .is_none());

    let rows: Vec<(String, String, String)> = master
        .query("SELECT action, result, message FROM mysql.rds_history ORDER BY id")
        .await?;
    let find = |action: &str| {
        rows.iter()
            .find(|(a, ..)| a == action)
            .with_context(|| format!("{action} in the history: {rows:#?}"))
    };
    let (_, result, message) = find("set_external_master")?;
    assert_eq!(result, "ok");
    assert!(
        message.contains("could not keep the source's credentials"),
        "{message}"
    );
    assert!(!message.contains(REPL_PASSWORD), "{message}");
    let (_, result, message) = find("resume_replication")?;
    assert_eq!(result, "error");
    assert!(message.contains("error 1201"), "{message}");
    let (_, result, message) = find("reset_external_master")?;
    assert_eq!(result, "ok");
    assert!(
        message.contains("could not erase the source's credentials"),
        "{message}"
    );
    agent.stop().await;
    Ok(())
}

/// Requests nobody waits for any more are dropped, never performed: one whose caller's
/// connection is idle (a call killed at the instant it read its row leaves the row behind),
/// and one older than the procedure's own deadline. Both forged here, as ferry's admin.
async fn abandoned_requests_are_dropped(pair: &Pair) -> anyhow::Result<()> {
    let mut admin = pair.replica.admin_conn().await?;
    admin.query_drop("SET SESSION sql_log_bin = 0").await?;
    let forge = |connection_id: u32, age_secs: u32| {
        format!(
            "INSERT INTO mysql.rds_agent_request (action, caller, connection_id, created_at, \
             args) VALUES ('set_external_master', 'admin@localhost', {connection_id}, \
             NOW(6) - INTERVAL {age_secs} SECOND, '{{\"host_name\": \"127.0.0.1\", \
             \"host_port\": 3306, \"replication_user_name\": \"repl\", \
             \"replication_user_password\": \"pw\", \"mysql_binary_log_file_name\": \
             \"mysql-bin.000001\", \"mysql_binary_log_file_location\": 4, \
             \"ssl_encryption\": 0}}')"
        )
    };
    // An idle caller.
    let idle = pair.master().await?;
    admin.query_drop(forge(idle.id(), 0)).await?;
    // A busy caller, but the call is older than the 120 s a procedure waits.
    let mut busy = pair.master().await?;
    let busy_id = busy.id();
    let busy_task = tokio::spawn(async move {
        let slept: Result<Option<i64>, _> = busy.query_first("SELECT SLEEP(3)").await;
        slept
    });
    let running = Deadline::new("the busy connection runs its statement", WAIT);
    loop {
        let command: Option<String> = admin
            .exec_first(
                "SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = ?",
                (busy_id,),
            )
            .await?;
        if command.as_deref() == Some("Query") {
            break;
        }
        running.tick().await?;
    }
    admin.query_drop(forge(busy_id, 200)).await?;

    let notices = Agent::new(pair.ctx.clone()).serve(&mut admin).await?;
    assert_eq!(notices, []);
    assert!(
        ferry_replication::status::read(&mut admin).await?.is_none(),
        "an abandoned call was performed"
    );
    let left: Option<u64> = admin
        .query_first("SELECT COUNT(*) FROM mysql.rds_agent_request")
        .await?;
    assert_eq!(left, Some(0));
    busy_task.await??;
    drop(idle);
    Ok(())
}

/// Ctrl-C in the client (`KILL QUERY`) while a call waits for an agent that is not there:
/// the call ends at once with error 1317, and its row is dropped unperformed later.
async fn a_call_can_be_interrupted(pair: &Pair) -> anyhow::Result<()> {
    let mut admin = pair.replica.admin_conn().await?;
    admin.query_drop("SET SESSION sql_log_bin = 0").await?;
    let mut caller = pair.master().await?;
    let caller_id = caller.id();
    let started = std::time::Instant::now();
    let call = tokio::spawn(async move {
        let result = caller
            .query_drop("CALL mysql.rds_reset_external_master()")
            .await;
        (result, started.elapsed())
    });
    let queued = Deadline::new("the call is queued", WAIT);
    loop {
        let rows: Option<u64> = admin
            .query_first("SELECT COUNT(*) FROM mysql.rds_agent_request")
            .await?;
        if rows == Some(1) {
            break;
        }
        queued.tick().await?;
    }
    admin.query_drop(format!("KILL QUERY {caller_id}")).await?;
    let (result, took) = call.await?;
    match result {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1317, "{e}"),
        other => panic!("an interrupted call ended with {other:?}"),
    }
    assert!(
        took < std::time::Duration::from_secs(20),
        "the call went on waiting after KILL QUERY ({took:?})"
    );
    let notices = Agent::new(pair.ctx.clone()).serve(&mut admin).await?;
    assert_eq!(notices, [], "the withdrawn call was not performed");
    let left: Option<u64> = admin
        .query_first("SELECT COUNT(*) FROM mysql.rds_agent_request")
        .await?;
    assert_eq!(left, Some(0));
    Ok(())
}

/// The MEMORY request table holds about 270 rows of 64 KB (the default
/// `max_heap_table_size`): enough calls waiting while ferry's agent is away fill it. A call
/// then fails to queue, and must not leave its caller's session with `sql_log_bin = 0`, which
/// the caller may not set itself.
async fn table_full_keeps_binary_logging_on(
    pair: &Pair,
    master: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    let mut admin = pair.replica.admin_conn().await?;
    admin.query_drop("SET SESSION sql_log_bin = 0").await?;
    let filled = admin
        .query_drop(
            "INSERT INTO mysql.rds_agent_request (action, caller, connection_id, created_at, \
             state, args) SELECT 'start_replication', 'filler', CONNECTION_ID(), NOW(6), 'done', \
             REPEAT('x', 15000) FROM mysql.seq_1_to_100000",
        )
        .await;
    match filled {
        Err(mysql_async::Error::Server(error)) if error.code == 1114 => {}
        other => anyhow::bail!("expected the request table to fill up, got {other:?}"),
    }
    match call(master, "rds_start_replication()").await {
        Err((1114, _)) => {}
        other => anyhow::bail!("expected 'table is full', got {other:?}"),
    }
    let log_bin: Option<i64> = master.query_first("SELECT @@session.sql_log_bin").await?;
    assert_eq!(
        log_bin,
        Some(1),
        "the failed call turned binary logging off"
    );
    admin
        .query_drop("DELETE FROM mysql.rds_agent_request WHERE caller = 'filler'")
        .await?;
    Ok(())
}
