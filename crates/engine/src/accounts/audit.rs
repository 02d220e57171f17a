//! Keeping ferry in control of a server whose master user tries to take it: the checks and
//! repairs a guardian runs over its own admin session, every second or so.
//!
//! Why this exists: MariaDB cannot stop a master user with `CREATE USER` and grant option on
//! `` `%`.* `` from reaching beyond its privileges (see the `master` module's doc): it can
//! rename, re-password, lock or drop ferry's account; give an account ``ALL ON `%`.*``, which
//! covers the `mysql` schema, so that account writes the privilege tables; and through those
//! writes insert a `mysql.proc` row whose definer is ferry's account. What it cannot do is
//! take away a session ferry already holds: MariaDB caches a session's global privileges when
//! it logs in, so ferry's open session keeps `ALL PRIVILEGES` even after its account is renamed,
//! dropped, re-passworded or locked. The guardian uses that session to put things back.
//!
//! The work is split so the common case costs one statement:
//!
//! - [`fingerprint`]: `CHECKSUM TABLE` over the privilege tables and the routine and event
//!   tables ([`WATCHED_TABLES`]). Unchanged means nothing to look at.
//! - [`enforce`]: reads the tables and undoes what breaks the rules below, by writing the
//!   tables directly and then `FLUSH PRIVILEGES` (so the server's memory equals the repaired
//!   tables, whether the change came from a statement or from a direct write not yet
//!   flushed), re-creates ferry's account through the same code that bootstraps it, drops
//!   routines and events that would run as ferry, and kills the sessions of every account it
//!   had to cut back (a session keeps the global privileges it logged in with).
//!
//! The rules:
//!
//! 1. ferry's account `ferry_admin@localhost` exists exactly as captured in [`Expected`]
//!    (password, plugin, `ALL PRIVILEGES`, unlocked); no other account is named `ferry_admin`
//!    and none may proxy as it.
//! 2. No other account or role holds a global privilege beyond the master user's
//!    ([`MASTER_USER_GLOBAL_PRIVILEGES`] and grant option); `mariadb.sys@localhost` (owner of
//!    the `mysql.user` view) stays locked.
//! 3. No database-level row that covers `mysql` (`%`, `m%`, `mysq_`, …) gives more than
//!    `SELECT` there: an account (or role) with such a wildcard row gets an exact ``mysql`` row
//!    with `SELECT` only, which MariaDB prefers as the more specific match (what ferry does for
//!    the master user), and an exact row is cut to `SELECT`. Table- and column-level grants on
//!    `mysql` tables keep only `SELECT`, routine-level grants only `EXECUTE`
//!    (`mariadb.sys@localhost`'s `SELECT, DELETE ON mysql.global_priv` stays).
//! 4. Every stored routine, event (and, in a deep pass, trigger and view) whose definer is
//!    ferry's user is one ferry installed, with the body it had when captured. Others are
//!    dropped; a changed or missing one is dropped and reported so the caller re-installs it.

mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mysql_async::prelude::Queryable;

use super::admin::{create_admin, ADMIN_HOST, ADMIN_USER};
use super::{native_password_hash, AdminAccount, Session, MASTER_USER_GLOBAL_PRIVILEGES};
use crate::error::EngineError;

/// The tables whose checksum is the [`Fingerprint`]: every privilege table, stored routines,
/// events.
pub const WATCHED_TABLES: &[&str] = &[
    "global_priv",
    "db",
    "tables_priv",
    "columns_priv",
    "procs_priv",
    "proxies_priv",
    "roles_mapping",
    "proc",
    "event",
];

/// The schema that holds the privilege store.
const PRIVILEGE_DB: &str = "mysql";

/// The account that owns the `mysql.user` view on MariaDB 10.4+: locked, no password.
const SYSTEM_USER: &str = "mariadb.sys";

