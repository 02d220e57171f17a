//! Leases: how a child process stays findable after the ferry that started it is gone.
//!
//! A child spawned with an owner directory ([`ProcessSpec::owner_dir`](super::ProcessSpec::owner_dir))
//! gets a lease file there, `ferry-<name>-<random>.lease`. Before the spawn, ferry creates it
//! and takes an exclusive `flock` on it; the child inherits that open descriptor across `exec`
//! (its `FD_CLOEXEC` flag is cleared in the forked child only), and so does everything the
//! child forks. After the spawn ferry writes the child's identity into the file and closes its
//! own copy. From then on the lock is held exactly as long as the child or a descendant that
//! kept the descriptor lives: the kernel releases a `flock` when the last descriptor on it
//! closes, whether the holder exited, crashed or was killed, and no lock survives a reboot.
//!
//! The record is a few `key=value` lines:
//!
//! ```text
//! pid=4242
//! pgid=4242
//! start_time=987654
//! name=mariadbd
//! ```
//!
//! `start_time` is field 22 of `/proc/<pid>/stat`, so a reused pid is told apart from the child.
//! Checked with the real programs (MariaDB 10.11): `mariadbd` (also as `--user=` another user),
//! `mariabackup --prepare`, and `mariadb-install-db` with the `mariadbd --bootstrap` it runs
//! keep the inherited descriptor open for their whole life.
//!
//! When the child has been reaped, its guard removes the lease if nothing holds it any more; a
//! lease still held then (a descendant lives on) is left for
//! [`stop_left_behind`](super::stop_left_behind).

use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use super::sys;

/// Lease files are `ferry-<name>-<random>.lease` directly in their owner directory.
pub(crate) const LEASE_PREFIX: &str = "ferry-";
pub(crate) const LEASE_SUFFIX: &str = ".lease";

/// How many characters of the child's name go into the file name.
const NAME_IN_FILE: usize = 32;

/// A lease created and locked by ferry, not yet handed to a child.
pub(crate) struct PendingLease {
    path: PathBuf,
    file: File,
}

impl PendingLease {
    /// Creates a new lease file in `dir` for a child called `name`, locked.
    pub(crate) fn create(dir: &Path, name: &str) -> std::io::Result<PendingLease> {
        let path = dir.join(format!(
            "{LEASE_PREFIX}{}-{:016x}{LEASE_SUFFIX}",
            file_slug(name),
            rand::random::<u64>()
        ));
        // `File` descriptors are close-on-exec: other children spawned meanwhile never
        // inherit this one. Only our child does, through `keep_open_across_exec`.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        if let Err(error) = file.try_lock() {
            let _ = std::fs::remove_file(&path);
            return Err(std::io::Error::from(error));
        }
        Ok(PendingLease { path, file })
    }

    /// The descriptor the child must keep across `exec`.
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Records the spawned child in the lease and closes ferry's copy of it: from now on only
    /// the child (and what it forks) holds the lock. Returns the lease's path. A record that
    /// cannot be written is logged, not fatal: the child runs, and its lease is still found
    /// (by the processes holding it) if ferry dies.
    pub(crate) fn hand_over(mut self, pid: u32, name: &str) -> PathBuf {
        // The child has not been reaped, so its /proc entry exists even if it already exited.
        let start_time = match sys::proc_stat(pid) {
            Ok(stat) => stat.map(|stat| stat.start_time),
            Err(error) => {
                tracing::warn!(child = name, pid, %error, "cannot read the child's start time for its lease");
                None
            }
        };
        let record = Record {
            pid,
            // Every child is spawned as the leader of its own group.
            pgid: pid,
            start_time,
            name: name.to_owned(),
        };
        if let Err(error) = self.file.write_all(record.render().as_bytes()) {
            tracing::warn!(child = name, pid, lease = %self.path.display(), %error, "cannot write the child's lease");
        }
        self.path
        // `self.file` closes here; the lock stays with the child's descriptor.
    }

    /// The spawn failed: remove the lease (still ours alone).
    pub(crate) fn abandon(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes a lease whose child has been reaped, unless something still holds it.
pub(crate) fn release(path: &Path, child: &str, pid: u32) {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(error) => {
            tracing::warn!(child, pid, lease = %path.display(), %error, "cannot open the child's lease");
            return;
        }
    };
    match file.try_lock() {
        Ok(()) => {
            if let Err(error) = std::fs::remove_file(path) {
                tracing::warn!(child, pid, lease = %path.display(), %error, "cannot remove the child's lease");
            }
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            tracing::warn!(child, pid, lease = %path.display(), "the child exited but a process it started still holds its lease; left for stop_left_behind");
        }
        Err(std::fs::TryLockError::Error(error)) => {
            tracing::warn!(child, pid, lease = %path.display(), %error, "cannot lock the child's lease");
        }
    }
}

