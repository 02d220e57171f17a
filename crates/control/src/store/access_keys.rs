//! Access keys: the key pairs requests are signed with (SigV4). The secret is kept in clear
//! because verifying a signature needs it; the database file is 0600 in a 0700 directory.

use ferry_base::Secret;
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::{from_nanos, to_nanos, Context, ObjectKind, Store, StoreError};

/// An access key pair and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub user_name: String,
    pub created_at: OffsetDateTime,
}

impl Store {
    /// Stores a new key. `AlreadyExists` if the key id is taken (keys are never overwritten).
    pub fn put_access_key(&self, key: &AccessKey) -> Result<(), StoreError> {
        let id = key.access_key_id.as_str();
        let ctx = || format!("store access key '{id}'");
        let conn = self.conn();
        let inserted = conn
            .execute(
                "INSERT INTO access_keys (access_key_id, secret_access_key, user_name, created_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (access_key_id) DO NOTHING",
                params![
                    id,
                    key.secret_access_key.expose(),
                    key.user_name,
                    to_nanos(key.created_at)
                ],
            )
            .ctx(ctx)?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists {
                kind: ObjectKind::AccessKey,
                id: id.to_string(),
            });
        }
        Ok(())
    }

    pub fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        let conn = self.conn();
        let row = conn
            .prepare_cached(
                "SELECT access_key_id, secret_access_key, user_name, created_at
                 FROM access_keys WHERE access_key_id = ?1",
            )
            .and_then(|mut s| s.query_row([access_key_id], raw_key).optional())
            .ctx(|| format!("read access key '{access_key_id}'"))?;
        row.map(key).transpose()
    }

    /// The keys of one user, oldest first.
    pub fn access_keys_of(&self, user_name: &str) -> Result<Vec<AccessKey>, StoreError> {
        let ctx = || format!("list the access keys of '{user_name}'");
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT access_key_id, secret_access_key, user_name, created_at
                 FROM access_keys WHERE user_name = ?1 ORDER BY created_at, access_key_id",
            )
            .ctx(ctx)?;
        let rows = stmt.query_map([user_name], raw_key).ctx(ctx)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(key(row.ctx(ctx)?)?);
        }
        Ok(out)
    }
}

type RawKey = (String, String, String, i64);

fn raw_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKey> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn key(
    (access_key_id, secret_access_key, user_name, created): RawKey,
) -> Result<AccessKey, StoreError> {
    let created_at = from_nanos(created, || format!("access key '{access_key_id}'"))?;
    Ok(AccessKey {
        access_key_id,
        secret_access_key: secret_access_key.into(),
        user_name,
        created_at,
    })
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    fn key(id: &str, user: &str, age_minutes: i64) -> AccessKey {
        AccessKey {
            access_key_id: id.into(),
            secret_access_key: format!("secret-of-{id}").into(),
            user_name: user.into(),
            created_at: OffsetDateTime::now_utc() - Duration::minutes(age_minutes),
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
    fn debug_redacts_the_secret() {
        let k = key("AKIAX", "admin", 0);
        let shown = format!("{k:?}");
        assert!(shown.contains("AKIAX"), "{shown}");
        assert!(!shown.contains("secret-of-AKIAX"), "{shown}");
    }
}
