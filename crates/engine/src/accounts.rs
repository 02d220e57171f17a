//! What ferry sets up inside a server before handing it out: its own administrative account,
//! the master user with the privileges an RDS master user has, and the time zone tables.
//!
//! Why this exists: a cluster restored from a physical backup carries the *source's*
//! `mysql.*` tables, so ferry knows no password on it. The control plane starts the restored
//! datadir once with `skip_grant_tables` and `skip_networking` (socket only: nobody else can
//! get in while privilege checks are off), calls [`bootstrap_admin`], stops the server and
//! starts it normally with the admin's [`ReadyProbe`](crate::ReadyProbe). From then on ferry
//! logs in as [`AdminAccount`] over the socket to run [`set_master_user`],
//! [`load_time_zones`] and everything else.
//!
//! Secrets: passwords never appear in SQL text. They are hashed here (the
//! `mysql_native_password` format, `*` + hex of SHA1(SHA1(password))) and sent as
//! `IDENTIFIED WITH mysql_native_password AS '*…'`, so neither the general log, the binary log
//! nor a server error message can quote them. This module never logs user names or passwords
//! and never puts them in error messages.

mod admin;
pub mod audit;
mod grants;
mod master;
mod time_zones;

use mysql_async::prelude::Queryable;
use sha1::{Digest, Sha1};

use crate::error::EngineError;

pub use admin::{bootstrap_admin, AdminAccount, ADMIN_HOST, ADMIN_USER};
pub use master::{
    set_master_user, set_password, MasterUserGrant, MasterUserReport, ALL_DATABASES,
    FORBIDDEN_PRIVILEGES, MASTER_USER_GLOBAL_PRIVILEGES, MASTER_USER_GRANTS, MASTER_USER_HOST,
    PRIVILEGE_SCHEMA,
};
pub use time_zones::{load_time_zones, TimeZoneReport};

/// Longest user name accepted: what MariaDB's pre-10.4 `mysql.user` table holds (10.4+ holds
/// 128). RDS allows 16; the control plane applies its own, stricter rules.
pub const MAX_USER_NAME_LEN: usize = 80;

/// Server error codes this module branches on.
const ER_PARSE_ERROR: u16 = 1064;
const ER_NO_SUCH_TABLE: u16 = 1146;

