//! Making a restore durable without an fsync per file.
//!
//! ferry writes the downloaded files without syncing them one by one and flushes the whole
//! filesystem (`syncfs`) at the end. Linux reports a write-back error to `syncfs` only
//! through a descriptor opened before the error happened (the superblock's error sequence is
//! sampled at open), so the descriptor is opened on the target's parent (staging shares its
//! filesystem) before the first byte is written ([`Flush::begin`]), and every flush goes
//! through it. The first flush runs on a thread of its own while the prepare works
//! ([`Flush::start_early`]); the last one, after the move into place, then waits only for
//! what the prepare wrote ([`Flush::finish`]).

use std::fs::File;
use std::path::Path;
use std::thread::JoinHandle;

use crate::error::RestoreError;

pub(crate) struct Flush {
    /// The target's parent directory, opened before any download (staging shares its
    /// filesystem); also the directory whose entry the move changes.
    fs: File,
    early: Option<JoinHandle<std::io::Result<()>>>,
}

impl Flush {
    /// `dir`: the target's parent.
    pub fn begin(dir: &Path) -> Result<Flush, RestoreError> {
        let fs = File::open(dir).map_err(|e| RestoreError::Target {
            path: dir.to_path_buf(),
            reason: format!("cannot open it to flush the restore later: {e}"),
        })?;
        Ok(Flush { fs, early: None })
    }

    /// Starts flushing what was written so far, in the background.
    pub fn start_early(&mut self) {
        if self.early.is_some() {
            return;
        }
        // A duplicate shares the open file, so the error it sees is not reported twice.
        if let Ok(fs) = self.fs.try_clone() {
            self.early = Some(std::thread::spawn(move || syncfs(&fs)));
        }
    }

    /// Everything under `target` (moved there from staging) and its directory entry on disk.
    pub fn finish(mut self, target: &Path) -> Result<(), RestoreError> {
        let err = |e: std::io::Error| RestoreError::Target {
            path: target.to_path_buf(),
            reason: format!("cannot flush the restored files to disk: {e}"),
        };
        if let Some(early) = self.early.take() {
            early
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the flush thread panicked")))
                .map_err(err)?;
        }
        syncfs(&self.fs).map_err(err)?;
        // The move's directory entry.
        self.fs.sync_all().map_err(err)
    }
}

fn syncfs(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs takes a valid open descriptor, which `file` owns for the whole call.
    if unsafe { libc::syncfs(file.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
