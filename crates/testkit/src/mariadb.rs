//! [`TestServer`]: a throwaway MariaDB server for integration tests, set up the way ferry's
//! control plane sets up its own (a fresh datadir, ferry's admin account created by
//! `ferry_engine::bootstrap_admin`, started and stopped through `ferry_engine::Server`).
//!
//! Small and fast: 32 MiB buffer pool, 8 MiB redo log, no fsync per commit. Everything lives
//! in a short temp dir under `/tmp` (unix socket paths are limited to 107 bytes) that is
//! removed, with the server stopped first, when the value is dropped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use camino::{Utf8Path, Utf8PathBuf};
use ferry_engine::{
    bootstrap_admin, init_datadir, AdminAccount, BinlogConfig, BinlogFormat, InitOptions,
    ReadyProbe, RunningServer, Server, ServerConfig, Toolbox,
};
use mysql_async::prelude::Queryable as _;

use crate::fixtures::{free_port, short_tempdir};

const BUFFER_POOL: u64 = 32 << 20;
const REDO_LOG: u64 = 8 << 20;
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// The binary log's base name (`mysql-bin.000001`, ...).
pub const BINLOG_BASENAME: &str = "mysql-bin";

/// How to run a [`TestServer`].
#[derive(Debug, Clone)]
pub struct TestServerOptions {
    pub server_id: u32,
    /// Binary log on, `ROW` format, base name [`BINLOG_BASENAME`].
    pub binlog: bool,
    pub gtid_strict: bool,
    /// Do not start replication threads at startup (as ferry runs cluster servers).
    pub skip_replica_start: bool,
    /// Further `[mysqld]` options, e.g. `("ssl-ca", path)` or `("performance-schema", "ON")`.
    pub extra: Vec<(String, String)>,
}

impl Default for TestServerOptions {
    fn default() -> Self {
        TestServerOptions {
            server_id: 1,
            binlog: false,
            gtid_strict: false,
            skip_replica_start: true,
            extra: Vec::new(),
        }
    }
}

impl TestServerOptions {
    /// A server with the binary log on (`ROW`) and this server id: a replication source, or
    /// a replica whose own binlog a test inspects.
    pub fn with_binlog(server_id: u32) -> Self {
        TestServerOptions {
            server_id,
            binlog: true,
            ..TestServerOptions::default()
        }
    }

    /// Adds a `[mysqld]` option (an empty value is a bare flag).
    pub fn option(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extra.push((name.to_owned(), value.into()));
        self
    }
}

