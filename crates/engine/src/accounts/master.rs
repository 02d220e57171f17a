//! The master user: the account a cluster's owner logs in with, with the privileges an RDS
//! master user has, mapped to MariaDB 10.11's privilege names.
//!
//! Everything on user schemas, user management with grant option, the binary log and replica
//! status for monitoring (`SHOW MASTER STATUS`, `SHOW SLAVE STATUS`), but nothing that
//! administers the server itself: no `SUPER`, `SHUTDOWN`, `FILE`, replication or binlog
//! administration, `read_only`, connection limits, `SET USER`. ferry's own replication
//! procedures (a later issue) do the administering for it, as `SQL SECURITY DEFINER` routines
//! owned by the admin account.

use std::collections::BTreeSet;

use mysql_async::prelude::Queryable;

use super::{
    auth_clause, check_failed, check_password, check_user_name, server_code, Session,
    ER_NO_SUCH_TABLE,
};
use crate::error::EngineError;

/// The host part of the master user's account: any client.
pub const MASTER_USER_HOST: &str = "%";

/// The master user's global privileges (all `WITH GRANT OPTION`), as `SHOW GRANTS` names them.
pub const MASTER_USER_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "PROCESS",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "BINLOG MONITOR",
    "SLAVE MONITOR",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
    "DELETE HISTORY",
];

/// Privileges an RDS master user never has. [`set_master_user`] grants exactly
/// [`MASTER_USER_PRIVILEGES`], so these (and anything else) are revoked; the list is for
/// documentation and tests.
pub const FORBIDDEN_PRIVILEGES: &[&str] = &[
    "SUPER",
    "SHUTDOWN",
    "FILE",
    "REPLICATION SLAVE ADMIN",
    "REPLICATION MASTER ADMIN",
    "BINLOG ADMIN",
    "BINLOG REPLAY",
    "READ_ONLY ADMIN",
    "CONNECTION ADMIN",
    "FEDERATED ADMIN",
    "SET USER",
    "CREATE TABLESPACE",
];

/// The first MariaDB release with every privilege in [`MASTER_USER_PRIVILEGES`]
/// (`SLAVE MONITOR` arrived in 10.5.9).
const MIN_MARIADB: (u32, u32, u32) = (10, 5, 9);

/// What [`set_master_user`] found and changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MasterUserReport {
    /// The account did not exist and was created.
    pub created: bool,
    /// Global privileges the account had beyond the master set (e.g. `SUPER` from the
    /// source), now revoked. `ALL PRIVILEGES` when it had all of them.
    pub revoked_privileges: Vec<String>,
    /// Other grants it had, now revoked, without their `TO` part: database- or table-level
    /// grants (`GRANT SELECT ON `shop`.*`), roles (`GRANT `dba``), proxies
    /// (`GRANT PROXY ON ''@'%'`).
    pub revoked_grants: Vec<String>,
    /// Hosts of other accounts with the same user name (e.g. `localhost`), left alone. A client
    /// whose host matches one of them more specifically logs in as that account instead, with
    /// its own password and privileges.
    pub other_hosts: Vec<String>,
}

