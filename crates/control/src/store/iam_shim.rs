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
}
