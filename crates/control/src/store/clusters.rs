//! Clusters and instances: a row per object, the whole object as a JSON document.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::events::insert_event;
use super::jobs::insert_job;
use super::{to_nanos, Context, NewEvent, ObjectKind, Store, StoreError};
use crate::model::{
    Cluster, ClusterId, ClusterStatus, Instance, InstanceId, InstanceStatus, Job, JobKind,
    Lifecycle,
};

impl Store {
    /// Adds a cluster, with the job that brings it to life and its first event, in one
    /// transaction. `AlreadyExists` if a cluster of that id exists.
    pub fn insert_cluster(
        &self,
        cluster: &Cluster,
        job: Option<JobKind>,
        event: Option<NewEvent>,
    ) -> Result<Option<Job>, StoreError> {
        let id = cluster.id.as_str();
        let ctx = || format!("insert DB cluster '{id}'");
        let doc = to_doc(ObjectKind::Cluster, id, cluster)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        if exists(&tx, "SELECT 1 FROM clusters WHERE id = ?1", id).ctx(ctx)? {
            return Err(StoreError::AlreadyExists {
                kind: ObjectKind::Cluster,
                id: id.to_string(),
            });
        }
        tx.execute(
            "INSERT INTO clusters (id, status, port, created_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                cluster.status.as_str(),
                cluster.port,
                to_nanos(cluster.created_at),
                doc
            ],
        )
        .ctx(ctx)?;
        let job = job
            .map(|kind| insert_job(&tx, &cluster.id, kind))
            .transpose()?;
        if let Some(event) = event {
            insert_event(&tx, event)?;
        }
        ferry_base::fail_point!("store.before-cluster-insert");
        tx.commit().ctx(ctx)?;
        Ok(job)
    }

    pub fn get_cluster(&self, id: &ClusterId) -> Result<Option<Cluster>, StoreError> {
        let conn = self.conn();
        get_doc(
            &conn,
            ObjectKind::Cluster,
            "SELECT doc FROM clusters WHERE id = ?1",
            id.as_str(),
        )
    }

    /// All clusters, ordered by id.
    pub fn list_clusters(&self) -> Result<Vec<Cluster>, StoreError> {
        self.cluster_list.read(
            self.conn(),
            ObjectKind::Cluster,
            "SELECT id, doc FROM clusters ORDER BY id",
        )
    }

    /// Writes `cluster` without changing its status: applied only while the stored status is
    /// still `cluster.status`, so a copy read before a status change can never undo it (status
    /// changes go through [`Store::transition_cluster`]). Returns whether the row was written
    /// (`false`: the cluster is gone or its status changed meanwhile; read it again).
    pub fn update_cluster(&self, cluster: &Cluster) -> Result<bool, StoreError> {
        Ok(self.write_cluster(cluster, &[cluster.status])? == 1)
    }

    /// Moves a cluster to `cluster.status` (the rest of the document is written with it) if
    /// the lifecycle table, [`ClusterStatus::TRANSITIONS`], has the edge from the stored status
    /// to it. Compare-and-set: the stored status is checked in the same `UPDATE ... WHERE
    /// status IN (<the table's sources of the target>)`, so a background task holding an older
    /// copy can never overwrite a newer decision (a deletion requested meanwhile, for example).
    /// Returns whether the row was written; a refused move (no such edge from the stored
    /// status, or the cluster is gone) is `Ok(false)` and leaves the row unchanged.
    pub fn transition_cluster(&self, cluster: &Cluster) -> Result<bool, StoreError> {
        let from: Vec<ClusterStatus> = ClusterStatus::sources(cluster.status).collect();
        ferry_base::fail_point!("store.before-transition-commit");
        let applied = self.write_cluster(cluster, &from)? == 1;
        ferry_base::fail_point!("store.after-transition-commit");
        if applied {
            tracing::debug!(cluster = %cluster.id, status = cluster.status.as_str(), "status changed");
        }
        Ok(applied)
    }

    /// The one UPDATE of a cluster row, applied only if the stored status is one of `from`.
    fn write_cluster(
        &self,
        cluster: &Cluster,
        from: &[ClusterStatus],
    ) -> Result<usize, StoreError> {
        let id = cluster.id.as_str();
        let doc = to_doc(ObjectKind::Cluster, id, cluster)?;
        let from = status_list(from.iter().map(|s| s.as_str()));
        self.conn()
            .execute(
                "UPDATE clusters SET status = ?2, port = ?3, created_at = ?4, doc = ?5
                 WHERE id = ?1 AND status IN (SELECT value FROM json_each(?6))",
                params![
                    id,
                    cluster.status.as_str(),
                    cluster.port,
                    to_nanos(cluster.created_at),
                    doc,
                    from
                ],
            )
            .ctx(|| format!("update DB cluster '{id}'"))
    }

    /// Removes a cluster, its jobs and its imports (its events stay, as RDS keeps them). Refused with
    /// `ClusterHasInstances` while instances still reference it; `NotFound` if it is not there.
    pub fn delete_cluster(&self, id: &ClusterId) -> Result<(), StoreError> {
        let ctx = || format!("delete DB cluster '{id}'");
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        if !exists(&tx, "SELECT 1 FROM clusters WHERE id = ?1", id.as_str()).ctx(ctx)? {
            return Err(StoreError::NotFound {
                kind: ObjectKind::Cluster,
                id: id.to_string(),
            });
        }
        let instances: Vec<InstanceId> = {
            let mut stmt = tx
                .prepare_cached("SELECT id FROM instances WHERE cluster_id = ?1 ORDER BY id")
                .ctx(ctx)?;
            let rows = stmt
                .query_map([id.as_str()], |r| r.get::<_, String>(0))
                .ctx(ctx)?;
            rows.map(|r| r.map(InstanceId::new_unchecked))
                .collect::<Result<_, _>>()
                .ctx(ctx)?
        };
        if !instances.is_empty() {
            return Err(StoreError::ClusterHasInstances {
                cluster: id.clone(),
                instances,
            });
        }
        tx.execute("DELETE FROM jobs WHERE cluster_id = ?1", [id.as_str()])
            .ctx(ctx)?;
        tx.execute("DELETE FROM imports WHERE cluster_id = ?1", [id.as_str()])
            .ctx(ctx)?;
        tx.execute("DELETE FROM clusters WHERE id = ?1", [id.as_str()])
            .ctx(ctx)?;
        tx.commit().ctx(ctx)
    }

    /// The ports of all clusters (taken whether or not an instance runs), ascending.
    pub fn used_ports(&self) -> Result<Vec<u16>, StoreError> {
        let conn = self.conn();
        let ctx = || "list cluster ports".to_string();
        let mut stmt = conn
            .prepare_cached("SELECT port FROM clusters ORDER BY port")
            .ctx(ctx)?;
        let rows = stmt.query_map([], |r| r.get::<_, u16>(0)).ctx(ctx)?;
        rows.collect::<Result<_, _>>().ctx(ctx)
    }

    /// Adds an instance (and its first event) to an existing cluster. `AlreadyExists` if an
    /// instance of that id exists, `NotFound` (of the cluster) if its cluster does not.
    pub fn insert_instance(
        &self,
        instance: &Instance,
        event: Option<NewEvent>,
    ) -> Result<(), StoreError> {
        let id = instance.id.as_str();
        let ctx = || format!("insert DB instance '{id}'");
        let doc = to_doc(ObjectKind::Instance, id, instance)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        if exists(&tx, "SELECT 1 FROM instances WHERE id = ?1", id).ctx(ctx)? {
            return Err(StoreError::AlreadyExists {
                kind: ObjectKind::Instance,
                id: id.to_string(),
            });
        }
        let cluster = instance.cluster_id.as_str();
        if !exists(&tx, "SELECT 1 FROM clusters WHERE id = ?1", cluster).ctx(ctx)? {
            return Err(StoreError::NotFound {
                kind: ObjectKind::Cluster,
                id: cluster.to_string(),
            });
        }
        tx.execute(
            "INSERT INTO instances (id, cluster_id, status, created_at, doc)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                cluster,
                instance.status.as_str(),
                to_nanos(instance.created_at),
                doc
            ],
        )
        .ctx(ctx)?;
        if let Some(event) = event {
            insert_event(&tx, event)?;
        }
        tx.commit().ctx(ctx)
    }

    pub fn get_instance(&self, id: &InstanceId) -> Result<Option<Instance>, StoreError> {
        let conn = self.conn();
        get_doc(
            &conn,
            ObjectKind::Instance,
            "SELECT doc FROM instances WHERE id = ?1",
            id.as_str(),
        )
    }

    /// All instances, ordered by id.
    pub fn list_instances(&self) -> Result<Vec<Instance>, StoreError> {
        self.instance_list.read(
            self.conn(),
            ObjectKind::Instance,
            "SELECT id, doc FROM instances ORDER BY id",
        )
    }

    /// The instances of one cluster, ordered by id.
    pub fn instances_of(&self, cluster: &ClusterId) -> Result<Vec<Instance>, StoreError> {
        list_docs(
            self.conn(),
            ObjectKind::Instance,
            "SELECT id, doc FROM instances WHERE cluster_id = ?1 ORDER BY id",
            [cluster.as_str()],
        )
    }

    /// Writes `instance` without changing its status (its cluster cannot change either); see
    /// [`Store::update_cluster`]. Returns whether the row was written.
    pub fn update_instance(&self, instance: &Instance) -> Result<bool, StoreError> {
        Ok(self.write_instance(instance, &[instance.status])? == 1)
    }

    /// Moves an instance to `instance.status` along an edge of [`InstanceStatus::TRANSITIONS`];
    /// see [`Store::transition_cluster`]. Returns whether the row was written.
    pub fn transition_instance(&self, instance: &Instance) -> Result<bool, StoreError> {
        let from: Vec<InstanceStatus> = InstanceStatus::sources(instance.status).collect();
        let applied = self.write_instance(instance, &from)? == 1;
        if applied {
            tracing::debug!(instance = %instance.id, status = instance.status.as_str(), "status changed");
        }
        Ok(applied)
    }

    /// The one UPDATE of an instance row, applied only if the stored status is one of `from`.
    fn write_instance(
        &self,
        instance: &Instance,
        from: &[InstanceStatus],
    ) -> Result<usize, StoreError> {
        let id = instance.id.as_str();
        let doc = to_doc(ObjectKind::Instance, id, instance)?;
        let from = status_list(from.iter().map(|s| s.as_str()));
        self.conn()
            .execute(
                "UPDATE instances SET status = ?3, created_at = ?4, doc = ?5
                 WHERE id = ?1 AND cluster_id = ?2
                   AND status IN (SELECT value FROM json_each(?6))",
                params![
                    id,
                    instance.cluster_id.as_str(),
                    instance.status.as_str(),
                    to_nanos(instance.created_at),
                    doc,
                    from
                ],
            )
            .ctx(|| format!("update DB instance '{id}'"))
    }

    /// `NotFound` if it is not there.
    pub fn delete_instance(&self, id: &InstanceId) -> Result<(), StoreError> {
        let changed = self
            .conn()
            .execute("DELETE FROM instances WHERE id = ?1", [id.as_str()])
            .ctx(|| format!("delete DB instance '{id}'"))?;
        found(changed, ObjectKind::Instance, id.as_str())
    }
}

