//! Attachments of managed policies, inline policies, role tags, and the policies that apply
//! to a principal (what authorization and the simulator evaluate).

use rusqlite::{params, Connection, OptionalExtension};

use super::{default_document, IamResult};
use crate::iam::policies::{self as rules, aws_managed};
use crate::iam::EntityKind;
use crate::store::iam_identities::table;
use crate::store::{now, to_nanos, Context, Store, StoreError};

/// Where a policy that applies to a principal comes from: the simulator's
/// `SourcePolicyType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySourceType {
    /// An inline policy of the user.
    User,
    /// An inline policy of one of the user's groups (or of the group simulated).
    Group,
    /// An inline policy of the role.
    Role,
    /// A customer managed policy attached to the principal or one of its groups.
    UserManaged,
    /// An AWS managed policy attached to the principal or one of its groups.
    AwsManaged,
}

impl PolicySourceType {
    /// `user`, `group`, `role`, `user-managed`, `aws-managed`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySourceType::User => "user",
            PolicySourceType::Group => "group",
            PolicySourceType::Role => "role",
            PolicySourceType::UserManaged => "user-managed",
            PolicySourceType::AwsManaged => "aws-managed",
        }
    }

    fn inline(kind: EntityKind) -> Self {
        match kind {
            EntityKind::User => PolicySourceType::User,
            EntityKind::Group => PolicySourceType::Group,
            EntityKind::Role => PolicySourceType::Role,
        }
    }
}

/// A policy document that applies to a principal, and how it reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPolicy {
    pub source_type: PolicySourceType,
    /// The inline policy's name, or the managed policy's ARN.
    pub id: String,
    /// The user, group or role the policy is held by.
    pub holder: String,
    pub document: String,
}

/// A managed policy attached to an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
    pub path: String,
}

impl Store {
    /// Attaches a managed policy (idempotent, as in IAM). `NoSuchEntity` for a missing entity
    /// or policy, `LimitExceeded` past ten.
    pub fn attach_policy(&self, kind: EntityKind, entity: &str, arn: &str) -> IamResult<()> {
        let ctx = || format!("attach '{arn}' to {} '{entity}'", kind.as_str());
        let conn = self.conn();
        let Some(entity) = entity_name(&conn, kind, entity)? else {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        };
        if default_document(&conn, arn)?.is_none() {
            return Ok(Err(rules::not_attachable(arn)));
        }
        let attached = attached_arns(&conn, kind, &entity)?;
        if attached.iter().any(|a| a == arn) {
            return Ok(Ok(()));
        }
        if attached.len() >= rules::MAX_ATTACHED_POLICIES {
            return Ok(Err(rules::too_many_attached(kind)));
        }
        conn.execute(
            "INSERT INTO iam_attachments (entity_kind, entity_name, policy_arn, attached_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![kind.as_str(), entity, arn, to_nanos(now())],
        )
        .ctx(ctx)?;
        Ok(Ok(()))
    }

    /// Detaches a managed policy. `NoSuchEntity` if the entity is missing or the policy is not
    /// attached to it.
    pub fn detach_policy(&self, kind: EntityKind, entity: &str, arn: &str) -> IamResult<()> {
        let ctx = || format!("detach '{arn}' from {} '{entity}'", kind.as_str());
        let conn = self.conn();
        if entity_name(&conn, kind, entity)?.is_none() {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        }
        let removed = conn
            .execute(
                "DELETE FROM iam_attachments
                 WHERE entity_kind = ?1 AND entity_name = ?2 AND policy_arn = ?3",
                params![kind.as_str(), entity, arn],
            )
            .ctx(ctx)?;
        if removed == 0 {
            return Ok(Err(rules::no_such_policy(arn)));
        }
        Ok(Ok(()))
    }

