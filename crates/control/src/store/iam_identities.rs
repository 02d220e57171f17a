//! IAM users, groups, group membership and the tags of any IAM entity in the store.
//!
//! Names are unique regardless of case (the columns are `COLLATE NOCASE`) and keep the case
//! they were created with. Checks that must hold across a write (a quota, a name still free,
//! nothing left that blocks a deletion) are made inside the write's transaction.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use time::OffsetDateTime;

use super::{from_nanos, now, to_nanos, Context, Store, StoreError};
use crate::iam::EntityKind;

/// An IAM user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_at: OffsetDateTime,
}

/// An IAM group as stored (same columns as a user).
pub type IamGroup = IamUser;

/// What still hangs on a user or group that IAM wants removed before deleting it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserConflicts {
    pub attached_policies: usize,
    pub inline_policies: usize,
    pub access_keys: usize,
    /// Groups of a user; members of a group.
    pub memberships: usize,
}

impl UserConflicts {
    pub fn is_empty(&self) -> bool {
        *self == UserConflicts::default()
    }
}

/// The outcome of a write that can be refused for a reason the caller words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamWrite {
    Done,
    /// The entity named does not exist.
    NotFound,
    /// The new name is taken.
    Exists,
    /// A quota would be exceeded.
    Quota,
    /// Deletion refused: these remain.
    Conflicts(UserConflicts),
}

const USER_TABLE: &str = "iam_users";
const GROUP_TABLE: &str = "iam_groups";

/// The table holding entities of `kind`.
pub(super) fn table(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => USER_TABLE,
        EntityKind::Group => GROUP_TABLE,
        EntityKind::Role => "iam_roles",
    }
}

impl Store {
    // ---- users and groups ------------------------------------------------------------------

    /// The user named `name` (any case).
    pub fn iam_user(&self, name: &str) -> Result<Option<IamUser>, StoreError> {
        self.iam_entity(EntityKind::User, name)
    }

    pub fn iam_group(&self, name: &str) -> Result<Option<IamGroup>, StoreError> {
        self.iam_entity(EntityKind::Group, name)
    }

    fn iam_entity(&self, kind: EntityKind, name: &str) -> Result<Option<IamUser>, StoreError> {
        let raw = self
            .conn()
            .prepare_cached(&format!(
                "SELECT name, id, path, created_at FROM {} WHERE name = ?1",
                table(kind)
            ))
            .and_then(|mut s| s.query_row([name], raw_entity).optional())
            .ctx(|| format!("read IAM {} '{name}'", kind.as_str()))?;
        raw.map(entity).transpose()
    }

    /// All users (or groups), by name regardless of case.
    pub fn iam_users(&self) -> Result<Vec<IamUser>, StoreError> {
        self.iam_entities(EntityKind::User)
    }

    pub fn iam_groups(&self) -> Result<Vec<IamGroup>, StoreError> {
        self.iam_entities(EntityKind::Group)
    }

