//! A file-and-position replica whose `relay-log.info` is one transaction behind what it
//! committed (what a SIGKILL between the commit and that file's write leaves) resumes after
//! that transaction, found by the GTID `gtid_slave_pos` recorded; coordinates further back
//! (set on purpose) are kept. The kill itself is in `crates/cli/tests/replication_faults.rs`;
//! here the state it leaves is made exactly, by moving the replica's coordinates back.

mod common;

use common::*;
use ferry_replication::agent::{messages, Agent, Notice};
use ferry_replication::source::{self, BinlogCoord};
use ferry_testkit::TestServerOptions;
use mysql_async::prelude::Queryable;

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_behind_its_own_commits_resumes_after_them() -> anyhow::Result<()> {
    let pair = Pair::start(
        TestServerOptions::with_binlog(1),
        TestServerOptions::with_binlog(2),
    )
    .await?;
    let mut master = pair.master().await?;
    let mut src = pair.source.admin_conn().await?;
    let start = source::read_position(&mut src).await?.coord;
    src.query_drop("CREATE DATABASE r").await?;
    src.query_drop("CREATE TABLE r.t (id INT PRIMARY KEY) ENGINE=InnoDB")
        .await?;
    // One transaction per row; the source's position before each.
    let mut before: Vec<BinlogCoord> = Vec::new();
    for id in 1..=3 {
        before.push(source::read_position(&mut src).await?.coord);
        src.query_drop(format!("INSERT INTO r.t VALUES ({id})"))
            .await?;
    }
    let end = source::read_position(&mut src).await?.coord;

    let agent = AgentTask::spawn(&pair.replica, pair.ctx.clone());
    let password = mysql_async::Value::from(REPL_PASSWORD).as_sql(false);
    expect_rows(
        &mut master,
        &format!(
            "rds_set_external_master('127.0.0.1', {}, '{REPL_USER}', {password}, '{}', {}, 0)",
            pair.source.port(),
            start.file,
            start.pos
        ),
        &[],
    )
    .await;
    expect_rows(&mut master, "rds_start_replication()", &[messages::STARTED]).await;
    let mut admin = pair.replica.admin_conn().await?;
    let deadline = Deadline::new("the replica executed the source's position", WAIT);
    loop {
        let s = replica_status(&mut admin).await?;
        if s.relay_master_log_file == end.file && s.exec_master_log_pos == end.pos {
            break;
        }
        if let Some(error) = s.error_text() {
            anyhow::bail!("replication broke: {error}");
        }
        deadline.tick().await?;
    }
    agent.stop().await;

    // What a kill between the last commit and the relay-log.info write leaves: coordinates
    // one transaction back, gtid_slave_pos at that transaction.
    for sql in [
        "STOP SLAVE".to_owned(),
        format!(
            "CHANGE MASTER TO MASTER_LOG_FILE = '{}', MASTER_LOG_POS = {}",
            before[2].file, before[2].pos
        ),
    ] {
        admin.query_drop(sql).await?;
    }
    let notice = Agent::new(pair.ctx.clone()).resume(&mut admin).await?;
    let Some(Notice::Resumed {
        realigned: Some(realigned),
        unchecked: None,
    }) = notice
    else {
        anyhow::bail!("expected a realigned resume, got {notice:?}");
    };
    assert_eq!(realigned.from, before[2]);
    assert_eq!(
        realigned.to, end,
        "just after the last committed transaction"
    );
    let status = replica_status(&mut admin).await?;
    assert!(!status.using_gtid.is_gtid(), "still file and position");
    src.query_drop("INSERT INTO r.t VALUES (4)").await?;
    wait_same_checksum(&mut src, &mut admin, "r.t").await?;
    let status = replica_status(&mut admin).await?;
    assert!(status.error_text().is_none(), "{:?}", status.error_text());

    // Coordinates two transactions back were set on purpose: kept (and the replay fails on
    // the duplicate, as the master user asked for).
    let last = source::read_position(&mut src).await?.coord;
    let deadline = Deadline::new("the replica executed the last insert", WAIT);
    while replica_status(&mut admin).await?.exec_master_log_pos != last.pos {
        deadline.tick().await?;
    }
    for sql in [
        "STOP SLAVE".to_owned(),
        format!(
            "CHANGE MASTER TO MASTER_LOG_FILE = '{}', MASTER_LOG_POS = {}",
            before[1].file, before[1].pos
        ),
    ] {
        admin.query_drop(sql).await?;
    }
    let notice = Agent::new(pair.ctx.clone()).resume(&mut admin).await?;
    assert_eq!(
        notice,
        Some(Notice::Resumed {
            realigned: None,
            unchecked: None
        })
    );
    Ok(())
}
