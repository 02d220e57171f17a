//! IAM roles, managed policies and versions, attachments and inline policies in the store.
//!
//! Functions that can be refused by IAM's rules (a name taken, a quota, a conflict) return
//! `Result<Result<T, IamError>, StoreError>`: the outer error is the store failing, the inner
//! one IAM's answer. The check and the write happen under the store's one connection, so no
//! other call sees or makes a change in between.
//!
//! Built-in AWS managed policies ([`crate::iam::policies::AWS_MANAGED`]) have no rows: they
//! are answered from code, and only their attachments are stored.
//!
//! Attachments, inline policies, role tags and the policies that apply to a principal are in
//! [`attach`].

mod attach;

use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::{from_nanos, now, to_nanos, Context, Store, StoreError};
use crate::iam::policies::{self as rules, aws_managed, AWS_MANAGED};
use crate::iam::{EntityKind, IamError, IamErrorKind};

pub use attach::{AppliedPolicy, AttachedPolicy, PolicySourceType};

/// A store answer that IAM's rules may refuse.
pub type IamResult<T> = Result<Result<T, IamError>, StoreError>;

/// A role as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRole {
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_at: OffsetDateTime,
    /// The trust policy, as the JSON text it was given in.
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
}

/// A managed policy: a customer managed one from its row, or a built-in AWS managed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub id: String,
    pub path: String,
    pub description: Option<String>,
    pub default_version: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Users, groups and roles it is attached to.
    pub attachment_count: u32,
    pub aws_managed: bool,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created_at: OffsetDateTime,
}

/// The date the built-in AWS managed policies show (2015-02-06, when IAM introduced them).
const AWS_MANAGED_DATE: i64 = 1_423_180_800;

const ROLE_COLUMNS: &str =
    "name, id, path, created_at, assume_role_policy, description, max_session_duration";

