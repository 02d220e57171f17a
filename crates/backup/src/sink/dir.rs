//! [`DirSink`]: writes unpacked members under a directory, safely.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{Sink, SinkError, SinkStats};
use crate::path::SafePath;

/// Default bound on files held open at once (xbstream `--parallel` interleaves a few).
const DEFAULT_MAX_OPEN: usize = 64;

#[derive(Debug)]
struct Member {
    /// `None` when closed to respect the open-file bound; reopened on the next write.
    file: Option<File>,
    /// (device, inode) of the file we created, checked on reopen.
    identity: (u64, u64),
    last_use: u64,
}

/// Writes members as files under a root directory.
///
/// * Files are created with `O_CREAT|O_EXCL`: an existing file (from another run, or planted)
///   is never overwritten, and a symbolic link is never followed, neither as the file nor as a
///   parent directory (parents are created one level at a time and checked).
/// * A path finished once and written again is an error.
/// * At most `max_open_files` are open at once; the least recently used is closed and
///   reopened (and checked to be the same inode) when written again.
/// * Holes (sparse chunks, `finish_file` beyond the data) are left as file-system holes.
#[derive(Debug)]
pub struct DirSink {
    root: PathBuf,
    members: HashMap<SafePath, Member>,
    finished: HashSet<SafePath>,
    dirs_checked: HashSet<String>,
    open_files: usize,
    max_open_files: usize,
    clock: u64,
    stats: SinkStats,
}

fn io_err(op: &'static str, path: &Path, error: io::Error) -> SinkError {
    SinkError::Io {
        op,
        path: path.to_path_buf(),
        error,
    }
}

impl DirSink {
    /// A sink writing under `root`, which is created if missing.
    pub fn new(root: &Path) -> Result<DirSink, SinkError> {
        fs::create_dir_all(root).map_err(|e| io_err("create directory", root, e))?;
        let meta = fs::metadata(root).map_err(|e| io_err("inspect", root, e))?;
        if !meta.is_dir() {
            return Err(SinkError::NotADirectory {
                path: root.to_path_buf(),
            });
        }
        Ok(DirSink {
            root: root.to_path_buf(),
            members: HashMap::new(),
            finished: HashSet::new(),
            dirs_checked: HashSet::new(),
            open_files: 0,
            max_open_files: DEFAULT_MAX_OPEN,
            clock: 0,
            stats: SinkStats::default(),
        })
    }

    /// Changes the bound on simultaneously open files (at least 1).
    pub fn with_max_open_files(mut self, max: usize) -> DirSink {
        self.max_open_files = max.max(1);
        self
    }

    /// The directory written to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Files finished and bytes written so far.
    pub fn stats(&self) -> SinkStats {
        self.stats
    }

    /// Checks that every file that was started was also finished, and closes everything.
    pub fn finish(self) -> Result<SinkStats, SinkError> {
        if !self.members.is_empty() {
            let mut paths: Vec<SafePath> = self.members.into_keys().collect();
            paths.sort();
            return Err(SinkError::Unfinished { paths });
        }
        Ok(self.stats)
    }