    /// The managed policies attached to an entity, by name.
    pub fn attached_policies(
        &self,
        kind: EntityKind,
        entity: &str,
    ) -> IamResult<Vec<AttachedPolicy>> {
        let conn = self.conn();
        let Some(entity) = entity_name(&conn, kind, entity)? else {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        };
        let mut out = Vec::new();
        for arn in attached_arns(&conn, kind, &entity)? {
            let (name, path) = match aws_managed(&arn) {
                Some(p) => (p.name.to_string(), "/".to_string()),
                None => conn
                    .query_row(
                        "SELECT name, path FROM iam_policies WHERE arn = ?1",
                        [&arn],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .ctx(|| format!("read IAM policy '{arn}'"))?
                    .unwrap_or_default(),
            };
            out.push(AttachedPolicy { name, arn, path });
        }
        out.sort_by_key(|a| a.name.to_lowercase());
        Ok(Ok(out))
    }

    /// Creates or replaces an inline policy. `NoSuchEntity` for a missing entity,
    /// `LimitExceeded` when the entity's inline policies together would pass its quota.
    pub fn put_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
        document: &str,
    ) -> IamResult<()> {
        let ctx = || {
            format!(
                "store inline policy '{policy_name}' of {} '{entity}'",
                kind.as_str()
            )
        };
        let conn = self.conn();
        let Some(entity) = entity_name(&conn, kind, entity)? else {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        };
        let mut total = ferry_iam::document_size(document);
        for (name, doc) in inline_policies(&conn, kind, &entity)? {
            if !name.eq_ignore_ascii_case(policy_name) {
                total += ferry_iam::document_size(&doc);
            }
        }
        if total > rules::max_inline_size(kind) {
            return Ok(Err(rules::inline_too_large(kind, &entity)));
        }
        conn.execute(
            "INSERT INTO iam_inline_policies (entity_kind, entity_name, policy_name, document)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO UPDATE SET document = excluded.document",
            params![kind.as_str(), entity, policy_name, document],
        )
        .ctx(ctx)?;
        Ok(Ok(()))
    }

