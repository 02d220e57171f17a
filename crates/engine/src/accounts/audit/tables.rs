//! Rules 2 and 3 of the guardian (see the parent module): privileges read from, and repaired
//! in, the privilege tables themselves. Each function returns whether it wrote a table (the
//! caller then runs `FLUSH PRIVILEGES` once).

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;

use super::{
    master_user_access, privilege_names, Account, Finding, GrantLevel, Session, PRIVILEGE_DB,
    SYSTEM_USER,
};
use crate::accounts::admin::{ADMIN_HOST, ADMIN_USER};
use crate::error::EngineError;

/// `mysql.db`'s privilege columns other than `Select_priv`, with the names `SHOW GRANTS` uses.
const DB_WRITE_COLUMNS: &[(&str, &str)] = &[
    ("Insert_priv", "INSERT"),
    ("Update_priv", "UPDATE"),
    ("Delete_priv", "DELETE"),
    ("Create_priv", "CREATE"),
    ("Drop_priv", "DROP"),
    ("Grant_priv", "GRANT OPTION"),
    ("References_priv", "REFERENCES"),
    ("Index_priv", "INDEX"),
    ("Alter_priv", "ALTER"),
    ("Create_tmp_table_priv", "CREATE TEMPORARY TABLES"),
    ("Lock_tables_priv", "LOCK TABLES"),
    ("Create_view_priv", "CREATE VIEW"),
    ("Show_view_priv", "SHOW VIEW"),
    ("Create_routine_priv", "CREATE ROUTINE"),
    ("Alter_routine_priv", "ALTER ROUTINE"),
    ("Execute_priv", "EXECUTE"),
    ("Event_priv", "EVENT"),
    ("Trigger_priv", "TRIGGER"),
    ("Delete_history_priv", "DELETE HISTORY"),
];

/// Accounts other than ferry's allowed to proxy as it: none.
pub(super) async fn proxies(
    session: &mut Session<'_>,
    findings: &mut Vec<Finding>,
) -> Result<bool, EngineError> {
    let on_error = session.error("read the proxy grants");
    let rows: Vec<(String, String)> = session
        .conn
        .exec(
            "SELECT User, Host FROM mysql.proxies_priv WHERE Proxied_user = ?",
            (ADMIN_USER,),
        )
        .await
        .map_err(on_error)?;
    for (user, host) in &rows {
        let on_error = session.error("remove a proxy grant to ferry's account");
        session
            .conn
            .exec_drop(
                "DELETE FROM mysql.proxies_priv WHERE User = ? AND Host = ? AND Proxied_user = ?",
                (user, host, ADMIN_USER),
            )
            .await
            .map_err(on_error)?;
        findings.push(Finding::AdminProxyRemoved {
            account: Account::new(user.clone(), host.clone()),
        });
    }
    Ok(!rows.is_empty())
}

/// Global privileges beyond the master user's are cut from every account and role but
/// ferry's; `mariadb.sys@localhost` is locked again if it was unlocked.
pub(super) async fn global(
    session: &mut Session<'_>,
    findings: &mut Vec<Finding>,
) -> Result<bool, EngineError> {
    let on_error = session.error("read the global privileges");
    let rows: Vec<(String, String, Option<u64>, Option<String>)> = session
        .conn
        .exec(
            "SELECT User, Host, CAST(JSON_VALUE(Priv, '$.access') AS UNSIGNED), \
               JSON_EXTRACT(Priv, '$.account_locked') \
             FROM mysql.global_priv WHERE NOT (User = ? AND Host = ?)",
            (ADMIN_USER, ADMIN_HOST),
        )
        .await
        .map_err(on_error)?;
    let allowed = master_user_access();
    let mut wrote = false;
    for (user, host, access, locked) in rows {
        let access = access.unwrap_or(0);
        let excess = access & !allowed;
        if excess != 0 {
            let on_error = session.error("revoke global privileges beyond the master user's");
            session
                .conn
                .exec_drop(
                    "UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.access', ?) \
                     WHERE User = ? AND Host = ?",
                    (access & allowed, &user, &host),
                )
                .await
                .map_err(on_error)?;
            wrote = true;
            findings.push(Finding::GlobalPrivilegesRevoked {
                account: Account::new(user.clone(), host.clone()),
                privileges: privilege_names(excess),
            });
        }
        if user == SYSTEM_USER && host == ADMIN_HOST && locked.as_deref() != Some("true") {
            let account = session.account(&user, &host);
            session
                .run(
                    format!("ALTER USER {account} ACCOUNT LOCK"),
                    "lock mariadb.sys again",
                )
                .await?;
            findings.push(Finding::SystemAccountLocked {
                account: Account::new(user, host),
            });
        }
    }
    Ok(wrote)
}