fn exists(conn: &Connection, sql: &str, id: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(sql)?
        .query_row([id], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

fn found(changed: usize, kind: ObjectKind, id: &str) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound {
            kind,
            id: id.to_string(),
        })
    } else {
        Ok(())
    }
}

pub(super) fn to_doc<T: Serialize>(
    kind: ObjectKind,
    id: &str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: format!("{kind} '{id}'"),
        reason: format!("cannot encode: {e}"),
    })
}

pub(super) fn from_doc<T: DeserializeOwned>(
    kind: ObjectKind,
    id: &str,
    doc: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
        what: format!("the stored {kind} '{id}'"),
        reason: e.to_string(),
    })
}

pub(super) fn get_doc<T: DeserializeOwned>(
    conn: &Connection,
    kind: ObjectKind,
    sql: &str,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .ctx(|| format!("read {kind} '{id}'"))?;
    doc.map(|d| from_doc(kind, id, &d)).transpose()
}

pub(super) fn list_docs<T: DeserializeOwned, P: rusqlite::Params>(
    conn: MutexGuard<'_, Connection>,
    kind: ObjectKind,
    sql: &str,
    params: P,
) -> Result<Vec<T>, StoreError> {
    let ctx = || format!("list {kind}s");
    let mut docs = Vec::new();
    {
        let mut stmt = conn.prepare_cached(sql).ctx(ctx)?;
        let rows = stmt
            .query_map(params, |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .ctx(ctx)?;
        for row in rows {
            docs.push(row.ctx(ctx)?);
        }
    }
    // Decoded after the connection is released: concurrent readers wait only for the rows.
    drop(conn);
    docs.iter()
        .map(|(id, doc)| from_doc(kind, id, doc))
        .collect()
}

/// The decoded rows of the last full listing of a table, tagged with the connection's
/// `total_changes()` when they were read. That count grows with every row any statement on
/// the store's one connection inserts, updates or deletes (and ferry holds the data dir's lock,
/// so no other process writes), so while it is unchanged the listing is still what the table
/// holds, and a listing (`DescribeDBClusters` polled by every client and waiter) costs a copy
/// instead of a query and the decoding of every document.
pub(super) struct Listing<T> {
    last: Mutex<Option<(u64, Arc<Vec<T>>)>>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            last: Mutex::new(None),
        }
    }
}

