//! The metadata store: clusters, instances, events, jobs and access keys in one SQLite file
//! (`<data-dir>/ferry.sqlite`).
//!
//! Why SQLite: the control plane's state must survive a crash or a power cut at any instant
//! and changes in small transactions (a cluster row with its job and its event, together or
//! not at all). The database runs in WAL mode with `synchronous=FULL`, so a committed change
//! is on disk when the call returns; foreign keys are enforced.
//!
//! [`Store`] is `Send + Sync` (one connection behind a mutex) and synchronous: every call is a
//! short indexed statement, cheap enough for async callers to make directly.
//!
//! Schema (version in `PRAGMA user_version`, upgraded by [`schema::MIGRATIONS`] at open):
//! - `clusters(id, status, port, created_at, doc)` and `instances(id, cluster_id, status,
//!   created_at, doc)`: the columns are for lookups, `doc` is the whole [`Cluster`] /
//!   [`Instance`] as JSON and is the truth.
//! - `events(seq, source_type, source_id, date, message, categories)`, `seq` monotonic.
//! - `jobs(id, cluster_id, kind, attempts, created_at, finished_at)`.
//! - `access_keys(access_key_id, secret_access_key, user_name, created_at, status,
//!   last_used_*)`. Secret keys are sealed ([`keys_cipher`]) under `secrets.key` beside the
//!   database; both files are 0600 inside the 0700 data dir.
//! - `imports(id, cluster_id, status, started_at, doc)`: `ferry import --cluster` runs, at
//!   most one `running` per cluster (a partial unique index).
//! - IAM: `iam_users`, `iam_groups`, `iam_group_members`, `iam_tags` ([`iam_identities`]);
//!   roles and policies ([`iam_policies`]).
//!
//! Timestamps are stored as Unix nanoseconds in columns and as RFC 3339 in documents.

mod access_keys;
mod clusters;
mod events;
mod iam_identities;
mod iam_policies;
mod imports;
mod jobs;
mod keys_cipher;
#[cfg(test)]
mod lifecycle_tests;
mod schema;

use std::fmt;
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::sync::{Mutex, MutexGuard, PoisonError};

use camino::Utf8Path;
use rusqlite::{Connection, ErrorCode};
use time::OffsetDateTime;

pub use access_keys::{AccessKey, KeyAdded, KeyLastUsed, KeyStatus};
pub use events::{EventQuery, NewEvent};
pub use iam_identities::{IamGroup, IamUser, IamWrite, UserConflicts};
pub use iam_policies::{
    AppliedPolicy, AttachedPolicy, IamResult, IamRole, ManagedPolicy, PolicySourceType,
    PolicyVersion,
};
pub use keys_cipher::KEY_FILE as SECRETS_KEY_FILE;

#[cfg(doc)]
use crate::model::{Cluster, Instance};
use crate::model::{ClusterId, InstanceId};

/// What a [`StoreError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Cluster,
    Instance,
    Job,
    AccessKey,
    Import,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Cluster => "DB cluster",
            ObjectKind::Instance => "DB instance",
            ObjectKind::Job => "job",
            ObjectKind::AccessKey => "access key",
            ObjectKind::Import => "import",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} '{id}' already exists")]
    AlreadyExists { kind: ObjectKind, id: String },
    #[error("{kind} '{id}' not found")]
    NotFound { kind: ObjectKind, id: String },
    #[error("DB cluster '{cluster}' still has DB instances: {}", join(instances))]
    ClusterHasInstances {
        cluster: ClusterId,
        instances: Vec<InstanceId>,
    },
    // No "metadata store" prefix: `ControlError::Store` says it once for all of these.
    #[error("{context}")]
    Sqlite {
        context: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is corrupt: {reason}")]
    Corrupt { what: String, reason: String },
    #[error(
        "metadata store {path} has schema version {found}, newer than this ferry understands \
         ({supported}): run the ferry that wrote it, or a newer one"
    )]
    SchemaTooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    /// A test's failpoint failed the write (only in builds with the `failpoints` feature).
    #[error(transparent)]
    Injected(#[from] ferry_base::failpoint::Injected),
}

fn join(ids: &[InstanceId]) -> String {
    ids.iter()
        .map(InstanceId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds context to rusqlite results: `.ctx(|| format!("read DB cluster '{id}'"))`.
trait Context<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite {
            context: context(),
            source,
        })
    }
}

