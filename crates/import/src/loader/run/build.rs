//! Data units made from the dump's INSERTs: a unit is a run of consecutive INSERTs of one
//! table within the unit budget, holding its statements until a worker loads it.

use std::sync::Arc;

use ferry_dump::Statement;

use super::Run;
use crate::worker::{Unit, UnitStatement};

impl Run<'_> {
    /// Sends the unit being built to the workers.
    pub(super) async fn flush_unit(&mut self) {
        let Some(unit) = self.building.take() else {
            return;
        };
        // A unit committed in an earlier run is not loaded again (its rows are counted).
        if self.s.units_done.contains_key(&unit.id) {
            return;
        }
        self.send_unit(unit).await;
    }

    /// Adds an INSERT to the unit being built, sending the unit off when the next would not
    /// fit its budget or is for another table.
    pub(super) async fn insert(&mut self, st: Statement, key: String, rows: u64) {
        let len = st.sql.len() as u64;
        let fits = self.building.as_ref().is_some_and(|u| {
            u.table == key && u.database == st.database && u.bytes + len <= self.s.opts.unit_bytes
        });
        if !fits {
            self.flush_unit().await;
        }
        if self.building.is_none() {
            let session = match self.tracker.snapshot(&mut self.s.control).await {
                Ok(s) => s,
                Err(e) => {
                    self.fatal = Some(self.stmt_error(&st, &e));
                    return;
                }
            };
            self.building = Some(Unit {
                id: st.offset,
                table: key,
                database: st.database.clone(),
                statements: Arc::new(Vec::new()),
                rows: 0,
                bytes: 0,
                session,
                indexes: None,
            });
        }
        let unit = self.building.as_mut().expect("built above");
        unit.bytes += len;
        unit.rows += rows;
        let statements =
            Arc::get_mut(&mut unit.statements).expect("a unit being built is not shared");
        statements.push(UnitStatement {
            sql: st.sql,
            line: st.line,
        });
    }
}