/// Makes `'<user>'@'%'` the master user: creates it with `password` when it is missing;
/// otherwise sets its password and unlocks it. Then makes its privileges exactly
/// [`MASTER_USER_PRIVILEGES`] `WITH GRANT OPTION` on `*.*`: every other privilege, role and
/// proxy grant it had is revoked (a restored source may have given this user `SUPER`), and
/// `SHOW GRANTS` is read back to check the result.
///
/// `conn` must have all privileges with grant option (the admin account). Needs MariaDB 10.5.9
/// or later with 10.4+ privilege tables; older privilege tables (a datadir not yet upgraded
/// with `mariadb-upgrade`) cannot hold the exact set, which the check reports. The statements
/// go to the binary log as the session's `sql_log_bin` says.
pub async fn set_master_user(
    conn: &mut mysql_async::Conn,
    user: &str,
    password: &str,
) -> Result<MasterUserReport, EngineError> {
    check_master_user_name(user)?;
    check_password("master user password", password)?;
    let mut session = Session::new(conn).await?;
    check_server_version(&mut session).await?;
    let account = session.account(user, MASTER_USER_HOST);
    let auth = auth_clause(password);
    let mut report = MasterUserReport::default();

    if account_exists(&mut session, user).await? {
        let before = session.grants(&account).await?;
        let (global, others) = split_grants(&before);
        let had: BTreeSet<&str> = global.map(|g| g.privileges).unwrap_or_default();
        report.revoked_privileges = had
            .iter()
            .filter(|p| !MASTER_USER_PRIVILEGES.contains(p))
            .map(|p| (*p).to_owned())
            .collect();
        report.revoked_grants = others
            .iter()
            .filter(|line| !line.starts_with("SET DEFAULT ROLE"))
            .map(|line| grant_without_grantee(line).to_owned())
            .collect();
        let had_default_role = others.iter().any(|l| l.starts_with("SET DEFAULT ROLE"));

        session
            .run(
                format!("ALTER USER {account} {auth} ACCOUNT UNLOCK"),
                "set the master user's password",
            )
            .await?;
        session
            .run(
                format!("REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}"),
                "revoke the master user's previous privileges",
            )
            .await?;
        revoke_roles(&mut session, user, &account, had_default_role).await?;
        revoke_proxies(&mut session, user, &account).await?;
    } else {
        session
            .run(
                format!("CREATE USER {account} {auth}"),
                "create the master user",
            )
            .await?;
        report.created = true;
    }

    session
        .run(
            format!(
                "GRANT {} ON *.* TO {account} WITH GRANT OPTION",
                MASTER_USER_PRIVILEGES.join(", ")
            ),
            "grant the master user's privileges",
        )
        .await?;
    verify_grants(&mut session, &account).await?;

    report.other_hosts = other_hosts(&mut session, user).await?;
    if !report.revoked_privileges.is_empty() || !report.revoked_grants.is_empty() {
        tracing::info!(
            revoked_privileges = ?report.revoked_privileges,
            revoked_grants = report.revoked_grants.len(),
            "the master user had grants beyond an RDS master user's; revoked them"
        );
    }
    if !report.other_hosts.is_empty() {
        tracing::warn!(
            hosts = ?report.other_hosts,
            "accounts with the master user's name exist for other hosts; clients from those \
             hosts log in as them, not as the master user"
        );
    }
    Ok(report)
}

/// Sets the password of `'<user>'@'%'` and unlocks it (what `ModifyDBCluster
/// MasterUserPassword` does). Privileges are left as they are; [`set_master_user`] resets
/// those too. Fails with [`EngineError::InvalidArgument`] when the account does not exist.
pub async fn set_password(
    conn: &mut mysql_async::Conn,
    user: &str,
    password: &str,
) -> Result<(), EngineError> {
    check_master_user_name(user)?;
    check_password("master user password", password)?;
    let mut session = Session::new(conn).await?;
    if !account_exists(&mut session, user).await? {
        return Err(EngineError::InvalidArgument {
            what: "master user",
            reason: format!("no account with that name and host '{MASTER_USER_HOST}' exists"),
        });
    }
    let account = session.account(user, MASTER_USER_HOST);
    session
        .run(
            format!(
                "ALTER USER {account} {} ACCOUNT UNLOCK",
                auth_clause(password)
            ),
            "set the master user's password",
        )
        .await
}

/// A master user name: a valid user name that is not one of the accounts the server or ferry
/// keeps for themselves.
fn check_master_user_name(user: &str) -> Result<(), EngineError> {
    check_user_name("master user name", user)?;
    let reserved = user.eq_ignore_ascii_case(super::ADMIN_USER)
        || ["mariadb.", "mysql."]
            .iter()
            .any(|prefix| user.to_ascii_lowercase().starts_with(prefix));
    if reserved {
        return Err(EngineError::InvalidArgument {
            what: "master user name",
            reason: "is reserved for ferry's admin account or the server's system accounts"
                .to_owned(),
        });
    }
    Ok(())
}

async fn check_server_version(session: &mut Session<'_>) -> Result<(), EngineError> {
    let on_error = session.error("read the server version");
    let version: Option<String> = session
        .conn
        .query_first("SELECT @@version")
        .await
        .map_err(on_error)?;
    let version = version.unwrap_or_default();
    match parse_mariadb_version(&version) {
        Some(numbers) if numbers >= MIN_MARIADB => Ok(()),
        _ => Err(EngineError::InvalidArgument {
            what: "server for the master user",
            reason: format!(
                "the master user's privileges are defined for MariaDB {}.{}.{} and later; the \
                 server reports version {version:?}",
                MIN_MARIADB.0, MIN_MARIADB.1, MIN_MARIADB.2
            ),
        }),
    }
}