    /// An inline policy's name (as stored) and document.
    pub fn inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> IamResult<(String, String)> {
        let conn = self.conn();
        let Some(entity) = entity_name(&conn, kind, entity)? else {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        };
        Ok(inline_policies(&conn, kind, &entity)?
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(policy_name))
            .ok_or_else(|| rules::no_such_inline_policy(kind, policy_name)))
    }

    /// The names of an entity's inline policies, sorted.
    pub fn inline_policy_names(&self, kind: EntityKind, entity: &str) -> IamResult<Vec<String>> {
        let conn = self.conn();
        let Some(entity) = entity_name(&conn, kind, entity)? else {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        };
        Ok(Ok(inline_policies(&conn, kind, &entity)?
            .into_iter()
            .map(|(name, _)| name)
            .collect()))
    }

    pub fn delete_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> IamResult<()> {
        let ctx = || {
            format!(
                "delete inline policy '{policy_name}' of {} '{entity}'",
                kind.as_str()
            )
        };
        let conn = self.conn();
        if entity_name(&conn, kind, entity)?.is_none() {
            return Ok(Err(rules::no_such_entity(kind, entity)));
        }
        let removed = conn
            .execute(
                "DELETE FROM iam_inline_policies
                 WHERE entity_kind = ?1 AND entity_name = ?2 AND policy_name = ?3",
                params![kind.as_str(), entity, policy_name],
            )
            .ctx(ctx)?;
        if removed == 0 {
            return Ok(Err(rules::no_such_inline_policy(kind, policy_name)));
        }
        Ok(Ok(()))
    }

    /// Every policy that applies to user `user`: its inline policies, the default versions of
    /// the managed policies attached to it, then for each of its groups the group's inline
    /// and attached ones. Empty for an unknown user.
    pub fn policies_of_user(&self, user: &str) -> Result<Vec<AppliedPolicy>, StoreError> {
        let conn = self.conn();
        let Some(user) = entity_name(&conn, EntityKind::User, user)? else {
            return Ok(Vec::new());
        };
        let mut out = policies_of(&conn, EntityKind::User, &user)?;
        let groups: Vec<String> = {
            let ctx = || format!("list the groups of IAM user '{user}'");
            let mut stmt = conn
                .prepare_cached(
                    "SELECT group_name FROM iam_group_members WHERE user_name = ?1
                     ORDER BY group_name",
                )
                .ctx(ctx)?;
            let rows = stmt.query_map([&user], |r| r.get(0)).ctx(ctx)?;
            rows.collect::<Result<_, _>>().ctx(ctx)?
        };
        for group in groups {
            out.extend(policies_of(&conn, EntityKind::Group, &group)?);
        }
        Ok(out)
    }

    /// Every policy that applies to role `role`: its inline policies and the default versions
    /// of the managed policies attached to it. Empty for an unknown role.
    pub fn policies_of_role(&self, role: &str) -> Result<Vec<AppliedPolicy>, StoreError> {
        let conn = self.conn();
        match entity_name(&conn, EntityKind::Role, role)? {
            Some(role) => policies_of(&conn, EntityKind::Role, &role),
            None => Ok(Vec::new()),
        }
    }

    /// The policies held by group `group` itself (inline and attached). Empty for an unknown
    /// group.
    pub fn policies_of_group(&self, group: &str) -> Result<Vec<AppliedPolicy>, StoreError> {
        let conn = self.conn();
        match entity_name(&conn, EntityKind::Group, group)? {
            Some(group) => policies_of(&conn, EntityKind::Group, &group),
            None => Ok(Vec::new()),
        }
    }

    /// The stored name and the path of an entity, if it exists (names compare regardless of
    /// case).
    pub fn iam_entity_path(
        &self,
        kind: EntityKind,
        name: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let conn = self.conn();
        conn.prepare_cached(&format!(
            "SELECT name, path FROM {} WHERE name = ?1",
            table(kind)
        ))
        .and_then(|mut s| {
            s.query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .ctx(|| format!("read IAM {} '{name}'", kind.as_str()))
    }

    /// A user row for tests of this module (users are created by `iam_identities`).
    #[cfg(test)]
    pub(crate) fn insert_test_entity(&self, kind: EntityKind, name: &str) {
        let table = table(kind);
        assert_ne!(kind, EntityKind::Role, "create roles with create_iam_role");
        self.conn()
            .execute(
                &format!(
                    "INSERT INTO {table} (name, id, path, created_at) VALUES (?1, ?2, '/', 0)"
                ),
                params![name, format!("ID{name}")],
            )
            .expect("insert a test entity");
    }

    #[cfg(test)]
    pub(crate) fn insert_test_membership(&self, group: &str, user: &str) {
        self.conn()
            .execute(
                "INSERT INTO iam_group_members (group_name, user_name, added_at) VALUES (?1, ?2, 0)",
                params![group, user],
            )
            .expect("insert a test membership");
    }
}

/// The stored name of entity `name` (names compare regardless of case), if it exists.
fn entity_name(
    conn: &Connection,
    kind: EntityKind,
    name: &str,
) -> Result<Option<String>, StoreError> {
    conn.prepare_cached(&format!("SELECT name FROM {} WHERE name = ?1", table(kind)))
        .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
        .ctx(|| format!("read IAM {} '{name}'", kind.as_str()))
}

fn attached_arns(
    conn: &Connection,
    kind: EntityKind,
    entity: &str,
) -> Result<Vec<String>, StoreError> {
    let ctx = || format!("list the policies attached to {} '{entity}'", kind.as_str());
    let mut stmt = conn
        .prepare_cached(
            "SELECT policy_arn FROM iam_attachments WHERE entity_kind = ?1 AND entity_name = ?2
             ORDER BY attached_at, policy_arn",
        )
        .ctx(ctx)?;
    let rows = stmt
        .query_map(params![kind.as_str(), entity], |r| r.get(0))
        .ctx(ctx)?;
    rows.collect::<Result<_, _>>().ctx(ctx)
}

/// An entity's inline policies as (name, document), by name.
fn inline_policies(
    conn: &Connection,
    kind: EntityKind,
    entity: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let ctx = || format!("list the inline policies of {} '{entity}'", kind.as_str());
    let mut stmt = conn
        .prepare_cached(
            "SELECT policy_name, document FROM iam_inline_policies
             WHERE entity_kind = ?1 AND entity_name = ?2 ORDER BY policy_name COLLATE NOCASE",
        )
        .ctx(ctx)?;
    let rows = stmt
        .query_map(params![kind.as_str(), entity], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .ctx(ctx)?;
    rows.collect::<Result<_, _>>().ctx(ctx)
}

/// The policies an entity holds itself: inline, then attached (default versions).
fn policies_of(
    conn: &Connection,
    kind: EntityKind,
    entity: &str,
) -> Result<Vec<AppliedPolicy>, StoreError> {
    let mut out: Vec<AppliedPolicy> = inline_policies(conn, kind, entity)?
        .into_iter()
        .map(|(id, document)| AppliedPolicy {
            source_type: PolicySourceType::inline(kind),
            id,
            holder: entity.to_string(),
            document,
        })
        .collect();
    for arn in attached_arns(conn, kind, entity)? {
        if let Some(document) = default_document(conn, &arn)? {
            out.push(AppliedPolicy {
                source_type: if aws_managed(&arn).is_some() {
                    PolicySourceType::AwsManaged
                } else {
                    PolicySourceType::UserManaged
                },
                id: arn,
                holder: entity.to_string(),
                document,
            });
        }
    }
    Ok(out)
}
