//! Creating a fresh datadir (`mariadb-install-db`) and the first account changes on it.
//!
//! Used for tests, the demo's throwaway source server, and later for new empty clusters.
//! Restored datadirs come from backups instead and keep the source's accounts.
//!
//! Root authentication: Debian's default for a new datadir is `unix_socket` (root logs in as
//! the OS user root, no password). ferry initialises with `normal` authentication instead
//! ([`RootAuth::Normal`]): `root@localhost` with an empty password over the socket, which works
//! whatever OS user ferry runs as, and which [`set_root_password`] then closes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::Queryable;

use crate::error::EngineError;
use crate::process::{run_to_completion, ProcessSpec};
use crate::server::RunningServer;
use crate::toolbox::{Flavor, Toolbox};

/// The size of the redo log in `datadir` (`ib_logfile0`, the single log file of MariaDB
/// 10.5+), or `None` when there is none yet. A server started with a different
/// `innodb-log-file-size` resizes the log at start-up.
pub fn redo_log_size(datadir: &Path) -> Option<u64> {
    let size = std::fs::metadata(datadir.join("ib_logfile0")).ok()?.len();
    (size > 0).then_some(size)
}

/// How the initial `root@localhost` account authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootAuth {
    /// No password (`--auth-root-authentication-method=normal`); set one with
    /// [`set_root_password`].
    Normal,
    /// Only the OS user of the same name over the unix socket (Debian's default).
    Socket,
}

/// How to initialise a datadir.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Where `mariadb-install-db`'s output goes (appended); `None` keeps only a tail in
    /// memory for errors.
    pub log_path: Option<PathBuf>,
    pub root_auth: RootAuth,
    /// Options passed through to the bootstrap server, e.g. `--innodb-log-file-size=8M`.
    pub server_args: Vec<String>,
    pub timeout: Duration,
    /// Where `mariadb-install-db`'s lease goes (see [`ProcessSpec::owner_dir`]): the directory
    /// a later [`stop_left_behind`](crate::process::stop_left_behind) is called on to stop an
    /// initialisation this ferry could not. `None`: the datadir's parent.
    pub owner_dir: Option<PathBuf>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            log_path: None,
            root_auth: RootAuth::Normal,
            server_args: Vec::new(),
            timeout: Duration::from_secs(300),
            owner_dir: None,
        }
    }
}