/// `(major, minor, patch)` from `@@version` (`10.11.19-MariaDB-0+deb12u1-log`), `None` for
/// anything that is not MariaDB.
fn parse_mariadb_version(version: &str) -> Option<(u32, u32, u32)> {
    if !version.contains("MariaDB") {
        return None;
    }
    let numbers = version
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()?;
    let mut parts = numbers.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

async fn account_exists(session: &mut Session<'_>, user: &str) -> Result<bool, EngineError> {
    let on_error = session.error("look up the master user's account");
    let count: Option<i64> = session
        .conn
        .exec_first(
            "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?",
            (user, MASTER_USER_HOST),
        )
        .await
        .map_err(on_error)?;
    Ok(count.unwrap_or(0) > 0)
}

async fn other_hosts(session: &mut Session<'_>, user: &str) -> Result<Vec<String>, EngineError> {
    let on_error = session.error("list accounts with the master user's name");
    session
        .conn
        .exec(
            "SELECT Host FROM mysql.user WHERE User = ? AND Host <> ? ORDER BY Host",
            (user, MASTER_USER_HOST),
        )
        .await
        .map_err(on_error)
}

/// Revokes every role granted to the account (`mysql.roles_mapping`; absent in MySQL-format
/// privilege tables, which have no roles).
async fn revoke_roles(
    session: &mut Session<'_>,
    user: &str,
    account: &str,
    had_default_role: bool,
) -> Result<(), EngineError> {
    let listed: Result<Vec<String>, _> = session
        .conn
        .exec(
            "SELECT Role FROM mysql.roles_mapping WHERE User = ? AND Host = ?",
            (user, MASTER_USER_HOST),
        )
        .await;
    let roles = match listed {
        Ok(roles) => roles,
        Err(error) if server_code(&error) == Some(ER_NO_SUCH_TABLE) => Vec::new(),
        Err(source) => return Err(session.error("list the master user's roles")(source)),
    };
    if had_default_role || !roles.is_empty() {
        session
            .run(
                format!("SET DEFAULT ROLE NONE FOR {account}"),
                "clear the master user's default role",
            )
            .await?;
    }
    for role in roles {
        let statement = format!("REVOKE {} FROM {account}", session.literal(&role));
        session
            .run(statement, "revoke a role from the master user")
            .await?;
    }
    Ok(())
}

/// Revokes every `PROXY` grant the account has (it could log in as another account).
async fn revoke_proxies(
    session: &mut Session<'_>,
    user: &str,
    account: &str,
) -> Result<(), EngineError> {
    let listed: Result<Vec<(String, String)>, _> = session
        .conn
        .exec(
            "SELECT Proxied_user, Proxied_host FROM mysql.proxies_priv WHERE User = ? AND Host = ?",
            (user, MASTER_USER_HOST),
        )
        .await;
    let proxied = match listed {
        Ok(rows) => rows,
        Err(error) if server_code(&error) == Some(ER_NO_SUCH_TABLE) => Vec::new(),
        Err(source) => return Err(session.error("list the master user's proxy grants")(source)),
    };
    for (proxied_user, proxied_host) in proxied {
        let statement = format!(
            "REVOKE PROXY ON {} FROM {account}",
            session.account(&proxied_user, &proxied_host)
        );
        session
            .run(statement, "revoke a proxy grant from the master user")
            .await?;
    }
    Ok(())
}

/// Reads `SHOW GRANTS` back: one global line with exactly the master set and
/// `WITH GRANT OPTION`, nothing else.
async fn verify_grants(session: &mut Session<'_>, account: &str) -> Result<(), EngineError> {
    let lines = session.grants(account).await?;
    let (global, others) = split_grants(&lines);
    let mut problems = Vec::new();
    match global {
        None => problems.push("no global grant line".to_owned()),
        Some(global) => {
            let missing: Vec<&str> = MASTER_USER_PRIVILEGES
                .iter()
                .copied()
                .filter(|p| !global.privileges.contains(p))
                .collect();
            let extra: Vec<&str> = global
                .privileges
                .iter()
                .copied()
                .filter(|p| !MASTER_USER_PRIVILEGES.contains(p))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("missing {}", missing.join(", ")));
            }
            if !extra.is_empty() {
                problems.push(format!("unexpected {}", extra.join(", ")));
            }
            if !global.with_grant_option {
                problems.push("no WITH GRANT OPTION".to_owned());
            }
        }
    }
    for line in others {
        problems.push(format!("unexpected {}", grant_without_grantee(line)));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let legacy = !has_global_priv_table(session).await?;
    let hint = if legacy {
        "; mysql.global_priv is missing: the privilege tables predate MariaDB 10.4 and cannot \
         hold these privileges exactly. Run mariadb-upgrade on this datadir first"
    } else {
        ""
    };
    Err(EngineError::Sql {
        endpoint: session.endpoint.clone(),
        action: "verify the master user's privileges",
        source: check_failed(format!(
            "SHOW GRANTS for the master user after granting: {}{hint}",
            problems.join("; ")
        )),
    })
}

