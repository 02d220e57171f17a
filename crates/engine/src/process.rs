//! The one supervision path for every child process ferry runs: `mariadbd`, `mariabackup`,
//! `mariadb-install-db`, version probes, anything else.
//!
//! Why one module: a database server and a backup tool are long-lived, noisy children whose
//! failures must reach the user with their own words, and which must never outlive ferry by
//! accident. Getting that right once, here, is cheaper than getting it almost right in every
//! caller. What every child gets:
//!
//! * a **cleared environment** plus an allowlist ([`ENV_ALLOWLIST`]) and explicit extras, so a
//!   stray `MYSQL_PWD` or `LD_PRELOAD` in ferry's environment never changes a child's behaviour;
//! * its own **process group**, so signals reach whatever it forks (`mariadb-install-db` is a
//!   shell script that runs `mariadbd --bootstrap`) and a terminal's Ctrl-C reaches ferry, which
//!   decides what to stop;
//! * stdout and stderr **drained concurrently** into a log file and a bounded in-memory tail, so
//!   a noisy child never blocks on a full pipe and a failure can quote its last lines;
//! * a [`ChildGuard`] that terminates (SIGTERM, then SIGKILL after a grace period) and reaps the
//!   child if it is dropped while the child still runs;
//! * with an owner directory ([`ProcessSpec::owner_dir`]), a **lease** there that the child
//!   holds locked for as long as it (or anything it forked) lives, so a later ferry can find
//!   and stop what a ferry that was SIGKILLed left running: [`stop_left_behind`] (the
//!   mechanism is described in `process/lease.rs`).
//!
//! [`run_to_completion`] is the short path for tools that run and exit: a non-zero exit becomes
//! [`ProcessError::Failed`] carrying the output tail. Long-running children (servers) use
//! [`ProcessSpec::spawn`] and keep the [`ChildGuard`].
//!
//! Modelled on neon's `control_plane/src/background_process.rs` and ripgrep's
//! `crates/cli/src/process.rs`.

mod drain;
mod guard;
mod lease;
mod left_behind;
mod sys;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use drain::OutputStream;
pub use guard::{ChildGuard, Stopped};
pub use left_behind::{stop_left_behind, LeftBehind};

use crate::sandbox::SandboxSpec;

/// Variables copied from ferry's environment into every child (when set). Everything else is
/// cleared; add more per child with [`ProcessSpec::env`].
pub const ENV_ALLOWLIST: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// `PATH` given to a child when ferry itself has none.
const FALLBACK_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How many lines of each stream are kept in memory for error messages.
const DEFAULT_TAIL_LINES: usize = 40;

/// Upper bound on captured stdout ([`ProcessSpec::capture_stdout`]); past it, stdout is still
/// drained and logged but no longer kept.
const STDOUT_CAPTURE_LIMIT: usize = 1 << 20;

/// Grace period between SIGTERM and SIGKILL when a [`ChildGuard`] is dropped with its child
/// still running, or when [`run_to_completion`] times out.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);

/// Called with every line a child prints (without its newline), in order per stream.
pub type LineObserver = Arc<dyn Fn(OutputStream, &str) + Send + Sync>;

