//! [`ChildGuard`]: owns a running child and guarantees it is stopped and reaped.
//!
//! Signals go to the child's whole process group (every child is spawned as a group leader),
//! so whatever the child forked goes with it. Dropping a guard whose child still runs sends
//! SIGTERM, waits up to the grace period, then SIGKILLs and reaps. That drop path blocks the
//! current thread while it waits (there is no `async` drop); it is the last-resort path for
//! errors and panics. Normal code calls [`ChildGuard::stop`] or [`ChildGuard::wait`].

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::drain::Capture;
use super::sys::{send_to_group, Signal};
use super::{Output, ProcessError};

/// How long to wait for the drains to hit EOF after the child exited. A grandchild that
/// inherited the pipes can keep them open forever; we stop listening after this.
const DRAIN_LINGER: Duration = Duration::from_secs(2);
/// After SIGKILL, how long the drop path waits for the kernel to let us reap the child.
const KILL_REAP_LIMIT: Duration = Duration::from_secs(5);

/// How a stopped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    pub status: ExitStatus,
    /// True when the child ignored SIGTERM for the whole grace period and was SIGKILLed.
    pub forced: bool,
}

pub(crate) struct Parts {
    pub name: String,
    pub pid: u32,
    pub child: tokio::process::Child,
    pub capture: Capture,
    pub drains: Vec<JoinHandle<()>>,
    pub log_path: Option<PathBuf>,
    pub stop_grace: Duration,
    pub started: Instant,
    pub lease: Option<PathBuf>,
}

/// A running (or finished but not yet dropped) child process. Dropping it while the child
/// runs terminates and reaps the child; see the module docs.
pub struct ChildGuard {
    name: String,
    pid: u32,
    child: tokio::process::Child,
    capture: Capture,
    drains: Vec<JoinHandle<()>>,
    log_path: Option<PathBuf>,
    stop_grace: Duration,
    started: Instant,
    /// The child's lease file, removed once the child is reaped and nothing holds it.
    lease: Option<PathBuf>,
    /// Set once the child has been reaped.
    status: Option<ExitStatus>,
}