/// Creates the system tables in `datadir`, which must be missing or empty. The test database
/// is not created; grant entries use IP addresses, not the host name.
pub async fn init_datadir(
    tb: &Toolbox,
    datadir: &Path,
    opts: &InitOptions,
) -> Result<(), EngineError> {
    if tb.server_version().flavor != Flavor::MariaDB {
        return Err(EngineError::InvalidArgument {
            what: "engine flavor",
            reason: format!(
                "initialising a datadir is implemented for MariaDB only; found {} at {}",
                tb.server_version(),
                tb.server().display()
            ),
        });
    }
    let install_db = tb.install_db()?;
    match std::fs::read_dir(datadir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(EngineError::DatadirNotEmpty {
                    datadir: datadir.to_path_buf(),
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(datadir)
                .map_err(EngineError::io("create the datadir", datadir))?;
        }
        Err(source) => {
            return Err(EngineError::Io {
                action: "read the datadir",
                path: datadir.to_path_buf(),
                source,
            })
        }
    }

    let mut datadir_arg = std::ffi::OsString::from("--datadir=");
    datadir_arg.push(datadir.as_os_str());
    let auth = match opts.root_auth {
        RootAuth::Normal => "normal",
        RootAuth::Socket => "socket",
    };
    let mut spec = ProcessSpec::new(install_db)
        // Must come first: never read /etc/mysql or ~/.my.cnf.
        .arg("--no-defaults")
        .arg(datadir_arg)
        .arg(format!("--auth-root-authentication-method={auth}"))
        .arg("--skip-test-db")
        .arg("--skip-name-resolve")
        .timeout(opts.timeout);
    if crate::running_as_root() {
        spec = spec.arg("--user=root");
    }
    // The bootstrap server's temporary tables go to a private directory beside the datadir:
    // in the shared /tmp, a file of an implicit temporary table was seen to vanish under a
    // concurrent bootstrap ("Could not remove temporary table '/tmp/#sql-temptable-...'").
    let tmpdir = bootstrap_tmpdir(datadir)?;
    let mut tmpdir_arg = std::ffi::OsString::from("--tmpdir=");
    tmpdir_arg.push(tmpdir.as_os_str());
    spec = spec.arg(tmpdir_arg);
    spec = spec.args(&opts.server_args);
    let parent = datadir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The lease goes beside the datadir, never inside it (a datadir holds only the server's
    // files).
    spec = spec
        .current_dir(parent)
        .owner_dir(opts.owner_dir.as_deref().unwrap_or(parent));
    if let Some(log) = &opts.log_path {
        spec = spec.log_file(log);
    }
    tracing::info!(datadir = %datadir.display(), "initialising datadir");
    let result = run_to_completion(spec).await;
    let _ = std::fs::remove_dir_all(&tmpdir);
    result.map_err(|source| EngineError::DatadirInitFailed {
        datadir: datadir.to_path_buf(),
        source: Box::new(source),
    })?;
    Ok(())
}

/// `<datadir>.install-tmp`, created empty (mode 0700) for the bootstrap server's `--tmpdir`.
fn bootstrap_tmpdir(datadir: &Path) -> Result<std::path::PathBuf, EngineError> {
    use std::os::unix::fs::DirBuilderExt;
    let mut name = datadir.as_os_str().to_owned();
    name.push(".install-tmp");
    let dir = std::path::PathBuf::from(name);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(EngineError::Io {
                action: "remove an old bootstrap temporary directory",
                path: dir,
                source,
            })
        }
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(EngineError::io(
            "create the bootstrap temporary directory",
            &dir,
        ))?;
    Ok(dir)
}

/// Sets the password of every `root` account (`root@localhost`, `root@127.0.0.1`,
/// `root@::1`; accounts by host name only when the server resolves names), logging in as root without a password over the socket: the state
/// [`init_datadir`] with [`RootAuth::Normal`] leaves.
pub async fn set_root_password(server: &RunningServer, password: &str) -> Result<(), EngineError> {
    let endpoint = server.socket().to_string();
    let sql_error = |action: &'static str| {
        let endpoint = endpoint.clone();
        move |source| EngineError::Sql {
            endpoint,
            action,
            source,
        }
    };
    let mut conn = server.connect("root", None).await?;
    let hosts: Vec<String> = conn
        .query("SELECT Host FROM mysql.user WHERE User = 'root' ORDER BY Host")
        .await
        .map_err(sql_error("list the root accounts"))?;
    let modes: Option<(i64, i64)> = conn
        .query_first(
            "SELECT @@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%', @@GLOBAL.skip_name_resolve",
        )
        .await
        .map_err(sql_error("read the SQL mode"))?;
    let (no_backslash_escapes, skip_name_resolve) = match modes {
        Some((escapes, skip)) => (escapes == 1, skip == 1),
        None => (false, false),
    };
    let literal = |text: &str| mysql_async::Value::from(text).as_sql(no_backslash_escapes);
    for host in hosts {
        if skip_name_resolve && is_host_name(&host) {
            // The server ignores such accounts (and ALTER USER fails on them): nobody can
            // log in through them while name resolution is off.
            tracing::debug!(%host, "skipping root account by host name: ignored under skip-name-resolve");
            continue;
        }
        let statement = format!(
            "ALTER USER {}@{} IDENTIFIED BY {}",
            literal("root"),
            literal(&host),
            literal(password)
        );
        conn.query_drop(statement)
            .await
            .map_err(sql_error("set the root password"))?;
    }
    conn.disconnect().await.map_err(sql_error("disconnect"))?;
    Ok(())
}

/// Whether an account's host part is a DNS name (as opposed to `localhost`, an IP address, or
/// a pattern with `%` / `_` / a netmask).
fn is_host_name(host: &str) -> bool {
    let literal = host.eq_ignore_ascii_case("localhost")
        || host.contains(['%', '_', '/'])
        || host.parse::<std::net::IpAddr>().is_ok();
    !literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_told_from_addresses_and_patterns() {
        for host in ["vm", "db1.example.com"] {
            assert!(is_host_name(host), "{host}");
        }
        for host in [
            "localhost",
            "127.0.0.1",
            "::1",
            "%",
            "10.0.%",
            "192.168.0.0/255.255.0.0",
        ] {
            assert!(!is_host_name(host), "{host}");
        }
    }
}
