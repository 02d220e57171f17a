//! The OS user a server process runs as.
//!
//! `mariadbd` refuses to run as root unless told `--user=root`. When ferry runs as root it can
//! instead start each server as an unprivileged user (a cluster's own uid, which needs no
//! passwd entry, or a named user such as Debian's `mysql`), so that a database account that
//! gains `SUPER` (MariaDB has no protected accounts) writes files as that user, not as root. The server's datadir, run directory and `secure_file_priv` directory must then
//! belong to that user, and every ancestor directory must let it pass.

use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::error::EngineError;

/// A user servers run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl OsUser {
    /// The user named `name`, or `None` if the system has no such user.
    pub fn lookup(name: &str) -> Result<Option<OsUser>, EngineError> {
        let c_name = CString::new(name).map_err(|_| EngineError::InvalidArgument {
            what: "OS user name",
            reason: format!("{name:?} contains a NUL byte"),
        })?;
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        // SAFETY: an all-zero passwd is a valid value to be overwritten by getpwnam_r.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; buf outlives it; getpwnam_r is
        // thread-safe and writes only into pwd and buf.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 {
            return Err(EngineError::InvalidArgument {
                what: "OS user name",
                reason: format!(
                    "looking up {name:?} failed: {}",
                    std::io::Error::from_raw_os_error(rc)
                ),
            });
        }
        if result.is_null() {
            return Ok(None);
        }
        Ok(Some(OsUser {
            name: name.to_string(),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        }))
    }

    /// Gives `path` (not following a symlink) to this user.
    pub fn chown(&self, path: &Path) -> Result<(), EngineError> {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            .map_err(EngineError::io("change the owner of", path))
    }

    /// Gives `root` and everything below it to this user.
    pub fn chown_tree(&self, root: &Path) -> Result<(), EngineError> {
        let meta = std::fs::symlink_metadata(root).map_err(EngineError::io("read", root))?;
        if meta.is_dir() {
            let mut stack = vec![root.to_path_buf()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).map_err(EngineError::io("list", &dir))? {
                    let entry = entry.map_err(EngineError::io("list", &dir))?;
                    let path = entry.path();
                    self.chown(&path)?;
                    ferry_base::fail_point!("engine.mid-hand-over");
                    if entry
                        .file_type()
                        .map_err(EngineError::io("read", &path))?
                        .is_dir()
                    {
                        stack.push(path);
                    }
                }
            }
        }
        // The root last: its owner says the whole tree was handed over, so a hand-over cut
        // short (ferry killed, an error) is done again rather than taken as complete.
        self.chown(root)
    }

    /// The first ancestor of `path` (or `path` itself) this user cannot pass through, if any.
    pub fn blocked_at(&self, path: &Path) -> Option<std::path::PathBuf> {
        for dir in path.ancestors() {
            let Ok(meta) = std::fs::metadata(dir) else {
                return Some(dir.to_path_buf());
            };
            let mode = meta.mode();
            let passes = if meta.uid() == self.uid {
                mode & 0o100 != 0
            } else if meta.gid() == self.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !passes {
                return Some(dir.to_path_buf());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_root_and_refuses_nonsense() {
        let root = OsUser::lookup("root").unwrap().expect("root exists");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(OsUser::lookup("no-such-user-ferry").unwrap(), None);
        assert!(OsUser::lookup("a\0b").is_err());
    }

    #[test]
    fn finds_the_directory_that_blocks() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let inner = tmp.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let nobody = OsUser {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
        };
        assert_eq!(nobody.blocked_at(&inner), Some(tmp.path().to_path_buf()));
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        // a and b are 0755 by the umask; / and /tmp let everyone pass.
        assert_eq!(nobody.blocked_at(&inner), None);
    }
}
