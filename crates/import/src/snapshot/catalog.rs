//! What the snapshot copies: databases and their tables and views, read while the source is
//! locked (so the list is the snapshot's).

use ferry_replication::source::SourceEndpoint;
use mysql_async::prelude::Queryable as _;
use mysql_async::Conn;

use super::{query_error, SnapshotError, SYSTEM_DATABASES};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    Base,
    View,
    /// A MariaDB sequence (not copied: said on stderr).
    Sequence,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub kind: TableKind,
    /// Its engine, for the warning about non-transactional tables.
    pub engine: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Database {
    pub name: String,
    /// In name order, as mysqldump writes them.
    pub tables: Vec<Table>,
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub databases: Vec<Database>,
}

/// The databases named (each must exist), or every one but the system databases.
pub(crate) async fn read(
    conn: &mut Conn,
    source: &SourceEndpoint,
    wanted: &[String],
) -> Result<Catalog, SnapshotError> {
    let sql = "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME";
    let all: Vec<String> = conn.query(sql).await.map_err(query_error(source, sql))?;
    let names: Vec<String> = if wanted.is_empty() {
        all.into_iter()
            .filter(|d| !SYSTEM_DATABASES.contains(&d.to_ascii_lowercase().as_str()))
            .collect()
    } else {
        for w in wanted {
            if !all.contains(w) {
                return Err(SnapshotError::NoDatabase {
                    endpoint: source.to_string(),
                    database: w.clone(),
                });
            }
        }
        wanted.to_vec()
    };
    let mut databases = Vec::with_capacity(names.len());
    for name in names {
        let sql = "SELECT TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES \
                   WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME";
        let rows: Vec<(String, String, Option<String>)> = conn
            .exec(sql, (name.as_str(),))
            .await
            .map_err(query_error(source, format!("list the tables of `{name}`")))?;
        let tables = rows
            .into_iter()
            .map(|(table, ty, engine)| Table {
                name: table,
                kind: match ty.as_str() {
                    "VIEW" => TableKind::View,
                    "SEQUENCE" => TableKind::Sequence,
                    // BASE TABLE, SYSTEM VERSIONED
                    _ => TableKind::Base,
                },
                engine,
            })
            .collect();
        databases.push(Database { name, tables });
    }
    Ok(Catalog { databases })
}
