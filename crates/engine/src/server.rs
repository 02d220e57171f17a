//! Running one server process on a datadir: start it from a rendered `my.cnf`, wait until a
//! real connection answers `SELECT 1`, watch it, stop it.
//!
//! Startup fails fast: every probe round first checks whether the process already exited, and
//! then the error quotes this run's part of the error log. A start that does not become ready in
//! time stops the process and reports the last probe error with the log tail. Until
//! [`Server::start`] returns, the child is owned by a [`ChildGuard`], so any failure (or a
//! dropped future) stops it; afterwards [`RunningServer`] owns the guard, so dropping a running
//! server stops it too. Nothing here leaves an orphan `mariadbd` behind.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use camino::Utf8Path;
use ferry_base::Secret;
use mysql_async::prelude::Queryable;
use tokio::time::Instant;

use crate::config::{ServerConfig, CONFIG_FILE};
use crate::error::EngineError;
use crate::process::{read_file_tail, ChildGuard, ProcessSpec, Stopped};
use crate::toolbox::Toolbox;

/// Grace between SIGTERM and SIGKILL when a [`RunningServer`] (or a half-started one) is
/// dropped. InnoDB flushes dirty pages on shutdown, which can take a while on a big pool.
const DROP_GRACE: Duration = Duration::from_secs(30);
/// Grace given to a server that failed its readiness checks before it is SIGKILLed.
const FAILED_START_GRACE: Duration = Duration::from_secs(10);
/// One probe connection attempt may take at most this long.
const PROBE_ATTEMPT_LIMIT: Duration = Duration::from_secs(5);
const PROBE_PAUSE_FIRST: Duration = Duration::from_millis(20);
const PROBE_PAUSE_MAX: Duration = Duration::from_millis(250);
/// How much of the error log to quote in errors.
const LOG_TAIL_BYTES: u64 = 16 * 1024;
const LOG_TAIL_LINES: usize = 40;

/// MySQL error codes that mean "the server is up, but these credentials will never work".
const ER_DBACCESS_DENIED: u16 = 1044;
const ER_ACCESS_DENIED: u16 = 1045;
const ER_ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
/// `ER_ACCOUNT_HAS_BEEN_LOCKED`: the account exists but `ACCOUNT LOCK` refuses its logins.
const ER_ACCOUNT_HAS_BEEN_LOCKED: u16 = 4151;
/// `ER_MUST_CHANGE_PASSWORD_LOGIN`: the password expired and the client cannot change it.
const ER_MUST_CHANGE_PASSWORD_LOGIN: u16 = 1862;

/// How the readiness probe logs in. With `skip_grant_tables` any user works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyProbe {
    pub user: String,
    pub password: Option<Secret>,
}

impl ReadyProbe {
    /// `root` without a password: a datadir initialised by [`crate::datadir::init_datadir`],
    /// or any datadir started with `skip_grant_tables`.
    pub fn root() -> Self {
        ReadyProbe {
            user: "root".to_owned(),
            password: None,
        }
    }

    pub fn user(user: impl Into<String>, password: Option<Secret>) -> Self {
        ReadyProbe {
            user: user.into(),
            password,
        }
    }
}

/// Whether a running server's process is still alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStatus {
    Running,
    /// The process exited on its own (a crash, or someone else stopped it).
    Exited {
        status: ExitStatus,
        log_tail: String,
    },
}

