//! Access keys: the key pairs requests are signed with (SigV4), their status and last use.
//! Secrets are sealed at rest ([`super::keys_cipher`]): only this file seals and opens them.

use ferry_base::Secret;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use super::keys_cipher::is_sealed;
use super::{from_nanos, to_nanos, Context, ObjectKind, Store, StoreError};

/// An access key pair and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub user_name: String,
    pub created_at: OffsetDateTime,
    pub status: KeyStatus,
    pub last_used: Option<KeyLastUsed>,
}

/// IAM's `StatusType`: an `Inactive` key signs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }

    pub fn parse(s: &str) -> Option<KeyStatus> {
        match s {
            "Active" => Some(KeyStatus::Active),
            "Inactive" => Some(KeyStatus::Inactive),
            _ => None,
        }
    }
}

/// When a key last signed a request that ferry accepted, for which service and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLastUsed {
    pub at: OffsetDateTime,
    pub service: String,
    pub region: String,
}

/// What [`Store::add_access_key`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAdded {
    Added,
    /// The user already has `limit` keys; nothing was stored.
    QuotaFull,
}

const COLUMNS: &str = "access_key_id, secret_access_key, user_name, created_at, status, \
                       last_used_at, last_used_service, last_used_region";

impl Store {
    /// Stores a new key. `AlreadyExists` if the key id is taken (keys are never overwritten).
    pub fn put_access_key(&self, key: &AccessKey) -> Result<(), StoreError> {
        match self.insert_key(key, None)? {
            KeyAdded::Added => Ok(()),
            // No limit was given.
            KeyAdded::QuotaFull => Ok(()),
        }
    }

    /// Stores a new key for a user who may hold at most `limit`, counted and inserted in one
    /// transaction (two concurrent CreateAccessKey calls cannot both pass the quota).
    pub fn add_access_key(&self, key: &AccessKey, limit: usize) -> Result<KeyAdded, StoreError> {
        self.insert_key(key, Some(limit))
    }