/// The names of the bits of `mysql.global_priv`'s `$.access` on MariaDB 10.5+, lowest first,
/// as `SHOW GRANTS` prints them.
const PRIVILEGE_BITS: [&str; 39] = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "SHUTDOWN",
    "PROCESS",
    "FILE",
    "GRANT OPTION",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "SUPER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "BINLOG MONITOR",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
    "CREATE TABLESPACE",
    "DELETE HISTORY",
    "SET USER",
    "FEDERATED ADMIN",
    "CONNECTION ADMIN",
    "READ_ONLY ADMIN",
    "REPLICATION SLAVE ADMIN",
    "REPLICATION MASTER ADMIN",
    "BINLOG ADMIN",
    "BINLOG REPLAY",
    "SLAVE MONITOR",
];

/// `ALL PRIVILEGES` as `mysql.global_priv` stores it on MariaDB 10.11.
pub const ALL_PRIVILEGES_ACCESS: u64 = (1 << PRIVILEGE_BITS.len()) - 1;

/// The most any account but ferry's may hold `ON *.*`: the master user's privileges and the
/// grant option, as `mysql.global_priv`'s `$.access` bits.
pub fn master_user_access() -> u64 {
    MASTER_USER_GLOBAL_PRIVILEGES
        .iter()
        .chain(&["GRANT OPTION"])
        .map(|name| {
            let bit = PRIVILEGE_BITS
                .iter()
                .position(|p| p == name)
                .expect("every master user privilege has an access bit");
            1u64 << bit
        })
        .fold(0, |mask, bit| mask | bit)
}

/// The privilege names of the bits set in `access`, lowest bit first (bits MariaDB 10.11
/// does not define, which `ALL PRIVILEGES` sets too, are left out).
pub fn privilege_names(access: u64) -> Vec<String> {
    PRIVILEGE_BITS
        .iter()
        .enumerate()
        .filter(|(bit, _)| access & (1u64 << bit) != 0)
        .map(|(_, name)| (*name).to_owned())
        .collect()
}

/// A MariaDB account or role (`host` is empty for a role).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Account {
    pub user: String,
    pub host: String,
}

impl Account {
    fn new(user: impl Into<String>, host: impl Into<String>) -> Account {
        Account {
            user: user.into(),
            host: host.into(),
        }
    }
}

/// `'user'@'host'`.
impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'@'{}'", self.user, self.host)
    }
}

/// What was wrong with ferry's own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminDrift {
    /// `ferry_admin@localhost` did not exist (dropped or renamed).
    Missing,
    /// It was locked.
    Locked,
    /// Its password or authentication plugin had changed.
    PasswordChanged,
    /// Something else had changed (privileges, expiry, limits).
    Changed,
}

/// One thing [`enforce`] found and undid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// ferry's account was re-created with its password and all privileges.
    AdminAccountRestored { drift: AdminDrift },
    /// An account named like ferry's on another host, dropped.
    ImpostorDropped { account: Account },
    /// An account allowed to proxy as ferry's, no longer.
    AdminProxyRemoved { account: Account },
    /// Global privileges beyond the master user's, revoked (names as `SHOW GRANTS` prints).
    GlobalPrivilegesRevoked {
        account: Account,
        privileges: Vec<String>,
    },
    /// Write access to the `mysql` schema through a grant at `level` on `object` (a database
    /// pattern such as `` `%` ``, or `` `mysql`.`global_priv` ``), revoked; `SELECT` stays.
    PrivilegeSchemaWritesRevoked {
        account: Account,
        level: GrantLevel,
        object: String,
        privileges: Vec<String>,
    },
    /// `mariadb.sys@localhost` had been unlocked; locked again.
    SystemAccountLocked { account: Account },
    /// A routine, event, trigger or view that would run as ferry's account and that ferry did
    /// not install, dropped. `object` is e.g. ``PROCEDURE `mysql`.`x` ``.
    ForeignObjectDropped { definer: Account, object: String },
    /// One of ferry's own routines had been changed or removed; dropped, to be re-installed
    /// by the caller.
    OwnRoutineChanged { object: String },
}

