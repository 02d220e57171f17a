//! Logical imports into a cluster (`ferry import --cluster`): the loader runs on the client
//! and tells the control plane where it is (FerryStartImport, FerryReportImport,
//! FerryFinishImport); the control plane records it (FerryDescribeImports, events), relaxes
//! the cluster's durability for the import window, and creates the objects whose definer the
//! importing user may not name (FerryCreateImportObject).
//!
//! Durability: while an import runs, the writer runs with `innodb_flush_log_at_trx_commit =
//! 2` and `sync_binlog = 0`, set through ferry's admin account (never the master user's, which
//! lacks SUPER). The values in force before are kept in the import's row and put back when
//! the import finishes, or when its lease expires (no report for `[import] lease_seconds`).
//! `SET GLOBAL` is not persisted: after a restart of `ferry serve` (which restarts every
//! instance, whether it stopped cleanly or was killed: see [`ControlPlane::resume`]) and after
//! a crash of the server, the instance starts from its option file with the cluster's own
//! settings, so the relaxed values cannot outlive the server process they were set on. A
//! running import found at start-up is marked `interrupted`.
//!
//! Definers ([`ControlPlane::create_import_object`]): the statement text is the tenant's, run
//! as ferry's account, so three guards stand around it. (1) Its header is read twice, by
//! ferry's own header reader ([`statement::read_header`]) and by `ferry-dump`
//! ([`statement::dump_reading`], which must find one statement), the two must agree, and it
//! must be the object claimed, with the definer claimed, in
//! the database claimed; an event whose schedule holds expressions (evaluated at creation, as
//! the creator) is not created by ferry. (2) It runs as a prepared statement, which the server
//! accepts only as one statement: text hidden after the first statement is a syntax error,
//! never a second statement (mysql_async always sets CLIENT_MULTI_STATEMENTS for text
//! queries, and offers no COM_SET_OPTION). (3) Session variables are an allow-list whose
//! values must be plain literals; ferry writes the `SET` itself.

pub mod statement;

use std::time::Duration;

use ferry_engine::accounts::ADMIN_USER;
use mysql_async::prelude::Queryable;

use super::*;
use crate::events::DurabilityRestored;
use crate::model::{
    Import, ImportCounters, ImportId, ImportPhase, ImportStatus, SavedDurability, TableProgress,
};
use statement::{Account, ObjectType};

/// The session variables a dump may set for an object's creation (the ones `mariadb-dump`
/// writes around views, triggers, routines and events).
pub const SESSION_ALLOW_LIST: [&str; 6] = [
    "sql_mode",
    "character_set_client",
    "character_set_results",
    "collation_connection",
    "character_set_connection",
    "time_zone",
];

/// Schemas no import object may be created in.
const SYSTEM_SCHEMAS: [&str; 4] = ["mysql", "information_schema", "performance_schema", "sys"];

/// Accounts ferry never creates an object for, whatever exists: its own, and the owner of
/// the `mysql.user` view (which holds `DELETE` on `mysql.global_priv`).
const RESERVED_DEFINER_USERS: [&str; 2] = [ADMIN_USER, "mariadb.sys"];

/// FerryStartImport.
#[derive(Debug, Clone)]
pub struct StartImport {
    /// The cluster identifier as the caller wrote it.
    pub cluster: String,
    pub source: String,
    pub source_bytes: Option<u64>,
    pub parallel: u32,
    pub resumed: bool,
}

/// FerryCreateImportObject.
#[derive(Debug, Clone)]
pub struct ImportObject {
    pub database: String,
    pub kind: ObjectType,
    pub name: String,
    pub definer: Account,
    pub statement: String,
    /// Name (lower-case, from [`SESSION_ALLOW_LIST`]) and value (a plain literal).
    pub session: Vec<(String, String)>,
}

/// What FerryCreateImportObject did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectOutcome {
    /// Created with the definer as written.
    Created,
    /// Not created: the loader creates it with `DEFINER = CURRENT_USER`, for this reason.
    Rewrite { reason: String },
}