impl<T: DeserializeOwned + Clone> Listing<T> {
    fn read(
        &self,
        conn: MutexGuard<'_, Connection>,
        kind: ObjectKind,
        sql: &str,
    ) -> Result<Vec<T>, StoreError> {
        let version = conn.total_changes();
        let last = |l: &Self| {
            l.last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        };
        if let Some((v, items)) = last(self) {
            if v == version {
                drop(conn);
                return Ok(items.as_ref().clone());
            }
        }
        let items: Vec<T> = list_docs(conn, kind, sql, [])?;
        // A writer may have come in after the read: the tag is the count the rows were read
        // at, so the next listing sees the difference and reads again.
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((version, Arc::new(items.clone())));
        Ok(items)
    }
}

/// Statuses as the JSON list `json_each` reads.
pub(super) fn status_list<'a>(statuses: impl Iterator<Item = &'a str>) -> String {
    serde_json::Value::from(statuses.collect::<Vec<_>>()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClusterStatus, InstanceStatus, S3Origin, SourceType, Tag};
    use crate::store::tests::{cluster, instance};
    use crate::store::EventQuery;

    fn cid(s: &str) -> ClusterId {
        ClusterId::new_unchecked(s)
    }

    #[test]
    fn clusters_round_trip_with_every_field() {
        let store = Store::open_in_memory().unwrap();
        let mut c = cluster("c1", 3306);
        c.tags = vec![Tag {
            key: "env".into(),
            value: "prod".into(),
        }];
        c.s3_origin = Some(S3Origin {
            bucket: "b".into(),
            prefix: "p/q".into(),
            ingestion_role_arn: "arn:aws:iam::123456789012:role/r".into(),
            source_engine: "mysql".into(),
            source_engine_version: "8.0.28".into(),
        });
        c.recovered_binlog = Some(("mysql-bin.000002".into(), 156));
        c.recovered_gtid = Some("0-1-42".into());
        let job = store
            .insert_cluster(
                &c,
                Some(JobKind::RestoreFromS3),
                Some(NewEvent::cluster(
                    &c.id,
                    "DB cluster created.",
                    &["creation"],
                )),
            )
            .unwrap()
            .expect("a job was asked for");
        assert_eq!(job.cluster_id, c.id);
        assert_eq!(job.kind, JobKind::RestoreFromS3);
        assert_eq!(job.attempts, 0);
        assert_eq!(store.get_cluster(&c.id).unwrap(), Some(c.clone()));
        assert_eq!(store.get_cluster(&cid("nope")).unwrap(), None);
        let events = store.events(&EventQuery::default()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].message, "DB cluster created.");

        c.status = ClusterStatus::Available;
        assert!(store.transition_cluster(&c).unwrap());
        assert_eq!(store.get_cluster(&c.id).unwrap(), Some(c));
    }

    #[test]
    fn duplicate_and_missing_clusters() {
        let store = Store::open_in_memory().unwrap();
        let c = cluster("c1", 3306);
        store
            .insert_cluster(
                &c,
                Some(JobKind::InitEmpty),
                Some(NewEvent::cluster(&c.id, "x", &[])),
            )
            .unwrap();
        let err = store
            .insert_cluster(
                &c,
                Some(JobKind::InitEmpty),
                Some(NewEvent::cluster(&c.id, "y", &[])),
            )
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::AlreadyExists { kind: ObjectKind::Cluster, id } if id == "c1"),
            "{err}"
        );
        assert_eq!(err.to_string(), "DB cluster 'c1' already exists");
        // The refused insert left no second job and no second event.
        assert_eq!(store.pending_jobs().unwrap().len(), 1);
        assert_eq!(store.events(&EventQuery::default()).unwrap().len(), 1);

        let mut missing = cluster("c2", 3307);
        assert!(!store.update_cluster(&missing).unwrap());
        missing.status = ClusterStatus::Available;
        assert!(!store.transition_cluster(&missing).unwrap());
        assert_eq!(store.get_cluster(&missing.id).unwrap(), None);
        let err = store.delete_cluster(&cid("c2")).unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }

    #[test]
    fn clusters_are_listed_by_id_with_their_ports() {
        let store = Store::open_in_memory().unwrap();
        for (id, port) in [("zeta", 3310), ("alpha", 3307), ("mid", 3306)] {
            store
                .insert_cluster(&cluster(id, port), None, None)
                .unwrap();
        }
        let ids: Vec<String> = store
            .list_clusters()
            .unwrap()
            .into_iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(ids, ["alpha", "mid", "zeta"]);
        assert_eq!(store.used_ports().unwrap(), [3306, 3307, 3310]);
    }

    #[test]
    fn instances_round_trip_and_belong_to_a_cluster() {
        let store = Store::open_in_memory().unwrap();
        store
            .insert_cluster(&cluster("c1", 3306), None, None)
            .unwrap();
        store
            .insert_cluster(&cluster("c2", 3307), None, None)
            .unwrap();
        let mut i = instance("w1", "c1");
        store
            .insert_instance(
                &i,
                Some(NewEvent::instance(
                    &i.id,
                    "DB instance created.",
                    &["creation"],
                )),
            )
            .unwrap();
        store.insert_instance(&instance("a2", "c1"), None).unwrap();
        store.insert_instance(&instance("b3", "c2"), None).unwrap();
        assert_eq!(store.get_instance(&i.id).unwrap(), Some(i.clone()));
        let of_c1: Vec<String> = store
            .instances_of(&cid("c1"))
            .unwrap()
            .into_iter()
            .map(|i| i.id.to_string())
            .collect();
        assert_eq!(of_c1, ["a2", "w1"]);
        assert_eq!(store.list_instances().unwrap().len(), 3);
        let ev = store
            .events(&EventQuery {
                source_type: Some(SourceType::DbInstance),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].source_id, "w1");

        i.status = InstanceStatus::Available;
        assert!(store.transition_instance(&i).unwrap());
        assert_eq!(
            store.get_instance(&i.id).unwrap().map(|i| i.status),
            Some(InstanceStatus::Available)
        );

        let err = store.insert_instance(&i, None).unwrap_err();
        assert_eq!(err.to_string(), "DB instance 'w1' already exists");
        let err = store
            .insert_instance(&instance("orphan", "nope"), None)
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::NotFound { kind: ObjectKind::Cluster, id } if id == "nope"),
            "{err}"
        );
        assert!(!store.update_instance(&instance("ghost", "c1")).unwrap());
        // Nor can an update move an instance to another cluster.
        let mut moved = i.clone();
        moved.cluster_id = cid("c2");
        assert!(!store.update_instance(&moved).unwrap());
        assert_eq!(store.get_instance(&i.id).unwrap(), Some(i.clone()));
    }

    #[test]
    fn a_cluster_with_instances_cannot_be_deleted() {
        let store = Store::open_in_memory().unwrap();
        let c = cluster("c1", 3306);
        store
            .insert_cluster(&c, Some(JobKind::RestoreFromS3), None)
            .unwrap();
        store.insert_instance(&instance("w1", "c1"), None).unwrap();
        store.insert_instance(&instance("r1", "c1"), None).unwrap();
        let err = store.delete_cluster(&c.id).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DB cluster 'c1' still has DB instances: r1, w1"
        );
        assert!(store.get_cluster(&c.id).unwrap().is_some());

        store
            .delete_instance(&InstanceId::new_unchecked("w1"))
            .unwrap();
        store
            .delete_instance(&InstanceId::new_unchecked("r1"))
            .unwrap();
        let err = store
            .delete_instance(&InstanceId::new_unchecked("r1"))
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::NotFound {
                kind: ObjectKind::Instance,
                ..
            }
        ));
        store
            .add_event(NewEvent::cluster(
                &c.id,
                "DB cluster deleted.",
                &["deletion"],
            ))
            .unwrap();
        store.delete_cluster(&c.id).unwrap();
        assert_eq!(store.get_cluster(&c.id).unwrap(), None);
        assert!(
            store.pending_jobs().unwrap().is_empty(),
            "its jobs went with it"
        );
        assert_eq!(
            store.events(&EventQuery::default()).unwrap().len(),
            1,
            "events stay"
        );
        assert!(store.used_ports().unwrap().is_empty());
    }

    #[test]
    fn a_damaged_document_is_reported_corrupt() {
        let store = Store::open_in_memory().unwrap();
        store
            .insert_cluster(&cluster("c1", 3306), None, None)
            .unwrap();
        store
            .conn()
            .execute(
                "UPDATE clusters SET doc = '{\"id\": 1}' WHERE id = 'c1'",
                [],
            )
            .unwrap();
        let err = store.get_cluster(&cid("c1")).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(
            err.to_string().contains("the stored DB cluster 'c1'"),
            "{err}"
        );
        assert!(store.list_clusters().is_err());
    }
}
