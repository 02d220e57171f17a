//! TEMPORARY (lead's development shim, replaced at merge by iam_identities / iam_policies).

use rusqlite::OptionalExtension;

use super::{Context, Store, StoreError};
use crate::iam::EntityKind;

#[derive(Debug, Clone)]
pub struct IamUser {
    pub name: String,
    pub id: String,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct IamRole {
    pub name: String,
    pub id: String,
    pub path: String,
    pub assume_role_policy: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySourceType {
    User,
    Group,
    Role,
    UserManaged,
    AwsManaged,
}

#[derive(Debug, Clone)]
pub struct AppliedPolicy {
    pub source_type: PolicySourceType,
    pub id: String,
    pub holder: String,
    pub document: String,
}

impl Store {
    pub fn iam_user(&self, name: &str) -> Result<Option<IamUser>, StoreError> {
        let conn = self.conn();
        conn.query_row(
            "SELECT name, id, path FROM iam_users WHERE name = ?1",
            [name],
            |r| {
                Ok(IamUser {
                    name: r.get(0)?,
                    id: r.get(1)?,
                    path: r.get(2)?,
                })
            },
        )
        .optional()
        .ctx(|| format!("read IAM user {name}"))
    }

    pub fn iam_role(&self, name: &str) -> Result<Option<IamRole>, StoreError> {
        let conn = self.conn();
        conn.query_row(
            "SELECT name, id, path, assume_role_policy FROM iam_roles WHERE name = ?1",
            [name],
            |r| {
                Ok(IamRole {
                    name: r.get(0)?,
                    id: r.get(1)?,
                    path: r.get(2)?,
                    assume_role_policy: r.get(3)?,
                })
            },
        )
        .optional()
        .ctx(|| format!("read IAM role {name}"))
    }

    pub fn iam_tags(
        &self,
        kind: EntityKind,
        name: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, value FROM iam_tags WHERE entity_kind = ?1 AND entity_name = ?2",
            )
            .ctx(|| "tags".into())?;
        let rows = stmt
            .query_map([kind.as_str(), name], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx(|| "tags".into())?;
        rows.collect::<Result<Vec<_>, _>>().ctx(|| "tags".into())
    }

    pub fn policies_of_user(&self, user: &str) -> Result<Vec<AppliedPolicy>, StoreError> {
        let mut out = self.policies_of(EntityKind::User, user)?;
        let groups: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached("SELECT group_name FROM iam_group_members WHERE user_name = ?1")
                .ctx(|| "groups".into())?;
            let rows = stmt
                .query_map([user], |r| r.get(0))
                .ctx(|| "groups".into())?;
            rows.collect::<Result<Vec<_>, _>>()
                .ctx(|| "groups".into())?
        };
        for g in groups {
            out.extend(self.policies_of(EntityKind::Group, &g)?);
        }
        Ok(out)
    }

    pub fn policies_of_role(&self, role: &str) -> Result<Vec<AppliedPolicy>, StoreError> {
        self.policies_of(EntityKind::Role, role)
    }

    fn policies_of(&self, kind: EntityKind, name: &str) -> Result<Vec<AppliedPolicy>, StoreError> {
        let conn = self.conn();
        let inline_type = match kind {
            EntityKind::User => PolicySourceType::User,
            EntityKind::Group => PolicySourceType::Group,
            EntityKind::Role => PolicySourceType::Role,
        };
        let mut out = Vec::new();
        let mut stmt = conn
            .prepare_cached(
                "SELECT policy_name, document FROM iam_inline_policies
                 WHERE entity_kind = ?1 AND entity_name = ?2",
            )
            .ctx(|| "inline".into())?;
        let rows = stmt
            .query_map([kind.as_str(), name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .ctx(|| "inline".into())?;
        for row in rows {
            let (id, document) = row.ctx(|| "inline".into())?;
            out.push(AppliedPolicy {
                source_type: inline_type,
                id,
                holder: name.to_string(),
                document,
            });
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT a.policy_arn, v.document FROM iam_attachments a
                 JOIN iam_policies p ON p.arn = a.policy_arn
                 JOIN iam_policy_versions v ON v.policy_arn = p.arn AND v.version_id = p.default_version
                 WHERE a.entity_kind = ?1 AND a.entity_name = ?2",
            )
            .ctx(|| "attached".into())?;
        let rows = stmt
            .query_map([kind.as_str(), name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .ctx(|| "attached".into())?;
        for row in rows {
            let (id, document) = row.ctx(|| "attached".into())?;
            out.push(AppliedPolicy {
                source_type: PolicySourceType::UserManaged,
                id,
                holder: name.to_string(),
                document,
            });
        }
        Ok(out)
    }
}
