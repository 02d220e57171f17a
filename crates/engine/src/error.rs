//! [`EngineError`]: everything that can go wrong finding, configuring, running or stopping the
//! database engine's programs, as variants a caller can branch on.
//!
//! Messages name the object (program, datadir, socket) and what is wrong; an underlying cause
//! is returned from `source()`, never repeated in the message. Print with the whole chain
//! (anyhow's `{:#}`) to see both.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use crate::process::{describe_tail, ProcessError};
use crate::toolbox::ToolKind;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Required programs were not found; the message lists them and how to install them.
    #[error("{}", missing_tools_message(missing, searched))]
    ToolsMissing {
        missing: Vec<ToolKind>,
        searched: Vec<PathBuf>,
    },

    /// An override variable (`FERRY_MARIADBD`, ...) points at something unusable.
    #[error("{var}={} does not name an executable file: {reason}", path.display())]
    ToolOverrideInvalid {
        var: &'static str,
        path: PathBuf,
        reason: String,
    },

    /// A program's `--version` output did not contain a version we understand.
    #[error("cannot read the version of {} from its --version output: {output:?}", path.display())]
    VersionUnrecognised { path: PathBuf, output: String },

    /// Running a version probe or another short helper failed.
    #[error("cannot run {}", path.display())]
    ToolRun {
        path: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },

    /// A caller-supplied argument is unusable (explained in `reason`).
    #[error("invalid {what}: {reason}")]
    InvalidArgument { what: &'static str, reason: String },

    /// A `ServerConfig` field is unusable.
    #[error("invalid server config: {field}: {reason}")]
    InvalidConfig { field: String, reason: String },

    /// A directory given as a backup does not look like one.
    #[error("{} is not a backup directory: {reason}", path.display())]
    NotABackup { path: PathBuf, reason: String },

    /// `mariabackup --prepare` (or xtrabackup) failed; the source carries the tool's output.
    #[error("preparing the backup in {} failed", target_dir.display())]
    PrepareFailed {
        target_dir: PathBuf,
        incremental_dir: Option<PathBuf>,
        #[source]
        source: Box<ProcessError>,
    },

    /// The datadir to initialise already has files in it.
    #[error("cannot initialise {}: the directory is not empty", datadir.display())]
    DatadirNotEmpty { datadir: PathBuf },

    /// `mariadb-install-db` failed; the source carries its output.
    #[error("initialising the datadir {} failed", datadir.display())]
    DatadirInitFailed {
        datadir: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },

    /// The server process could not be started at all.
    #[error("cannot start the server for {}", datadir.display())]
    ServerSpawn {
        datadir: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },

    /// The server exited before it accepted connections.
    #[error(
        "the server for {} exited during startup with {status}{}",
        datadir.display(),
        describe_tail(log_tail, Some(log_path))
    )]
    ServerExited {
        datadir: PathBuf,
        status: ExitStatus,
        log_tail: String,
        log_path: PathBuf,
    },

    /// The server did not answer `SELECT 1` in time; it has been stopped.
    #[error(
        "the server for {} was not ready after {}s (last probe error: {last_probe_error}){}",
        datadir.display(),
        after.as_secs_f64(),
        describe_tail(log_tail, Some(log_path))
    )]
    ServerStartTimeout {
        datadir: PathBuf,
        after: Duration,
        last_probe_error: String,
        log_tail: String,
        log_path: PathBuf,
    },

    /// The server is up but refused the readiness probe's login; it has been stopped.
    #[error("the server for {} is up but refused login for user {user:?}", datadir.display())]
    ProbeLoginRefused {
        datadir: PathBuf,
        user: String,
        #[source]
        source: mysql_async::Error,
    },

    /// Supervising the running server (signals, waiting) failed.
    #[error("supervising the server for {} failed", datadir.display())]
    ServerSupervision {
        datadir: PathBuf,
        #[source]
        source: Box<ProcessError>,
    },

    /// Connecting to a running server failed.
    #[error("cannot connect to the server at {endpoint} as {user:?}")]
    Connect {
        endpoint: String,
        user: String,
        #[source]
        source: mysql_async::Error,
    },

    /// A statement on a running server failed.
    #[error("SQL failed on the server at {endpoint} while trying to {action}")]
    Sql {
        endpoint: String,
        action: &'static str,
        #[source]
        source: mysql_async::Error,
    },

    /// A lease of a child left running by an earlier ferry is held, but no process holding it
    /// can be seen (another user's, or `/proc` unreadable); nothing was signalled.
    #[error(
        "{} is held by a process that cannot be identified; nothing was signalled",
        lease.display()
    )]
    LeftBehindUnidentified { lease: PathBuf },

    /// Signalling a process left running by an earlier ferry failed (other than it being gone).
    #[error("cannot send {signal} to {pid}, left running by an earlier ferry (lease {})", lease.display())]
    LeftBehindSignal {
        lease: PathBuf,
        pid: u32,
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A process left running by an earlier ferry still held its lease after SIGKILL (stuck
    /// in the kernel, e.g. on I/O).
    #[error("{name} (pid {pid}), left running by an earlier ferry, did not exit after SIGKILL (lease {})", lease.display())]
    LeftBehindSurvived {
        lease: PathBuf,
        name: String,
        pid: u32,
    },

    /// A file or directory operation failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A test's failpoint failed the step (only in builds with the `failpoints` feature).
    #[error(transparent)]
    Injected(#[from] ferry_base::failpoint::Injected),
}

impl EngineError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| EngineError::Io {
            action,
            path,
            source,
        }
    }

    /// The child's output tail or the server's error-log tail, when the error carries one.
    pub fn output_tail(&self) -> Option<&str> {
        match self {
            EngineError::ServerExited { log_tail, .. }
            | EngineError::ServerStartTimeout { log_tail, .. } => Some(log_tail),
            EngineError::PrepareFailed { source, .. }
            | EngineError::DatadirInitFailed { source, .. }
            | EngineError::ServerSpawn { source, .. }
            | EngineError::ServerSupervision { source, .. }
            | EngineError::ToolRun { source, .. } => source.tail(),
            EngineError::ToolsMissing { .. }
            | EngineError::ToolOverrideInvalid { .. }
            | EngineError::VersionUnrecognised { .. }
            | EngineError::InvalidArgument { .. }
            | EngineError::InvalidConfig { .. }
            | EngineError::NotABackup { .. }
            | EngineError::DatadirNotEmpty { .. }
            | EngineError::ProbeLoginRefused { .. }
            | EngineError::Connect { .. }
            | EngineError::Sql { .. }
            | EngineError::LeftBehindUnidentified { .. }
            | EngineError::LeftBehindSignal { .. }
            | EngineError::LeftBehindSurvived { .. }
            | EngineError::Io { .. }
            | EngineError::Injected(_) => None,
        }
    }
}

fn missing_tools_message(missing: &[ToolKind], searched: &[PathBuf]) -> String {
    let names: Vec<String> = missing.iter().map(|kind| kind.describe()).collect();
    let mut packages: Vec<&str> = Vec::new();
    for kind in missing {
        if !packages.contains(&kind.debian_package()) {
            packages.push(kind.debian_package());
        }
    }
    let dirs: Vec<String> = searched.iter().map(|d| d.display().to_string()).collect();
    format!(
        "missing database engine programs: {}. Searched {}. Install them (Debian/Ubuntu: \
         `apt-get install {}`) or point ferry at them with {}",
        names.join(", "),
        dirs.join(":"),
        packages.join(" "),
        missing
            .iter()
            .map(|kind| kind.env_var())
            .collect::<Vec<_>>()
            .join(", "),
    )
}
