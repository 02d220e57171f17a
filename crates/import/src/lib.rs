//! `ferry-import`: loads a mysqldump / mariadb-dump file into a MySQL-protocol server, several
//! times faster than `mariadb < dump.sql`, and resumably.
//!
//! One streaming pass over the dump ([`ferry_dump::Reader`] on a blocking thread):
//! - DDL (databases, tables, drops, `USE`, `SET`) runs in dump order on a *control* connection;
//! - table data (`INSERT`s) is grouped into *units* (consecutive INSERTs of one table up to a
//!   byte budget), each loaded in one transaction by one of `parallel` *worker* connections,
//!   which records the unit's completion in the target inside that same transaction
//!   (`ferry_import_state.units`): exactly once across crashes of ferry or of the server;
//! - an InnoDB table's plain secondary indexes are taken out of its CREATE TABLE and built with
//!   one ALTER TABLE once its rows are in (one sort per index instead of row-by-row inserts);
//! - views, triggers, routines and events are *deferred* (kept in dump order, spilled to a temp
//!   file past a memory budget) and created after all data.
//!
//! The dump's session settings hold on every connection: after a `SET` changes a system
//! variable, the control connection's values are read back and carried, as a snapshot, with
//! every unit and deferred object to the connection that runs it.
//!
//! What differs for a ferry cluster (definers kept through ferry's own account, progress
//! visible in the API) comes through [`Host`]; [`PlainServer`] is any other server.

mod deferred;
mod error;
mod host;
mod loader;
mod plan;
mod session;
pub mod snapshot;
mod state;
mod units;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

pub use error::{HostError, ImportError};
pub use host::{DefinerOutcome, Host, ImportStart, ObjectKind, ObjectRequest, PlainServer};
pub use loader::import;
pub use plan::{plan, Plan, PlanObject, PlanTable};

/// The server to load into.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: ferry_base::Secret,
}

impl Target {
    /// `user@host:port`, for messages and the state file (never the password).
    pub fn describe(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

/// Whether to continue an earlier, interrupted import of the same dump into the same target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Resume {
    /// Continue when the state file matches the dump and the target; refuse when it names
    /// another dump or target; start afresh when there is none.
    #[default]
    Auto,
    /// Forget any earlier progress and start over.
    Fresh,
}

/// Default byte budget of one data unit (see README.md for the measurements behind it).
pub const DEFAULT_UNIT_BYTES: u64 = 16 << 20;

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Connections loading table data.
    pub parallel: usize,
    /// Only the statements for this schema.
    pub database: Option<String>,
    pub continue_on_error: bool,
    /// The progress / resume file.
    pub state_file: PathBuf,
    pub resume: Resume,
    pub dry_run: bool,
    /// Recreate the accounts and grants of an `--all-databases` dump.
    pub accounts: bool,
    /// The dump's path or `-`, for messages.
    pub source_name: String,
    pub source_size: Option<u64>,
    /// Byte budget of one data unit (one transaction); [`DEFAULT_UNIT_BYTES`].
    pub unit_bytes: u64,
    /// Create InnoDB tables without their plain secondary indexes and build those after the
    /// table's rows ([`ferry_dump::Statement::secondary_keys`]); on by default.
    pub defer_indexes: bool,
    /// Send the rows of plain INSERTs of literals as `LOAD DATA LOCAL INFILE` input (checked
    /// to give the same rows, else the INSERTs run); on by default.
    pub load_data: bool,
}

impl ImportOptions {
    /// Options with the defaults for everything but what has none.
    pub fn new(source_name: impl Into<String>, state_file: PathBuf) -> ImportOptions {
        ImportOptions {
            parallel: 4,
            database: None,
            continue_on_error: false,
            state_file,
            resume: Resume::Auto,
            dry_run: false,
            accounts: false,
            source_name: source_name.into(),
            source_size: None,
            unit_bytes: DEFAULT_UNIT_BYTES,
            defer_indexes: true,
            load_data: true,
        }
    }
}

/// Where an import is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Schema,
    Data,
    Objects,
    Done,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Schema => "schema",
            Phase::Data => "data",
            Phase::Objects => "objects",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProgressReport {
    pub phase: Phase,
    pub bytes_read: u64,
    pub bytes_total: Option<u64>,
    pub tables_total: u64,
    pub tables_done: u64,
    pub rows: u64,
    pub statements: u64,
    pub failures: u64,
    pub definers_rewritten: u64,
    /// The tables loading now (rows committed this run) and the ones finished last: at most
    /// 32, the loading ones first.
    #[serde(default)]
    pub tables: Vec<TableProgress>,
}

/// One table in a [`ProgressReport`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableProgress {
    /// `schema.table`, as the loader keys it.
    pub name: String,
    /// Rows committed into it by this run.
    pub rows: u64,
    pub done: bool,
}

#[derive(Clone, Debug)]
pub struct FinishReport {
    pub progress: ProgressReport,
    pub error: Option<String>,
    pub summary: Summary,
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub tables: u64,
    pub rows: u64,
    pub views: u64,
    pub triggers: u64,
    pub routines: u64,
    pub events: u64,
    pub definer_rewrites: Vec<DefinerRewrite>,
    pub failures: Vec<Failure>,
    /// Notes on what was not loaded (system tables, accounts).
    pub skipped: Vec<String>,
    /// Secondary indexes built after their table's rows, and on how many tables.
    pub indexes_deferred: u64,
    pub tables_with_deferred_indexes: u64,
    /// Rows sent as LOAD DATA input (this run), the others as the dump's INSERTs.
    pub rows_load_data: u64,
    pub coordinates: ferry_dump::Coordinates,
    pub elapsed: Duration,
}

/// An object created with `DEFINER=CURRENT_USER` instead of the dump's definer.
#[derive(Clone, Debug)]
pub struct DefinerRewrite {
    pub kind: ObjectKind,
    /// `db.name`
    pub object: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// A statement that failed under `continue_on_error`.
#[derive(Clone, Debug)]
pub struct Failure {
    pub line: u64,
    pub statement_head: String,
    pub error: String,
}
