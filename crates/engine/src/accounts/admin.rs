//! ferry's own account on every server it runs: `ferry_admin@localhost`, all privileges, unix
//! socket only in practice (`localhost` matches socket connections; under `skip-name-resolve`
//! it matches no TCP client).

use ferry_base::Secret;
use mysql_async::prelude::Queryable;
use rand::distr::{Alphanumeric, SampleString};

use super::grants::GrantLine;
use super::ER_PARSE_ERROR;
use super::{
    auth_clause, check_failed, check_password, check_user_name, disconnect, server_code, Session,
};
use crate::error::EngineError;
use crate::server::{ReadyProbe, RunningServer};

/// The user name of ferry's administrative account.
pub const ADMIN_USER: &str = "ferry_admin";
/// Its host part: socket connections only.
pub const ADMIN_HOST: &str = "localhost";
const GENERATED_PASSWORD_LEN: usize = 32;

/// ferry's administrative account on one server.
///
/// Store the password where the control plane keeps secrets; rebuild the value with
/// `AdminAccount { user: ADMIN_USER.into(), password }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccount {
    pub user: String,
    pub password: Secret,
}

impl AdminAccount {
    /// [`ADMIN_USER`] with a fresh random password: 32 ASCII letters and digits (~190 bits)
    /// from the thread-local CSPRNG.
    pub fn generate() -> Self {
        AdminAccount {
            user: ADMIN_USER.to_owned(),
            password: Alphanumeric
                .sample_string(&mut rand::rng(), GENERATED_PASSWORD_LEN)
                .into(),
        }
    }

    /// A `[client]` option-file section with this account's user and password, for the
    /// `mariadb` client and other tools (`--defaults-extra-file=<file>`). Write it with mode
    /// 0600. Values are quoted for the option-file parser when they need it.
    pub fn to_client_cnf(&self) -> String {
        format!(
            "[client]\nuser = {}\npassword = {}\n",
            crate::config::option_value(&self.user),
            crate::config::option_value(self.password.expose())
        )
    }

    /// Opens a connection as this account over the server's unix socket.
    pub async fn connect(&self, server: &RunningServer) -> Result<mysql_async::Conn, EngineError> {
        server
            .connect(&self.user, Some(self.password.expose()))
            .await
    }
}

/// The readiness probe that logs in as the admin account: what a server started normally after
/// [`bootstrap_admin`] uses.
impl From<&AdminAccount> for ReadyProbe {
    fn from(admin: &AdminAccount) -> Self {
        ReadyProbe::user(admin.user.clone(), Some(admin.password.clone()))
    }
}

/// Creates (or replaces) `ferry_admin@localhost` with `admin`'s password,
/// `ALL PRIVILEGES ON *.* WITH GRANT OPTION` and `PROXY ON ''@'%' WITH GRANT OPTION` (what
/// `root@localhost` has on a new datadir).
///
/// Meant for a server started with `skip_grant_tables` (and `skip_networking`): it connects
/// over the socket as `admin` (with privilege checks off, any credentials work), runs
/// `FLUSH PRIVILEGES` to load the grant tables (which turns checking back on for new
/// connections while this session keeps all rights), then creates the account. Idempotent:
/// calling it again, on the same server or after a normal restart, logs in as the admin it
/// created and re-applies the same state. Nothing here is written to the binary log
/// (`sql_log_bin = 0`): the account is this server's own business.
///
/// Works on MariaDB 10.4+ privilege tables (`mysql.global_priv`) and on older layouts
/// (MariaDB 10.3's or MySQL 5.7's `mysql.user` table), which the server still reads and
/// writes; falls back to `DROP USER IF EXISTS` + `CREATE USER` on servers without
/// `CREATE OR REPLACE USER`.
pub async fn bootstrap_admin(
    server: &RunningServer,
    admin: &AdminAccount,
) -> Result<(), EngineError> {
    check_user_name("admin user name", &admin.user)?;
    check_password("admin password", admin.password.expose())?;
    let mut conn = admin.connect(server).await?;
    create_admin(&mut Session::new(&mut conn).await?, admin).await?;
    disconnect(conn, server.socket().to_string()).await?;
    tracing::info!(datadir = %server.config().datadir, "admin account ready");
    Ok(())
}

