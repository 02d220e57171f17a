//! The objects phase: deferred views, triggers, routines and events created after all table
//! data, in dump order, each with the session settings the dump had where it appears, and
//! with its definer as the target allows.

use std::sync::Arc;

use mysql_async::prelude::Queryable as _;

use super::run::{Run, ALREADY_EXISTS};
use crate::deferred::{Deferred, Item};
use crate::error::{is_connection_lost, server_code, ImportError};
use crate::host::{DefinerOutcome, ObjectKind, ObjectRequest};
use crate::session::quote_ident;
use crate::{DefinerRewrite, Failure};

/// ER_SPECIFIC_ACCESS_DENIED_ERROR: "you need (at least one of) the SUPER, SET USER
/// privilege(s)".
const ACCESS_DENIED: u16 = 1227;

/// `'user'@'host'` of CURRENT_USER() (`user@host`).
pub(super) fn same_account(current: &str, d: &ferry_dump::Definer) -> bool {
    match current.rsplit_once('@') {
        Some((u, h)) => u == d.user && h.eq_ignore_ascii_case(&d.host),
        None => false,
    }
}

fn current_as_sql(current: &str) -> String {
    match current.rsplit_once('@') {
        Some((u, h)) => ferry_dump::Definer {
            user: u.to_owned(),
            host: h.to_owned(),
        }
        .sql(),
        None => current.to_owned(),
    }
}

impl Run<'_> {
    pub(super) async fn create_objects(&mut self) -> Result<(), ImportError> {
        let deferred = std::mem::take(&mut self.deferred);
        let mut drain = Deferred::drain(deferred)?;
        let mut applied: Option<Arc<Vec<(String, String)>>> = None;
        let mut database: Option<String> = None;
        let mut redo_window = self.s.resumed;
        while let Some(item) = drain.next_item()? {
            self.tick(false).await;
            if item.end <= self.s.state.objects_done_end {
                continue;
            }
            if applied.as_ref().map(|a| a.as_slice()) != Some(item.session.as_slice()) {
                let snap = crate::session::Snapshot {
                    id: 0,
                    vars: item.session.clone(),
                };
                if let Some(sql) = snap.apply_sql() {
                    self.run_sql(&item, sql.as_bytes(), false).await?;
                }
                applied = Some(item.session.clone());
            }
            if database != item.database {
                if let Some(db) = &item.database {
                    let sql = format!("USE {}", quote_ident(db));
                    self.run_sql(&item, sql.as_bytes(), false).await?;
                }
                database.clone_from(&item.database);
            }
            let redo = std::mem::take(&mut redo_window);
            self.create_one(&item, redo).await?;
            self.s.state.objects_done_end = item.end;
            self.save_state()?;
        }
        Ok(())
    }

    async fn create_one(&mut self, item: &Item, redo: bool) -> Result<(), ImportError> {
        let Some(obj) = &item.object else {
            return self.run_sql(item, &item.sql, redo).await.map(|_| ());
        };
        let foreign = obj
            .definer
            .as_ref()
            .filter(|d| !same_account(&self.s.current_user, d))
            .cloned();
        let created = match foreign {
            None => self.run_sql(item, &item.sql, redo).await?,
            Some(definer) => {
                let req = ObjectRequest {
                    database: obj.schema.clone(),
                    kind: obj.kind,
                    name: obj.name.clone(),
                    definer: definer.clone(),
                    sql: String::from_utf8_lossy(&item.sql).into_owned(),
                    session: item.session.as_ref().clone(),
                };
                match self.s.host.create_with_definer(&req).await? {
                    DefinerOutcome::Created => true,
                    DefinerOutcome::Rewrite { reason } => {
                        self.rewritten(item, &definer, reason, redo).await?
                    }
                    DefinerOutcome::NotHandled => {
                        match self.s.control.query_drop(item.sql.as_slice()).await {
                            Ok(()) => true,
                            Err(e) if server_code(&e) == Some(ACCESS_DENIED) => {
                                let reason = format!("the target refused the definer: {e}");
                                self.rewritten(item, &definer, reason, redo).await?
                            }
                            Err(e)
                                if redo
                                    && server_code(&e)
                                        .is_some_and(|c| ALREADY_EXISTS.contains(&c)) =>
                            {
                                true
                            }
                            Err(e) => self.object_failed(item, &e)?,
                        }
                    }
                }
            }
        };
        if created {
            let slot = match obj.kind {
                ObjectKind::View => 0,
                ObjectKind::Trigger => 1,
                ObjectKind::Procedure | ObjectKind::Function => 2,
                ObjectKind::Event => 3,
            };
            self.objects[slot] += 1;
        }
        Ok(())
    }

    /// Creates `item` with `DEFINER=CURRENT_USER` and records the rewrite.
    async fn rewritten(
        &mut self,
        item: &Item,
        definer: &ferry_dump::Definer,
        reason: String,
        redo: bool,
    ) -> Result<bool, ImportError> {
        let obj = item.object.as_ref().expect("objects only");
        let Some(sql) = item.rewritten.clone() else {
            return Err(ImportError::Statement {
                file: self.s.opts.source_name.clone(),
                line: item.line,
                head: item.head(),
                error: format!("cannot rewrite the DEFINER clause ({reason})"),
            });
        };
        let ok = self.run_sql(item, &sql, redo).await?;
        if ok {
            self.rewrites.push(DefinerRewrite {
                kind: obj.kind,
                object: format!("{}.{}", obj.schema, obj.name),
                from: definer.sql(),
                to: current_as_sql(&self.s.current_user),
                reason,
            });
        }
        Ok(ok)
    }

    /// Runs `sql` for `item` on the control connection. Ok(false): failed and listed
    /// (continue_on_error).
    async fn run_sql(&mut self, item: &Item, sql: &[u8], redo: bool) -> Result<bool, ImportError> {
        let mut attempts = 0;
        let mut redo = redo;
        loop {
            match self.s.control.query_drop(sql).await {
                Ok(()) => return Ok(true),
                Err(e) if redo && server_code(&e).is_some_and(|c| ALREADY_EXISTS.contains(&c)) => {
                    return Ok(true)
                }
                Err(e) if is_connection_lost(&e) && attempts < 10 => {
                    attempts += 1;
                    self.s.control = crate::worker::connect(&self.s.target, true).await?;
                    let snap = crate::session::Snapshot {
                        id: 0,
                        vars: item.session.clone(),
                    };
                    if let Some(set) = snap.apply_sql() {
                        let _ = self.s.control.query_drop(set).await;
                    }
                    if let Some(db) = &item.database {
                        let _ = self
                            .s
                            .control
                            .query_drop(format!("USE {}", quote_ident(db)))
                            .await;
                    }
                    redo = true;
                }
                Err(e) => return self.object_failed(item, &e),
            }
        }
    }

    fn object_failed(&mut self, item: &Item, e: &mysql_async::Error) -> Result<bool, ImportError> {
        if self.s.opts.continue_on_error && !is_connection_lost(e) {
            self.failures.push(Failure {
                line: item.line,
                statement_head: item.head(),
                error: e.to_string(),
            });
            return Ok(false);
        }
        Err(ImportError::Statement {
            file: self.s.opts.source_name.clone(),
            line: item.line,
            head: item.head(),
            error: e.to_string(),
        })
    }
}