    fn iam_entities(&self, kind: EntityKind) -> Result<Vec<IamUser>, StoreError> {
        let ctx = || format!("list IAM {}s", kind.as_str());
        let raws = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT name, id, path, created_at FROM {} ORDER BY name",
                    table(kind)
                ))
                .ctx(ctx)?;
            let rows = stmt.query_map([], raw_entity).ctx(ctx)?;
            rows.collect::<Result<Vec<_>, _>>().ctx(ctx)?
        };
        raws.into_iter().map(entity).collect()
    }

    /// Creates a user with its tags; `Exists` if the name is taken in any case.
    pub fn create_iam_user(
        &self,
        user: &IamUser,
        tags: &[(String, String)],
    ) -> Result<IamWrite, StoreError> {
        self.create_iam_entity(EntityKind::User, user, tags)
    }

    pub fn create_iam_group(&self, group: &IamGroup) -> Result<IamWrite, StoreError> {
        self.create_iam_entity(EntityKind::Group, group, &[])
    }

    fn create_iam_entity(
        &self,
        kind: EntityKind,
        e: &IamUser,
        tags: &[(String, String)],
    ) -> Result<IamWrite, StoreError> {
        let ctx = || format!("create IAM {} '{}'", kind.as_str(), e.name);
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO {} (name, id, path, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT DO NOTHING",
                    table(kind)
                ),
                params![e.name, e.id, e.path, to_nanos(e.created_at)],
            )
            .ctx(ctx)?;
        if inserted == 0 {
            return Ok(IamWrite::Exists);
        }
        // Tags left by an entity of the same name deleted behind the store's back: gone.
        tx.execute(
            "DELETE FROM iam_tags WHERE entity_kind = ?1 AND entity_name = ?2",
            params![kind.as_str(), e.name],
        )
        .ctx(ctx)?;
        put_tags(&tx, kind, &e.name, tags).ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(IamWrite::Done)
    }

    /// Renames and/or moves a user. Its keys, group memberships, attached and inline
    /// policies and tags follow the new name.
    pub fn update_iam_user(
        &self,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<IamWrite, StoreError> {
        let ctx = || format!("update IAM user '{name}'");
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        let Some(current) = tx
            .query_row("SELECT name FROM iam_users WHERE name = ?1", [name], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .ctx(ctx)?
        else {
            return Ok(IamWrite::NotFound);
        };
        if let Some(path) = new_path {
            tx.execute(
                "UPDATE iam_users SET path = ?2 WHERE name = ?1",
                params![current, path],
            )
            .ctx(ctx)?;
        }
        if let Some(new) = new_name {
            let taken: bool = tx
                .query_row(
                    "SELECT count(*) FROM iam_users WHERE name = ?1 AND name != ?2 COLLATE BINARY",
                    params![new, current],
                    |r| r.get::<_, i64>(0),
                )
                .ctx(ctx)?
                > 0;
            // Only a change of case of the same user's name is not a clash.
            if taken && !new.eq_ignore_ascii_case(&current) {
                return Ok(IamWrite::Exists);
            }
            // Memberships point at the user's name: checked at commit, once both moved.
            tx.execute_batch("PRAGMA defer_foreign_keys = ON")
                .ctx(ctx)?;
            for sql in [
                "UPDATE iam_users SET name = ?2 WHERE name = ?1",
                "UPDATE iam_group_members SET user_name = ?2 WHERE user_name = ?1",
                "UPDATE access_keys SET user_name = ?2 WHERE user_name = ?1 COLLATE NOCASE",
                "UPDATE iam_attachments SET entity_name = ?2
                 WHERE entity_kind = 'user' AND entity_name = ?1",
                "UPDATE iam_inline_policies SET entity_name = ?2
                 WHERE entity_kind = 'user' AND entity_name = ?1",
                "UPDATE iam_tags SET entity_name = ?2 WHERE entity_kind = 'user' AND entity_name = ?1",
            ] {
                tx.execute(sql, params![current, new]).ctx(ctx)?;
            }
        }
        tx.commit().ctx(ctx)?;
        Ok(IamWrite::Done)
    }

    /// Deletes a user that holds nothing IAM wants removed first (its tags go with it).
    pub fn delete_iam_user(&self, name: &str) -> Result<IamWrite, StoreError> {
        self.delete_iam_entity(EntityKind::User, name)
    }

    /// Deletes a group without members or policies.
    pub fn delete_iam_group(&self, name: &str) -> Result<IamWrite, StoreError> {
        self.delete_iam_entity(EntityKind::Group, name)
    }

    fn delete_iam_entity(&self, kind: EntityKind, name: &str) -> Result<IamWrite, StoreError> {
        let ctx = || format!("delete IAM {} '{name}'", kind.as_str());
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        let exists = tx
            .query_row(
                &format!("SELECT count(*) FROM {} WHERE name = ?1", table(kind)),
                [name],
                |r| r.get::<_, i64>(0),
            )
            .ctx(ctx)?
            > 0;
        if !exists {
            return Ok(IamWrite::NotFound);
        }
        let conflicts = conflicts(&tx, kind, name).ctx(ctx)?;
        if !conflicts.is_empty() {
            return Ok(IamWrite::Conflicts(conflicts));
        }
        tx.execute(
            "DELETE FROM iam_tags WHERE entity_kind = ?1 AND entity_name = ?2",
            params![kind.as_str(), name],
        )
        .ctx(ctx)?;
        tx.execute(
            &format!("DELETE FROM {} WHERE name = ?1", table(kind)),
            [name],
        )
        .ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(IamWrite::Done)
    }

    // ---- membership --------------------------------------------------------------------------

    /// Adds the user to the group (already a member: nothing changes). `NotFound` when either
    /// is missing (the caller says which), `Quota` when the user is in `max_groups` already.
    pub fn add_user_to_group(
        &self,
        group: &str,
        user: &str,
        max_groups: usize,
    ) -> Result<IamWrite, StoreError> {
        let ctx = || format!("add IAM user '{user}' to group '{group}'");
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        let names = tx
            .query_row(
                "SELECT g.name, u.name FROM iam_groups g, iam_users u
                 WHERE g.name = ?1 AND u.name = ?2",
                params![group, user],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .ctx(ctx)?;
        let Some((group, user)) = names else {
            return Ok(IamWrite::NotFound);
        };
        let member = tx
            .query_row(
                "SELECT count(*) FROM iam_group_members WHERE group_name = ?1 AND user_name = ?2",
                params![group, user],
                |r| r.get::<_, i64>(0),
            )
            .ctx(ctx)?
            > 0;
        if member {
            return Ok(IamWrite::Done);
        }
        let held: i64 = tx
            .query_row(
                "SELECT count(*) FROM iam_group_members WHERE user_name = ?1",
                [&user],
                |r| r.get(0),
            )
            .ctx(ctx)?;
        if usize::try_from(held).unwrap_or(usize::MAX) >= max_groups {
            return Ok(IamWrite::Quota);
        }
        tx.execute(
            "INSERT INTO iam_group_members (group_name, user_name, added_at) VALUES (?1, ?2, ?3)",
            params![group, user, to_nanos(now())],
        )
        .ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(IamWrite::Done)
    }

    /// Removes the user from the group; `false` when it was not a member.
    pub fn remove_user_from_group(&self, group: &str, user: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM iam_group_members WHERE group_name = ?1 AND user_name = ?2",
                params![group, user],
            )
            .ctx(|| format!("remove IAM user '{user}' from group '{group}'"))?;
        Ok(n > 0)
    }

    /// The members of a group, by name.
    pub fn iam_group_members(&self, group: &str) -> Result<Vec<IamUser>, StoreError> {
        self.joined(
            "SELECT u.name, u.id, u.path, u.created_at FROM iam_group_members m
             JOIN iam_users u ON u.name = m.user_name WHERE m.group_name = ?1 ORDER BY u.name",
            group,
            || format!("list the members of IAM group '{group}'"),
        )
    }

    /// The groups a user is in, by name.
    pub fn iam_groups_of_user(&self, user: &str) -> Result<Vec<IamGroup>, StoreError> {
        self.joined(
            "SELECT g.name, g.id, g.path, g.created_at FROM iam_group_members m
             JOIN iam_groups g ON g.name = m.group_name WHERE m.user_name = ?1 ORDER BY g.name",
            user,
            || format!("list the groups of IAM user '{user}'"),
        )
    }

    fn joined(
        &self,
        sql: &str,
        name: &str,
        ctx: impl Fn() -> String,
    ) -> Result<Vec<IamUser>, StoreError> {
        let raws = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(sql).ctx(&ctx)?;
            let rows = stmt.query_map([name], raw_entity).ctx(&ctx)?;
            rows.collect::<Result<Vec<_>, _>>().ctx(&ctx)?
        };
        raws.into_iter().map(entity).collect()
    }

    // ---- tags --------------------------------------------------------------------------------

    /// The tags of any IAM entity, in the order they were first set.
    pub fn iam_tags(
        &self,
        kind: EntityKind,
        name: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let ctx = || format!("read the tags of IAM {} '{name}'", kind.as_str());
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, value FROM iam_tags WHERE entity_kind = ?1 AND entity_name = ?2
                 ORDER BY rowid",
            )
            .ctx(ctx)?;
        let rows = stmt
            .query_map(params![kind.as_str(), name], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(ctx)?;
        rows.collect::<Result<_, _>>().ctx(ctx)
    }

    /// Adds or overwrites tags (keys compare regardless of case, as IAM's do). `Quota` when
    /// the entity would then carry more than `max` tags: nothing is written.
    pub fn put_iam_tags(
        &self,
        kind: EntityKind,
        name: &str,
        tags: &[(String, String)],
        max: usize,
    ) -> Result<IamWrite, StoreError> {
        let ctx = || format!("tag IAM {} '{name}'", kind.as_str());
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(ctx)?;
        put_tags(&tx, kind, name, tags).ctx(ctx)?;
        let held: i64 = tx
            .query_row(
                "SELECT count(*) FROM iam_tags WHERE entity_kind = ?1 AND entity_name = ?2",
                params![kind.as_str(), name],
                |r| r.get(0),
            )
            .ctx(ctx)?;
        if usize::try_from(held).unwrap_or(usize::MAX) > max {
            return Ok(IamWrite::Quota); // dropped: rolls back
        }
        tx.commit().ctx(ctx)?;
        Ok(IamWrite::Done)
    }

    /// Removes the tags with these keys (absent keys are ignored, as in IAM).
    pub fn remove_iam_tags(
        &self,
        kind: EntityKind,
        name: &str,
        keys: &[String],
    ) -> Result<(), StoreError> {
        let ctx = || format!("untag IAM {} '{name}'", kind.as_str());
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(ctx)?;
        for key in keys {
            tx.execute(
                "DELETE FROM iam_tags WHERE entity_kind = ?1 AND entity_name = ?2 AND key = ?3",
                params![kind.as_str(), name, key],
            )
            .ctx(ctx)?;
        }
        tx.commit().ctx(ctx)
    }
}