pub(super) async fn create_admin(
    session: &mut Session<'_>,
    admin: &AdminAccount,
) -> Result<(), EngineError> {
    session
        .run(
            "SET SESSION sql_log_bin = 0".to_owned(),
            "turn off binary logging for the session",
        )
        .await?;
    session
        .run(
            "FLUSH PRIVILEGES".to_owned(),
            "load the privilege tables (FLUSH PRIVILEGES); the datadir's mysql.* tables may be \
             damaged",
        )
        .await?;
    let account = session.account(&admin.user, ADMIN_HOST);
    let auth = auth_clause(admin.password.expose());
    let replaced = session
        .conn
        .query_drop(format!("CREATE OR REPLACE USER {account} {auth}"))
        .await;
    match replaced {
        Ok(()) => {}
        Err(error) if server_code(&error) == Some(ER_PARSE_ERROR) => {
            // A server without CREATE OR REPLACE USER (MySQL).
            session
                .run(
                    format!("DROP USER IF EXISTS {account}"),
                    "drop the old admin account",
                )
                .await?;
            session
                .run(
                    format!("CREATE USER {account} {auth}"),
                    "create the admin account (if the datadir comes from an older server, run \
                     mariadb-upgrade on it)",
                )
                .await?;
        }
        Err(source) => {
            return Err(EngineError::Sql {
                endpoint: session.endpoint.clone(),
                action: "create the admin account (if the datadir comes from an older server, \
                         run mariadb-upgrade on it)",
                source,
            })
        }
    }
    session
        .run(
            format!("GRANT ALL PRIVILEGES ON *.* TO {account} WITH GRANT OPTION"),
            "grant all privileges to the admin account",
        )
        .await?;
    // `PROXY ON ''@'%' WITH GRANT OPTION`, as root@localhost gets from mariadb-install-db: it
    // lets the admin grant and revoke proxy privileges (a restored master user may have one).
    // Only a holder can GRANT it, so it is written the way mariadb-install-db does, and loaded.
    let proxy_row = format!(
        "REPLACE INTO mysql.proxies_priv (Host, User, Proxied_host, Proxied_user, With_grant, \
         Grantor) VALUES ({}, {}, '', '', 1, '')",
        session.literal(ADMIN_HOST),
        session.literal(&admin.user)
    );
    session
        .run(proxy_row, "give the admin account the proxy grant option")
        .await?;
    session
        .run(
            "FLUSH PRIVILEGES".to_owned(),
            "reload the privilege tables (FLUSH PRIVILEGES)",
        )
        .await?;

    let grants = session.grants(&account).await?;
    let has = |clause: &str| {
        grants
            .iter()
            .map(|l| GrantLine::parse(l))
            .any(|line| line.grant == clause && line.with_grant_option)
    };
    let all = has("GRANT ALL PRIVILEGES ON *.*");
    let proxy = has("GRANT PROXY ON ``@`%`");
    if all && proxy {
        return Ok(());
    }
    Err(EngineError::Sql {
        endpoint: session.endpoint.clone(),
        action: "verify the admin account's privileges",
        source: check_failed(format!(
            "after granting them, SHOW GRANTS for the admin account lacks{}{}",
            if all {
                ""
            } else {
                " ALL PRIVILEGES ON *.* WITH GRANT OPTION"
            },
            if proxy {
                ""
            } else {
                " PROXY ON ''@'%' WITH GRANT OPTION"
            },
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_password() {
        let admin = AdminAccount::generate();
        let text = format!("{admin:?}");
        assert!(text.contains("ferry_admin"), "{text}");
        assert!(!text.contains(admin.password.expose()), "{text}");
    }

    #[test]
    fn generated_passwords_are_long_alphanumeric_and_fresh() {
        let a = AdminAccount::generate();
        let b = AdminAccount::generate();
        assert_eq!(a.user, ADMIN_USER);
        assert_eq!(a.password.expose().len(), 32);
        assert!(a
            .password
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.password, b.password);
    }

    #[test]
    fn client_cnf_quotes_only_what_needs_it() {
        let plain = AdminAccount {
            user: ADMIN_USER.to_owned(),
            password: "Abc123".into(),
        };
        assert_eq!(
            plain.to_client_cnf(),
            "[client]\nuser = ferry_admin\npassword = Abc123\n"
        );
        let nasty = AdminAccount {
            user: ADMIN_USER.to_owned(),
            password: " a#b\"c\\d'e\n".into(),
        };
        assert_eq!(
            nasty.to_client_cnf(),
            "[client]\nuser = ferry_admin\npassword = \" a#b\\\"c\\\\d'e\\n\"\n"
        );
    }

    #[test]
    fn the_admin_probe_logs_in_as_the_admin() {
        let admin = AdminAccount::generate();
        let probe = ReadyProbe::from(&admin);
        assert_eq!(probe.user, ADMIN_USER);
        assert_eq!(probe.password, Some(admin.password));
    }
}