impl Finding {
    /// The account the finding is about, if it names one.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Finding::ImpostorDropped { account }
            | Finding::AdminProxyRemoved { account }
            | Finding::GlobalPrivilegesRevoked { account, .. }
            | Finding::PrivilegeSchemaWritesRevoked { account, .. }
            | Finding::SystemAccountLocked { account } => Some(account),
            Finding::ForeignObjectDropped { definer, .. } => Some(definer),
            Finding::AdminAccountRestored { .. } | Finding::OwnRoutineChanged { .. } => None,
        }
    }
}

/// Where a grant on the `mysql` schema was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantLevel {
    Database,
    Table,
    Column,
    Routine,
}

/// What ferry's account and routines should look like, read once the server runs with
/// ferry's set-up (see [`capture`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// ferry's row in `mysql.global_priv` (`Priv`), if it was sound when captured. It holds
    /// the account's password hash, so it never shows in a log (`Secret`'s Debug).
    admin_priv: Option<ferry_base::Secret>,
    /// ferry's routines in `mysql`: `(type, name)` to a checksum of their definition.
    routines: BTreeMap<(String, String), String>,
}

impl Expected {
    /// Whether ferry's account was sound when captured (otherwise [`enforce`] re-creates it).
    pub fn admin_sound(&self) -> bool {
        self.admin_priv.is_some()
    }
}

/// The checksums of [`WATCHED_TABLES`]: equal fingerprints mean nothing to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(Vec<(String, Option<i64>)>);

/// Reads the [`Fingerprint`]: one `CHECKSUM TABLE`, cheap on tables of a few hundred rows.
pub async fn fingerprint(conn: &mut mysql_async::Conn) -> Result<Fingerprint, EngineError> {
    let tables: Vec<String> = WATCHED_TABLES
        .iter()
        .map(|t| format!("{PRIVILEGE_DB}.{t}"))
        .collect();
    let session = Session::new(conn).await?;
    let on_error = session.error("checksum the privilege tables");
    let rows: Vec<(String, Option<i64>)> = session
        .conn
        .query(format!("CHECKSUM TABLE {}", tables.join(", ")))
        .await
        .map_err(on_error)?;
    Ok(Fingerprint(rows))
}

/// What ferry's account and its routines look like now: the routines in `mysql` whose
/// definer is ferry's user and whose names are in `own_routines` (the procedures ferry
/// installed), and ferry's account if it is sound (exists with `admin`'s password, all
/// privileges, unlocked). Call it right after ferry set the server up.
pub async fn capture(
    conn: &mut mysql_async::Conn,
    admin: &AdminAccount,
    own_routines: &[&str],
) -> Result<Expected, EngineError> {
    let mut session = Session::new(conn).await?;
    let admin_row = read_admin_rows(&mut session)
        .await?
        .into_iter()
        .find(|row| row.host == ADMIN_HOST);
    let admin_priv = admin_row
        .filter(|row| row.drift(admin).is_none())
        .map(|row| ferry_base::Secret::new(row.priv_json));
    let routines = read_definer_routines(&mut session)
        .await?
        .into_iter()
        .filter(|r| r.db == PRIVILEGE_DB && own_routines.iter().any(|n| *n == r.name))
        .map(|r| ((r.kind, r.name), r.checksum))
        .collect();
    Ok(Expected {
        admin_priv,
        routines,
    })
}

