//! The `mysql.rds_*` procedures end to end against real MariaDB 10.11 servers: a source with
//! a ROW binlog and a replica set up as a ferry cluster (admin account, master user from
//! `ferry_engine::set_master_user`, procedures installed), the agent served in the background
//! as the control plane does, and every call made by the master user over TCP.
//!
//! One pair of servers for everything, in sequence (the cases share the replication state):
//! installation, refusals before configuration, set + start, replicated data, the monitor's
//! lag and transitions, a conflicting row and `rds_skip_repl_error`, a source restart, a
//! replica restart with resume, `rds_next_master_log`, stop and reset, the GTID variant, cutover,
//! and finally what was recorded (history without passwords, nothing in the replica's binlog).

mod common;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use common::*;
use ferry_replication::agent::{messages, Agent, AgentContext, Notice, SourceSecret};
use ferry_replication::cutover::{self, WaitMethod};
use ferry_replication::monitor::{LagSource, Monitor, Transition};
use ferry_replication::procedures::{self, PROCEDURES};
use ferry_replication::source::{self, BinlogCoord, SourcePosition};
use ferry_replication::status::{ThreadState, UsingGtid};
use ferry_replication::ReplicationError;
use ferry_testkit::TestServerOptions;
use mysql_async::prelude::Queryable;

const WAIT: Duration = Duration::from_secs(30);

