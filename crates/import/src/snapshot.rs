//! A consistent snapshot of a live MySQL/MariaDB source, written as a mysqldump-format text
//! into a bounded in-memory pipe the loader reads: `ferry migrate logical` loads a source
//! into a cluster with no intermediate file, then starts replication from the snapshot's
//! binlog coordinates.
//!
//! How the snapshot is taken (what `mydumper` does, and `mariadb-dump --single-transaction
//! --master-data`, on several connections):
//! 1. `FLUSH TABLES WITH READ LOCK` on a control connection (writes stop for a moment);
//! 2. on each of the `connections` readers, `START TRANSACTION WITH CONSISTENT SNAPSHOT`
//!    (REPEATABLE READ, UTC, utf8mb4): all see the same instant;
//! 3. the table list, and the binlog coordinates and GTID of that instant, are read;
//! 4. `UNLOCK TABLES`: the source takes writes again while the readers copy.
//!
//! Without the RELOAD privilege (FLUSH refused) a MariaDB source still gives a consistent
//! snapshot on one connection: its `Binlog_snapshot_file` / `Binlog_snapshot_position`
//! status are the coordinates of that connection's snapshot ([`Method::SnapshotStatus`]),
//! and `BINLOG_GTID_POS()` turns them into a GTID. MySQL has no such status: refused.
//!
//! Only InnoDB (transactional) tables are consistent after step 4, as with mysqldump
//! `--single-transaction`; DDL on the source during the copy is not supported (the same
//! limits as mysqldump's).
//!
//! The text ([`generate`]) is what `mariadb-dump --skip-lock-tables --skip-disable-keys
//! --hex-blob --routines --triggers --events` writes, with an explicit column list in every
//! INSERT (generated columns left out). Tables are read concurrently, one per reader
//! connection, each into its own bounded queue, and written out in table order: memory is
//! bounded by `connections` queues and the pipe, whatever the source's size.

mod catalog;
mod generate;
pub mod pipe;
mod value;

use ferry_replication::source::{read_position, SourceEndpoint, SourcePosition};
use ferry_replication::ReplicationError;
use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;
use tokio::sync::oneshot;

pub use catalog::{Catalog, Database, Table, TableKind};
pub use pipe::PipeReader;

/// What to copy and how.
#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// Databases to copy; empty: every database but the system ones.
    pub databases: Vec<String>,
    /// Reader connections (each holds one snapshot transaction).
    pub connections: usize,
    /// Bytes the pipe to the loader holds.
    pub pipe_bytes: usize,
    /// Target size of one extended INSERT (a longer row makes a longer statement alone).
    pub statement_bytes: usize,
    /// Statements queued per reader connection.
    pub queue_statements: usize,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            databases: Vec::new(),
            connections: 4,
            pipe_bytes: 8 << 20,
            statement_bytes: 1 << 20,
            queue_statements: 4,
        }
    }
}

/// How the snapshot's coordinates were made consistent with its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `FLUSH TABLES WITH READ LOCK` held while the readers started their transactions.
    ReadLock,
    /// MariaDB's `Binlog_snapshot_file/position` of one reader's transaction (no RELOAD).
    SnapshotStatus,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Source(#[from] ReplicationError),
    /// A statement on the source failed.
    #[error("{what} on the source {endpoint}: {error}")]
    Query {
        endpoint: String,
        what: String,
        error: String,
    },
    /// No way to a consistent snapshot with binlog coordinates.
    #[error("no consistent snapshot of the source {endpoint}: {reason}")]
    NotConsistent { endpoint: String, reason: String },
    #[error("database `{database}` does not exist on the source {endpoint}")]
    NoDatabase { endpoint: String, database: String },
    /// The loader stopped reading (its own error says why).
    #[error("the loader stopped reading the snapshot")]
    ReaderGone,
    #[error("the snapshot thread: {0}")]
    Thread(String),
}

impl From<pipe::ReaderGone> for SnapshotError {
    fn from(_: pipe::ReaderGone) -> Self {
        SnapshotError::ReaderGone
    }
}

/// What the generator wrote, when it is done.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    pub tables: u64,
    pub rows: u64,
    pub bytes: u64,
}

/// A snapshot being streamed.
pub struct Snapshot {
    /// The binlog coordinates and GTID of the snapshot's instant.
    pub position: SourcePosition,
    pub method: Method,
    /// Reader connections actually used (1 with [`Method::SnapshotStatus`]).
    pub connections: usize,
    /// The databases being copied, in order.
    pub databases: Vec<String>,
    /// The source server's `VERSION()`.
    pub version: String,
    /// The dump text, for [`crate::import`].
    pub input: PipeReader,
    /// The generator's outcome, when the whole text was written (or it failed).
    pub done: oneshot::Receiver<Result<Generated, SnapshotError>>,
}

