//! A Landlock filesystem sandbox for a child process, applied between `fork` and `exec`.
//!
//! Why: a database server whose tenant gains `SUPER` or `FILE` can make it write or read any
//! path its OS user may (`SET GLOBAL general_log_file`, `SELECT ... INTO OUTFILE`,
//! `LOAD_FILE()`). MariaDB's grants and `secure_file_priv` are the tenant's to change, so the
//! kernel draws the line instead: a [`SandboxSpec`] lists the trees the child may read and
//! execute (the system's programs and libraries) and the trees it may also write (its own
//! cluster's directory); every other path is refused with `EACCES`, whatever the process's
//! uid. With Landlock ABI 6 or later the child is also *scoped*: it cannot signal a process,
//! nor connect to an abstract unix socket, outside its own Landlock domain.
//!
//! How: [`SandboxSpec::prepare`] builds the ruleset (opens every path, one
//! `landlock_add_rule` each) in the parent, before `fork`; the forked child only calls
//! `prctl(PR_SET_NO_NEW_PRIVS)` and `landlock_restrict_self` on the ready descriptor
//! ([`Prepared::restrict_self`]), both async-signal-safe. The restriction is inherited by
//! everything the child forks and cannot be lifted.
//!
//! Where the kernel has no Landlock (older than 5.13, or disabled), [`support`] says so and
//! [`SandboxSpec::prepare`] returns `None`: the child runs without the sandbox, and the caller
//! reports that once (ferry logs a warning at start and records an event).
//!
//! Network access (TCP bind/connect, Landlock ABI 4) is not restricted: a server must accept
//! clients and reach a replication source.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

// The kernel's uapi (`include/uapi/linux/landlock.h`); the libc crate has the syscall numbers
// but not these.
const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

const ACCESS_FS_EXECUTE: u64 = 1 << 0;
const ACCESS_FS_WRITE_FILE: u64 = 1 << 1;
const ACCESS_FS_READ_FILE: u64 = 1 << 2;
const ACCESS_FS_READ_DIR: u64 = 1 << 3;
/// ABI 3.
const ACCESS_FS_TRUNCATE: u64 = 1 << 14;
/// ABI 5.
const ACCESS_FS_IOCTL_DEV: u64 = 1 << 15;
/// The rights that apply to a file (a rule on a non-directory may only carry these).
const ACCESS_FILE: u64 = ACCESS_FS_EXECUTE
    | ACCESS_FS_WRITE_FILE
    | ACCESS_FS_READ_FILE
    | ACCESS_FS_TRUNCATE
    | ACCESS_FS_IOCTL_DEV;
const ACCESS_READ_EXEC: u64 = ACCESS_FS_EXECUTE | ACCESS_FS_READ_FILE | ACCESS_FS_READ_DIR;

const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// Every filesystem right Landlock knows at `abi` (each ABI adds one).
fn handled_fs(abi: u32) -> u64 {
    match abi {
        0 => 0,
        1 => (1 << 13) - 1,
        2 => (1 << 14) - 1,
        3 | 4 => (1 << 15) - 1,
        _ => (1 << 16) - 1,
    }
}

/// What this kernel's Landlock can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Filesystem rules, signal and abstract-socket scoping (ABI 6 or later).
    Full { abi: u32 },
    /// Filesystem rules only: a sandboxed child can still signal processes its uid may.
    FilesystemOnly { abi: u32 },
    /// No Landlock: children run unsandboxed.
    Unavailable { reason: String },
}

impl Support {
    pub fn abi(&self) -> Option<u32> {
        match self {
            Support::Full { abi } | Support::FilesystemOnly { abi } => Some(*abi),
            Support::Unavailable { .. } => None,
        }
    }
}

/// Asks the kernel which Landlock ABI it offers.
pub fn support() -> Support {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) reads no memory
    // and returns the ABI version (or -1 with errno); it creates no descriptor.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if rc < 0 {
        let error = std::io::Error::last_os_error();
        let reason = match error.raw_os_error() {
            Some(libc::ENOSYS) => "the kernel has no Landlock (Linux 5.13 or later needed)".into(),
            Some(libc::EOPNOTSUPP) => "Landlock is disabled at boot (lsm= list)".into(),
            _ => format!("Landlock is unusable: {error}"),
        };
        return Support::Unavailable { reason };
    }
    let abi = u32::try_from(rc).unwrap_or(0);
    if abi >= 6 {
        Support::Full { abi }
    } else {
        Support::FilesystemOnly { abi }
    }
}

/// The paths a sandboxed child may use. Paths that do not exist are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxSpec {
    read_exec: Vec<PathBuf>,
    read_write: Vec<PathBuf>,
    /// Read and write, but only on files (device nodes such as `/dev/null`).
    devices: Vec<PathBuf>,
}

/// System trees a dynamically linked program reads: its libraries, configuration, locale and
/// time zone data, `/proc` and `/sys` (CPU and memory figures). Files there that the child's
/// uid may not read (`/etc/shadow`) stay unreadable: Landlock only ever removes rights.
pub const SYSTEM_READ_EXEC: &[&str] = &[
    "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys",
];

/// Device nodes any program may open.
pub const SYSTEM_DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];

impl SandboxSpec {
    /// Nothing allowed yet.
    pub fn new() -> Self {
        SandboxSpec::default()
    }

