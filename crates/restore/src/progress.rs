//! Progress of a long restore, shared between the pipeline (which counts) and whoever shows
//! it (the CLI's progress bar or log lines, later the control plane's `PercentProgress`).
//!
//! Counting is lock-free; the phase text changes rarely and sits behind a mutex.
//!
//! Bytes and files are both counted. A "file" is one object of the backup: a file of a
//! directory set, or a part of a stream set (an archive's members are not counted: their
//! number is unknown until the archive has been read). A directory backup of many small
//! tables moves few bytes per second but many files, which is what its user wants to see.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// What the restore is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Listing,
    Download,
    Prepare,
    Finalize,
    Done,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Listing => "listing",
            Phase::Download => "download",
            Phase::Prepare => "prepare",
            Phase::Finalize => "finalize",
            Phase::Done => "done",
        }
    }
}

#[derive(Debug)]
pub struct Progress {
    started: Instant,
    phase: Mutex<(Phase, String)>,
    bytes_total: AtomicU64,
    bytes_done: AtomicU64,
    bytes_reused: AtomicU64,
    retries: AtomicU64,
    sets_total: AtomicU64,
    sets_done: AtomicU64,
    files_total: AtomicU64,
    files_done: AtomicU64,
    files_reused: AtomicU64,
}

/// A point-in-time copy of [`Progress`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapshot {
    pub phase: Phase,
    pub detail: String,
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub bytes_reused: u64,
    pub retries: u64,
    pub sets_total: u64,
    pub sets_done: u64,
    /// Objects to fetch (files of directory sets, parts of stream sets), 0 until known.
    pub files_total: u64,
    /// Objects complete, the reused ones included.
    pub files_done: u64,
    /// Objects a resumed run did not need to fetch again.
    pub files_reused: u64,
    pub elapsed_secs: f64,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            started: Instant::now(),
            phase: Mutex::new((Phase::Listing, String::new())),
            bytes_total: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            bytes_reused: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            sets_total: AtomicU64::new(0),
            sets_done: AtomicU64::new(0),
            files_total: AtomicU64::new(0),
            files_done: AtomicU64::new(0),
            files_reused: AtomicU64::new(0),
        }
    }

    pub fn set_phase(&self, phase: Phase, detail: impl Into<String>) {
        let detail = detail.into();
        tracing::info!(phase = phase.label(), "{detail}");
        if let Ok(mut g) = self.phase.lock() {
            *g = (phase, detail);
        }
    }
    pub fn set_totals(&self, bytes: u64, sets: u64) {
        self.bytes_total.store(bytes, Ordering::Relaxed);
        self.sets_total.store(sets, Ordering::Relaxed);
    }
    /// How many objects the download phase fetches (or reuses).
    pub fn set_files_total(&self, files: u64) {
        self.files_total.store(files, Ordering::Relaxed);
    }
    /// One object (a directory-set file, a stream part) is complete.
    pub fn add_file(&self) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
    }
    /// Objects that a resumed run did not need to download again.
    pub fn add_files_reused(&self, n: u64) {
        self.files_reused.fetch_add(n, Ordering::Relaxed);
        self.files_done.fetch_add(n, Ordering::Relaxed);
    }
    pub fn add_bytes(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
    }
    /// Bytes that a resumed run did not need to download again.
    pub fn add_reused(&self, n: u64) {
        self.bytes_reused.fetch_add(n, Ordering::Relaxed);
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
    }
    pub fn add_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub fn set_sets_done(&self, n: u64) {
        self.sets_done.store(n, Ordering::Relaxed);
    }
    pub fn set_done(&self) {
        self.sets_done.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let (phase, detail) = self
            .phase
            .lock()
            .map(|g| g.clone())
            .unwrap_or((Phase::Listing, String::new()));
        Snapshot {
            phase,
            detail,
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_reused: self.bytes_reused.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            sets_total: self.sets_total.load(Ordering::Relaxed),
            sets_done: self.sets_done.load(Ordering::Relaxed),
            files_total: self.files_total.load(Ordering::Relaxed),
            files_done: self.files_done.load(Ordering::Relaxed),
            files_reused: self.files_reused.load(Ordering::Relaxed),
            elapsed_secs: self.started.elapsed().as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_count_beside_bytes_and_reused_ones_are_done() {
        let p = Progress::new();
        p.set_files_total(10);
        p.add_files_reused(3);
        p.add_file();
        p.add_file();
        let s = p.snapshot();
        assert_eq!((s.files_total, s.files_done, s.files_reused), (10, 5, 3));
    }
}
