//! The master user: the account a cluster's owner logs in with, with the privileges an RDS
//! master user has, mapped to MariaDB 10.11's privilege names.
//!
//! Everything on user schemas, user management with grant option, the binary log and replica
//! status for monitoring (`SHOW MASTER STATUS`, `SHOW SLAVE STATUS`), but nothing that
//! administers the server itself: no `SUPER`, `SHUTDOWN`, `FILE`, replication or binlog
//! administration, `read_only`, connection limits, `SET USER`. ferry's own replication
//! procedures (a later issue) do the administering for it, as `SQL SECURITY DEFINER` routines
//! owned by the admin account.
//!
//! # Why the data privileges are granted per database, not `ON *.*`
//!
//! The `mysql` schema *is* the privilege store: `mysql.global_priv` holds every account's
//! global privileges, `mysql.proc` every stored routine with its definer, `mysql.plugin` the
//! plugins loaded at startup. Write access to it is privilege escalation: `UPDATE
//! mysql.global_priv …; FLUSH PRIVILEGES` hands out `SUPER`, `FILE` or `SHUTDOWN`, and a row
//! inserted into `mysql.proc` runs as whichever definer it names. So the master user holds
//! only the server-wide privileges `ON *.*` ([`MASTER_USER_GLOBAL_PRIVILEGES`]), its data
//! privileges as ``ALL PRIVILEGES ON `%`.*`` (every database) and ``SELECT ON `mysql`.*``.
//! MariaDB resolves database-level privileges by the *most specific* matching row of the
//! account, so for `mysql` the exact-name row (read only) wins over the `%` pattern, and the
//! master user gets error 1142/1044 for any write there. For the same reason every other
//! database-level grant the account had is revoked: a row for `shop` would shadow `%` and
//! leave the master user with only that row's privileges on `shop`.
//!
//! # What this does not stop
//!
//! These privileges keep the master user from administering the server *directly*. They are
//! not a boundary against a master user who sets out to get more, because MariaDB cannot
//! express one:
//!
//! - `CREATE USER` lets it alter, rename or drop any account, ferry's own included (MariaDB has
//!   no `SYSTEM_USER` protection): `RENAME USER` of an account with more privileges to a host
//!   it can reach, then `ALTER USER … IDENTIFIED BY`, and it logs in with that account's
//!   privileges.
//! - Its grant option on `` `%`.* `` lets it grant ``ALL ON `%`.*`` to an account it creates,
//!   to a role it then takes, or to `PUBLIC`; for those grantees `%` is the most specific row
//!   for `mysql`, so they can write the privilege store. A wildcard grant is checked against
//!   the grantor's row for the pattern itself, and MariaDB has no partial revokes.
//! - With write access to `mysql`, a row inserted into `mysql.proc` with
//!   `definer='ferry_admin@localhost'` and `SECURITY DEFINER` runs as ferry when called,
//!   without any `FLUSH PRIVILEGES`.
//!
//! What ferry does instead is notice and undo, within about a second: the control plane runs
//! a guardian per instance over a session it holds as ferry's admin (a session keeps the
//! global privileges it logged in with, whatever then happens to its account), and
//! [`super::audit::enforce`] puts ferry's account back, cuts every other account to the master
//! user's privileges and to `SELECT` on `mysql`, drops routines that would run as ferry, and
//! kills the offenders' sessions. What an escalated account does inside that window stays done.

mod options;

use std::collections::BTreeSet;

use ferry_base::version::ServerVersion;
use mysql_async::prelude::Queryable;

use self::options::account_options;
use super::grants::GrantLine;
use super::{
    auth_clause, check_failed, check_password, check_user_name, server_code, Session,
    ER_NO_SUCH_TABLE,
};
use crate::error::EngineError;

/// The host part of the master user's account: any client.
pub const MASTER_USER_HOST: &str = "%";