    /// [`SYSTEM_READ_EXEC`] readable and executable, [`SYSTEM_DEVICES`] usable, nothing
    /// writable.
    pub fn system() -> Self {
        let mut spec = SandboxSpec::new();
        spec.read_exec = SYSTEM_READ_EXEC.iter().map(PathBuf::from).collect();
        spec.devices = SYSTEM_DEVICES.iter().map(PathBuf::from).collect();
        spec
    }

    /// Lets the child read and execute `path` and everything below it.
    pub fn read_exec(mut self, path: impl Into<PathBuf>) -> Self {
        self.read_exec.push(path.into());
        self
    }

    /// Lets the child do anything (create, write, rename, remove) in `path` and below.
    pub fn read_write(mut self, path: impl Into<PathBuf>) -> Self {
        self.read_write.push(path.into());
        self
    }

    pub fn read_write_paths(&self) -> &[PathBuf] {
        &self.read_write
    }

    /// Builds the ruleset for this kernel, or `None` when it has no Landlock. Call before
    /// `fork`; the child then calls [`Prepared::restrict_self`].
    pub fn prepare(&self) -> std::io::Result<Option<Prepared>> {
        let Some(abi) = support().abi() else {
            return Ok(None);
        };
        let handled = handled_fs(abi);
        let attr = RulesetAttr {
            handled_access_fs: handled,
            handled_access_net: 0,
            scoped: if abi >= 6 {
                SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET
            } else {
                0
            },
        };
        // Older kernels know a shorter attribute (without `scoped`); they refuse a longer one
        // only when its extra bytes are not zero, so the full size works everywhere.
        // SAFETY: `attr` is a valid landlock_ruleset_attr for the duration of the call and the
        // size passed is its size; the call returns a new descriptor (O_CLOEXEC) or -1.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &attr as *const RulesetAttr,
                std::mem::size_of::<RulesetAttr>(),
                0u32,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = RawFd::try_from(fd).map_err(|_| std::io::Error::other("ruleset fd range"))?;
        // SAFETY: the kernel just returned `fd` as a new descriptor that nothing else owns.
        let ruleset = unsafe { OwnedFd::from_raw_fd(fd) };
        let rules = [
            (&self.read_exec, ACCESS_READ_EXEC),
            (&self.read_write, handled),
            (&self.devices, ACCESS_FS_READ_FILE | ACCESS_FS_WRITE_FILE),
        ];
        for (paths, access) in rules {
            for path in paths {
                add_path_rule(&ruleset, path, access & handled)?;
            }
        }
        Ok(Some(Prepared { ruleset }))
    }
}

/// Allows `access` beneath `path` (only its file rights when `path` is not a directory).
/// A path that does not exist is skipped.
fn add_path_rule(ruleset: &OwnedFd, path: &Path, access: u64) -> std::io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other(format!("{} contains a NUL byte", path.display())))?;
    // SAFETY: `c_path` is a valid NUL-terminated string for the call; O_PATH opens no file
    // content and the returned descriptor (or -1) is owned below.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        let error = std::io::Error::last_os_error();
        if error.kind() == std::io::ErrorKind::NotFound {
            return Ok(());
        }
        return Err(std::io::Error::new(
            error.kind(),
            format!("open {} for the sandbox: {error}", path.display()),
        ));
    }
    // SAFETY: `fd` was just returned by open(2) and nothing else owns it.
    let file = unsafe { OwnedFd::from_raw_fd(fd) };
    let is_dir = std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false);
    let allowed = if is_dir { access } else { access & ACCESS_FILE };
    let attr = PathBeneathAttr {
        allowed_access: allowed,
        parent_fd: file.as_raw_fd(),
    };
    // SAFETY: `attr` is a valid landlock_path_beneath_attr for the call and both descriptors
    // are open; the call only adds a rule to the ruleset.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            RULE_PATH_BENEATH,
            &attr as *const PathBeneathAttr,
            0u32,
        )
    };
    if rc < 0 {
        let error = std::io::Error::last_os_error();
        return Err(std::io::Error::new(
            error.kind(),
            format!("add {} to the sandbox: {error}", path.display()),
        ));
    }
    Ok(())
}

/// A ruleset ready to be applied in a forked child.
#[derive(Debug)]
pub struct Prepared {
    ruleset: OwnedFd,
}

impl Prepared {
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.ruleset.as_raw_fd()
    }

    /// Restricts the calling process (and what it forks or execs later) to the ruleset
    /// `fd`. Async-signal-safe: two system calls, no allocation. Sets `no_new_privs`, which
    /// Landlock requires of an unprivileged caller and which keeps a set-uid program run by
    /// the child from gaining rights.
    pub(crate) fn restrict_self(fd: RawFd) -> std::io::Result<()> {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) only sets a flag on this process.
        let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: landlock_restrict_self(fd, 0) reads no memory of ours; `fd` is the ruleset
        // the parent built and kept open across the fork.
        let rc = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_abi_handles_more_rights() {
        assert_eq!(handled_fs(1) & ACCESS_FS_TRUNCATE, 0);
        assert_ne!(handled_fs(3) & ACCESS_FS_TRUNCATE, 0);
        assert_eq!(handled_fs(4) & ACCESS_FS_IOCTL_DEV, 0);
        assert_ne!(handled_fs(7) & ACCESS_FS_IOCTL_DEV, 0);
        assert_eq!(std::mem::size_of::<PathBeneathAttr>(), 12);
    }

    #[test]
    fn this_kernel_answers() {
        // Either answer is fine; asking must not fail or crash.
        let _ = support();
    }
}
