//! Shared helpers for the replication integration tests: a source and a replica server set up
//! as ferry sets up a cluster (admin account, master user, procedures installed), the agent
//! served in the background as the control plane does, calls made as the master user over
//! TCP, and waits with deadlines.

#![allow(dead_code)] // each test binary uses a different subset

use std::time::Duration;

use anyhow::{bail, Context as _};
use camino::Utf8PathBuf;
use ferry_replication::agent::{Agent, AgentContext, Notice, POLL_INTERVAL};
use ferry_replication::procedures;
use ferry_replication::ssl::SslDir;
use ferry_testkit::{TestServer, TestServerOptions};
use mysql_async::prelude::Queryable;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The cluster's master user (as `ferry_engine::set_master_user` makes it).
pub const MASTER: &str = "admin";
pub const MASTER_PASSWORD: &str = "Master-pass'1";
/// The replication user on the source. The password has characters that need quoting.
pub const REPL_USER: &str = "repl";
pub const REPL_PASSWORD: &str = "r3pl'pa\\ss\"word";

/// A source (binlog ROW, server id 1) and a replica (binlog on too, server id 2), the
/// replica with the master user and the procedures installed.
pub struct Pair {
    pub source: TestServer,
    pub replica: TestServer,
    pub ctx: AgentContext,
    /// Where `ctx` points (kept alive with the pair).
    pub files: tempfile::TempDir,
}

impl Pair {
    pub async fn start(
        source_options: TestServerOptions,
        replica_options: TestServerOptions,
    ) -> anyhow::Result<Pair> {
        let (source, replica) = tokio::try_join!(
            TestServer::start(source_options),
            TestServer::start(replica_options)
        )?;
        let files = ferry_testkit::short_tempdir();
        let root = Utf8PathBuf::from_path_buf(files.path().to_path_buf())
            .map_err(|p| anyhow::anyhow!("{} is not UTF-8", p.display()))?;
        let ctx = AgentContext {
            ssl: SslDir::new(root.join("ssl"), None),
            source_secret: root.join("source.json"),
            connect_retry_secs: ferry_replication::agent::DEFAULT_CONNECT_RETRY_SECS,
        };
        // As the control plane does: procedures first (a grant needs the routine), then the
        // master user, which keeps EXECUTE on them and loses everything else it had.
        let mut admin = replica.admin_conn().await?;
        // ferry's own accounts are the cluster's business, not its binlog's.
        admin.query_drop("SET SESSION sql_log_bin = 0").await?;
        procedures::install(&mut admin, &[])
            .await
            .context("install the procedures")?;
        ferry_engine::set_master_user(&mut admin, MASTER, MASTER_PASSWORD, procedures::PROCEDURES)
            .await
            .context("set the master user")?;
        let mut source_admin = source.admin_conn().await?;
        create_repl_user(&mut source_admin, "").await?;
        Ok(Pair {
            source,
            replica,
            ctx,
            files,
        })
    }

    pub async fn master(&self) -> anyhow::Result<mysql_async::Conn> {
        self.replica.tcp_conn(MASTER, MASTER_PASSWORD).await
    }
}

/// Creates the replication user on the source (`REPLICATION SLAVE` and `BINLOG MONITOR`, so
/// the monitor can read the position), with `require` (e.g. `REQUIRE SSL`) appended.
pub async fn create_repl_user(conn: &mut mysql_async::Conn, require: &str) -> anyhow::Result<()> {
    let password = mysql_async::Value::from(REPL_PASSWORD).as_sql(false);
    conn.query_drop(format!(
        "CREATE OR REPLACE USER '{REPL_USER}'@'%' IDENTIFIED BY {password} {require}"
    ))
    .await
    .context("create the replication user")?;
    conn.query_drop(format!(
        "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{REPL_USER}'@'%'"
    ))
    .await
    .context("grant the replication user")?;
    Ok(())
}

/// The agent served every [`POLL_INTERVAL`] on its own task, reconnecting when the server
/// restarts, as the control plane runs it.
pub struct AgentTask {
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    pub notices: mpsc::UnboundedReceiver<Notice>,
}

impl AgentTask {
    pub fn spawn(server: &TestServer, ctx: AgentContext) -> AgentTask {
        let opts = mysql_async::OptsBuilder::default()
            .socket(Some(server.socket().as_str()))
            .user(Some(server.admin().user.clone()))
            .pass(Some(server.admin().password.expose()));
        let (stop_tx, mut stop_rx) = oneshot::channel();
        let (notice_tx, notices) = mpsc::unbounded_channel();
        let handle = tokio::spawn(async move {
            let mut agent = Agent::new(ctx);
            let mut conn: Option<mysql_async::Conn> = None;
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                }
                if conn.is_none() {
                    match mysql_async::Conn::new(opts.clone()).await {
                        Ok(c) => conn = Some(c),
                        Err(_) => continue, // the server is restarting
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                match agent.serve(c).await {
                    Ok(found) => {
                        for notice in found {
                            let _ = notice_tx.send(notice);
                        }
                    }
                    Err(error) => {
                        eprintln!("agent: {error}");
                        conn = None;
                    }
                }
            }
            if let Some(c) = conn {
                let _ = c.disconnect().await;
            }
        });
        AgentTask {
            stop: Some(stop_tx),
            handle: Some(handle),
            notices,
        }
    }