/// Errors from running a child process. Each names the child and, where it ran, its pid.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be executed (missing, not executable, bad working directory).
    #[error("cannot start {name} ({program})")]
    Spawn {
        name: String,
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The log file for the child's output could not be opened.
    #[error("cannot open log file {path} for {name}")]
    LogFile {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The child ran and exited unsuccessfully (non-zero code or killed by a signal).
    #[error("{name} (pid {pid}) failed with {status}{}", describe_tail(tail, log_path.as_deref()))]
    Failed {
        name: String,
        pid: u32,
        status: ExitStatus,
        /// The last lines the child printed (stderr, or stdout when stderr was silent).
        tail: String,
        log_path: Option<PathBuf>,
    },
    /// The child did not finish within its deadline and was stopped.
    #[error(
        "{name} (pid {pid}) did not finish within {}s and was stopped{}",
        after.as_secs_f64(),
        describe_tail(tail, log_path.as_deref())
    )]
    TimedOut {
        name: String,
        pid: u32,
        after: Duration,
        tail: String,
        log_path: Option<PathBuf>,
    },
    /// The lease file for the child could not be created in its owner directory.
    #[error("cannot create a lease for {name} in {}", dir.display())]
    Lease {
        name: String,
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the child's exit status failed.
    #[error("cannot wait for {name} (pid {pid})")]
    Wait {
        name: String,
        pid: u32,
        #[source]
        source: std::io::Error,
    },
    /// Sending a signal to the child failed for a reason other than it being gone already.
    #[error("cannot send {signal} to {name} (pid {pid})")]
    Signal {
        name: String,
        pid: u32,
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl ProcessError {
    /// The child's last output lines, when the error has them.
    pub fn tail(&self) -> Option<&str> {
        match self {
            ProcessError::Failed { tail, .. } | ProcessError::TimedOut { tail, .. } => Some(tail),
            ProcessError::Spawn { .. }
            | ProcessError::LogFile { .. }
            | ProcessError::Lease { .. }
            | ProcessError::Wait { .. }
            | ProcessError::Signal { .. } => None,
        }
    }
}

/// Renders "; last output:\n  ..." for error messages, or nothing when there is no output.
pub(crate) fn describe_tail(tail: &str, log_path: Option<&Path>) -> String {
    let mut out = String::new();
    let trimmed = tail.trim_end();
    if !trimmed.is_empty() {
        out.push_str("; last output:");
        for line in trimmed.lines() {
            out.push_str("\n  ");
            out.push_str(line);
        }
    }
    if let Some(path) = log_path {
        out.push_str(&format!("\n(full log: {})", path.display()));
    }
    out
}

/// What to run and how: program, arguments, working directory, environment extras, log file.
///
/// Built with chained setters, then [`spawn`](ProcessSpec::spawn)ed or passed to
/// [`run_to_completion`].
#[derive(Clone)]
pub struct ProcessSpec {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    current_dir: Option<PathBuf>,
    extra_env: Vec<(OsString, OsString)>,
    log_path: Option<PathBuf>,
    tail_lines: usize,
    capture_stdout: bool,
    observer: Option<LineObserver>,
    timeout: Option<Duration>,
    stop_grace: Duration,
    owner_dir: Option<PathBuf>,
    run_as: Option<(u32, u32)>,
    sandbox: Option<SandboxSpec>,
}

// Not derived: the line observer is a closure, and the program and arguments read better as
// the one command line they make.
impl fmt::Debug for ProcessSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessSpec")
            .field("name", &self.name)
            .field("command", &self.command_line())
            .field("current_dir", &self.current_dir)
            .field("log_path", &self.log_path)
            .field("owner_dir", &self.owner_dir)
            .field("timeout", &self.timeout)
            .field("run_as", &self.run_as)
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

impl ProcessSpec {
    /// A child running `program`. Its display name (in logs and errors) defaults to the
    /// program's file name.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        let program = program.into();
        let name = program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.display().to_string());
        ProcessSpec {
            name,
            program,
            args: Vec::new(),
            current_dir: None,
            extra_env: Vec::new(),
            log_path: None,
            tail_lines: DEFAULT_TAIL_LINES,
            capture_stdout: false,
            observer: None,
            timeout: None,
            stop_grace: DEFAULT_STOP_GRACE,
            owner_dir: None,
            run_as: None,
            sandbox: None,
        }
    }

    /// The name used in logs and errors, e.g. `"mariabackup --prepare"`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Working directory of the child (default: ferry's own).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// An environment variable on top of the [`ENV_ALLOWLIST`].
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.extra_env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Append the child's stdout and stderr (line-interleaved) to this file. Its directory
    /// must exist. Without a log file, output is only kept as a tail in memory.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_path = Some(path.into());
        self
    }

    /// How many trailing lines of each stream to keep for error messages (default 40).
    pub fn tail_lines(mut self, lines: usize) -> Self {
        self.tail_lines = lines.max(1);
        self
    }

    /// Keep stdout in memory (up to 1 MiB) for [`Output::stdout`], e.g. to parse `--version`.
    pub fn capture_stdout(mut self, capture: bool) -> Self {
        self.capture_stdout = capture;
        self
    }

    /// Call `observer` with every output line as it arrives, e.g. to pick a result line out of
    /// a tool's chatter without keeping all of it.
    pub fn on_line(
        mut self,
        observer: impl Fn(OutputStream, &str) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// For [`run_to_completion`]: stop the child (SIGTERM, then SIGKILL after the grace period)
    /// and fail with [`ProcessError::TimedOut`] when it runs longer than this.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Grace period between SIGTERM and SIGKILL when the guard is dropped or a timeout hits
    /// (default [`DEFAULT_STOP_GRACE`]).
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// The directory this child works for (a server's run directory, a restore's staging
    /// directory). The child gets a lease there, a locked file it inherits, so that should
    /// this ferry die without stopping it, [`stop_left_behind`]`(dir, ..)` finds and stops it.
    /// The directory must exist.
    pub fn owner_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.owner_dir = Some(dir.into());
        self
    }

    /// Run the child as `uid`:`gid` with no supplementary groups (switched in the child
    /// before `exec`; needs ferry to be root). The ids need no passwd entry.
    pub fn run_as(mut self, uid: u32, gid: u32) -> Self {
        self.run_as = Some((uid, gid));
        self
    }

    /// Confine the child (and everything it forks) to `sandbox`'s paths with Landlock, applied
    /// before `exec`. Where the kernel has no Landlock the child runs unconfined
    /// ([`crate::sandbox::support`] says so beforehand).
    pub fn sandbox(mut self, sandbox: SandboxSpec) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    pub fn display_name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> Option<&Path> {
        self.log_path.as_deref()
    }

    /// The command line as a person would type it (for logs; arguments quoted when needed).
    pub fn command_line(&self) -> String {
        let mut line = shell_quote(self.program.as_os_str());
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(arg));
        }
        line
    }

    /// Starts the child. Must be called from within a tokio runtime (the output drains are
    /// tokio tasks).
    pub fn spawn(self) -> Result<ChildGuard, ProcessError> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args).env_clear();
        for key in ENV_ALLOWLIST {
            if let Some(value) = std::env::var_os(key) {
                cmd.env(key, value);
            }
        }
        if std::env::var_os("PATH").is_none() {
            cmd.env("PATH", FALLBACK_PATH);
        }
        for (key, value) in &self.extra_env {
            cmd.env(key, value);
        }
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Last resort only: ChildGuard's Drop terminates and reaps first.
            .kill_on_drop(true)
            .process_group(0);

        let log = match &self.log_path {
            Some(path) => Some(open_log(path).map_err(|source| ProcessError::LogFile {
                name: self.name.clone(),
                path: path.clone(),
                source,
            })?),
            None => None,
        };

        let spawn_error = |source| ProcessError::Spawn {
            name: self.name.clone(),
            program: self.program.clone(),
            source,
        };
        // Built before the fork: the child only applies it.
        let prepared = match &self.sandbox {
            Some(sandbox) => sandbox.prepare().map_err(spawn_error)?,
            None => None,
        };
        let ruleset_fd = prepared.as_ref().map(crate::sandbox::Prepared::raw_fd);
        let run_as = self.run_as;
        if run_as.is_some() || ruleset_fd.is_some() {
            // SAFETY: the closure runs in the forked child before exec and only makes system
            // calls on plain integers (setgroups with an empty list, setgid, setuid, prctl,
            // landlock_restrict_self): async-signal-safe, no allocation, no locks. The
            // ruleset descriptor stays open in the parent (`prepared`) until the spawn
            // returns, so the child has it.
            unsafe {
                cmd.pre_exec(move || {
                    if let Some((uid, gid)) = run_as {
                        sys::switch_user(uid, gid)?;
                    }
                    if let Some(fd) = ruleset_fd {
                        crate::sandbox::Prepared::restrict_self(fd)?;
                    }
                    Ok(())
                });
            }
        }

        let pending_lease = match &self.owner_dir {
            Some(dir) => {
                let pending = lease::PendingLease::create(dir, &self.name).map_err(|source| {
                    ProcessError::Lease {
                        name: self.name.clone(),
                        dir: dir.clone(),
                        source,
                    }
                })?;
                let fd = pending.raw_fd();
                // SAFETY: the closure runs in the forked child before exec and only calls
                // fcntl(2) on a descriptor number (async-signal-safe, no allocation, no locks).
                // `fd` stays open in the parent until after the spawn returns, so the child
                // has it.
                unsafe {
                    cmd.pre_exec(move || sys::keep_open_across_exec(fd));
                }
                Some(pending)
            }
            None => None,
        };

        let command_line = self.command_line();
        let started = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(source) => {
                if let Some(pending) = pending_lease {
                    pending.abandon();
                }
                return Err(ProcessError::Spawn {
                    name: self.name.clone(),
                    program: self.program.clone(),
                    source,
                });
            }
        };
        let Some(pid) = child.id() else {
            // Only possible if the child was already reaped, which nothing did yet.
            if let Some(pending) = pending_lease {
                pending.abandon();
            }
            return Err(ProcessError::Spawn {
                name: self.name.clone(),
                program: self.program.clone(),
                source: std::io::Error::other("child has no pid right after spawn"),
            });
        };
        let lease = pending_lease.map(|pending| pending.hand_over(pid, &self.name));

        let mut log = log;
        if let Some(file) = log.as_mut() {
            // A marker so a log appended to by several runs reads well. A failed write here
            // is noticed by the drains' own writes.
            let _ = writeln!(file, "---- ferry: {command_line} (pid {pid}) ----");
        }
        let capture = drain::Capture::new(
            log.map(|file| (file, self.log_path.clone().unwrap_or_default())),
            self.tail_lines,
            self.capture_stdout.then_some(STDOUT_CAPTURE_LIMIT),
        );
        let mut drains = Vec::with_capacity(2);
        if let Some(stdout) = child.stdout.take() {
            drains.push(drain::spawn_drain(
                stdout,
                OutputStream::Stdout,
                capture.clone(),
                self.observer.clone(),
            ));
        }
        if let Some(stderr) = child.stderr.take() {
            drains.push(drain::spawn_drain(
                stderr,
                OutputStream::Stderr,
                capture.clone(),
                self.observer.clone(),
            ));
        }
        tracing::debug!(child = %self.name, pid, command = %command_line, "started child process");
        Ok(ChildGuard::new(guard::Parts {
            name: self.name,
            pid,
            child,
            capture,
            drains,
            log_path: self.log_path,
            stop_grace: self.stop_grace,
            started,
            lease,
        }))
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