impl ChildGuard {
    pub(crate) fn new(parts: Parts) -> Self {
        ChildGuard {
            name: parts.name,
            pid: parts.pid,
            child: parts.child,
            capture: parts.capture,
            drains: parts.drains,
            log_path: parts.log_path,
            stop_grace: parts.stop_grace,
            started: parts.started,
            lease: parts.lease,
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log_path(&self) -> Option<&Path> {
        self.log_path.as_deref()
    }

    /// Time since the child was started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The exit status if the child has exited (reaping it), `None` while it runs. Never
    /// blocks; call it every round of a readiness loop to notice an early exit.
    pub fn try_status(&mut self) -> Result<Option<ExitStatus>, ProcessError> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.status = Some(status);
                Ok(Some(status))
            }
            Ok(None) => Ok(None),
            Err(source) => Err(self.wait_error(source)),
        }
    }

    /// Waits for the child to exit, then for its output to be drained (bounded: a grandchild
    /// holding the pipes open does not keep us waiting). Cancel-safe.
    pub async fn wait(&mut self) -> Result<ExitStatus, ProcessError> {
        let status = match self.status {
            Some(status) => status,
            None => {
                let status = self
                    .child
                    .wait()
                    .await
                    .map_err(|source| self.wait_error(source))?;
                self.status = Some(status);
                status
            }
        };
        self.finish_drains().await;
        self.release_lease();
        Ok(status)
    }

    /// Graceful stop: SIGTERM, wait up to `grace`, then SIGKILL if the child still runs.
    /// Returns at once if the child already exited.
    pub async fn stop(&mut self, grace: Duration) -> Result<Stopped, ProcessError> {
        if let Some(status) = self.try_status()? {
            self.finish_drains().await;
            return Ok(Stopped {
                status,
                forced: false,
            });
        }
        self.signal(Signal::Term)?;
        match tokio::time::timeout(grace, self.wait()).await {
            Ok(status) => Ok(Stopped {
                status: status?,
                forced: false,
            }),
            Err(_elapsed) => {
                tracing::warn!(child = %self.name, pid = self.pid, grace_secs = grace.as_secs_f64(), "child ignored SIGTERM; killing it");
                let status = self.kill().await?;
                Ok(Stopped {
                    status,
                    forced: true,
                })
            }
        }
    }

    /// SIGKILL (the whole process group) and reap.
    pub async fn kill(&mut self) -> Result<ExitStatus, ProcessError> {
        if let Some(status) = self.try_status()? {
            self.finish_drains().await;
            return Ok(status);
        }
        self.signal(Signal::Kill)?;
        self.wait().await
    }

    /// Everything the drains captured so far, as an [`Output`] with the given status.
    pub(crate) fn output(&self, status: ExitStatus) -> Output {
        let snap = self.capture.snapshot();
        Output {
            pid: self.pid,
            status,
            stdout: snap.stdout,
            stdout_truncated: snap.stdout_truncated,
            stdout_tail: snap.stdout_tail,
            stderr_tail: snap.stderr_tail,
            log_path: self.log_path.clone(),
            elapsed: self.started.elapsed(),
        }
    }

    /// The last output lines worth quoting in an error: stderr, or stdout when stderr was
    /// silent.
    pub fn failure_tail(&self) -> String {
        let snap = self.capture.snapshot();
        if snap.stderr_tail.trim().is_empty() {
            snap.stdout_tail
        } else {
            snap.stderr_tail
        }
    }

    fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        if self.status.is_some() {
            return Ok(());
        }
        send_to_group(self.pid, signal).map_err(|source| ProcessError::Signal {
            name: self.name.clone(),
            pid: self.pid,
            signal: signal.name(),
            source,
        })
    }

    /// The lease file of this child's owner directory, while it exists.
    pub fn lease_path(&self) -> Option<&Path> {
        self.lease.as_deref()
    }

    /// Removes the lease once the child has been reaped (kept while a descendant holds it).
    fn release_lease(&mut self) {
        if self.status.is_none() {
            return;
        }
        if let Some(path) = self.lease.take() {
            super::lease::release(&path, &self.name, self.pid);
        }
    }

    fn wait_error(&self, source: std::io::Error) -> ProcessError {
        ProcessError::Wait {
            name: self.name.clone(),
            pid: self.pid,
            source,
        }
    }

    async fn finish_drains(&mut self) {
        let deadline = tokio::time::Instant::now() + DRAIN_LINGER;
        for handle in &mut self.drains {
            if tokio::time::timeout_at(deadline, &mut *handle)
                .await
                .is_err()
            {
                tracing::debug!(child = %self.name, pid = self.pid, "output pipe still open after exit (a grandchild holds it); no longer draining");
                handle.abort();
            }
        }
        self.drains.clear();
    }

    /// The blocking drop path: SIGTERM, poll for exit up to the grace period, SIGKILL, reap.
    fn terminate_blocking(&mut self) {
        tracing::warn!(child = %self.name, pid = self.pid, "child still running when its guard was dropped; terminating it");
        if let Err(error) = send_to_group(self.pid, Signal::Term) {
            tracing::warn!(child = %self.name, pid = self.pid, %error, "cannot send SIGTERM");
        }
        if self.poll_exit_blocking(self.stop_grace) {
            return;
        }
        tracing::warn!(child = %self.name, pid = self.pid, "child ignored SIGTERM; killing it");
        if let Err(error) = send_to_group(self.pid, Signal::Kill) {
            tracing::warn!(child = %self.name, pid = self.pid, %error, "cannot send SIGKILL");
        }
        if !self.poll_exit_blocking(KILL_REAP_LIMIT) {
            tracing::error!(child = %self.name, pid = self.pid, "child survived SIGKILL; it may be left running");
        }
    }

    /// Polls `try_wait` with short sleeps; true once the child is reaped.
    fn poll_exit_blocking(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut pause = Duration::from_millis(2);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    return true;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(child = %self.name, pid = self.pid, %error, "cannot poll child status");
                    return false;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let running = match self.status {
            Some(_) => false,
            None => match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    false
                }
                Ok(None) => true,
                // Cannot tell; try to stop it anyway.
                Err(_) => true,
            },
        };
        if running {
            self.terminate_blocking();
        }
        self.release_lease();
        for handle in &self.drains {
            handle.abort();
        }
    }
}