/// Checks a user name ferry is about to create or change: 1 to [`MAX_USER_NAME_LEN`] ASCII
/// letters, digits, `_`, `-` or `.`. The name itself is never quoted back.
fn check_user_name(what: &'static str, name: &str) -> Result<(), EngineError> {
    let invalid = |reason: String| EngineError::InvalidArgument { what, reason };
    if name.is_empty() {
        return Err(invalid("must not be empty".to_owned()));
    }
    let chars = name.chars().count();
    if chars > MAX_USER_NAME_LEN {
        return Err(invalid(format!(
            "is {chars} characters long; at most {MAX_USER_NAME_LEN} are allowed"
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(invalid(
            "may contain only ASCII letters, digits, '_', '-' and '.'".to_owned(),
        ));
    }
    Ok(())
}

/// Checks a password ferry is about to set. Never quoted back.
fn check_password(what: &'static str, password: &str) -> Result<(), EngineError> {
    let invalid = |reason: &str| EngineError::InvalidArgument {
        what,
        reason: reason.to_owned(),
    };
    if password.is_empty() {
        return Err(invalid(
            "must not be empty (an account without a password accepts anyone)",
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(invalid(
            "must not contain control characters (clients and option files cannot carry them)",
        ));
    }
    Ok(())
}

/// The `mysql_native_password` hash of `password`: `*` followed by the upper-case hex of
/// SHA1(SHA1(password)), what `PASSWORD('…')` returns on the server.
fn native_password_hash(password: &str) -> String {
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut hash = String::with_capacity(41);
    hash.push('*');
    for byte in stage2 {
        hash.push_str(&format!("{byte:02X}"));
    }
    hash
}

/// `IDENTIFIED WITH mysql_native_password AS '*…'`: understood by MariaDB (any version with
/// plugins) and MySQL 5.7 / 8.0 alike, and free of anything that needs escaping.
fn auth_clause(password: &str) -> String {
    format!(
        "IDENTIFIED WITH mysql_native_password AS '{}'",
        native_password_hash(password)
    )
}

/// The MySQL error code of a server-side error, if it is one.
fn server_code(error: &mysql_async::Error) -> Option<u16> {
    match error {
        mysql_async::Error::Server(server) => Some(server.code),
        _ => None,
    }
}

/// Closes a connection cleanly (a dropped one is closed too, just less politely).
async fn disconnect(conn: mysql_async::Conn, endpoint: String) -> Result<(), EngineError> {
    conn.disconnect().await.map_err(|source| EngineError::Sql {
        endpoint,
        action: "disconnect",
        source,
    })
}

/// A failed check on a server that is not a SQL error as such (a grant set that does not
/// match, a function that returns NULL), as an [`EngineError::Sql`] source.
fn check_failed(message: String) -> mysql_async::Error {
    mysql_async::Error::Other(message.into())
}

/// One connection with what is needed to build statements for it safely: where it goes (for
/// errors) and whether the session's SQL mode treats backslashes as literal characters.
struct Session<'a> {
    conn: &'a mut mysql_async::Conn,
    endpoint: String,
    no_backslash_escapes: bool,
}

impl<'a> Session<'a> {
    async fn new(conn: &'a mut mysql_async::Conn) -> Result<Session<'a>, EngineError> {
        let opts = conn.opts();
        let endpoint = match opts.socket() {
            Some(socket) => socket.to_owned(),
            None => format!("{}:{}", opts.ip_or_hostname(), opts.tcp_port()),
        };
        let mode: Option<i64> = conn
            .query_first("SELECT @@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'")
            .await
            .map_err(|source| EngineError::Sql {
                endpoint: endpoint.clone(),
                action: "read the session's SQL mode",
                source,
            })?;
        Ok(Session {
            conn,
            endpoint,
            no_backslash_escapes: mode == Some(1),
        })
    }

    fn error(&self, action: &'static str) -> impl FnOnce(mysql_async::Error) -> EngineError {
        let endpoint = self.endpoint.clone();
        move |source| EngineError::Sql {
            endpoint,
            action,
            source,
        }
    }

    /// A string literal for this session (quotes and, unless the SQL mode says otherwise,
    /// backslashes escaped).
    fn literal(&self, text: &str) -> String {
        mysql_async::Value::from(text).as_sql(self.no_backslash_escapes)
    }

    /// `'user'@'host'`.
    fn account(&self, user: &str, host: &str) -> String {
        format!("{}@{}", self.literal(user), self.literal(host))
    }

    async fn run(&mut self, statement: String, action: &'static str) -> Result<(), EngineError> {
        let on_error = self.error(action);
        self.conn.query_drop(statement).await.map_err(on_error)
    }

    /// `SHOW GRANTS FOR account`, one string per line.
    async fn grants(&mut self, account: &str) -> Result<Vec<String>, EngineError> {
        let on_error = self.error("read the account's grants (SHOW GRANTS)");
        self.conn
            .query(format!("SHOW GRANTS FOR {account}"))
            .await
            .map_err(on_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_hash_matches_the_server() {
        // SELECT PASSWORD('test') on MariaDB 10.11.
        assert_eq!(
            native_password_hash("test"),
            "*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29"
        );
        let clause = auth_clause("it's a \\ \"secret\"");
        assert!(clause.starts_with("IDENTIFIED WITH mysql_native_password AS '*"));
        assert!(!clause.contains("secret"));
    }

    #[test]
    fn user_names_are_checked_without_being_echoed() {
        for good in ["admin", "Master_1", "a.b-c", &"x".repeat(MAX_USER_NAME_LEN)] {
            check_user_name("master user name", good).expect(good);
        }
        let cases = [
            ("", "must not be empty"),
            ("bob'; DROP USER root@localhost; --", "may contain only"),
            ("tab\tname", "may contain only"),
            ("naïve", "may contain only"),
        ];
        for (bad, expected) in cases {
            let err = check_user_name("master user name", bad).expect_err(bad);
            let text = err.to_string();
            assert!(text.starts_with("invalid master user name: "), "{text}");
            assert!(text.contains(expected), "{text}");
            if !bad.is_empty() {
                assert!(!text.contains(bad), "the name is not echoed: {text}");
            }
        }
        let long = "y".repeat(MAX_USER_NAME_LEN + 1);
        let text = check_user_name("master user name", &long)
            .expect_err("too long")
            .to_string();
        assert!(text.contains("at most 80"), "{text}");
    }

    #[test]
    fn passwords_are_checked_without_being_echoed() {
        check_password("master user password", "p@ss w'rd\"\\#").expect("printable");
        for bad in ["", "line\nbreak", "nul\0byte"] {
            let text = check_password("master user password", bad)
                .expect_err("rejected")
                .to_string();
            assert!(text.starts_with("invalid master user password: "), "{text}");
            if !bad.is_empty() {
                assert!(!text.contains(bad), "{text}");
            }
        }
    }
}