/// The master user's privileges `ON *.*` (with grant option), as `SHOW GRANTS` names and
/// orders them on MariaDB 10.11: what is only grantable server-wide. `REPLICATION CLIENT` is an
/// alias of `BINLOG MONITOR` since 10.5.2 and is printed as such.
pub const MASTER_USER_GLOBAL_PRIVILEGES: &[&str] = &[
    "RELOAD",
    "PROCESS",
    "SHOW DATABASES",
    "REPLICATION SLAVE",
    "BINLOG MONITOR",
    "CREATE USER",
    "SLAVE MONITOR",
];

/// The database pattern for every database (`%`), quoted as `SHOW GRANTS` prints it.
pub const ALL_DATABASES: &str = "`%`.*";

/// The privilege store, quoted as `SHOW GRANTS` prints it. The master user may only read it.
pub const PRIVILEGE_SCHEMA: &str = "`mysql`.*";

/// One grant of the master user, written the way `SHOW GRANTS` prints it (and the way ferry
/// issues it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasterUserGrant {
    /// Privileges in `SHOW GRANTS` order, or `["ALL PRIVILEGES"]`.
    pub privileges: &'static [&'static str],
    /// The object: `*.*`, [`ALL_DATABASES`] or [`PRIVILEGE_SCHEMA`].
    pub on: &'static str,
    pub with_grant_option: bool,
}

impl MasterUserGrant {
    /// `GRANT <privileges> ON <object>`: a `SHOW GRANTS` line up to its ` TO `.
    pub fn clause(&self) -> String {
        format!("GRANT {} ON {}", self.privileges.join(", "), self.on)
    }

    /// The statement that grants it to `account` (`'user'@'host'`).
    fn statement(&self, account: &str) -> String {
        let option = if self.with_grant_option {
            " WITH GRANT OPTION"
        } else {
            ""
        };
        format!("{} TO {account}{option}", self.clause())
    }
}

/// Exactly what the master user holds after [`set_master_user`], one `SHOW GRANTS` line each:
///
/// ```text
/// GRANT RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, CREATE USER, SLAVE MONITOR ON *.* TO `admin`@`%` IDENTIFIED BY PASSWORD '*…' WITH GRANT OPTION
/// GRANT SELECT ON `mysql`.* TO `admin`@`%`
/// GRANT ALL PRIVILEGES ON `%`.* TO `admin`@`%` WITH GRANT OPTION
/// ```
pub const MASTER_USER_GRANTS: [MasterUserGrant; 3] = [
    MasterUserGrant {
        privileges: MASTER_USER_GLOBAL_PRIVILEGES,
        on: "*.*",
        with_grant_option: true,
    },
    MasterUserGrant {
        privileges: &["ALL PRIVILEGES"],
        on: ALL_DATABASES,
        with_grant_option: true,
    },
    MasterUserGrant {
        privileges: &["SELECT"],
        on: PRIVILEGE_SCHEMA,
        with_grant_option: false,
    },
];

/// Server-wide privileges an RDS master user never has. [`set_master_user`] grants exactly
/// [`MASTER_USER_GRANTS`], so these (and anything else) are revoked; the list is for
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

/// What [`set_master_user`] leaves set on the account besides its password: no TLS
/// requirement (ferry's instances have no TLS, so `REQUIRE SSL` would lock the user out), no
/// resource limits, the server's password lifetime, unlocked.
const ACCOUNT_OPTIONS: &str = "REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 \
     MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0 \
     PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK";

/// The first MariaDB release with every privilege in [`MASTER_USER_GLOBAL_PRIVILEGES`]
/// (`SLAVE MONITOR` arrived in 10.5.9).
const MIN_MARIADB: (u32, u32, u32) = (10, 5, 9);