/// Starts servers. A namespace for [`Server::start`].
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Writes `run_dir/my.cnf` from `cfg`, starts the server on it (`--user=root` when ferry
    /// runs as root) and waits until `probe` can log in over the unix socket and run
    /// `SELECT 1`, at most `timeout`. The server holds a lease in `run_dir` for as long as it
    /// runs: if this ferry dies without stopping it,
    /// [`stop_left_behind`](crate::process::stop_left_behind)`(run_dir, ..)` stops it.
    pub async fn start(
        tb: &Toolbox,
        cfg: &ServerConfig,
        run_dir: &Path,
        probe: ReadyProbe,
        timeout: Duration,
    ) -> Result<RunningServer, EngineError> {
        cfg.validate()?;
        let datadir = cfg.datadir.as_std_path().to_path_buf();
        match std::fs::metadata(&datadir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(EngineError::InvalidConfig {
                    field: "datadir".to_owned(),
                    reason: format!("{} is not a directory", cfg.datadir),
                })
            }
            Err(source) => {
                return Err(EngineError::Io {
                    action: "use the datadir",
                    path: datadir,
                    source,
                })
            }
        }
        std::fs::create_dir_all(run_dir)
            .map_err(EngineError::io("create the run directory", run_dir))?;
        std::fs::create_dir_all(&cfg.tmpdir).map_err(EngineError::io(
            "create the temporary directory",
            cfg.tmpdir.as_std_path(),
        ))?;
        for file in [&cfg.socket, &cfg.pid_file, &cfg.log_error] {
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(EngineError::io(
                    "create the directory",
                    parent.as_std_path(),
                ))?;
            }
        }
        let defaults_file = run_dir.join(CONFIG_FILE);
        write_atomically(&defaults_file, cfg.render().as_bytes())?;

        let log_path = cfg.log_error.as_std_path().to_path_buf();
        let log_offset = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let os_user = cfg.os_user.as_ref().filter(|_| crate::running_as_root());
        if let Some(user) = os_user {
            prepare_for_user(user, cfg, run_dir, &log_path)?;
        }

        let mut spec = ProcessSpec::new(tb.server())
            .arg(defaults_file_arg(&defaults_file))
            .current_dir(run_dir)
            // A server ferry could not stop (ferry was killed) is found through its run dir.
            .owner_dir(run_dir)
            .log_file(&log_path)
            .stop_grace(DROP_GRACE);
        if let Some(user) = os_user {
            // Switched to before exec rather than with `--user`, which needs a passwd entry:
            // a per-cluster uid has none.
            spec = spec.run_as(user.uid, user.gid);
        } else if crate::running_as_root() {
            spec = spec.arg("--user=root");
        }
        if let Some(sandbox) = &cfg.sandbox {
            spec = spec.sandbox(server_sandbox(sandbox.clone(), tb, cfg, run_dir));
        }
        let guard = spec.spawn().map_err(|source| EngineError::ServerSpawn {
            datadir: datadir.clone(),
            source: Box::new(source),
        })?;
        tracing::info!(datadir = %cfg.datadir, pid = guard.pid(), endpoint = %cfg.endpoint(), "starting server");

        let mut server = RunningServer {
            guard,
            config: cfg.clone(),
            defaults_file,
            log_offset,
        };
        server.wait_ready(&probe, timeout).await?;
        tracing::info!(datadir = %cfg.datadir, pid = server.pid(), elapsed_ms = server.guard.elapsed().as_millis() as u64, "server ready");
        Ok(server)
    }
}

/// Lets a server that will run as `user` use its run directory and log, and checks that it
/// owns its datadir and can reach it.
fn prepare_for_user(
    user: &crate::os_user::OsUser,
    cfg: &ServerConfig,
    run_dir: &Path,
    log_path: &Path,
) -> Result<(), EngineError> {
    use std::os::unix::fs::MetadataExt;
    let refuse = |reason: String| EngineError::InvalidConfig {
        field: "os_user".to_owned(),
        reason,
    };
    let datadir = cfg.datadir.as_std_path();
    let owner = std::fs::metadata(datadir)
        .map_err(EngineError::io("use the datadir", datadir))?
        .uid();
    if owner != user.uid {
        return Err(refuse(format!(
            "the datadir {} belongs to uid {owner}, not to {} (uid {}) that the server runs as",
            cfg.datadir, user.name, user.uid
        )));
    }
    for dir in [datadir, run_dir] {
        if let Some(blocked) = user.blocked_at(dir) {
            return Err(refuse(format!(
                "{} cannot reach {}: {} does not let it pass",
                user.name,
                dir.display(),
                blocked.display()
            )));
        }
    }
    user.chown(run_dir)?;
    user.chown(cfg.tmpdir.as_std_path())?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(EngineError::io("create the error log", log_path))?;
    user.chown(log_path)
}

/// `sandbox` plus what every server needs: its program's installation tree (readable), its
/// datadir, run dir, temporary directory and the directories of its socket, pid file and error
/// log (writable).
fn server_sandbox(
    mut sandbox: crate::sandbox::SandboxSpec,
    tb: &Toolbox,
    cfg: &ServerConfig,
    run_dir: &Path,
) -> crate::sandbox::SandboxSpec {
    let program = std::fs::canonicalize(tb.server()).unwrap_or_else(|_| tb.server().to_owned());
    // `<base>/sbin/mariadbd` or `<base>/bin/mysqld`: share/ and lib/plugin/ sit under <base>.
    if let Some(base) = program.parent().and_then(Path::parent) {
        sandbox = sandbox.read_exec(base);
    }
    sandbox = sandbox
        .read_write(cfg.datadir.as_std_path())
        .read_write(run_dir)
        .read_write(cfg.tmpdir.as_std_path());
    for file in [&cfg.socket, &cfg.pid_file, &cfg.log_error] {
        if let Some(parent) = file.parent() {
            sandbox = sandbox.read_write(parent.as_std_path());
        }
    }
    sandbox
}