    /// Makes sure `rel` (a `/`-separated relative directory) exists under the root as a real
    /// directory, creating missing levels one at a time.
    fn ensure_dir(&mut self, rel: &str) -> Result<(), SinkError> {
        if rel.is_empty() || self.dirs_checked.contains(rel) {
            return Ok(());
        }
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.ensure_dir(parent)?;
        }
        let path = self.root.join(rel);
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io_err("create directory", &path, e)),
                }
                fs::symlink_metadata(&path).map_err(|e| io_err("inspect", &path, e))?
            }
            Err(e) => return Err(io_err("inspect", &path, e)),
        };
        if meta.file_type().is_symlink() {
            return Err(SinkError::Symlink { path });
        }
        if !meta.is_dir() {
            return Err(SinkError::NotADirectory { path });
        }
        self.dirs_checked.insert(rel.to_string());
        Ok(())
    }

    fn ensure_parent(&mut self, path: &SafePath) -> Result<(), SinkError> {
        match path.as_str().rsplit_once('/') {
            Some((parent, _)) => self.ensure_dir(parent),
            None => Ok(()),
        }
    }

    /// Closes the least recently used open file if the bound is reached.
    fn make_room(&mut self) {
        while self.open_files >= self.max_open_files {
            let victim = self
                .members
                .values_mut()
                .filter(|m| m.file.is_some())
                .min_by_key(|m| m.last_use);
            match victim {
                Some(m) => {
                    m.file = None;
                    self.open_files -= 1;
                }
                None => break,
            }
        }
    }

    fn create(&mut self, path: &SafePath) -> Result<(), SinkError> {
        self.ensure_parent(path)?;
        self.make_room();
        let full = path.to_path_under(&self.root);
        let file = match OpenOptions::new().write(true).create_new(true).open(&full) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let is_link = fs::symlink_metadata(&full)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false);
                return Err(if is_link {
                    SinkError::Symlink { path: full }
                } else {
                    SinkError::Exists { path: full }
                });
            }
            Err(e) => return Err(io_err("create", &full, e)),
        };
        let meta = file.metadata().map_err(|e| io_err("inspect", &full, e))?;
        self.open_files += 1;
        self.members.insert(
            path.clone(),
            Member {
                file: Some(file),
                identity: (meta.dev(), meta.ino()),
                last_use: self.clock,
            },
        );
        Ok(())
    }

    /// The open file for `path`, creating or reopening it as needed.
    fn file_for(&mut self, path: &SafePath) -> Result<&File, SinkError> {
        if self.finished.contains(path) {
            return Err(SinkError::WrittenTwice { path: path.clone() });
        }
        self.clock += 1;
        if !self.members.contains_key(path) {
            self.create(path)?;
        } else if self.members.get(path).is_some_and(|m| m.file.is_none()) {
            self.make_room();
            let full = path.to_path_under(&self.root);
            let file = OpenOptions::new()
                .write(true)
                .open(&full)
                .map_err(|e| io_err("reopen", &full, e))?;
            let meta = file.metadata().map_err(|e| io_err("inspect", &full, e))?;
            let member = self.members.get_mut(path).expect("checked above");
            if (meta.dev(), meta.ino()) != member.identity {
                return Err(SinkError::Replaced { path: full });
            }
            member.file = Some(file);
            self.open_files += 1;
        }
        let clock = self.clock;
        let member = self.members.get_mut(path).expect("created above");
        member.last_use = clock;
        Ok(member.file.as_ref().expect("opened above"))
    }
}

impl Sink for DirSink {
    fn write_at(&mut self, path: &SafePath, offset: u64, data: &[u8]) -> Result<(), SinkError> {
        let file = self.file_for(path)?;
        if let Err(e) = file.write_all_at(data, offset) {
            return Err(io_err("write", &path.to_path_under(&self.root), e));
        }
        super::start_writeback(file, offset, data.len() as u64);
        self.stats.bytes += data.len() as u64;
        Ok(())
    }

    fn finish_file(&mut self, path: &SafePath, len: u64) -> Result<(), SinkError> {
        let file = self.file_for(path)?;
        if let Err(e) = file.set_len(len) {
            return Err(io_err(
                "set the length of",
                &path.to_path_under(&self.root),
                e,
            ));
        }
        if let Some(member) = self.members.remove(path) {
            if member.file.is_some() {
                self.open_files -= 1;
            }
        }
        self.finished.insert(path.clone());
        self.stats.files += 1;
        Ok(())
    }