/// The system databases never copied.
pub const SYSTEM_DATABASES: [&str; 4] =
    ["mysql", "information_schema", "performance_schema", "sys"];

/// Takes the snapshot and starts writing it. Returns once the snapshot is taken (the source
/// is unlocked); the text then flows through [`Snapshot::input`].
///
/// The generator runs on a thread of its own (with its own runtime), so the loader may read
/// the pipe blocking any thread, a runtime's included.
pub async fn start(
    source: &SourceEndpoint,
    opts: &SnapshotOptions,
) -> Result<Snapshot, SnapshotError> {
    let (writer, input) = pipe::pipe(opts.pipe_bytes.max(1));
    let (taken_tx, taken_rx) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    let source = source.clone();
    let opts = opts.clone();
    std::thread::Builder::new()
        .name("ferry-snapshot".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = taken_tx.send(Err(SnapshotError::Thread(e.to_string())));
                    return;
                }
            };
            rt.block_on(async move {
                let taken = match take(&source, &opts).await {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = taken_tx.send(Err(e));
                        return;
                    }
                };
                let info = (
                    taken.position.clone(),
                    taken.method,
                    taken.readers.len(),
                    taken
                        .catalog
                        .databases
                        .iter()
                        .map(|d| d.name.clone())
                        .collect::<Vec<String>>(),
                    taken.version.clone(),
                );
                if taken_tx.send(Ok(info)).is_err() {
                    return;
                }
                let result = generate::generate(&source, taken, &opts, writer).await;
                let _ = done_tx.send(result);
            });
        })
        .map_err(|e| SnapshotError::Thread(e.to_string()))?;
    let (position, method, connections, databases, version) = taken_rx
        .await
        .map_err(|_| SnapshotError::Thread("the snapshot thread ended early".into()))??;
    Ok(Snapshot {
        position,
        method,
        connections,
        databases,
        version,
        input,
        done,
    })
}

/// The snapshot's connections, coordinates and table list.
pub(crate) struct Taken {
    pub control: Conn,
    pub readers: Vec<Conn>,
    pub position: SourcePosition,
    pub method: Method,
    pub catalog: Catalog,
    pub version: String,
}

const ER_DBACCESS_DENIED: u16 = 1044;
const ER_ACCESS_DENIED: u16 = 1045;
const ER_SPECIFIC_ACCESS_DENIED: u16 = 1227;
const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;

