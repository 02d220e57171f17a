//! Imports (`ferry import --cluster`): a row per import, the whole [`Import`] as a JSON
//! document. Status changes move only along [`ImportStatus::TRANSITIONS`], checked against the
//! stored status in the same statement; at most one import per cluster is `running` (a
//! partial unique index says so, whatever the callers do).

use rusqlite::{params, ErrorCode, OptionalExtension};

use super::clusters::{get_doc, list_docs, status_list, to_doc};
use super::{to_nanos, Context, ObjectKind, Store, StoreError};
use crate::model::{ClusterId, Import, ImportId, ImportStatus, Lifecycle};

impl Store {
    /// Adds a running import. `AlreadyExists` (naming the running one) if its cluster has one.
    pub fn insert_import(&self, import: &Import) -> Result<(), StoreError> {
        let id = import.id.as_str();
        let doc = to_doc(ObjectKind::Import, id, import)?;
        let conn = self.conn();
        let inserted = conn
            .prepare_cached(
                "INSERT INTO imports (id, cluster_id, status, started_at, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    import.cluster_id.as_str(),
                    import.status.as_str(),
                    to_nanos(import.started_at),
                    doc
                ])
            });
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                let running: Option<String> = conn
                    .query_row(
                        "SELECT id FROM imports WHERE cluster_id = ?1 AND status = 'running'",
                        [import.cluster_id.as_str()],
                        |r| r.get(0),
                    )
                    .optional()
                    .ctx(|| format!("read the running import of '{}'", import.cluster_id))?;
                match running {
                    Some(running) => Err(StoreError::AlreadyExists {
                        kind: ObjectKind::Import,
                        id: running,
                    }),
                    None => Err(StoreError::Sqlite {
                        context: format!("add import '{id}'"),
                        source: e,
                    }),
                }
            }
            Err(e) => Err(StoreError::Sqlite {
                context: format!("add import '{id}'"),
                source: e,
            }),
        }
    }

    pub fn get_import(&self, id: &ImportId) -> Result<Option<Import>, StoreError> {
        get_doc(
            &self.conn(),
            ObjectKind::Import,
            "SELECT doc FROM imports WHERE id = ?1",
            id.as_str(),
        )
    }

    /// Imports, oldest first: of one cluster, or all.
    pub fn imports(&self, cluster: Option<&ClusterId>) -> Result<Vec<Import>, StoreError> {
        match cluster {
            Some(c) => list_docs(
                self.conn(),
                ObjectKind::Import,
                "SELECT id, doc FROM imports WHERE cluster_id = ?1 ORDER BY started_at, id",
                [c.as_str()],
            ),
            None => list_docs(
                self.conn(),
                ObjectKind::Import,
                "SELECT id, doc FROM imports ORDER BY started_at, id",
                [],
            ),
        }
    }

    /// Every running import.
    pub fn running_imports(&self) -> Result<Vec<Import>, StoreError> {
        list_docs(
            self.conn(),
            ObjectKind::Import,
            "SELECT id, doc FROM imports WHERE status = 'running' ORDER BY started_at, id",
            [],
        )
    }

    /// Writes `import` without changing its status: applied only while the stored status is
    /// still `import.status`. Returns whether the row was written.
    pub fn update_import(&self, import: &Import) -> Result<bool, StoreError> {
        Ok(self.write_import(import, &[import.status])? == 1)
    }

    /// Writes `import` with its new status, if [`ImportStatus::TRANSITIONS`] has the edge from
    /// the stored one. Returns whether the row was written (`false`: it had ended already).
    pub fn transition_import(&self, import: &Import) -> Result<bool, StoreError> {
        let from: Vec<ImportStatus> = ImportStatus::sources(import.status).collect();
        Ok(self.write_import(import, &from)? == 1)
    }

    fn write_import(&self, import: &Import, from: &[ImportStatus]) -> Result<usize, StoreError> {
        let id = import.id.as_str();
        let doc = to_doc(ObjectKind::Import, id, import)?;
        let from = status_list(from.iter().map(|s| s.as_str()));
        self.conn()
            .prepare_cached(
                "UPDATE imports SET status = ?2, doc = ?3
                 WHERE id = ?1 AND status IN (SELECT value FROM json_each(?4))",
            )
            .and_then(|mut s| s.execute(params![id, import.status.as_str(), doc, from]))
            .ctx(|| format!("update import '{id}'"))
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::model::{ImportCounters, ImportPhase};
    use crate::store::tests::cluster;

    fn import(cluster: &str) -> Import {
        let now = OffsetDateTime::now_utc();
        Import {
            id: ImportId::generate(),
            cluster_id: ClusterId::new_unchecked(cluster),
            source: "dump.sql".into(),
            parallel: 2,
            resumed: false,
            status: ImportStatus::Running,
            phase: ImportPhase::Schema,
            counters: ImportCounters::default(),
            saved_durability: None,
            error: None,
            started_at: now,
            ended_at: None,
            renewed_at: now,
        }
    }

    #[test]
    fn one_running_import_per_cluster_and_ends_are_final() {
        let store = Store::open_in_memory().unwrap();
        store
            .insert_cluster(&cluster("c1", 3306), None, None)
            .unwrap();
        store
            .insert_cluster(&cluster("c2", 3307), None, None)
            .unwrap();
        let a = import("c1");
        store.insert_import(&a).unwrap();
        let err = store.insert_import(&import("c1")).unwrap_err();
        assert!(
            matches!(&err, StoreError::AlreadyExists { id, .. } if id == a.id.as_str()),
            "{err}"
        );
        store.insert_import(&import("c2")).unwrap();

        let mut b = a.clone();
        b.counters.rows = 7;
        assert!(store.update_import(&b).unwrap());
        assert_eq!(store.get_import(&a.id).unwrap(), Some(b.clone()));

        // Every pair of the product: only the table's edges apply.
        for &to in ImportStatus::STATES {
            let mut row = import("c1");
            if to == ImportStatus::Running {
                continue;
            }
            // c1's running import must end before another can start.
            let mut end = store
                .imports(Some(&ClusterId::new_unchecked("c1")))
                .unwrap();
            end.retain(|i| i.status == ImportStatus::Running);
            for mut r in end {
                r.status = ImportStatus::Completed;
                assert!(store.transition_import(&r).unwrap());
            }
            store.insert_import(&row).unwrap();
            row.status = to;
            assert!(store.transition_import(&row).unwrap(), "running -> {to:?}");
            for &again in ImportStatus::STATES {
                let mut next = row.clone();
                next.status = again;
                assert!(
                    !store.transition_import(&next).unwrap(),
                    "{to:?} -> {again:?}"
                );
            }
            assert_eq!(store.get_import(&row.id).unwrap().unwrap().status, to);
        }
        let running = store.running_imports().unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].cluster_id.as_str(), "c2");
        assert_eq!(store.imports(None).unwrap().len(), 5);

        // A deleted cluster takes its imports with it.
        store
            .delete_cluster(&ClusterId::new_unchecked("c1"))
            .unwrap();
        assert!(store.get_import(&a.id).unwrap().is_none());
    }
}
