//! [`stop_left_behind`]: stop what an earlier ferry started for a directory and could not stop
//! itself (it was SIGKILLed, or the machine's OOM killer chose it). Its children run in their
//! own process groups, so they outlive it; a new ferry must not let a second server or tool
//! work on the same files.
//!
//! Identity comes from the children's leases ([`super::lease`]), never from a command line:
//!
//! 1. A lease whose lock can be taken is **stale** (every holder is gone): it is removed and
//!    nothing is signalled, whatever pid it names.
//! 2. A held lease names its child's pid, process group and start time. If that pid is alive
//!    with the same start time and group, the group is the child's: it is signalled.
//! 3. Otherwise (the child exited but a descendant holds the lease, or the record was never
//!    written) the processes holding the lease open are looked up in `/proc/<pid>/fd`. A
//!    holder in the recorded group, or leading its own group, gets its group signalled;
//!    any other holder is signalled alone, after its start time is checked again.
//!
//! Signals are SIGTERM, then SIGKILL once the grace period is over (at once for a zero grace);
//! "stopped" means the lease's lock is free, i.e. no process holds it any more.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use super::lease::{self, Record};
use super::sys::{self, Signal};
use crate::error::EngineError;

/// How long a held lease may have no complete record before the holders are looked up by
/// descriptor instead (the spawner writes it right after the spawn).
const RECORD_WAIT: Duration = Duration::from_secs(1);
/// After SIGKILL, how long to wait for the holders to be gone.
const KILL_WAIT: Duration = Duration::from_secs(10);
const POLL_FIRST: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(100);

/// Something ferry had left running in a directory, and how it was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftBehind {
    /// The lease file it held (removed now).
    pub lease: PathBuf,
    /// The child's display name when it was started, e.g. `mariadbd`, `mariabackup --prepare`.
    pub name: String,
    /// The pid ferry started (it may have exited before its descendants).
    pub pid: u32,
    /// The child's process group, signalled as a whole.
    pub pgid: u32,
    /// True when it outlived the grace period and was SIGKILLed (or the grace was zero).
    pub forced: bool,
}

/// Stops every process an earlier ferry left running for `dir` (children spawned with
/// [`ProcessSpec::owner_dir`](super::ProcessSpec::owner_dir)`(dir)`, e.g. the server of a run
/// directory or the backup tool working in a staging directory) and removes their leases,
/// stale ones included. Returns what was stopped; nothing when `dir` does not exist.
///
/// Each is sent SIGTERM (to its whole process group), given `grace` to exit, then SIGKILLed;
/// with a zero `grace` it is SIGKILLed at once. Returns when every lease in `dir` is free.
/// Only `dir` itself is searched, not its subdirectories. Call it before starting anything new
/// in `dir`; it does not stop children of this ferry that are still supervised (their lease is
/// held as well), so never call it on a directory this ferry is using.
pub async fn stop_left_behind(dir: &Path, grace: Duration) -> Result<Vec<LeftBehind>, EngineError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(EngineError::Io {
                action: "read",
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut leases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(EngineError::io("read", dir))?;
        if entry.file_name().to_str().is_some_and(lease::is_lease_name) {
            leases.push(entry.path());
        }
    }
    leases.sort();
    let mut stopped = Vec::new();
    for path in leases {
        if let Some(found) = stop_one(&path, grace).await? {
            stopped.push(found);
        }
    }
    Ok(stopped)
}

/// Whether a lease is free (then it has been removed) or still held.
enum LockState {
    Free,
    Held,
}