fn put_tags(
    tx: &Transaction<'_>,
    kind: EntityKind,
    name: &str,
    tags: &[(String, String)],
) -> rusqlite::Result<()> {
    for (key, value) in tags {
        tx.execute(
            "INSERT INTO iam_tags (entity_kind, entity_name, key, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (entity_kind, entity_name, key) DO UPDATE SET key = ?3, value = ?4",
            params![kind.as_str(), name, key, value],
        )?;
    }
    Ok(())
}

fn conflicts(
    tx: &Transaction<'_>,
    kind: EntityKind,
    name: &str,
) -> rusqlite::Result<UserConflicts> {
    let count = |sql: &str| -> rusqlite::Result<usize> {
        let n: i64 = tx.query_row(sql, params![kind.as_str(), name], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    };
    Ok(UserConflicts {
        attached_policies: count(
            "SELECT count(*) FROM iam_attachments WHERE entity_kind = ?1 AND entity_name = ?2",
        )?,
        inline_policies: count(
            "SELECT count(*) FROM iam_inline_policies WHERE entity_kind = ?1 AND entity_name = ?2",
        )?,
        access_keys: match kind {
            EntityKind::User => count(
                "SELECT count(*) FROM access_keys WHERE ?1 = 'user'
                 AND user_name = ?2 COLLATE NOCASE",
            )?,
            EntityKind::Group | EntityKind::Role => 0,
        },
        memberships: match kind {
            EntityKind::User => count(
                "SELECT count(*) FROM iam_group_members WHERE ?1 = 'user' AND user_name = ?2",
            )?,
            EntityKind::Group => count(
                "SELECT count(*) FROM iam_group_members WHERE ?1 = 'group' AND group_name = ?2",
            )?,
            EntityKind::Role => 0,
        },
    })
}

type RawEntity = (String, String, String, i64);

fn raw_entity(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntity> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn entity((name, id, path, created): RawEntity) -> Result<IamUser, StoreError> {
    let created_at = from_nanos(created, || format!("IAM entity '{name}'"))?;
    Ok(IamUser {
        name,
        id,
        path,
        created_at,
    })
}
