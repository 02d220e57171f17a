//! The database schema and its migrations. `PRAGMA user_version` is the number of migrations
//! applied; each migration runs in its own transaction together with the version bump, so a
//! crash leaves the database at one version or the next, never between.
//!
//! Append new migrations; never edit one that has shipped.

use rusqlite::{Connection, TransactionBehavior};

use super::{Context, StoreError};

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE clusters (
         id         TEXT PRIMARY KEY NOT NULL,
         status     TEXT NOT NULL,
         port       INTEGER NOT NULL,
         created_at INTEGER NOT NULL,
         doc        TEXT NOT NULL
     ) STRICT;

     CREATE TABLE instances (
         id         TEXT PRIMARY KEY NOT NULL,
         cluster_id TEXT NOT NULL REFERENCES clusters (id),
         status     TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         doc        TEXT NOT NULL
     ) STRICT;
     CREATE INDEX instances_by_cluster ON instances (cluster_id);

     CREATE TABLE events (
         seq         INTEGER PRIMARY KEY AUTOINCREMENT,
         source_type TEXT NOT NULL,
         source_id   TEXT NOT NULL,
         date        INTEGER NOT NULL,
         message     TEXT NOT NULL,
         categories  TEXT NOT NULL
     ) STRICT;
     CREATE INDEX events_by_source ON events (source_type, source_id, seq);
     CREATE INDEX events_by_date ON events (date);

     CREATE TABLE jobs (
         id          INTEGER PRIMARY KEY AUTOINCREMENT,
         cluster_id  TEXT NOT NULL REFERENCES clusters (id),
         kind        TEXT NOT NULL,
         attempts    INTEGER NOT NULL,
         created_at  INTEGER NOT NULL,
         finished_at INTEGER
     ) STRICT;
     CREATE INDEX jobs_by_cluster ON jobs (cluster_id);

     CREATE TABLE access_keys (
         access_key_id     TEXT PRIMARY KEY NOT NULL,
         secret_access_key TEXT NOT NULL,
         user_name         TEXT NOT NULL,
         created_at        INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX access_keys_by_user ON access_keys (user_name);",
    // 2: IAM. Names of users, groups, roles and policies are unique regardless of case, as in
    // IAM, and keep the case they were created with. `entity_kind` is 'user', 'group' or
    // 'role'. The bootstrap admin's keys belong to the account root (user name ':root', which
    // no IAM user can have).
    "CREATE TABLE iam_users (
         name       TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
         id         TEXT NOT NULL UNIQUE,
         path       TEXT NOT NULL,
         created_at INTEGER NOT NULL
     ) STRICT;

     CREATE TABLE iam_groups (
         name       TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
         id         TEXT NOT NULL UNIQUE,
         path       TEXT NOT NULL,
         created_at INTEGER NOT NULL
     ) STRICT;

     CREATE TABLE iam_group_members (
         group_name TEXT NOT NULL COLLATE NOCASE REFERENCES iam_groups (name),
         user_name  TEXT NOT NULL COLLATE NOCASE REFERENCES iam_users (name),
         added_at   INTEGER NOT NULL,
         PRIMARY KEY (group_name, user_name)
     ) STRICT;
     CREATE INDEX iam_group_members_by_user ON iam_group_members (user_name);

     CREATE TABLE iam_roles (
         name                 TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
         id                   TEXT NOT NULL UNIQUE,
         path                 TEXT NOT NULL,
         created_at           INTEGER NOT NULL,
         assume_role_policy   TEXT NOT NULL,
         description          TEXT,
         max_session_duration INTEGER NOT NULL
     ) STRICT;

     CREATE TABLE iam_policies (
         arn             TEXT PRIMARY KEY NOT NULL,
         name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
         id              TEXT NOT NULL UNIQUE,
         path            TEXT NOT NULL,
         description     TEXT,
         default_version TEXT NOT NULL,
         next_version    INTEGER NOT NULL,
         created_at      INTEGER NOT NULL,
         updated_at      INTEGER NOT NULL
     ) STRICT;

     CREATE TABLE iam_policy_versions (
         policy_arn TEXT NOT NULL REFERENCES iam_policies (arn),
         version_id TEXT NOT NULL,
         document   TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         PRIMARY KEY (policy_arn, version_id)
     ) STRICT;

     CREATE TABLE iam_attachments (
         entity_kind TEXT NOT NULL,
         entity_name TEXT NOT NULL COLLATE NOCASE,
         policy_arn  TEXT NOT NULL,
         attached_at INTEGER NOT NULL,
         PRIMARY KEY (entity_kind, entity_name, policy_arn)
     ) STRICT;
     CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy_arn);

     CREATE TABLE iam_inline_policies (
         entity_kind TEXT NOT NULL,
         entity_name TEXT NOT NULL COLLATE NOCASE,
         policy_name TEXT NOT NULL COLLATE NOCASE,
         document    TEXT NOT NULL,
         PRIMARY KEY (entity_kind, entity_name, policy_name)
     ) STRICT;

     CREATE TABLE iam_tags (
         entity_kind TEXT NOT NULL,
         entity_name TEXT NOT NULL COLLATE NOCASE,
         key         TEXT NOT NULL COLLATE NOCASE,
         value       TEXT NOT NULL,
         PRIMARY KEY (entity_kind, entity_name, key)
     ) STRICT;

     ALTER TABLE access_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'Active';
     ALTER TABLE access_keys ADD COLUMN last_used_at INTEGER;
     ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
     ALTER TABLE access_keys ADD COLUMN last_used_region TEXT;
     UPDATE access_keys SET user_name = ':root' WHERE user_name = 'admin';",
    // 3: logical imports (`ferry import --cluster`). At most one runs per cluster; the
    // columns are for lookups, `doc` (an `Import` as JSON) is the truth.
    "CREATE TABLE imports (
         id         TEXT PRIMARY KEY NOT NULL,
         cluster_id TEXT NOT NULL REFERENCES clusters (id),
         status     TEXT NOT NULL,
         started_at INTEGER NOT NULL,
         doc        TEXT NOT NULL
     ) STRICT;
     CREATE INDEX imports_by_cluster ON imports (cluster_id, started_at);
     CREATE UNIQUE INDEX imports_one_running ON imports (cluster_id) WHERE status = 'running';",
];