    /// Every notice received so far.
    pub fn drain(&mut self) -> Vec<Notice> {
        let mut out = Vec::new();
        while let Ok(notice) = self.notices.try_recv() {
            out.push(notice);
        }
        out
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for AgentTask {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

/// A procedure call's outcome: the `Message` rows of every result set, or the server's error
/// `(code, message)`.
pub type CallResult = Result<Vec<String>, (u16, String)>;

/// Runs `CALL mysql.<statement>` and collects what the caller sees.
pub async fn call(conn: &mut mysql_async::Conn, statement: &str) -> CallResult {
    let sql = format!("CALL mysql.{statement}");
    let server_error = |error: mysql_async::Error| match error {
        mysql_async::Error::Server(server) => (server.code, server.message),
        other => panic!("{sql}: not a server error: {other}"),
    };
    let mut result = conn.query_iter(sql.as_str()).await.map_err(server_error)?;
    let mut messages = Vec::new();
    while !result.is_empty() {
        let rows: Vec<mysql_async::Row> = result.collect().await.map_err(server_error)?;
        for row in rows {
            let names: Vec<String> = row
                .columns_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect();
            assert_eq!(names, ["Message"], "{sql}: result columns");
            let text: String = row.get(0).unwrap_or_default();
            messages.push(text);
        }
    }
    Ok(messages)
}

/// Asserts a call answered exactly these rows.
pub async fn expect_rows(conn: &mut mysql_async::Conn, statement: &str, rows: &[&str]) {
    let got = call(conn, statement).await;
    assert_eq!(
        got,
        Ok(rows.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        "CALL mysql.{statement}"
    );
}

/// Asserts a call failed with `SIGNAL SQLSTATE '45000'` (error 1644) and this text (or one
/// starting with it when `prefix`).
pub async fn expect_error(conn: &mut mysql_async::Conn, statement: &str, text: &str) {
    match call(conn, statement).await {
        Err((1644, message)) => assert!(
            message == text
                || (text.ends_with("...") && message.starts_with(text.trim_end_matches("..."))),
            "CALL mysql.{statement}: got {message:?}, expected {text:?}"
        ),
        other => panic!("CALL mysql.{statement}: expected error 1644 {text:?}, got {other:?}"),
    }
}

/// A deadline for a polling loop: `loop { if done { break } deadline.tick().await?; }`.
pub struct Deadline {
    what: String,
    within: Duration,
    at: tokio::time::Instant,
}

impl Deadline {
    pub fn new(what: impl Into<String>, within: Duration) -> Deadline {
        Deadline {
            what: what.into(),
            within,
            at: tokio::time::Instant::now() + within,
        }
    }

    /// Fails once the deadline has passed, else pauses 100 ms.
    pub async fn tick(&self) -> anyhow::Result<()> {
        if tokio::time::Instant::now() >= self.at {
            bail!("{}: not within {:?}", self.what, self.within);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok(())
    }
}

/// `CHECKSUM TABLE` of `table` on a connection.
pub async fn checksum(conn: &mut mysql_async::Conn, table: &str) -> anyhow::Result<Option<u64>> {
    let row: Option<(String, Option<u64>)> = conn
        .query_first(format!("CHECKSUM TABLE {table}"))
        .await
        .with_context(|| format!("CHECKSUM TABLE {table}"))?;
    Ok(row.and_then(|(_, sum)| sum))
}

/// Waits until `table` has the same checksum on both servers.
pub async fn wait_same_checksum(
    source: &mut mysql_async::Conn,
    replica: &mut mysql_async::Conn,
    table: &str,
) -> anyhow::Result<u64> {
    let want = checksum(source, table)
        .await?
        .with_context(|| format!("{table} exists on the source"))?;
    let deadline = Deadline::new(
        format!("{table} on the replica matches the source"),
        Duration::from_secs(30),
    );
    loop {
        // An error means the table is not there yet.
        if checksum(replica, table).await.ok().flatten() == Some(want) {
            return Ok(want);
        }
        deadline.tick().await?;
    }
}

/// The replica's status, which must be configured.
pub async fn replica_status(
    conn: &mut mysql_async::Conn,
) -> anyhow::Result<ferry_replication::status::ReplicaStatus> {
    ferry_replication::status::read(conn)
        .await?
        .context("replication is configured")
}

/// Every event of every binlog of a server, as `SHOW BINLOG EVENTS` prints its `Info`.
pub async fn binlog_infos(conn: &mut mysql_async::Conn) -> anyhow::Result<Vec<String>> {
    let logs: Vec<mysql_async::Row> = conn.query("SHOW BINARY LOGS").await?;
    let mut infos = Vec::new();
    for log in logs {
        let name: String = log.get(0).context("log name")?;
        let events: Vec<mysql_async::Row> = conn
            .query(format!("SHOW BINLOG EVENTS IN '{name}'"))
            .await?;
        for event in events {
            let info: Option<String> = event.get("Info");
            infos.push(info.unwrap_or_default());
        }
    }
    Ok(infos)
}
