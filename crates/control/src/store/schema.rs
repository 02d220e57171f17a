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
