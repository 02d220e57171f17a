//! Secondary indexes built after the rows: a `CREATE TABLE` of an InnoDB table runs without
//! its plain `KEY`s ([`ferry_dump::Statement::secondary_keys`]), and once the table's last
//! unit has committed one worker adds them all with one `ALTER TABLE` (InnoDB sorts each
//! index once instead of inserting into it row by row), while the other workers go on with
//! the next table's rows.
//!
//! A table's rows are "all in" when the dump has moved on: a statement that is neither an
//! INSERT into it nor one of the statements mysqldump writes around them (`SET`, `LOCK` /
//! `UNLOCK TABLES`, `ALTER TABLE .. ENABLE KEYS`). Any later DDL of the table, any
//! database-wide statement and the end of the data wait for its build (`Run::wait_units`),
//! so the schema is complete before views, triggers, routines and events are created.
//!
//! Resume: the build checks which keys the table has and adds only the missing ones, so it is
//! redone safely after a crash; a table created before the checkpoint gets its build too
//! (even with deferral off now, in case the earlier run deferred).

use std::collections::{BTreeMap, BTreeSet};

use ferry_dump::{Kind, Statement};
use mysql_async::prelude::Queryable as _;

use super::Run;
use crate::worker::{IndexBuild, Unit, UnitStatement};

#[derive(Default)]
pub(super) struct Pending {
    /// Table key -> its build and the CREATE TABLE's line, until dispatched.
    builds: BTreeMap<String, (IndexBuild, u64)>,
    /// The table whose rows are being read: its build waits.
    open: Option<String>,
    /// Tables whose rows are all in and whose build waits for their units to commit.
    closed: BTreeSet<String>,
    pub keys_deferred: u64,
    pub tables_deferred: u64,
}

impl Pending {
    /// The current table's rows are all in.
    pub fn close(&mut self) {
        if let Some(t) = self.open.take() {
            if self.builds.contains_key(&t) {
                self.closed.insert(t);
            }
        }
    }

    /// Whether `table`'s build is still to run once its rows are in.
    pub fn closed(&self, table: &str) -> bool {
        self.closed.contains(table)
    }

    pub fn any_closed(&self) -> bool {
        !self.closed.is_empty()
    }
}

impl Run<'_> {
    /// Before `st` is run: whether it ends the current table's rows.
    pub(super) fn note_table_end(&mut self, st: &Statement) {
        let continues = match &st.kind {
            Kind::Empty
            | Kind::Set { .. }
            | Kind::Use { .. }
            | Kind::LockTables
            | Kind::UnlockTables => true,
            Kind::Insert { table, .. } | Kind::AlterKeys { table } => {
                self.indexes.open.as_deref() == Some(self.table_key(st, table).as_str())
            }
            _ => false,
        };
        if !continues {
            self.indexes.close();
        }
    }

    /// Whether `ALTER TABLE .. DISABLE / ENABLE KEYS` (`st`, of table `key`), which
    /// mysqldump writes around every table's rows, can be passed over without waiting for the
    /// table's rows: InnoDB has no such switch, so for an InnoDB table the statement only
    /// gives a note and changes nothing, and the reader goes on to the next table while the
    /// rows load. For other engines (MyISAM, Aria: `ENABLE KEYS` rebuilds the indexes) it
    /// runs in dump order, after the rows. The engine is asked of the server once a table.
    pub(super) async fn keys_switch_is_a_no_op(&mut self, st: &Statement, key: &str) -> bool {
        let busy = self.inflight.get(key).copied().unwrap_or(0) > 0;
        if !busy {
            return false;
        }
        if !self.engines.contains_key(key) {
            let Kind::AlterKeys { table } = &st.kind else {
                return false;
            };
            let schema = self.schema_of(st, Some(table)).unwrap_or_default();
            // Not known (a lost connection, say): the statement runs in dump order, where the
            // control connection's retries apply.
            let Ok(engine) = self
                .s
                .control
                .exec_first::<String, _, _>(
                    "SELECT ENGINE FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    (&schema, &table.name),
                )
                .await
            else {
                return false;
            };
            self.engines
                .insert(key.to_owned(), engine.unwrap_or_default());
        }
        self.engines
            .get(key)
            .is_some_and(|e| e.eq_ignore_ascii_case("InnoDB"))
    }

    /// At a `CREATE TABLE` of `key`: takes its deferrable keys out of `st` (when deferral is
    /// on) and keeps the build for after the rows.
    pub(super) fn defer_indexes(
        &mut self,
        st: &mut Statement,
        key: &str,
        schema: Option<&str>,
        table: &str,
        done_before: bool,
    ) {
        // A table created again (DROP + CREATE in one dump) starts over.
        self.indexes.builds.remove(key);
        self.indexes.closed.remove(key);
        if !self.s.opts.defer_indexes && !done_before {
            return;
        }
        let (Some(schema), Some(split)) = (schema, st.secondary_keys()) else {
            return;
        };
        if self.s.opts.defer_indexes {
            st.sql = split.create;
        }
        self.indexes.keys_deferred += split.keys.len() as u64;
        self.indexes.tables_deferred += 1;
        let build = IndexBuild {
            schema: schema.to_owned(),
            table: table.to_owned(),
            keys: split.keys,
        };
        self.indexes.builds.insert(key.to_owned(), (build, st.line));
        self.indexes.open = Some(key.to_owned());
    }

    /// Adds the builds of tables whose rows are all in the work: a worker takes one once the
    /// workers finished that table's rows (`crate::units`), even while the loader waits.
    pub(super) async fn dispatch_indexes(&mut self) {
        if self.indexes.closed.is_empty() || self.fatal.is_some() {
            return;
        }
        let building = self.building.as_ref().map(|u| u.table.clone());
        let ready: Vec<String> = self
            .indexes
            .closed
            .iter()
            .filter(|t| building.as_deref() != Some(t.as_str()))
            .cloned()
            .collect();
        for table in ready {
            let session = match self.tracker.snapshot(&mut self.s.control).await {
                Ok(s) => s,
                Err(e) => {
                    self.fatal = Some(crate::ImportError::State(format!(
                        "read the session before building the indexes of {table}: {e}"
                    )));
                    return;
                }
            };
            self.indexes.closed.remove(&table);
            let Some((build, line)) = self.indexes.builds.remove(&table) else {
                continue;
            };
            let sql = build.alter_sql(&build.keys);
            self.send_unit(Unit {
                id: 0,
                table,
                database: None,
                statements: std::sync::Arc::new(vec![UnitStatement { sql, line }]),
                rows: 0,
                bytes: 0,
                session,
                indexes: Some(build),
            })
            .await;
        }
    }
}