/// Brings the database at `path` to the current schema.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .ctx(|| format!("read the schema version of {path}"))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            path: path.to_string(),
            found,
            supported,
        });
    }
    if found < 0 {
        return Err(StoreError::Corrupt {
            what: path.to_string(),
            reason: format!("negative schema version {found}"),
        });
    }
    for (version, sql) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let ctx = || format!("upgrade {path} to schema version {version}");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        tx.execute_batch(sql).ctx(ctx)?;
        tx.pragma_update(None, "user_version", version).ctx(ctx)?;
        tx.commit().ctx(ctx)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::model::{ClusterId, ClusterStatus, InstanceId, InstanceStatus};
    use crate::store::Store;

    /// Schema version 1 as the first ferry wrote it, frozen here: `MIGRATIONS[0]` must keep
    /// upgrading exactly this.
    const VERSION_1: &str = "
        CREATE TABLE clusters (id TEXT PRIMARY KEY NOT NULL, status TEXT NOT NULL,
            port INTEGER NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL) STRICT;
        CREATE TABLE instances (id TEXT PRIMARY KEY NOT NULL,
            cluster_id TEXT NOT NULL REFERENCES clusters (id), status TEXT NOT NULL,
            created_at INTEGER NOT NULL, doc TEXT NOT NULL) STRICT;
        CREATE INDEX instances_by_cluster ON instances (cluster_id);
        CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, source_type TEXT NOT NULL,
            source_id TEXT NOT NULL, date INTEGER NOT NULL, message TEXT NOT NULL,
            categories TEXT NOT NULL) STRICT;
        CREATE INDEX events_by_source ON events (source_type, source_id, seq);
        CREATE INDEX events_by_date ON events (date);
        CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster_id TEXT NOT NULL REFERENCES clusters (id), kind TEXT NOT NULL,
            attempts INTEGER NOT NULL, created_at INTEGER NOT NULL, finished_at INTEGER) STRICT;
        CREATE INDEX jobs_by_cluster ON jobs (cluster_id);
        CREATE TABLE access_keys (access_key_id TEXT PRIMARY KEY NOT NULL,
            secret_access_key TEXT NOT NULL, user_name TEXT NOT NULL,
            created_at INTEGER NOT NULL) STRICT;
        CREATE INDEX access_keys_by_user ON access_keys (user_name);
        PRAGMA user_version = 1;";

    /// A cluster document as the first ferry wrote it (with `percent_progress`, a member
    /// later ferries no longer store).
    const CLUSTER_DOC: &str = r#"{"id":"legacy","resource_id":"cluster-AAAAAAAAAAAAAAAAAAAAAAAAAA",
        "status":"Available","engine":"AuroraMysql","engine_version":"10.11.14",
        "master_username":"admin","port":3306,"database_name":"app",
        "parameter_group":"default.aurora-mysql8.0","backup_retention_period":1,
        "preferred_backup_window":"03:00-03:30","preferred_maintenance_window":"sun:05:00-sun:05:30",
        "storage_encrypted":false,"kms_key_id":null,"deletion_protection":false,
        "copy_tags_to_snapshot":false,"iam_database_authentication":false,
        "availability_zones":["us-east-1a"],"vpc_security_group_ids":[],"db_subnet_group":"default",
        "tags":[{"key":"team","value":"data"}],
        "s3_origin":{"bucket":"backups","prefix":"prod","ingestion_role_arn":"arn:aws:iam::000000000000:role/r",
            "source_engine":"mysql","source_engine_version":"10.11"},
        "percent_progress":null,"recovered_binlog":["mariadb-bin.000002",1234],
        "recovered_gtid":"0-1-42","created_at":"2026-01-02T03:04:05Z"}"#;

    const INSTANCE_DOC: &str = r#"{"id":"legacy-1","resource_id":"db-BBBBBBBBBBBBBBBBBBBBBBBBBB",
        "cluster_id":"legacy","status":"Available","instance_class":"db.r6g.large",
        "engine":"AuroraMysql","is_writer":true,"promotion_tier":1,
        "availability_zone":"us-east-1a","tags":[],"created_at":"2026-01-02T03:05:00Z"}"#;

    #[test]
    fn a_store_written_at_version_1_opens_and_is_upgraded() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let path = camino::Utf8PathBuf::from_path_buf(tmp.path().join("ferry.sqlite"))
            .expect("utf-8 temp path");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(VERSION_1).unwrap();
            conn.execute(
                "INSERT INTO clusters VALUES ('legacy', 'available', 3306, 1767323045000000000, ?1)",
                [CLUSTER_DOC],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO instances VALUES ('legacy-1', 'legacy', 'available', 1767323100000000000, ?1)",
                [INSTANCE_DOC],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO events (source_type, source_id, date, message, categories)
                 VALUES ('db-cluster', 'legacy', 1767323045000000000, 'DB cluster created.', '[\"creation\"]')",
                [],
            )
            .unwrap();
        }

        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, super::MIGRATIONS.len() as i64);

        let c = store
            .get_cluster(&ClusterId::new_unchecked("legacy"))
            .unwrap()
            .expect("the cluster reads back");
        assert_eq!(c.status, ClusterStatus::Available);
        assert_eq!(c.port, 3306);
        assert_eq!(c.settings.database_name.as_deref(), Some("app"));
        assert_eq!(c.tags.len(), 1);
        assert_eq!(
            c.s3_origin.as_ref().map(|o| o.bucket.as_str()),
            Some("backups")
        );
        assert_eq!(
            c.recovered_binlog,
            Some(("mariadb-bin.000002".into(), 1234))
        );
        assert_eq!(store.list_clusters().unwrap().len(), 1);
        let i = store
            .get_instance(&InstanceId::new_unchecked("legacy-1"))
            .unwrap()
            .expect("the instance reads back");
        assert_eq!(i.status, InstanceStatus::Available);
        assert_eq!(store.used_ports().unwrap().len(), 1);
        let events = store.events(&crate::store::EventQuery::default()).unwrap();
        assert_eq!(events.len(), 1);

        // And it is writable at the current version: a new cluster goes in beside the old one.
        store
            .insert_cluster(&crate::store::tests::cluster("new", 3307), None, None)
            .unwrap();
        assert_eq!(store.list_clusters().unwrap().len(), 2);
    }
}