    fn insert_key(&self, key: &AccessKey, limit: Option<usize>) -> Result<KeyAdded, StoreError> {
        let id = key.access_key_id.as_str();
        let ctx = || format!("store access key '{id}'");
        let sealed = self.cipher.seal(id, &key.secret_access_key)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        if let Some(limit) = limit {
            let held: i64 = tx
                .query_row(
                    "SELECT count(*) FROM access_keys WHERE user_name = ?1",
                    [&key.user_name],
                    |r| r.get(0),
                )
                .ctx(ctx)?;
            if usize::try_from(held).unwrap_or(usize::MAX) >= limit {
                return Ok(KeyAdded::QuotaFull);
            }
        }
        let last = key.last_used.as_ref();
        let inserted = tx
            .execute(
                "INSERT INTO access_keys (access_key_id, secret_access_key, user_name, created_at,
                     status, last_used_at, last_used_service, last_used_region)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (access_key_id) DO NOTHING",
                params![
                    id,
                    sealed,
                    key.user_name,
                    to_nanos(key.created_at),
                    key.status.as_str(),
                    last.map(|l| to_nanos(l.at)),
                    last.map(|l| l.service.as_str()),
                    last.map(|l| l.region.as_str()),
                ],
            )
            .ctx(ctx)?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                kind: ObjectKind::AccessKey,
                id: id.to_string(),
            });
        }
        tx.commit().ctx(ctx)?;
        Ok(KeyAdded::Added)
    }

    pub fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        let row = {
            let conn = self.conn();
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM access_keys WHERE access_key_id = ?1"
            ))
            .and_then(|mut s| s.query_row([access_key_id], raw_key).optional())
            .ctx(|| format!("read access key '{access_key_id}'"))?
        };
        row.map(|r| self.key(r)).transpose()
    }

    /// The keys of one user, oldest first.
    pub fn access_keys_of(&self, user_name: &str) -> Result<Vec<AccessKey>, StoreError> {
        let ctx = || format!("list the access keys of '{user_name}'");
        let raws = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM access_keys WHERE user_name = ?1
                     ORDER BY created_at, access_key_id"
                ))
                .ctx(ctx)?;
            let rows = stmt.query_map([user_name], raw_key).ctx(ctx)?;
            rows.collect::<Result<Vec<_>, _>>().ctx(ctx)?
        };
        raws.into_iter().map(|r| self.key(r)).collect()
    }

    /// Sets the status of `user_name`'s key; `false` when that user has no such key.
    pub fn set_access_key_status(
        &self,
        user_name: &str,
        access_key_id: &str,
        status: KeyStatus,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE access_keys SET status = ?3 WHERE user_name = ?1 AND access_key_id = ?2",
                params![user_name, access_key_id, status.as_str()],
            )
            .ctx(|| format!("update access key '{access_key_id}'"))?;
        Ok(n > 0)
    }

    /// Deletes `user_name`'s key; `false` when that user has no such key.
    pub fn delete_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM access_keys WHERE user_name = ?1 AND access_key_id = ?2",
                params![user_name, access_key_id],
            )
            .ctx(|| format!("delete access key '{access_key_id}'"))?;
        Ok(n > 0)
    }

    /// Records that the key signed an accepted request.
    pub fn record_access_key_use(
        &self,
        access_key_id: &str,
        used: &KeyLastUsed,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE access_keys SET last_used_at = ?2, last_used_service = ?3,
                     last_used_region = ?4 WHERE access_key_id = ?1",
                params![access_key_id, to_nanos(used.at), used.service, used.region],
            )
            .ctx(|| format!("record the use of access key '{access_key_id}'"))?;
        Ok(())
    }

    /// At open: seals secrets stored in clear by older ferries, and checks that every sealed
    /// one opens with this key file. `new_key_file` is the key file when it was just created:
    /// then sealed rows mean the real key file was lost, which is said (and the new, useless
    /// key file removed) rather than met at the first request.
    pub(super) fn seal_plain_secrets(&self, new_key_file: Option<&str>) -> Result<(), StoreError> {
        let ctx = || "seal the secret access keys".to_string();
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        let rows: Vec<(String, String)> = {
            let mut stmt = tx
                .prepare("SELECT access_key_id, secret_access_key FROM access_keys")
                .ctx(ctx)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .ctx(ctx)?;
            rows.collect::<Result<_, _>>().ctx(ctx)?
        };
        for (id, stored) in rows {
            if is_sealed(&stored) {
                if let Some(key_file) = new_key_file {
                    let _ = std::fs::remove_file(key_file);
                    return Err(StoreError::Corrupt {
                        what: self.path.clone(),
                        reason: format!(
                            "its access keys are sealed, but the secrets key file {key_file} \
                             is missing: restore it from the data dir's backup"
                        ),
                    });
                }
                self.cipher
                    .open(&id, &stored)
                    .map_err(|e| StoreError::Corrupt {
                        what: format!("access key '{id}' in {}", self.path),
                        reason: match e {
                            StoreError::Corrupt { reason, .. } => reason,
                            other => other.to_string(),
                        },
                    })?;
                continue;
            }
            let sealed = self.cipher.seal(&id, &stored.into())?;
            tx.execute(
                "UPDATE access_keys SET secret_access_key = ?2 WHERE access_key_id = ?1",
                params![id, sealed],
            )
            .ctx(ctx)?;
        }
        tx.commit().ctx(ctx)
    }

    fn key(&self, raw: RawKey) -> Result<AccessKey, StoreError> {
        let (access_key_id, stored, user_name, created, status, used_at, service, region) = raw;
        let what = || format!("access key '{access_key_id}'");
        let created_at = from_nanos(created, what)?;
        let status = KeyStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
            what: what(),
            reason: format!("unknown status '{status}'"),
        })?;
        let last_used = match used_at {
            Some(at) => Some(KeyLastUsed {
                at: from_nanos(at, what)?,
                service: service.unwrap_or_default(),
                region: region.unwrap_or_default(),
            }),
            None => None,
        };
        let secret_access_key = self.cipher.open(&access_key_id, &stored)?;
        Ok(AccessKey {
            access_key_id,
            secret_access_key,
            user_name,
            created_at,
            status,
            last_used,
        })
    }
}