fn shell_quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// What a child that ran to completion left behind.
#[derive(Debug, Clone)]
pub struct Output {
    pub pid: u32,
    pub status: ExitStatus,
    /// Everything the child wrote to stdout when [`ProcessSpec::capture_stdout`] was set
    /// (up to 1 MiB), else empty.
    pub stdout: Vec<u8>,
    /// True when stdout was captured but exceeded the capture limit.
    pub stdout_truncated: bool,
    /// The last lines of stdout.
    pub stdout_tail: String,
    /// The last lines of stderr.
    pub stderr_tail: String,
    pub log_path: Option<PathBuf>,
    pub elapsed: Duration,
}

impl Output {
    /// Captured stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs a child until it exits. A non-zero exit (or death by signal) is
/// [`ProcessError::Failed`] with the output tail; running past [`ProcessSpec::timeout`] stops
/// the child and returns [`ProcessError::TimedOut`]. If the returned future is dropped early,
/// the guard terminates and reaps the child.
pub async fn run_to_completion(spec: ProcessSpec) -> Result<Output, ProcessError> {
    let timeout = spec.timeout;
    let grace = spec.stop_grace;
    let mut guard = spec.spawn()?;
    let status = match timeout {
        None => guard.wait().await?,
        Some(limit) => match tokio::time::timeout(limit, guard.wait()).await {
            Ok(status) => status?,
            Err(_elapsed) => {
                guard.stop(grace).await?;
                return Err(ProcessError::TimedOut {
                    name: guard.name().to_owned(),
                    pid: guard.pid(),
                    after: limit,
                    tail: guard.failure_tail(),
                    log_path: guard.log_path().map(Path::to_path_buf),
                });
            }
        },
    };
    let output = guard.output(status);
    if !status.success() {
        return Err(ProcessError::Failed {
            name: guard.name().to_owned(),
            pid: output.pid,
            status,
            tail: guard.failure_tail(),
            log_path: output.log_path,
        });
    }
    Ok(output)
}

/// Reads at most the last `max_bytes` of a file, starting no earlier than `from_offset`,
/// dropping a partial first line. Used to quote log files a child writes itself (mariadbd's
/// error log). Returns an empty string when the file does not exist.
pub fn read_file_tail(path: &Path, from_offset: u64, max_bytes: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let start = from_offset.min(len).max(len.saturating_sub(max_bytes));
    // When cutting, read one byte more so we can tell whether `start` is a line start.
    let cut = start > from_offset;
    let read_from = if cut { start - 1 } else { start };
    file.seek(SeekFrom::Start(read_from))?;
    let mut bytes = Vec::new();
    file.take(len - read_from).read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if cut {
        // Drop the partial first line (or just the extra newline byte).
        match text.find('\n') {
            Some(newline) => {
                text.drain(..=newline);
            }
            None => text.clear(),
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes_only_what_needs_it() {
        let spec = ProcessSpec::new("/usr/bin/mariabackup")
            .arg("--prepare")
            .arg("--target-dir=/tmp/a b")
            .arg("it's");
        assert_eq!(
            spec.command_line(),
            r"/usr/bin/mariabackup --prepare '--target-dir=/tmp/a b' 'it'\''s'"
        );
        assert_eq!(spec.display_name(), "mariabackup");
    }

    #[test]
    fn tail_description_indents_lines_and_names_the_log() {
        let text = describe_tail("one\ntwo\n", Some(Path::new("/x/y.log")));
        assert_eq!(text, "; last output:\n  one\n  two\n(full log: /x/y.log)");
        assert_eq!(describe_tail("  \n", None), "");
    }

    #[test]
    fn file_tail_respects_offset_and_drops_partial_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("log");
        std::fs::write(&path, "old run\nline a\nline b\nline c\n").expect("write log");
        let all = read_file_tail(&path, 0, 1 << 20).expect("tail");
        assert_eq!(all, "old run\nline a\nline b\nline c\n");
        let since = read_file_tail(&path, 8, 1 << 20).expect("tail");
        assert_eq!(since, "line a\nline b\nline c\n");
        let short = read_file_tail(&path, 0, 10).expect("tail");
        assert_eq!(short, "line c\n");
        let aligned = read_file_tail(&path, 0, 14).expect("tail");
        assert_eq!(aligned, "line b\nline c\n");
        let missing = read_file_tail(&dir.path().join("nope"), 0, 100).expect("tail");
        assert_eq!(missing, "");
    }
}