/// How an import ended, as FerryFinishImport says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishStatus {
    Completed,
    Failed,
}

impl ControlPlane {
    /// FerryStartImport: records a running import of the cluster and relaxes its
    /// durability. The cluster must be available with an available writer and no import
    /// running.
    pub async fn start_import(&self, req: StartImport) -> Result<Import, ControlError> {
        let raw = strip_arn(&req.cluster, "cluster");
        let c = self
            .store()
            .get_cluster(&ClusterId::new_unchecked(raw.to_lowercase()))?
            .ok_or_else(|| ControlError::ClusterNotFound(req.cluster.clone()))?;
        self.running_writer(&c, "take an import")?;
        if let Some(running) = self
            .store()
            .imports(Some(&c.id))?
            .into_iter()
            .find(|i| i.status == ImportStatus::Running)
        {
            return Err(already_running(&c.id, &running));
        }
        let mut conn = self.import_admin_conn(&c.id).await?;
        let (flush, sync): (String, String) = conn
            .query_first(
                "SELECT CAST(@@GLOBAL.innodb_flush_log_at_trx_commit AS CHAR), \
                 CAST(@@GLOBAL.sync_binlog AS CHAR)",
            )
            .await
            .map_err(sql_error("read the durability settings"))?
            .ok_or_else(|| {
                ControlError::Unexpected(
                    "SELECT @@GLOBAL.innodb_flush_log_at_trx_commit returned no row".into(),
                )
            })?;
        let now = OffsetDateTime::now_utc();
        let import = Import {
            id: ImportId::generate(),
            cluster_id: c.id.clone(),
            source: req.source,
            parallel: req.parallel,
            resumed: req.resumed,
            status: ImportStatus::Running,
            phase: ImportPhase::Schema,
            counters: ImportCounters {
                bytes_total: req.source_bytes,
                ..ImportCounters::default()
            },
            saved_durability: Some(SavedDurability {
                innodb_flush_log_at_trx_commit: flush,
                sync_binlog: sync,
            }),
            error: None,
            started_at: now,
            ended_at: None,
            renewed_at: now,
        };
        match self.store().insert_import(&import) {
            Ok(()) => {}
            Err(crate::store::StoreError::AlreadyExists { id, .. }) => {
                let running =
                    ImportId::parse(&id).and_then(|i| self.store().get_import(&i).ok()?);
                return Err(match running {
                    Some(r) => already_running(&c.id, &r),
                    None => ControlError::InvalidImportState(format!(
                        "DB cluster {} is already taking import {id}.",
                        c.id
                    )),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let relaxed = conn
            .query_drop("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
            .await
            .and(conn.query_drop("SET GLOBAL sync_binlog = 0").await);
        if let Err(e) = relaxed {
            let error = sql_error("relax the durability settings")(e);
            let mut failed = import.clone();
            failed.status = ImportStatus::Failed;
            failed.ended_at = Some(OffsetDateTime::now_utc());
            failed.error = Some(ferry_base::error::flatten(&error));
            let restored = self.restore_durability(&failed).await;
            self.store().transition_import(&failed)?;
            self.ctx().cluster_event(
                &c.id,
                ClusterEvent::ImportFailed {
                    id: &c.id,
                    source: &failed.source,
                    error: failed.error.as_deref().unwrap_or_default(),
                    durability: &restored.as_event(),
                },
            );
            return Err(error);
        }
        self.ctx().cluster_event(
            &c.id,
            ClusterEvent::ImportStarted {
                id: &c.id,
                source: &import.source,
                parallel: import.parallel,
                resumed: import.resumed,
            },
        );
        Ok(import)
    }

    /// The import `id`; `ImportNotFound` when there is none.
    pub fn import(&self, id: &str) -> Result<Import, ControlError> {
        ImportId::parse(id)
            .map(|i| self.store().get_import(&i))
            .transpose()?
            .flatten()
            .ok_or_else(|| ControlError::ImportNotFound(id.to_owned()))
    }

    /// FerryReportImport: records the loader's progress and renews the lease; an event when
    /// the phase changed.
    pub fn report_import(
        &self,
        id: &str,
        phase: ImportPhase,
        counters: ImportCounters,
        tables: Vec<TableProgress>,
    ) -> Result<Import, ControlError> {
        let mut import = self.running_import(id)?;
        let before = import.phase;
        import.phase = phase;
        import.counters = ImportCounters {
            bytes_total: counters.bytes_total.or(import.counters.bytes_total),
            ..counters
        };
        import.renewed_at = OffsetDateTime::now_utc();
        if !self.store().update_import(&import)? {
            // It ended meanwhile (its lease expired): say how.
            self.forget_import_tables(&import.id);
            return self.running_import(id);
        }
        self.ctx()
            .import_tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(import.id.clone(), tables);
        if before != phase {
            self.ctx().cluster_event(
                &import.cluster_id,
                ClusterEvent::ImportPhase {
                    id: &import.cluster_id,
                    source: &import.source,
                    phase,
                },
            );
        }
        Ok(import)
    }

    /// The per-table progress a running import last reported (loading tables first, then
    /// the ones finished last); empty once it has ended.
    pub fn import_tables(&self, id: &ImportId) -> Vec<TableProgress> {
        self.ctx()
            .import_tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    fn forget_import_tables(&self, id: &ImportId) {
        self.ctx()
            .import_tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }

    /// FerryFinishImport: ends the import and puts the durability settings back.
    pub async fn finish_import(
        &self,
        id: &str,
        status: FinishStatus,
        error: Option<String>,
        counters: ImportCounters,
    ) -> Result<Import, ControlError> {
        let mut import = self.running_import(id)?;
        import.status = match status {
            FinishStatus::Completed => ImportStatus::Completed,
            FinishStatus::Failed => ImportStatus::Failed,
        };
        import.phase = match status {
            FinishStatus::Completed => ImportPhase::Done,
            FinishStatus::Failed => ImportPhase::Failed,
        };
        import.counters = ImportCounters {
            bytes_total: counters.bytes_total.or(import.counters.bytes_total),
            ..counters
        };
        import.error = error;
        let restored = self.restore_durability(&import).await;
        import.ended_at = Some(OffsetDateTime::now_utc());
        import.saved_durability = None;
        self.forget_import_tables(&import.id);
        if !self.store().transition_import(&import)? {
            return self.running_import(id);
        }
        let cluster = &import.cluster_id;
        let durability = restored.as_event();
        self.ctx().cluster_event(
            cluster,
            match status {
                FinishStatus::Completed => ClusterEvent::ImportCompleted {
                    id: cluster,
                    source: &import.source,
                    counters: &import.counters,
                    durability: &durability,
                },
                FinishStatus::Failed => ClusterEvent::ImportFailed {
                    id: cluster,
                    source: &import.source,
                    error: import
                        .error
                        .as_deref()
                        .unwrap_or("the loader gave no reason"),
                    durability: &durability,
                },
            },
        );
        Ok(import)
    }

    /// FerryDescribeImports: imports oldest first, of one cluster or all, or the one named.
    pub fn describe_imports(
        &self,
        cluster: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<Import>, ControlError> {
        let cluster = match cluster {
            Some(raw) => Some(self.existing_cluster_id(raw)?),
            None => None,
        };
        if let Some(id) = id {
            let import = self.import(id)?;
            return Ok(match &cluster {
                Some(c) if *c != import.cluster_id => Vec::new(),
                _ => vec![import],
            });
        }
        Ok(self.store().imports(cluster.as_ref())?)
    }

    /// FerryCreateImportObject: creates the object through ferry's account keeping its
    /// definer, when that account exists on the cluster and is not ferry's own; otherwise
    /// says why the loader must rewrite it. See the module docs for the guards.
    pub async fn create_import_object(
        &self,
        id: &str,
        obj: &ImportObject,
    ) -> Result<ObjectOutcome, ControlError> {
        let mut import = self.running_import(id)?;
        // Any call shows the loader is alive.
        import.renewed_at = OffsetDateTime::now_utc();
        self.store().update_import(&import)?;
        let cluster = self
            .store()
            .get_cluster(&import.cluster_id)?
            .ok_or_else(|| ControlError::ClusterNotFound(import.cluster_id.to_string()))?;
        if SYSTEM_SCHEMAS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&obj.database))
        {
            return Err(ControlError::invalid_value(format!(
                "Database {} is a system schema: an import cannot create objects in it.",
                obj.database
            )));
        }
        let version = ferry_dump::Version::from_server_version(&cluster.engine_version)
            .map_or(u32::MAX, |v| v.number);
        let what = format!("{} {}.{}", obj.kind.as_str(), obj.database, obj.name);
        let header = statement::read_header(&obj.statement, version).map_err(|why| {
            ControlError::invalid_value(format!(
                "Statement for {what} cannot be read as the CREATE it claims to be: {why}."
            ))
        })?;
        let (dump_kind, dump_definer) = statement::dump_reading(&obj.statement, version, obj.kind)
            .map_err(|why| {
                ControlError::invalid_value(format!(
                    "Statement for {what} is not one CREATE statement: {why}."
                ))
            })?;
        if dump_kind != header.kind || dump_definer != header.definer {
            return Err(ControlError::invalid_value(format!(
                "Statement for {what} reads differently to ferry's two readers ({} with definer {:?}, {} with definer {:?}); it is not run.",
                header.kind.as_str(),
                header.definer,
                dump_kind.as_str(),
                dump_definer
            )));
        }
        let mismatch = |what_differs: String| {
            ControlError::invalid_value(format!(
                "Statement does not create the {what} with definer {} that the request names: {what_differs}.",
                obj.definer.quoted()
            ))
        };
        if header.kind != obj.kind {
            return Err(mismatch(format!("it creates a {}", header.kind.as_str())));
        }
        if header.name != obj.name {
            return Err(mismatch(format!("it names {}", header.name)));
        }
        if let Some(schema) = &header.schema {
            if *schema != obj.database {
                return Err(mismatch(format!("it names schema {schema}")));
            }
        }
        match &header.definer {
            Some(d)
                if d.user == obj.definer.user && d.host.eq_ignore_ascii_case(&obj.definer.host) => {
            }
            Some(d) => return Err(mismatch(format!("its definer is {}", d.quoted()))),
            None => {
                return Err(mismatch(
                    "it has no DEFINER clause naming an account".into(),
                ))
            }
        }
        let on = format!("DB cluster {}", cluster.id);
        if RESERVED_DEFINER_USERS.contains(&obj.definer.user.as_str()) {
            return Ok(ObjectOutcome::Rewrite {
                reason: format!(
                    "account {} is reserved for the system on {on}",
                    obj.definer.quoted()
                ),
            });
        }
        if header.schedule_has_expressions {
            return Ok(ObjectOutcome::Rewrite {
                reason: "the event's schedule holds expressions, which ferry does not evaluate as its own account".into(),
            });
        }
        let mut conn = self.import_admin_conn(&cluster.id).await?;
        let account: Option<(u8,)> = conn
            .exec_first(
                "SELECT IFNULL(JSON_VALUE(Priv, '$.is_role'), 0) = 1 FROM mysql.global_priv \
                 WHERE User = BINARY ? AND Host = ?",
                (&obj.definer.user, obj.definer.host.to_lowercase()),
            )
            .await
            .map_err(sql_error("look the definer up"))?;
        match account {
            None => {
                return Ok(ObjectOutcome::Rewrite {
                    reason: format!("account {} does not exist on {on}", obj.definer.quoted()),
                })
            }
            Some((1,)) => {
                return Ok(ObjectOutcome::Rewrite {
                    reason: format!("{} is a role on {on}, not an account", obj.definer.quoted()),
                })
            }
            Some(_) => {}
        }
        for (name, value) in &obj.session {
            // Checked at the API too; here because this text runs as ferry.
            if !SESSION_ALLOW_LIST.contains(&name.as_str()) || !plain_literal(value) {
                return Err(ControlError::invalid_value(format!(
                    "Session variable {name} cannot be set to {value} for an import object."
                )));
            }
            conn.query_drop(format!("SET SESSION {name} = {value}"))
                .await
                .map_err(|e| {
                    ControlError::invalid_value(format!(
                        "Session variable {name} = {value} cannot be set: {e}"
                    ))
                })?;
        }
        conn.query_drop(format!("USE {}", quote_ident(&obj.database)))
            .await
            .map_err(|e| ControlError::invalid_value(format!("Database {}: {e}", obj.database)))?;
        // One statement: the server prepares exactly one (see the module docs).
        conn.exec_drop(obj.statement.as_str(), ())
            .await
            .map_err(|e| match e {
                mysql_async::Error::Server(s) => ControlError::invalid_value(format!(
                    "Statement for {what} failed on {on}: ERROR {} ({}): {}",
                    s.code, s.state, s.message
                )),
                other => sql_error("create the object")(other),
            })?;
        Ok(ObjectOutcome::Created)
    }

    /// Marks every running import whose lease has expired `interrupted` and puts its
    /// cluster's durability back. Called every second by the task [`ControlPlane::open`]
    /// starts.
    pub(super) async fn expire_import_leases(&self) {
        let lease = self.config().import_lease;
        let imports = match self.store().running_imports() {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %ferry_base::error::flatten(&e), "cannot list running imports");
                return;
            }
        };
        let now = OffsetDateTime::now_utc();
        for mut import in imports {
            if now - import.renewed_at < lease {
                continue;
            }
            let restored = self.restore_durability(&import).await;
            self.forget_import_tables(&import.id);
            import.status = ImportStatus::Interrupted;
            import.ended_at = Some(now);
            import.saved_durability = None;
            import.error = Some(format!("no progress report for {} s", lease.as_secs()));
            match self.store().transition_import(&import) {
                Ok(true) => self.ctx().cluster_event(
                    &import.cluster_id,
                    ClusterEvent::ImportLeaseExpired {
                        id: &import.cluster_id,
                        source: &import.source,
                        lease_seconds: lease.as_secs(),
                        durability: &restored.as_event(),
                    },
                ),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(import = %import.id, error = %ferry_base::error::flatten(&e), "cannot record an interrupted import")
                }
            }
        }
    }

    /// At start-up: imports left running by the previous process are interrupted. Their
    /// durability settings need no call: every instance is (re)started from its option file
    /// by this start-up (see the module docs).
    pub(super) fn interrupt_imports_at_start(&self) -> Result<(), ControlError> {
        for mut import in self.store().running_imports()? {
            import.status = ImportStatus::Interrupted;
            import.ended_at = Some(OffsetDateTime::now_utc());
            import.saved_durability = None;
            import.error = Some("the control plane restarted".into());
            if self.store().transition_import(&import)? {
                self.ctx().cluster_event(
                    &import.cluster_id,
                    ClusterEvent::ImportInterruptedByRestart {
                        id: &import.cluster_id,
                        source: &import.source,
                    },
                );
            }
        }
        Ok(())
    }

    /// Starts the task that expires import leases; it holds the control plane weakly and
    /// ends with it.
    pub(super) fn spawn_import_leases(&self) {
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Some(inner) = weak.upgrade() else { return };
                let cp = ControlPlane { inner };
                if cp.ctx().is_shutting_down() {
                    return;
                }
                cp.expire_import_leases().await;
            }
        });
    }

    /// The import `id`, which must be running.
    fn running_import(&self, id: &str) -> Result<Import, ControlError> {
        let import = self.import(id)?;
        if import.status != ImportStatus::Running {
            return Err(ControlError::InvalidImportState(format!(
                "Import {id} into DB cluster {} is {}{}.",
                import.cluster_id,
                import.status.as_str(),
                import
                    .error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            )));
        }
        Ok(import)
    }

    /// A session as ferry's admin on the cluster's running server.
    async fn import_admin_conn(&self, id: &ClusterId) -> Result<mysql_async::Conn, ControlError> {
        let admin = secrets::read_admin(self.layout(), id)?;
        self.inner
            .supervisor
            .admin_conn(id, &admin)
            .await?
            .ok_or_else(|| {
                ControlError::InvalidClusterState(format!(
                    "DB cluster {id} has no running instance to import into"
                ))
            })
    }

    /// Puts back the durability settings `import` relaxed.
    async fn restore_durability(&self, import: &Import) -> Restore {
        let Some(saved) = &import.saved_durability else {
            return Restore::Unchanged;
        };
        let numeric = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        if !numeric(&saved.innodb_flush_log_at_trx_commit) || !numeric(&saved.sync_binlog) {
            return Restore::Failed(ControlError::Damaged {
                path: self.layout().database(),
                problem: format!("import {} saved non-numeric durability settings", import.id),
            });
        }
        let result = async {
            let mut conn = self.import_admin_conn(&import.cluster_id).await?;
            conn.query_drop(format!(
                "SET GLOBAL innodb_flush_log_at_trx_commit = {}",
                saved.innodb_flush_log_at_trx_commit
            ))
            .await
            .map_err(sql_error("put innodb_flush_log_at_trx_commit back"))?;
            conn.query_drop(format!("SET GLOBAL sync_binlog = {}", saved.sync_binlog))
                .await
                .map_err(sql_error("put sync_binlog back"))?;
            Ok::<(), ControlError>(())
        }
        .await;
        match result {
            Ok(()) => Restore::Restored,
            Err(e) => {
                tracing::warn!(import = %import.id, error = %ferry_base::error::flatten(&e), "cannot put the durability settings back");
                Restore::Failed(e)
            }
        }
    }
}