/// Tries the lease's lock; a free lease is removed while the lock is ours.
fn check_lock(path: &Path) -> Result<LockState, EngineError> {
    let file = match File::open(path) {
        Ok(file) => file,
        // Removed meanwhile (its child's guard released it): nothing holds it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LockState::Free),
        Err(source) => {
            return Err(EngineError::Io {
                action: "open the lease",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    match file.try_lock() {
        Ok(()) => {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(EngineError::Io {
                        action: "remove the lease",
                        path: path.to_path_buf(),
                        source,
                    })
                }
            }
            Ok(LockState::Free)
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(LockState::Held),
        Err(std::fs::TryLockError::Error(source)) => Err(EngineError::Io {
            action: "lock the lease",
            path: path.to_path_buf(),
            source,
        }),
    }
    // `file` closes here: while we look for holders and signal them, this process holds no
    // descriptor on the lease.
}

async fn stop_one(path: &Path, grace: Duration) -> Result<Option<LeftBehind>, EngineError> {
    if let LockState::Free = check_lock(path)? {
        tracing::debug!(lease = %path.display(), "removed a stale lease (nothing holds it)");
        return Ok(None);
    }
    let Some(file_id) = lease_id(path)? else {
        return Ok(None);
    };
    let record = read_record(path).await?;
    let name = record
        .as_ref()
        .map_or_else(|| "unknown child".to_owned(), |r| r.name.clone());

    let mut forced = grace.is_zero();
    let first = if forced { Signal::Kill } else { Signal::Term };
    let targets = identify(record.as_ref(), file_id)?;
    if targets.is_empty() {
        // The last holder may have exited since the lock was tried.
        if let LockState::Free = check_lock(path)? {
            return Ok(None);
        }
        return Err(EngineError::LeftBehindUnidentified {
            lease: path.to_path_buf(),
        });
    }
    let (pid, pgid) = describe(&targets, record.as_ref());
    tracing::warn!(lease = %path.display(), child = %name, pid, pgid, signal = first.name(), "stopping a process left running by an earlier ferry");
    send(&targets, first, path)?;
    if !forced {
        if wait_free(path, grace).await? {
            return Ok(Some(LeftBehind {
                lease: path.to_path_buf(),
                name,
                pid,
                pgid,
                forced: false,
            }));
        }
        forced = true;
        tracing::warn!(lease = %path.display(), child = %name, pid, grace_secs = grace.as_secs_f64(), "it ignored SIGTERM; killing it");
        // Look again: the leader may be gone while a descendant still holds the lease.
        let targets = identify(record.as_ref(), file_id)?;
        send(&targets, Signal::Kill, path)?;
    }
    if !wait_free(path, KILL_WAIT).await? {
        return Err(EngineError::LeftBehindSurvived {
            lease: path.to_path_buf(),
            name,
            pid,
        });
    }
    Ok(Some(LeftBehind {
        lease: path.to_path_buf(),
        name,
        pid,
        pgid,
        forced,
    }))
}

/// `(dev, ino)` of the lease, `None` if it vanished (its holders are then gone).
fn lease_id(path: &Path) -> Result<Option<(u64, u64)>, EngineError> {
    match sys::file_id(path) {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EngineError::Io {
            action: "read the lease",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The lease's record, waiting briefly for one being written. `None` if it stays incomplete.
async fn read_record(path: &Path) -> Result<Option<Record>, EngineError> {
    let deadline = Instant::now() + RECORD_WAIT;
    let mut pause = POLL_FIRST;
    loop {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                if let Some(record) = Record::parse(&text) {
                    return Ok(Some(record));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(EngineError::Io {
                    action: "read the lease",
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        if Instant::now() >= deadline {
            tracing::warn!(lease = %path.display(), "held lease has no complete record; finding its holders by descriptor");
            return Ok(None);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_MAX);
    }
}

/// What to signal for one lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A whole process group, known to be the child's (its leader, or a member holding the
    /// lease, was just seen alive).
    Group(u32),
    /// One process holding the lease outside the child's group, by pid and start time.
    Process { pid: u32, start_time: u64 },
}

fn identify(record: Option<&Record>, (dev, ino): (u64, u64)) -> Result<Vec<Target>, EngineError> {
    let stat = |pid| {
        sys::proc_stat(pid).map_err(|source| EngineError::Io {
            action: "read",
            path: PathBuf::from(format!("/proc/{pid}/stat")),
            source,
        })
    };
    if let Some(r) = record {
        if let (Some(start), Some(now)) = (r.start_time, stat(r.pid)?) {
            if now.start_time == start && now.pgrp == r.pgid && !now.zombie {
                return Ok(vec![Target::Group(r.pgid)]);
            }
        }
    }
    let mut targets = Vec::new();
    for holder in sys::holders_of(dev, ino) {
        let Some(now) = stat(holder)? else {
            continue;
        };
        let target = if now.pgrp == holder || record.is_some_and(|r| r.pgid == now.pgrp) {
            Target::Group(now.pgrp)
        } else {
            Target::Process {
                pid: holder,
                start_time: now.start_time,
            }
        };
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    Ok(targets)
}

/// `(pid, pgid)` to report: the record's when its group is among the targets (the record
/// is true), else the first target's (the record named a pid that is not ours any more).
fn describe(targets: &[Target], record: Option<&Record>) -> (u32, u32) {
    if let Some(r) = record.filter(|r| targets.contains(&Target::Group(r.pgid))) {
        return (r.pid, r.pgid);
    }
    match targets.first() {
        Some(Target::Group(group)) => (*group, *group),
        Some(Target::Process { pid, .. }) => (*pid, 0),
        None => (0, 0),
    }
}

fn send(targets: &[Target], signal: Signal, lease: &Path) -> Result<(), EngineError> {
    for target in targets {
        let (pid, result) = match *target {
            Target::Group(pgid) => (pgid, sys::send_to_group(pgid, signal)),
            Target::Process { pid, start_time } => {
                (pid, sys::send_to_process(pid, start_time, signal).map(drop))
            }
        };
        result.map_err(|source| EngineError::LeftBehindSignal {
            lease: lease.to_path_buf(),
            pid,
            signal: signal.name(),
            source,
        })?;
    }
    Ok(())
}

/// Polls the lease's lock until it is free (then the lease is removed), at most `limit`.
async fn wait_free(path: &Path, limit: Duration) -> Result<bool, EngineError> {
    let deadline = Instant::now() + limit;
    let mut pause = POLL_FIRST;
    loop {
        if let LockState::Free = check_lock(path)? {
            return Ok(true);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(POLL_MAX);
    }
}