fn defaults_file_arg(path: &Path) -> std::ffi::OsString {
    let mut arg = std::ffi::OsString::from("--defaults-file=");
    arg.push(path.as_os_str());
    arg
}

/// Writes `path` via a temporary sibling and a rename, so a reader never sees half a file.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), EngineError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, contents).map_err(EngineError::io("write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(EngineError::io("replace", path))
}

/// A server process that answered `SELECT 1`. Dropping it stops the process (SIGTERM, then
/// SIGKILL after 30 s, blocking the current thread meanwhile); call [`stop`](Self::stop) to do
/// that without blocking.
pub struct RunningServer {
    guard: ChildGuard,
    config: ServerConfig,
    defaults_file: PathBuf,
    log_offset: u64,
}

// Not derived: the child guard is a process handle and the whole config is long; the pid,
// datadir and endpoint say which server this is.
impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("pid", &self.guard.pid())
            .field("datadir", &self.config.datadir)
            .field("endpoint", &self.config.endpoint())
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    pub fn socket(&self) -> &Utf8Path {
        &self.config.socket
    }

    /// The TCP port (meaningless when the config has `skip_networking`).
    pub fn port(&self) -> u16 {
        self.config.port
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The `my.cnf` the server runs with. Its `[client]` section points at the socket, so
    /// `mariadb --defaults-file=<this>` connects to this server.
    pub fn defaults_file(&self) -> &Path {
        &self.defaults_file
    }

    /// Connection options for this server over its unix socket.
    pub fn opts(&self, user: &str, password: Option<&str>) -> mysql_async::OptsBuilder {
        mysql_async::OptsBuilder::default()
            .socket(Some(self.config.socket.as_str()))
            .user(Some(user))
            .pass(password)
    }

    /// Opens a connection over the unix socket.
    pub async fn connect(
        &self,
        user: &str,
        password: Option<&str>,
    ) -> Result<mysql_async::Conn, EngineError> {
        mysql_async::Conn::new(self.opts(user, password))
            .await
            .map_err(|source| EngineError::Connect {
                endpoint: self.config.socket.to_string(),
                user: user.to_owned(),
                source,
            })
    }

    /// Clean shutdown: SIGTERM, wait up to `timeout`, SIGKILL if the server hangs.
    /// [`Stopped::forced`] tells which happened.
    pub async fn stop(mut self, timeout: Duration) -> Result<Stopped, EngineError> {
        let stopped = self
            .guard
            .stop(timeout)
            .await
            .map_err(|source| self.supervision(source))?;
        if stopped.forced {
            tracing::warn!(datadir = %self.config.datadir, pid = self.pid(), "server did not shut down in time and was killed");
        } else if !stopped.status.success() {
            tracing::warn!(datadir = %self.config.datadir, pid = self.pid(), status = %stopped.status, "server exited unsuccessfully on shutdown");
        } else {
            tracing::info!(datadir = %self.config.datadir, pid = self.pid(), "server stopped");
        }
        Ok(stopped)
    }

    /// SIGKILL and reap, no shutdown (InnoDB recovers at the next start, like after a crash).
    pub async fn kill(mut self) -> Result<ExitStatus, EngineError> {
        self.guard
            .kill()
            .await
            .map_err(|source| self.supervision(source))
    }

    /// Non-blocking crash detection: whether the process is still alive.
    pub fn try_status(&mut self) -> Result<ServerStatus, EngineError> {
        match self
            .guard
            .try_status()
            .map_err(|source| self.supervision(source))?
        {
            None => Ok(ServerStatus::Running),
            Some(status) => Ok(ServerStatus::Exited {
                status,
                log_tail: self.log_tail(),
            }),
        }
    }

    /// The last lines of this run's error log (what the server wrote since ferry started it).
    pub fn log_tail(&self) -> String {
        match read_file_tail(
            self.config.log_error.as_std_path(),
            self.log_offset,
            LOG_TAIL_BYTES,
        ) {
            Ok(text) => last_lines(&text, LOG_TAIL_LINES),
            Err(error) => {
                let quoted = self.guard.failure_tail();
                format!("(cannot read {}: {error})\n{quoted}", self.config.log_error)
            }
        }
    }

    fn supervision(&self, source: crate::process::ProcessError) -> EngineError {
        EngineError::ServerSupervision {
            datadir: self.config.datadir.as_std_path().to_path_buf(),
            source: Box::new(source),
        }
    }

    /// The readiness loop. On any failure the server is stopped before returning.
    async fn wait_ready(
        &mut self,
        probe: &ReadyProbe,
        timeout: Duration,
    ) -> Result<(), EngineError> {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut pause = PROBE_PAUSE_FIRST;
        let mut last_error = String::from("no probe has run yet");
        loop {
            if let Some(status) = self
                .guard
                .try_status()
                .map_err(|source| self.supervision(source))?
            {
                // Let the drains flush whatever the process printed before we quote the log.
                let _ = self.guard.wait().await;
                return Err(EngineError::ServerExited {
                    datadir: self.config.datadir.as_std_path().to_path_buf(),
                    status,
                    log_tail: self.log_tail(),
                    log_path: self.config.log_error.as_std_path().to_path_buf(),
                });
            }
            let now = Instant::now();
            if now >= deadline {
                self.stop_failed_start().await;
                return Err(EngineError::ServerStartTimeout {
                    datadir: self.config.datadir.as_std_path().to_path_buf(),
                    after: timeout,
                    last_probe_error: last_error,
                    log_tail: self.log_tail(),
                    log_path: self.config.log_error.as_std_path().to_path_buf(),
                });
            }
            if self.config.socket.as_std_path().exists() {
                let limit = PROBE_ATTEMPT_LIMIT.min(deadline - now);
                match tokio::time::timeout(limit, self.probe_once(probe)).await {
                    Ok(Ok(())) => return Ok(()),
                    Ok(Err(error)) if is_login_refused(&error) => {
                        self.stop_failed_start().await;
                        return Err(EngineError::ProbeLoginRefused {
                            datadir: self.config.datadir.as_std_path().to_path_buf(),
                            user: probe.user.clone(),
                            source: error,
                        });
                    }
                    Ok(Err(error)) => last_error = error.to_string(),
                    Err(_elapsed) => {
                        last_error = format!(
                            "connection attempt took longer than {}s",
                            limit.as_secs_f64()
                        )
                    }
                }
            } else {
                last_error = format!("socket {} does not exist yet", self.config.socket);
            }
            let now = Instant::now();
            tokio::time::sleep(pause.min(deadline.saturating_duration_since(now))).await;
            pause = (pause * 2).min(PROBE_PAUSE_MAX);
        }
    }

    /// One login + `SELECT 1`. Also checks that the server answering is ours: a stale server
    /// on the same socket path must not pass for this one (ours then exits, and we report it).
    async fn probe_once(&self, probe: &ReadyProbe) -> Result<(), mysql_async::Error> {
        let mut conn = mysql_async::Conn::new(
            self.opts(&probe.user, probe.password.as_ref().map(Secret::expose)),
        )
        .await?;
        let row: Option<(i64, String)> = conn.query_first("SELECT 1, @@datadir").await?;
        conn.disconnect().await?;
        match row {
            Some((1, datadir))
                if same_dir(Path::new(&datadir), self.config.datadir.as_std_path()) =>
            {
                Ok(())
            }
            Some((1, datadir)) => Err(mysql_async::Error::Other(
                format!(
                    "a different server (datadir {datadir}) answers on {}",
                    self.config.socket
                )
                .into(),
            )),
            other => Err(mysql_async::Error::Other(
                format!("SELECT 1 returned {other:?}").into(),
            )),
        }
    }

    async fn stop_failed_start(&mut self) {
        if let Err(error) = self.guard.stop(FAILED_START_GRACE).await {
            // The guard's drop will try again; nothing better to do here.
            tracing::warn!(datadir = %self.config.datadir, %error, "cannot stop a server that failed to start");
        }
    }
}