/// The MySQL error code of a failed statement.
fn code<T: std::fmt::Debug>(result: Result<T, mysql_async::Error>) -> u16 {
    match result {
        Err(mysql_async::Error::Server(server)) => server.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

fn set_call(port: u16, file: &str, pos: &str, ssl: u8) -> String {
    let password = mysql_async::Value::from(REPL_PASSWORD).as_sql(false);
    format!(
        "rds_set_external_master('127.0.0.1', {port}, '{REPL_USER}', {password}, '{file}', \
         {pos}, {ssl})"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_procedures_replicate_are_watched_and_cut_over() -> anyhow::Result<()> {
    let mut pair = Pair::start(
        TestServerOptions::with_binlog(1),
        TestServerOptions::with_binlog(2),
    )
    .await?;
    let mut src = pair.source.admin_conn().await?;
    let mut rep = pair.replica.admin_conn().await?;
    // Where the replica starts: before anything of the test's data exists on the source.
    let start = source::read_position(&mut src).await?.coord;

    installation_is_idempotent_and_private(&pair, &mut rep).await?;

    let mut agent = AgentTask::spawn(&pair.replica, pair.ctx.clone());
    let mut master = pair.master().await?;
    refusals_before_configuration(&pair, &mut master, &start).await?;

    // --- Set and start, as the master user.
    expect_rows(
        &mut master,
        &set_call(pair.source.port(), &start.file, &start.pos.to_string(), 0),
        &[],
    )
    .await;
    let status = replica_status(&mut master).await?; // the master user may read it
    assert_eq!(
        (
            status.master_host.as_str(),
            status.master_port,
            status.connect_retry
        ),
        ("127.0.0.1", pair.source.port(), 60)
    );
    assert_eq!(status.master_user, REPL_USER);
    assert!(!status.master_ssl_allowed && !status.any_running());
    assert!(SourceSecret::load(&pair.ctx.source_secret)?.is_some());
    expect_rows(&mut master, "rds_start_replication()", &[messages::STARTED]).await;
    expect_error(
        &mut master,
        "rds_start_replication()",
        messages::START_ALREADY_RUNNING,
    )
    .await;
    expect_error(
        &mut master,
        &set_call(pair.source.port(), &start.file, &start.pos.to_string(), 0),
        messages::MODIFY_WHILE_RUNNING,
    )
    .await;
    let notices = agent.drain();
    assert!(
        notices.contains(&Notice::Configured {
            host: "127.0.0.1".into(),
            port: pair.source.port(),
            ssl: false,
            gtid: false
        }) && notices.contains(&Notice::Started),
        "{notices:?}"
    );

    // --- Data written on the source arrives.
    src.query_drop("CREATE DATABASE shop").await?;
    src.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB")
        .await?;
    src.query_drop(
        "INSERT INTO shop.items SELECT seq, CONCAT('item ', seq) FROM shop.seq_1_to_1000",
    )
    .await?;
    wait_same_checksum(&mut src, &mut rep, "shop.items").await?;

    let mut monitor = Monitor::new(&pair.ctx);
    monitor_sees_lag_and_catching_up(&pair, &mut monitor, &mut master, &mut src, &mut rep).await?;
    conflicting_row_breaks_and_is_skipped(
        &mut monitor,
        &mut master,
        &mut src,
        &mut rep,
        &mut agent,
    )
    .await?;
    source_restart_loses_nothing(&mut pair, &mut monitor, &mut src, &mut rep).await?;
    let mut src = pair.source.admin_conn().await?;
    replica_restart_resumes(&mut pair, &mut src).await?;
    let mut rep = pair.replica.admin_conn().await?;
    let mut master = pair.master().await?;
    next_master_log(&mut master, &mut src, &mut rep).await?;
    stop_and_reset(&pair, &mut master).await?;
    gtid_variant_and_cutover(&pair, &mut master, &mut src, &mut rep).await?;
    what_was_recorded(&mut master, &mut rep).await?;

    agent.stop().await;
    Ok(())
}

/// Installing twice changes nothing; a routine whose text changed is re-created and keeps its
/// grant; the master user cannot reach the helper or write the request table.
async fn installation_is_idempotent_and_private(
    pair: &Pair,
    rep: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    let again = procedures::install_with_report(rep, &[(MASTER, "%")]).await?;
    assert_eq!(again, procedures::InstallReport::default());
    rep.query_drop("SET SESSION sql_log_bin = 0").await?;
    rep.query_drop("ALTER PROCEDURE mysql.rds_start_replication COMMENT 'an older text'")
        .await?;
    rep.query_drop("SET SESSION sql_log_bin = 1").await?;
    // No grantees this time: the grant must survive CREATE OR REPLACE on its own.
    let report = procedures::install_with_report(rep, &[]).await?;
    assert_eq!(report.created_routines, ["rds_start_replication"]);
    let grants: Vec<String> = rep.query(format!("SHOW GRANTS FOR '{MASTER}'@'%'")).await?;
    for procedure in PROCEDURES {
        let line = format!("GRANT EXECUTE ON PROCEDURE `mysql`.`{procedure}` TO `{MASTER}`@`%`");
        assert!(grants.contains(&line), "{line} missing from {grants:#?}");
    }
    let mut master = pair.master().await?;
    assert_eq!(
        code(
            master
                .query_drop("CALL mysql.ferry_rds_request('start_replication', '{}')")
                .await
        ),
        1370,
        "the helper is not granted"
    );
    assert_eq!(
        code(
            master
                .query_drop(
                    "INSERT INTO mysql.rds_agent_request (action, caller, connection_id, \
                     created_at) VALUES ('reset_external_master', 'x', 1, NOW())"
                )
                .await
        ),
        1142,
        "the master user cannot forge requests"
    );
    Ok(())
}

async fn refusals_before_configuration(
    pair: &Pair,
    master: &mut mysql_async::Conn,
    start: &BinlogCoord,
) -> anyhow::Result<()> {
    // The procedures are the only door.
    let direct = format!(
        "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {}",
        pair.source.port()
    );
    assert_eq!(code(master.query_drop(direct).await), 1227);
    assert_eq!(code(master.query_drop("START SLAVE").await), 1227);
    assert_eq!(
        code(master.query_drop("SET SESSION sql_log_bin = 0").await),
        1227
    );

    expect_error(
        master,
        "rds_start_replication()",
        messages::START_NOT_CONFIGURED,
    )
    .await;
    expect_error(
        master,
        "rds_stop_replication()",
        messages::STOP_NOT_CONFIGURED,
    )
    .await;
    expect_error(
        master,
        "rds_reset_external_master()",
        messages::RESET_NOT_CONFIGURED,
    )
    .await;
    expect_error(
        master,
        "rds_skip_repl_error()",
        messages::SKIP_NOT_CONFIGURED,
    )
    .await;
    expect_error(
        master,
        "rds_next_master_log(1)",
        messages::NEXT_LOG_NOT_CONFIGURED,
    )
    .await;

    let port = pair.source.port();
    let file = start.file.as_str();
    expect_error(
        master,
        &format!("rds_set_external_master('', {port}, 'repl', 'x', '{file}', 4, 0)"),
        "Invalid host_name: it must not be empty.",
    )
    .await;
    expect_error(
        master,
        &format!("rds_set_external_master('127.0.0.1', 0, 'repl', 'x', '{file}', 4, 0)"),
        "Invalid host_port 0: it must be between 1 and 65535.",
    )
    .await;
    expect_error(
        master,
        &format!("rds_set_external_master('127.0.0.1', {port}, 'repl', 'x', '{file}', NULL, 0)"),
        "Invalid mysql_binary_log_file_location: it must not be NULL.",
    )
    .await;
    // A negative position does not even reach the agent: the parameter is unsigned and the
    // procedures run in strict mode.
    let negative = call(
        master,
        &format!("rds_set_external_master('127.0.0.1', {port}, 'repl', 'x', '{file}', -1, 0)"),
    )
    .await;
    assert!(matches!(negative, Err((1264, _))), "{negative:?}");
    expect_error(
        master,
        &set_call(port, file, "4", 1),
        messages::SSL_MATERIAL_MISSING,
    )
    .await;
    let secret_pw = "s3cret-not-in-errors";
    expect_error(
        master,
        &format!(
            "rds_set_external_master('127.0.0.1', {port}, 'repl', '{secret_pw}\t', '{file}', 4, 0)"
        ),
        "Invalid replication_user_password: it must not contain control characters.",
    )
    .await;

    // Quotes in a value stay inside it: the user name below is stored as given.
    let sneaky = "repl', MASTER_HOST='10.9.9.9";
    let quoted = mysql_async::Value::from(sneaky).as_sql(false);
    expect_rows(
        master,
        &format!("rds_set_external_master('127.0.0.1', {port}, {quoted}, 'x', '{file}', 4, 0)"),
        &[],
    )
    .await;
    let status = replica_status(master).await?;
    assert_eq!(
        (status.master_user.as_str(), status.master_host.as_str()),
        (sneaky, "127.0.0.1")
    );
    expect_rows(master, "rds_reset_external_master()", &[messages::RESET]).await;
    assert!(SourceSecret::load(&pair.ctx.source_secret)?.is_none());

    // Inside a transaction sql_log_bin cannot change: refused with a clear message.
    master.query_drop("START TRANSACTION").await?;
    match call(master, "rds_start_replication()").await {
        Err((1644, text)) => assert!(text.contains("inside a transaction"), "{text}"),
        other => panic!("expected a refusal inside a transaction, got {other:?}"),
    }
    master.query_drop("ROLLBACK").await?;
    Ok(())
}

/// Heartbeat lag: 0 when caught up, growing while replication is stopped and the source
/// writes, 0 again after the start.
async fn monitor_sees_lag_and_catching_up(
    pair: &Pair,
    monitor: &mut Monitor,
    master: &mut mysql_async::Conn,
    src: &mut mysql_async::Conn,
    rep: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    let (sample, transitions) = monitor.sample(rep, Instant::now()).await?;
    assert_eq!(sample.lag_source, LagSource::Heartbeat, "{sample:?}");
    assert_eq!(sample.lag, Some(Duration::ZERO), "{sample:?}");
    assert!(sample.source_position.is_some());
    assert_eq!(transitions, [Transition::CaughtUp]);
    let _ = pair;

    expect_rows(master, "rds_stop_replication()", &[messages::STOPPED]).await;
    expect_error(
        master,
        "rds_stop_replication()",
        messages::STOP_ALREADY_STOPPED,
    )
    .await;
    let (_, transitions) = monitor.sample(rep, Instant::now()).await?;
    assert_eq!(transitions, [Transition::Stopped]);
    src.query_drop("INSERT INTO shop.items VALUES (5001, 'written while stopped')")
        .await?;
    let first = Instant::now();
    let (sample, _) = monitor.sample(rep, first).await?;
    assert_eq!(sample.lag_source, LagSource::Heartbeat);
    let (sample, _) = monitor
        .sample(rep, first + Duration::from_millis(1500))
        .await?;
    assert!(
        sample
            .lag
            .is_some_and(|lag| lag >= Duration::from_millis(1500)),
        "a stopped replica falls behind: {sample:?}"
    );

    expect_rows(master, "rds_start_replication()", &[messages::STARTED]).await;
    let deadline = Deadline::new("the monitor sees the replica catch up", WAIT);
    let mut seen = Vec::new();
    loop {
        let (sample, transitions) = monitor.sample(rep, Instant::now()).await?;
        seen.extend(transitions);
        if sample.lag == Some(Duration::ZERO) {
            break;
        }
        deadline.tick().await?;
    }
    assert_eq!(seen, [Transition::Started, Transition::CaughtUp]);
    Ok(())
}

async fn conflicting_row_breaks_and_is_skipped(
    monitor: &mut Monitor,
    master: &mut mysql_async::Conn,
    src: &mut mysql_async::Conn,
    rep: &mut mysql_async::Conn,
    agent: &mut AgentTask,
) -> anyhow::Result<()> {
    agent.drain();
    // The same row written on the replica directly (as an application mistake would), then
    // on the source: the replicated insert hits a duplicate key.
    rep.query_drop("SET SESSION sql_log_bin = 0").await?;
    rep.query_drop("INSERT INTO shop.items VALUES (100000, 'conflict')")
        .await?;
    src.query_drop("INSERT INTO shop.items VALUES (100000, 'conflict')")
        .await?;
    let deadline = Deadline::new("the SQL thread stops on the duplicate", WAIT);
    let (status, error) = loop {
        let status = replica_status(master).await?;
        // The server records the error a moment before the SQL thread has stopped: wait
        // for both.
        if let (Some(error), false) = (status.last_sql_error.clone(), status.sql_running) {
            break (status, error);
        }
        deadline.tick().await?;
    };
    assert_eq!(error.errno, 1062, "{error}");
    assert!(!status.sql_running && status.io_running == ThreadState::Yes);
    let (_, transitions) = monitor.sample(rep, Instant::now()).await?;
    match transitions.as_slice() {
        [Transition::Broke { error }] => {
            assert!(error.starts_with("SQL thread error 1062: "), "{error}")
        }
        other => panic!("expected Broke, got {other:?}"),
    }
    expect_error(
        master,
        "rds_start_replication()",
        messages::START_PARTLY_RUNNING,
    )
    .await;

    expect_rows(
        master,
        "rds_skip_repl_error()",
        &[
            "Statement in error has been skipped",
            "Slave is now running normally",
        ],
    )
    .await;
    wait_same_checksum(src, rep, "shop.items").await?;
    expect_error(master, "rds_skip_repl_error()", messages::SKIP_NO_ERROR).await;
    let notices = agent.drain();
    assert!(
        matches!(notices.as_slice(), [Notice::ErrorSkipped { error }] if error.contains("1062")),
        "{notices:?}"
    );
    let deadline = Deadline::new("the monitor sees replication running again", WAIT);
    let transitions = loop {
        let (_, transitions) = monitor.sample(rep, Instant::now()).await?;
        if !transitions.is_empty() {
            break transitions;
        }
        deadline.tick().await?;
    };
    assert_eq!(transitions[0], Transition::Started, "{transitions:?}");
    Ok(())
}

/// The source goes down mid-replication and comes back: the IO thread reconnects and every
/// row written before and after arrives.
async fn source_restart_loses_nothing(
    pair: &mut Pair,
    monitor: &mut Monitor,
    src: &mut mysql_async::Conn,
    rep: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    // The procedures set MASTER_CONNECT_RETRY = 60 (as RDS); a test cannot wait a minute for
    // the reconnect, so the interval is shortened here, behind the agent's back.
    rep.query_drop("STOP SLAVE").await?;
    rep.query_drop("CHANGE MASTER TO MASTER_CONNECT_RETRY = 1")
        .await?;
    rep.query_drop("START SLAVE").await?;
    src.query_drop(
        "INSERT INTO shop.items SELECT seq, 'before restart' FROM shop.seq_2001_to_2500",
    )
    .await?;
    pair.source.restart().await?;
    // While it was down (or just back), the monitor may fall back to Seconds_Behind_Master;
    // it must not fail.
    let (sample, _) = monitor.sample(rep, Instant::now()).await?;
    assert!(sample.status.is_some());
    let mut src2 = pair.source.admin_conn().await?;
    src2.query_drop(
        "INSERT INTO shop.items SELECT seq, 'after restart' FROM shop.seq_2501_to_3000",
    )
    .await?;
    wait_same_checksum(&mut src2, rep, "shop.items").await?;
    let count: Option<u64> = rep.query_first("SELECT COUNT(*) FROM shop.items").await?;
    assert_eq!(count, Some(1000 + 1 + 1 + 1000));
    // The monitor reconnects to the source (after its retry pause) and uses the heartbeat.
    let deadline = Deadline::new("the monitor's heartbeat after the source restart", WAIT);
    loop {
        let (sample, _) = monitor.sample(rep, Instant::now()).await?;
        if sample.lag_source == LagSource::Heartbeat {
            break;
        }
        deadline.tick().await?;
    }
    let _ = src;
    Ok(())
}

/// The replica's server restarts (skip-slave-start): resume restarts replication because it
/// was started and not stopped, with the connect retry ferry is now configured with (an
/// operator changed `[replication] connect_retry_seconds` and restarted ferry).
async fn replica_restart_resumes(
    pair: &mut Pair,
    src: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    pair.replica.restart().await?;
    let mut rep = pair.replica.admin_conn().await?;
    assert!(
        !replica_status(&mut rep).await?.any_running(),
        "skip-slave-start"
    );
    let before = replica_status(&mut rep).await?.connect_retry;
    let mut agent = Agent::new(AgentContext {
        connect_retry_secs: 2,
        ..pair.ctx.clone()
    });
    assert_eq!(
        agent.resume(&mut rep).await?,
        Some(Notice::Resumed {
            realigned: None,
            unchecked: None
        }),
        "a clean restart: relay-log.info is right"
    );
    assert_eq!(agent.resume(&mut rep).await?, None, "already running");
    assert_eq!(
        (before, replica_status(&mut rep).await?.connect_retry),
        (1, 2),
        "the retry set behind the agent's back, then the configured one"
    );
    src.query_drop("INSERT INTO shop.items VALUES (7000, 'after the replica restart')")
        .await?;
    wait_same_checksum(src, &mut rep, "shop.items").await?;
    Ok(())
}

async fn next_master_log(
    master: &mut mysql_async::Conn,
    src: &mut mysql_async::Conn,
    rep: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    let current = replica_status(master).await?.master_log_file;
    let number = BinlogCoord::new(current.clone(), 0)
        .file_number()
        .context("numbered binlog")?;
    expect_error(
        master,
        &format!("rds_next_master_log({})", number + 5),
        &format!(
            "The current master log is {current}, not number {}. Call \
             mysql.rds_next_master_log({number}).",
            number + 5
        ),
    )
    .await;
    // The situation the procedure exists for, made safe: everything of the current file has
    // been executed, the source moves to a new file.
    wait_same_checksum(src, rep, "shop.items").await?;
    expect_rows(master, "rds_stop_replication()", &[messages::STOPPED]).await;
    src.query_drop("FLUSH BINARY LOGS").await?;
    expect_rows(
        master,
        &format!("rds_next_master_log({number})"),
        &[messages::NEXT_LOG],
    )
    .await;
    let next = BinlogCoord::new(current.clone(), 0);
    let status = replica_status(master).await?;
    assert_eq!(
        BinlogCoord::new(status.master_log_file.clone(), 0).file_number(),
        Some(number + 1)
    );
    assert_eq!(
        BinlogCoord::new(status.master_log_file, 0).file_prefix(),
        next.file_prefix()
    );
    src.query_drop("INSERT INTO shop.items VALUES (7001, 'in the next log')")
        .await?;
    wait_same_checksum(src, rep, "shop.items").await?;
    Ok(())
}

async fn stop_and_reset(pair: &Pair, master: &mut mysql_async::Conn) -> anyhow::Result<()> {
    expect_rows(master, "rds_stop_replication()", &[messages::STOPPED]).await;
    expect_rows(master, "rds_reset_external_master()", &[messages::RESET]).await;
    expect_error(
        master,
        "rds_reset_external_master()",
        messages::RESET_NOT_CONFIGURED,
    )
    .await;
    expect_error(
        master,
        "rds_start_replication()",
        messages::START_NOT_CONFIGURED,
    )
    .await;
    assert!(ferry_replication::status::read(master).await?.is_none());
    assert!(SourceSecret::load(&pair.ctx.source_secret)?.is_none());
    Ok(())
}

/// `rds_set_external_master_with_auto_position` from the GTID ferry records at restore time,
/// then cutover: by GTID, a timeout, by position, and refusals.
async fn gtid_variant_and_cutover(
    pair: &Pair,
    master: &mut mysql_async::Conn,
    src: &mut mysql_async::Conn,
    rep: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    let port = pair.source.port();
    let password = mysql_async::Value::from(REPL_PASSWORD).as_sql(false);
    let auto = format!(
        "rds_set_external_master_with_auto_position('127.0.0.1', {port}, '{REPL_USER}', \
         {password}, 0)"
    );
    rep.query_drop("SET GLOBAL gtid_slave_pos = ''").await?;
    expect_error(master, &auto, messages::AUTO_POSITION_WITHOUT_GTID).await;

    // The replica has everything the source has; ferry sets the position the backup had.
    let at_backup = source::read_position(src).await?;
    let gtid = at_backup
        .gtid
        .clone()
        .context("the source has a GTID position")?;
    rep.query_drop(format!("SET GLOBAL gtid_slave_pos = '{gtid}'"))
        .await?;
    expect_rows(master, &auto, &[]).await;
    expect_rows(master, "rds_start_replication()", &[messages::STARTED]).await;
    let status = replica_status(master).await?;
    assert_eq!(status.using_gtid, UsingGtid::SlavePos);
    src.query_drop("INSERT INTO shop.items SELECT seq, 'gtid' FROM shop.seq_8000_to_8999")
        .await?;
    wait_same_checksum(src, rep, "shop.items").await?;

    // A target the source never reaches: timeout, replication keeps running.
    let unreachable = SourcePosition {
        coord: BinlogCoord::new(at_backup.coord.file.clone(), 1 << 40),
        gtid: None,
    };
    match cutover::wait_and_stop(rep, &unreachable, Duration::from_secs(2)).await {
        Err(ReplicationError::Timeout(text)) => {
            assert!(text.contains("keeps running"), "{text}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(replica_status(rep).await?.is_running());
    // A timeout that leaves a last slice under half a second: MariaDB rounds a
    // MASTER_POS_WAIT timeout to whole seconds, and 0 means "wait for ever".
    let waited = Instant::now();
    let short = tokio::time::timeout(
        Duration::from_secs(15),
        cutover::wait_and_stop(rep, &unreachable, Duration::from_millis(1300)),
    )
    .await
    .context("a cutover with a 1.3 s timeout must end")?;
    assert!(
        matches!(short, Err(ReplicationError::Timeout(_))),
        "{short:?}"
    );
    assert!(
        waited.elapsed() < Duration::from_secs(5),
        "{:?}",
        waited.elapsed()
    );
    assert!(replica_status(rep).await?.is_running());

    // Cutover by GTID: writes, source read-only, wait, stop.
    src.query_drop("INSERT INTO shop.items SELECT seq, 'last writes' FROM shop.seq_9000_to_9499")
        .await?;
    source::set_read_only(src, true).await?;
    let target = source::read_position(src).await?;
    let outcome = cutover::wait_and_stop(rep, &target, WAIT).await?;
    assert_eq!(outcome.method, WaitMethod::Gtid);
    assert_eq!(outcome.executed, target.coord);
    assert_eq!(outcome.gtid, target.gtid);
    assert!(!replica_status(rep).await?.any_running());
    assert_eq!(
        checksum(src, "shop.items").await?,
        checksum(rep, "shop.items").await?
    );
    // Cutover recorded a stop: a restart would not resume.
    let state: Option<String> = rep
        .query_first("SELECT state FROM mysql.rds_replication_status ORDER BY id DESC LIMIT 1")
        .await?;
    assert_eq!(state.as_deref(), Some("stopped"));
    assert!(matches!(
        cutover::wait_and_stop(rep, &target, WAIT).await,
        Err(ReplicationError::NotRunning { error: None })
    ));
    source::set_read_only(src, false).await?;

    // Cutover by file and position (a target without GTID).
    expect_rows(master, "rds_start_replication()", &[messages::STARTED]).await;
    src.query_drop("INSERT INTO shop.items VALUES (9999, 'by position')")
        .await?;
    let mut target = source::read_position(src).await?;
    target.gtid = None;
    let outcome = cutover::wait_and_stop(rep, &target, WAIT).await?;
    assert_eq!(outcome.method, WaitMethod::Position);
    assert_eq!(outcome.executed, target.coord);
    assert_eq!(
        checksum(src, "shop.items").await?,
        checksum(rep, "shop.items").await?
    );
    expect_rows(master, "rds_reset_external_master()", &[messages::RESET]).await;
    assert!(matches!(
        cutover::wait_and_stop(rep, &target, WAIT).await,
        Err(ReplicationError::NotConfigured)
    ));
    Ok(())
}

/// Every call is in `mysql.rds_history` without the password; nothing of the procedures'
/// bookkeeping is in the replica's binary log; the caller's session keeps binary logging on.
async fn what_was_recorded(
    master: &mut mysql_async::Conn,
    rep: &mut mysql_async::Conn,
) -> anyhow::Result<()> {
    let rows: Vec<(String, String, String, String, String)> = master
        .query(
            "SELECT caller, action, arguments, result, message FROM mysql.rds_history ORDER BY id",
        )
        .await?;
    assert!(rows.len() > 30, "{rows:#?}");
    for (caller, action, arguments, result, message) in &rows {
        assert!(
            !arguments.contains(REPL_PASSWORD)
                && !message.contains(REPL_PASSWORD)
                && !arguments.contains("s3cret-not-in-errors"),
            "a password in the history: {action} {arguments} {message}"
        );
        assert!(
            caller.starts_with("admin@") || caller == "ferry",
            "{caller}"
        );
        assert!(result == "ok" || result == "error");
    }
    let set = rows
        .iter()
        .find(|(_, action, _, result, _)| action == "set_external_master" && result == "ok")
        .context("a successful set_external_master in the history")?;
    assert!(
        set.2
            .contains("\"replication_user_password\":\"<redacted>\""),
        "{}",
        set.2
    );
    assert!(rows.iter().any(
        |(_, action, _, result, message)| action == "start_replication"
            && result == "error"
            && message == messages::START_NOT_CONFIGURED
    ));
    assert!(rows.iter().any(|(_, action, ..)| action == "cutover"));
    assert!(rows
        .iter()
        .any(|(_, action, ..)| action == "resume_replication"));
    let pending: Option<u64> = master
        .query_first("SELECT COUNT(*) FROM mysql.rds_agent_request")
        .await?;
    assert_eq!(pending, Some(0));

    let log_bin: Option<i64> = master.query_first("SELECT @@session.sql_log_bin").await?;
    assert_eq!(
        log_bin,
        Some(1),
        "the procedures restore the caller's sql_log_bin"
    );
    let infos = binlog_infos(rep).await?;
    let leaks: Vec<&String> = infos
        .iter()
        .filter(|info| {
            info.contains("rds_") || info.contains("ferry_rds") || info.contains("TRUNCATE")
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "replication bookkeeping in the replica's binlog: {leaks:#?}"
    );
    Ok(())
}