/// The metadata store. See the module docs.
pub struct Store {
    conn: Mutex<Connection>,
    /// For messages: the database file, or `:memory:`.
    path: String,
    /// The last full listings of clusters and of instances, decoded (see [`clusters::Listing`]).
    cluster_list: clusters::Listing<crate::model::Cluster>,
    instance_list: clusters::Listing<crate::model::Instance>,
    /// Seals and opens secret access keys.
    cipher: keys_cipher::KeyCipher,
}

// Not derived: the connection (behind its mutex) says nothing useful; the path names the store.
impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating it 0600 if needed) and upgrades the database at `path`, then checks
    /// it: a damaged file, or a row ferry cannot read, is [`StoreError::Corrupt`] naming the
    /// file, here at start-up rather than at the first request that meets it.
    pub fn open(path: &Utf8Path) -> Result<Store, StoreError> {
        create_private(path)?;
        let conn = Connection::open(path).ctx(|| format!("open {path}"))?;
        let key_file = path.with_file_name(keys_cipher::KEY_FILE);
        let (cipher, created) = keys_cipher::KeyCipher::load_or_create(&key_file)?;
        let store = Store::init(conn, path.to_string(), cipher)?;
        store.check()?;
        store.seal_plain_secrets(created.then_some(key_file.as_str()))?;
        Ok(store)
    }

    /// A store that lives as long as the value (tests, `--dry-run` tools).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().ctx(|| "open an in-memory database".into())?;
        Store::init(
            conn,
            ":memory:".into(),
            keys_cipher::KeyCipher::ephemeral()?,
        )
    }

    fn init(
        mut conn: Connection,
        path: String,
        cipher: keys_cipher::KeyCipher,
    ) -> Result<Store, StoreError> {
        let not_a_db = |e: rusqlite::Error| damaged(&path, e, || format!("configure {path}"));
        // WAL keeps readers and the writer apart and makes commits cheap; FULL syncs the WAL
        // at every commit, so a committed change survives a power cut.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(not_a_db)?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )
        .map_err(not_a_db)?;
        schema::migrate(&mut conn, &path)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            cluster_list: Default::default(),
            instance_list: Default::default(),
            cipher,
        })
    }

    /// SQLite's own page check, then every row whose document ferry decodes at start-up
    /// (clusters, instances, pending jobs). Events are left out: they are only read back.
    fn check(&self) -> Result<(), StoreError> {
        let path = &self.path;
        let problems: Vec<String> = {
            let conn = self.conn();
            let ctx = || format!("check {path}");
            let mut stmt = conn
                .prepare("PRAGMA quick_check(5)")
                .map_err(|e| damaged(path, e, ctx))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| damaged(path, e, ctx))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| damaged(path, e, ctx))?
        };
        if problems != ["ok"] {
            return Err(StoreError::Corrupt {
                what: path.clone(),
                reason: format!("SQLite's integrity check failed: {}", problems.join("; ")),
            });
        }
        let in_file = |e: StoreError| match e {
            StoreError::Corrupt { what, reason } => StoreError::Corrupt {
                what: format!("{what} in {path}"),
                reason,
            },
            other => other,
        };
        self.list_clusters().map_err(in_file)?;
        self.list_instances().map_err(in_file)?;
        self.pending_jobs().map_err(in_file)?;
        Ok(())
    }

    /// The connection. A panic while it was held cannot leave a transaction open (a dropped
    /// `Transaction` rolls back), so a poisoned lock is still a usable connection.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An SQLite error on `path`: [`StoreError::Corrupt`] when SQLite says the file is not a
/// database or is damaged, else [`StoreError::Sqlite`] with `context`.
fn damaged(path: &str, e: rusqlite::Error, context: impl FnOnce() -> String) -> StoreError {
    let reason = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "not an SQLite database".to_string(),
        Some(ErrorCode::DatabaseCorrupt) => format!("the file is damaged ({e})"),
        _ => {
            return StoreError::Sqlite {
                context: context(),
                source: e,
            }
        }
    };
    StoreError::Corrupt {
        what: path.to_string(),
        reason,
    }
}

/// Creates the database file 0600 before SQLite does (SQLite would use 0644 less the umask;
/// its `-wal` and `-shm` files copy the database file's mode), and tightens an existing one.
fn create_private(path: &Utf8Path) -> Result<(), StoreError> {
    let io_err = |context: String| move |source| StoreError::Io { context, source };
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io_err(format!("create {path}")))?;
    let mode = fs::metadata(path)
        .map_err(io_err(format!("inspect {path}")))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(io_err(format!("restrict {path} to 0600")))?;
    }
    Ok(())
}