/// What [`set_master_user`] found and changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MasterUserReport {
    /// The account did not exist and was created.
    pub created: bool,
    /// Global (`ON *.*`) privileges the account had beyond [`MASTER_USER_GLOBAL_PRIVILEGES`],
    /// now revoked (e.g. `SUPER` from the source, or `SELECT` from a master user set up when
    /// data privileges were still granted `ON *.*`). `ALL PRIVILEGES` when it had all of them.
    pub revoked_privileges: Vec<String>,
    /// Other grants it had beyond [`MASTER_USER_GRANTS`], now revoked, without their `TO`
    /// part: database-, table-, column- or routine-level grants (``GRANT SELECT ON `shop`.*``,
    /// ``GRANT INSERT ON `mysql`.`proc` ``), roles (``GRANT `dba` ``), proxies
    /// (``GRANT PROXY ON ``@`%` ``).
    pub revoked_grants: Vec<String>,
    /// Account options it had that could lock it out or limit it, now cleared, as `CREATE
    /// USER` words: `REQUIRE SSL`, `MAX_USER_CONNECTIONS 3`, `PASSWORD EXPIRE INTERVAL 90
    /// DAY`, `PASSWORD EXPIRE` (expired), `ACCOUNT LOCK`.
    pub cleared_account_options: Vec<String>,
    /// Hosts of other accounts with the same user name (e.g. `localhost`), left alone. A client
    /// whose host matches one of them more specifically logs in as that account instead, with
    /// its own password and privileges.
    pub other_hosts: Vec<String>,
}