    fn create_dir(&mut self, path: &SafePath) -> Result<(), SinkError> {
        self.ensure_dir(path.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn p(s: &str) -> SafePath {
        SafePath::new(s).unwrap()
    }

    #[test]
    fn writes_interleaved_files_with_holes() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap().with_max_open_files(1);
        sink.write_at(&p("db/a.ibd"), 0, b"aaaa").unwrap();
        sink.write_at(&p("db/b.ibd"), 0, b"bb").unwrap();
        sink.write_at(&p("db/a.ibd"), 4, b"AA").unwrap();
        sink.write_at(&p("db/b.ibd"), 6, b"BB").unwrap();
        sink.finish_file(&p("db/a.ibd"), 6).unwrap();
        sink.finish_file(&p("db/b.ibd"), 12).unwrap();
        sink.finish_file(&p("empty"), 0).unwrap();
        let stats = sink.finish().unwrap();
        assert_eq!(
            stats,
            SinkStats {
                files: 3,
                bytes: 10
            }
        );
        assert_eq!(fs::read(dir.path().join("db/a.ibd")).unwrap(), b"aaaaAA");
        assert_eq!(
            fs::read(dir.path().join("db/b.ibd")).unwrap(),
            b"bb\0\0\0\0BB\0\0\0\0"
        );
        assert_eq!(fs::read(dir.path().join("empty")).unwrap(), b"");
    }

    #[test]
    fn a_path_written_after_it_was_finished_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        sink.write_at(&p("x"), 0, b"1").unwrap();
        sink.finish_file(&p("x"), 1).unwrap();
        let err = sink.write_at(&p("x"), 0, b"2").unwrap_err();
        assert_eq!(err.to_string(), "member x appears twice in the stream");
        assert!(sink.finish_file(&p("x"), 1).is_err());
    }

    #[test]
    fn existing_files_are_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ibdata1"), b"keep").unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        let err = sink.write_at(&p("ibdata1"), 0, b"new").unwrap_err();
        assert!(matches!(err, SinkError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("was not written by this restore"));
        assert_eq!(fs::read(dir.path().join("ibdata1")).unwrap(), b"keep");
    }

    #[test]
    fn symlinks_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), dir.path().join("db")).unwrap();
        symlink(outside.path().join("f"), dir.path().join("f")).unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        let err = sink.write_at(&p("db/t.ibd"), 0, b"x").unwrap_err();
        assert!(matches!(err, SinkError::Symlink { .. }), "{err}");
        assert!(err
            .to_string()
            .starts_with("refusing to follow the symbolic link"));
        let err = sink.write_at(&p("f"), 0, b"x").unwrap_err();
        assert!(matches!(err, SinkError::Symlink { .. }), "{err}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_file_in_the_way_of_a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        sink.write_at(&p("db"), 0, b"x").unwrap();
        sink.finish_file(&p("db"), 1).unwrap();
        let err = sink.write_at(&p("db/t"), 0, b"x").unwrap_err();
        assert!(matches!(err, SinkError::NotADirectory { .. }), "{err}");
    }

    #[test]
    fn unfinished_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        sink.write_at(&p("b"), 0, b"x").unwrap();
        sink.write_at(&p("a"), 0, b"x").unwrap();
        let err = sink.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the stream ended with 2 file(s) incomplete: a, b"
        );
    }

    #[test]
    fn reopened_files_are_checked_to_be_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap().with_max_open_files(1);
        sink.write_at(&p("a"), 0, b"1").unwrap();
        sink.write_at(&p("b"), 0, b"1").unwrap();
        // Written while the original still exists, so it cannot reuse its inode.
        fs::write(dir.path().join("other"), b"other").unwrap();
        fs::rename(dir.path().join("other"), dir.path().join("a")).unwrap();
        let err = sink.write_at(&p("a"), 1, b"2").unwrap_err();
        assert!(matches!(err, SinkError::Replaced { .. }), "{err}");
    }

    #[test]
    fn directory_entries_create_directories() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = DirSink::new(dir.path()).unwrap();
        sink.create_dir(&p("a/b/c")).unwrap();
        assert!(dir.path().join("a/b/c").is_dir());
    }
}