/// Writes to the `mysql` schema through database-, table-, column- and routine-level grants.
pub(super) async fn privilege_schema(
    session: &mut Session<'_>,
    findings: &mut Vec<Finding>,
) -> Result<bool, EngineError> {
    let mut wrote = databases(session, findings).await?;
    wrote |= objects(session, findings).await?;
    Ok(wrote)
}

/// A `mysql.db` row that covers `mysql`.
struct DbRow {
    db: String,
    writes: Vec<&'static str>,
}

async fn databases(
    session: &mut Session<'_>,
    findings: &mut Vec<Finding>,
) -> Result<bool, EngineError> {
    let columns: Vec<String> = DB_WRITE_COLUMNS
        .iter()
        .map(|(column, _)| format!("{column} = 'Y'"))
        .collect();
    let on_error = session.error("read the database-level grants that cover mysql");
    let rows: Vec<mysql_async::Row> = session
        .conn
        .query(format!(
            "SELECT User, Host, Db, {} FROM mysql.db WHERE '{PRIVILEGE_DB}' LIKE Db",
            columns.join(", ")
        ))
        .await
        .map_err(on_error)?;
    let mut groups: BTreeMap<(String, String), Vec<DbRow>> = BTreeMap::new();
    for row in rows {
        let text = |i: usize| -> String {
            row.get::<Option<String>, _>(i)
                .flatten()
                .unwrap_or_default()
        };
        let (user, host, db) = (text(0), text(1), text(2));
        let writes = DB_WRITE_COLUMNS
            .iter()
            .enumerate()
            .filter(|(i, _)| row.get::<Option<i64>, _>(3 + i).flatten() == Some(1))
            .map(|(_, (_, name))| *name)
            .collect();
        groups
            .entry((user, host))
            .or_default()
            .push(DbRow { db, writes });
    }
    let none: Vec<String> = DB_WRITE_COLUMNS
        .iter()
        .map(|(column, _)| format!("{column} = 'N'"))
        .collect();
    let mut wrote = false;
    for ((user, host), rows) in groups {
        let exact = rows.iter().find(|r| r.db == PRIVILEGE_DB);
        let offending = match exact {
            // The exact row is the one MariaDB uses for `mysql`.
            Some(row) if row.writes.is_empty() => continue,
            Some(row) => {
                let on_error = session.error("cut a grant on mysql to SELECT");
                session
                    .conn
                    .exec_drop(
                        format!(
                            "UPDATE mysql.db SET {} WHERE User = ? AND Host = ? AND Db = ?",
                            none.join(", ")
                        ),
                        (&user, &host, PRIVILEGE_DB),
                    )
                    .await
                    .map_err(on_error)?;
                row
            }
            None => {
                let Some(row) = rows.iter().find(|r| !r.writes.is_empty()) else {
                    continue;
                };
                // An exact row shadows the wildcard for `mysql` only.
                let on_error = session.error("limit a wildcard grant to SELECT on mysql");
                session
                    .conn
                    .exec_drop(
                        "INSERT INTO mysql.db (Host, Db, User, Select_priv) VALUES (?, ?, ?, 'Y')",
                        (&host, PRIVILEGE_DB, &user),
                    )
                    .await
                    .map_err(on_error)?;
                row
            }
        };
        wrote = true;
        findings.push(Finding::PrivilegeSchemaWritesRevoked {
            account: Account::new(user.clone(), host.clone()),
            level: GrantLevel::Database,
            object: format!("`{}`", offending.db),
            privileges: offending.writes.iter().map(|p| (*p).to_owned()).collect(),
        });
    }
    Ok(wrote)
}