/// Checks the rules of this module and undoes what breaks them (see the module doc). Returns
/// what it found; empty when all was well. `deep` also looks at triggers and views (which
/// opens every table's definition: run it rarely). Runs with `sql_log_bin = 0`: this is the
/// server's own business. After a non-empty result, re-install ferry's routines if it says
/// one changed, then [`capture`] again.
pub async fn enforce(
    conn: &mut mysql_async::Conn,
    admin: &AdminAccount,
    expected: &Expected,
    deep: bool,
) -> Result<Vec<Finding>, EngineError> {
    let mut session = Session::new(conn).await?;
    session
        .run(
            "SET SESSION sql_log_bin = 0".to_owned(),
            "turn off binary logging for the session",
        )
        .await?;
    let mut findings = Vec::new();
    let mut flush = false;

    // 1. ferry's account and impostors.
    let rows = read_admin_rows(&mut session).await?;
    let own = rows.iter().find(|r| r.host == ADMIN_HOST);
    let drift = match (own, &expected.admin_priv) {
        (None, _) => Some(AdminDrift::Missing),
        (Some(row), Some(priv_json)) if row.priv_json == priv_json.expose() => None,
        (Some(row), _) => Some(row.drift(admin).unwrap_or(AdminDrift::Changed)),
    };
    for row in rows.iter().filter(|r| r.host != ADMIN_HOST) {
        delete_account_rows(&mut session, ADMIN_USER, &row.host).await?;
        findings.push(Finding::ImpostorDropped {
            account: Account::new(ADMIN_USER, row.host.clone()),
        });
        flush = true;
    }
    flush |= tables::proxies(&mut session, &mut findings).await?;

    // 2. Global privileges; mariadb.sys stays locked.
    flush |= tables::global(&mut session, &mut findings).await?;
    // 3. Writes to `mysql` through database-, table-, column- and routine-level grants.
    flush |= tables::privilege_schema(&mut session, &mut findings).await?;

    if flush {
        session
            .run(
                "FLUSH PRIVILEGES".to_owned(),
                "reload the repaired privilege tables (FLUSH PRIVILEGES)",
            )
            .await?;
    }
    if let Some(drift) = drift {
        create_admin(&mut session, admin).await?;
        findings.push(Finding::AdminAccountRestored { drift });
    }

    // 4. Routines, events, triggers and views that run as ferry.
    routines(&mut session, expected, deep, &mut findings).await?;

    kill_sessions(&mut session, &findings).await?;
    Ok(findings)
}

/// A row of `mysql.global_priv` for ferry's user name.
struct AdminRow {
    host: String,
    priv_json: String,
    plugin: Option<String>,
    auth: Option<String>,
    locked: bool,
    access: u64,
}

impl AdminRow {
    /// What is wrong with ferry's own row, if anything.
    fn drift(&self, admin: &AdminAccount) -> Option<AdminDrift> {
        let hash = native_password_hash(admin.password.expose());
        if self.locked {
            Some(AdminDrift::Locked)
        } else if self.plugin.as_deref() != Some("mysql_native_password")
            || self.auth.as_deref() != Some(hash.as_str())
        {
            Some(AdminDrift::PasswordChanged)
        } else if self.access & ALL_PRIVILEGES_ACCESS != ALL_PRIVILEGES_ACCESS {
            Some(AdminDrift::Changed)
        } else {
            None
        }
    }
}

type AdminRowTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<u64>,
);

async fn read_admin_rows(session: &mut Session<'_>) -> Result<Vec<AdminRow>, EngineError> {
    let on_error = session.error("read ferry's account from mysql.global_priv");
    let rows: Vec<AdminRowTuple> = session
        .conn
        .exec(
            "SELECT Host, Priv, JSON_VALUE(Priv, '$.plugin'), \
               JSON_VALUE(Priv, '$.authentication_string'), \
               JSON_EXTRACT(Priv, '$.account_locked'), \
               CAST(JSON_VALUE(Priv, '$.access') AS UNSIGNED) \
             FROM mysql.global_priv WHERE User = ?",
            (ADMIN_USER,),
        )
        .await
        .map_err(on_error)?;
    Ok(rows
        .into_iter()
        .map(|(host, priv_json, plugin, auth, locked, access)| AdminRow {
            host,
            priv_json,
            plugin,
            auth,
            locked: locked.as_deref() == Some("true"),
            access: access.unwrap_or(0),
        })
        .collect())
}