/// A running (or stopped, between [`TestServer::stop`] and [`TestServer::start_again`]) test
/// server with ferry's admin account. Dropping it stops the server and removes its files.
pub struct TestServer {
    // Field order matters: the server is stopped before its directory is removed.
    server: Option<RunningServer>,
    config: ServerConfig,
    admin: AdminAccount,
    toolbox: Toolbox,
    run_dir: PathBuf,
    root: tempfile::TempDir,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("datadir", &self.config.datadir)
            .field("port", &self.config.port)
            .field("running", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Initialises a datadir, starts the server on a free port and creates ferry's admin
    /// account (`ferry_admin@localhost`) with `bootstrap_admin`.
    pub async fn start(options: TestServerOptions) -> anyhow::Result<TestServer> {
        let toolbox = Toolbox::discover()
            .await
            .context("find the MariaDB tools (scripts/install-deps installs them)")?;
        let root = short_tempdir();
        let datadir = root.path().join("data");
        let run_dir = root.path().join("run");
        std::fs::create_dir_all(&run_dir).context("create the run dir")?;
        // The bootstrap server's temporary tables go to a private directory, not the shared
        // /tmp (where another process may clear them mid-bootstrap).
        let init_tmp = root.path().join("init-tmp");
        std::fs::create_dir_all(&init_tmp).context("create the bootstrap's tmpdir")?;
        init_datadir(
            &toolbox,
            &datadir,
            &InitOptions {
                log_path: Some(root.path().join("init.log")),
                server_args: vec![
                    format!("--tmpdir={}", init_tmp.display()),
                    format!("--innodb-log-file-size={REDO_LOG}"),
                    format!("--innodb-buffer-pool-size={BUFFER_POOL}"),
                ],
                ..InitOptions::default()
            },
        )
        .await
        .context("initialise the test datadir")?;

        let mut config = ServerConfig::new(utf8(&datadir)?, &utf8(&run_dir)?, free_port());
        config.buffer_pool_bytes = BUFFER_POOL;
        config.redo_log_bytes = Some(REDO_LOG);
        config.max_connections = 50;
        config.server_id = options.server_id;
        config.gtid_strict = options.gtid_strict;
        config.skip_replica_start = options.skip_replica_start;
        config.binlog = options.binlog.then(|| BinlogConfig {
            basename: BINLOG_BASENAME.to_owned(),
            format: BinlogFormat::Row,
        });
        config.extra = vec![("innodb-flush-log-at-trx-commit".to_owned(), "2".to_owned())];
        config.extra.extend(options.extra);

        // A fresh datadir has root@localhost without a password: log in as root once to
        // create the admin, then let the engine give it exactly what ferry's admin has.
        let server = Server::start(
            &toolbox,
            &config,
            &run_dir,
            ReadyProbe::root(),
            START_TIMEOUT,
        )
        .await
        .context("start the test server")?;
        let admin = AdminAccount::generate();
        let mut root_conn = server
            .connect("root", None)
            .await
            .context("connect as root")?;
        root_conn
            .query_drop(format!(
                "CREATE USER '{}'@'localhost' IDENTIFIED BY '{}'",
                admin.user,
                admin.password.expose()
            ))
            .await
            .context("create the admin account")?;
        root_conn
            .query_drop(format!(
                "GRANT ALL PRIVILEGES ON *.* TO '{}'@'localhost' WITH GRANT OPTION",
                admin.user
            ))
            .await
            .context("grant the admin account")?;
        root_conn.disconnect().await.context("disconnect root")?;
        bootstrap_admin(&server, &admin)
            .await
            .context("set up the admin account")?;
        Ok(TestServer {
            server: Some(server),
            config,
            admin,
            toolbox,
            run_dir,
            root,
        })
    }

    /// ferry's admin account on this server.
    pub fn admin(&self) -> &AdminAccount {
        &self.admin
    }

    /// The running server. Panics if it is stopped (a test bug).
    pub fn running(&self) -> &RunningServer {
        self.server
            .as_ref()
            .expect("the test server is running (call start_again after stop)")
    }

    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The TCP port on 127.0.0.1 (the same across restarts).
    pub fn port(&self) -> u16 {
        self.config.port
    }

    pub fn socket(&self) -> &Utf8Path {
        &self.config.socket
    }

    pub fn datadir(&self) -> &Utf8Path {
        &self.config.datadir
    }

    /// A path inside the server's temp dir (for files a test adds: certificates, ...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// A connection as ferry's admin over the unix socket.
    pub async fn admin_conn(&self) -> anyhow::Result<mysql_async::Conn> {
        self.admin
            .connect(self.running())
            .await
            .context("connect as ferry's admin")
    }

    /// Options for a TCP connection to 127.0.0.1 as `user` (never the socket).
    pub fn tcp_opts(&self, user: &str, password: &str) -> mysql_async::OptsBuilder {
        mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.config.port)
            .prefer_socket(false)
            .user(Some(user))
            .pass(Some(password))
    }

    /// A TCP connection as `user`.
    pub async fn tcp_conn(&self, user: &str, password: &str) -> anyhow::Result<mysql_async::Conn> {
        mysql_async::Conn::new(self.tcp_opts(user, password))
            .await
            .with_context(|| format!("connect to 127.0.0.1:{} as {user}", self.config.port))
    }

    /// Stops the server cleanly (it keeps its datadir and port).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let Some(server) = self.server.take() else {
            bail!("the test server is already stopped");
        };
        server
            .stop(STOP_TIMEOUT)
            .await
            .context("stop the test server")?;
        Ok(())
    }

    /// Kills the server (SIGKILL, no shutdown: InnoDB recovers at the next start).
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        let Some(server) = self.server.take() else {
            bail!("the test server is already stopped");
        };
        server.kill().await.context("kill the test server")?;
        Ok(())
    }

    /// Starts the server again on the same datadir, port and options.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        if self.server.is_some() {
            bail!("the test server is already running");
        }
        let server = Server::start(
            &self.toolbox,
            &self.config,
            &self.run_dir,
            ReadyProbe::from(&self.admin),
            START_TIMEOUT,
        )
        .await
        .context("restart the test server")?;
        self.server = Some(server);
        Ok(())
    }

    /// [`stop`](Self::stop) then [`start_again`](Self::start_again).
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.start_again().await
    }

    /// The end of this run's error log, for assertion messages.
    pub fn log_tail(&self) -> String {
        match &self.server {
            Some(server) => server.log_tail(),
            None => std::fs::read_to_string(&self.config.log_error)
                .map(|text| {
                    let lines: Vec<&str> = text.lines().collect();
                    lines[lines.len().saturating_sub(40)..].join("\n")
                })
                .unwrap_or_default(),
        }
    }
}

fn utf8(path: &Path) -> anyhow::Result<Utf8PathBuf> {
    Utf8PathBuf::from_path_buf(path.to_path_buf())
        .map_err(|path| anyhow::anyhow!("{} is not UTF-8", path.display()))
}
