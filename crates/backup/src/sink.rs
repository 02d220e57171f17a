//! Where unpacked files go.
//!
//! The readers ([`crate::xbstream`], [`crate::tarball`]) never touch the file system; they
//! call a [`Sink`]. xbstream interleaves chunks of many files and every chunk says its own file
//! offset, so the trait is positional (`write_at`) with an explicit end (`finish_file`) rather
//! than one `Write` per file. [`DirSink`] writes a directory tree safely; [`MetaSink`] keeps the
//! small metadata files in memory (so a planner need not re-read the disk) and can wrap another
//! sink or discard everything else (`ferry backup inspect` scans streams that way).

mod dir;
mod meta;

use std::io;
use std::path::PathBuf;

use serde::Serialize;

use crate::path::SafePath;

pub use dir::DirSink;
pub use meta::MetaSink;

/// The destination of an unpacked stream.
pub trait Sink {
    /// Writes `data` at byte `offset` of the member `path`. The first write to a path creates
    /// the file; writes to one path come in increasing offset order, possibly with gaps (holes
    /// of sparse chunks) and interleaved with writes to other paths.
    fn write_at(&mut self, path: &SafePath, offset: u64, data: &[u8]) -> Result<(), SinkError>;

    /// The member `path` is complete and `len` bytes long: set its length (materialising a
    /// trailing hole, creating an empty file that had no data) and close it. A path is finished
    /// at most once per stream.
    fn finish_file(&mut self, path: &SafePath, len: u64) -> Result<(), SinkError>;

    /// A directory entry (tar). Directories are otherwise implied by file paths.
    fn create_dir(&mut self, path: &SafePath) -> Result<(), SinkError> {
        let _ = path;
        Ok(())
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn write_at(&mut self, path: &SafePath, offset: u64, data: &[u8]) -> Result<(), SinkError> {
        (**self).write_at(path, offset, data)
    }

    fn finish_file(&mut self, path: &SafePath, len: u64) -> Result<(), SinkError> {
        (**self).finish_file(path, len)
    }

    fn create_dir(&mut self, path: &SafePath) -> Result<(), SinkError> {
        (**self).create_dir(path)
    }
}

/// A sink that drops everything (still checking nothing; see [`MetaSink::discard`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl Sink for NullSink {
    fn write_at(&mut self, _: &SafePath, _: u64, _: &[u8]) -> Result<(), SinkError> {
        Ok(())
    }

    fn finish_file(&mut self, _: &SafePath, _: u64) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Counters for progress reporting.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SinkStats {
    /// Files finished.
    pub files: u64,
    /// Data bytes written (holes not counted).
    pub bytes: u64,
}

/// A sink could not store a member.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot {op} {}: {error}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    #[error("member {path} appears twice in the stream")]
    WrittenTwice { path: SafePath },
    #[error("{} already exists and was not written by this restore", .path.display())]
    Exists { path: PathBuf },
    #[error("refusing to follow the symbolic link {}", .path.display())]
    Symlink { path: PathBuf },
    #[error("{} is in the way: it is not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    #[error("{} was replaced by something else while it was being written", .path.display())]
    Replaced { path: PathBuf },
    #[error("the stream ended with {} file(s) incomplete: {}", .paths.len(), list_paths(.paths))]
    Unfinished { paths: Vec<SafePath> },
    /// For sinks outside this crate.
    #[error("{0}")]
    Other(String),
}

fn list_paths(paths: &[SafePath]) -> String {
    const SHOWN: usize = 5;
    let mut s: Vec<&str> = paths.iter().take(SHOWN).map(SafePath::as_str).collect();
    let more;
    if paths.len() > SHOWN {
        more = format!("and {} more", paths.len() - SHOWN);
        s.push(&more);
    }
    s.join(", ")
}

/// Asks the kernel to start writing `len` bytes at `offset` of `file` to disk now, without
/// waiting for it (`sync_file_range(SYNC_FILE_RANGE_WRITE)`).
///
/// A restore writes gigabytes faster than the page cache flushes them; left alone, the
/// backlog lands on whoever fsyncs first (the prepare step), serialised after the download.
/// Starting writeback as data arrives overlaps it with the download instead. Best effort:
/// filesystems without support are simply left to the kernel.
pub fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor is owned by `file` and valid for the call; sync_file_range only
    // reads its integer arguments.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}