/// Removes every privilege row of `user@host` (the account and its grants).
async fn delete_account_rows(
    session: &mut Session<'_>,
    user: &str,
    host: &str,
) -> Result<(), EngineError> {
    for table in [
        "global_priv",
        "db",
        "tables_priv",
        "columns_priv",
        "procs_priv",
        "proxies_priv",
    ] {
        let on_error = session.error("drop an impostor of ferry's account");
        session
            .conn
            .exec_drop(
                format!("DELETE FROM mysql.{table} WHERE User = ? AND Host = ?"),
                (user, host),
            )
            .await
            .map_err(on_error)?;
    }
    let on_error = session.error("drop an impostor of ferry's account");
    session
        .conn
        .exec_drop(
            "DELETE FROM mysql.roles_mapping WHERE User = ? AND Host = ?",
            (user, host),
        )
        .await
        .map_err(on_error)
}

/// A stored routine whose definer's user is ferry's.
struct DefinerRoutine {
    kind: String,
    db: String,
    name: String,
    definer: String,
    checksum: String,
}

async fn read_definer_routines(
    session: &mut Session<'_>,
) -> Result<Vec<DefinerRoutine>, EngineError> {
    let on_error = session.error("list the routines that run as ferry's account");
    let rows: Vec<(String, String, String, String, String)> = session
        .conn
        .exec(
            "SELECT CAST(type AS CHAR), db, name, definer, \
               MD5(CONCAT_WS(0x00, body, security_type, param_list, returns, sql_mode)) \
             FROM mysql.proc WHERE definer LIKE ?",
            (definer_pattern(),),
        )
        .await
        .map_err(on_error)?;
    Ok(rows
        .into_iter()
        .map(|(kind, db, name, definer, checksum)| DefinerRoutine {
            kind,
            db,
            name,
            definer,
            checksum,
        })
        .collect())
}

/// `ferry\_admin@%`: a definer whose user is ferry's, on any host (host names compare without
/// regard to case, so `ferry_admin@LOCALHOST` runs as ferry too).
fn definer_pattern() -> String {
    format!("{}@%", ADMIN_USER.replace('_', "\\_"))
}

/// `` `a``b` ``.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'user'@'host'` from a definer `user@host` (split at the last `@`).
fn definer_account(definer: &str) -> Account {
    match definer.rsplit_once('@') {
        Some((user, host)) => Account::new(user, host),
        None => Account::new(definer, ""),
    }
}