type RawKey = (
    String,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn raw_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKey> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    pub(crate) fn key(id: &str, user: &str, age_minutes: i64) -> AccessKey {
        AccessKey {
            access_key_id: id.into(),
            secret_access_key: format!("secret-of-{id}").into(),
            user_name: user.into(),
            created_at: OffsetDateTime::now_utc() - Duration::minutes(age_minutes),
            status: KeyStatus::Active,
            last_used: None,
        }
    }

    #[test]
    fn keys_round_trip_and_are_never_overwritten() {
        let store = Store::open_in_memory().unwrap();
        let admin = key("AKIAADMIN", "admin", 10);
        store.put_access_key(&admin).unwrap();
        assert_eq!(
            store.get_access_key("AKIAADMIN").unwrap(),
            Some(admin.clone())
        );
        assert_eq!(store.get_access_key("AKIANOPE").unwrap(), None);

        let mut clash = key("AKIAADMIN", "mallory", 0);
        clash.secret_access_key = "other".into();
        let err = store.put_access_key(&clash).unwrap_err();
        assert_eq!(err.to_string(), "access key 'AKIAADMIN' already exists");
        assert_eq!(store.get_access_key("AKIAADMIN").unwrap(), Some(admin));
    }

    #[test]
    fn keys_of_a_user_oldest_first() {
        let store = Store::open_in_memory().unwrap();
        store.put_access_key(&key("AKIA2", "alice", 1)).unwrap();
        store.put_access_key(&key("AKIA1", "alice", 5)).unwrap();
        store.put_access_key(&key("AKIA3", "bob", 3)).unwrap();
        let ids: Vec<String> = store
            .access_keys_of("alice")
            .unwrap()
            .into_iter()
            .map(|k| k.access_key_id)
            .collect();
        assert_eq!(ids, ["AKIA1", "AKIA2"]);
        assert!(store.access_keys_of("carol").unwrap().is_empty());
    }

    #[test]
    fn the_quota_status_last_use_and_deletion() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            store.add_access_key(&key("AKIA1", "alice", 2), 2).unwrap(),
            KeyAdded::Added
        );
        assert_eq!(
            store.add_access_key(&key("AKIA2", "alice", 1), 2).unwrap(),
            KeyAdded::Added
        );
        assert_eq!(
            store.add_access_key(&key("AKIA3", "alice", 0), 2).unwrap(),
            KeyAdded::QuotaFull
        );
        assert_eq!(store.get_access_key("AKIA3").unwrap(), None);

        assert!(store
            .set_access_key_status("alice", "AKIA1", KeyStatus::Inactive)
            .unwrap());
        assert!(!store
            .set_access_key_status("bob", "AKIA1", KeyStatus::Active)
            .unwrap());
        let used = KeyLastUsed {
            at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            service: "sts".into(),
            region: "us-east-1".into(),
        };
        store.record_access_key_use("AKIA1", &used).unwrap();
        let k = store.get_access_key("AKIA1").unwrap().unwrap();
        assert_eq!(k.status, KeyStatus::Inactive);
        assert_eq!(k.last_used, Some(used));

        assert!(!store.delete_access_key("bob", "AKIA1").unwrap());
        assert!(store.delete_access_key("alice", "AKIA1").unwrap());
        assert_eq!(store.access_keys_of("alice").unwrap().len(), 1);
    }

    #[test]
    fn debug_redacts_the_secret() {
        let k = key("AKIAX", "admin", 0);
        let shown = format!("{k:?}");
        assert!(shown.contains("AKIAX"), "{shown}");
        assert!(!shown.contains("secret-of-AKIAX"), "{shown}");
    }

    #[test]
    fn secrets_are_sealed_on_disk_and_old_plain_rows_are_sealed_at_open() {
        let tmp = tempfile::tempdir().unwrap();
        let path = camino::Utf8PathBuf::from_path_buf(tmp.path().join("ferry.sqlite")).unwrap();
        {
            let store = Store::open(&path).unwrap();
            store.put_access_key(&key("AKIANEW", ":root", 1)).unwrap();
            // A row as an older ferry wrote it: the secret in clear.
            store
                .conn()
                .execute(
                    "INSERT INTO access_keys (access_key_id, secret_access_key, user_name,
                         created_at) VALUES ('AKIAOLD', 'secret-of-AKIAOLD', ':root', 0)",
                    [],
                )
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let stored: Vec<String> = {
            let conn = store.conn();
            let mut stmt = conn
                .prepare("SELECT secret_access_key FROM access_keys")
                .unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        assert_eq!(stored.len(), 2);
        for s in &stored {
            assert!(is_sealed(s) && !s.contains("secret-of"), "{s}");
        }
        let old = store.get_access_key("AKIAOLD").unwrap().unwrap();
        assert_eq!(old.secret_access_key.expose(), "secret-of-AKIAOLD");
        drop(store);

        // The key file lost: said at open, naming it.
        std::fs::remove_file(tmp.path().join(super::super::keys_cipher::KEY_FILE)).unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(
            err.contains("secrets key file") && err.contains("missing"),
            "{err}"
        );
        assert!(!tmp.path().join("secrets.key").exists());
    }
}
