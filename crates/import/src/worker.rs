//! Worker connections: each takes a data unit (consecutive INSERTs of one table), loads it in
//! one transaction that also records the unit in `ferry_import_state.units`, and reports back.
//! A dropped connection is retried with backoff: the uncommitted transaction is redone on a
//! new connection unless the target shows the unit committed after all.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, Opts, OptsBuilder};
use tokio::sync::mpsc;

use crate::deferred::head;
use crate::error::{is_connection_lost, ImportError};
use crate::session::{quote_ident, Snapshot};
use crate::state::STATE_SCHEMA;
use crate::{Failure, Target};

mod load_data;

/// How long a lost connection is retried before the import gives up.
pub(crate) const RETRY_BUDGET: Duration = Duration::from_secs(180);

/// One statement of a unit.
pub(crate) struct UnitStatement {
    pub sql: Vec<u8>,
    pub line: u64,
}

/// Consecutive INSERTs of one table, loaded in one transaction.
pub(crate) struct Unit {
    /// The first statement's byte offset in the dump: the unit's identity across runs.
    pub id: u64,
    /// `schema.table`, for the loader's bookkeeping.
    pub table: String,
    pub database: Option<String>,
    /// Shared so that a LOAD DATA stream can convert them as it sends.
    pub statements: Arc<Vec<UnitStatement>>,
    pub rows: u64,
    pub bytes: u64,
    pub session: Snapshot,
    /// Not rows: the table's deferred secondary indexes, built with one ALTER TABLE (its one
    /// statement). Not recorded in the state table: it checks which keys exist instead.
    pub indexes: Option<IndexBuild>,
}

/// The secondary indexes a table was created without.
pub(crate) struct IndexBuild {
    pub schema: String,
    pub table: String,
    pub keys: Vec<ferry_dump::SecondaryKey>,
}

impl IndexBuild {
    /// `ALTER TABLE `schema`.`table` ADD <key>, ADD <key>, ..` for `keys`.
    pub fn alter_sql<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k ferry_dump::SecondaryKey>,
    ) -> Vec<u8> {
        let mut sql = format!(
            "ALTER TABLE {}.{} ",
            quote_ident(&self.schema),
            quote_ident(&self.table)
        )
        .into_bytes();
        for (i, k) in keys.into_iter().enumerate() {
            if i > 0 {
                sql.extend_from_slice(b", ");
            }
            sql.extend_from_slice(b"ADD ");
            sql.extend_from_slice(&k.definition);
        }
        sql
    }
}

/// What a worker reports for a unit.
pub(crate) struct Done {
    pub id: u64,
    pub table: String,
    pub rows: u64,
    /// An index build, not rows.
    pub indexes: bool,
    pub failures: Vec<Failure>,
    pub error: Option<ImportError>,
}

pub(crate) fn opts(target: &Target) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname(target.host.clone())
        .tcp_port(target.port)
        .prefer_socket(false)
        .user(Some(target.user.clone()))
        .pass(Some(target.password.expose().to_owned()))
        .stmt_cache_size(0)
        .into()
}

/// Connects, retrying with backoff for up to [`RETRY_BUDGET`] when `retry` (a server
/// restarting); the first attempt's error otherwise.
pub(crate) async fn connect(target: &Target, retry: bool) -> Result<Conn, ImportError> {
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match Conn::new(opts(target)).await {
            Ok(c) => return Ok(c),
            Err(e) if retry && is_connection_lost(&e) && start.elapsed() < RETRY_BUDGET => {
                tracing::warn!(target = %target.describe(), error = %e, "connect failed, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(ImportError::Connect {
                    target: target.describe(),
                    error: e.to_string(),
                })
            }
        }
    }
}

pub(crate) struct Worker {
    pub target: Target,
    pub source_name: String,
    pub continue_on_error: bool,
    /// Send rows as LOAD DATA LOCAL input where they convert (`load_data.rs`).
    pub load_data: bool,
    /// The server refused LOAD DATA LOCAL: INSERTs from then on.
    pub load_data_refused: std::sync::atomic::AtomicBool,
    /// Rows committed through LOAD DATA, for the summary.
    pub load_data_rows: Arc<std::sync::atomic::AtomicU64>,
    pub units: Arc<crate::units::Units>,
    pub done: mpsc::UnboundedSender<Done>,
}