async fn routines(
    session: &mut Session<'_>,
    expected: &Expected,
    deep: bool,
    findings: &mut Vec<Finding>,
) -> Result<(), EngineError> {
    let current = read_definer_routines(session).await?;
    let mut seen = BTreeSet::new();
    for r in &current {
        let key = (r.kind.clone(), r.name.clone());
        let object = format!("{} {}.{}", r.kind, ident(&r.db), ident(&r.name));
        let own = r.db == PRIVILEGE_DB && expected.routines.contains_key(&key);
        if own {
            seen.insert(key.clone());
            if expected.routines.get(&key) == Some(&r.checksum) {
                continue;
            }
            findings.push(Finding::OwnRoutineChanged {
                object: object.clone(),
            });
        } else {
            findings.push(Finding::ForeignObjectDropped {
                definer: definer_account(&r.definer),
                object: object.clone(),
            });
        }
        drop_object(session, &format!("DROP {object}"), &r.kind, &r.db, &r.name).await?;
    }
    for (kind, name) in expected.routines.keys() {
        if !seen.contains(&(kind.clone(), name.clone())) {
            findings.push(Finding::OwnRoutineChanged {
                object: format!("{kind} {}.{}", ident(PRIVILEGE_DB), ident(name)),
            });
        }
    }

    let on_error = session.error("list the events that run as ferry's account");
    let events: Vec<(String, String, String)> = session
        .conn
        .exec(
            "SELECT db, name, definer FROM mysql.event WHERE definer LIKE ?",
            (definer_pattern(),),
        )
        .await
        .map_err(on_error)?;
    let mut foreign: Vec<(String, String, String, String)> = events
        .into_iter()
        .map(|(db, name, definer)| ("EVENT".to_owned(), db, name, definer))
        .collect();
    if deep {
        for (kind, query) in [
            (
                "TRIGGER",
                "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS \
                 WHERE DEFINER LIKE ?",
            ),
            (
                "VIEW",
                "SELECT TABLE_SCHEMA, TABLE_NAME, DEFINER FROM information_schema.VIEWS \
                 WHERE DEFINER LIKE ?",
            ),
        ] {
            let on_error = session.error("list the triggers and views that run as ferry");
            let rows: Vec<(String, String, String)> = session
                .conn
                .exec(query, (definer_pattern(),))
                .await
                .map_err(on_error)?;
            foreign.extend(
                rows.into_iter()
                    .map(|(db, name, definer)| (kind.to_owned(), db, name, definer)),
            );
        }
    }
    for (kind, db, name, definer) in foreign {
        let object = format!("{kind} {}.{}", ident(&db), ident(&name));
        drop_object(session, &format!("DROP {object}"), &kind, &db, &name).await?;
        findings.push(Finding::ForeignObjectDropped {
            definer: definer_account(&definer),
            object,
        });
    }
    Ok(())
}

/// `DROP …`; a routine or event whose row the server cannot drop (a malformed row written
/// into `mysql.proc` directly) has its row deleted instead.
async fn drop_object(
    session: &mut Session<'_>,
    statement: &str,
    kind: &str,
    db: &str,
    name: &str,
) -> Result<(), EngineError> {
    if session.conn.query_drop(statement).await.is_ok() {
        return Ok(());
    }
    let (query, action) = match kind {
        "EVENT" => (
            "DELETE FROM mysql.event WHERE db = ? AND name = ?".to_owned(),
            "delete an event row that runs as ferry",
        ),
        "PROCEDURE" | "FUNCTION" | "PACKAGE" | "PACKAGE BODY" => (
            format!(
                "DELETE FROM mysql.proc WHERE db = ? AND name = ? AND type = {}",
                session.literal(kind)
            ),
            "delete a routine row that runs as ferry",
        ),
        _ => {
            let on_error = session.error("drop a trigger or view that runs as ferry");
            return session.conn.query_drop(statement).await.map_err(on_error);
        }
    };
    let on_error = session.error(action);
    session
        .conn
        .exec_drop(query, (db, name))
        .await
        .map_err(on_error)
}

/// Kills the sessions of every account the findings cut back (a session keeps the global
/// privileges it logged in with), except ferry's own socket sessions.
async fn kill_sessions(session: &mut Session<'_>, findings: &[Finding]) -> Result<(), EngineError> {
    let users: BTreeSet<&str> = findings
        .iter()
        .filter(|f| !matches!(f, Finding::ForeignObjectDropped { .. }))
        .filter_map(Finding::account)
        .map(|a| a.user.as_str())
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    let on_error = session.error("list the sessions of the accounts cut back");
    let sessions: Vec<(u64, String, String)> = session
        .conn
        .query(
            "SELECT ID, USER, HOST FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'",
        )
        .await
        .map_err(on_error)?;
    for (id, user, host) in sessions {
        if !users.contains(user.as_str()) {
            continue;
        }
        // ferry's own sessions come over the socket (`localhost`); an impostor's over TCP.
        if user == ADMIN_USER && (host == ADMIN_HOST || host.starts_with("localhost:")) {
            continue;
        }
        // Gone already (ER_NO_SUCH_THREAD) is fine.
        let _ = session
            .conn
            .query_drop(format!("KILL CONNECTION {id}"))
            .await;
    }
    Ok(())
}