async fn has_global_priv_table(session: &mut Session<'_>) -> Result<bool, EngineError> {
    let on_error = session.error("look for mysql.global_priv");
    let count: Option<i64> = session
        .conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'global_priv'",
        )
        .await
        .map_err(on_error)?;
    Ok(count.unwrap_or(0) > 0)
}

/// The `GRANT … ON *.* TO …` line of `SHOW GRANTS`, parsed.
#[derive(Debug, PartialEq, Eq)]
struct GlobalGrant<'a> {
    privileges: BTreeSet<&'a str>,
    with_grant_option: bool,
}

/// Splits `SHOW GRANTS` output into the global line (parsed) and every other line.
fn split_grants(lines: &[String]) -> (Option<GlobalGrant<'_>>, Vec<&str>) {
    let mut global = None;
    let mut others = Vec::new();
    for line in lines {
        let parsed = line
            .strip_prefix("GRANT ")
            .and_then(|rest| rest.split_once(" ON *.* TO "));
        match (parsed, &global) {
            (Some((privileges, _)), None) => {
                let privileges = privileges
                    .split(", ")
                    .map(str::trim)
                    .filter(|p| !p.is_empty() && *p != "USAGE")
                    .collect();
                global = Some(GlobalGrant {
                    privileges,
                    with_grant_option: line.ends_with(" WITH GRANT OPTION"),
                });
            }
            _ => others.push(line.as_str()),
        }
    }
    (global, others)
}

/// A grant line up to its ` TO ` (the grantee, i.e. the user name, is left out of reports).
fn grant_without_grantee(line: &str) -> &str {
    line.split_once(" TO ").map_or(line, |(grant, _)| grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_refused() {
        check_master_user_name("admin").expect("ordinary name");
        for name in ["ferry_admin", "FERRY_ADMIN", "mariadb.sys", "mysql.session"] {
            let err = check_master_user_name(name).expect_err(name);
            assert!(err.to_string().contains("reserved"), "{err}");
        }
    }

    #[test]
    fn reads_mariadb_versions_only() {
        assert_eq!(
            parse_mariadb_version("10.11.19-MariaDB-0+deb12u1-log"),
            Some((10, 11, 19))
        );
        assert_eq!(parse_mariadb_version("11.4.2-MariaDB"), Some((11, 4, 2)));
        assert_eq!(parse_mariadb_version("8.0.36"), None);
        assert_eq!(parse_mariadb_version("MariaDB"), None);
        assert!(parse_mariadb_version("10.5.8-MariaDB").expect("parses") < MIN_MARIADB);
    }

    #[test]
    fn splits_show_grants_into_global_and_the_rest() {
        let lines = vec![
            "GRANT SELECT, SUPER, SLAVE MONITOR ON *.* TO `m`@`%` IDENTIFIED BY PASSWORD \
             '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29' WITH GRANT OPTION"
                .to_owned(),
            "GRANT SELECT ON `shop`.* TO `m`@`%`".to_owned(),
            "GRANT `dba` TO `m`@`%`".to_owned(),
            "GRANT PROXY ON ''@'%' TO 'm'@'%'".to_owned(),
        ];
        let (global, others) = split_grants(&lines);
        let global = global.expect("global line");
        assert_eq!(
            global.privileges,
            BTreeSet::from(["SELECT", "SUPER", "SLAVE MONITOR"])
        );
        assert!(global.with_grant_option);
        let stripped: Vec<&str> = others.iter().map(|l| grant_without_grantee(l)).collect();
        assert_eq!(
            stripped,
            [
                "GRANT SELECT ON `shop`.*",
                "GRANT `dba`",
                "GRANT PROXY ON ''@'%'"
            ]
        );

        let usage = vec!["GRANT USAGE ON *.* TO `m`@`%`".to_owned()];
        let (global, others) = split_grants(&usage);
        let global = global.expect("global line");
        assert!(global.privileges.is_empty());
        assert!(!global.with_grant_option);
        assert!(others.is_empty());
    }

    #[test]
    fn the_master_set_and_the_forbidden_set_do_not_overlap() {
        for p in FORBIDDEN_PRIVILEGES {
            assert!(!MASTER_USER_PRIVILEGES.contains(p), "{p}");
        }
    }
}