/// A timestamp as stored in columns: Unix nanoseconds (good until 2262).
fn to_nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn from_nanos(n: i64, what: impl FnOnce() -> String) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).map_err(|e| StoreError::Corrupt {
        what: what(),
        reason: format!("timestamp {n}: {e}"),
    })
}

/// The time the store stamps on events, jobs and keys.
fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Cluster, ClusterSettings, ClusterStatus, EngineName, Instance, InstanceStatus,
    };

    pub(crate) fn cluster(id: &str, port: u16) -> Cluster {
        Cluster {
            id: ClusterId::new_unchecked(id),
            resource_id: format!("cluster-{}", "A".repeat(26)),
            status: ClusterStatus::Creating,
            engine: EngineName::AuroraMysql,
            engine_version: "10.11.14".into(),
            master_username: "admin".into(),
            port,
            settings: ClusterSettings {
                parameter_group: "default.aurora-mysql8.0".into(),
                preferred_backup_window: "03:00-03:30".into(),
                preferred_maintenance_window: "sun:05:00-sun:05:30".into(),
                ..ClusterSettings::defaults(EngineName::AuroraMysql, "us-east-1")
            },
            tags: vec![],
            s3_origin: None,
            recovered_binlog: None,
            recovered_gtid: None,
            created_at: OffsetDateTime::now_utc(),
        }
    }

    pub(crate) fn instance(id: &str, cluster: &str) -> Instance {
        Instance {
            id: InstanceId::new_unchecked(id),
            resource_id: format!("db-{}", "B".repeat(26)),
            cluster_id: ClusterId::new_unchecked(cluster),
            status: InstanceStatus::Creating,
            instance_class: "db.r6g.large".into(),
            engine: EngineName::AuroraMysql,
            is_writer: true,
            promotion_tier: 1,
            availability_zone: "us-east-1a".into(),
            tags: vec![],
            created_at: OffsetDateTime::now_utc(),
        }
    }

    fn temp_db() -> (tempfile::TempDir, camino::Utf8PathBuf) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let path = camino::Utf8PathBuf::from_path_buf(tmp.path().join("ferry.sqlite"))
            .expect("utf-8 temp path");
        (tmp, path)
    }

    #[test]
    fn reopen_keeps_data_and_the_file_is_private() {
        let (_tmp, path) = temp_db();
        {
            let store = Store::open(&path).unwrap();
            store
                .insert_cluster(&cluster("c1", 3306), None, None)
                .unwrap();
        }
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let store = Store::open(&path).unwrap();
        let c = store.get_cluster(&ClusterId::new_unchecked("c1")).unwrap();
        assert_eq!(c.map(|c| c.port), Some(3306));
    }

    #[test]
    fn an_empty_file_is_migrated_to_the_current_schema() {
        let (_tmp, path) = temp_db();
        fs::write(&path, b"").unwrap();
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema::MIGRATIONS.len() as i64);
        assert!(store.list_clusters().unwrap().is_empty());
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (_tmp, path) = temp_db();
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 999).unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_corrupt() {
        let (_tmp, path) = temp_db();
        fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("not an SQLite database"), "{err}");
    }

    #[test]
    fn an_unreadable_cluster_document_stops_open_naming_the_file() {
        let (_tmp, path) = temp_db();
        Store::open(&path)
            .unwrap()
            .insert_cluster(&cluster("c1", 3306), None, None)
            .unwrap();
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE clusters SET doc = 'not json' WHERE id = 'c1'", [])
            .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "the stored DB cluster 'c1' in {path} is corrupt: "
            )),
            "{text}"
        );
    }

    #[test]
    fn damaged_pages_stop_open_naming_the_file() {
        let (_tmp, path) = temp_db();
        {
            let store = Store::open(&path).unwrap();
            for i in 0..200 {
                store
                    .insert_cluster(&cluster(&format!("c{i}"), 3306 + i), None, None)
                    .unwrap();
            }
        }
        // Closed: the WAL is checkpointed into the file. Overwrite pages past the first.
        let mut bytes = fs::read(&path).unwrap();
        assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
        for b in &mut bytes[4096 * 2..4096 * 12] {
            *b = 0xA5;
        }
        fs::write(&path, &bytes).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().starts_with(&path.to_string()), "{err}");
    }

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
    }
}