impl Store {
    /// Creates a role with its tags. `EntityAlreadyExists` if the name is taken (in any case).
    pub fn create_iam_role(&self, role: &IamRole, tags: &[(String, String)]) -> IamResult<()> {
        let ctx = || format!("create IAM role '{}'", role.name);
        let conn = self.conn();
        let tx = conn.unchecked_transaction().ctx(ctx)?;
        let inserted = tx
            .execute(
                "INSERT INTO iam_roles (name, id, path, created_at, assume_role_policy,
                     description, max_session_duration)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                params![
                    role.name,
                    role.id,
                    role.path,
                    to_nanos(role.created_at),
                    role.assume_role_policy,
                    role.description,
                    role.max_session_duration
                ],
            )
            .ctx(ctx)?;
        if inserted == 0 {
            return Ok(Err(IamError::new(
                IamErrorKind::EntityAlreadyExists,
                format!("Role with name {} already exists.", role.name),
            )));
        }
        for (key, value) in tags {
            tx.execute(
                "INSERT INTO iam_tags (entity_kind, entity_name, key, value)
                 VALUES ('role', ?1, ?2, ?3)
                 ON CONFLICT DO UPDATE SET value = excluded.value",
                params![role.name, key, value],
            )
            .ctx(ctx)?;
        }
        tx.commit().ctx(ctx)?;
        Ok(Ok(()))
    }

    /// The role named `name` (in any case).
    pub fn iam_role(&self, name: &str) -> Result<Option<IamRole>, StoreError> {
        let conn = self.conn();
        let raw = conn
            .prepare_cached(&format!(
                "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE name = ?1"
            ))
            .and_then(|mut s| s.query_row([name], raw_role).optional())
            .ctx(|| format!("read IAM role '{name}'"))?;
        raw.map(role).transpose()
    }

    /// The roles whose path starts with `path_prefix`, by name.
    pub fn iam_roles(&self, path_prefix: &str) -> Result<Vec<IamRole>, StoreError> {
        let ctx = || "list IAM roles".to_string();
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ROLE_COLUMNS} FROM iam_roles
                 WHERE substr(path, 1, length(?1)) = ?1 ORDER BY name COLLATE NOCASE"
            ))
            .ctx(ctx)?;
        let rows = stmt.query_map([path_prefix], raw_role).ctx(ctx)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(role(row.ctx(ctx)?)?);
        }
        Ok(out)
    }

    /// Changes a role's description and/or maximum session duration (`None`: unchanged).
    pub fn update_iam_role(
        &self,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<i64>,
    ) -> IamResult<()> {
        let ctx = || format!("update IAM role '{name}'");
        let conn = self.conn();
        let changed = conn
            .execute(
                "UPDATE iam_roles SET description = coalesce(?2, description),
                     max_session_duration = coalesce(?3, max_session_duration)
                 WHERE name = ?1",
                params![name, description, max_session_duration],
            )
            .ctx(ctx)?;
        Ok(found(changed, EntityKind::Role, name))
    }

    /// Replaces a role's trust policy.
    pub fn update_assume_role_policy(&self, name: &str, document: &str) -> IamResult<()> {
        let ctx = || format!("update the trust policy of IAM role '{name}'");
        let conn = self.conn();
        let changed = conn
            .execute(
                "UPDATE iam_roles SET assume_role_policy = ?2 WHERE name = ?1",
                params![name, document],
            )
            .ctx(ctx)?;
        Ok(found(changed, EntityKind::Role, name))
    }

    /// Deletes a role and its tags. `DeleteConflict` while managed policies are attached or
    /// inline policies remain.
    pub fn delete_iam_role(&self, name: &str) -> IamResult<()> {
        let ctx = || format!("delete IAM role '{name}'");
        let conn = self.conn();
        let tx = conn.unchecked_transaction().ctx(ctx)?;
        let count = |sql: &str| -> Result<i64, StoreError> {
            tx.query_row(sql, [name], |r| r.get(0)).ctx(ctx)
        };
        if count("SELECT count(*) FROM iam_roles WHERE name = ?1")? == 0 {
            return Ok(Err(rules::no_such_entity(EntityKind::Role, name)));
        }
        if count(
            "SELECT count(*) FROM iam_attachments WHERE entity_kind = 'role' AND entity_name = ?1",
        )? > 0
        {
            return Ok(Err(rules::must_detach_first()));
        }
        if count(
            "SELECT count(*) FROM iam_inline_policies
             WHERE entity_kind = 'role' AND entity_name = ?1",
        )? > 0
        {
            return Ok(Err(rules::must_delete_inline_first()));
        }
        tx.execute(
            "DELETE FROM iam_tags WHERE entity_kind = 'role' AND entity_name = ?1",
            [name],
        )
        .ctx(ctx)?;
        tx.execute("DELETE FROM iam_roles WHERE name = ?1", [name])
            .ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(Ok(()))
    }

    /// Creates a customer managed policy with `document` as its default version `v1`.
    /// `EntityAlreadyExists` if a policy of that name exists.
    pub fn create_managed_policy(&self, policy: &ManagedPolicy, document: &str) -> IamResult<()> {
        let ctx = || format!("create IAM policy '{}'", policy.name);
        let conn = self.conn();
        let tx = conn.unchecked_transaction().ctx(ctx)?;
        let created = to_nanos(policy.created_at);
        let inserted = tx
            .execute(
                "INSERT INTO iam_policies (arn, name, id, path, description, default_version,
                     next_version, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'v1', 2, ?6, ?6) ON CONFLICT DO NOTHING",
                params![
                    policy.arn,
                    policy.name,
                    policy.id,
                    policy.path,
                    policy.description,
                    created
                ],
            )
            .ctx(ctx)?;
        if inserted == 0 {
            return Ok(Err(IamError::new(
                IamErrorKind::EntityAlreadyExists,
                format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    policy.name
                ),
            )));
        }
        tx.execute(
            "INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at)
             VALUES (?1, 'v1', ?2, ?3)",
            params![policy.arn, document, created],
        )
        .ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(Ok(()))
    }

    /// The managed policy with this ARN: a customer managed one, or a built-in AWS one.
    pub fn managed_policy(&self, arn: &str) -> Result<Option<ManagedPolicy>, StoreError> {
        let conn = self.conn();
        managed_policy_in(&conn, arn)
    }

    /// The managed policies: customer managed (`local`) and/or AWS managed (`aws`), whose path
    /// starts with `path_prefix`, by name; `only_attached` keeps those attached to something.
    pub fn managed_policies(
        &self,
        local: bool,
        aws: bool,
        path_prefix: &str,
        only_attached: bool,
    ) -> Result<Vec<ManagedPolicy>, StoreError> {
        let ctx = || "list IAM policies".to_string();
        let conn = self.conn();
        let mut out = Vec::new();
        if aws {
            for p in AWS_MANAGED {
                out.push(aws_policy(p, attachment_count(&conn, &p.arn())?));
            }
        }
        if local {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {POLICY_COLUMNS} FROM iam_policies p"))
                .ctx(ctx)?;
            let rows = stmt.query_map([], raw_policy).ctx(ctx)?;
            for row in rows {
                out.push(policy(row.ctx(ctx)?)?);
            }
        }
        out.retain(|p| {
            p.path.starts_with(path_prefix) && (!only_attached || p.attachment_count > 0)
        });
        out.sort_by_key(|a| a.name.to_lowercase());
        Ok(out)
    }

    /// Deletes a customer managed policy and its one remaining version. `DeleteConflict`
    /// while it is attached or has other versions.
    pub fn delete_managed_policy(&self, arn: &str) -> IamResult<()> {
        let ctx = || format!("delete IAM policy '{arn}'");
        if aws_managed(arn).is_some() {
            return Ok(Err(rules::aws_managed_unmodifiable(arn)));
        }
        let conn = self.conn();
        let tx = conn.unchecked_transaction().ctx(ctx)?;
        let Some(p) = managed_policy_in(&tx, arn)? else {
            return Ok(Err(rules::no_such_policy(arn)));
        };
        if p.attachment_count > 0 {
            return Ok(Err(rules::policy_attached()));
        }
        let versions: i64 = tx
            .query_row(
                "SELECT count(*) FROM iam_policy_versions WHERE policy_arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .ctx(ctx)?;
        if versions > 1 {
            return Ok(Err(rules::policy_has_versions()));
        }
        tx.execute(
            "DELETE FROM iam_policy_versions WHERE policy_arn = ?1",
            [arn],
        )
        .ctx(ctx)?;
        tx.execute("DELETE FROM iam_policies WHERE arn = ?1", [arn])
            .ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(Ok(()))
    }

    /// Adds a version (`v<n>`, numbers never reused), the default one if `set_default`.
    /// `LimitExceeded` when the policy already has five.
    pub fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_default: bool,
    ) -> IamResult<PolicyVersion> {
        let ctx = || format!("create a version of IAM policy '{arn}'");
        if aws_managed(arn).is_some() {
            return Ok(Err(rules::aws_managed_unmodifiable(arn)));
        }
        let conn = self.conn();
        let tx = conn.unchecked_transaction().ctx(ctx)?;
        let next: Option<i64> = tx
            .query_row(
                "SELECT next_version FROM iam_policies WHERE arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .optional()
            .ctx(ctx)?;
        let Some(next) = next else {
            return Ok(Err(rules::no_such_policy(arn)));
        };
        let versions: i64 = tx
            .query_row(
                "SELECT count(*) FROM iam_policy_versions WHERE policy_arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .ctx(ctx)?;
        if versions >= rules::MAX_POLICY_VERSIONS as i64 {
            return Ok(Err(rules::too_many_versions()));
        }
        let version_id = format!("v{next}");
        let created = now();
        tx.execute(
            "INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![arn, version_id, document, to_nanos(created)],
        )
        .ctx(ctx)?;
        tx.execute(
            "UPDATE iam_policies SET next_version = next_version + 1, updated_at = ?2,
                 default_version = CASE WHEN ?3 THEN ?4 ELSE default_version END
             WHERE arn = ?1",
            params![arn, to_nanos(created), set_default, version_id],
        )
        .ctx(ctx)?;
        tx.commit().ctx(ctx)?;
        Ok(Ok(PolicyVersion {
            version_id,
            document: document.to_string(),
            is_default: set_default,
            created_at: created,
        }))
    }

    /// The versions of a managed policy, newest first. `NoSuchEntity` for an unknown policy.
    pub fn policy_versions(&self, arn: &str) -> IamResult<Vec<PolicyVersion>> {
        let ctx = || format!("list the versions of IAM policy '{arn}'");
        if let Some(p) = aws_managed(arn) {
            return Ok(Ok(vec![PolicyVersion {
                version_id: "v1".into(),
                document: p.document.into(),
                is_default: true,
                created_at: aws_date(),
            }]));
        }
        let conn = self.conn();
        let default: Option<String> = conn
            .query_row(
                "SELECT default_version FROM iam_policies WHERE arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .optional()
            .ctx(ctx)?;
        let Some(default) = default else {
            return Ok(Err(rules::no_such_policy(arn)));
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT version_id, document, created_at FROM iam_policy_versions
                 WHERE policy_arn = ?1
                 ORDER BY CAST(substr(version_id, 2) AS INTEGER) DESC",
            )
            .ctx(ctx)?;
        let rows = stmt
            .query_map([arn], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .ctx(ctx)?;
        let mut out = Vec::new();
        for row in rows {
            let (version_id, document, created) = row.ctx(ctx)?;
            out.push(PolicyVersion {
                is_default: version_id == default,
                created_at: from_nanos(created, || {
                    format!("IAM policy version '{arn}' {version_id}")
                })?,
                version_id,
                document,
            });
        }
        Ok(Ok(out))
    }

    /// One version of a managed policy.
    pub fn policy_version(&self, arn: &str, version_id: &str) -> IamResult<PolicyVersion> {
        Ok(self.policy_versions(arn)?.and_then(|versions| {
            versions
                .into_iter()
                .find(|v| v.version_id == version_id)
                .ok_or_else(|| rules::no_such_version(arn, version_id))
        }))
    }

    /// Deletes a version that is not the default.
    pub fn delete_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()> {
        let ctx = || format!("delete version {version_id} of IAM policy '{arn}'");
        if aws_managed(arn).is_some() {
            return Ok(Err(rules::aws_managed_unmodifiable(arn)));
        }
        let version = match self.policy_version(arn, version_id)? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        if version.is_default {
            return Ok(Err(rules::default_version_undeletable()));
        }
        let conn = self.conn();
        conn.execute(
            "DELETE FROM iam_policy_versions WHERE policy_arn = ?1 AND version_id = ?2",
            params![arn, version_id],
        )
        .ctx(ctx)?;
        Ok(Ok(()))
    }

    /// Makes `version_id` the version in effect.
    pub fn set_default_policy_version(&self, arn: &str, version_id: &str) -> IamResult<()> {
        let ctx = || format!("set version {version_id} of IAM policy '{arn}' as the default");
        if aws_managed(arn).is_some() {
            return Ok(Err(rules::aws_managed_unmodifiable(arn)));
        }
        if let Err(e) = self.policy_version(arn, version_id)? {
            return Ok(Err(e));
        }
        let conn = self.conn();
        conn.execute(
            "UPDATE iam_policies SET default_version = ?2, updated_at = ?3 WHERE arn = ?1",
            params![arn, version_id, to_nanos(now())],
        )
        .ctx(ctx)?;
        Ok(Ok(()))
    }
}

/// `Ok(())` if a statement changed a row of entity `name`, else `NoSuchEntity`.
fn found(changed: usize, kind: EntityKind, name: &str) -> Result<(), IamError> {
    if changed == 0 {
        Err(rules::no_such_entity(kind, name))
    } else {
        Ok(())
    }
}

type RawRole = (String, String, String, i64, String, Option<String>, i64);

fn raw_role(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRole> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn role(
    (name, id, path, created, assume_role_policy, description, max_session_duration): RawRole,
) -> Result<IamRole, StoreError> {
    Ok(IamRole {
        created_at: from_nanos(created, || format!("IAM role '{name}'"))?,
        name,
        id,
        path,
        assume_role_policy,
        description,
        max_session_duration,
    })
}

const POLICY_COLUMNS: &str = "p.arn, p.name, p.id, p.path, p.description, p.default_version,
     p.created_at, p.updated_at,
     (SELECT count(*) FROM iam_attachments a WHERE a.policy_arn = p.arn)";

type RawPolicy = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    u32,
);

fn raw_policy(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawPolicy> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn policy(
    (arn, name, id, path, description, default_version, created, updated, count): RawPolicy,
) -> Result<ManagedPolicy, StoreError> {
    Ok(ManagedPolicy {
        created_at: from_nanos(created, || format!("IAM policy '{arn}'"))?,
        updated_at: from_nanos(updated, || format!("IAM policy '{arn}'"))?,
        arn,
        name,
        id,
        path,
        description,
        default_version,
        attachment_count: count,
        aws_managed: false,
    })
}

fn aws_date() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(AWS_MANAGED_DATE).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn aws_policy(p: &rules::AwsManagedPolicy, attachment_count: u32) -> ManagedPolicy {
    ManagedPolicy {
        arn: p.arn(),
        name: p.name.into(),
        id: p.id.into(),
        path: "/".into(),
        description: Some(p.description.into()),
        default_version: "v1".into(),
        created_at: aws_date(),
        updated_at: aws_date(),
        attachment_count,
        aws_managed: true,
    }
}

fn attachment_count(conn: &rusqlite::Connection, arn: &str) -> Result<u32, StoreError> {
    conn.query_row(
        "SELECT count(*) FROM iam_attachments WHERE policy_arn = ?1",
        [arn],
        |r| r.get(0),
    )
    .ctx(|| format!("count the attachments of IAM policy '{arn}'"))
}

fn managed_policy_in(
    conn: &rusqlite::Connection,
    arn: &str,
) -> Result<Option<ManagedPolicy>, StoreError> {
    if let Some(p) = aws_managed(arn) {
        return Ok(Some(aws_policy(p, attachment_count(conn, arn)?)));
    }
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.arn = ?1"
        ))
        .and_then(|mut s| s.query_row([arn], raw_policy).optional())
        .ctx(|| format!("read IAM policy '{arn}'"))?;
    raw.map(policy).transpose()
}

/// The document of a managed policy's default version (built-in ones from code).
fn default_document(conn: &rusqlite::Connection, arn: &str) -> Result<Option<String>, StoreError> {
    if let Some(p) = aws_managed(arn) {
        return Ok(Some(p.document.to_string()));
    }
    conn.query_row(
        "SELECT v.document FROM iam_policies p JOIN iam_policy_versions v
             ON v.policy_arn = p.arn AND v.version_id = p.default_version
         WHERE p.arn = ?1",
        [arn],
        |r| r.get(0),
    )
    .optional()
    .ctx(|| format!("read the default version of IAM policy '{arn}'"))
}

#[cfg(test)]
mod tests;