/// The connection's state as far as units care.
struct Session {
    conn: Conn,
    applied: Option<u64>,
    database: Option<String>,
    /// Under the applied session: the character set LOAD DATA must read rows in, or why
    /// rows cannot go as LOAD DATA (`None`: not asked yet).
    load_charset: Option<Result<String, String>>,
}

enum Attempt {
    Committed(Vec<Failure>),
    Failed(ImportError),
    ConnectionLost(mysql_async::Error),
}

impl Worker {
    pub async fn run(self) {
        let mut session: Option<Session> = None;
        while let Some(unit) = self.units.next().await {
            let (failures, error) = self.load(&mut session, &unit).await;
            let failed = error.is_some();
            if unit.indexes.is_none() {
                self.units.finished(&unit.table);
            }
            let _ = self.done.send(Done {
                id: unit.id,
                table: unit.table,
                rows: unit.rows,
                indexes: unit.indexes.is_some(),
                failures,
                error,
            });
            if failed {
                break;
            }
        }
        if let Some(s) = session {
            let _ = s.conn.disconnect().await;
        }
    }

    async fn load(
        &self,
        session: &mut Option<Session>,
        unit: &Unit,
    ) -> (Vec<Failure>, Option<ImportError>) {
        let start = std::time::Instant::now();
        let mut delay = Duration::from_millis(200);
        let mut lost_once = false;
        loop {
            if session.is_none() {
                match connect(&self.target, true).await {
                    Ok(conn) => {
                        *session = Some(Session {
                            conn,
                            applied: None,
                            database: None,
                            load_charset: None,
                        })
                    }
                    Err(e) => return (Vec::new(), Some(e)),
                }
            }
            let s = session.as_mut().expect("connected above");
            if lost_once && unit.indexes.is_none() {
                // The commit may have reached the server before the connection broke.
                match committed(&mut s.conn, unit.id).await {
                    Ok(true) => return (Vec::new(), None),
                    Ok(false) => {}
                    Err(e) if is_connection_lost(&e) => {
                        *session = None;
                        continue;
                    }
                    Err(e) => {
                        return (
                            Vec::new(),
                            Some(self.statement_error(unit.statements.first(), &e)),
                        )
                    }
                }
            }
            match self.attempt(s, unit).await {
                Attempt::Committed(f) => return (f, None),
                Attempt::Failed(e) => return (Vec::new(), Some(e)),
                Attempt::ConnectionLost(e) => {
                    *session = None;
                    lost_once = true;
                    if start.elapsed() > RETRY_BUDGET {
                        return (
                            Vec::new(),
                            Some(ImportError::Connect {
                                target: self.target.describe(),
                                error: format!(
                                    "connection lost loading {} (line {}), retried for {}s: {e}",
                                    unit.table,
                                    unit.statements.first().map_or(0, |s| s.line),
                                    RETRY_BUDGET.as_secs()
                                ),
                            }),
                        );
                    }
                    tracing::warn!(table = %unit.table, error = %e, "connection lost, redoing the unit");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn attempt(&self, s: &mut Session, unit: &Unit) -> Attempt {
        macro_rules! lost_or {
            ($e:expr, $stmt:expr) => {{
                let e = $e;
                if is_connection_lost(&e) {
                    return Attempt::ConnectionLost(e);
                }
                return Attempt::Failed(self.statement_error($stmt, &e));
            }};
        }
        if s.applied != Some(unit.session.id) {
            if let Some(sql) = unit.session.apply_sql() {
                if let Err(e) = s.conn.query_drop(sql).await {
                    lost_or!(e, unit.statements.first());
                }
            }
            s.applied = Some(unit.session.id);
            s.load_charset = None;
        }
        if s.database != unit.database {
            if let Some(db) = &unit.database {
                if let Err(e) = s.conn.query_drop(format!("USE {}", quote_ident(db))).await {
                    lost_or!(e, unit.statements.first());
                }
            }
            s.database = unit.database.clone();
        }
        if let Some(build) = &unit.indexes {
            return self.build_indexes(s, unit, build).await;
        }
        if let Err(e) = s.conn.query_drop("START TRANSACTION").await {
            lost_or!(e, unit.statements.first());
        }
        let loaded = match self.load_data(s, unit).await {
            Ok(loaded) => loaded,
            Err(e) => return Attempt::ConnectionLost(e),
        };
        let statements = if loaded {
            &[][..]
        } else {
            &unit.statements[..]
        };
        let mut failures = Vec::new();
        for st in statements {
            if let Err(e) = s.conn.query_drop(st.sql.as_slice()).await {
                if is_connection_lost(&e) {
                    return Attempt::ConnectionLost(e);
                }
                if self.continue_on_error {
                    failures.push(Failure {
                        line: st.line,
                        statement_head: head(&st.sql),
                        error: e.to_string(),
                    });
                    continue;
                }
                let _ = s.conn.query_drop("ROLLBACK").await;
                return Attempt::Failed(self.statement_error(Some(st), &e));
            }
        }
        if let Err(e) = s
            .conn
            .exec_drop(
                format!("INSERT INTO {STATE_SCHEMA}.units (unit, `rows`) VALUES (?, ?)"),
                (unit.id, unit.rows),
            )
            .await
        {
            lost_or!(e, unit.statements.first());
        }
        if let Err(e) = s.conn.query_drop("COMMIT").await {
            lost_or!(e, unit.statements.first());
        }
        if loaded {
            self.load_data_rows
                .fetch_add(unit.rows, std::sync::atomic::Ordering::Relaxed);
        }
        Attempt::Committed(failures)
    }

    /// Adds the keys of `build` the table does not have yet (a build redone after a crash
    /// or a lost connection finds some or all there: ALTER TABLE is atomic).
    async fn build_indexes(&self, s: &mut Session, unit: &Unit, build: &IndexBuild) -> Attempt {
        let st = unit.statements.first();
        let existing: Vec<String> = match s
            .conn
            .exec(
                "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&build.schema, &build.table),
            )
            .await
        {
            Ok(names) => names,
            Err(e) if is_connection_lost(&e) => return Attempt::ConnectionLost(e),
            Err(e) => return Attempt::Failed(self.statement_error(st, &e)),
        };
        let missing: Vec<&ferry_dump::SecondaryKey> = build
            .keys
            .iter()
            .filter(|k| !existing.iter().any(|e| e.eq_ignore_ascii_case(&k.name)))
            .collect();
        if missing.is_empty() {
            return Attempt::Committed(Vec::new());
        }
        let sql = build.alter_sql(missing);
        match s.conn.query_drop(sql.as_slice()).await {
            Ok(()) => Attempt::Committed(Vec::new()),
            Err(e) if is_connection_lost(&e) => Attempt::ConnectionLost(e),
            Err(e) if self.continue_on_error => Attempt::Committed(vec![Failure {
                line: st.map_or(0, |s| s.line),
                statement_head: head(&sql),
                error: e.to_string(),
            }]),
            Err(e) => Attempt::Failed(self.statement_error(st, &e)),
        }
    }

    fn statement_error(&self, st: Option<&UnitStatement>, e: &mysql_async::Error) -> ImportError {
        ImportError::Statement {
            file: self.source_name.clone(),
            line: st.map_or(0, |s| s.line),
            head: st.map_or_else(String::new, |s| head(&s.sql)),
            error: e.to_string(),
        }
    }
}

async fn committed(conn: &mut Conn, id: u64) -> Result<bool, mysql_async::Error> {
    let n: Option<u64> = conn
        .exec_first(
            format!("SELECT COUNT(*) FROM {STATE_SCHEMA}.units WHERE unit = ?"),
            (id,),
        )
        .await?;
    Ok(n.unwrap_or(0) > 0)
}
