//! The operating-system calls the process module needs beyond `std`: signals, `/proc` reads,
//! and keeping a descriptor open across `exec`. Every `unsafe` block of the module lives here.
//!
//! Linux only: process identity comes from `/proc/<pid>/stat` (its process group, field 5, and
//! its start time in clock ticks since boot, field 22). A pid can be reused once its process
//! is gone; the pair (pid, start time) cannot, so it is checked before a bare pid is signalled.

use std::os::fd::RawFd;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Term,
    Kill,
}

impl Signal {
    fn number(self) -> libc::c_int {
        match self {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Kill => "SIGKILL",
        }
    }
}

/// What `/proc/<pid>/stat` says about a process that ferry needs to identify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// The process group (field 5).
    pub pgrp: u32,
    /// Clock ticks after boot at which the process started (field 22).
    pub start_time: u64,
    /// True for a zombie (exited, not yet reaped): it holds no files any more.
    pub zombie: bool,
}

/// Reads `/proc/<pid>/stat`; `Ok(None)` when no such process exists.
pub(crate) fn proc_stat(pid: u32) -> std::io::Result<Option<ProcStat>> {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => parse_stat(&text)
            .map(Some)
            .ok_or_else(|| std::io::Error::other(format!("unparsable /proc/{pid}/stat"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // ESRCH: the process vanished between open and read.
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Parses a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may
/// itself contain spaces and parentheses, so fields are counted after the last `)`.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3 (the state), so field N is `fields[N - 3]`.
    let state = *fields.first()?;
    let pgrp = fields.get(5 - 3)?.parse().ok()?;
    let start_time = fields.get(22 - 3)?.parse().ok()?;
    Some(ProcStat {
        pgrp,
        start_time,
        zombie: state == "Z",
    })
}

/// Every process (other than this one) with an open descriptor on the file identified by
/// `(dev, ino)`. Processes whose descriptors this user may not read are skipped.
pub(crate) fn holders_of(dev: u64, ino: u64) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut holders = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            // `metadata` follows the magic link to the open file itself.
            std::fs::metadata(fd.path()).is_ok_and(|m| m.dev() == dev && m.ino() == ino)
        });
        if holds {
            holders.push(pid);
        }
    }
    holders
}

/// The result of a signal to something that may be gone already.
fn signal_result(rc: libc::c_int) -> std::io::Result<()> {
    if rc == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(error)
    }
}

/// Refuses ids that would reach everything (`-1`), the caller's own group (`0`), init, or
/// ferry itself.
fn checked_id(id: u32, own: u32) -> std::io::Result<libc::pid_t> {
    match libc::pid_t::try_from(id) {
        Ok(value) if value > 1 && id != own => Ok(value),
        _ => Err(std::io::Error::other(format!("refusing to signal {id}"))),
    }
}

/// Sends `signal` to the process group `pgid`. A group that is already gone is not an error.
pub(crate) fn send_to_group(pgid: u32, signal: Signal) -> std::io::Result<()> {
    // SAFETY: getpgrp(2) takes no arguments, cannot fail and touches no memory of ours.
    let own_group = unsafe { libc::getpgrp() };
    let pgid = checked_id(pgid, own_group.unsigned_abs())?;
    // SAFETY: kill(2) has no memory-safety preconditions. `-pgid` names exactly one process
    // group, never ours and never "all processes" (checked above); callers pass the group of a
    // child they spawned as a group leader, or one whose member holds that child's lease.
    signal_result(unsafe { libc::kill(-pgid, signal.number()) })
}

/// Sends `signal` to the single process `pid` if it is still the process that started at
/// `start_time`. Returns false (and sends nothing) when it is not: gone, or its pid reused.
pub(crate) fn send_to_process(pid: u32, start_time: u64, signal: Signal) -> std::io::Result<bool> {
    let target = checked_id(pid, std::process::id())?;
    match proc_stat(pid)? {
        Some(stat) if stat.start_time == start_time => {}
        Some(_) | None => return Ok(false),
    }
    // SAFETY: kill(2) has no memory-safety preconditions. `pid` is a single process (> 1, not
    // ferry) whose start time was checked a moment ago, so a reused pid is not signalled.
    signal_result(unsafe { libc::kill(target, signal.number()) })?;
    Ok(true)
}

/// Clears `FD_CLOEXEC` on `fd` so it survives `exec`. Called in a forked child before `exec`,
/// so it uses nothing but `fcntl` (async-signal-safe, no allocation).
pub(crate) fn keep_open_across_exec(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl(2) with F_GETFD only reads the descriptor flags of `fd`; an invalid `fd`
    // is reported as EBADF, not undefined behaviour.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above; F_SETFD only changes this process's descriptor flags for `fd`.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Drops every supplementary group and switches to `gid` then `uid` (in that order: after
/// setuid the process may no longer change its group). Called in a forked child before `exec`:
/// three system calls, no allocation.
pub(crate) fn switch_user(uid: u32, gid: u32) -> std::io::Result<()> {
    // SAFETY: setgroups(0, NULL) reads no memory (an empty list) and only changes this
    // process's credentials.
    if unsafe { libc::setgroups(0, std::ptr::null()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: setgid(2) and setuid(2) take plain ids and only change this process's
    // credentials; a failure is reported through errno.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::setuid(uid) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The `(dev, ino)` pair that identifies the file at `path` (following symlinks).
pub(crate) fn file_id(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (my (odd) name) S 1 4240 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 \
                    1 0 987654 12345 67 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0";
        assert_eq!(
            parse_stat(line),
            Some(ProcStat {
                pgrp: 4240,
                start_time: 987654,
                zombie: false
            })
        );
        let zombie = line.replace(") S ", ") Z ");
        assert!(parse_stat(&zombie).expect("parses").zombie);
        assert_eq!(parse_stat("4242 (cut) S 1 2"), None);
    }

    #[test]
    fn our_own_process_reads_back() {
        let me = proc_stat(std::process::id())
            .expect("read /proc/self")
            .expect("exists");
        assert!(me.start_time > 0);
        assert!(!me.zombie);
        assert_eq!(proc_stat(u32::MAX).expect("no error"), None);
    }

    #[test]
    fn refuses_to_signal_everything_init_or_ourselves() {
        for id in [0, 1, u32::MAX, std::process::id()] {
            assert!(
                checked_id(id, std::process::id()).is_err(),
                "{id} must be refused"
            );
        }
    }
}