/// What [`ControlPlane::restore_durability`] did.
enum Restore {
    Unchanged,
    Restored,
    Failed(ControlError),
}

impl Restore {
    fn as_event(&self) -> DurabilityRestored<'_> {
        match self {
            Restore::Unchanged => DurabilityRestored::Unchanged,
            Restore::Restored => DurabilityRestored::Restored,
            Restore::Failed(e) => DurabilityRestored::Failed(e),
        }
    }
}

fn already_running(cluster: &ClusterId, running: &Import) -> ControlError {
    ControlError::InvalidImportState(format!(
        "DB cluster {cluster} is already taking import {} of {} (started {}); wait for it to end, or for its lease to expire.",
        running.id,
        running.source,
        running
            .started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    ))
}

fn sql_error(what: &'static str) -> impl FnOnce(mysql_async::Error) -> ControlError {
    move |e| {
        ControlError::Engine(ferry_engine::EngineError::Sql {
            endpoint: "ferry's admin session".to_owned(),
            action: what,
            source: e,
        })
    }
}

/// `` `name` `` with backquotes doubled.
fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A session variable's value as FerryCreateImportObject accepts it: a single-quoted string
/// with no quote, backslash or control character inside, or a word of letters, digits and
/// `_` (`utf8mb4`, `DEFAULT`, `1`). Anything else could be an expression run as ferry.
pub fn plain_literal(value: &str) -> bool {
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return !inner
            .chars()
            .any(|c| c == '\'' || c == '\\' || c.is_control());
    }
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_literals_are_session_values() {
        for ok in [
            "'+00:00'",
            "utf8mb4",
            "'NO_AUTO_VALUE_ON_ZERO,STRICT_TRANS_TABLES'",
            "0",
            "''",
        ] {
            assert!(plain_literal(ok), "{ok}");
        }
        for bad in [
            "f()",
            "(SELECT 1)",
            "@x",
            "'a'; DROP",
            "'a\\'",
            "",
            "@@sql_mode",
            "'a' 'b'",
        ] {
            assert!(!plain_literal(bad), "{bad}");
        }
    }
}