/// Whether a failed login means the server refused the account (wrong password, no such
/// account, locked, expired, an auth plugin the client lacks), as opposed to a server that is
/// not there or not ready. The one such list: the ready probe and the guardian both use it.
pub fn is_login_refused(error: &mysql_async::Error) -> bool {
    match error {
        mysql_async::Error::Server(server) => matches!(
            server.code,
            ER_ACCESS_DENIED
                | ER_ACCESS_DENIED_NO_PASSWORD
                | ER_DBACCESS_DENIED
                | ER_ACCOUNT_HAS_BEEN_LOCKED
                | ER_MUST_CHANGE_PASSWORD_LOGIN
        ),
        mysql_async::Error::Driver(mysql_async::DriverError::UnknownAuthPlugin { .. }) => true,
        _ => false,
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.components().eq(b.components()),
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(count);
    let mut out = lines[start..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(last_lines("a", 5), "a\n");
        assert_eq!(last_lines("", 5), "");
    }

    #[test]
    fn access_denied_is_definitive_but_connection_refused_is_not() {
        let denied = mysql_async::Error::Server(mysql_async::ServerError {
            code: ER_ACCESS_DENIED,
            message: "Access denied".to_owned(),
            state: "28000".to_owned(),
        });
        assert!(is_login_refused(&denied));
        let refused = mysql_async::Error::Io(mysql_async::IoError::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(!is_login_refused(&refused));
    }
}