/// How long `FLUSH TABLES WITH READ LOCK` may wait for running statements.
pub const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Long enough for a reader that waits hours for its turn in the output (the server would
/// otherwise drop a connection whose results are not read for `net_write_timeout`).
const LONG_TIMEOUT: u32 = 31_536_000;

pub(crate) fn query_error(
    endpoint: &SourceEndpoint,
    what: impl Into<String>,
) -> impl FnOnce(mysql_async::Error) -> SnapshotError {
    let endpoint = endpoint.to_string();
    let what = what.into();
    move |e| SnapshotError::Query {
        endpoint,
        what,
        error: e.to_string(),
    }
}

fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// A reader's session: what the generated text assumes (UTC, utf8mb4) and no timeouts.
async fn prepare_reader(conn: &mut Conn, source: &SourceEndpoint) -> Result<(), SnapshotError> {
    for sql in [
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ".to_owned(),
        "SET SESSION time_zone = '+00:00'".to_owned(),
        "SET NAMES utf8mb4".to_owned(),
        format!("SET SESSION net_write_timeout = {LONG_TIMEOUT}, net_read_timeout = {LONG_TIMEOUT}, wait_timeout = {LONG_TIMEOUT}"),
    ] {
        conn.query_drop(&sql).await.map_err(query_error(source, sql))?;
    }
    // MariaDB's statement time limit (a server default could kill a long SELECT); MySQL
    // has none of that name.
    match conn.query_drop("SET SESSION max_statement_time = 0").await {
        Err(e) if server_code(&e) != Some(ER_UNKNOWN_SYSTEM_VARIABLE) => {
            Err(query_error(source, "SET SESSION max_statement_time = 0")(e))
        }
        _ => Ok(()),
    }
}

async fn start_transaction(conn: &mut Conn, source: &SourceEndpoint) -> Result<(), SnapshotError> {
    let sql = "START TRANSACTION WITH CONSISTENT SNAPSHOT";
    conn.query_drop(sql).await.map_err(query_error(source, sql))
}

async fn take(source: &SourceEndpoint, opts: &SnapshotOptions) -> Result<Taken, SnapshotError> {
    let mut control = source.connect().await?;
    let version: String = control
        .query_first("SELECT VERSION()")
        .await
        .map_err(query_error(source, "SELECT VERSION()"))?
        .unwrap_or_default();
    let mut readers = Vec::new();
    for _ in 0..opts.connections.max(1) {
        let mut conn = source.connect().await?;
        prepare_reader(&mut conn, source).await?;
        readers.push(conn);
    }
    prepare_reader(&mut control, source).await?;
    // FLUSH TABLES WITH READ LOCK waits for running statements while blocking new writes:
    // give up after a while rather than stall the source's application.
    let sql = format!("SET SESSION lock_wait_timeout = {}", FLUSH_WAIT.as_secs());
    control
        .query_drop(&sql)
        .await
        .map_err(query_error(source, &sql))?;

    match control.query_drop("FLUSH TABLES WITH READ LOCK").await {
        Ok(()) => {
            let locked = async {
                for conn in readers.iter_mut() {
                    start_transaction(conn, source).await?;
                }
                let position = read_position(&mut control).await?;
                let catalog = catalog::read(&mut control, source, &opts.databases).await?;
                Ok::<_, SnapshotError>((position, catalog))
            }
            .await;
            // Unlock whatever happened (a failure above must not leave the source locked;
            // closing the connection would unlock too).
            let unlocked = control
                .query_drop("UNLOCK TABLES")
                .await
                .map_err(query_error(source, "UNLOCK TABLES"));
            let (position, catalog) = locked?;
            unlocked?;
            Ok(Taken {
                control,
                readers,
                position,
                method: Method::ReadLock,
                catalog,
                version,
            })
        }
        Err(e)
            if matches!(
                server_code(&e),
                Some(ER_SPECIFIC_ACCESS_DENIED | ER_ACCESS_DENIED | ER_DBACCESS_DENIED)
            ) =>
        {
            if !version.to_ascii_lowercase().contains("mariadb") {
                return Err(SnapshotError::NotConsistent {
                    endpoint: source.to_string(),
                    reason: format!(
                        "FLUSH TABLES WITH READ LOCK was refused ({e}) and MySQL has no binlog \
                         snapshot status to fall back on: grant {} the RELOAD privilege",
                        source.user
                    ),
                });
            }
            tracing::warn!(
                source = %source,
                "FLUSH TABLES WITH READ LOCK was refused ({e}): one connection, coordinates from Binlog_snapshot_file/position"
            );
            let mut reader = readers.swap_remove(0);
            for extra in readers {
                let _ = extra.disconnect().await;
            }
            start_transaction(&mut reader, source).await?;
            let position = snapshot_status(&mut reader, source).await?;
            let catalog = catalog::read(&mut control, source, &opts.databases).await?;
            Ok(Taken {
                control,
                readers: vec![reader],
                position,
                method: Method::SnapshotStatus,
                catalog,
                version,
            })
        }
        Err(e) => Err(query_error(source, "FLUSH TABLES WITH READ LOCK")(e)),
    }
}

/// MariaDB: the coordinates of this connection's consistent snapshot.
async fn snapshot_status(
    conn: &mut Conn,
    source: &SourceEndpoint,
) -> Result<SourcePosition, SnapshotError> {
    let sql = "SHOW STATUS LIKE 'binlog_snapshot_%'";
    let rows: Vec<(String, String)> = conn.query(sql).await.map_err(query_error(source, sql))?;
    let get = |name: &str| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let file = get("Binlog_snapshot_file").filter(|f| !f.is_empty());
    let pos = get("Binlog_snapshot_position").and_then(|p| p.parse::<u64>().ok());
    let (Some(file), Some(pos)) = (file, pos) else {
        return Err(SnapshotError::NotConsistent {
            endpoint: source.to_string(),
            reason: "its Binlog_snapshot_file is empty: is the binary log enabled (log_bin)?"
                .into(),
        });
    };
    let gtid = conn
        .exec_first::<Option<String>, _, _>("SELECT BINLOG_GTID_POS(?, ?)", (file.as_str(), pos))
        .await
        .map_err(query_error(source, "SELECT BINLOG_GTID_POS()"))?
        .flatten();
    Ok(SourcePosition {
        coord: ferry_replication::source::BinlogCoord::new(file, pos),
        gtid: gtid.filter(|g| !g.is_empty()),
    })
}