/// A lease's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub pid: u32,
    pub pgid: u32,
    /// `None` when ferry could not read it at spawn (then holders are found by descriptor).
    pub start_time: Option<u64>,
    pub name: String,
}

impl Record {
    fn render(&self) -> String {
        let mut text = format!("pid={}\npgid={}\n", self.pid, self.pgid);
        if let Some(start) = self.start_time {
            text.push_str(&format!("start_time={start}\n"));
        }
        let name: String = self.name.chars().filter(|c| !c.is_control()).collect();
        text.push_str(&format!("name={name}\n"));
        text
    }

    /// `None` for an empty or incomplete record (e.g. still being written).
    pub(crate) fn parse(text: &str) -> Option<Record> {
        let (mut pid, mut pgid, mut start_time, mut name) = (None, None, None, None);
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", value)) => pid = value.parse().ok(),
                Some(("pgid", value)) => pgid = value.parse().ok(),
                Some(("start_time", value)) => start_time = value.parse().ok(),
                Some(("name", value)) => name = Some(value.to_owned()),
                _ => {}
            }
        }
        // `name` is written last: without it the record is not complete yet.
        Some(Record {
            pid: pid?,
            pgid: pgid?,
            start_time,
            name: name?,
        })
    }
}

/// Whether a directory entry's name is a lease's.
pub(crate) fn is_lease_name(name: &str) -> bool {
    name.starts_with(LEASE_PREFIX) && name.ends_with(LEASE_SUFFIX)
}

/// `"mariabackup --prepare"` -> `"mariabackup-prepare"`: letters, digits and single dashes.
fn file_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= NAME_IN_FILE {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "child".to_owned()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_partial_ones_are_refused() {
        let record = Record {
            pid: 4242,
            pgid: 4242,
            start_time: Some(987654),
            name: "mariabackup --prepare".to_owned(),
        };
        let text = record.render();
        assert_eq!(Record::parse(&text), Some(record.clone()));
        let cut = &text[..text.find("name=").expect("has a name")];
        assert_eq!(Record::parse(cut), None);
        assert_eq!(Record::parse(""), None);
        let no_start = Record {
            start_time: None,
            ..record
        };
        assert_eq!(Record::parse(&no_start.render()), Some(no_start));
    }

    #[test]
    fn file_names_are_tame() {
        assert_eq!(file_slug("mariabackup --prepare"), "mariabackup-prepare");
        assert_eq!(file_slug("mariadbd"), "mariadbd");
        assert_eq!(file_slug("  ../x y/ "), "x-y");
        assert_eq!(file_slug("///"), "child");
        assert!(file_slug(&"a".repeat(100)).len() <= NAME_IN_FILE);
        assert!(is_lease_name("ferry-mariadbd-00ff.lease"));
        assert!(!is_lease_name("mariadbd.pid"));
    }

    #[test]
    fn a_lease_is_created_locked_and_released_when_free() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pending = PendingLease::create(dir.path(), "sh").expect("create");
        let path = pending.path.clone();
        let other = File::open(&path).expect("open");
        assert!(
            matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "locked while pending"
        );
        let path = pending.hand_over(std::process::id(), "sh");
        let text = std::fs::read_to_string(&path).expect("read");
        let record = Record::parse(&text).expect("complete record");
        assert_eq!(record.pid, std::process::id());
        assert!(record.start_time.is_some());
        // No child inherited it here, so closing ferry's copy freed it.
        release(&path, "sh", 1);
        assert!(!path.exists());
    }
}