/// Makes `'<user>'@'%'` the master user: creates it with `password` when it is missing;
/// otherwise sets its password, unlocks it and clears what a restored source may have set to
/// lock it out or limit it (`REQUIRE SSL` and other TLS requirements, resource limits,
/// a password lifetime). Then makes its privileges exactly [`MASTER_USER_GRANTS`]: every other
/// privilege, role and proxy grant it had is revoked (a restored source may have given this
/// user `ALL ON *.*` or `SUPER`), and `SHOW GRANTS` is read back to check the result.
///
/// `conn` must have all privileges with grant option (the admin account). Needs MariaDB 10.5.9
/// or later with 10.4+ privilege tables (`mysql.global_priv`); older privilege tables (a
/// datadir not yet upgraded with `mariadb-upgrade`) cannot hold the exact set, which is
/// reported before anything is changed. The statements go to the binary log as the session's
/// `sql_log_bin` says.
pub async fn set_master_user(
    conn: &mut mysql_async::Conn,
    user: &str,
    password: &str,
    procedures: &[&str],
) -> Result<MasterUserReport, EngineError> {
    for name in procedures {
        check_procedure_name(name)?;
    }
    check_master_user_name(user)?;
    check_password("master user password", password)?;
    let mut session = Session::new(conn).await?;
    check_server_version(&mut session).await?;
    check_privilege_tables(&mut session).await?;
    let account = session.account(user, MASTER_USER_HOST);
    let auth = auth_clause(password);
    let mut report = MasterUserReport::default();

    if account_exists(&mut session, user).await? {
        let before = session.grants(&account).await?;
        let lines: Vec<GrantLine<'_>> = before.iter().map(|l| GrantLine::parse(l)).collect();
        let global = lines.iter().find_map(GrantLine::global_privileges);
        report.revoked_privileges = global
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !MASTER_USER_GLOBAL_PRIVILEGES.contains(p))
            .map(str::to_owned)
            .collect();
        report.revoked_grants = lines
            .iter()
            .filter(|line| {
                line.global_privileges().is_none()
                    && !line.is_default_role()
                    && !is_master_user_grant(line, procedures)
            })
            .map(|line| line.grant.to_owned())
            .collect();
        let had_default_role = lines.iter().any(GrantLine::is_default_role);
        report.cleared_account_options = account_options(&mut session, user).await?;

        session
            .run(
                format!("ALTER USER {account} {auth} {ACCOUNT_OPTIONS}"),
                "set the master user's password and clear its account options",
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
                format!("CREATE USER {account} {auth} {ACCOUNT_OPTIONS}"),
                "create the master user",
            )
            .await?;
        report.created = true;
    }

    for grant in &MASTER_USER_GRANTS {
        session
            .run(
                grant.statement(&account),
                "grant the master user's privileges",
            )
            .await?;
    }
    for name in procedures {
        session
            .run(
                format!("{} TO {account}", procedure_clause(name)),
                "grant the master user EXECUTE on a ferry procedure",
            )
            .await?;
    }
    verify(&mut session, user, &account, procedures).await?;

    report.other_hosts = other_hosts(&mut session, user).await?;
    if !report.revoked_privileges.is_empty()
        || !report.revoked_grants.is_empty()
        || !report.cleared_account_options.is_empty()
    {
        tracing::info!(
            revoked_privileges = ?report.revoked_privileges,
            revoked_grants = report.revoked_grants.len(),
            cleared_account_options = ?report.cleared_account_options,
            "the master user had grants or account options beyond an RDS master user's; \
             removed them"
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
/// MasterUserPassword` does). Privileges and other account options are left as they are;
/// [`set_master_user`] resets those too. Fails with [`EngineError::InvalidArgument`] when the
/// account does not exist.
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
    if supports_master_user(&version) {
        return Ok(());
    }
    Err(EngineError::InvalidArgument {
        what: "server for the master user",
        reason: format!(
            "the master user's privileges are defined for MariaDB {}.{}.{} and later; the \
             server reports version {version:?}",
            MIN_MARIADB.0, MIN_MARIADB.1, MIN_MARIADB.2
        ),
    })
}

/// Refuses privilege tables from before MariaDB 10.4 (no `mysql.global_priv`): they store
/// privileges as `mysql.user` columns, which cannot hold the master set exactly (the
/// replication column implies `REPLICATION MASTER ADMIN`).
async fn check_privilege_tables(session: &mut Session<'_>) -> Result<(), EngineError> {
    let on_error = session.error("look for mysql.global_priv");
    let count: Option<i64> = session
        .conn
        .query_first(
            "SELECT COUNT(*) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'global_priv'",
        )
        .await
        .map_err(on_error)?;
    if count.unwrap_or(0) > 0 {
        return Ok(());
    }
    Err(EngineError::InvalidArgument {
        what: "server for the master user",
        reason: "mysql.global_priv is missing: the privilege tables predate MariaDB 10.4 and \
                 cannot hold the master user's privileges exactly. Run mariadb-upgrade on this \
                 datadir first"
            .to_owned(),
    })
}

/// Whether `@@version` (`10.11.19-MariaDB-0+deb12u1-log`) is MariaDB [`MIN_MARIADB`] or later.
fn supports_master_user(version: &str) -> bool {
    ServerVersion::parse(version).is_ok_and(|v| v.is_mariadb() && v.numbers() >= MIN_MARIADB)
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

/// Whether a non-global `SHOW GRANTS` line is one of [`MASTER_USER_GRANTS`], grant option
/// included.
fn is_master_user_grant(line: &GrantLine<'_>, procedures: &[&str]) -> bool {
    MASTER_USER_GRANTS.iter().any(|g| {
        g.on != "*.*" && line.grant == g.clause() && line.with_grant_option == g.with_grant_option
    }) || (!line.with_grant_option
        && procedures
            .iter()
            .any(|name| line.grant == procedure_clause(name)))
}

/// `GRANT EXECUTE ON PROCEDURE `mysql`.`name``, as `SHOW GRANTS` prints it.
fn procedure_clause(name: &str) -> String {
    format!("GRANT EXECUTE ON PROCEDURE `mysql`.`{name}`")
}

/// Procedure names ferry grants are its own identifiers; anything needing quoting is a bug.
fn check_procedure_name(name: &str) -> Result<(), EngineError> {
    if !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Ok(());
    }
    Err(EngineError::InvalidArgument {
        what: "procedure name",
        reason: format!("{name:?} is not a plain identifier"),
    })
}

/// Reads the account back: `SHOW GRANTS` has exactly the lines of [`MASTER_USER_GRANTS`]
/// (the global one compared as a set of privileges, each with its grant option), and no
/// account option that [`set_master_user`] clears is left.
async fn verify(
    session: &mut Session<'_>,
    user: &str,
    account: &str,
    procedures: &[&str],
) -> Result<(), EngineError> {
    let lines = session.grants(account).await?;
    let mut problems = grant_problems(&lines, procedures);
    let options = account_options(session, user).await?;
    if !options.is_empty() {
        problems.push(format!("account options still set: {}", options.join(", ")));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(EngineError::Sql {
        endpoint: session.endpoint.clone(),
        action: "verify the master user's privileges",
        source: check_failed(format!(
            "SHOW GRANTS for the master user after granting: {}",
            problems.join("; ")
        )),
    })
}

/// How `SHOW GRANTS` output differs from [`MASTER_USER_GRANTS`]; empty when it matches.
fn grant_problems(lines: &[String], procedures: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut global_seen = false;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for line in lines.iter().map(|l| GrantLine::parse(l)) {
        match line.global_privileges() {
            Some(privileges) if !global_seen => {
                global_seen = true;
                let missing: Vec<&str> = MASTER_USER_GLOBAL_PRIVILEGES
                    .iter()
                    .copied()
                    .filter(|p| !privileges.contains(p))
                    .collect();
                let extra: Vec<&str> = privileges
                    .iter()
                    .copied()
                    .filter(|p| !MASTER_USER_GLOBAL_PRIVILEGES.contains(p))
                    .collect();
                if !missing.is_empty() {
                    problems.push(format!("missing {} ON *.*", missing.join(", ")));
                }
                if !extra.is_empty() {
                    problems.push(format!("unexpected {} ON *.*", extra.join(", ")));
                }
                if !line.with_grant_option {
                    problems.push("no WITH GRANT OPTION ON *.*".to_owned());
                }
            }
            _ if is_master_user_grant(&line, procedures) && seen.insert(line.grant.to_owned()) => {}
            _ => problems.push(format!(
                "unexpected {}{}",
                line.grant,
                if line.with_grant_option {
                    " WITH GRANT OPTION"
                } else {
                    ""
                }
            )),
        }
    }
    if !global_seen {
        problems.push("no global (ON *.*) grant line".to_owned());
    }
    for grant in MASTER_USER_GRANTS.iter().filter(|g| g.on != "*.*") {
        if !seen.contains(&grant.clause()) {
            let option = if grant.with_grant_option {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            problems.push(format!("missing {}{option}", grant.clause()));
        }
    }
    for name in procedures {
        let clause = procedure_clause(name);
        if !seen.contains(&clause) {
            problems.push(format!("missing {clause}"));
        }
    }
    problems
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
        assert!(supports_master_user("10.11.19-MariaDB-0+deb12u1-log"));
        assert!(supports_master_user("11.4.2-MariaDB"));
        assert!(supports_master_user("10.5.9-MariaDB-log"));
        assert!(!supports_master_user("10.5.8-MariaDB"));
        assert!(!supports_master_user("8.0.36"));
        assert!(!supports_master_user("MariaDB"));
        assert!(!supports_master_user(""));
    }

    const HASH: &str = "IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'";

    /// `SHOW GRANTS FOR` of a master user set up by ferry, as MariaDB 10.11.19 prints it.
    fn exact_shape() -> Vec<String> {
        vec![
            format!(
                "GRANT RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, \
                 CREATE USER, SLAVE MONITOR ON *.* TO `m`@`%` {HASH} WITH GRANT OPTION"
            ),
            "GRANT SELECT ON `mysql`.* TO `m`@`%`".to_owned(),
            "GRANT ALL PRIVILEGES ON `%`.* TO `m`@`%` WITH GRANT OPTION".to_owned(),
        ]
    }

    #[test]
    fn the_exact_shape_passes_and_the_statements_match_it() {
        assert_eq!(grant_problems(&exact_shape(), &[]), Vec::<String>::new());
        let statements: Vec<String> = MASTER_USER_GRANTS
            .iter()
            .map(|g| g.statement("'m'@'%'"))
            .collect();
        assert_eq!(
            statements,
            [
                "GRANT RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, \
                 CREATE USER, SLAVE MONITOR ON *.* TO 'm'@'%' WITH GRANT OPTION",
                "GRANT ALL PRIVILEGES ON `%`.* TO 'm'@'%' WITH GRANT OPTION",
                "GRANT SELECT ON `mysql`.* TO 'm'@'%'",
            ]
        );
    }

    #[test]
    fn procedure_grants_are_part_of_the_shape_when_asked_for() {
        let mut lines = exact_shape();
        lines.push("GRANT EXECUTE ON PROCEDURE `mysql`.`rds_start_replication` TO `m`@`%`".into());
        assert_eq!(
            grant_problems(&lines, &["rds_start_replication"]),
            Vec::<String>::new()
        );
        assert_eq!(
            grant_problems(&lines, &[]),
            ["unexpected GRANT EXECUTE ON PROCEDURE `mysql`.`rds_start_replication`"]
        );
        assert_eq!(
            grant_problems(&exact_shape(), &["rds_stop_replication"]),
            ["missing GRANT EXECUTE ON PROCEDURE `mysql`.`rds_stop_replication`"]
        );
        assert!(check_procedure_name("rds_x`; DROP").is_err());
    }

    #[test]
    fn any_deviation_from_the_shape_is_named() {
        let with = |index: usize, line: &str| {
            let mut lines = exact_shape();
            lines[index] = line.to_owned();
            lines
        };
        let cases = [
            (
                with(
                    0,
                    "GRANT ALL PRIVILEGES ON *.* TO `m`@`%` WITH GRANT OPTION",
                ),
                vec![
                    "missing RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG \
                     MONITOR, CREATE USER, SLAVE MONITOR ON *.*",
                    "unexpected ALL PRIVILEGES ON *.*",
                ],
            ),
            (
                with(
                    0,
                    "GRANT SELECT, RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG \
                     MONITOR, CREATE USER, SLAVE MONITOR ON *.* TO `m`@`%` WITH GRANT OPTION \
                     MAX_USER_CONNECTIONS 3",
                ),
                vec!["unexpected SELECT ON *.*"],
            ),
            (
                with(
                    0,
                    "GRANT RELOAD, PROCESS, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR, \
                     CREATE USER, SLAVE MONITOR ON *.* TO `m`@`%`",
                ),
                vec!["no WITH GRANT OPTION ON *.*"],
            ),
            (
                with(1, "GRANT SELECT ON `mysql`.* TO `m`@`%` WITH GRANT OPTION"),
                vec![
                    "unexpected GRANT SELECT ON `mysql`.* WITH GRANT OPTION",
                    "missing GRANT SELECT ON `mysql`.*",
                ],
            ),
            (
                with(1, "GRANT SELECT, INSERT ON `mysql`.* TO `m`@`%`"),
                vec![
                    "unexpected GRANT SELECT, INSERT ON `mysql`.*",
                    "missing GRANT SELECT ON `mysql`.*",
                ],
            ),
            (
                with(2, "GRANT ALL PRIVILEGES ON `%`.* TO `m`@`%`"),
                vec![
                    "unexpected GRANT ALL PRIVILEGES ON `%`.*",
                    "missing GRANT ALL PRIVILEGES ON `%`.* WITH GRANT OPTION",
                ],
            ),
        ];
        for (lines, expected) in cases {
            assert_eq!(grant_problems(&lines, &[]), expected, "{lines:?}");
        }

        let mut extra = exact_shape();
        extra.push("GRANT INSERT ON `mysql`.`proc` TO `m`@`%`".to_owned());
        extra.push("GRANT `dba` TO `m`@`%`".to_owned());
        extra.push(exact_shape()[1].clone());
        assert_eq!(
            grant_problems(&extra, &[]),
            [
                "unexpected GRANT INSERT ON `mysql`.`proc`",
                "unexpected GRANT `dba`",
                "unexpected GRANT SELECT ON `mysql`.*",
            ]
        );
        assert_eq!(
            grant_problems(&[], &[]),
            [
                "no global (ON *.*) grant line",
                "missing GRANT ALL PRIVILEGES ON `%`.* WITH GRANT OPTION",
                "missing GRANT SELECT ON `mysql`.*",
            ]
        );
    }

    #[test]
    fn the_master_set_grants_nothing_forbidden() {
        for p in FORBIDDEN_PRIVILEGES {
            assert!(!MASTER_USER_GLOBAL_PRIVILEGES.contains(p), "{p}");
        }
        for grant in &MASTER_USER_GRANTS {
            assert!(
                grant.on != PRIVILEGE_SCHEMA || grant.privileges == ["SELECT"],
                "the privilege store is read only: {grant:?}"
            );
        }
    }
}