/// Table-, column- and routine-level grants on objects in `mysql`.
async fn objects(
    session: &mut Session<'_>,
    findings: &mut Vec<Finding>,
) -> Result<bool, EngineError> {
    let mut wrote = false;
    let on_error = session.error("read the table-level grants on mysql");
    let tables: Vec<(String, String, String, String, String, String)> = session
        .conn
        .query(format!(
            "SELECT User, Host, Db, Table_name, CAST(Table_priv AS CHAR), \
               CAST(Column_priv AS CHAR) \
             FROM mysql.tables_priv WHERE '{PRIVILEGE_DB}' LIKE Db"
        ))
        .await
        .map_err(on_error)?;
    for (user, host, db, table, table_priv, column_priv) in tables {
        // What mariadb-install-db gives the owner of the `mysql.user` view.
        let system = user == SYSTEM_USER && host == ADMIN_HOST && table == "global_priv";
        let allowed: &[&str] = if system {
            &["Select", "Delete"]
        } else {
            &["Select"]
        };
        let (keep_t, cut_t) = split_set(&table_priv, allowed);
        let (keep_c, cut_c) = split_set(&column_priv, &["Select"]);
        if cut_t.is_empty() && cut_c.is_empty() {
            continue;
        }
        let on_error = session.error("cut a table-level grant on mysql to SELECT");
        session
            .conn
            .exec_drop(
                "UPDATE mysql.tables_priv SET Table_priv = ?, Column_priv = ? \
                 WHERE User = ? AND Host = ? AND Db = ? AND Table_name = ?",
                (keep_t, keep_c, &user, &host, &db, &table),
            )
            .await
            .map_err(on_error)?;
        wrote = true;
        let mut privileges = cut_t;
        privileges.extend(
            cut_c
                .into_iter()
                .filter(|p| !privileges.contains(p))
                .collect::<Vec<_>>(),
        );
        findings.push(Finding::PrivilegeSchemaWritesRevoked {
            account: Account::new(user, host),
            level: GrantLevel::Table,
            object: format!("`{db}`.`{table}`"),
            privileges,
        });
    }

    let on_error = session.error("read the column-level grants on mysql");
    let columns: Vec<(String, String, String, String, String, String)> = session
        .conn
        .query(format!(
            "SELECT User, Host, Db, Table_name, Column_name, CAST(Column_priv AS CHAR) \
             FROM mysql.columns_priv WHERE '{PRIVILEGE_DB}' LIKE Db"
        ))
        .await
        .map_err(on_error)?;
    for (user, host, db, table, column, column_priv) in columns {
        let (keep, cut) = split_set(&column_priv, &["Select"]);
        if cut.is_empty() {
            continue;
        }
        let on_error = session.error("cut a column-level grant on mysql to SELECT");
        session
            .conn
            .exec_drop(
                "UPDATE mysql.columns_priv SET Column_priv = ? WHERE User = ? AND Host = ? \
                 AND Db = ? AND Table_name = ? AND Column_name = ?",
                (keep, &user, &host, &db, &table, &column),
            )
            .await
            .map_err(on_error)?;
        wrote = true;
        findings.push(Finding::PrivilegeSchemaWritesRevoked {
            account: Account::new(user, host),
            level: GrantLevel::Column,
            object: format!("`{db}`.`{table}`.`{column}`"),
            privileges: cut,
        });
    }

    let on_error = session.error("read the routine-level grants on mysql");
    let routines: Vec<(String, String, String, String, String, String)> = session
        .conn
        .query(format!(
            "SELECT User, Host, Db, Routine_name, CAST(Routine_type AS CHAR), \
               CAST(Proc_priv AS CHAR) \
             FROM mysql.procs_priv WHERE '{PRIVILEGE_DB}' LIKE Db"
        ))
        .await
        .map_err(on_error)?;
    for (user, host, db, name, kind, proc_priv) in routines {
        let (keep, cut) = split_set(&proc_priv, &["Execute"]);
        if cut.is_empty() {
            continue;
        }
        let on_error = session.error("cut a routine-level grant on mysql to EXECUTE");
        session
            .conn
            .exec_drop(
                "UPDATE mysql.procs_priv SET Proc_priv = ? WHERE User = ? AND Host = ? \
                 AND Db = ? AND Routine_name = ? AND Routine_type = ?",
                (keep, &user, &host, &db, &name, &kind),
            )
            .await
            .map_err(on_error)?;
        wrote = true;
        findings.push(Finding::PrivilegeSchemaWritesRevoked {
            account: Account::new(user, host),
            level: GrantLevel::Routine,
            object: format!("{kind} `{db}`.`{name}`"),
            privileges: cut,
        });
    }
    Ok(wrote)
}

/// Splits a `SET` value (`Select,Insert,Grant`) into what `allowed` keeps (as a `SET` value)
/// and the rest (upper-cased, as `SHOW GRANTS` names them).
fn split_set(value: &str, allowed: &[&str]) -> (String, Vec<String>) {
    let (keep, cut): (Vec<&str>, Vec<&str>) = value
        .split(',')
        .filter(|p| !p.is_empty())
        .partition(|p| allowed.iter().any(|a| a.eq_ignore_ascii_case(p)));
    (
        keep.join(","),
        cut.into_iter()
            .map(|p| p.to_ascii_uppercase().replace("GRANT", "GRANT OPTION"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_keep_only_what_is_allowed() {
        assert_eq!(
            split_set("Select,Insert,Grant", &["Select"]),
            (
                "Select".to_owned(),
                vec!["INSERT".to_owned(), "GRANT OPTION".to_owned()]
            )
        );
        assert_eq!(split_set("", &["Select"]), (String::new(), vec![]));
        assert_eq!(
            split_set("Execute,Alter Routine", &["Execute"]),
            ("Execute".to_owned(), vec!["ALTER ROUTINE".to_owned()])
        );
    }

    #[test]
    fn the_master_users_access_is_what_it_is_granted() {
        let names = privilege_names(master_user_access());
        assert_eq!(
            names,
            [
                "RELOAD",
                "PROCESS",
                "GRANT OPTION",
                "SHOW DATABASES",
                "REPLICATION SLAVE",
                "BINLOG MONITOR",
                "CREATE USER",
                "SLAVE MONITOR"
            ]
        );
    }
}
